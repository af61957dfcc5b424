// Meta-knowledge: hyperparameters λ and how they enter the training loss (per-parameter or per-layer L2 via softplus).

import { keep } from '../core/scope.js';
import { full, randn, zerosLike } from '../core/creation.js';
import { shapesEqual } from '../core/shape.js';
import { add, mul, sub, sum, sumTo } from '../core/ops.js';
import { disposeWith, noGrad, type Tensor } from '../core/tensor.js';
import { softplus } from '../ops/activations.js';
import { softplusTerms, type SoftplusTerms } from './softplus-terms.js';
import { fusedTail } from './l2-hypergrad-tail.js';
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
  /**
   * The penalty's second derivatives in closed form at (w, λ), when it has one (the L2 forms here):
   * the hypergradient then differentiates only the data loss and adds these, instead of
   * differentiating the penalty's graph (~10 elementwise passes over every λ) in each HVP.
   */
  closedForm?(w: readonly Tensor[], lam: readonly Tensor[]): ClosedFormPenalty;
}

/** A training-loss term P(w, λ) whose curvature products are known in closed form. */
export interface ClosedFormPenalty {
  /** ∇²_w P · v */
  hvp(v: readonly Tensor[]): Tensor[];
  /** xᵀ ∂²P/∂w∂λ, one tensor per λ tensor */
  mixed(x: readonly Tensor[]): Tensor[];
  /**
   * direct − xᵀ ∂²P/∂w∂λ per λ tensor (a null direct term is zero), the same values as subtracting mixed(x), where a
   * fused pass can save the temporaries (the per-parameter form on the CPU heap). Optional.
   */
  subtractMixed?(direct: readonly (Tensor | null)[], x: readonly Tensor[]): Tensor[];
}

/** direct − mixed per λ tensor, a null direct term read as zero: sub(0, m), the bits of a zero tensor's difference. */
export function subtractMixedTerms(direct: readonly (Tensor | null)[], mixed: readonly Tensor[]): Tensor[] {
  return noGrad(() => mixed.map((m, i) => sub(direct[i] ?? zerosLike(m), m)));
}

/**
 * P = ½ Σ_i c_g(i)(λ) ⊙ w_i² with c = 2 softplus(λ)² (= Σ (softplus(λ) w)²), g(i) the λ tensor of weight i:
 *   ∇²_w P · v = c_g(i) ⊙ v_i
 *   xᵀ ∂²P/∂w∂λ_g = Σ_{i: g(i)=g} sumTo(x_i ⊙ w_i, shape λ_g) ⊙ dc/dλ_g,   dc/dλ = 4 softplus(λ) sigmoid(λ)
 * (sumTo sums the broadcast axes, e.g. everything for a scalar per-layer λ).
 */
function softplusL2ClosedForm(w: readonly Tensor[], lam: readonly Tensor[], groupOf: readonly number[]): ClosedFormPenalty {
  const terms = lam.map(cachedTerms);
  const form: ClosedFormPenalty = {
    hvp: (v) => noGrad(() => v.map((vi, i) => mul(terms[groupOf[i]].c, vi))),
    mixed: (x) => noGrad(() => {
      const acc: (Tensor | null)[] = lam.map(() => null);
      x.forEach((xi, i) => {
        const g = groupOf[i];
        const part = sumTo(mul(xi, w[i]), lam[g].shape);
        acc[g] = acc[g] === null ? part : add(acc[g]!, part);
      });
      return acc.map((a, g) => (a === null ? mul(lam[g], 0) : mul(a, terms[g].dc)));
    }),
  };
  // One weight tensor per λ of its shape (per-parameter L2): d − (x ⊙ w) ⊙ dc in one Wasm pass where all live in the
  // CPU heap, the composite's bits; otherwise, or for grouped λ, the composite.
  const perElement = groupOf.every((g, i) => g === i) && lam.length === w.length && lam.every((l, i) => shapesEqual(l.shape, w[i].shape));
  return {
    ...form,
    subtractMixed: (direct, x) => {
      if (perElement) {
        const fused = noGrad(() => lam.map((_, g) => fusedTail(direct[g] ?? null, x[g], w[g], terms[g].dc)));
        if (fused.every((t) => t !== null)) return fused as Tensor[];
        for (const t of fused) t?.dispose();
      }
      return subtractMixedTerms(direct, form.mixed(x));
    },
  };
}

/**
 * c = 2 s² and dc/dλ = 4 s σ(λ) with s = softplus(λ) (src/hypergrad/softplus-terms.ts), computed once per λ tensor without
 * a graph: the inner steps' decay coefficients and the closed-form curvature of the same meta-step share them. λ
 * tensors are values (the meta optimizer makes new ones), so keying on the tensor object is safe.
 */
const softplusTermsOf = new WeakMap<Tensor, SoftplusTerms>();
function cachedTerms(l: Tensor): SoftplusTerms {
  let t = softplusTermsOf.get(l);
  if (t === undefined) {
    const made = softplusTerms(l);
    // Cached beyond the tidy scope of the step that first asks: kept, and disposed with l.
    t = { c: keep(made.c), dc: keep(made.dc) };
    disposeWith(l, [t.c, t.dc]);
    softplusTermsOf.set(l, t);
  }
  return t;
}

/** ∇_w Σ (s w)² = 2 s² w with s = softplus(λ): c = 2 softplus(λ)². */
function doubledSquaredSoftplus(lam: readonly Tensor[], groupOf: readonly number[]): Tensor[] {
  const c = lam.map((l) => cachedTerms(l).c);
  return groupOf.map((g) => c[g]);
}

export interface L2InitOptions {
  /** λ ~ N(mean, std²) before softplus (softplus(-3) ≈ 0.049). */
  mean?: number;
  std?: number;
}

/** The initial λ's mean and std (defaults -3 and 0.5), both finite and std >= 0. */
function l2Init(op: string, opts: L2InitOptions): { mean: number; std: number } {
  const mean = opts.mean ?? -3;
  const std = opts.std ?? 0.5;
  if (!Number.isFinite(mean)) throw new Error(`${op}: mean must be a finite number, got ${String(mean)}`);
  if (!Number.isFinite(std) || std < 0) throw new Error(`${op}: std must be a finite number >= 0, got ${String(std)}`);
  return { mean, std };
}

/** Σ_i (softplus(λ_i) w_i)² with λ shaped like each weight tensor (thesis meta-knowledge 1). */
export function perParameterL2(params: readonly Parameter[], opts: L2InitOptions = {}): MetaKnowledge {
  const { mean, std } = l2Init('perParameterL2', opts);
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
    closedForm: (w, lam) => softplusL2ClosedForm(w, lam, params.map((_, i) => i)),
  };
}

/**
 * One λ per group of parameters: softplus(λ_g)² Σ_{i∈g} ||w_i||² (thesis meta-knowledge 2).
 * `groupBy: 'tensor'` gives each weight and bias tensor its own λ (the thesis' "single element for
 * each layer parameter"); 'layer' shares one λ between the tensors of a layer.
 */
export function perLayerL2(params: readonly Parameter[], opts: L2InitOptions & { groupBy?: 'tensor' | 'layer' } = {}): MetaKnowledge {
  const { mean, std } = l2Init('perLayerL2', opts);
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
    closedForm: (w, lam) => softplusL2ClosedForm(w, lam, groupOf),
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
