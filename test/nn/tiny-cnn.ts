// A two-block CNN for tests of batch norm and ReLU inside a network: conv3x3-BN-ReLU-maxpool, conv3x3-BN-ReLU, global average pool, linear (SmallCnn's structure at 8x8, one input channel, 3 classes).
import type { CreateOptions } from '../../src/core/creation.js';
import type { Tensor } from '../../src/core/tensor.js';
import { BatchNorm, Conv2d, Linear } from '../../src/nn/layers.js';
import { Module, type ForwardContext } from '../../src/nn/module.js';
import { relu } from '../../src/ops/activations.js';
import { globalAvgPool2d, maxPool2d } from '../../src/ops/pooling.js';
import type { Random } from '../../src/util/random.js';

export class TinyCnn extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly head: Linear;
  /** `widths`: the two convolutions' output channels; `opts`: dtype or backend of every tensor. */
  constructor(rng: Random, opts: CreateOptions, widths: readonly [number, number]) {
    super();
    const [w1, w2] = widths;
    const o = { ...opts, padding: 1, bias: false, init: 'kaiming' as const };
    this.conv1 = this.child('conv1', new Conv2d(1, w1, 3, rng, o));
    this.bn1 = this.child('bn1', new BatchNorm(w1, 1e-5, 0.1, opts));
    this.conv2 = this.child('conv2', new Conv2d(w1, w2, 3, rng, o));
    this.bn2 = this.child('bn2', new BatchNorm(w2, 1e-5, 0.1, opts));
    this.head = this.child('head', new Linear(w2, 3, rng, opts));
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const h = maxPool2d(relu(this.bn1.forward(this.conv1.forward(x), ctx)));
    return this.head.forward(globalAvgPool2d(relu(this.bn2.forward(this.conv2.forward(h), ctx))));
  }
}
