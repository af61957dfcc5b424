// Optional normalisation of a batch's unlabelled-sample weights before they multiply the FixMatch losses: none, mean (divide by the batch mean) or clip to [0, 2].

import { div, sum } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { clamp } from '../ops/elementwise.js';

export type WeightNormalisation = 'none' | 'mean' | 'clip';

export const WEIGHT_NORMALISATIONS: readonly WeightNormalisation[] = ['none', 'mean', 'clip'];

/**
 * The default: 'none', as the thesis (eq. 5.2 multiplies each L_u by C(α(u); ω) as it is; its CN outputs went
 * up to 200 and below 0 under unstable meta-steps, which a normalisation would have hidden). The warm-up puts
 * the weights at 1, so training starts from FixMatch's own loss scale; 'mean' and 'clip' are ablations.
 */
export const DEFAULT_WEIGHT_NORMALISATION: WeightNormalisation = 'none';

/**
 * W from raw weights w ([n], n >= 1), differentiably:
 * - 'none': W = w.
 * - 'mean': W_i = w_i / w̄ with w̄ = (1/n) Σ_j w_j, so mean(W) = 1: only the weights' ratios reach the loss,
 *   the overall loss scale stays FixMatch's. Over the whole batch, masked samples included (the mask is
 *   applied afterwards). Derivative: ∂W_i/∂w_j = (δ_ij - W_i / n) / w̄ (from div and sum's rules), so
 *   Σ_j w_j ∂W_i/∂w_j = 0: scaling all weights together has no gradient. Needs w̄ > 0 (C is positive).
 * - 'clip': W_i = min(max(w_i, 0), 2) (Ren et al.'s bounded weights); derivative 1 on [0, 2], 0 outside.
 */
export function normaliseWeights(w: Tensor, mode: WeightNormalisation = DEFAULT_WEIGHT_NORMALISATION): Tensor {
  if (w.rank !== 1 || w.shape[0] === 0) throw new Error(`normaliseWeights: weights must be a non-empty vector [n], got ${w.describe()}`);
  switch (mode) {
    case 'none':
      return w;
    case 'mean':
      return div(w, div(sum(w), w.shape[0]));
    case 'clip':
      return clamp(w, 0, 2);
    default:
      throw new Error(`normaliseWeights: unknown mode '${String(mode)}'; choose ${WEIGHT_NORMALISATIONS.join(', ')}`);
  }
}

/** Parses a normalisation name (CLI/config), naming the choices on a bad one. */
export function parseWeightNormalisation(s: string): WeightNormalisation {
  if ((WEIGHT_NORMALISATIONS as readonly string[]).includes(s)) return s as WeightNormalisation;
  throw new Error(`unknown weight normalisation '${s}'; choose ${WEIGHT_NORMALISATIONS.join(', ')}`);
}
