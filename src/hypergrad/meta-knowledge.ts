// Meta-knowledge: hyperparameters λ and how they enter the training loss (per-parameter or per-layer L2 via softplus).

import { randn } from '../core/creation.js';
import { add, mul, sum } from '../core/ops.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import { softplus } from '../ops/activations.js';
import type { Parameter } from '../nn/module.js';
import type { Random } from '../util/random.js';

/**
 * A family of hyperparameters. `penalty(w, λ)` is added to the training loss; the hypergradient
 * code only needs this function, so other meta-knowledge (per-sample weights) plugs in the same way
 * by defining its own training-loss term.
 */
export interface MetaKnowledge {
  readonly kind: string;
  /** Names of the λ tensors, for reports and checkpoints. */
  readonly names: string[];
  init(rng: Random): Tensor[];
  penalty(w: readonly Tensor[], lam: readonly Tensor[]): Tensor | null;
  /**
   * For a penalty quadratic in w: coefficients c_i (one per weight tensor, broadcastable) with
   * ∇_w penalty = c_i ⊙ w_i at fixed λ. Inner training steps add c ⊙ w to the data-loss gradient
   * instead of differentiating the penalty (2 elementwise passes instead of ~12). Null: no penalty.
   */
  decayCoefficients(lam: readonly Tensor[]): Tensor[] | null;
}

/** ∇_w Σ (s w)² = 2 s² w with s = softplus(λ): c = 2 softplus(λ)², computed without a graph. */
function doubledSquaredSoftplus(lam: readonly Tensor[], groupOf: readonly number[]): Tensor[] {
  const c = noGrad(() => lam.map((l) => {
    const s = softplus(l);
    return mul(mul(s, s), 2);
  }));
  return groupOf.map((g) => c[g]);
}

export interface L2InitOptions {
  /** λ ~ N(mean, std²) before softplus (softplus(-3) ≈ 0.049). */
  mean?: number;
  std?: number;
}

/** Σ_i (softplus(λ_i) w_i)² with λ shaped like each weight tensor (thesis meta-knowledge 1). */
export function perParameterL2(params: readonly Parameter[], opts: L2InitOptions = {}): MetaKnowledge {
  const mean = opts.mean ?? -3;
  const std = opts.std ?? 0.5;
  return {
    kind: 'per-parameter L2',
    names: params.map((p) => `${p.name}.l2`),
    init: (rng) => params.map((p) => add(randn(p.value.shape, rng, std, { dtype: p.value.dtype, backend: p.value.backend }), mean)),
    penalty: (w, lam) => {
      let total: Tensor | null = null;
      w.forEach((wi, i) => {
        const r = mul(softplus(lam[i]), wi);
        const term = sum(mul(r, r));
        total = total === null ? term : add(total, term);
      });
      return total;
    },
    decayCoefficients: (lam) => doubledSquaredSoftplus(lam, params.map((_, i) => i)),
  };
}

/**
 * One λ per group of parameters: softplus(λ_g)² Σ_{i∈g} ||w_i||² (thesis meta-knowledge 2).
 * `groupBy: 'tensor'` gives each weight and bias tensor its own λ (the thesis' "single element for
 * each layer parameter"); 'layer' shares one λ between the tensors of a layer.
 */
export function perLayerL2(params: readonly Parameter[], opts: L2InitOptions & { groupBy?: 'tensor' | 'layer' } = {}): MetaKnowledge {
  const mean = opts.mean ?? -3;
  const std = opts.std ?? 0.5;
  const byLayer = opts.groupBy === 'layer';
  const groups = byLayer ? [...new Set(params.map((p) => p.layer))] : params.map((p) => p.name);
  const groupOf = params.map((p) => groups.indexOf(byLayer ? p.layer : p.name));
  return {
    kind: byLayer ? 'per-layer L2' : 'per-tensor L2',
    names: groups.map((g) => `${g}.l2`),
    init: (rng) => groups.map(() => add(randn([], rng, std, { dtype: params[0].value.dtype, backend: params[0].value.backend }), mean)),
    penalty: (w, lam) => {
      let total: Tensor | null = null;
      w.forEach((wi, i) => {
        const s = softplus(lam[groupOf[i]]);
        const term = mul(mul(s, s), sum(mul(wi, wi)));
        total = total === null ? term : add(total, term);
      });
      return total;
    },
    decayCoefficients: (lam) => doubledSquaredSoftplus(lam, groupOf),
  };
}

/** No regularisation (the baseline). */
export function noMetaKnowledge(): MetaKnowledge {
  return { kind: 'none', names: [], init: () => [], penalty: () => null, decayCoefficients: () => null };
}
