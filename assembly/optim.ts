// Optimizer kernels over arrays in the CPU tensor heap: the fused Adam and RMSprop updates, the first non-finite gradient element and the softplus-L2 hypergradient's tail, float32 and float64, SIMD with a scalar tail.
//
// adam* give the bits of the op-by-op Adam rule (src/optim/adam-cpu.ts): each operation in the parameter's type.
// rmsprop* give the bits of the op-by-op RMSprop rule (src/optim/rmsprop-cpu.ts) the same way. f32x4 and f64x2 add,
// sub, mul, div and sqrt are the IEEE operations the primitives (and JS, with Math.fround for float32) perform.
// Pointers are byte addresses in the imported memory; arrays are 16-byte aligned.

/** Flags of adam*: weight decay present (wd != 0), per-element decay array, lerp weight >= 0.5, one decay for all. */
const HAS_WD = 1, HAS_DECAY = 2, BIG = 4, SCALAR_DECAY = 8;

/**
 * Float32 Adam step over n elements, the op-by-op rule of src/optim/adam-cpu.ts in f32x4 (every operation rounded
 * to float32 as its primitive rounds it, the scalars rounded to float32 first): m, v updated in place, out = the new
 * parameter. decay = 0 without a per-element decay array; sd = the single decay with SCALAR_DECAY.
 */
export function adamF32(
  param: usize, grad: usize, decay: usize, m: usize, v: usize, out: usize, n: i32, flags: i32,
  wd: f64, sd: f64, lw: f64, beta2: f64, omb2: f64, sqrtBc2: f64, eps: f64, negStep: f64,
): void {
  const WD = f32x4.splat(<f32>wd), SD = f32x4.splat(<f32>sd), LW = f32x4.splat(<f32>lw), B2 = f32x4.splat(<f32>beta2);
  const OMB2 = f32x4.splat(<f32>omb2), SB = f32x4.splat(<f32>sqrtBc2), EPS = f32x4.splat(<f32>eps), NS = f32x4.splat(<f32>negStep);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(param + o), m0 = v128.load(m + o), v0 = v128.load(v + o);
    let g = v128.load(grad + o);
    if (flags & HAS_WD) g = f32x4.add(g, f32x4.mul(p, WD));
    if (flags & HAS_DECAY) g = f32x4.add(g, f32x4.mul(v128.load(decay + o), p));
    else if (flags & SCALAR_DECAY) g = f32x4.add(g, f32x4.mul(SD, p));
    const diff = f32x4.sub(g, m0);
    const mm = flags & BIG ? f32x4.sub(g, f32x4.mul(diff, LW)) : f32x4.add(m0, f32x4.mul(diff, LW));
    const vv = f32x4.add(f32x4.mul(v0, B2), f32x4.mul(f32x4.mul(g, OMB2), g));
    v128.store(m + o, mm);
    v128.store(v + o, vv);
    v128.store(out + o, f32x4.add(p, f32x4.div(f32x4.mul(mm, NS), f32x4.add(f32x4.div(f32x4.sqrt(vv), SB), EPS))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(param + o), m0 = load<f32>(m + o), v0 = load<f32>(v + o);
    let g = load<f32>(grad + o);
    if (flags & HAS_WD) g = g + p * <f32>wd;
    if (flags & HAS_DECAY) g = g + load<f32>(decay + o) * p;
    else if (flags & SCALAR_DECAY) g = g + <f32>sd * p;
    const diff = g - m0;
    const mm: f32 = flags & BIG ? g - diff * <f32>lw : m0 + diff * <f32>lw;
    const vv: f32 = v0 * <f32>beta2 + g * <f32>omb2 * g;
    store<f32>(m + o, mm);
    store<f32>(v + o, vv);
    store<f32>(out + o, p + (mm * <f32>negStep) / (sqrt<f32>(vv) / <f32>sqrtBc2 + <f32>eps));
  }
}

/** Float64 Adam step: adamF32's operations in double. */
export function adamF64(
  param: usize, grad: usize, decay: usize, m: usize, v: usize, out: usize, n: i32, flags: i32,
  wd: f64, sd: f64, lw: f64, beta2: f64, omb2: f64, sqrtBc2: f64, eps: f64, negStep: f64,
): void {
  const WD = f64x2.splat(wd), SD = f64x2.splat(sd), LW = f64x2.splat(lw), B2 = f64x2.splat(beta2);
  const OMB2 = f64x2.splat(omb2), SB = f64x2.splat(sqrtBc2), EPS = f64x2.splat(eps), NS = f64x2.splat(negStep);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const p = v128.load(param + o), m0 = v128.load(m + o), v0 = v128.load(v + o);
    let g = v128.load(grad + o);
    if (flags & HAS_WD) g = f64x2.add(g, f64x2.mul(p, WD));
    if (flags & HAS_DECAY) g = f64x2.add(g, f64x2.mul(v128.load(decay + o), p));
    else if (flags & SCALAR_DECAY) g = f64x2.add(g, f64x2.mul(SD, p));
    const diff = f64x2.sub(g, m0);
    const mm = flags & BIG ? f64x2.sub(g, f64x2.mul(diff, LW)) : f64x2.add(m0, f64x2.mul(diff, LW));
    const vv = f64x2.add(f64x2.mul(v0, B2), f64x2.mul(f64x2.mul(g, OMB2), g));
    v128.store(m + o, mm);
    v128.store(v + o, vv);
    v128.store(out + o, f64x2.add(p, f64x2.div(f64x2.mul(mm, NS), f64x2.add(f64x2.div(f64x2.sqrt(vv), SB), EPS))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const p = load<f64>(param + o), m0 = load<f64>(m + o), v0 = load<f64>(v + o);
    let g = load<f64>(grad + o);
    if (flags & HAS_WD) g = g + p * wd;
    if (flags & HAS_DECAY) g = g + load<f64>(decay + o) * p;
    else if (flags & SCALAR_DECAY) g = g + sd * p;
    const diff = g - m0;
    const mm = flags & BIG ? g - diff * lw : m0 + diff * lw;
    const vv = v0 * beta2 + g * omb2 * g;
    store<f64>(m + o, mm);
    store<f64>(v + o, vv);
    store<f64>(out + o, p + (mm * negStep) / (Math.sqrt(vv) / sqrtBc2 + eps));
  }
}

// RMSprop's steps on two double lanes (f64x2) and on one double:
//   g ← grad (+ wd p);  v ← α v + ((1 − α) g) g;  p ← p + (negLr g) / (√v + ε)
@inline function gradOf(p: v128, g: v128, flags: i32, wd: v128): v128 {
  return flags & HAS_WD ? f64x2.add(g, f64x2.mul(p, wd)) : g;
}

@inline function secondMoment(g: v128, v0: v128, beta2: v128, omb2: v128): v128 {
  return f64x2.add(f64x2.mul(v0, beta2), f64x2.mul(f64x2.mul(g, omb2), g));
}

@inline function gradOfScalar(p: f64, g: f64, flags: i32, wd: f64): f64 {
  return flags & HAS_WD ? g + p * wd : g;
}

/**
 * Float32 RMSprop step (no momentum, not centred) over n elements, the op-by-op rule of src/optim/rmsprop-cpu.ts in
 * f32x4 (every operation rounded to float32 as its primitive rounds it, the scalars rounded to float32 first):
 * v updated in place, out = the new parameter.
 */
export function rmspropF32(param: usize, grad: usize, v: usize, out: usize, n: i32, hasWd: i32, wd: f64, alpha: f64, oma: f64, eps: f64, negLr: f64): void {
  const WD = f32x4.splat(<f32>wd), A = f32x4.splat(<f32>alpha), OMA = f32x4.splat(<f32>oma), EPS = f32x4.splat(<f32>eps), NL = f32x4.splat(<f32>negLr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(param + o);
    let g = v128.load(grad + o);
    if (hasWd) g = f32x4.add(g, f32x4.mul(p, WD));
    const vv = f32x4.add(f32x4.mul(v128.load(v + o), A), f32x4.mul(f32x4.mul(g, OMA), g));
    v128.store(v + o, vv);
    v128.store(out + o, f32x4.add(p, f32x4.div(f32x4.mul(g, NL), f32x4.add(f32x4.sqrt(vv), EPS))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(param + o);
    let g = load<f32>(grad + o);
    if (hasWd) g = g + p * <f32>wd;
    const vv: f32 = load<f32>(v + o) * <f32>alpha + g * <f32>oma * g;
    store<f32>(v + o, vv);
    store<f32>(out + o, p + (g * <f32>negLr) / (sqrt<f32>(vv) + <f32>eps));
  }
}

/** Float64 RMSprop step: rmspropF32's operations in double. */
export function rmspropF64(param: usize, grad: usize, v: usize, out: usize, n: i32, hasWd: i32, wd: f64, alpha: f64, oma: f64, eps: f64, negLr: f64): void {
  const WD = f64x2.splat(wd), A = f64x2.splat(alpha), OMA = f64x2.splat(oma), EPS = f64x2.splat(eps), NL = f64x2.splat(negLr);
  const flags = hasWd ? HAS_WD : 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const p2 = v128.load(param + o);
    const g = gradOf(p2, v128.load(grad + o), flags, WD);
    const v2 = secondMoment(g, v128.load(v + o), A, OMA);
    v128.store(v + o, v2);
    v128.store(out + o, rmsStepped(p2, g, v2, EPS, NL));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const pi = load<f64>(param + o);
    const g = gradOfScalar(pi, load<f64>(grad + o), flags, wd);
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

/**
 * The softplus-L2 hypergradient's tail in one pass over n float32 values: out = d − (x·w)·dc, each operation rounded
 * to float32 as the composite sub(d, mul(mul(x, w), dc)) rounds it; d = 0 (no direct term) reads as +0, so the
 * result is 0 − (x·w)·dc exactly as with a zero tensor. Four operands read, one written, where the composite makes
 * three passes and two temporaries.
 */
export function l2HypergradTailF32(d: usize, x: usize, w: usize, dc: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const m = f32x4.mul(f32x4.mul(v128.load(x + o), v128.load(w + o)), v128.load(dc + o));
    v128.store(out + o, f32x4.sub(d == 0 ? zero : v128.load(d + o), m));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const m = load<f32>(x + o) * load<f32>(w + o) * load<f32>(dc + o);
    store<f32>(out + o, (d == 0 ? <f32>0 : load<f32>(d + o)) - m);
  }
}

/** l2HypergradTailF32 for doubles. */
export function l2HypergradTailF64(d: usize, x: usize, w: usize, dc: usize, out: usize, n: i32): void {
  const zero = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const m = f64x2.mul(f64x2.mul(v128.load(x + o), v128.load(w + o)), v128.load(dc + o));
    v128.store(out + o, f64x2.sub(d == 0 ? zero : v128.load(d + o), m));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const m = load<f64>(x + o) * load<f64>(w + o) * load<f64>(dc + o);
    store<f64>(out + o, (d == 0 ? 0 : load<f64>(d + o)) - m);
  }
}
