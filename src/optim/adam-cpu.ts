// Fused CPU Adam update: one pass over typed arrays, rounding after every operation exactly as the op-by-op path does.

import type { CpuBuffer } from '../backend/cpu/cpu-backend.js';
import { Tensor } from '../core/tensor.js';

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

/** Whether the fused path applies: every tensor in CPU storage (no amsgrad, handled by the caller). */
export function fusedAdamApplies(...ts: Tensor[]): boolean {
  return ts.every((t) => t.backend.name === 'cpu');
}

function data(t: Tensor): Float32Array | Float64Array {
  return (t.buffer as CpuBuffer).data;
}

/**
 * g  = grad + wd·p;  m = lerp(m0, g, 1-β1);  v = β2 v0 + (1-β2) g·g;
 * p' = p + (-lr/bc1)·m / (√v / √bc2 + ε)
 */
export function fusedAdamStep(param: Tensor, grad: Tensor, m0: Tensor | undefined, v0: Tensor | undefined, s: AdamScalars): { value: Tensor; m: Tensor; v: Tensor } {
  const b = param.backend;
  const n = param.size;
  const out = b.alloc(n, param.dtype) as CpuBuffer;
  const mb = b.alloc(n, param.dtype) as CpuBuffer;
  const vb = b.alloc(n, param.dtype) as CpuBuffer;
  const p = data(param);
  const g = data(grad);
  const M0 = m0 ? data(m0) : null;
  const V0 = v0 ? data(v0) : null;
  const P = out.data;
  const M = mb.data;
  const V = vb.data;
  const w = s.lerpWeight;
  const big = Math.abs(w) >= 0.5;
  if (param.dtype === 'float32') {
    const wd = Math.fround(s.weightDecay);
    const lw = Math.fround(big ? 1 - w : w);
    const b2 = Math.fround(s.beta2);
    const omb2 = Math.fround(s.oneMinusBeta2);
    const sb = Math.fround(s.sqrtBc2);
    const eps = Math.fround(s.eps);
    const ns = Math.fround(s.negStepSize);
    for (let i = 0; i < n; i++) {
      const gi = s.weightDecay !== 0 ? Math.fround(g[i] + Math.fround(p[i] * wd)) : g[i];
      const m0i = M0 ? M0[i] : 0;
      const d = Math.fround(gi - m0i);
      const mi = big ? Math.fround(gi - Math.fround(d * lw)) : Math.fround(m0i + Math.fround(d * lw));
      const vi = Math.fround(Math.fround((V0 ? V0[i] : 0) * b2) + Math.fround(Math.fround(gi * omb2) * gi));
      const denom = Math.fround(Math.fround(Math.fround(Math.sqrt(vi)) / sb) + eps);
      M[i] = mi;
      V[i] = vi;
      P[i] = Math.fround(p[i] + Math.fround(Math.fround(mi * ns) / denom));
    }
  } else {
    const lw = big ? 1 - w : w;
    for (let i = 0; i < n; i++) {
      const gi = s.weightDecay !== 0 ? g[i] + p[i] * s.weightDecay : g[i];
      const m0i = M0 ? M0[i] : 0;
      const d = gi - m0i;
      const mi = big ? gi - d * lw : m0i + d * lw;
      const vi = (V0 ? V0[i] : 0) * s.beta2 + gi * s.oneMinusBeta2 * gi;
      const denom = Math.sqrt(vi) / s.sqrtBc2 + s.eps;
      M[i] = mi;
      V[i] = vi;
      P[i] = p[i] + (mi * s.negStepSize) / denom;
    }
  }
  const make = (buf: CpuBuffer): Tensor => new Tensor(b, buf, param.shape, param.dtype);
  return { value: make(out), m: make(mb), v: make(vb) };
}
