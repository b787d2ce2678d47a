// The `run` leaf of the command tree, in a module of its own so that the executable can start
// a machine without building the tree (main.ts): `nvmemu run` is the command whose start-up
// time users wait for, and the tree loads commander and every command family's table.

import type { Leaf } from './tree.js';

export const RUN_LEAF: Leaf = {
  kind: 'leaf',
  name: 'run',
  summary: 'start a machine from QEMU options',
  run: async (argv, io) => (await import('./run.js')).runCommand(argv, io),
};
