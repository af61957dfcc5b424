// The Confidence Network C(α(u); ω) of thesis chapter 5: a small CNN without batch norm mapping each image to one positive weight (softplus of a linear head), as a pure function of its weights ω.

import type { CreateOptions } from '../core/creation.js';
import { reshape } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { relu, softplus } from '../ops/activations.js';
import { globalAvgPool2d, maxPool2d } from '../ops/pooling.js';
import { Conv2d, Linear } from '../nn/layers.js';
import { functionalCall, Module, type ForwardContext } from '../nn/module.js';
import type { Random } from '../util/random.js';

export interface ConfidenceNetOptions extends CreateOptions {
  /** Image channels (default 1). */
  inChannels?: number;
  /** Channels of the two conv stages (default 8, 16). */
  widths?: [number, number];
}

/**
 * conv3x3(c→w1, pad 1)-ReLU-maxpool2, conv3x3(w1→w2, pad 1)-ReLU, global average pool, linear(w2→1), softplus.
 *
 * No batch norm: an image's weight depends on that image and ω only, never on the rest of the batch, so
 * C(α(u); ω) is the same in an inner step, a meta-step and at inference.
 *
 * Positive output by softplus(s) = log(1 + eˢ) rather than exp(s): both are positive, but softplus grows
 * linearly (softplus(s) ≈ s for s ≫ 0, derivative σ(s) ≤ 1), so a meta-step that moves the head's score s by
 * Δ moves the weight by at most |Δ|; exp multiplies the weight by e^Δ, and the hypergradient's own factor
 * ∂W/∂s = W then grows with the weight itself — the runaway (weights of 200, oscillating sign) the thesis
 * reports under Neumann/T1-T2 meta-steps becomes an exponential one. (The thesis keeps its L2 weights
 * positive with softplus too.)
 */
export class ConfidenceNet extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly head: Linear;

  constructor(rng: Random, o: ConfidenceNetOptions = {}) {
    super();
    const [w1, w2] = o.widths ?? [8, 16];
    for (const [i, w] of [w1, w2].entries()) {
      if (!Number.isInteger(w) || w < 1) throw new Error(`ConfidenceNet: width ${i + 1} must be a positive integer, got ${w}`);
    }
    this.conv1 = this.child('conv1', new Conv2d(o.inChannels ?? 1, w1, 3, rng, { ...o, padding: 1, init: 'kaiming' }));
    this.conv2 = this.child('conv2', new Conv2d(w1, w2, 3, rng, { ...o, padding: 1, init: 'kaiming' }));
    this.head = this.child('head', new Linear(w2, 1, rng, o));
  }

  /** Positive weights [N] for images x [N, C, H, W] (H, W >= 2); the context is ignored (no batch norm). */
  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.conv1.inChannels) {
      throw new Error(`ConfidenceNet: expected images [N, ${this.conv1.inChannels}, H, W], got ${x.describe()}`);
    }
    const h1 = maxPool2d(relu(this.conv1.forward(x)));
    const h2 = relu(this.conv2.forward(h1));
    const score = this.head.forward(globalAvgPool2d(h2));
    return reshape(softplus(score), [x.shape[0]]);
  }
}

/**
 * C(x; ω) as a pure function of ω (Tensor[] in cn.parameters() order): the `lam` argument of hypergradient()
 * differentiates through it. Returns [N] positive weights.
 */
export function confidenceWeights(cn: ConfidenceNet, omega: readonly Tensor[], x: Tensor): Tensor {
  return functionalCall(cn, omega, () => cn.forward(x));
}
