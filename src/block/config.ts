// `-drive file=IMG,if=none,id=ID,format=raw[,readonly=on]`: the only way nvmemu attaches
// images, as in QEMU's NVMe documentation. Messages are QEMU 7.2's (block layer and
// blockdev.c), measured on the binary; all carry the `-drive ...:` prefix.

import { isAbsolute, resolve } from 'node:path';
import { parseBool } from '../config/numbers.js';
import { ConfigError } from '../config/errors.js';
import type { RawValue } from '../config/schema.js';
import type { HostProbe } from '../config/component.js';
import { DEFAULT_DRIVE_AIO, type DriveAio } from './drive.js';

/** The typed configuration a drive plan carries (`Planned.config` for kind 'drive'). */
export interface DrivePlan {
  readonly id: string;
  /** Absolute path of the image. */
  readonly file: string;
  readonly readOnly: boolean;
  /** Image size in bytes, read at check time. */
  readonly size: bigint;
  /** `cache=`: `writethrough`/`directsync` make every write durable before it completes. */
  readonly writeThrough: boolean;
  /**
   * `aio=`: `threads` (QEMU's default: every request through libuv's thread pool) or nvmemu's
   * `sync` (default: pread/pwrite on the event loop, a few µs for page-cache hits).
   */
  readonly aio: DriveAio;
}

const FORMATS_KNOWN = new Set([
  'raw',
  'qcow2',
  'qcow',
  'vmdk',
  'vdi',
  'vhdx',
  'vpc',
  'qed',
  'luks',
  'file',
]);
const CACHE_MODES = new Set(['writeback', 'none', 'writethrough', 'directsync', 'unsafe']);
/** Keys accepted with no effect on an emulator (guest-side or performance-only in QEMU). */
const INERT_KEYS = new Set([
  'media',
  'discard',
  'detect-zeroes',
  'werror',
  'rerror',
  'auto-read-only',
  'copy-on-read',
  'index',
  'node-name',
]);

export function checkDrive(
  values: ReadonlyMap<string, RawValue>,
  host: HostProbe,
  cwd = process.cwd(),
): DrivePlan {
  const str = (k: string): string | undefined => {
    const v = values.get(k);
    return v === undefined ? undefined : String(v);
  };
  const iface = str('if') ?? 'ide';
  const format = str('format');
  for (const key of values.keys()) {
    if (['file', 'if', 'id', 'format', 'readonly', 'read-only', 'cache', 'aio'].includes(key))
      continue;
    if (INERT_KEYS.has(key)) continue;
    throw new ConfigError(
      `Block format '${format ?? 'raw'}' does not support the option '${key}'`,
      key,
    );
  }
  if (format !== undefined && !FORMATS_KNOWN.has(format)) {
    throw new ConfigError(`Unknown driver '${format}'`, 'format');
  }
  if (format !== undefined && format !== 'raw' && format !== 'file') {
    throw new ConfigError(
      `format=${format} is not supported by nvmemu (raw images only)`,
      'format',
    );
  }
  if (iface !== 'none') {
    throw new ConfigError(
      `if=${iface} is not supported by nvmemu: attach the drive to a device with if=none,id=ID and -device ...,drive=ID`,
      'if',
    );
  }
  const id = str('id');
  if (id === undefined || id === '') throw new ConfigError(`Parameter 'id' is missing`, 'id');
  const file = str('file');
  if (file === undefined || file === '') {
    throw new ConfigError('A block device must be specified for "file"', 'file');
  }
  const roText = str('readonly') ?? str('read-only') ?? 'off';
  const readOnly = parseBool(roText);
  if (readOnly === undefined)
    throw new ConfigError(`Parameter 'readonly' expects 'on' or 'off'`, 'readonly');
  const aioText = str('aio') ?? DEFAULT_DRIVE_AIO;
  if (aioText !== 'threads' && aioText !== 'sync') {
    throw new ConfigError(
      aioText === 'native' || aioText === 'io_uring'
        ? `aio=${aioText} is not supported by nvmemu (use aio=threads or aio=sync)`
        : `Parameter 'aio' does not accept value '${aioText}'`,
      'aio',
    );
  }
  const cache = str('cache') ?? 'writeback';
  if (!CACHE_MODES.has(cache)) throw new ConfigError(`invalid cache option`, 'cache');
  const path = isAbsolute(file) ? file : resolve(cwd, file);
  const st = host.stat(path);
  if (st === undefined)
    throw new ConfigError(`Could not open '${file}': No such file or directory`, 'file');
  if (st.kind === 'dir') throw new ConfigError(`Could not open '${file}': Is a directory`, 'file');
  if (st.kind !== 'file') {
    throw new ConfigError(
      `Could not open '${file}': nvmemu supports regular image files only`,
      'file',
    );
  }
  return {
    id,
    file: path,
    readOnly,
    size: st.size,
    writeThrough: cache === 'writethrough' || cache === 'directsync',
    aio: aioText,
  };
}
