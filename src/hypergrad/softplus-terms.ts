// The L2 meta-knowledge's per-λ terms c = 2 s², dc/dλ = 4 s σ(λ) with s = softplus(λ): one fused Wasm pass on the CPU tensor heap, the composites elsewhere, the same bits.

import type { CpuBackend } from '../backend/cpu/cpu-backend.js';
import { wasmSoftplusTerms, WASM_MIN_ELEMENTS } from '../backend/cpu/wasm-elementwise.js';
import { mul } from '../core/ops.js';
import { noGrad, Tensor } from '../core/tensor.js';
import { sigmoid, softplus } from '../ops/activations.js';
import { cpuData } from '../optim/cpu-storage.js';

export interface SoftplusTerms {
  /** (s·s)·2, s = softplus(λ): the inner steps' decay coefficient, ∇_w Σ (s w)² = c ⊙ w */
  c: Tensor;
  /** (s·σ(λ))·4 = dc/dλ: the closed-form mixed term's factor */
  dc: Tensor;
}

/**
 * c and dc of one λ tensor, without a graph. The composites take six passes over λ (softplus, σ and four products,
 * the exponential twice); on the CPU heap one Wasm pass (assembly/elementwise.ts, softplusTerms*) computes e^{−|λ|}
 * once, rounds every step as the composites do, and writes only c and dc (s itself is not kept).
 */
export function softplusTerms(l: Tensor): SoftplusTerms {
  return noGrad(() => {
    if (l.backend.name === 'cpu' && l.size >= WASM_MIN_ELEMENTS) {
      const x = cpuData(l);
      const be = l.backend as CpuBackend;
      const [bc, bdc] = [0, 1].map(() => be.allocUnzeroed(l.size, l.dtype));
      if (wasmSoftplusTerms(x, bc!.data, bdc!.data)) {
        const make = (b: typeof bc): Tensor => new Tensor(be, b!, l.shape, l.dtype);
        return { c: make(bc), dc: make(bdc) };
      }
      for (const b of [bc, bdc]) be.free(b!);
    }
    const s = softplus(l);
    return { c: mul(mul(s, s), 2), dc: mul(mul(s, sigmoid(l)), 4) };
  });
}
