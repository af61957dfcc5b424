// Seeded, deterministic train/validation/test splitting of an ImageDataset (by counts or fractions, optionally stratified).

import { Random } from "../util/random.js";
import { subset, type ImageDataset } from "./dataset.js";

/**
 * Requested part sizes. Either all counts (non-negative integers), or fractions of the dataset
 * (numbers in [0, 1] summing to at most 1, at least one of them non-integer, e.g. 0.8/0.1/0.1).
 * An all-integer request such as {train: 1, validation: 0, test: 0} is read as counts.
 */
export interface SplitSizes {
  train: number;
  validation: number;
  test: number;
}

export interface SplitOptions {
  /**
   * Keep each class's share in every part close to its share in the whole dataset (typically
   * within one or two images per class and part). Default false (plain random permutation).
   */
  stratify?: boolean;
}

export interface DatasetSplit {
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

const PARTS = ["train", "validation", "test"] as const;

/** Converts requested sizes (counts or fractions) to image counts; throws when they exceed the dataset. */
export function resolveSplitSizes(count: number, sizes: SplitSizes, name = "dataset"): SplitSizes {
  const values = PARTS.map((p) => sizes[p]);
  for (let i = 0; i < 3; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new Error(`splitDataset(${name}): ${PARTS[i]} size must be a non-negative number, got ${v}`);
    }
  }
  let counts: number[];
  if (values.every(Number.isInteger)) {
    counts = values;
  } else {
    const sum = values[0] + values[1] + values[2];
    if (values.some((v) => v > 1) || sum > 1 + 1e-9) {
      throw new Error(
        `splitDataset(${name}): sizes ${values.join("/")} mix fractions and counts; give all counts (integers) ` +
          `or all fractions in [0,1] summing to at most 1`,
      );
    }
    // Largest-remainder rounding, so e.g. 0.8/0.1/0.1 always uses exactly `count` images.
    const target = Math.min(count, Math.round(count * sum));
    const exact = values.map((v) => v * count);
    counts = exact.map(Math.floor);
    let left = target - (counts[0] + counts[1] + counts[2]);
    const byRemainder = [0, 1, 2].sort((a, b) => exact[b] - counts[b] - (exact[a] - counts[a]) || a - b);
    for (const i of byRemainder) {
      if (left <= 0) break;
      counts[i]++;
      left--;
    }
  }
  for (let i = 0; i < 3; i++) {
    if (counts[i] > count) throw new Error(`splitDataset(${name}): ${counts[i]} ${PARTS[i]} images requested, ${count} available`);
  }
  const total = counts[0] + counts[1] + counts[2];
  if (total > count) {
    throw new Error(
      `splitDataset(${name}): requested ${counts[0]} train + ${counts[1]} validation + ${counts[2]} test = ${total} images, ` +
        `but the dataset has only ${count}`,
    );
  }
  return { train: counts[0], validation: counts[1], test: counts[2] };
}

/**
 * An ordering of all images such that every contiguous range holds each class in (nearly)
 * its overall proportion: each class is shuffled, and its k-th image (of m) gets the key
 * (k + u) / m with u uniform in [0,1); images are sorted by key.
 */
function stratifiedOrder(ds: ImageDataset, rng: Random): Int32Array {
  const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  const keys = new Float64Array(ds.count);
  for (const members of byClass) {
    const m = members.length;
    if (m === 0) continue;
    const perm = rng.permutation(m);
    for (let k = 0; k < m; k++) keys[members[perm[k]]] = (k + rng.uniform()) / m;
  }
  const order = Array.from({ length: ds.count }, (_, i) => i);
  order.sort((a, b) => keys[a] - keys[b] || a - b);
  return Int32Array.from(order);
}

/**
 * Splits a dataset into train, validation and test parts, deterministically for a given seed
 * (same seed and dataset => identical parts, in the same order). Parts are disjoint; images not
 * requested are left out. Part names are `${ds.name}/train`, `/validation`, `/test`.
 */
export function splitDataset(ds: ImageDataset, sizes: SplitSizes, seed: number, options: SplitOptions = {}): DatasetSplit {
  const counts = resolveSplitSizes(ds.count, sizes, ds.name);
  const rng = new Random(seed);
  const order = options.stratify ? stratifiedOrder(ds, rng) : rng.permutation(ds.count);
  const trainEnd = counts.train;
  const validationEnd = trainEnd + counts.validation;
  const testEnd = validationEnd + counts.test;
  return {
    train: subset(ds, order.subarray(0, trainEnd), `${ds.name}/train`),
    validation: subset(ds, order.subarray(trainEnd, validationEnd), `${ds.name}/validation`),
    test: subset(ds, order.subarray(validationEnd, testEnd), `${ds.name}/test`),
  };
}
