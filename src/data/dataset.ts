// In-memory image dataset format (NCHW float pixels in [0,1] plus uint8 labels) and helpers to validate, subset and batch it.

import type { Random } from "../util/random.js";

/**
 * A labelled image dataset held entirely in memory.
 *
 * `images` stores `count` images back to back in NCHW order (image, channel, row, column),
 * with pixel values scaled to [0, 1]. `labels[i]` is the class of image `i`, in [0, numClasses).
 */
export interface ImageDataset {
  /** N*C*H*W pixel values, NCHW order, scaled to [0, 1]. */
  images: Float32Array;
  /** N class labels, each in [0, numClasses). */
  labels: Uint8Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  /** Human-readable identifier, e.g. "mnist", "fashion-mnist/train", "cifar10/test". */
  name: string;
}

/** A minibatch: `x` holds `y.length` flattened images (row i = image i), `y` their labels. */
export interface Batch {
  x: Float32Array;
  y: Uint8Array;
}

/** Number of values in one image (C*H*W), i.e. the input width of an MLP fed flattened images. */
export function flattenedSize(ds: Pick<ImageDataset, "channels" | "height" | "width">): number {
  return ds.channels * ds.height * ds.width;
}

/**
 * Checks that a dataset is internally consistent (shapes, array lengths, label range) and
 * returns it unchanged. Throws an Error naming the dataset and the problem otherwise.
 */
export function validateDataset(ds: ImageDataset): ImageDataset {
  const where = `dataset "${ds.name}"`;
  for (const key of ["count", "channels", "height", "width", "numClasses"] as const) {
    const v = ds[key];
    if (!Number.isInteger(v) || v < 0) throw new Error(`${where}: ${key} must be a non-negative integer, got ${v}`);
  }
  if (ds.channels < 1 || ds.height < 1 || ds.width < 1) {
    throw new Error(`${where}: image shape ${ds.channels}x${ds.height}x${ds.width} must be at least 1x1x1`);
  }
  if (ds.numClasses < 1 || ds.numClasses > 256) {
    throw new Error(`${where}: numClasses must be in [1, 256], got ${ds.numClasses}`);
  }
  const expected = ds.count * flattenedSize(ds);
  if (ds.images.length !== expected) {
    throw new Error(
      `${where}: images has ${ds.images.length} values, expected ${expected} ` +
        `(${ds.count} x ${ds.channels}x${ds.height}x${ds.width})`,
    );
  }
  if (ds.labels.length !== ds.count) {
    throw new Error(`${where}: ${ds.labels.length} labels for ${ds.count} images (count mismatch)`);
  }
  for (let i = 0; i < ds.count; i++) {
    if (ds.labels[i] >= ds.numClasses) {
      throw new Error(`${where}: label ${ds.labels[i]} of image ${i} is out of range [0, ${ds.numClasses - 1}]`);
    }
  }
  return ds;
}

/** Builds a dataset from its fields after validating it (see {@link validateDataset}). */
export function createImageDataset(fields: ImageDataset): ImageDataset {
  return validateDataset({ ...fields });
}

function checkIndex(ds: ImageDataset, index: number, position: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= ds.count) {
    throw new Error(`dataset "${ds.name}": index ${index} at position ${position} is out of range [0, ${ds.count - 1}]`);
  }
}

/**
 * Gathers the given images (in the given order, repeats allowed) into a contiguous batch.
 * `x` has indices.length * flattenedSize(ds) values; `y` has indices.length labels.
 */
export function getBatch(ds: ImageDataset, indices: ArrayLike<number>): Batch {
  const size = flattenedSize(ds);
  const n = indices.length;
  const x = new Float32Array(n * size);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const idx = indices[i];
    checkIndex(ds, idx, i);
    x.set(ds.images.subarray(idx * size, (idx + 1) * size), i * size);
    y[i] = ds.labels[idx];
  }
  return { x, y };
}

/** A new dataset holding copies of the given images (in the given order). */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name: string = `${ds.name}[subset]`): ImageDataset {
  const { x, y } = getBatch(ds, indices);
  return {
    images: x,
    labels: y,
    count: indices.length,
    channels: ds.channels,
    height: ds.height,
    width: ds.width,
    numClasses: ds.numClasses,
    name,
  };
}

/** Number of images per class: result[c] = count of labels equal to c. */
export function classHistogram(ds: ImageDataset): Int32Array {
  const hist = new Int32Array(ds.numClasses);
  for (let i = 0; i < ds.count; i++) hist[ds.labels[i]]++;
  return hist;
}

export interface BatchOptions {
  /** Shuffle the visiting order with this generator (a fresh permutation per call); default: dataset order. */
  rng?: Random;
  /** Drop a final batch smaller than batchSize; default false. */
  dropLast?: boolean;
}

/**
 * Index lists for one epoch of minibatches: consecutive slices of the dataset order, or of
 * `options.rng.permutation(count)` when an rng is given.
 */
export function batchIndices(count: number, batchSize: number, options: BatchOptions = {}): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  let order: Int32Array;
  if (options.rng) {
    order = options.rng.permutation(count);
  } else {
    order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
  }
  const out: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    if (end - start < batchSize && options.dropLast) break;
    out.push(order.subarray(start, end));
  }
  return out;
}

/** Iterates over one epoch of minibatches (see {@link batchIndices} for ordering). */
export function* iterateBatches(ds: ImageDataset, batchSize: number, options: BatchOptions = {}): Generator<Batch> {
  for (const indices of batchIndices(ds.count, batchSize, options)) yield getBatch(ds, indices);
}
