// Stochastic gradient descent with momentum, dampening, L2 weight decay and Nesterov, as torch.optim.SGD.

import { add, mul } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { checkNonNegative, Optimizer, type Buffers, type HyperValue, type ParamRef } from './optimizer.js';

export interface SGDOptions {
  /** Learning rate (required, as in PyTorch before 2.2). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum?: number;
  /** Dampening τ for momentum (default 0). */
  dampening?: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly kind = 'sgd';
  /** The construction-time settings with defaults filled in (options.lr is the initial lr; `lr` is live). */
  readonly options: Readonly<Required<SGDOptions>>;

  constructor(params: readonly ParamRef[], options: SGDOptions) {
    if (options === undefined || options === null || options.lr === undefined) {
      throw new Error('SGD: lr is required');
    }
    super(params, options.lr);
    const o: Required<SGDOptions> = {
      lr: options.lr,
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      weightDecay: options.weightDecay ?? 0,
      nesterov: options.nesterov ?? false,
    };
    checkNonNegative('SGD', 'momentum', o.momentum);
    checkNonNegative('SGD', 'weight_decay', o.weightDecay);
    if (typeof o.dampening !== 'number' || !Number.isFinite(o.dampening)) {
      throw new Error(`SGD: invalid dampening value ${String(o.dampening)}`);
    }
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new Error('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
    this.options = Object.freeze(o);
  }

  protected bufferNames(): readonly string[] {
    return this.options.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  protected hyperparameters(): Record<string, HyperValue> {
    const { momentum, dampening, weightDecay, nesterov } = this.options;
    return { momentum, dampening, weightDecay, nesterov };
  }

  // With gradient g, parameter p, lr γ, weight decay λ, momentum μ, dampening τ (PyTorch's _single_tensor_sgd):
  //   g ← g + λ p                                  (if λ ≠ 0)
  //   b ← g                                        (first step: the buffer starts as a copy of the gradient)
  //   b ← μ b + (1 − τ) g                          (later steps)
  //   d ← g + μ b  (Nesterov)   or   d ← b        (if μ ≠ 0; otherwise d ← g)
  //   p ← p − γ d                                  (computed as p + (−γ) d)
  protected update(param: Tensor, grad: Tensor, buffers: Buffers | undefined): { value: Tensor; buffers: Buffers } {
    const { momentum, dampening, weightDecay, nesterov } = this.options;
    let d = weightDecay !== 0 ? add(grad, mul(param, weightDecay)) : grad;
    const next: Buffers = {};
    if (momentum !== 0) {
      const prev = buffers?.momentum_buffer;
      // mul by 1 copies the gradient exactly, so the buffer never aliases the caller's tensor.
      const buf = prev === undefined ? mul(d, 1) : add(mul(prev, momentum), mul(d, 1 - dampening));
      next.momentum_buffer = buf;
      d = nesterov ? add(d, mul(buf, momentum)) : buf;
    }
    return { value: add(param, mul(d, -this.lr)), buffers: next };
  }
}
