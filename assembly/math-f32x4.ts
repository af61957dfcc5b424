// float32 exp and log evaluated in float32x4 lanes (four per instruction): range reductions, polynomials, constants, and the fast/fallback split the heap kernels use. Method and error analysis: assembly/math.ts; measured errors: docs/cpu-math.md.
//
// Every constant is given by its bits (AssemblyScript folds some mixed-precision constant expressions in float32).
// They live in mutable v128 globals set by the start function, so that a kernel can read them into locals before its
// loop and pass them down: Binaryen cannot fold a mutable global back into each use, and V8 then keeps them in registers instead of
// rematerializing each constant in every iteration (about 10% of exp's time).

// @ts-ignore: decorator
@inline function fs(bits: i32): v128 {
  return f32x4.splat(reinterpret<f32>(bits));
}

/** 1/ln 2 rounded to float32. */
export let EXP_INV_LN2: v128 = v128.splat<i32>(0);
/** 1.5·2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low mantissa bits. */
export let EXP_SHIFTER: v128 = v128.splat<i32>(0);
/** ln 2 with its low 9 mantissa bits cleared (0x3F317200 = 0.693145751953125): k·LN2F_HI is exact for |k| < 2^9. */
export let LN2F_HI: v128 = v128.splat<i32>(0);
/** ln 2 − LN2F_HI rounded to float32 (0x35BFBE8E = 1.4286068e-6). */
export let LN2F_LO: v128 = v128.splat<i32>(0);
/** exp's polynomial Q(r) = C2 + C3·r + ... + C6·r⁴ ≈ (e^r − 1 − r)/r² on |r| <= 0.347 (see assembly/math.ts). */
export let EXP_C2: v128 = v128.splat<i32>(0);
export let EXP_C3: v128 = v128.splat<i32>(0);
export let EXP_C4: v128 = v128.splat<i32>(0);
export let EXP_C5: v128 = v128.splat<i32>(0);
export let EXP_C6: v128 = v128.splat<i32>(0);
/** log's polynomial P(z) = L1 + L2·z + L3·z² ≈ Σ_{j≥1} 2z^(j−1)/(2j+1) on 0 <= z <= 0.0295 (see assembly/math.ts). */
export let LOG_L1: v128 = v128.splat<i32>(0);
export let LOG_L2: v128 = v128.splat<i32>(0);
export let LOG_L3: v128 = v128.splat<i32>(0);

EXP_INV_LN2 = fs(0x3fb8aa3b);
EXP_SHIFTER = fs(0x4b400000);
LN2F_HI = fs(0x3f317200);
LN2F_LO = fs(0x35bfbe8e);
EXP_C2 = fs(0x3f000000); // 0.5
EXP_C3 = fs(0x3e2aaa6e); // 0.16666576
EXP_C4 = fs(0x3d2aaa74); // 0.041666463
EXP_C5 = fs(0x3c0905f9); // 0.0083632404
EXP_C6 = fs(0x3ab6a1e0); // 0.0013933741
LOG_L1 = fs(0x3f2aaaae); // 0.66666687
LOG_L2 = fs(0x3eccbe0a); // 0.39988738
LOG_L3 = fs(0x3e977516); // 0.29581517

/** Steps 2 of exp: t = x/ln2 + 1.5·2^23; t − shifter is k = nearest(x/ln2) as float, t's bits − the shifter's are k as i32. */
// @ts-ignore: decorator
@inline export function expT(x: v128, inv: v128, sh: v128): v128 {
  return f32x4.add(f32x4.mul(x, inv), sh);
}

/** Steps 3-4 of exp: exp(r + rLo) ≈ 1 + (r + (r²·Q(r) + rLo)) with r + rLo = (x − k·LN2F_HI) − k·LN2F_LO exactly, k = t − shifter. */
// @ts-ignore: decorator
@inline export function expP(x: v128, t: v128, sh: v128, hi: v128, lo: v128, c2: v128, c3: v128, c4: v128, c5: v128, c6: v128): v128 {
  const kf = f32x4.sub(t, sh);
  const rHi = f32x4.sub(x, f32x4.mul(kf, hi));
  const kLo = f32x4.mul(kf, lo);
  const r = f32x4.sub(rHi, kLo);
  // The rounding error of that subtraction (exact: |kLo| <= 2.2e-4 is far below |rHi| unless both are tiny).
  const rLo = f32x4.sub(f32x4.sub(rHi, r), kLo);
  let q = f32x4.add(f32x4.mul(c6, r), c5);
  q = f32x4.add(f32x4.mul(q, r), c4);
  q = f32x4.add(f32x4.mul(q, r), c3);
  q = f32x4.add(f32x4.mul(q, r), c2);
  return f32x4.add(f32x4.splat(1.0), f32x4.add(r, f32x4.add(f32x4.mul(f32x4.mul(r, r), q), rLo)));
}

/** k as i32 lanes from t (exact while |x/ln2| < 2^22; beyond, a value far outside [-125, 127]). */
// @ts-ignore: decorator
@inline export function expK(t: v128, sh: v128): v128 {
  return i32x4.sub(t, sh);
}

/** All-ones lanes where exp's fast path does not apply: k outside [-125, 127] (results that are not normal floats, or |x| too large, or NaN). */
// @ts-ignore: decorator
@inline export function expOutside(k: v128): v128 {
  return i32x4.gt_u(i32x4.add(k, i32x4.splat(125)), i32x4.splat(252));
}

/** Step 5, fast path: p·2^k by adding k to p's exponent field (exact while the result is a normal float). */
// @ts-ignore: decorator
@inline export function expScaleFast(p: v128, k: v128): v128 {
  return i32x4.add(p, i32x4.shl(k, 23));
}

/** exp of four floats, every input: clamp to [-104, 89], steps 2-4, p·2^k1·2^k2 (k1 = k >> 1, k2 = k − k1: the first product exact, the second rounds once, also into subnormals and to +Inf), NaN lanes canonical. Where the fast path applies it gives the fast path's bits. */
// @ts-ignore: decorator
@inline export function exp4f(x0: v128): v128 {
  // pmax/pmin (one instruction each) instead of max/min: they differ only for NaN, whose lanes the last line replaces.
  const x = f32x4.pmin(f32x4.pmax(x0, f32x4.splat(-104.0)), f32x4.splat(89.0));
  const t = expT(x, EXP_INV_LN2, EXP_SHIFTER);
  const p = expP(x, t, EXP_SHIFTER, LN2F_HI, LN2F_LO, EXP_C2, EXP_C3, EXP_C4, EXP_C5, EXP_C6);
  const k = expK(t, EXP_SHIFTER);
  const k1 = i32x4.shr_s(k, 1);
  const k2 = i32x4.sub(k, k1);
  const y = f32x4.mul(f32x4.mul(p, i32x4.shl(i32x4.add(k1, i32x4.splat(127)), 23)), i32x4.shl(i32x4.add(k2, i32x4.splat(127)), 23));
  return v128.bitselect(i32x4.splat(0x7fc00000), y, f32x4.ne(x0, x0));
}

/** Step 2 of log, for positive normal x: its bits offset so that the exponent field splits x = 2^k·m with m in [sqrt(1/2), sqrt(2)). */
// @ts-ignore: decorator
@inline export function logOffset(x: v128): v128 {
  return i32x4.add(x, i32x4.splat(0x3f800000 - 0x3f3504f3));
}

/** All-ones lanes where log's fast path does not apply: x not a positive normal finite float (0, subnormal, negative, Inf, NaN). */
// @ts-ignore: decorator
@inline export function logOutside(x: v128): v128 {
  return i32x4.ge_u(i32x4.sub(x, i32x4.splat(0x00800000)), i32x4.splat(0x7f800000 - 0x00800000));
}

/** k of step 2 as float, from offset bits u (logOffset). */
// @ts-ignore: decorator
@inline export function logK(u: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_s(u, 23), i32x4.splat(127)));
}

/** Steps 3-4 of log on offset bits u and k as float: f = m − 1, s = f/(2 + f), z = s², R = z·P(z), log(x) = k·LN2F_HI + (f − (s·(f − R) − k·LN2F_LO)). */
// @ts-ignore: decorator
@inline export function logCore(u: v128, kf: v128, hi: v128, lo: v128, l1: v128, l2: v128, l3: v128): v128 {
  const m = i32x4.add(v128.and(u, i32x4.splat(0x007fffff)), i32x4.splat(0x3f3504f3));
  const f = f32x4.sub(m, f32x4.splat(1.0));
  const s = f32x4.div(f, f32x4.add(f, f32x4.splat(2.0)));
  const z = f32x4.mul(s, s);
  const R = f32x4.mul(z, f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(l3, z), l2), z), l1));
  const corr = f32x4.sub(f32x4.mul(s, f32x4.sub(f, R)), f32x4.mul(kf, lo));
  return f32x4.add(f32x4.mul(kf, hi), f32x4.sub(f, corr));
}

/** log of four floats, every input: subnormals scaled by 2^23 (k corrected by −23), logCore, then log(±0) = −Inf, log(x < 0) = NaN, log(+Inf) = +Inf, NaN canonical. Normal lanes get the fast path's bits. */
// @ts-ignore: decorator
@inline export function log4f(x0: v128): v128 {
  const sub = f32x4.lt(x0, f32x4.splat(1.17549435e-38));
  const x = v128.bitselect(f32x4.mul(x0, f32x4.splat(8388608.0)), x0, sub);
  const u = logOffset(x);
  // k − 23 on scaled lanes; on the others k − 0 = k, the fast path's k.
  const y = logCore(u, f32x4.sub(logK(u), v128.and(sub, f32x4.splat(23.0))), LN2F_HI, LN2F_LO, LOG_L1, LOG_L2, LOG_L3);
  let out = v128.bitselect(f32x4.splat(-Infinity), y, f32x4.eq(x0, f32x4.splat(0.0)));
  out = v128.bitselect(f32x4.splat(Infinity), out, f32x4.eq(x0, f32x4.splat(Infinity)));
  const bad = v128.or(f32x4.lt(x0, f32x4.splat(0.0)), f32x4.ne(x0, x0));
  return v128.bitselect(i32x4.splat(0x7fc00000), out, bad);
}
