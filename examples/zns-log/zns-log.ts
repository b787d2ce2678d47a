// An example of storage code tested with nvmemu: an append-only record log that lives on the
// zones of a zoned namespace (NVMe ZNS). Records go to the open zone with Zone Append, so the
// device picks the LBA and concurrent appends never race for a write pointer; a full zone is
// finished and the log moves to the next empty one. Reopening the log recovers it from the
// zone report alone: the records are the blocks between each zone's start and its write
// pointer, in zone order. `sync()` is the durability point (a Flush): what was appended after
// the last sync may be lost by a power cut, and recovery must still find a clean prefix.
//
// Record layout, one or more whole blocks: magic "ZLOG" (u32 LE), payload length (u32 LE),
// sequence number (u64 LE), then the payload; the rest of the last block is zero.

import type { NvmeNamespace, ZoneInfo } from 'nvmemu';

const MAGIC = 0x474f4c5a; // "ZLOG" little-endian
const HEADER = 16;

/** An append-only log over the zones of `ns`. */
export class ZoneLog {
  readonly #ns: NvmeNamespace;
  readonly #blockSize: number;
  #zones: ZoneInfo[];
  /** Index of the zone appends go to. */
  #zone: number;
  #nextSeq: bigint;

  private constructor(
    ns: NvmeNamespace,
    blockSize: number,
    zones: ZoneInfo[],
    zone: number,
    next: bigint,
  ) {
    this.#ns = ns;
    this.#blockSize = blockSize;
    this.#zones = zones;
    this.#zone = zone;
    this.#nextSeq = next;
  }

  /** Opens the log on a zoned namespace, recovering its end from the zone report. */
  static async open(ns: NvmeNamespace): Promise<ZoneLog> {
    const info = await ns.info();
    if (!info.zoned) throw new Error(`namespace ${ns.nsid} is not zoned`);
    const zones = await ns.zones();
    // Appends continue in the last zone that holds data, or the first one.
    let zone = 0;
    zones.forEach((z, i) => {
      if (z.state !== 'empty') zone = i;
    });
    const log = new ZoneLog(ns, info.blockSize, zones, zone, 0n);
    let last = -1n;
    for await (const r of log.records()) last = r.seq;
    log.#nextSeq = last + 1n;
    return log;
  }

  /** Blocks a record of `length` payload bytes occupies. */
  #blocks(length: number): number {
    return Math.ceil((HEADER + length) / this.#blockSize);
  }

  /** Appends one record; resolves with its sequence number once the device has it (not durable). */
  async append(payload: Uint8Array): Promise<bigint> {
    const blocks = this.#blocks(payload.length);
    const buf = new Uint8Array(blocks * this.#blockSize);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const seq = this.#nextSeq++;
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, payload.length, true);
    view.setBigUint64(8, seq, true);
    buf.set(payload, HEADER);
    let z = this.#zones[this.#zone]!;
    const used = z.state === 'full' ? z.capacity : z.writePointer - z.start;
    if (used + BigInt(blocks) > z.capacity) {
      // The record does not fit: close this zone for good and move to the next one.
      if (z.state !== 'full' && z.state !== 'empty') await this.#ns.zoneAction('finish', z.start);
      this.#zone++;
      z = this.#zones[this.#zone]!;
      if (z === undefined) throw new Error('the log is full');
    }
    const lba = await this.#ns.zoneAppend(z.start, buf);
    this.#zones[this.#zone] = {
      ...z,
      state: 'implicitly-open',
      writePointer: lba + BigInt(blocks),
    };
    return seq;
  }

  /** Makes every record appended so far durable. */
  async sync(): Promise<void> {
    await this.#ns.flush();
  }

  /** The records in log order, read from the device. */
  async *records(): AsyncGenerator<{ seq: bigint; payload: Uint8Array }> {
    this.#zones = await this.#ns.zones();
    for (const z of this.#zones) {
      const end = z.state === 'full' ? z.start + z.capacity : z.writePointer;
      if (z.state === 'empty' || end <= z.start) continue;
      const data = await this.#ns.read(z.start, Number(end - z.start));
      for (let off = 0; off + HEADER <= data.length;) {
        const view = new DataView(data.buffer, data.byteOffset + off, HEADER);
        if (view.getUint32(0, true) !== MAGIC) break; // the unwritten tail of a finished zone
        const length = view.getUint32(4, true);
        yield {
          seq: view.getBigUint64(8, true),
          payload: data.slice(off + HEADER, off + HEADER + length),
        };
        off += this.#blocks(length) * this.#blockSize;
      }
    }
  }
}
