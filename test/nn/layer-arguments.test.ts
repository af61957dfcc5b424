// Layer constructors refuse sizes, kernels, strides and settings that make no layer, naming the layer and the argument (before, a kernel of 0 or a fractional width built weights of shape [o, c, 0, 0] or NaN bounds).
import { describe, expect, it } from 'vitest';
import { BatchNorm, Conv2d, Linear, MLP } from '../../src/nn/layers.js';
import { Random } from '../../src/util/random.js';

describe('layer constructors', () => {
  const rng = new Random(0);
  it('Linear needs integer feature counts >= 1', () => {
    expect(new Linear(3, 2, rng).weight.value.shape).toEqual([2, 3]);
    expect(() => new Linear(0, 2, rng)).toThrow('Linear: inFeatures must be an integer >= 1, got 0');
    expect(() => new Linear(3, 2.5, rng)).toThrow('Linear: outFeatures must be an integer >= 1, got 2.5');
    expect(() => new MLP([4, -1, 2], rng)).toThrow('Linear: outFeatures must be an integer >= 1, got -1');
  });
  it('Conv2d needs channel counts and a kernel >= 1, a stride >= 1 and a padding >= 0, all integers', () => {
    expect(new Conv2d(3, 4, 3, rng, { padding: 1 }).weight.value.shape).toEqual([4, 3, 3, 3]);
    expect(() => new Conv2d(3, 4, 0, rng)).toThrow('Conv2d(3->4, kernel 0): kernel must be an integer >= 1, got 0');
    expect(() => new Conv2d(0, 4, 3, rng)).toThrow('Conv2d(0->4, kernel 3): inChannels must be an integer >= 1, got 0');
    expect(() => new Conv2d(3, 1.5, 3, rng)).toThrow('Conv2d(3->1.5, kernel 3): outChannels must be an integer >= 1, got 1.5');
    expect(() => new Conv2d(3, 4, 3, rng, { stride: 0 })).toThrow('Conv2d(3->4, kernel 3): stride must be an integer >= 1, got 0');
    expect(() => new Conv2d(3, 4, 3, rng, { padding: -1 })).toThrow('Conv2d(3->4, kernel 3): padding must be an integer >= 0, got -1');
  });
  it('BatchNorm needs channels >= 1, a finite eps >= 0 (PyTorch allows 0) and a momentum in [0, 1]', () => {
    expect(new BatchNorm(4).gamma.value.shape).toEqual([4]);
    expect(new BatchNorm(4, 1e-5, 0).momentum).toBe(0);
    expect(() => new BatchNorm(0)).toThrow('BatchNorm: channels must be an integer >= 1, got 0');
    expect(new BatchNorm(4, 0).eps).toBe(0);
    expect(() => new BatchNorm(4, -1e-5)).toThrow('BatchNorm(4): eps must be a finite number >= 0, got -0.00001');
    expect(() => new BatchNorm(4, NaN)).toThrow('BatchNorm(4): eps must be a finite number >= 0, got NaN');
    expect(() => new BatchNorm(4, 1e-5, 1.5)).toThrow('BatchNorm(4): momentum must be in [0, 1], got 1.5');
    expect(() => new BatchNorm(4, 1e-5, -0.1)).toThrow('BatchNorm(4): momentum must be in [0, 1], got -0.1');
    expect(new BatchNorm(4, 1e-5, 1).momentum).toBe(1);
  });
});
