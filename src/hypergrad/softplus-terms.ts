// The L2 meta-knowledge's per-λ terms s = softplus(λ), c = 2 s², dc/dλ = 4 s σ(λ): one fused Wasm pass on the CPU tensor heap, the composites elsewhere, the same bits.

import type { CpuBackend } from '../backend/cpu/cpu-backend.js';
import { residentKernels, WASM_MIN_ELEMENTS } from '../backend/cpu/wasm-elementwise.js';
import { mul } from '../core/ops.js';
import { noGrad, Tensor } from '../core/tensor.js';
import { sigmoid, softplus } from '../ops/activations.js';
import { cpuData } from '../optim/cpu-storage.js';

export interface SoftplusTerms {
  /** softplus(λ) */
  s: Tensor;
  /** (s·s)·2: the inner steps' decay coefficient, ∇_w Σ (s w)² = c ⊙ w */
  c: Tensor;
  /** (s·σ(λ))·4 = dc/dλ: the closed-form mixed term's factor */
  dc: Tensor;
}

/**
 * s, c and dc of one λ tensor, without a graph. The composites take six passes over λ (softplus, σ and four products,
 * the exponential twice); on the CPU heap one Wasm pass (assembly/elementwise.ts, softplusTerms*) computes e^{−|λ|}
 * once and rounds every step as the composites do.
 */
export function softplusTerms(l: Tensor): SoftplusTerms {
  return noGrad(() => {
    if (l.backend.name === 'cpu' && l.size >= WASM_MIN_ELEMENTS) {
      const x = cpuData(l);
      const be = l.backend as CpuBackend;
      const [bs, bc, bdc] = [0, 1, 2].map(() => be.allocUnzeroed(l.size, l.dtype));
      const k = residentKernels([x, bs!.data, bc!.data, bdc!.data]);
      if (k !== null) {
        (x instanceof Float32Array ? k.softplusTermsF32 : k.softplusTermsF64)(x.byteOffset, bs!.data.byteOffset, bc!.data.byteOffset, bdc!.data.byteOffset, l.size);
        const make = (b: typeof bs): Tensor => new Tensor(be, b!, l.shape, l.dtype);
        return { s: make(bs), c: make(bc), dc: make(bdc) };
      }
      for (const b of [bs, bc, bdc]) be.free(b!);
    }
    const s = softplus(l);
    return { s, c: mul(mul(s, s), 2), dc: mul(mul(s, sigmoid(l)), 4) };
  });
}
