// Namespace identifiers as QEMU 7.2's controller accepts them (reference qemu-nvme.md §4.1).

/** NN: the highest NSID (QEMU NVME_MAX_NAMESPACES). */
export const MAX_NSID = 256;
export const NSID_BROADCAST = 0xffff_ffff;

/** nvme_nsid_valid: 1..256 or the broadcast value. */
export function nsidValid(nsid: number): boolean {
  return nsid !== 0 && (nsid === NSID_BROADCAST || nsid <= MAX_NSID);
}
