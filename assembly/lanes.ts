// The float64 sums' fixed 8-way order (assembly/dot.ts, assembly/batch-norm.ts): partial sums s_{2a+j} in lane j of accumulator a, combined pairwise.

/** ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)) for the partial sums s_{2a+j} = lane j of accumulator a. */
// @ts-ignore: decorator
@inline export function combine(a0: v128, a1: v128, a2: v128, a3: v128): f64 {
  const p = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
  const q = f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1);
  const r = f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1);
  const t = f64x2.extract_lane(a3, 0) + f64x2.extract_lane(a3, 1);
  return (p + q) + (r + t);
}
