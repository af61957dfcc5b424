// Front ends of the max-pooling primitives: window checks and shapes, the argmax, and the gather and scatter-add at it.

import { applyPrim } from './apply.js';
import { convOutputSize, type Pool2dParams } from './primitives.js';
import { formatShape, shapesEqual } from './shape.js';
import type { Tensor } from './tensor.js';

export interface Pool2dOptions {
  /** Step between windows; defaults to the kernel (non-overlapping windows). */
  stride?: number | [number, number];
  /** Padding on each side; padded positions never win (at most half the kernel, as in PyTorch). */
  padding?: number | [number, number];
}

/** An integer >= min or a pair of them (a window's size, stride or padding) as a pair; the error names op and what. */
export function windowPair(op: string, what: string, v: number | readonly number[], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) ? [v[0], v[1]] : [NaN, NaN];
  if ((typeof v !== 'number' && (!Array.isArray(v) || v.length !== 2)) || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new Error(`${op}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Checks an NCHW input against a window and returns the primitive's parameters. */
export function pool2dParams(op: string, x: Tensor, kernel: number | [number, number], opts: Pool2dOptions = {}): Pool2dParams {
  if (x.rank !== 4) throw new Error(`${op}: expects NCHW input, got ${x.describe()}`);
  const k = windowPair(op, 'kernel', kernel, 1);
  const stride = windowPair(op, 'stride', opts.stride ?? k, 1);
  const padding = windowPair(op, 'padding', opts.padding ?? 0, 0);
  for (let a = 0; a < 2; a++) {
    if (2 * padding[a] > k[a]) throw new Error(`${op}: padding ${padding[a]} is more than half the kernel ${k[a]} (axis ${a + 2})`);
  }
  const p: Pool2dParams = { kernel: k, stride, padding };
  const [, , ho, wo] = pool2dOutputShape(x.shape, p);
  if (ho <= 0 || wo <= 0) {
    throw new Error(`${op}: window ${formatShape(k)} with padding ${formatShape(padding)} is larger than the input ${x.describe()}`);
  }
  return p;
}

/** [N, C, ⌊(H + 2p - k) / s⌋ + 1, ⌊(W + 2p - k) / s⌋ + 1]. */
export function pool2dOutputShape(xShape: readonly number[], p: Pool2dParams): number[] {
  return [
    xShape[0], xShape[1],
    convOutputSize(xShape[2], p.kernel[0], p.stride[0], p.padding[0]),
    convOutputSize(xShape[3], p.kernel[1], p.stride[1], p.padding[1]),
  ];
}

/**
 * For each output window, the offset dy·kw + dx of its maximum inside the window (a small integer stored in x's
 * dtype, exact in float32 for any window), the first one in row-major window order on ties (PyTorch's rule); a NaN
 * wins over numbers (CPU). Carries no gradient.
 */
export function maxPool2dArgmax(x: Tensor, p: Pool2dParams): Tensor {
  return applyPrim('maxPool2dArgmax', [x], p, pool2dOutputShape(x.shape, p));
}

function checkArg(op: string, arg: Tensor, outShape: readonly number[]): void {
  if (!shapesEqual(arg.shape, outShape)) {
    throw new Error(`${op}: argmax ${arg.describe()} does not match the pooled shape ${formatShape(outShape)}`);
  }
}

/** y[n, c, i, j] = x[n, c, i·sh - ph + dy, j·sw - pw + dx] with dy·kw + dx = arg[n, c, i, j]. */
export function maxPool2dGather(x: Tensor, arg: Tensor, p: Pool2dParams): Tensor {
  const outShape = pool2dOutputShape(x.shape, p);
  checkArg('maxPool2dGather', arg, outShape);
  return applyPrim('maxPool2dGather', [x, arg], p, outShape);
}

/** The transpose of maxPool2dGather: adds each g[n, c, i, j] into a zero tensor of inputShape at its argmax. */
export function maxPool2dScatter(g: Tensor, arg: Tensor, p: Pool2dParams, inputShape: readonly number[]): Tensor {
  if (inputShape.length !== 4) throw new Error(`maxPool2dScatter: input shape ${formatShape(inputShape)} is not NCHW`);
  const outShape = pool2dOutputShape(inputShape, p);
  if (!shapesEqual(g.shape, outShape)) {
    throw new Error(`maxPool2dScatter: cotangent ${g.describe()} does not match the pooled shape ${formatShape(outShape)} of ${formatShape(inputShape)}`);
  }
  checkArg('maxPool2dScatter', arg, outShape);
  return applyPrim('maxPool2dScatter', [g, arg], { ...p, inputShape: [...inputShape] }, inputShape);
}
