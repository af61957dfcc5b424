// Named data sets read from disk (Node): built-in MNIST (split 8000/1000/1000), Fashion-MNIST, CIFAR-10.

import { checkHoldOut, HELD_OUT_VALIDATION, mnistSplits, resizeSplits, type Splits } from '../data/named-splits.js';
import { splitDataset } from '../data/split.js';
import { loadCifar10 } from './cifar10.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from './idx.js';
import { loadMnist } from './mnist.js';

export type { Splits } from '../data/named-splits.js';
export { HELD_OUT_VALIDATION } from '../data/named-splits.js';

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10'] as const;

export function loadDataset(name: string, opts: { dataDir?: string; imageSize?: number; seed: number }): Splits {
  let splits: Splits;
  if (name === 'mnist') {
    return mnistSplits(loadMnist(), { seed: opts.seed, imageSize: opts.imageSize });
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
  return resizeSplits(splits, opts.imageSize);
}
