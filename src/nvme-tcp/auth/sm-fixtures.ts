// Fixtures shared by the state machine tests: fixed keys, and host/controller factories with
// deterministic randomness.

import { ControllerAuth, type ControllerAuthConfig } from './controller-auth.js';
import { HostAuth, type HostAuthConfig } from './host-auth.js';
import { genDhchapKey } from './secret.js';
import { counterSeqnum, seededRandom } from './test-support.js';

export const HOST = 'nqn.2014-08.org.nvmexpress:uuid:0c33f2ea-96c7-4c3d-9a8c-6a7d6b1d2f10';
export const SUBSYS = 'nqn.2024-01.io.nvmemu:subsys0';
const rnd = seededRandom('keys');
export const hostKey = genDhchapKey({ hmac: 1, nqn: HOST, secret: rnd(32) });
export const ctrlKey = genDhchapKey({ hmac: 2, nqn: SUBSYS, secret: rnd(48) });
export const otherKey = genDhchapKey({ hmac: 1, nqn: HOST, secret: rnd(32) });

export function ctrl(over: Partial<ControllerAuthConfig> = {}): ControllerAuth {
  return new ControllerAuth({
    hostNqn: HOST,
    subsysNqn: SUBSYS,
    hostSecret: hostKey,
    ctrlSecret: ctrlKey,
    random: seededRandom('ctrl'),
    nextSeqnum: counterSeqnum(1000),
    ...over,
  });
}

export function host(over: Partial<HostAuthConfig> = {}): HostAuth {
  return new HostAuth({
    hostNqn: HOST,
    subsysNqn: SUBSYS,
    hostSecret: hostKey,
    tid: 3,
    random: seededRandom('host'),
    nextSeqnum: counterSeqnum(2000),
    ...over,
  });
}
