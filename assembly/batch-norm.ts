// Batch norm's float32 passes over one channel's run of values in the CPU tensor heap, each the bits of the JS loop it replaces (src/backend/cpu/batch-norm.ts): squared deviations, the normalise + affine pass, and the backward's γ̄ and x̄ runs.

import { combine } from './lanes';

/**
 * Σ ((x_i − u)²) over n floats, the difference and the square each rounded to float32 (the composite's sub and mul),
 * summed in float64 in the fixed 8-way order (assembly/dot.ts): squaredDeviationsRun's bits.
 */
export function bnSqDevF32(x: usize, n: i32, u: f32): f64 {
  const uv = f32x4.splat(u);
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const d0 = f32x4.sub(v128.load(x + o), uv), d1 = f32x4.sub(v128.load(x + o, 16), uv);
    const q0 = f32x4.mul(d0, d0), q1 = f32x4.mul(d1, d1);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(q0));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(q0, q0, 2, 3, 0, 1)));
    s2 = f64x2.add(s2, f64x2.promote_low_f32x4(q1));
    s3 = f64x2.add(s3, f64x2.promote_low_f32x4(i32x4.shuffle(q1, q1, 2, 3, 0, 1)));
  }
  let s = combine(s0, s1, s2, s3);
  for (; i < n; i++) {
    const d = load<f32>(x + (<usize>i << 2)) - u;
    s += <f64>(d * d);
  }
  return s;
}

/** out_i = ((x_i − u) / d) · g + b over n floats, every operation rounded to float32 (batchNormTrainKernel). */
export function bnTrainF32(x: usize, n: i32, u: f32, d: f32, g: f32, b: f32, out: usize): void {
  const uv = f32x4.splat(u), dv = f32x4.splat(d), gv = f32x4.splat(g), bv = f32x4.splat(b);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(f32x4.mul(f32x4.div(f32x4.sub(v128.load(x + o), uv), dv), gv), bv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, (load<f32>(x + o) - u) / d * g + b);
  }
}

/** Σ g_i (x_i − u) over n floats in float64, one chain in index order (batchNormGradGammaKernel's run). */
export function bnGradGammaF32(g: usize, x: usize, n: i32, u: f64): f64 {
  let t: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    t += <f64>load<f32>(g + o) * (<f64>load<f32>(x + o) - u);
  }
  return t;
}

/** out_i = a ((g_i − b0) − (x_i − u) k) in float64, rounded once to float32 (batchNormGradInputKernel's run). */
export function bnGradInputF32(g: usize, x: usize, n: i32, u: f64, a: f64, b0: f64, k: f64, out: usize): void {
  const uv = f64x2.splat(u), av = f64x2.splat(a), bv = f64x2.splat(b0), kv = f64x2.splat(k);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gg = v128.load(g + o), xx = v128.load(x + o);
    const lo = f64x2.mul(av, f64x2.sub(f64x2.sub(f64x2.promote_low_f32x4(gg), bv), f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(xx), uv), kv)));
    const gh = i32x4.shuffle(gg, gg, 2, 3, 0, 1), xh = i32x4.shuffle(xx, xx, 2, 3, 0, 1);
    const hi = f64x2.mul(av, f64x2.sub(f64x2.sub(f64x2.promote_low_f32x4(gh), bv), f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(xh), uv), kv)));
    v128.store(out + o, i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>(a * ((<f64>load<f32>(g + o) - b0) - (<f64>load<f32>(x + o) - u) * k)));
  }
}
