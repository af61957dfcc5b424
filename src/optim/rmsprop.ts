// RMSprop with momentum, centring and L2 weight decay, following torch.optim.RMSprop (eps added after sqrt).

import { zerosLike } from '../core/creation.js';
import { add, div, mul, sqrt, sub } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { allOnCpu } from './cpu-storage.js';
import { fusedRmspropStep } from './rmsprop-cpu.js';
import { checkNonNegative, lerp, Optimizer, type Buffers, type HyperValue, type ParamRef } from './optimizer.js';

export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Smoothing constant α of the squared-gradient average (default 0.99). */
  alpha?: number;
  /** Added to the denominator after the square root (default 1e-8). */
  eps?: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum factor μ (default 0). */
  momentum?: number;
  /** Normalise by an estimate of the gradient's variance instead of its second moment (default false). */
  centered?: boolean;
}

export class RMSprop extends Optimizer {
  readonly kind = 'rmsprop';
  /** The construction-time settings with defaults filled in (options.lr is the initial lr; `lr` is live). */
  readonly options: Readonly<Required<RMSpropOptions>>;

  constructor(params: readonly ParamRef[], options: RMSpropOptions = {}) {
    super(params, options.lr ?? 1e-2);
    const o: Required<RMSpropOptions> = {
      lr: options.lr ?? 1e-2,
      alpha: options.alpha ?? 0.99,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      momentum: options.momentum ?? 0,
      centered: options.centered ?? false,
    };
    checkNonNegative('RMSprop', 'epsilon', o.eps);
    checkNonNegative('RMSprop', 'momentum', o.momentum);
    checkNonNegative('RMSprop', 'weight_decay', o.weightDecay);
    checkNonNegative('RMSprop', 'alpha', o.alpha);
    this.options = Object.freeze(o);
  }

  protected bufferNames(): readonly string[] {
    const names = ['square_avg'];
    if (this.options.momentum > 0) names.push('momentum_buffer');
    if (this.options.centered) names.push('grad_avg');
    return names;
  }

  protected hyperparameters(): Record<string, HyperValue> {
    const { alpha, eps, weightDecay, momentum, centered } = this.options;
    return { alpha, eps, weightDecay, momentum, centered };
  }

  // With gradient g, parameter p, lr γ, smoothing α, eps ε, weight decay λ, momentum μ (PyTorch's
  // _single_tensor_rmsprop), all buffers starting at zero:
  //   g ← g + λ p                                   (if λ ≠ 0)
  //   v ← α v + (1 − α) g²                          (computed as v α + ((1 − α) g) g, like addcmul)
  //   centered:  ḡ ← lerp(ḡ, g, 1 − α) = α ḡ + (1 − α) g,   s ← √(v − ḡ²) + ε
  //   otherwise: s ← √v + ε
  //   μ > 0:     b ← μ b + g / s,   p ← p − γ b
  //   otherwise: p ← p − γ g / s                    (computed as p + ((−γ) g) / s, like addcdiv)
  protected update(param: Tensor, grad: Tensor, buffers: Buffers | undefined): { value: Tensor; buffers: Buffers } {
    const { alpha, eps, weightDecay, momentum, centered } = this.options;
    if (!centered && momentum === 0 && allOnCpu(param, grad)) {
      const r = fusedRmspropStep(param, grad, buffers?.square_avg, { alpha, eps, weightDecay, lr: this.lr });
      return { value: r.value, buffers: { square_avg: r.squareAvg } };
    }
    const g = weightDecay !== 0 ? add(grad, mul(param, weightDecay)) : grad;
    const v = add(mul(buffers?.square_avg ?? zerosLike(param), alpha), mul(mul(g, 1 - alpha), g));
    const next: Buffers = { square_avg: v };
    let avg: Tensor;
    if (centered) {
      const gAvg = lerp(buffers?.grad_avg ?? zerosLike(param), g, 1 - alpha);
      next.grad_avg = gAvg;
      avg = sqrt(sub(v, mul(gAvg, gAvg)));
    } else {
      avg = sqrt(v);
    }
    avg = add(avg, eps);
    if (momentum > 0) {
      const buf = add(mul(buffers?.momentum_buffer ?? zerosLike(param), momentum), div(g, avg));
      next.momentum_buffer = buf;
      return { value: add(param, mul(buf, -this.lr)), buffers: next };
    }
    return { value: add(param, div(mul(g, -this.lr), avg)), buffers: next };
  }
}
