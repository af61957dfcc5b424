// Front ends of the primitives: argument checks, shape inference, scalar lifting and broadcasting.

import { applyPrim } from './apply.js';
import { tensor } from './creation.js';
import { checkDType, type DType } from './dtype.js';
import { checkConvShapes, convParams, type Conv2dOptions } from './conv-checks.js';
export type { Conv2dOptions } from './conv-checks.js';
import { convOutputSize, type CompareOp } from './primitives.js';
import { broadcastShapes, formatShape, normalizeAxes, shapesEqual, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

export type TensorLike = Tensor | number;

/**
 * Turns a number into a scalar constant matching `like`'s dtype and backend. Anything else is refused with `op`
 * in the message: a typed array of one value would have been read as that number, null as 0 and undefined as NaN.
 */
export function lift(x: TensorLike, like: Tensor, op = 'lift'): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') {
    const what = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'object' ? `an object (${(x as object).constructor?.name ?? 'no class'})` : typeof x;
    throw new Error(`${op}: expected a Tensor or a number, got ${what}`);
  }
  return tensor([x], [], { dtype: like.dtype, backend: like.backend });
}

function pair(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, lift(b, a, op)];
  if (b instanceof Tensor) return [lift(a, b, op), b];
  throw new Error(`${op}: at least one argument must be a Tensor`);
}

// ---- elementwise unary ----
export const neg = (x: Tensor): Tensor => applyPrim('neg', [x], {}, x.shape);
export const exp = (x: Tensor): Tensor => applyPrim('exp', [x], {}, x.shape);
export const log = (x: Tensor): Tensor => applyPrim('log', [x], {}, x.shape);
export const sqrt = (x: Tensor): Tensor => applyPrim('sqrt', [x], {}, x.shape);

// ---- elementwise binary, NumPy broadcasting ----
function binary(prim: 'add' | 'sub' | 'mul' | 'div', a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b, prim);
  return applyPrim(prim, [x, y], {}, broadcastShapes(prim, x.shape, y.shape));
}
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);

/** 1 where the comparison holds, else 0 (same dtype; carries no gradient). */
export function compare(a: TensorLike, b: TensorLike, op: CompareOp): Tensor {
  const [x, y] = pair(a, b, `compare(${op})`);
  return applyPrim('compare', [x, y], { op }, broadcastShapes(`compare(${op})`, x.shape, y.shape));
}
export const greater = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, 'gt');
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, 'ge');
export const less = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, 'lt');
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, 'le');
export const equal = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, 'eq');

/** cond != 0 ? a : b, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const x = lift(a, cond, 'where');
  const y = lift(b, cond, 'where');
  if (x.dtype !== y.dtype) throw new Error(`where: branch dtypes differ (${x.dtype} vs ${y.dtype})`);
  const c = cond.dtype === x.dtype ? cond : cast(cond, x.dtype);
  return applyPrim('where', [c, x, y], {}, broadcastShapes('where', c.shape, x.shape, y.shape));
}

// ---- reductions ----
function reduce(prim: 'sum' | 'max', x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  const ax = normalizeAxes(prim, axes, x.rank);
  if (ax.length === 0) return x;
  const outShape = x.shape.filter((_, i) => !ax.includes(i));
  if (prim === 'max') {
    for (const a of ax) if (x.shape[a] === 0) throw new Error(`max: cannot reduce an empty axis ${a} of ${x.describe()}`);
  }
  const r = applyPrim(prim, [x], { axes: ax }, outShape);
  return keepDims ? reshape(r, x.shape.map((d, i) => (ax.includes(i) ? 1 : d))) : r;
}
export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('sum', x, axes, keepDims);
export const max = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('max', x, axes, keepDims);

// ---- movement ----
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const b = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(b, shape)) throw new Error(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  return applyPrim('broadcastTo', [x], { shape: [...shape] }, shape);
}

/** Sums a broadcast result back down to `shape` (the transpose of broadcastTo). */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const lead = x.rank - shape.length;
  if (lead < 0) throw new Error(`sumTo: cannot reduce ${formatShape(x.shape)} to larger rank ${formatShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && x.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] !== x.shape[i]) {
      throw new Error(`sumTo: ${formatShape(x.shape)} is not a broadcast of ${formatShape(shape)}`);
    }
  }
  return reshape(sum(x, axes), shape);
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const unknown = s.indexOf(-1);
  if (s.some((d, i) => i !== unknown && (!Number.isInteger(d) || d < 0))) {
    throw new Error(`reshape: ${formatShape(shape)} is not a shape (non-negative integers, at most one -1) for ${x.describe()}`);
  }
  if (unknown >= 0) {
    const known = s.reduce((a, d, i) => (i === unknown ? a : a * d), 1);
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot infer -1 in ${formatShape(shape)} for ${x.describe()}`);
    s[unknown] = x.size / known;
  }
  if (sizeOf(s) !== x.size) throw new Error(`reshape: ${x.describe()} has ${x.size} elements, shape ${formatShape(shape)} needs ${sizeOf(s)}`);
  if (shapesEqual(s, x.shape)) return x;
  return applyPrim('reshape', [x], { shape: s }, s);
}

export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? [...perm] : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new Error(`transpose: ${formatShape(p)} is not a permutation of the axes of ${x.describe()}`);
  }
  if (p.every((v, i) => v === i)) return x;
  return applyPrim('transpose', [x], { perm: p }, p.map((a) => x.shape[a]));
}

/** Contiguous window: begin per axis, size per axis (-1 = to the end). */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  if (begin.length !== x.rank || size.length !== x.rank) throw new Error(`slice: begin/size must have rank ${x.rank} for ${x.describe()}`);
  if (!begin.every(Number.isInteger) || !size.every(Number.isInteger)) throw new Error(`slice: begin ${formatShape(begin)} and size ${formatShape(size)} must be integers (size -1: to the end) for ${x.describe()}`);
  const sz = size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  for (let i = 0; i < x.rank; i++) {
    if (begin[i] < 0 || sz[i] < 0 || begin[i] + sz[i] > x.shape[i]) {
      throw new Error(`slice: window begin ${formatShape(begin)} size ${formatShape(sz)} is outside ${x.describe()} (axis ${i})`);
    }
  }
  if (shapesEqual(sz, x.shape)) return x;
  return applyPrim('slice', [x], { begin: [...begin], size: sz }, sz);
}

/** Zero padding: `before[i]` and `after[i]` elements on axis i. */
export function pad(x: Tensor, before: readonly number[], after: readonly number[]): Tensor {
  if (before.length !== x.rank || after.length !== x.rank) throw new Error(`pad: before/after must have rank ${x.rank} for ${x.describe()}`);
  if ([...before, ...after].some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`pad: negative or fractional padding`);
  if (before.every((v) => v === 0) && after.every((v) => v === 0)) return x;
  return applyPrim('pad', [x], { before: [...before], after: [...after] }, x.shape.map((d, i) => d + before[i] + after[i]));
}

/** Concatenation along an axis, derived from pad and add (so it needs no rule of its own). */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: no tensors given');
  const rank = xs[0].rank;
  const ax = normalizeAxes('concat', axis, rank)[0];
  const total = xs.reduce((a, t) => a + t.shape[ax], 0);
  for (const t of xs) {
    if (t.rank !== rank || t.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw new Error(`concat: shapes ${xs.map((q) => formatShape(q.shape)).join(', ')} differ outside axis ${ax}`);
    }
  }
  let offset = 0;
  let out: Tensor | null = null;
  for (const t of xs) {
    const before = t.shape.map((_, i) => (i === ax ? offset : 0));
    const after = t.shape.map((_, i) => (i === ax ? total - offset - t.shape[ax] : 0));
    const p = pad(t, before, after);
    out = out === null ? p : add(out, p);
    offset += t.shape[ax];
  }
  return out!;
}

// ---- linear algebra ----
export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/** op(A) op(B) for 2-D A and B, op = optional transpose without materialising it. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`matmul: expects 2-D tensors, got ${a.describe()} and ${b.describe()}`);
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== k2) throw new Error(`matmul: inner dimensions differ, ${a.describe()}${transA ? 'ᵀ' : ''} x ${b.describe()}${transB ? 'ᵀ' : ''}`);
  return applyPrim('matmul', [a, b], { transA, transB }, [m, n]);
}

/** 2-D cross-correlation, NCHW input, weight [out, in, kh, kw]. */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const p = convParams('conv2d', opts);
  if (x.rank !== 4 || w.rank !== 4) throw new Error(`conv2d: expects NCHW input and [out, in, kh, kw] weight, got ${x.describe()} and ${w.describe()}`);
  if (x.shape[1] !== w.shape[1]) throw new Error(`conv2d: input has ${x.shape[1]} channels, weight ${w.describe()} expects ${w.shape[1]}`);
  const ho = convOutputSize(x.shape[2], w.shape[2], p.stride[0], p.padding[0]);
  const wo = convOutputSize(x.shape[3], w.shape[3], p.stride[1], p.padding[1]);
  if (ho <= 0 || wo <= 0) throw new Error(`conv2d: kernel ${formatShape(w.shape)} does not fit input ${formatShape(x.shape)} with padding ${p.padding}`);
  return applyPrim('conv2d', [x, w], p, [x.shape[0], w.shape[0], ho, wo]);
}

/**
 * Gradient of conv2d with respect to its input (the transposed convolution): g is the output gradient, inputShape the
 * input's (with a stride it is not determined by g).
 */
export function conv2dGradInput(g: Tensor, w: Tensor, params: Conv2dOptions, inputShape: readonly number[]): Tensor {
  const p = convParams('conv2dGradInput', params);
  checkConvShapes('conv2dGradInput', inputShape, w.shape, g.shape, p);
  return applyPrim('conv2dGradInput', [g, w], { ...p, inputShape: [...inputShape] }, inputShape);
}

/** Gradient of conv2d with respect to its weight. */
export function conv2dGradWeight(x: Tensor, g: Tensor, params: Conv2dOptions, weightShape: readonly number[]): Tensor {
  const p = convParams('conv2dGradWeight', params);
  checkConvShapes('conv2dGradWeight', x.shape, weightShape, g.shape, p);
  return applyPrim('conv2dGradWeight', [x, g], { ...p, weightShape: [...weightShape] }, weightShape);
}

// ---- indexing ----
/** The indices as Int32Array, each an integer in [0, limit) (checked before the conversion, which would truncate). */
function checkedIndices(op: string, indices: ArrayLike<number>, limit: number): Int32Array {
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (!Number.isInteger(v)) throw new Error(`${op}: index ${String(v)} at position ${i} is not an integer`);
    if (v < 0 || v >= limit) throw new Error(`${op}: index ${v} at position ${i} is outside [0, ${limit})`);
  }
  return Int32Array.from(indices);
}

/** Selects entries `indices` along `axis`. */
export function gather(x: Tensor, indices: ArrayLike<number>, axis = 0): Tensor {
  const ax = normalizeAxes('gather', axis, x.rank)[0];
  const idx = checkedIndices('gather', indices, x.shape[ax]);
  return applyPrim('gather', [x], { indices: idx, axis: ax }, x.shape.map((d, i) => (i === ax ? idx.length : d)));
}

/** Adds the slices of x into a zero tensor of length `size` along `axis` at `indices` (transpose of gather). */
export function scatterAdd(x: Tensor, indices: ArrayLike<number>, axis: number, size: number): Tensor {
  const ax = normalizeAxes('scatterAdd', axis, x.rank)[0];
  if (!Number.isInteger(size) || size < 0) throw new Error(`scatterAdd: size must be an integer >= 0, got ${String(size)}`);
  if (x.shape[ax] !== indices.length) throw new Error(`scatterAdd: ${indices.length} indices for axis ${ax} of ${x.describe()}`);
  const idx = checkedIndices('scatterAdd', indices, size);
  return applyPrim('scatterAdd', [x], { indices: idx, axis: ax, size }, x.shape.map((d, i) => (i === ax ? size : d)));
}

export function cast(x: Tensor, dtype: DType): Tensor {
  checkDType('cast', dtype);
  if (x.dtype === dtype) return x;
  if (!x.backend.supports(dtype)) throw new Error(`cast: backend '${x.backend.name}' does not support ${dtype}`);
  return applyPrim('cast', [x], { dtype }, x.shape, dtype);
}

/** Same values, cut off from the graph (gradient stops here). */
export function detach(x: Tensor): Tensor {
  if (!x.requiresGrad) return x;
  return new Tensor(x.backend, x.buffer, x.shape, x.dtype);
}
