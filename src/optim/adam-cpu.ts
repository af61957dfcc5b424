// Fused CPU Adam update: one pass over the arrays, rounding after every operation exactly as the op-by-op rule does (so the same bits), in Wasm SIMD on the tensor heap.

import type { CpuBackend, CpuBuffer } from '../backend/cpu/cpu-backend.js';
import { residentKernels, WASM_MIN_ELEMENTS } from '../backend/cpu/wasm-elementwise.js';
import { Tensor } from '../core/tensor.js';
import { cpuData as data } from './cpu-storage.js';

export interface AdamScalars {
  weightDecay: number;
  /** 1 - β1 (the lerp weight). */
  lerpWeight: number;
  beta2: number;
  oneMinusBeta2: number;
  sqrtBc2: number;
  eps: number;
  negStepSize: number;
}

/** Flags of the Wasm kernels (assembly/optim.ts). */
const HAS_WD = 1, HAS_DECAY = 2, BIG = 4, SCALAR_DECAY = 8;

/**
 * The op-by-op Adam rule of src/optim/adam.ts (Adam.update's generic path) in one pass, every operation rounded to the
 * parameter's dtype as its primitive rounds it, scalars rounded to the dtype as the ops lift them:
 *   g = grad (+ p·wd) (+ d·p);  m = lerp(m0, g, w) = m0 + (g − m0)·w  (w < ½; else g − (g − m0)·(1 − w));
 *   v = v0·β2 + (g·(1 − β2))·g;  p' = p + (m·(−lr/bc1)) / (√v / √bc2 + ε)
 * Float32 in Math.fround steps on plain arrays, f32x4 in Wasm on heap arrays (IEEE operations, the same bits); float64
 * in double. m0 and v0 belong to the optimizer and are updated in place; the parameter gets a new tensor, since
 * snapshots of earlier values may still hold the old one.
 */
export function fusedAdamStep(
  param: Tensor, grad: Tensor, m0: Tensor | undefined, v0: Tensor | undefined, s: AdamScalars, decay?: Tensor,
): { value: Tensor; m: Tensor; v: Tensor } {
  const b = param.backend;
  const n = param.size;
  const make = (buf: CpuBuffer): Tensor => new Tensor(b, buf, param.shape, param.dtype);
  const out = (b as CpuBackend).allocUnzeroed(n, param.dtype); // the kernel writes every element
  // Fresh buffers start at zero, which is what the first step's formulas read.
  const m = m0 ?? make(b.alloc(n, param.dtype) as CpuBuffer);
  const v = v0 ?? make(b.alloc(n, param.dtype) as CpuBuffer);
  const p = data(param);
  const g = data(grad);
  const M = data(m);
  const V = data(v);
  const P = out.data;
  // A one-element decay multiplies every weight (broadcast, as mul(decay, param) does).
  const D = decay && decay.size === n && n > 1 ? data(decay) : null;
  const sd = decay && D === null ? data(decay)[0] : 0;
  const hasSd = decay !== undefined && D === null;
  const w = s.lerpWeight;
  const big = Math.abs(w) >= 0.5;
  const lwRaw = big ? 1 - w : w;
  const k = n >= WASM_MIN_ELEMENTS ? residentKernels(D ? [p, g, M, V, P, D] : [p, g, M, V, P]) : null;
  if (k !== null) {
    const flags = (s.weightDecay !== 0 ? HAS_WD : 0) | (D ? HAS_DECAY : 0) | (big ? BIG : 0) | (hasSd ? SCALAR_DECAY : 0);
    (P instanceof Float32Array ? k.adamF32 : k.adamF64)(
      p.byteOffset, g.byteOffset, D ? D.byteOffset : 0, M.byteOffset, V.byteOffset, P.byteOffset, n, flags,
      s.weightDecay, sd, lwRaw, s.beta2, s.oneMinusBeta2, s.sqrtBc2, s.eps, s.negStepSize,
    );
    return { value: make(out), m, v };
  }
  const hasWd = s.weightDecay !== 0;
  if (P instanceof Float32Array) {
    // Math.fround after every operation: the float32 primitive's rounding (a double holds the exact product, sum,
    // quotient or square root of two floats closely enough that rounding it once gives the float32 result).
    const wd = Math.fround(s.weightDecay), lw = Math.fround(lwRaw), beta2 = Math.fround(s.beta2), omb2 = Math.fround(s.oneMinusBeta2);
    const sqrtBc2 = Math.fround(s.sqrtBc2), eps = Math.fround(s.eps), negStep = Math.fround(s.negStepSize), sdr = Math.fround(sd);
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      let gi = g[i];
      if (hasWd) gi = Math.fround(gi + Math.fround(pi * wd));
      if (D !== null) gi = Math.fround(gi + Math.fround(D[i] * pi));
      else if (hasSd) gi = Math.fround(gi + Math.fround(sdr * pi));
      const m0i = M[i];
      const d = Math.fround(gi - m0i);
      const mi = big ? Math.fround(gi - Math.fround(d * lw)) : Math.fround(m0i + Math.fround(d * lw));
      const vi = Math.fround(Math.fround(V[i] * beta2) + Math.fround(Math.fround(gi * omb2) * gi));
      M[i] = mi;
      V[i] = vi;
      P[i] = pi + Math.fround(Math.fround(mi * negStep) / Math.fround(Math.fround(Math.fround(Math.sqrt(vi)) / sqrtBc2) + eps));
    }
    return { value: make(out), m, v };
  }
  const { weightDecay: wd, beta2, oneMinusBeta2: omb2, sqrtBc2, eps, negStepSize: negStep } = s;
  for (let i = 0; i < n; i++) {
    const pi = p[i];
    let gi = g[i];
    if (hasWd) gi += pi * wd;
    if (D !== null) gi += D[i] * pi;
    else if (hasSd) gi += sd * pi;
    const m0i = M[i];
    const d = gi - m0i;
    const mi = big ? gi - d * lwRaw : m0i + d * lwRaw;
    const vi = V[i] * beta2 + gi * omb2 * gi;
    M[i] = mi;
    V[i] = vi;
    P[i] = pi + (mi * negStep) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
  return { value: make(out), m, v };
}
