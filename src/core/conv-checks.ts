// Front-end checks of the convolution primitives: stride and padding, and the shapes conv2d, its grad-input and its grad-weight are given.

import { windowPair } from './pool-ops.js';
import { convOutputSize, type Conv2dParams } from './primitives.js';
import { formatShape } from './shape.js';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

/** The primitive's stride and padding from a number or a pair each (stride >= 1, padding >= 0, integers). */
export function convParams(op: string, opts: Conv2dOptions): Conv2dParams {
  return { stride: windowPair(op, 'stride', opts.stride ?? 1, 1), padding: windowPair(op, 'padding', opts.padding ?? 0, 0) };
}

/**
 * Checks that an NCHW input x, a weight w [O, C, kh, kw] and an output gradient g [N, O, Ho, Wo] belong to one
 * convolution with these parameters (the shapes as arrays: grad-input is given x's shape, grad-weight w's).
 */
export function checkConvShapes(op: string, x: readonly number[], w: readonly number[], g: readonly number[], p: Conv2dParams): void {
  const dims = (what: string, s: readonly number[]): void => {
    if (s.length !== 4 || s.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${op}: ${what} must be 4 non-negative integers, got ${JSON.stringify(s)}`);
  };
  dims('the input shape (NCHW)', x);
  dims('the weight shape [out, in, kh, kw]', w);
  dims('the output gradient shape (NCHW)', g);
  if (x[1] !== w[1]) throw new Error(`${op}: input ${formatShape(x)} has ${x[1]} channels, weight ${formatShape(w)} expects ${w[1]}`);
  if (g[1] !== w[0]) throw new Error(`${op}: output gradient ${formatShape(g)} has ${g[1]} channels, weight ${formatShape(w)} has ${w[0]} output channels`);
  if (g[0] !== x[0]) throw new Error(`${op}: output gradient ${formatShape(g)} holds ${g[0]} images, input ${formatShape(x)} ${x[0]}`);
  const ho = convOutputSize(x[2], w[2], p.stride[0], p.padding[0]);
  const wo = convOutputSize(x[3], w[3], p.stride[1], p.padding[1]);
  if (ho !== g[2] || wo !== g[3]) {
    throw new Error(`${op}: input ${formatShape(x)} with kernel ${w[2]}x${w[3]}, stride ${formatShape(p.stride)} and padding ${formatShape(p.padding)} gives ${ho}x${wo} outputs, but the output gradient is ${formatShape(g)}`);
  }
}
