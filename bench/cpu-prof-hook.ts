// Preloaded (`node --import`) into a bench child by bench/nvme-tcp-profile.ts: the parent sends
// 'prof-start' and 'prof-stop' over IPC and gets the V8 CPU profile of just that window back, so
// start-up, the image allocation and the warm-up stay out of the figures (the same sampler as
// `node --cpu-prof`, through the inspector, at the interval the parent asks for).

import { Session } from 'node:inspector/promises';
import { Socket } from 'node:net';

// Socket writes handed to libuv (one write or writev syscall each when the kernel takes it all)
// and chunks read, counted over the profiled window: the syscalls per command the profile's
// self times only hint at (libuv's reads run outside JS and show as idle).
let writes = 0;
let reads = 0;
let counting = false;
type Proto = Record<string, (...a: unknown[]) => unknown>;
const proto = Socket.prototype as unknown as Proto;
for (const name of ['_writeGeneric', '_writev']) {
  const orig = proto[name]!;
  proto[name] = function (this: unknown, ...a: unknown[]): unknown {
    if (counting) writes++;
    return orig.apply(this, a);
  };
}
const push = proto.push!;
proto.push = function (this: unknown, ...a: unknown[]): unknown {
  if (counting && a[0] !== null) reads++;
  return push.apply(this, a);
};

const session = new Session();
session.connect();

interface ProfStart {
  readonly prof: 'start';
  readonly intervalUs: number;
}

process.on('message', (m: unknown) => {
  if (typeof m !== 'object' || m === null || !('prof' in m)) return;
  const msg = m as ProfStart | { readonly prof: 'stop' };
  void (async () => {
    if (msg.prof === 'start') {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: msg.intervalUs });
      await session.post('Profiler.start');
      writes = 0;
      reads = 0;
      counting = true;
      process.send?.({ prof: 'started' });
    } else {
      counting = false;
      const { profile } = await session.post('Profiler.stop');
      process.send?.({ prof: 'profile', profile, writes, reads });
    }
  })();
});
