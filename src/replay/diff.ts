// `nvmemu replay --diff A B`: two recordings of the same workload compared command by command
// (in begin order) and event by event, with the same rules as a replay (compare.ts). The
// commands must be the same (opcode, queue, NSID, CDW10-15: what the host asked); CIDs and data
// pointers are the front end's and may differ.

import { parseSqe } from '../nvme/spec/command.js';
import { DataKind, NO_SECTION, type CommandRecord, type Recording } from './format.js';
import { commandName, compareCompletion, type CompareOptions, type Divergence } from './compare.js';

export interface DiffReport {
  readonly compared: number;
  readonly divergent: number;
  readonly divergences: readonly Divergence[];
}

const inBeginOrder = (r: Recording): CommandRecord[] =>
  [...r.commands].sort((a, b) => (a.beginTick < b.beginTick ? -1 : 1));

function asked(c: CommandRecord): string {
  const x = parseSqe(c.sqe);
  return [c.ctrl, c.sqid, x.opcode, x.nsid, x.cdw10, x.cdw11, x.cdw12, x.cdw13, x.cdw14, x.cdw15]
    .map((n) => n.toString(16))
    .join(':');
}

/** Divergences of `b` from `a` (a is the expected side). */
export function diffRecordings(
  a: Recording,
  b: Recording,
  opts: CompareOptions & { readonly keep?: number },
): DiffReport {
  const keep = opts.keep ?? 1000;
  const out: Divergence[] = [];
  let divergent = 0;
  const add = (d: Divergence): void => {
    divergent++;
    if (out.length < keep) out.push(d);
  };
  const ea = a.events.map((e) => e.kind);
  const eb = b.events.map((e) => e.kind);
  const ev = (i: number): Divergence => ({
    index: 0,
    ctrl: 0,
    sqid: 0,
    opcode: 0,
    name: 'event',
    what: 'event',
    expected: ea[i] ?? 'no event',
    got: eb[i] ?? 'no event',
  });
  for (let i = 0; i < Math.max(ea.length, eb.length); i++) if (ea[i] !== eb[i]) add(ev(i));
  const ca = inBeginOrder(a);
  const cb = inBeginOrder(b);
  const n = Math.max(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i];
    const y = cb[i];
    const ref = x ?? y!;
    const cmd = parseSqe(ref.sqe);
    const head = {
      index: i + 1,
      ctrl: ref.ctrl,
      sqid: ref.sqid,
      opcode: cmd.opcode,
      name: commandName(ref.sqid, cmd.opcode),
    };
    if (x === undefined || y === undefined || asked(x) !== asked(y)) {
      add({
        ...head,
        what: 'command',
        expected: x === undefined ? 'no command' : asked(x),
        got: y === undefined ? 'no command' : asked(y),
      });
      continue;
    }
    const side = (c: CommandRecord) => ({
      completed: c.completed,
      status: c.status,
      dw0: c.dw0,
      dw1: c.dw1,
      elapsedNs: c.elapsedNs,
      returned: (cmd.opcode & 3) === 2 ? c.data : NO_SECTION,
    });
    for (const d of compareCompletion(head, cmd.cdw10, side(x), side(y), opts)) add(d);
    // What the host sent is part of "the same workload".
    if ((cmd.opcode & 3) === 1 && x.data.kind !== DataKind.NONE) {
      const sx = side({ ...x, status: 0 });
      const sy = side({ ...y, status: 0 });
      for (const d of compareCompletion(
        head,
        cmd.cdw10,
        { ...sx, returned: x.data, elapsedNs: 0n },
        { ...sy, returned: y.data, elapsedNs: 0n },
        opts,
      )) {
        if (d.what === 'data') add({ ...d, expected: 'the data the host sent' });
      }
    }
  }
  return { compared: n, divergent, divergences: out };
}
