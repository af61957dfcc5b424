// The CPU default model for FixMatch: a small CNN (two conv3x3-BN-ReLU-maxpool stages and a linear head), small enough to train for thousands of steps on two cores.

import type { CreateOptions } from '../core/creation.js';
import { reshape } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { relu } from '../ops/activations.js';
import { maxPool2d } from '../ops/pooling.js';
import type { Random } from '../util/random.js';
import { BatchNorm, Conv2d, Linear } from '../nn/layers.js';
import { Module, type ForwardContext } from '../nn/module.js';

export interface SmallCnnOptions extends CreateOptions {
  inChannels?: number;
  /** Input side (28 or 32); the head sees (side/4)^2 positions. */
  side?: number;
  numClasses?: number;
  /** Channels of the two stages (default 16, 32). */
  widths?: [number, number];
  /** Batch-norm momentum (default 0.01: short runs need running statistics that follow the weights). */
  bnMomentum?: number;
}

/** conv3x3(c→w1)-BN-ReLU-maxpool2, conv3x3(w1→w2)-BN-ReLU-maxpool2, flatten, linear(w2·(side/4)²→classes). */
export class SmallCnn extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly head: Linear;
  readonly side: number;

  constructor(rng: Random, o: SmallCnnOptions = {}) {
    super();
    const [w1, w2] = o.widths ?? [16, 32];
    this.side = o.side ?? 28;
    if (this.side % 4 !== 0) throw new Error(`SmallCnn: side ${this.side} must be a multiple of 4`);
    const m = o.bnMomentum ?? 0.01;
    this.conv1 = this.child('conv1', new Conv2d(o.inChannels ?? 1, w1, 3, rng, { ...o, padding: 1, bias: false, init: 'kaiming' }));
    this.bn1 = this.child('bn1', new BatchNorm(w1, 1e-5, m, o));
    this.conv2 = this.child('conv2', new Conv2d(w1, w2, 3, rng, { ...o, padding: 1, bias: false, init: 'kaiming' }));
    this.bn2 = this.child('bn2', new BatchNorm(w2, 1e-5, m, o));
    this.head = this.child('head', new Linear(w2 * (this.side / 4) ** 2, o.numClasses ?? 10, rng, o));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (x.rank !== 4 || x.shape[2] !== this.side || x.shape[3] !== this.side) throw new Error(`SmallCnn(${this.side}x${this.side}): got input ${x.describe()}`);
    const h1 = maxPool2d(relu(this.bn1.forward(this.conv1.forward(x), ctx)));
    const h2 = maxPool2d(relu(this.bn2.forward(this.conv2.forward(h1), ctx)));
    return this.head.forward(reshape(h2, [h2.shape[0], -1]));
  }
}
