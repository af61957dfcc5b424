// Wide-ResNet (Zagoruyko & Komodakis) with pre-activation basic blocks: WRN-28-2 is the thesis' classifier.

import type { CreateOptions } from '../core/creation.js';
import { add } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { leakyRelu } from '../ops/activations.js';
import { globalAvgPool2d } from '../ops/pooling.js';
import type { Random } from '../util/random.js';
import { BatchNorm, Conv2d, Linear } from './layers.js';
import { Module, type ForwardContext } from './module.js';

export interface WideResNetOptions extends CreateOptions {
  depth?: number;
  widen?: number;
  numClasses?: number;
  inChannels?: number;
  /** Leaky-ReLU slope (FixMatch's WRN uses 0.1; 0 gives plain ReLU). */
  slope?: number;
  /** Batch-norm momentum (FixMatch uses 0.001; PyTorch's default is 0.1). */
  bnMomentum?: number;
}

/** BN-act-conv3x3(stride)-BN-act-conv3x3, plus an identity or 1x1-conv shortcut. */
export class WideBasicBlock extends Module {
  readonly bn1: BatchNorm;
  readonly conv1: Conv2d;
  readonly bn2: BatchNorm;
  readonly conv2: Conv2d;
  readonly shortcut: Conv2d | null;

  constructor(inC: number, outC: number, stride: number, rng: Random, readonly slope: number, bnMomentum: number, opts: CreateOptions) {
    super();
    this.bn1 = this.child('bn1', new BatchNorm(inC, 1e-5, bnMomentum, opts));
    this.conv1 = this.child('conv1', new Conv2d(inC, outC, 3, rng, { ...opts, stride, padding: 1, bias: false, init: 'kaiming' }));
    this.bn2 = this.child('bn2', new BatchNorm(outC, 1e-5, bnMomentum, opts));
    this.conv2 = this.child('conv2', new Conv2d(outC, outC, 3, rng, { ...opts, padding: 1, bias: false, init: 'kaiming' }));
    this.shortcut = inC === outC && stride === 1
      ? null
      : this.child('shortcut', new Conv2d(inC, outC, 1, rng, { ...opts, stride, bias: false, init: 'kaiming' }));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const a = leakyRelu(this.bn1.forward(x, ctx), this.slope);
    const h = this.conv2.forward(leakyRelu(this.bn2.forward(this.conv1.forward(a), ctx), this.slope));
    return add(h, this.shortcut ? this.shortcut.forward(a) : x);
  }
}

export class WideResNet extends Module {
  readonly stem: Conv2d;
  readonly blocks: WideBasicBlock[] = [];
  readonly bn: BatchNorm;
  readonly head: Linear;
  readonly slope: number;

  constructor(rng: Random, o: WideResNetOptions = {}) {
    super();
    const depth = o.depth ?? 28;
    const widen = o.widen ?? 2;
    if ((depth - 4) % 6 !== 0) throw new Error(`WideResNet: depth ${depth} must be 6n + 4`);
    const n = (depth - 4) / 6;
    const widths = [16, 16 * widen, 32 * widen, 64 * widen];
    this.slope = o.slope ?? 0.1;
    const bnMomentum = o.bnMomentum ?? 0.001;
    this.stem = this.child('stem', new Conv2d(o.inChannels ?? 3, widths[0], 3, rng, { ...o, padding: 1, bias: false, init: 'kaiming' }));
    let inC = widths[0];
    for (let g = 0; g < 3; g++) {
      for (let b = 0; b < n; b++) {
        const stride = g > 0 && b === 0 ? 2 : 1;
        this.blocks.push(this.child(`group${g + 1}.block${b + 1}`, new WideBasicBlock(inC, widths[g + 1], stride, rng, this.slope, bnMomentum, o)));
        inC = widths[g + 1];
      }
    }
    this.bn = this.child('bn', new BatchNorm(inC, 1e-5, bnMomentum, o));
    this.head = this.child('head', new Linear(inC, o.numClasses ?? 10, rng, o));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    let h = this.stem.forward(x);
    for (const b of this.blocks) h = b.forward(h, ctx);
    return this.head.forward(globalAvgPool2d(leakyRelu(this.bn.forward(h, ctx), this.slope)));
  }
}
