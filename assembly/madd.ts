// Fused multiply-add where the build has relaxed SIMD (the *-relaxed targets), mul then add otherwise: the GEMM's and conv's inner products.

/**
 * c + a * b. Built with relaxed SIMD (targets *-relaxed) this is one fused multiply-add, which lifts the GEMM kernel
 * from ~12 to ~16 flop/cycle on x64; otherwise a separate mul and add.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** 1 if this build uses relaxed-SIMD fused multiply-add, else 0. */
export function usesRelaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
