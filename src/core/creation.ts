// Creating tensors from data: constants, zeros/ones, random initialisers, one-hot labels.

import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { Random } from '../util/random.js';
import { allocArray, type DType, type TypedArray } from './dtype.js';
import { assertValidShape, formatShape, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  backend?: Backend;
}

/** A tensor holding a copy of `data` with the given shape. */
export function tensor(data: ArrayLike<number>, shape?: readonly number[], opts: CreateOptions = {}): Tensor {
  const backend = opts.backend ?? getBackend();
  const dtype = opts.dtype ?? (data instanceof Float64Array ? 'float64' : 'float32');
  const s = shape ?? [data.length];
  assertValidShape('tensor', s);
  if (sizeOf(s) !== data.length) {
    throw new Error(`tensor: ${data.length} values do not fill shape ${formatShape(s)} (${sizeOf(s)} elements)`);
  }
  if (!backend.supports(dtype)) throw new Error(`tensor: backend '${backend.name}' does not support ${dtype}`);
  // A typed array of the tensor's dtype is written as it is (no staging copy: batches are made every step).
  const direct = dtype === 'float32' ? data instanceof Float32Array : data instanceof Float64Array;
  let arr: TypedArray;
  if (direct) {
    arr = data as TypedArray;
  } else {
    arr = allocArray(dtype, data.length);
    arr.set(data as ArrayLike<number>);
  }
  const buffer = backend.alloc(arr.length, dtype);
  backend.write(buffer, arr);
  return new Tensor(backend, buffer, s, dtype);
}

export function scalar(value: number, opts: CreateOptions = {}): Tensor {
  return tensor([value], [], opts);
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const backend = opts.backend ?? getBackend();
  const dtype = opts.dtype ?? 'float32';
  if (backend.allocFilled !== undefined) {
    assertValidShape('full', shape);
    if (!backend.supports(dtype)) throw new Error(`full: backend '${backend.name}' does not support ${dtype}`);
    return new Tensor(backend, backend.allocFilled(sizeOf(shape), dtype, value), shape, dtype);
  }
  const arr = allocArray(dtype, sizeOf(shape));
  arr.fill(value);
  return tensor(arr, shape, opts);
}

export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype, backend: t.backend });
}

/** Standard normal values times `scale`, from a seeded generator. */
export function randn(shape: readonly number[], rng: Random, scale = 1, opts: CreateOptions = {}): Tensor {
  assertValidShape('randn', shape);
  const arr = allocArray(opts.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < arr.length; i++) arr[i] = rng.normal() * scale;
  return tensor(arr, shape, opts);
}

/** Uniform values in [low, high), from a seeded generator. */
export function randu(shape: readonly number[], rng: Random, low = 0, high = 1, opts: CreateOptions = {}): Tensor {
  assertValidShape('randu', shape);
  const arr = allocArray(opts.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < arr.length; i++) arr[i] = low + (high - low) * rng.uniform();
  return tensor(arr, shape, opts);
}

/** One-hot rows [labels.length, numClasses]; rejects labels outside [0, numClasses). */
export function oneHot(labels: ArrayLike<number>, numClasses: number, opts: CreateOptions = {}): Tensor {
  const arr: TypedArray = allocArray(opts.dtype ?? 'float32', labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new Error(`oneHot: label ${c} at index ${i} is outside [0, ${numClasses})`);
    }
    arr[i * numClasses + c] = 1;
  }
  return tensor(arr, [labels.length, numClasses], opts);
}
