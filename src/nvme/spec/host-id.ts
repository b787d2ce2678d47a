// The host a controller acts for (NVMe Base Spec 2.0 §5.27.1.25 Host Identifier; NVMe-oF
// Connect HOSTID): reservations register hosts, not controllers, so every path of one host
// shares its registration. Over fabrics the identifier is Connect's 128-bit HOSTID; over PCIe
// the host sets it with Set Features 81h (64-bit, or 128-bit with EXHID). A controller whose
// host gave none (all zeros) is a host of its own.

export interface HostIdentity {
  /**
   * Stable key: `h16:<32 hex>` for a 128-bit identifier, `h8:<16 hex>` for a 64-bit one,
   * `ctrl:<cntlid>` when the host gave none. Keys name registrants in state files shared by
   * processes, so they never depend on anything local to one process.
   */
  readonly key: string;
  /** The identifier as the host gave it (8 or 16 bytes; zeros when none). */
  readonly id: Uint8Array;
  /** 128-bit identifier (Reservation Report needs the extended data structure). */
  readonly extended: boolean;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The identity of a host with identifier `id` (8 or 16 bytes) behind controller `cntlid`. */
export function hostIdentity(id: Uint8Array, cntlid: number): HostIdentity {
  const extended = id.length === 16;
  if (id.every((b) => b === 0)) return { key: `ctrl:${cntlid}`, id, extended };
  return { key: `${extended ? 'h16' : 'h8'}:${hex(id)}`, id, extended };
}

/** The identifier bytes of a key made by hostIdentity (zeros for a controller's own key). */
export function hostIdOfKey(key: string, extended: boolean): Uint8Array {
  const m = /^h(?:16|8):([0-9a-f]+)$/.exec(key);
  const out = new Uint8Array(extended ? 16 : 8);
  if (m !== null) out.set(Buffer.from(m[1]!, 'hex').subarray(0, out.length));
  return out;
}
