// `nvmemu ndctl read-labels | write-labels | zero-labels | init-labels | check-labels`
// (reference qemu-pmem-ndctl.md §7.7). DIMMs are named nmemN after their region.

import { readFileSync, writeFileSync } from 'node:fs';
import { mediaSize } from '../../pmem/ndctl/media.js';
import {
  initLabelArea,
  readLabelArea,
  writeLabelImage,
  zeroLabelArea,
} from '../../pmem/ndctl/label-area.js';
import { NdctlError } from '../../pmem/ndctl/ops.js';
import type { RegionView } from '../../pmem/ndctl/region.js';
import type { CliIo } from '../io.js';
import { flag, plural, printError, str, withRegions, type Ctx } from './context.js';
import { formatJson, labelsJson, type Json } from './json.js';

type LabelAction = 'read' | 'write' | 'zero' | 'init' | 'check';

const SUMMARY: Record<LabelAction, string> = {
  read: 'read',
  write: 'wrote',
  zero: 'zeroed',
  init: 'initialized',
  check: 'checked',
};

function dimms(ctx: Ctx): RegionView[] | number {
  const names = ctx.positionals;
  if (names.length === 0) {
    ctx.io.err('  Error: <nmem> must be specified\n');
    return 129;
  }
  return ctx
    .views()
    .filter(
      (v) =>
        v.spec.labels !== undefined &&
        names.some((n) => n === 'all' || n === `nmem${v.spec.index}`),
    );
}

function labelAction(action: LabelAction) {
  return (ctx: Ctx): number => {
    const list = dimms(ctx);
    if (typeof list === 'number') return list;
    const json: Json[] = [];
    let done = 0;
    for (const view of list) {
      const dev = `nmem${view.spec.index}`;
      const media = view.spec.labels!;
      try {
        const writes = action === 'write' || action === 'zero' || action === 'init';
        if (writes && !ctx.regionDisabled(view.spec.index)) {
          throw new NdctlError(`${dev}: regions active, abort label write`);
        }
        switch (action) {
          case 'read': {
            const out = str(ctx.values, 'output');
            if (flag(ctx.values, 'json')) {
              const area = readLabelArea(media);
              if (area === undefined) throw new NdctlError(`${dev}: no valid label index`);
              json.push(labelsJson(dev, area, flag(ctx.values, 'index')));
            } else if (out !== undefined) {
              writeFileSync(out, media.read(0, mediaSize(media)));
            } else {
              throw new NdctlError('read-labels: binary output needs -o FILE (or use -j)');
            }
            break;
          }
          case 'write': {
            const input = str(ctx.values, 'input');
            if (input === undefined) throw new NdctlError('write-labels: -i FILE is required');
            writeLabelImage(media, new Uint8Array(readFileSync(input)));
            break;
          }
          case 'zero':
            zeroLabelArea(media);
            break;
          case 'init': {
            if (readLabelArea(media) !== undefined && !flag(ctx.values, 'force')) {
              throw new NdctlError(`${dev}: error: labels already initialized`);
            }
            const v = str(ctx.values, 'label-version') ?? '1.1';
            if (v !== '1.1' && v !== '1.2')
              throw new NdctlError(`${dev}: unsupported label version '${v}'`);
            initLabelArea(media, v);
            break;
          }
          case 'check': {
            const area = readLabelArea(media);
            if (area === undefined) throw new NdctlError(`${dev}: no valid label index`);
            if (area.badSlots.length > 0) {
              throw new NdctlError(`${dev}: invalid labels in slots ${area.badSlots.join(', ')}`);
            }
            break;
          }
        }
        done++;
      } catch (e) {
        printError(ctx.io, e);
      }
    }
    if (json.length > 0) {
      ctx.io.out(
        `${formatJson(flag(ctx.values, 'human') && json.length === 1 ? json[0]! : json)}\n`,
      );
    }
    ctx.io.err(`${SUMMARY[action]} ${plural(done, 'nmem')}\n`);
    return done === list.length && done > 0 ? 0 : 1;
  };
}

const OPTIONS: Record<
  LabelAction,
  Record<string, { type: 'string' | 'boolean'; short?: string }>
> = {
  read: {
    json: { type: 'boolean', short: 'j' },
    human: { type: 'boolean', short: 'u' },
    output: { type: 'string', short: 'o' },
    index: { type: 'boolean', short: 'I' },
  },
  write: { input: { type: 'string', short: 'i' } },
  zero: {},
  init: { force: { type: 'boolean', short: 'f' }, 'label-version': { type: 'string', short: 'V' } },
  check: {},
};

export function labelCommand(action: LabelAction) {
  const usage = `usage: nvmemu ndctl ${action}-labels <nmem0> [<nmem1>..<nmemN>] [<options>] --backing FILE --label-size SIZE\n`;
  return (argv: string[], io: CliIo): Promise<number> =>
    withRegions(argv, io, OPTIONS[action], usage, labelAction(action));
}
