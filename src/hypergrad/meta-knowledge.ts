// Meta-knowledge: hyperparameters λ and how they enter the training loss (per-parameter or per-layer L2 via softplus).

import { full, randn } from '../core/creation.js';
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

/**
 * A fixed, not learned, L2 weight c on every parameter: penalty (c/2) Σ ||w_i||², so the inner steps add
 * c ⊙ w to the gradient exactly like PyTorch's `weight_decay=c` (the grid-searched baseline, thesis A.2).
 */
export function fixedL2(params: readonly Parameter[], c: number): MetaKnowledge {
  if (!Number.isFinite(c) || c < 0) throw new Error(`fixedL2: the L2 weight must be a finite non-negative number, got ${c}`);
  const coefs = params.map((p) => full([], c, { dtype: p.value.dtype, backend: p.value.backend }));
  return {
    kind: `fixed L2 ${c}`,
    names: [],
    init: () => [],
    penalty: (w) => {
      let total: Tensor | null = null;
      for (const wi of w) {
        const term = mul(sum(mul(wi, wi)), c / 2);
        total = total === null ? term : add(total, term);
      }
      return total;
    },
    decayCoefficients: () => coefs,
  };
}

/** No regularisation (the baseline). */
export function noMetaKnowledge(): MetaKnowledge {
  return { kind: 'none', names: [], init: () => [], penalty: () => null, decayCoefficients: () => null };
}
