#!/usr/bin/env node
// The `nvmemu` executable. All behaviour lives in app.ts so that importing it does no work.
//
// `nvmemu run ...` goes straight to its leaf with the words the tree would hand it (tree.ts: a
// leaf parses its own arguments; commander drops only a `--` right after the name). Building
// the tree loads commander and the command families' tables, modules a starting machine never
// uses (docs/architecture.md "Module loading").
import { processIo } from './io.js';
import { RUN_LEAF } from './run-leaf.js';

const argv = process.argv.slice(2);
process.exitCode =
  argv[0] === RUN_LEAF.name
    ? await RUN_LEAF.run(argv.slice(argv[1] === '--' ? 2 : 1), processIo)
    : await (await import('./app.js')).main(argv);
