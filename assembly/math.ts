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
// float32 (assembly/math-f32x4.ts): evaluated in float32, four lanes per instruction, with no widening. It gives
// faithful results (the correctly rounded float32 or its neighbour), not correctly rounded ones; in exchange it runs
// in about a third of the time of the widened float64 evaluation it replaced (vectorised float32 math libraries
// with 1-ulp bounds make the same trade).
//
// exp(x), float32:
//   1. Clamp x to [-104, 89] (exp(-104) is under half the smallest subnormal; exp(89) overflows).
//   2. k = nearest(x / ln2) by adding 1.5·2^23 (exact while |x/ln2| < 2^22): t - 1.5·2^23 is k as a float and the
//      bits of t minus those of 1.5·2^23 are k as an integer.
//   3. r = (x - k·LN2F_HI) - k·LN2F_LO, |r| <= 0.347. LN2F_HI is ln 2 with its low 9 mantissa bits cleared (15
//      significant bits), so k·LN2F_HI is exact for |k| <= 150 and x - k·LN2F_HI is exact (Sterbenz); LN2F_LO is
//      ln 2 - LN2F_HI rounded to float32. The second subtraction rounds once: at most 2^-26 absolute, 0.25 ulp of
//      exp(r).
//   4. exp(r) = 1 + (r + r²·Q(r)), Q of degree 4 interpolating (e^r - 1 - r)/r² at the 64 Chebyshev nodes of
//      [-0.347, 0.347] (fitted in float64 with numpy, coefficients rounded to float32; the constant term is ½
//      exactly). Truncation and coefficient rounding: at most 1.04e-8 relative, 0.17·2^-24.
//   5. exp(x) = exp(r)·2^k. Where the result is a normal float (k in [-125, 127]) by adding k to the exponent field
//      (exact); elsewhere as exp(r)·2^k1·2^k2, k1 = k >> 1, k2 = k - k1: the first product is exact and the second
//      rounds once, into subnormals or to +Inf. Both give the same bits where both apply, so the heap kernels take
//      the integer add for 16 lanes at a time and redo the rare step with a lane outside it.
//
// log(x), float32:
//   1. Subnormal x is scaled by 2^23 (k corrected by -23).
//   2. u = bits(x) + (bits(1) - bits(sqrt(1/2))): u's exponent field is k + 127 and its mantissa field plus
//      bits(sqrt(1/2)) is m in [sqrt(1/2), sqrt(2)) with x = 2^k·m, in integer operations only.
//   3. f = m - 1 (exact, Sterbenz), s = f/(2 + f), z = s² <= 0.0295, and log(m) = f - s·(f - R), R = z·P(z) (the
//      float64 identity above), P of degree 2 interpolating Σ_{j>=1} 2z^(j-1)/(2j+1) at the 64 Chebyshev nodes of
//      [0, 0.0295]: at most 2.6e-9 relative, 0.043·2^-24.
//   4. log(x) = k·LN2F_HI + (f - (s·(f - R) - k·LN2F_LO)), k·LN2F_HI exact (|k| <= 149).
//   5. Specials as for float64.
//
// Measured maximum errors (test/cpu/wasm-math.test.ts, dense sweeps + random inputs): see docs/cpu-math.md.

import { exp2x, log2x } from './math-core';
import { exp4f, log4f } from './math-f32x4';

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
  for (let p = ptr; p < end; p += 16) v128.store(p, exp4f(v128.load(p)));
}

/** float32 log in place over n floats at `ptr` (16-byte aligned; n a multiple of 4: the host pads). */
export function logF32(ptr: usize, n: i32): void {
  const end = ptr + (<usize>n << 2);
  for (let p = ptr; p < end; p += 16) v128.store(p, log4f(v128.load(p)));
}
