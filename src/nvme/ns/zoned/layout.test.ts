import { it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeZoneDescriptor, ZONE_DESCRIPTOR_SIZE, ZoneDescriptorLayout } from './layout.js';
import { ZoneState, ZoneTable } from './state.js';

it('encodeZoneDescriptor writes what the zone descriptor layout encodes (Figure 37)', () => {
  // Zones past 2^32 blocks, so the u64 halves matter.
  const zsze = 2 ** 31;
  const t = new ZoneTable(6, zsze, zsze - 8, { maxActive: 0, maxOpen: 0, numZrwa: 0 });
  t.restoreAt(2, ZoneState.CLOSED, 2 * zsze + 77, 0x80, new Uint8Array(64));
  t.finish(t.zone(3));
  t.restoreAt(4, ZoneState.READ_ONLY, 4 * zsze, 0);
  t.open(t.zone(5), 'explicit', false, false);
  for (const z of t.zones) {
    const noWp = z.state === ZoneState.FULL || z.state === ZoneState.READ_ONLY;
    const want = ZoneDescriptorLayout.encode({
      zt: 2,
      zs: z.state << 4,
      za: z.za,
      zai: 0,
      zcap: BigInt(z.zcap),
      zslba: BigInt(z.zslba),
      wp: noWp ? 2n ** 64n - 1n : BigInt(z.wp),
    });
    const got = new Uint8Array(ZONE_DESCRIPTOR_SIZE + 8).fill(0xee);
    encodeZoneDescriptor(z, got, 4);
    assert.deepEqual(got.subarray(4, 4 + ZONE_DESCRIPTOR_SIZE), want, `zone ${z.index}`);
    assert.deepEqual([...got.subarray(0, 4), ...got.subarray(68)], new Array<number>(8).fill(0xee));
  }
});
