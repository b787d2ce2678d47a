// I/O queue dispatch, controller part (reference §4.1 steps 1-2): Flush is handled here for
// any NSID; then NSID validity and attachment; the namespace does the rest.

import { IoOpc } from '../spec/opcodes.js';
import { Status, withDnr } from '../spec/status.js';
import type { CommandContext, Completion } from '../spec/transfer.js';
import type { Controller } from './controller.js';

export const MAX_NSID = 256;
export const NSID_BROADCAST = 0xffff_ffff;

/** nvme_nsid_valid: 1..256 or the broadcast value. */
export function nsidValid(nsid: number): boolean {
  return nsid !== 0 && (nsid === NSID_BROADCAST || nsid <= MAX_NSID);
}

export async function dispatchIo(c: Controller, ctx: CommandContext): Promise<Completion> {
  const hook = c.interceptor;
  const done =
    hook === undefined ? await route(c, ctx) : await hook.intercept(c, ctx, () => route(c, ctx));
  c.stats.ioCommands++;
  if (done.status !== 0) c.stats.ioErrors++;
  return done;
}

/**
 * dispatchIo() without a promise when the namespace can run the command at once
 * (NamespaceApi.executeNow); undefined — nothing done — when it must go through dispatchIo().
 * Fault injection (an interceptor) and Flush always take the asynchronous path.
 */
export function dispatchIoNow(c: Controller, ctx: CommandContext): Completion | undefined {
  const { cmd } = ctx;
  if (c.interceptor !== undefined || cmd.opcode === IoOpc.FLUSH || !nsidValid(cmd.nsid)) {
    return undefined;
  }
  const ns = c.namespaces.get(cmd.nsid);
  if (ns?.executeNow === undefined) return undefined;
  let done: Completion | undefined;
  try {
    done = ns.executeNow(ctx);
  } catch {
    c.internalErrors++;
    done = { status: Status.INTERNAL_DEVICE_ERROR };
  }
  if (done === undefined) return undefined;
  c.stats.ioCommands++;
  if (done.status !== 0) c.stats.ioErrors++;
  return done;
}

async function route(c: Controller, ctx: CommandContext): Promise<Completion> {
  const { cmd } = ctx;
  if (cmd.opcode === IoOpc.FLUSH) return flush(c, cmd.nsid);
  if (!nsidValid(cmd.nsid)) return { status: withDnr(Status.INVALID_NSID) };
  const ns = c.namespaces.get(cmd.nsid);
  if (ns === undefined) return { status: withDnr(Status.INVALID_FIELD) };
  try {
    return await ns.execute(ctx);
  } catch {
    // A namespace bug must not take the controller down (house rule 2).
    c.internalErrors++;
    return { status: Status.INTERNAL_DEVICE_ERROR };
  }
}

async function flush(c: Controller, nsid: number): Promise<Completion> {
  let targets;
  if (nsid === NSID_BROADCAST) {
    targets = [...c.namespaces.values()];
  } else {
    if (!nsidValid(nsid)) return { status: withDnr(Status.INVALID_NSID) };
    const ns = c.namespaces.get(nsid);
    if (ns === undefined) return { status: withDnr(Status.INVALID_FIELD) };
    targets = [ns];
  }
  const results = await Promise.allSettled(targets.map((ns) => ns.flush()));
  if (results.some((r) => r.status === 'rejected')) return { status: Status.WRITE_FAULT };
  try {
    c.onDurable?.();
  } catch {
    // The device could not make its own state durable with the data.
    return { status: Status.WRITE_FAULT };
  }
  return { status: 0 };
}
