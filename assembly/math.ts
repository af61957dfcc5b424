// exp and log over float32 and float64 arrays, in place, with our own range reduction and polynomials (SIMD, no fused multiply-add): the same bits on every engine.
//
// Why: Math.exp / Math.log are not specified to the bit, and V8 in Node and in Chromium return different last bits
// for some inputs. Wasm arithmetic (add, sub, mul, div, nearest, conversions) is IEEE-exact, so a fixed sequence of
// operations gives the same bits everywhere. Every element goes through the same SIMD code (the host pads arrays to
// whole vectors), NaN results are replaced by one canonical NaN (Wasm leaves NaN payloads unspecified), and no
// relaxed-SIMD (fused multiply-add) is used.
//
// exp(x), float64:
//   1. Clamp x to [-746, 710] (beyond, exp underflows to 0 / overflows to +Inf anyway; NaN passes through).
//   2. k = nearest(x / ln2) (ties to even), found by adding 1.5·2^52: the sum's low mantissa bits hold k as an
//      integer, which SIMD cannot otherwise convert from f64 to i64.
//   3. r = (x - k·LN2_HI) - k·LN2_LO, |r| <= ln2/2 (+ rounding). LN2_HI is ln 2 with the low 12 mantissa bits
//      cleared, so k·LN2_HI is exact for |k| < 2^12, and x - k·LN2_HI is exact (x and k·LN2_HI are within a factor
//      2 of each other, Sterbenz). LN2_LO is ln 2 - LN2_HI rounded to double; ln 2 to 120 bits was summed as
//      Σ 1/(j·2^j) in integer arithmetic (BigInt) to derive both.
//      The rounding error of that last subtraction is kept as rLo (so r + rLo = x - k·ln 2 to ~2^-100).
//   4. exp(r) = 1 + r + r²·Q(r), Q the Taylor series Σ_{j=2..13} r^(j-2)/j! (coefficients 1/j!, rounded to
//      double). The first omitted term, r^14/14! <= 0.347^14/14! ≈ 4e-18, is under 0.04 ulp of exp(r) >= 0.7.
//      1 + r is formed as an exact sum hi + lo (Fast2Sum, |r| < 1) and lo + r²·Q + rLo is added to hi last, so
//      only that final addition rounds at full magnitude (exp(r + rLo) ≈ exp(r) + rLo to far below an ulp).
//   5. exp(x) = exp(r)·2^k1·2^k2 with k1 = k >> 1, k2 = k - k1: both powers of two are normal doubles for every
//      clamped x, the first product is exact, and the second rounds once, also into subnormals (gradual underflow
//      in one rounding) and to +Inf on overflow.
//
// log(x), float64:
//   1. Subnormal x is scaled by 2^54 first (exponent corrected by -54).
//   2. x = 2^k·m with m in [sqrt(1/2), sqrt(2)): m takes x's mantissa bits with a zero exponent (m in [1, 2)),
//      then m > sqrt(2) halves m and increments k.
//   3. f = m - 1 (exact, Sterbenz), s = f/(2 + f) = (m-1)/(m+1), |s| <= 3 - 2·sqrt(2) ≈ 0.1716, and
//      log(m) = 2·atanh(s) = 2s + 2s³/3 + 2s⁵/5 + ... Since 2s = f - s·f, this is log(m) = f - s·(f - R) with
//      R = z·(2/3 + 2z/5 + ... + 2z^9/21), z = s². The exact f carries the result; s·(f - R) is a correction
//      below 0.19·|f|, so its rounding errors count at most a fifth. The first omitted term, 2s^23/23 relative to
//      2s, is s^22/23 <= 6e-19.
//   4. log(x) = k·LN2_HI + (f - (s·(f - R) - k·LN2_LO)), k·LN2_HI exact (|k| <= 1075).
//   5. log(±0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf, log(NaN) = NaN.
//
// float32: the float32 input is widened to float64 (exactly), the same reductions run with shorter polynomials
// (exp: Taylor to r^8/8!, truncation <= 2.1e-10 relative; log: R to 2z^4/11, truncation <= 1e-10 relative) in
// float64, and the result is rounded once to float32. The float64 value is within ~1e-9 ulp(float32) of the
// true value, so the float32 result is the correctly rounded one except next to a rounding midpoint, where it
// may be the other neighbour: within 1 ulp.
//
// Measured maximum errors (test/cpu/wasm-math.test.ts, dense sweeps + random inputs): see docs/cpu-math.md.

import {
  LN2_HI, LN2_LO, INV_LN2, SHIFTER, SQRT2, CANON_NAN, E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, splat, splatI, pow2, expShifted, expReduce, exp2x, exp2xShort, logSplitM, logSplitK, log2x, log2xShort, logSpecials, highHalf, pack,
} from './math-core';

const PAGE: usize = 65536;
const BASE: usize = (__heap_base + 63) & ~(<usize>63);

/** Byte address of the buffer the host fills (16-byte aligned). */
export function bufferBase(): usize {
  return BASE;
}

/** Makes `bytes` bytes from bufferBase() addressable, growing memory if needed. Returns bufferBase(), or 0 if it cannot. */
export function ensureCapacity(bytes: usize): usize {
  const end = BASE + bytes;
  if (end < BASE) return 0;
  const have = <usize>memory.size() * PAGE;
  if (end <= have) return BASE;
  const need = <i32>((end - have + PAGE - 1) / PAGE);
  return memory.grow(need) >= 0 ? BASE : 0;
}

/** float64 exp in place over n doubles at `ptr` (16-byte aligned; n even: the host pads). */
export function expF64(ptr: usize, n: i32): void {
  const end = ptr + (<usize>n << 3);
  for (let p = ptr; p < end; p += 16) v128.store(p, exp2x(v128.load(p)));
}

/** float64 log in place over n doubles at `ptr` (16-byte aligned; n even: the host pads). */
export function logF64(ptr: usize, n: i32): void {
  const end = ptr + (<usize>n << 3);
  for (let p = ptr; p < end; p += 16) v128.store(p, log2x(v128.load(p)));
}

/** float32 exp in place over n floats at `ptr` (16-byte aligned; n a multiple of 4: the host pads). */
export function expF32(ptr: usize, n: i32): void {
  const end = ptr + (<usize>n << 2);
  for (let p = ptr; p < end; p += 16) {
    const v = v128.load(p);
    const lo = exp2xShort(f64x2.promote_low_f32x4(v));
    const hi = exp2xShort(f64x2.promote_low_f32x4(highHalf(v)));
    v128.store(p, pack(lo, hi));
  }
}

/** float32 log in place over n floats at `ptr` (16-byte aligned; n a multiple of 4: the host pads). */
export function logF32(ptr: usize, n: i32): void {
  const end = ptr + (<usize>n << 2);
  for (let p = ptr; p < end; p += 16) {
    const v = v128.load(p);
    const lo = log2xShort(f64x2.promote_low_f32x4(v));
    const hi = log2xShort(f64x2.promote_low_f32x4(highHalf(v)));
    v128.store(p, pack(lo, hi));
  }
}
