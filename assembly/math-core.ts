// The range reductions, polynomials and constants of float64 exp and log (method and error analysis: assembly/math.ts), shared by the math module and the tensor-heap kernels; float32 is assembly/math-f32x4.ts.

/** ln 2 with its low 12 mantissa bits cleared (0x3FE62E42FEFA3000 = 0.693147180559663). */
export const LN2_HI: f64 = reinterpret<f64>(0x3fe62e42fefa3000);
/** ln 2 - LN2_HI, rounded to double (0x3D53DE6AF278ECE6 = 2.8235290563031577e-13). */
export const LN2_LO: f64 = reinterpret<f64>(0x3d53de6af278ece6);
/** 1 / ln 2 rounded to double. */
export const INV_LN2: f64 = 1.4426950408889634;
/** 1.5·2^52: adding it rounds a double of magnitude < 2^51 to an integer held in the low mantissa bits. */
export const SHIFTER: f64 = 6755399441055744.0;
export const SQRT2: f64 = 1.4142135623730951;
export const CANON_NAN: f64 = reinterpret<f64>(0x7ff8000000000000);

// Taylor coefficients 1/j! (j = 2..13), each rounded to double.
export const E2: f64 = 1.0 / 2.0;
export const E3: f64 = 1.0 / 6.0;
export const E4: f64 = 1.0 / 24.0;
export const E5: f64 = 1.0 / 120.0;
export const E6: f64 = 1.0 / 720.0;
export const E7: f64 = 1.0 / 5040.0;
export const E8: f64 = 1.0 / 40320.0;
export const E9: f64 = 1.0 / 362880.0;
export const E10: f64 = 1.0 / 3628800.0;
export const E11: f64 = 1.0 / 39916800.0;
export const E12: f64 = 1.0 / 479001600.0;
export const E13: f64 = 1.0 / 6227020800.0;

// atanh series coefficients 2/(2j+1) (j = 1..10), each rounded to double.
export const L1: f64 = 2.0 / 3.0;
export const L2: f64 = 2.0 / 5.0;
export const L3: f64 = 2.0 / 7.0;
export const L4: f64 = 2.0 / 9.0;
export const L5: f64 = 2.0 / 11.0;
export const L6: f64 = 2.0 / 13.0;
export const L7: f64 = 2.0 / 15.0;
export const L8: f64 = 2.0 / 17.0;
export const L9: f64 = 2.0 / 19.0;
export const L10: f64 = 2.0 / 21.0;

@inline export function splat(v: f64): v128 {
  return f64x2.splat(v);
}

@inline export function splatI(v: i64): v128 {
  return i64x2.splat(v);
}

/** 2^k as doubles for integer lanes k (i64) in [-1022, 1023]. */
@inline export function pow2(k: v128): v128 {
  return i64x2.shl(i64x2.add(k, splatI(1023)), 52);
}

/** Step 2 of exp: x/ln2 + 1.5·2^52, whose value minus the shifter is k (as double) and whose bits minus the shifter's are k (as i64). */
@inline export function expShifted(x: v128): v128 {
  return f64x2.add(f64x2.mul(x, splat(INV_LN2)), splat(SHIFTER));
}

/** exp of two doubles. */
@inline export function exp2x(x0: v128): v128 {
  const x = f64x2.pmin(f64x2.pmax(x0, splat(-746.0)), splat(710.0)); // as in exp2xShort: NaN lanes are replaced below
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

/** Step 2 of log on x > 0 normal: m in [sqrt(1/2), sqrt(2)) and k (as double) with x = 2^k·m. `eAdj` is subtracted from k. */
@inline export function logSplitM(x: v128): v128 {
  const ix = x;
  const mb = v128.or(v128.and(ix, splatI(0x000fffffffffffff)), splatI(0x3ff0000000000000));
  const big = f64x2.gt(mb, splat(SQRT2));
  return v128.bitselect(f64x2.mul(mb, splat(0.5)), mb, big);
}

@inline export function logSplitK(x: v128, m: v128): v128 {
  // k = biased exponent - 1023 (+1 where m was halved, i.e. m < 1 after the split); as double via the shifter.
  const e = i64x2.sub(i64x2.shr_u(x, 52), splatI(1023));
  const halved = f64x2.lt(m, splat(1.0)); // all-ones (-1) lanes
  const k = i64x2.sub(e, halved);
  return f64x2.sub(i64x2.add(k, splatI(reinterpret<i64>(SHIFTER))), splat(SHIFTER));
}

/** log of two doubles. */
@inline export function log2x(x0: v128): v128 {
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

/** log(±0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf, log(NaN) = NaN (canonical). */
@inline export function logSpecials(x: v128, y: v128): v128 {
  let out = v128.bitselect(splat(-Infinity), y, f64x2.eq(x, splat(0.0)));
  out = v128.bitselect(splat(Infinity), out, f64x2.eq(x, splat(Infinity)));
  const bad = v128.or(f64x2.lt(x, splat(0.0)), f64x2.ne(x, x));
  return v128.bitselect(splat(CANON_NAN), out, bad);
}
