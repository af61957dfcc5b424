// The Confidence Network experiment's data in Node: the task's data set (MNIST by default, Fashion-MNIST or a CIFAR-10 folder) and, for 'ood' settings, an out-of-distribution source of the same image shape (Fashion-MNIST for MNIST, MNIST for Fashion-MNIST), loaded once, split per setting and seed.

import { mnistSplits } from '../data/named-splits.js';
import type { ImageDataset } from '../data/dataset.js';
import { confidenceSplit } from '../ssl/confidence-experiment.js';
import type { ConfidenceSetting } from '../ssl/confidence-results.js';
import type { OodSplit } from '../ssl/ood-split.js';
import { loadDataset } from './datasets.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from './idx.js';
import { loadMnist } from './mnist.js';

/** The task data sets `iml confidence` takes. */
export const CONFIDENCE_DATASETS = ['mnist', 'fashion-mnist', 'cifar10'] as const;
export type ConfidenceDataset = (typeof CONFIDENCE_DATASETS)[number];

export interface ConfidenceDataOptions {
  labelsPerClass: number;
  validationPerClass: number;
  poolInDistribution: number;
  /** The task (default 'mnist'). */
  dataset?: ConfidenceDataset;
  /** Folder of the task's files: Fashion-MNIST's IDX files (default /usr/share/datasets/fashion-mnist) or CIFAR-10's binary batches (required). */
  dataDir?: string;
  /** Folder of Fashion-MNIST's IDX files when it is the OOD source of MNIST (default /usr/share/datasets/fashion-mnist). */
  fashionDir?: string;
}

/** The OOD source of a task, loaded when an 'ood' setting needs it; throws naming what is missing. */
function oodSource(dataset: ConfidenceDataset, fashionDir: string | undefined): ImageDataset {
  if (dataset === 'fashion-mnist') return mnistSplits(loadMnist(), { seed: 0 }).train;
  if (dataset === 'cifar10') {
    throw new Error("the 'ood-<percent>' settings have no out-of-distribution source for cifar10 here (no 32x32 colour OOD set can be downloaded); use 'none' (the thesis' protocol) or 'mismatch-<percent>' (classes 6-9 unseen)");
  }
  const dir = fashionDir ?? FASHION_MNIST_DIR;
  try {
    return loadFashionMnist(dir).train;
  } catch (e) {
    throw new Error(`the OOD settings need Fashion-MNIST's IDX files in ${dir} (--fashion-dir): ${(e as Error).message}`);
  }
}

/**
 * The task's training images give the labelled, validation and in-distribution pool images, its test images the
 * test set: MNIST train (8000 digits) and test (1000) as `iml` splits them; Fashion-MNIST and CIFAR-10 as `iml
 * fixmatch` loads them (the training files less the 5000 held-out images; test capped at 5000 for Fashion-MNIST).
 * The OOD source is read only when an 'ood' setting needs it. Returns the name of the data and the split function
 * the experiment runner takes.
 */
export function confidenceData(settings: readonly ConfidenceSetting[], o: ConfidenceDataOptions): { name: string; split: (s: ConfidenceSetting, seed: number) => OodSplit } {
  const dataset = o.dataset ?? 'mnist';
  const task = dataset === 'mnist' ? mnistSplits(loadMnist(), { seed: 0 }) : loadDataset(dataset, { dataDir: o.dataDir, seed: 0 });
  const ood = settings.some((s) => s.kind === 'ood') ? oodSource(dataset, o.fashionDir) : null;
  return {
    name: `${task.name}${ood ? ` + ${ood.name} (OOD)` : ''}`,
    split: (s, seed) => confidenceSplit(s, task.train, task.test, ood, { ...o, seed }),
  };
}
