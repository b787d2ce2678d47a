// Reading and updating a namespace label area crash-safely (reference qemu-pmem-ndctl.md §7.3,
// §7.5). The two index blocks are the commit mechanism: an update writes labels only into slots
// that are free in the current index, then writes the complete new index into the other block
// with the next sequence number. A power cut before that index write is complete leaves the
// old index current (a torn index fails its checksum), so the previous namespaces survive.

import { EmuError, ErrorCode } from '../../util/errors.js';
import {
  bestSeq,
  decodeLabel,
  encodeIndex,
  encodeLabel,
  labelGeometry,
  nextSeq,
  validateIndex,
  type IndexBlock,
  type Label,
  type LabelGeometry,
  type LabelVersion,
} from './label-format.js';
import { mediaSize, zeroRange, type Media } from './media.js';

export interface LabelArea {
  readonly geometry: LabelGeometry;
  /** Both index blocks: decoded, or why they failed validation. */
  readonly indexes: readonly [IndexBlock | { invalid: string }, IndexBlock | { invalid: string }];
  readonly current: 0 | 1;
  readonly seq: number;
  /** Stored nslot of the current index (authoritative over the computed geometry). */
  readonly nslot: number;
  /** Current free bitmap, true = free, nslot entries. */
  readonly free: readonly boolean[];
  /** Valid labels in allocated slots, by slot order. */
  readonly labels: readonly Label[];
  /** Allocated slots whose label the kernel would ignore (bad checksum, slot mismatch). */
  readonly badSlots: readonly number[];
}

export class LabelError extends EmuError {
  constructor(message: string) {
    super(ErrorCode.EMU_ERR_STATE, message);
  }
}

function readIndexes(m: Media, g: LabelGeometry): LabelArea['indexes'] {
  return [
    validateIndex(m.read(0, g.indexSize), 0, g),
    validateIndex(m.read(g.indexSize, g.indexSize), 1, g),
  ];
}

function isValid(x: IndexBlock | { invalid: string }): x is IndexBlock {
  return !('invalid' in x);
}

/**
 * Probes the area the way Linux does (§7.2: 128-byte geometry first, then 256) and returns the
 * current state, or undefined when neither index block validates (a label-less DIMM).
 */
export function readLabelArea(m: Media): LabelArea | undefined {
  const size = mediaSize(m);
  for (const version of ['1.1', '1.2'] as const) {
    const g = labelGeometry(size, version);
    if (g.nslot < 2) continue;
    const indexes = readIndexes(m, g);
    const [a, b] = indexes;
    let current: 0 | 1;
    if (isValid(a) && isValid(b)) current = bestSeq(a.seq, b.seq);
    else if (isValid(a)) current = 0;
    else if (isValid(b)) current = 1;
    else continue;
    const idx = indexes[current] as IndexBlock;
    const labels: Label[] = [];
    const badSlots: number[] = [];
    for (let s = 0; s < idx.nslot; s++) {
      if (idx.free[s] !== false) continue;
      const raw = m.read(g.labelOff + s * g.labelSize, g.labelSize);
      const l = decodeLabel(raw, s, version);
      if (l === undefined) badSlots.push(s);
      else labels.push(l);
    }
    return {
      geometry: g,
      indexes,
      current,
      seq: idx.seq,
      nslot: idx.nslot,
      free: idx.free,
      labels,
      badSlots,
    };
  }
  return undefined;
}

/**
 * Writes a fresh area (kernel nd_label_init / ndctl init-labels): both indexes with every slot
 * free, index 0 seq 3 and index 1 seq 2, so index 0 is current. Index 1 goes first: the area
 * becomes valid only when index 0 (the current one) lands.
 */
export function initLabelArea(m: Media, version: LabelVersion): LabelArea {
  const g = labelGeometry(mediaSize(m), version);
  if (g.nslot < 2) {
    throw new LabelError(`label area of ${g.areaSize} bytes is too small for ${version} labels`);
  }
  const free = new Array<boolean>(g.nslot).fill(true);
  m.write(g.indexSize, encodeIndex(g, 1, 2, free));
  m.flush?.(g.indexSize, g.indexSize);
  m.write(0, encodeIndex(g, 0, 3, free));
  m.flush?.(0, g.indexSize);
  const area = readLabelArea(m);
  if (area === undefined) throw new LabelError('label area did not validate after init');
  return area;
}

/** Zeroes the whole area (ndctl zero-labels): the DIMM becomes label-less. */
export function zeroLabelArea(m: Media): void {
  const size = mediaSize(m);
  zeroRange(m, 0, size);
  m.flush?.(0, size);
}

/** A label to add; its slot is chosen by the update. */
export type NewLabel = Omit<Label, 'slot'>;

/**
 * One crash-safe update: frees the labels in slots `remove` and stores `add` in slots that are
 * free in the current index (lowest first). Keeps at least one slot free, as the kernel does
 * (it needs a spare slot for the next update). Returns the new state.
 */
export function updateLabels(
  m: Media,
  area: LabelArea,
  remove: readonly number[],
  add: readonly NewLabel[],
): LabelArea {
  const g = area.geometry;
  const freeNow: number[] = [];
  for (let s = 0; s < area.nslot; s++) if (area.free[s] === true) freeNow.push(s);
  if (add.length > freeNow.length - 1) {
    throw new LabelError(
      `label area full: ${add.length} label(s) needed, ${Math.max(0, freeNow.length - 1)} slot(s) available`,
    );
  }
  const next = [...area.free];
  for (const s of remove) {
    if (area.free[s] !== false) throw new LabelError(`slot ${s} is not allocated`);
    next[s] = true;
  }
  add.forEach((l, i) => {
    const slot = freeNow[i]!;
    m.write(g.labelOff + slot * g.labelSize, encodeLabel({ ...l, slot }, g.version));
    next[slot] = false;
  });
  if (add.length > 0) m.flush?.(g.labelOff, area.nslot * g.labelSize);
  // The commit: the other index block, next sequence number, complete new bitmap.
  const target = (1 - area.current) as 0 | 1;
  m.write(target * g.indexSize, encodeIndex(g, target, nextSeq(area.seq), next, area.nslot));
  m.flush?.(target * g.indexSize, g.indexSize);
  const after = readLabelArea(m);
  if (after === undefined || after.current !== target) {
    throw new LabelError('label index did not validate after update');
  }
  return after;
}

/** Writes an index block image as read-labels produced (write-labels): the whole area. */
export function writeLabelImage(m: Media, image: Uint8Array): void {
  const size = mediaSize(m);
  if (image.length !== size) {
    throw new LabelError(`label image is ${image.length} bytes, the label area ${size}`);
  }
  m.write(0, image);
  m.flush?.(0, size);
}
