// Prints the QEMU arguments (one per line) of the fidelity configurations, all on one machine,
// after creating their 64 MiB images in DIR, so shell scripts (tests/guest/nvme-cli-2.13-*.sh)
// use the same command lines as the qtest recordings. The same arguments suit `nvmemu run`.
//
//   node build/tests/fidelity/qemu-args.js DIR [--version 7.2|10.0] [CONFIG...]

import { existsSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONFIGS, configNamed, devicesFor, driveArgs, IMAGE_MB } from './configs.js';

function main(): void {
  const { values, positionals } = parseArgs({
    options: { version: { type: 'string', default: '10.0' } },
    allowPositionals: true,
  });
  const [dir, ...names] = positionals;
  if (dir === undefined)
    throw new Error('usage: qemu-args.js DIR [--version 7.2|10.0] [CONFIG...]');
  const v = values.version;
  if (v !== '7.2' && v !== '10.0') throw new Error('--version must be 7.2 or 10.0');
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const c of names.length > 0 ? names.map(configNamed) : CONFIGS) {
    const image = (i: number): string => join(dir, `${c.name}${i}.img`);
    for (let i = 0; i < c.images; i++) {
      if (!existsSync(image(i))) writeFileSync(image(i), '');
      truncateSync(image(i), IMAGE_MB << 20);
    }
    out.push(...driveArgs(c, image), ...devicesFor(c, v).flatMap((d) => ['-device', d]));
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

try {
  main();
} catch (e) {
  console.error(`qemu-args: ${(e as Error).message}`);
  process.exitCode = 1;
}
