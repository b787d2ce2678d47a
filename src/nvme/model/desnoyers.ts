// The analytic write amplification of greedy garbage collection under uniform random page
// writes, from P. Desnoyers, "Analytic modeling of SSD write performance", SYSTOR 2012 (and its
// journal version, ACM TOS 10(4), 2014), in the limit of many pages per erase block:
//
//   A = α / (α + W(−α·e^(−α))),   α = T/U = 1 / (1 − Sf)
//
// with T the physical pages, U the logical (user) pages, Sf = (T − U)/T the spare factor and W
// the principal branch of the Lambert W function. The same expression is Xiang and Kurkoski's
// "improved analytic expression" (arXiv 1110.4245: over-provisioning 0.3, i.e. Sf 0.23, gives
// 2.36, as this function does). The FTL simulator (ftl.ts) is checked against it (ftl.test.ts).

/** W0(x), the principal branch of Lambert W, for x ≥ −1/e (Halley's iteration). */
export function lambertW0(x: number): number {
  const minX = -1 / Math.E;
  if (!(x >= minX)) throw new RangeError(`lambertW0: ${x} is below −1/e`);
  if (x === 0) return 0;
  // Start near the branch point with its series, elsewhere with log1p.
  let w = x < -0.25 ? -1 + Math.sqrt(2 * (1 + Math.E * x)) : Math.log1p(x);
  for (let i = 0; i < 64; i++) {
    const e = Math.exp(w);
    const f = w * e - x;
    const wp1 = w + 1;
    const next = w - f / (e * wp1 - ((w + 2) * f) / (2 * wp1));
    if (Math.abs(next - w) <= 1e-15 * (1 + Math.abs(next))) return next;
    w = next;
  }
  return w;
}

/** Desnoyers' greedy write amplification for spare factor `sf` (0 < sf < 1). */
export function greedyWaf(sf: number): number {
  if (!(sf > 0 && sf < 1)) throw new RangeError(`spare factor ${sf} is not in (0, 1)`);
  const a = 1 / (1 - sf);
  return a / (a + lambertW0(-a * Math.exp(-a)));
}
