import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DRIVE_AIO, Drive, ioBuffer, type DriveAio } from './drive.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-drive-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function image(bytes: number, fill = 0): string {
  const file = join(dir, `img${n++}.raw`);
  writeFileSync(file, new Uint8Array(bytes).fill(fill));
  return file;
}

/** What a rejected promise carried, for exact assertions on code/type. */
/** The failure of `step`, whether it throws (aio=sync) or rejects (aio=threads). */
async function failure(step: () => unknown): Promise<unknown> {
  try {
    await step();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('Drive', () => {
  it('defaults to synchronous I/O on the event loop', async () => {
    const d = await Drive.open({ id: 'x', file: image(4096), readOnly: false });
    assert.equal(DEFAULT_DRIVE_AIO, 'sync');
    assert.equal(d.aio, 'sync');
    await d.close();
  });

  for (const aio of ['sync', 'threads'] as const satisfies readonly DriveAio[]) {
    describe(`aio=${aio}`, () => {
      it('writes bytes at an offset that a later read and the image file both return', async () => {
        const file = image(8192);
        const d = await Drive.open({ id: 'x', file, readOnly: false, aio });
        await d.write(Uint8Array.of(1, 2, 3, 4), 4094);
        const buf = new Uint8Array(6).fill(0xee);
        await d.read(buf, 4093);
        assert.deepEqual([...buf], [0, 1, 2, 3, 4, 0]);
        await d.close();
        assert.deepEqual([...readFileSync(file).subarray(4094, 4098)], [1, 2, 3, 4]);
      });

      it('reads bytes past the end of a file shrunk after open as zeros', async () => {
        const file = image(4096, 0x5a);
        const d = await Drive.open({ id: 'x', file, readOnly: false, aio });
        truncateSync(file, 1000);
        const buf = new Uint8Array(100).fill(0xee);
        await d.read(buf, 950);
        assert.deepEqual([...buf.subarray(0, 50)], new Array<number>(50).fill(0x5a));
        assert.deepEqual([...buf.subarray(50)], new Array<number>(50).fill(0));
        await d.close();
      });

      it('fails an access beyond the image with RangeError (thrown when sync, else rejected)', async () => {
        const d = await Drive.open({ id: 'x', file: image(4096), readOnly: false, aio });
        let r: unknown;
        const call = (): unknown => (r = d.read(new Uint8Array(2), 4095));
        if (aio === 'threads') assert.doesNotThrow(call);
        const e = await failure(() => (aio === 'threads' ? r : call()));
        assert.ok(e instanceof RangeError);
        assert.equal(e.message, "drive 'x': access [4095, +2) beyond image size 4096");
        const w = await failure(() => d.write(new Uint8Array(1), -1));
        assert.ok(w instanceof RangeError);
        await d.close();
      });

      it('rejects a write to a read-only drive with EMU_ERR_BACKEND_IO', async () => {
        const d = await Drive.open({ id: 'ro', file: image(4096), readOnly: true, aio });
        const e = (await failure(() => d.write(new Uint8Array(1), 0))) as { code?: string };
        assert.equal(e.code, 'EMU_ERR_BACKEND_IO');
        await d.close();
      });

      it('rejects I/O on a closed drive with EMU_ERR_STATE', async () => {
        const d = await Drive.open({ id: 'c', file: image(4096), readOnly: false, aio });
        await d.close();
        const e = (await failure(() => d.read(new Uint8Array(1), 0))) as { code?: string };
        assert.equal(e.code, 'EMU_ERR_STATE');
        const f = (await failure(() => d.flush())) as { code?: string };
        assert.equal(f.code, 'EMU_ERR_STATE');
      });
    });
  }
});

describe('ioBuffer', () => {
  it('hands out zero-filled, non-overlapping buffers of exactly the asked length', () => {
    const a = ioBuffer(4096);
    const b = ioBuffer(13);
    const c = ioBuffer(4096);
    for (const [buf, len] of [
      [a, 4096],
      [b, 13],
      [c, 4096],
    ] as const) {
      assert.equal(buf.length, len);
      assert.ok(buf.every((x) => x === 0));
    }
    a.fill(0xaa);
    c.fill(0xcc);
    assert.ok(b.every((x) => x === 0));
    assert.ok(a.every((x) => x === 0xaa));
  });

  it('gives a request above 128 KiB a buffer of its own', () => {
    const big = ioBuffer(128 * 1024 + 1);
    assert.equal(big.byteOffset, 0);
    assert.equal(big.buffer.byteLength, 128 * 1024 + 1);
  });

  it('starts a fresh slab when the current one cannot hold the request', () => {
    const views = Array.from({ length: 9 }, () => ioBuffer(128 * 1024));
    assert.ok(views.every((v) => v.length === 128 * 1024 && v.every((x) => x === 0)));
    assert.ok(new Set(views.map((v) => v.buffer)).size >= 2);
  });
});
