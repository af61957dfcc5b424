// The transductive alternative to the Confidence Network (Ren et al. 2020): one learned weight per unlabelled image, w_i = softplus(s_i), gathered for a batch differentiably with respect to the table.

import { full, type CreateOptions } from '../core/creation.js';
import { gather } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { softplus } from '../ops/activations.js';

/** softplus⁻¹(1) = log(e - 1): the score whose weight is exactly 1. */
export const UNIT_WEIGHT_SCORE = Math.log(Math.E - 1);

/**
 * A table of scores s ∈ ℝⁿ, one per image of the unlabelled pool (pool index i ↔ s_i). Its meta-parameters
 * ω = [s] (one tensor of shape [n]) go where hypergradient() takes λ. Unlike the Confidence Network it cannot
 * weigh an image it has not seen; it learns no features, only one number per image.
 */
export class SampleWeightTable {
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`SampleWeightTable: size must be a positive integer, got ${size}`);
  }

  /** ω⁽⁰⁾ = [s] with every s_i = softplus⁻¹(1), so every weight starts at 1 (FixMatch's unweighted loss). */
  init(opts: CreateOptions = {}): Tensor[] {
    return [full([this.size], UNIT_WEIGHT_SCORE, opts)];
  }

  /**
   * The batch's weights w_b = softplus(s_{indices[b]}) ([indices.length]; repeats allowed).
   * Derivative: ∂w_b/∂s_j = σ(s_j) 1(indices[b] = j), i.e. the pullback of a cotangent g is
   * scatterAdd(σ(s_idx) ⊙ g) — gather's VJP rule (scatter-add, so a repeated index sums its cotangents)
   * composed with softplus's; no new primitive is needed.
   */
  weightsFor(omega: readonly Tensor[], indices: ArrayLike<number>): Tensor {
    if (omega.length !== 1) throw new Error(`SampleWeightTable.weightsFor: ω must be one tensor [${this.size}], got ${omega.length} tensors`);
    const [s] = omega;
    if (s.rank !== 1 || s.shape[0] !== this.size) throw new Error(`SampleWeightTable.weightsFor: ω[0] must be [${this.size}], got ${s.describe()}`);
    if (indices.length === 0) throw new Error('SampleWeightTable.weightsFor: no indices given');
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b];
      if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new Error(`SampleWeightTable.weightsFor: index ${i} at position ${b} is outside the pool [0, ${this.size})`);
    }
    return softplus(gather(s, indices, 0));
  }
}
