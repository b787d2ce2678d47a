// Latency buckets shared by the server (telemetry.ts counts into them), the page and
// `nvmemu top` (which read them). No imports: the page compiles this module for the browser.
//
// Bucket 0 holds ≤ 1 µs, bucket k holds (2^(k-1), 2^k] µs, the last one everything slower than
// 2^(BUCKETS-2) µs (about 1 s).

export const BUCKETS = 22;

/** Upper bound of bucket `k` in microseconds (Infinity for the last one). */
export function bucketBoundUs(k: number): number {
  return k >= BUCKETS - 1 ? Infinity : 2 ** k;
}

/**
 * The bucket bound at or below which a share `q` of the commands completed (an upper estimate
 * of the q-quantile, in µs); 0 when there are none.
 */
export function percentileUs(buckets: readonly number[], q: number): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let acc = 0;
  for (let k = 0; k < buckets.length; k++) {
    acc += buckets[k]!;
    if (acc >= q * total) return bucketBoundUs(k);
  }
  return Infinity;
}
