// Basic layers: Linear, MLP, Conv2d, BatchNorm, Sequential and activation wrappers.

import { full, zeros, type CreateOptions } from '../core/creation.js';
import { add, conv2d, matmul, mul, reshape } from '../core/ops.js';
import { keep } from '../core/scope.js';
import { noGrad } from '../core/tensor.js';
import type { Tensor } from '../core/tensor.js';
import { batchNorm, batchNormApply, checkEps } from '../ops/batch-norm.js';
import { relu, tanh, sigmoid } from '../ops/activations.js';
import type { Random } from '../util/random.js';
import { defaultWeight, kaimingNormal } from './init.js';
import { Module, Parameter, type ForwardContext } from './module.js';

/** Throws unless v is an integer >= min, naming the layer and the argument (for callers without types). */
function count(layer: string, what: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${layer}: ${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Random, opts: CreateOptions & { bias?: boolean } = {}) {
    super();
    count('Linear', 'inFeatures', inFeatures, 1);
    count('Linear', 'outFeatures', outFeatures, 1);
    this.weight = this.param('weight', defaultWeight([outFeatures, inFeatures], inFeatures, rng, opts));
    this.bias = opts.bias === false ? null : this.param('bias', defaultWeight([outFeatures], inFeatures, rng, opts));
  }

  /** y = x Wᵀ + b for x [N, in]. */
  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures}->${this.outFeatures}): expected input [N, ${this.inFeatures}], got ${x.describe()}`);
    }
    const y = matmul(x, this.weight.value, { transB: true });
    return this.bias ? add(y, this.bias.value) : y;
  }
}

export type Activation = 'relu' | 'tanh' | 'sigmoid';
const activations: Record<Activation, (x: Tensor) => Tensor> = { relu, tanh, sigmoid };

/** Fully connected network: sizes [in, h1, ..., out], activation between layers, none at the end. */
export class MLP extends Module {
  readonly layers: Linear[];

  constructor(readonly sizes: number[], rng: Random, readonly activation: Activation = 'relu', opts: CreateOptions = {}) {
    super();
    if (sizes.length < 2) throw new Error(`MLP: needs at least input and output sizes, got [${sizes.join(', ')}]`);
    this.layers = sizes.slice(1).map((out, i) => this.child(`fc${i + 1}`, new Linear(sizes[i], out, rng, opts)));
  }

  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    const flat = x.rank === 2 ? x : reshape(x, [x.shape[0], -1]);
    let h = flat;
    this.layers.forEach((l, i) => {
      h = l.forward(h);
      if (i < this.layers.length - 1) h = activations[this.activation](h);
    });
    return h;
  }
}

export interface Conv2dLayerOptions extends CreateOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
  init?: 'default' | 'kaiming';
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly stride: number;
  readonly padding: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernel: number, rng: Random, opts: Conv2dLayerOptions = {}) {
    super();
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    const name = `Conv2d(${inChannels}->${outChannels}, kernel ${kernel})`;
    count(name, 'inChannels', inChannels, 1);
    count(name, 'outChannels', outChannels, 1);
    count(name, 'kernel', kernel, 1);
    count(name, 'stride', this.stride, 1);
    count(name, 'padding', this.padding, 0);
    const fanIn = inChannels * kernel * kernel;
    const shape = [outChannels, inChannels, kernel, kernel];
    this.weight = this.param('weight', opts.init === 'kaiming' ? kaimingNormal(shape, fanIn, rng, opts) : defaultWeight(shape, fanIn, rng, opts));
    this.bias = opts.bias === false ? null : this.param('bias', defaultWeight([outChannels], fanIn, rng, opts));
  }

  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    const y = conv2d(x, this.weight.value, { stride: this.stride, padding: this.padding });
    return this.bias ? add(y, reshape(this.bias.value, [1, this.outChannels, 1, 1])) : y;
  }
}

/**
 * Batch normalisation over all axes but the channel axis 1 (BatchNorm1d on [N, C], 2d on [N, C, H, W]).
 * Training: batch statistics, running averages updated with PyTorch's momentum 0.1 and unbiased
 * running variance. Evaluation: running statistics.
 */
export class BatchNorm extends Module {
  readonly gamma: Parameter;
  readonly beta: Parameter;
  runningMean: Tensor;
  runningVar: Tensor;

  constructor(readonly channels: number, readonly eps = 1e-5, readonly momentum = 0.1, opts: CreateOptions = {}) {
    super();
    count('BatchNorm', 'channels', channels, 1);
    checkEps(`BatchNorm(${channels})`, eps);
    if (!(momentum >= 0 && momentum <= 1)) throw new Error(`BatchNorm(${channels}): momentum must be in [0, 1], got ${momentum}`);
    this.gamma = this.param('weight', full([channels], 1, opts));
    this.beta = this.param('bias', zeros([channels], opts));
    this.runningMean = zeros([channels], opts);
    this.runningVar = full([channels], 1, opts);
  }

  protected override ownBuffers(prefix: string): Parameter[] {
    const p = prefix ? `${prefix}.` : '';
    const self = this;
    const slot = (name: string, get: () => Tensor, set: (t: Tensor) => void): Parameter => {
      const holder = new Parameter(get(), `${p}${name}`, prefix);
      Object.defineProperty(holder, 'value', { get, set, enumerable: true });
      return holder;
    };
    return [
      slot('running_mean', () => self.runningMean, (t) => (self.runningMean = t)),
      slot('running_var', () => self.runningVar, (t) => (self.runningVar = t)),
    ];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (x.shape[1] !== this.channels) throw new Error(`BatchNorm(${this.channels}): input ${x.describe()} has ${x.shape[1]} channels`);
    if (!ctx.training) {
      const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
      return batchNormApply(x, reshape(this.runningMean, bshape), reshape(this.runningVar, bshape), this.gamma.value, this.beta.value, this.eps);
    }
    // As PyTorch: one value per channel has no batch variance (and 0/0 as the unbiased running one).
    if (x.size / this.channels <= 1) throw new Error(`BatchNorm(${this.channels}): training needs more than 1 value per channel, got input ${x.describe()}`);
    // Fused kernels where the backend has them (CPU), the composite elsewhere: the same values and statistics.
    const { y, mean, variance } = batchNorm(x, this.gamma.value, this.beta.value, this.eps);
    if (ctx.updateStats !== false) {
      const n = x.size / this.channels;
      const mom = ctx.statsMomentum ?? this.momentum;
      noGrad(() => {
        const unbiased = mul(variance, n / (n - 1));
        // State written inside a tidy scope: keep() so the scope does not dispose it. The statistics replaced
        // are freed now (the layer owns them; retain() a handle to hold one longer).
        const [oldMean, oldVar] = [this.runningMean, this.runningVar];
        this.runningMean = keep(add(mul(oldMean, 1 - mom), mul(mean, mom)));
        this.runningVar = keep(add(mul(oldVar, 1 - mom), mul(unbiased, mom)));
        oldMean.dispose();
        oldVar.dispose();
      });
    }
    return y;
  }
}

export class Sequential extends Module {
  readonly items: Module[];
  constructor(...items: Module[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return this.items.reduce((h, m) => m.forward(h, ctx), x);
  }
}
