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

/** ln 2 with its low 12 mantissa bits cleared (0x3FE62E42FEFA3000 = 0.693147180559663). */
const LN2_HI: f64 = reinterpret<f64>(0x3fe62e42fefa3000);
/** ln 2 - LN2_HI, rounded to double (0x3D53DE6AF278ECE6 = 2.8235290563031577e-13). */
const LN2_LO: f64 = reinterpret<f64>(0x3d53de6af278ece6);
/** 1 / ln 2 rounded to double. */
const INV_LN2: f64 = 1.4426950408889634;
/** 1.5·2^52: adding it rounds a double of magnitude < 2^51 to an integer held in the low mantissa bits. */
const SHIFTER: f64 = 6755399441055744.0;
const SQRT2: f64 = 1.4142135623730951;
const CANON_NAN: f64 = reinterpret<f64>(0x7ff8000000000000);

// Taylor coefficients 1/j! (j = 2..13), each rounded to double.
const E2: f64 = 1.0 / 2.0;
const E3: f64 = 1.0 / 6.0;
const E4: f64 = 1.0 / 24.0;
const E5: f64 = 1.0 / 120.0;
const E6: f64 = 1.0 / 720.0;
const E7: f64 = 1.0 / 5040.0;
const E8: f64 = 1.0 / 40320.0;
const E9: f64 = 1.0 / 362880.0;
const E10: f64 = 1.0 / 3628800.0;
const E11: f64 = 1.0 / 39916800.0;
const E12: f64 = 1.0 / 479001600.0;
const E13: f64 = 1.0 / 6227020800.0;

// atanh series coefficients 2/(2j+1) (j = 1..10), each rounded to double.
const L1: f64 = 2.0 / 3.0;
const L2: f64 = 2.0 / 5.0;
const L3: f64 = 2.0 / 7.0;
const L4: f64 = 2.0 / 9.0;
const L5: f64 = 2.0 / 11.0;
const L6: f64 = 2.0 / 13.0;
const L7: f64 = 2.0 / 15.0;
const L8: f64 = 2.0 / 17.0;
const L9: f64 = 2.0 / 19.0;
const L10: f64 = 2.0 / 21.0;

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

@inline function splat(v: f64): v128 {
  return f64x2.splat(v);
}

@inline function splatI(v: i64): v128 {
  return i64x2.splat(v);
}

/** 2^k as doubles for integer lanes k (i64) in [-1022, 1023]. */
@inline function pow2(k: v128): v128 {
  return i64x2.shl(i64x2.add(k, splatI(1023)), 52);
}

/** Step 2 of exp: x/ln2 + 1.5·2^52, whose value minus the shifter is k (as double) and whose bits minus the shifter's are k (as i64). */
@inline function expShifted(x: v128): v128 {
  return f64x2.add(f64x2.mul(x, splat(INV_LN2)), splat(SHIFTER));
}

/** Step 3 of exp without the rLo term (enough for float32): r = (x - k·LN2_HI) - k·LN2_LO for kf = k as double. */
@inline function expReduce(x: v128, kf: v128): v128 {
  return f64x2.sub(f64x2.sub(x, f64x2.mul(kf, splat(LN2_HI))), f64x2.mul(kf, splat(LN2_LO)));
}

/** exp of two doubles. */
@inline function exp2x(x0: v128): v128 {
  const x = f64x2.min(f64x2.max(x0, splat(-746.0)), splat(710.0));
  const t = expShifted(x);
  const k = i64x2.sub(t, splatI(reinterpret<i64>(SHIFTER)));
  const kf = f64x2.sub(t, splat(SHIFTER));
  // r + rLo = x - k·ln2 to about 2^-100: rHi exact, rLo the rounding error of r = rHi - k·LN2_LO, minus that product's own.
  const rHi = f64x2.sub(x, f64x2.mul(kf, splat(LN2_HI)));
  const kLo = f64x2.mul(kf, splat(LN2_LO));
  const r = f64x2.sub(rHi, kLo);
  const rLo = f64x2.sub(f64x2.sub(rHi, r), kLo);
  let q = splat(E13);
  q = f64x2.add(f64x2.mul(q, r), splat(E12));
  q = f64x2.add(f64x2.mul(q, r), splat(E11));
  q = f64x2.add(f64x2.mul(q, r), splat(E10));
  q = f64x2.add(f64x2.mul(q, r), splat(E9));
  q = f64x2.add(f64x2.mul(q, r), splat(E8));
  q = f64x2.add(f64x2.mul(q, r), splat(E7));
  q = f64x2.add(f64x2.mul(q, r), splat(E6));
  q = f64x2.add(f64x2.mul(q, r), splat(E5));
  q = f64x2.add(f64x2.mul(q, r), splat(E4));
  q = f64x2.add(f64x2.mul(q, r), splat(E3));
  q = f64x2.add(f64x2.mul(q, r), splat(E2));
  // exp(r + rLo) ≈ (1 + r) + (r²·Q + rLo): 1 + r as an exact sum hi + lo (Fast2Sum, |r| < 1), the rest added to lo.
  const hi = f64x2.add(splat(1.0), r);
  const lo = f64x2.add(f64x2.sub(splat(1.0), hi), r);
  const p = f64x2.add(hi, f64x2.add(lo, f64x2.add(f64x2.mul(f64x2.mul(r, r), q), rLo)));
  const k1 = i64x2.shr_s(k, 1);
  const k2 = i64x2.sub(k, k1);
  const y = f64x2.mul(f64x2.mul(p, pow2(k1)), pow2(k2));
  return v128.bitselect(splat(CANON_NAN), y, f64x2.ne(x0, x0));
}

/** exp of two doubles holding float32 values, accurate to ~2e-10 relative (input already in float32 range). */
@inline function exp2xShort(x0: v128): v128 {
  const x = f64x2.min(f64x2.max(x0, splat(-104.0)), splat(89.0));
  const t = expShifted(x);
  const k = i64x2.sub(t, splatI(reinterpret<i64>(SHIFTER)));
  const r = expReduce(x, f64x2.sub(t, splat(SHIFTER)));
  let q = splat(E8);
  q = f64x2.add(f64x2.mul(q, r), splat(E7));
  q = f64x2.add(f64x2.mul(q, r), splat(E6));
  q = f64x2.add(f64x2.mul(q, r), splat(E5));
  q = f64x2.add(f64x2.mul(q, r), splat(E4));
  q = f64x2.add(f64x2.mul(q, r), splat(E3));
  q = f64x2.add(f64x2.mul(q, r), splat(E2));
  const p = f64x2.add(splat(1.0), f64x2.add(r, f64x2.mul(f64x2.mul(r, r), q)));
  const y = f64x2.mul(p, pow2(k));
  return v128.bitselect(splat(CANON_NAN), y, f64x2.ne(x0, x0));
}

/** Step 2 of log on x > 0 normal: m in [sqrt(1/2), sqrt(2)) and k (as double) with x = 2^k·m. `eAdj` is subtracted from k. */
@inline function logSplitM(x: v128): v128 {
  const ix = x;
  const mb = v128.or(v128.and(ix, splatI(0x000fffffffffffff)), splatI(0x3ff0000000000000));
  const big = f64x2.gt(mb, splat(SQRT2));
  return v128.bitselect(f64x2.mul(mb, splat(0.5)), mb, big);
}

@inline function logSplitK(x: v128, m: v128): v128 {
  // k = biased exponent - 1023 (+1 where m was halved, i.e. m < 1 after the split); as double via the shifter.
  const e = i64x2.sub(i64x2.shr_u(x, 52), splatI(1023));
  const halved = f64x2.lt(m, splat(1.0)); // all-ones (-1) lanes
  const k = i64x2.sub(e, halved);
  return f64x2.sub(i64x2.add(k, splatI(reinterpret<i64>(SHIFTER))), splat(SHIFTER));
}

/** log of two doubles. */
@inline function log2x(x0: v128): v128 {
  const sub = f64x2.lt(x0, splat(2.2250738585072014e-308)); // subnormal (and zero / negative, fixed at the end)
  const x = v128.bitselect(f64x2.mul(x0, splat(18014398509481984.0)), x0, sub); // · 2^54
  const m = logSplitM(x);
  const kf = f64x2.sub(logSplitK(x, m), v128.and(sub, splat(54.0)));
  const f = f64x2.sub(m, splat(1.0));
  const s = f64x2.div(f, f64x2.add(f, splat(2.0)));
  const z = f64x2.mul(s, s);
  let p = splat(L10);
  p = f64x2.add(f64x2.mul(p, z), splat(L9));
  p = f64x2.add(f64x2.mul(p, z), splat(L8));
  p = f64x2.add(f64x2.mul(p, z), splat(L7));
  p = f64x2.add(f64x2.mul(p, z), splat(L6));
  p = f64x2.add(f64x2.mul(p, z), splat(L5));
  p = f64x2.add(f64x2.mul(p, z), splat(L4));
  p = f64x2.add(f64x2.mul(p, z), splat(L3));
  p = f64x2.add(f64x2.mul(p, z), splat(L2));
  p = f64x2.add(f64x2.mul(p, z), splat(L1));
  const R = f64x2.mul(z, p);
  const corr = f64x2.sub(f64x2.mul(s, f64x2.sub(f, R)), f64x2.mul(kf, splat(LN2_LO)));
  const y = f64x2.add(f64x2.mul(kf, splat(LN2_HI)), f64x2.sub(f, corr));
  return logSpecials(x0, y);
}

/** log of two doubles holding float32 values (no subnormals once widened), accurate to ~1e-10 relative. */
@inline function log2xShort(x: v128): v128 {
  const m = logSplitM(x);
  const kf = logSplitK(x, m);
  const f = f64x2.sub(m, splat(1.0));
  const s = f64x2.div(f, f64x2.add(f, splat(2.0)));
  const z = f64x2.mul(s, s);
  let p = splat(L5);
  p = f64x2.add(f64x2.mul(p, z), splat(L4));
  p = f64x2.add(f64x2.mul(p, z), splat(L3));
  p = f64x2.add(f64x2.mul(p, z), splat(L2));
  p = f64x2.add(f64x2.mul(p, z), splat(L1));
  const R = f64x2.mul(z, p);
  const y = f64x2.add(f64x2.mul(kf, splat(LN2_HI)), f64x2.sub(f, f64x2.sub(f64x2.mul(s, f64x2.sub(f, R)), f64x2.mul(kf, splat(LN2_LO)))));
  return logSpecials(x, y);
}

/** log(±0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf, log(NaN) = NaN (canonical). */
@inline function logSpecials(x: v128, y: v128): v128 {
  let out = v128.bitselect(splat(-Infinity), y, f64x2.eq(x, splat(0.0)));
  out = v128.bitselect(splat(Infinity), out, f64x2.eq(x, splat(Infinity)));
  const bad = v128.or(f64x2.lt(x, splat(0.0)), f64x2.ne(x, x));
  return v128.bitselect(splat(CANON_NAN), out, bad);
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

/** Lanes 2, 3 of a float32x4 moved to lanes 0, 1. */
@inline function highHalf(v: v128): v128 {
  return i32x4.shuffle(v, v, 2, 3, 2, 3);
}

/** Two float64x2 rounded to float32 and packed into one float32x4; NaN lanes get the canonical float32 NaN (demotion leaves NaN bits unspecified). */
@inline function pack(lo: v128, hi: v128): v128 {
  const v = i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
  return v128.bitselect(i32x4.splat(0x7fc00000), v, f32x4.ne(v, v));
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
