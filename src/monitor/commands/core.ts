// Session-independent basics: version, command list, status, quit and power-down
// (QEMU qapi/control.json, qapi/run-state.json, qapi/misc.json).

import { QEMU_VERSION, type QmpCommand } from '../monitor.js';

export const coreCommands: readonly QmpCommand[] = [
  {
    name: 'query-version',
    args: [],
    run: ({ monitor }) => ({
      qemu: { ...QEMU_VERSION },
      package: `nvmemu ${monitor.hooks.version}`,
    }),
  },
  {
    name: 'query-commands',
    args: [],
    // qmp_capabilities is answered by the session but is a command all the same.
    run: ({ monitor }) => ['qmp_capabilities', ...monitor.commandNames()].map((name) => ({ name })),
  },
  {
    name: 'query-status',
    args: [],
    run: ({ machine }) => {
      const running = machine.state === 'running';
      return {
        status: running ? 'running' : machine.state === 'stopped' ? 'shutdown' : 'prelaunch',
        singlestep: false,
        running,
      };
    },
  },
  {
    name: 'quit',
    args: [],
    run: ({ monitor }) => {
      monitor.requestQuit({ guest: false, reason: 'host-qmp-quit' });
      return {};
    },
  },
  {
    // QEMU only raises the ACPI power button (POWERDOWN); the guest's ACPI handler then shuts
    // down. nvmemu has no guest: it behaves like a guest that honours the request, so the
    // machine shuts down cleanly and SHUTDOWN says the guest asked for it.
    name: 'system_powerdown',
    args: [],
    run: ({ monitor }) => {
      monitor.emit('POWERDOWN');
      monitor.requestQuit({ guest: true, reason: 'guest-shutdown' });
      return {};
    },
  },
];
