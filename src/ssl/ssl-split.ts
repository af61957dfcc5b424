// Data splits for semi-supervised learning: L labelled images per class (balanced, seeded), the rest of the training split as the unlabelled pool (true labels kept for measuring pseudo-labels only).

import { subset, type ImageDataset } from '../data/dataset.js';
import { Random } from '../util/random.js';

export interface SslSplit {
  labelled: ImageDataset;
  /** The unlabelled pool; its labels are never trained on, only compared with pseudo-labels. */
  unlabelled: ImageDataset;
}

/**
 * Picks `perClass` images of every class from `train` (a seeded shuffle within each class; classes in label
 * order) as the labelled set and keeps all other images, in a seeded order, as the unlabelled pool.
 * Throws naming the class when one has fewer than `perClass` images.
 */
export function sslSplit(train: ImageDataset, perClass: number, seed: number): SslSplit {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`sslSplit: labels per class must be a positive integer, got ${perClass}`);
  const rng = new Random(seed);
  const byClass: number[][] = Array.from({ length: train.numClasses }, () => []);
  for (let i = 0; i < train.count; i++) byClass[train.labels[i]].push(i);
  const labelled: number[] = [];
  const taken = new Uint8Array(train.count);
  byClass.forEach((members, c) => {
    if (members.length < perClass) throw new Error(`sslSplit(${train.name}): class ${c} has ${members.length} images, ${perClass} labelled ones requested`);
    const perm = rng.permutation(members.length);
    for (let k = 0; k < perClass; k++) {
      labelled.push(members[perm[k]]);
      taken[members[perm[k]]] = 1;
    }
  });
  const rest: number[] = [];
  for (let i = 0; i < train.count; i++) if (!taken[i]) rest.push(i);
  const order = rng.permutation(rest.length);
  const pool = Array.from(order, (k) => rest[k]);
  return {
    labelled: subset(train, labelled, `${train.name}/labelled-${perClass}-per-class`),
    unlabelled: subset(train, pool, `${train.name}/unlabelled`),
  };
}
