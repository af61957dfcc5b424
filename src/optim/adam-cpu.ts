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
 * g  = grad + wd·p + d ⊙ p;  m = lerp(m0, g, 1-β1);  v = β2 v0 + (1-β2) g·g;
 * p' = p + (-lr/bc1)·m / (√v / √bc2 + ε)
 * Intermediates are computed in float64 and rounded once when stored (the op-by-op path rounds
 * after every operation; the two agree to float32 precision).
 */
export function fusedAdamStep(
  param: Tensor, grad: Tensor, m0: Tensor | undefined, v0: Tensor | undefined, s: AdamScalars, decay?: Tensor,
): { value: Tensor; m: Tensor; v: Tensor } {
  const b = param.backend;
  const n = param.size;
  const out = b.alloc(n, param.dtype) as CpuBuffer;
  const mb = b.alloc(n, param.dtype) as CpuBuffer;
  const vb = b.alloc(n, param.dtype) as CpuBuffer;
  const p = data(param);
  const g = data(grad);
  const M0 = m0 ? data(m0) : null;
  const V0 = v0 ? data(v0) : null;
  const D = decay ? data(decay) : null;
  const dStride = D && D.length === n ? 1 : 0;
  const P = out.data;
  const M = mb.data;
  const V = vb.data;
  const w = s.lerpWeight;
  const big = Math.abs(w) >= 0.5;
  const lw = big ? 1 - w : w;
  const wd = s.weightDecay;
  const { beta2, oneMinusBeta2, sqrtBc2, eps, negStepSize } = s;
  for (let i = 0; i < n; i++) {
    const pi = p[i];
    let gi = g[i];
    if (wd !== 0) gi += pi * wd;
    if (D !== null) gi += D[i * dStride] * pi;
    const m0i = M0 !== null ? M0[i] : 0;
    const d = gi - m0i;
    const mi = big ? gi - d * lw : m0i + d * lw;
    const vi = (V0 !== null ? V0[i] : 0) * beta2 + gi * oneMinusBeta2 * gi;
    M[i] = mi;
    V[i] = vi;
    P[i] = pi + (mi * negStepSize) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
  const make = (buf: CpuBuffer): Tensor => new Tensor(b, buf, param.shape, param.dtype);
  return { value: make(out), m: make(mb), v: make(vb) };
}
