// The CPU default model for FixMatch: a small CNN (three conv3x3-BN-ReLU stages, two max-pools, global average pooling, a linear head), small enough to train for thousands of steps on two cores.

import type { CreateOptions } from '../core/creation.js';
import type { Tensor } from '../core/tensor.js';
import { relu } from '../ops/activations.js';
import { globalAvgPool2d, maxPool2d } from '../ops/pooling.js';
import type { Random } from '../util/random.js';
import { BatchNorm, Conv2d, Linear } from '../nn/layers.js';
import { Module, type ForwardContext } from '../nn/module.js';

export interface SmallCnnOptions extends CreateOptions {
  inChannels?: number;
  /** Input side (28 or 32; a multiple of 4). */
  side?: number;
  numClasses?: number;
  /** Channels of the three stages (default 16, 32, 64). */
  widths?: [number, number, number];
  /** Batch-norm momentum (default 0.1, PyTorch's: running statistics that follow the weights within ~10 steps; 0.01 left evaluations of 100-step runs near chance). */
  bnMomentum?: number;
}

/**
 * conv3x3(c→w1)-BN-ReLU-maxpool2, conv3x3(w1→w2)-BN-ReLU-maxpool2, conv3x3(w2→w3)-BN-ReLU, global average pool,
 * linear(w3→classes): WRN's head (global pooling, no flatten) keeps the logits' scale independent of the image size,
 * so lr 0.03 with Nesterov momentum trains it from the first step.
 */
export class SmallCnn extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm;
  readonly head: Linear;
  readonly side: number;

  constructor(rng: Random, o: SmallCnnOptions = {}) {
    super();
    const [w1, w2, w3] = o.widths ?? [16, 32, 64];
    this.side = o.side ?? 28;
    if (this.side % 4 !== 0) throw new Error(`SmallCnn: side ${this.side} must be a multiple of 4`);
    const m = o.bnMomentum ?? 0.1;
    this.conv1 = this.child('conv1', new Conv2d(o.inChannels ?? 1, w1, 3, rng, { ...o, padding: 1, bias: false, init: 'kaiming' }));
    this.bn1 = this.child('bn1', new BatchNorm(w1, 1e-5, m, o));
    this.conv2 = this.child('conv2', new Conv2d(w1, w2, 3, rng, { ...o, padding: 1, bias: false, init: 'kaiming' }));
    this.bn2 = this.child('bn2', new BatchNorm(w2, 1e-5, m, o));
    this.conv3 = this.child('conv3', new Conv2d(w2, w3, 3, rng, { ...o, padding: 1, bias: false, init: 'kaiming' }));
    this.bn3 = this.child('bn3', new BatchNorm(w3, 1e-5, m, o));
    this.head = this.child('head', new Linear(w3, o.numClasses ?? 10, rng, o));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (x.rank !== 4 || x.shape[2] !== this.side || x.shape[3] !== this.side) throw new Error(`SmallCnn(${this.side}x${this.side}): got input ${x.describe()}`);
    const h1 = maxPool2d(relu(this.bn1.forward(this.conv1.forward(x), ctx)));
    const h2 = maxPool2d(relu(this.bn2.forward(this.conv2.forward(h1), ctx)));
    const h3 = relu(this.bn3.forward(this.conv3.forward(h2), ctx));
    return this.head.forward(globalAvgPool2d(h3));
  }
}
