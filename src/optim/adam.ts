// Adam with L2 weight decay and AMSGrad, following torch.optim.Adam's update order and bias corrections.

import { zerosLike } from '../core/creation.js';
import { add, div, mul, sqrt } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { maximum } from '../ops/elementwise.js';
import { fusedAdamStep } from './adam-cpu.js';
import { allOnCpu } from './cpu-storage.js';
import { checkNonNegative, lerp, Optimizer, type Buffers, type HyperValue, type ParamRef } from './optimizer.js';

export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates (β1, β2) of the first and second moment averages (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator after the square root (default 1e-8). */
  eps?: number;
  /** L2 penalty λ added to the gradient, not decoupled (default 0). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (default false). */
  amsgrad?: boolean;
}

export class Adam extends Optimizer {
  readonly kind = 'adam';
  /** The construction-time settings with defaults filled in (options.lr is the initial lr; `lr` is live). */
  readonly options: Readonly<{ lr: number; betas: readonly [number, number]; eps: number; weightDecay: number; amsgrad: boolean }>;

  /**
   * Optional per-parameter elementwise L2 coefficients d_i (same shape as the parameter, or a scalar
   * tensor), added to the gradient as d_i ⊙ p_i like weight_decay: the gradient of Σ ½ d ⊙ p².
   * Implicit meta-learning sets it from the hyperparameters λ; it is not part of the state dict.
   */
  elementwiseDecay: readonly (Tensor | null)[] | null = null;

  constructor(params: readonly ParamRef[], options: AdamOptions = {}) {
    super(params, options.lr ?? 1e-3);
    const betas = options.betas ?? [0.9, 0.999];
    const o = {
      lr: options.lr ?? 1e-3,
      betas: Object.freeze([betas[0], betas[1]] as [number, number]),
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      amsgrad: options.amsgrad ?? false,
    };
    checkNonNegative('Adam', 'epsilon', o.eps);
    if (!Array.isArray(betas) || betas.length !== 2) throw new Error('Adam: betas must be a pair [beta1, beta2]');
    betas.forEach((b, i) => {
      if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw new Error(`Adam: invalid beta parameter at index ${i}: ${String(b)} (must be in [0, 1))`);
    });
    checkNonNegative('Adam', 'weight_decay', o.weightDecay);
    this.options = Object.freeze(o);
  }

  protected bufferNames(): readonly string[] {
    return this.options.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }

  protected hyperparameters(): Record<string, HyperValue> {
    const { betas, eps, weightDecay, amsgrad } = this.options;
    return { betas: [...betas], eps, weightDecay, amsgrad };
  }

  // With gradient g, parameter p, step t (1-based), lr γ, betas β1 β2, eps ε, weight decay λ (PyTorch's
  // _single_tensor_adam), buffers starting at zero:
  //   g ← g + λ p                                   (if λ ≠ 0; L2 penalty, not AdamW's decoupled decay)
  //   m ← lerp(m, g, 1 − β1) = β1 m + (1 − β1) g
  //   v ← β2 v + (1 − β2) g²                        (computed as v β2 + ((1 − β2) g) g, like addcmul)
  //   v̂ ← max(v̂, v) and use v̂ below                  (AMSGrad only)
  //   bc1 = 1 − β1^t,  bc2 = 1 − β2^t
  //   p ← p − (γ / bc1) m / (√v / √bc2 + ε)         (computed as p + ((−γ/bc1) m) / denom, like addcdiv)
  protected update(param: Tensor, grad: Tensor, buffers: Buffers | undefined, step: number, index: number): { value: Tensor; buffers: Buffers } {
    const { betas, eps, weightDecay, amsgrad } = this.options;
    const [beta1, beta2] = betas;
    const decay = this.elementwiseDecay?.[index] ?? undefined;
    if (!amsgrad && allOnCpu(param, grad, ...(decay ? [decay] : []))) {
      const bc1f = 1 - beta1 ** step;
      const bc2f = 1 - beta2 ** step;
      const r = fusedAdamStep(param, grad, buffers?.exp_avg, buffers?.exp_avg_sq, {
        weightDecay, lerpWeight: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2, sqrtBc2: Math.sqrt(bc2f), eps, negStepSize: -(this.lr / bc1f),
      }, decay);
      return { value: r.value, buffers: { exp_avg: r.m, exp_avg_sq: r.v } };
    }
    const g0 = weightDecay !== 0 ? add(grad, mul(param, weightDecay)) : grad;
    const g = decay ? add(g0, mul(decay, param)) : g0;
    const m0 = buffers?.exp_avg ?? zerosLike(param);
    const v0 = buffers?.exp_avg_sq ?? zerosLike(param);
    const m = lerp(m0, g, 1 - beta1);
    const v = add(mul(v0, beta2), mul(mul(g, 1 - beta2), g));
    const next: Buffers = { exp_avg: m, exp_avg_sq: v };
    let second = v;
    if (amsgrad) {
      const vmax = maximum(buffers?.max_exp_avg_sq ?? zerosLike(param), v);
      next.max_exp_avg_sq = vmax;
      second = vmax;
    }
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    const stepSize = this.lr / bc1;
    const denom = add(div(sqrt(second), Math.sqrt(bc2)), eps);
    return { value: add(param, div(mul(m, -stepSize), denom)), buffers: next };
  }
}
