// Fused CPU Adam update: one pass over typed arrays, rounding after every operation exactly as the op-by-op path does.

import type { CpuBuffer } from '../backend/cpu/cpu-backend.js';
import { Tensor } from '../core/tensor.js';
import { residentKernels, WASM_MIN_ELEMENTS } from '../backend/cpu/wasm-elementwise.js';
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

/**
 * g  = grad + wd·p + d ⊙ p;  m = lerp(m0, g, 1-β1);  v = β2 v0 + (1-β2) g·g;
 * p' = p + (-lr/bc1)·m / (√v / √bc2 + ε)
 * Intermediates are computed in float64 and rounded once when stored (the op-by-op path rounds
 * after every operation; the two agree to float32 precision). The moment buffers m0 and v0 belong to
 * the optimizer and are updated in place (returned as m and v); the parameter gets a new tensor,
 * since snapshots of earlier values may still hold the old one.
 */
export function fusedAdamStep(
  param: Tensor, grad: Tensor, m0: Tensor | undefined, v0: Tensor | undefined, s: AdamScalars, decay?: Tensor,
): { value: Tensor; m: Tensor; v: Tensor } {
  const b = param.backend;
  const n = param.size;
  const make = (buf: CpuBuffer): Tensor => new Tensor(b, buf, param.shape, param.dtype);
  const out = b.alloc(n, param.dtype) as CpuBuffer;
  // Fresh buffers start at zero, which is what the first step's formulas read.
  const m = m0 ?? make(b.alloc(n, param.dtype) as CpuBuffer);
  const v = v0 ?? make(b.alloc(n, param.dtype) as CpuBuffer);
  const p = data(param);
  const g = data(grad);
  const M = data(m);
  const V = data(v);
  const P = out.data;
  // A one-element decay is a weight decay: fold it into wd so the loop reads one array less.
  const D = decay && decay.size === n && n > 1 ? data(decay) : null;
  const wd = s.weightDecay + (decay && D === null ? data(decay)[0] : 0);
  const w = s.lerpWeight;
  const big = Math.abs(w) >= 0.5;
  const lw = big ? 1 - w : w;
  const { beta2, oneMinusBeta2, sqrtBc2, eps, negStepSize } = s;
  // In the tensor heap: the same loop in Wasm SIMD (assembly/optim.ts), the same bits.
  const k = n >= WASM_MIN_ELEMENTS ? residentKernels(D ? [p, g, M, V, P, D] : [p, g, M, V, P]) : null;
  if (k !== null) {
    const flags = (wd !== 0 ? 1 : 0) | (D ? 2 : 0) | (big ? 4 : 0);
    (P instanceof Float32Array ? k.adamF32 : k.adamF64)(
      p.byteOffset, g.byteOffset, D ? D.byteOffset : 0, M.byteOffset, V.byteOffset, P.byteOffset, n, flags,
      wd, lw, beta2, oneMinusBeta2, sqrtBc2, eps, negStepSize,
    );
    return { value: make(out), m, v };
  }
  for (let i = 0; i < n; i++) {
    const pi = p[i];
    let gi = g[i];
    if (wd !== 0) gi += pi * wd;
    if (D !== null) gi += D[i] * pi;
    const m0i = M[i];
    const d = gi - m0i;
    const mi = big ? gi - d * lw : m0i + d * lw;
    const vi = V[i] * beta2 + gi * oneMinusBeta2 * gi;
    M[i] = mi;
    V[i] = vi;
    P[i] = pi + (mi * negStepSize) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
  return { value: make(out), m, v };
}
