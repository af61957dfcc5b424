// The classifiers FixMatch runs offer: the small CNN (CPU default) and WRN-28-2 (the references' CIFAR-10 model).

import type { CreateOptions } from '../core/creation.js';
import type { Module } from '../nn/module.js';
import { WideResNet } from '../nn/wide-resnet.js';
import type { Random } from '../util/random.js';
import type { SslModel } from './fixmatch-config.js';
import { SmallCnn } from './small-cnn.js';

export interface InputShape {
  channels: number;
  side: number;
  classes: number;
}

/** A fresh model for the input shape, initialised from `rng`. */
export function createSslModel(name: SslModel, shape: InputShape, rng: Random, opts: CreateOptions = {}): Module {
  if (name === 'small-cnn') return new SmallCnn(rng, { ...opts, inChannels: shape.channels, side: shape.side, numClasses: shape.classes });
  if (name === 'wrn-28-2') return new WideResNet(rng, { ...opts, depth: 28, widen: 2, inChannels: shape.channels, numClasses: shape.classes });
  throw new Error(`unknown model '${String(name)}'; choose small-cnn or wrn-28-2`);
}
