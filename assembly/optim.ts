// Optimizer kernels over arrays in the CPU tensor heap: the fused Adam and RMSprop updates and the first non-finite gradient element, float32 and float64, SIMD with a scalar tail.
//
// adam* give the bits of the JS loop in src/optim/adam-cpu.ts: every intermediate in double (float32 operands
// promoted exactly), the new moments and the parameter rounded once when stored, the parameter computed from the
// unrounded moments. f64x2 add, sub, mul, div and sqrt are the IEEE double operations JS performs.
// Pointers are byte addresses in the imported memory; arrays are 16-byte aligned.

/** Flags of adam*: weight decay present (wd != 0), per-element decay array present, lerp weight >= 0.5. */
const HAS_WD = 1, HAS_DECAY = 2, BIG = 4;

// The update in four steps, each on two double lanes (f64x2) and on one double:
//   g ← grad (+ wd p) (+ d ⊙ p);  m ← lerp(m, g, w);  v ← β2 v + ((1 − β2) g) g;  p ← p + (negStep m) / (√v / √bc2 + ε)
@inline function gradOf(p: v128, g: v128, d: v128, flags: i32, wd: v128): v128 {
  let r = g;
  if (flags & HAS_WD) r = f64x2.add(r, f64x2.mul(p, wd));
  if (flags & HAS_DECAY) r = f64x2.add(r, f64x2.mul(d, p));
  return r;
}

@inline function firstMoment(g: v128, m0: v128, flags: i32, lw: v128): v128 {
  const diff = f64x2.sub(g, m0);
  return flags & BIG ? f64x2.sub(g, f64x2.mul(diff, lw)) : f64x2.add(m0, f64x2.mul(diff, lw));
}

@inline function secondMoment(g: v128, v0: v128, beta2: v128, omb2: v128): v128 {
  return f64x2.add(f64x2.mul(v0, beta2), f64x2.mul(f64x2.mul(g, omb2), g));
}

@inline function stepped(p: v128, m: v128, v: v128, sqrtBc2: v128, eps: v128, negStep: v128): v128 {
  return f64x2.add(p, f64x2.div(f64x2.mul(m, negStep), f64x2.add(f64x2.div(f64x2.sqrt(v), sqrtBc2), eps)));
}

@inline function gradOfScalar(p: f64, g: f64, d: f64, flags: i32, wd: f64): f64 {
  let r = g;
  if (flags & HAS_WD) r += p * wd;
  if (flags & HAS_DECAY) r += d * p;
  return r;
}

@inline function firstMomentScalar(g: f64, m0: f64, flags: i32, lw: f64): f64 {
  const diff = g - m0;
  return flags & BIG ? g - diff * lw : m0 + diff * lw;
}

/**
 * Float32 Adam step over n elements: m, v updated in place, out = new parameter. decay = 0 when there is no
 * per-element decay array. lw = the lerp weight w (or 1 - w with BIG).
 */
export function adamF32(
  param: usize, grad: usize, decay: usize, m: usize, v: usize, out: usize, n: i32, flags: i32,
  wd: f64, lw: f64, beta2: f64, omb2: f64, sqrtBc2: f64, eps: f64, negStep: f64,
): void {
  const WD = f64x2.splat(wd), LW = f64x2.splat(lw), B2 = f64x2.splat(beta2), OMB2 = f64x2.splat(omb2);
  const SB = f64x2.splat(sqrtBc2), EPS = f64x2.splat(eps), NS = f64x2.splat(negStep);
  const zero = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p4 = v128.load(param + o), g4 = v128.load(grad + o), m4 = v128.load(m + o), v4 = v128.load(v + o);
    const d4 = flags & HAS_DECAY ? v128.load(decay + o) : zero;
    // Lanes 0-1, then 2-3 (moved down), each promoted exactly to double.
    const pL = f64x2.promote_low_f32x4(p4), pH = f64x2.promote_low_f32x4(high(p4));
    const gL = gradOf(pL, f64x2.promote_low_f32x4(g4), f64x2.promote_low_f32x4(d4), flags, WD);
    const gH = gradOf(pH, f64x2.promote_low_f32x4(high(g4)), f64x2.promote_low_f32x4(high(d4)), flags, WD);
    const mL = firstMoment(gL, f64x2.promote_low_f32x4(m4), flags, LW), mH = firstMoment(gH, f64x2.promote_low_f32x4(high(m4)), flags, LW);
    const vL = secondMoment(gL, f64x2.promote_low_f32x4(v4), B2, OMB2), vH = secondMoment(gH, f64x2.promote_low_f32x4(high(v4)), B2, OMB2);
    v128.store(m + o, join(mL, mH));
    v128.store(v + o, join(vL, vH));
    v128.store(out + o, join(stepped(pL, mL, vL, SB, EPS, NS), stepped(pH, mH, vH, SB, EPS, NS)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pi = <f64>load<f32>(param + o);
    const d: f64 = flags & HAS_DECAY ? <f64>load<f32>(decay + o) : 0;
    const g = gradOfScalar(pi, <f64>load<f32>(grad + o), d, flags, wd);
    const mi = firstMomentScalar(g, <f64>load<f32>(m + o), flags, lw);
    const vi = <f64>load<f32>(v + o) * beta2 + g * omb2 * g;
    store<f32>(m + o, <f32>mi);
    store<f32>(v + o, <f32>vi);
    store<f32>(out + o, <f32>(pi + (mi * negStep) / (Math.sqrt(vi) / sqrtBc2 + eps)));
  }
}

/** Lanes 2, 3 of x moved to 0, 1. */
@inline function high(x: v128): v128 {
  return i32x4.shuffle(x, x, 2, 3, 0, 1);
}

/** Two f64x2 rounded to float32 and packed into one f32x4 (lo lanes first). */
@inline function join(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Float64 Adam step: as adamF32 without conversions. */
export function adamF64(
  param: usize, grad: usize, decay: usize, m: usize, v: usize, out: usize, n: i32, flags: i32,
  wd: f64, lw: f64, beta2: f64, omb2: f64, sqrtBc2: f64, eps: f64, negStep: f64,
): void {
  const WD = f64x2.splat(wd), LW = f64x2.splat(lw), B2 = f64x2.splat(beta2), OMB2 = f64x2.splat(omb2);
  const SB = f64x2.splat(sqrtBc2), EPS = f64x2.splat(eps), NS = f64x2.splat(negStep);
  const zero = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const p2 = v128.load(param + o);
    const g = gradOf(p2, v128.load(grad + o), flags & HAS_DECAY ? v128.load(decay + o) : zero, flags, WD);
    const m2 = firstMoment(g, v128.load(m + o), flags, LW);
    const v2 = secondMoment(g, v128.load(v + o), B2, OMB2);
    v128.store(m + o, m2);
    v128.store(v + o, v2);
    v128.store(out + o, stepped(p2, m2, v2, SB, EPS, NS));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const pi = load<f64>(param + o);
    const d: f64 = flags & HAS_DECAY ? load<f64>(decay + o) : 0;
    const g = gradOfScalar(pi, load<f64>(grad + o), d, flags, wd);
    const mi = firstMomentScalar(g, load<f64>(m + o), flags, lw);
    const vi = load<f64>(v + o) * beta2 + g * omb2 * g;
    store<f64>(m + o, mi);
    store<f64>(v + o, vi);
    store<f64>(out + o, pi + (mi * negStep) / (Math.sqrt(vi) / sqrtBc2 + eps));
  }
}

/**
 * Float32 RMSprop step (no momentum, not centred) over n elements, the bits of src/optim/rmsprop-cpu.ts's loop:
 * g = grad (+ wd p); v ← α v + ((1 − α) g) g (in place); out = p + (negLr g) / (√v + ε), all in double, the
 * parameter from the unrounded v.
 */
export function rmspropF32(param: usize, grad: usize, v: usize, out: usize, n: i32, hasWd: i32, wd: f64, alpha: f64, oma: f64, eps: f64, negLr: f64): void {
  const WD = f64x2.splat(wd), A = f64x2.splat(alpha), OMA = f64x2.splat(oma), EPS = f64x2.splat(eps), NL = f64x2.splat(negLr);
  const zero = f64x2.splat(0);
  const flags = hasWd ? HAS_WD : 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p4 = v128.load(param + o), g4 = v128.load(grad + o), v4 = v128.load(v + o);
    const pL = f64x2.promote_low_f32x4(p4), pH = f64x2.promote_low_f32x4(high(p4));
    const gL = gradOf(pL, f64x2.promote_low_f32x4(g4), zero, flags, WD), gH = gradOf(pH, f64x2.promote_low_f32x4(high(g4)), zero, flags, WD);
    const vL = secondMoment(gL, f64x2.promote_low_f32x4(v4), A, OMA), vH = secondMoment(gH, f64x2.promote_low_f32x4(high(v4)), A, OMA);
    v128.store(v + o, join(vL, vH));
    v128.store(out + o, join(rmsStepped(pL, gL, vL, EPS, NL), rmsStepped(pH, gH, vH, EPS, NL)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pi = <f64>load<f32>(param + o);
    const g = gradOfScalar(pi, <f64>load<f32>(grad + o), 0, flags, wd);
    const vi = <f64>load<f32>(v + o) * alpha + g * oma * g;
    store<f32>(v + o, <f32>vi);
    store<f32>(out + o, <f32>(pi + (g * negLr) / (Math.sqrt(vi) + eps)));
  }
}

/** Float64 RMSprop step: as rmspropF32 without conversions. */
export function rmspropF64(param: usize, grad: usize, v: usize, out: usize, n: i32, hasWd: i32, wd: f64, alpha: f64, oma: f64, eps: f64, negLr: f64): void {
  const WD = f64x2.splat(wd), A = f64x2.splat(alpha), OMA = f64x2.splat(oma), EPS = f64x2.splat(eps), NL = f64x2.splat(negLr);
  const zero = f64x2.splat(0);
  const flags = hasWd ? HAS_WD : 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const p2 = v128.load(param + o);
    const g = gradOf(p2, v128.load(grad + o), zero, flags, WD);
    const v2 = secondMoment(g, v128.load(v + o), A, OMA);
    v128.store(v + o, v2);
    v128.store(out + o, rmsStepped(p2, g, v2, EPS, NL));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const pi = load<f64>(param + o);
    const g = gradOfScalar(pi, load<f64>(grad + o), 0, flags, wd);
    const vi = load<f64>(v + o) * alpha + g * oma * g;
    store<f64>(v + o, vi);
    store<f64>(out + o, pi + (g * negLr) / (Math.sqrt(vi) + eps));
  }
}

/** p + (negLr g) / (√v + ε) on two double lanes. */
@inline function rmsStepped(p: v128, g: v128, v: v128, eps: v128, negLr: v128): v128 {
  return f64x2.add(p, f64x2.div(f64x2.mul(g, negLr), f64x2.add(f64x2.sqrt(v), eps)));
}

/** Index of the first NaN or ±Infinity among n float32 values, or -1 (x - x is NaN exactly for those). */
export function firstNonFiniteF32(x: usize, n: i32): i32 {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const bad = v128.or(
      v128.or(f32x4.ne(f32x4.sub(a, a), f32x4.splat(0)), f32x4.ne(f32x4.sub(b, b), f32x4.splat(0))),
      v128.or(f32x4.ne(f32x4.sub(c, c), f32x4.splat(0)), f32x4.ne(f32x4.sub(d, d), f32x4.splat(0))),
    );
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}

/** As firstNonFiniteF32 for float64 values. */
export function firstNonFiniteF64(x: usize, n: i32): i32 {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 3);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const bad = v128.or(
      v128.or(f64x2.ne(f64x2.sub(a, a), f64x2.splat(0)), f64x2.ne(f64x2.sub(b, b), f64x2.splat(0))),
      v128.or(f64x2.ne(f64x2.sub(c, c), f64x2.splat(0)), f64x2.ne(f64x2.sub(d, d), f64x2.splat(0))),
    );
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    const v = load<f64>(x + (<usize>i << 3));
    if (v - v != 0) return i;
  }
  return -1;
}
