// Helpers for the authentication tests (not part of the library's surface).

import { createHash } from 'node:crypto';
import type { ControllerAuth } from './controller-auth.js';
import type { HostAuth, HostOutcome, HostStep } from './host-auth.js';

/** A deterministic byte stream (SHA-256 in counter mode over `seed`). */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

export function counterSeqnum(start: number): () => number {
  let n = start;
  return () => n++;
}

/** Runs a whole transaction between the two state machines; returns the host outcome. */
export function exchange(
  host: HostAuth,
  ctrl: ControllerAuth,
  transcript?: Uint8Array[],
): HostOutcome {
  let step: HostStep = host.start();
  for (let i = 0; i < 8; i++) {
    if (step.send !== undefined) {
      transcript?.push(step.send);
      ctrl.onSend(step.send);
    }
    if (step.done !== undefined) return step.done;
    const r = ctrl.onReceive(step.receive!);
    if (!r.ok) throw new Error(`AL ${step.receive!} too small for ${r.need}`);
    transcript?.push(r.message);
    step = host.onReceive(r.message);
  }
  throw new Error('transaction did not end');
}
