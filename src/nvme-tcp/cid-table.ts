// Commands in flight by command identifier (CID, 16 bits): the target's commands of a connection
// and the host's pending commands of a queue. A Map costs a hash lookup per access and rehashes
// (and shrinks) as commands come and go — visible in the per-command profile at QD32. CIDs are
// small integers, so a two-level table of 256 × 256 slots, the second level made on first use,
// finds a command with two array loads. Linux numbers CIDs as a 4-bit generation over the tag
// (nvme_cid), and nvmemu's host counts upward, so only a few second-level blocks ever exist.

const BLOCK = 256;

export class CidTable<T> {
  readonly #blocks: ((T | undefined)[] | undefined)[] = new Array<undefined>(BLOCK).fill(undefined);
  #size = 0;

  /** Commands in the table. */
  get size(): number {
    return this.#size;
  }

  get(cid: number): T | undefined {
    return this.#blocks[cid >>> 8]?.[cid & 0xff];
  }

  has(cid: number): boolean {
    return this.get(cid) !== undefined;
  }

  /** Puts `value` at `cid` (a 16-bit CID), replacing what was there. */
  set(cid: number, value: T): void {
    if (!Number.isInteger(cid) || cid < 0 || cid > 0xffff) {
      throw new RangeError(`CID ${cid} is not a 16-bit integer`);
    }
    let block = this.#blocks[cid >>> 8];
    if (block === undefined) {
      block = new Array<undefined>(BLOCK).fill(undefined);
      this.#blocks[cid >>> 8] = block;
    }
    if (block[cid & 0xff] === undefined) this.#size++;
    block[cid & 0xff] = value;
  }

  /** Removes `cid`; true when it was there. */
  delete(cid: number): boolean {
    const block = this.#blocks[cid >>> 8];
    if (block?.[cid & 0xff] === undefined) return false;
    block[cid & 0xff] = undefined;
    this.#size--;
    return true;
  }

  /** Every command in the table, by CID. */
  values(): T[] {
    const out: T[] = [];
    for (const block of this.#blocks) {
      if (block === undefined) continue;
      for (const v of block) if (v !== undefined) out.push(v);
    }
    return out;
  }

  clear(): void {
    this.#blocks.fill(undefined);
    this.#size = 0;
  }
}
