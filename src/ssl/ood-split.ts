// Data for the Confidence Network's out-of-distribution experiments: labelled/validation/test sets of the in-distribution task and an unlabelled pool mixing a fixed number of in-distribution images with OOD images (another data set, or unseen classes) at a given share, each flagged.

import { subset, validateDataset, type ImageDataset } from '../data/dataset.js';
import { Random } from '../util/random.js';

export interface OodSplit {
  /** L labelled images per class of the task. */
  labelled: ImageDataset;
  /** The labelled validation set of the outer loss L_V. */
  validation: ImageDataset;
  /** The task's test set (in the class-mismatch variant: its images of the known classes only). */
  test: ImageDataset;
  /**
   * The unlabelled pool in a seeded order. Labels are the source's own (an OOD image keeps its class in its own
   * data set, an unseen-class image its digit) and are never trained on; numClasses is the source's.
   */
  unlabelled: ImageDataset;
  /** 1 where unlabelled image i is in-distribution, 0 where it is out-of-distribution. */
  inDistribution: Uint8Array;
  /** In-distribution images in the pool (the requested fixed count). */
  idCount: number;
  /** OOD images in the pool: round(idCount · share / (1 − share)). */
  oodCount: number;
}

export interface OodSplitOptions {
  /** Labelled images per class (L). */
  labelledPerClass: number;
  /** Labelled validation images per class (default 100, the thesis' 1000 on ten classes). */
  validationPerClass?: number;
  /** In-distribution images in the unlabelled pool, the same for every share (so shares differ only by OOD images added). */
  inDistributionCount: number;
  /** OOD share of the pool, in [0, 1): n_ood = n_id · share / (1 − share) (0.25 → n_id/3, 0.5 → n_id, 0.75 → 3 n_id). */
  oodShare: number;
  seed: number;
}

/** n_ood for a fixed n_id and share s ∈ [0, 1): round(n_id s / (1 − s)), so n_ood / (n_id + n_ood) ≈ s. */
export function oodCountFor(idCount: number, share: number): number {
  if (!(share >= 0 && share < 1)) throw new Error(`OOD share must be in [0, 1), got ${share}`);
  return Math.round((idCount * share) / (1 - share));
}

function checkOptions(where: string, o: OodSplitOptions): number {
  const val = o.validationPerClass ?? 100;
  const ints: [string, number, number][] = [['labelledPerClass', o.labelledPerClass, 1], ['validationPerClass', val, 1], ['inDistributionCount', o.inDistributionCount, 0]];
  for (const [name, v, min] of ints) {
    if (!Number.isInteger(v) || v < min) throw new Error(`${where}: ${name} must be an integer >= ${min}, got ${v}`);
  }
  oodCountFor(o.inDistributionCount, o.oodShare);
  return val;
}

function sameShape(where: string, a: ImageDataset, b: ImageDataset): void {
  if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
    throw new Error(`${where}: "${b.name}" has images ${b.channels}x${b.height}x${b.width}, "${a.name}" ${a.channels}x${a.height}x${a.width}; resize one first`);
  }
}

/** `perClass` seeded picks from each listed class of ds, skipping (and marking) taken images. */
function pickPerClass(ds: ImageDataset, classes: readonly number[], perClass: number, taken: Uint8Array, rng: Random, what: string): number[] {
  const out: number[] = [];
  for (const c of classes) {
    const members: number[] = [];
    for (let i = 0; i < ds.count; i++) if (ds.labels[i] === c && !taken[i]) members.push(i);
    if (members.length < perClass) throw new Error(`${what}: class ${c} of "${ds.name}" has ${members.length} images left, ${perClass} requested`);
    const perm = rng.permutation(members.length);
    for (let k = 0; k < perClass; k++) {
      out.push(members[perm[k]]);
      taken[members[perm[k]]] = 1;
    }
  }
  return out;
}

/** `count` seeded picks among the untaken images of ds whose class passes `keep`. */
function pickAny(ds: ImageDataset, keep: (label: number) => boolean, count: number, taken: Uint8Array, rng: Random, what: string): number[] {
  const members: number[] = [];
  for (let i = 0; i < ds.count; i++) if (keep(ds.labels[i]) && !taken[i]) members.push(i);
  if (members.length < count) throw new Error(`${what}: "${ds.name}" has ${members.length} eligible images left, ${count} needed`);
  const perm = rng.permutation(members.length);
  return Array.from(perm.subarray(0, count), (k) => members[k]);
}

/** The pool: ID and OOD images shuffled together (seeded), with the flag; pixel copies of both sources. */
function mixPool(id: ImageDataset, idIdx: number[], ood: ImageDataset, oodIdx: number[], rng: Random, name: string): Pick<OodSplit, 'unlabelled' | 'inDistribution'> {
  const total = idIdx.length + oodIdx.length;
  const size = id.channels * id.height * id.width;
  const images = new Float32Array(total * size);
  const labels = new Uint8Array(total);
  const flag = new Uint8Array(total);
  const order = rng.permutation(total);
  for (let k = 0; k < total; k++) {
    const j = order[k];
    const fromId = j < idIdx.length;
    const src = fromId ? id : ood;
    const i = fromId ? idIdx[j] : oodIdx[j - idIdx.length];
    images.set(src.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = src.labels[i];
    flag[k] = fromId ? 1 : 0;
  }
  const numClasses = Math.max(id.numClasses, ood.numClasses);
  const unlabelled = validateDataset({ images, labels, count: total, channels: id.channels, height: id.height, width: id.width, numClasses, name });
  return { unlabelled, inDistribution: flag };
}

function allClasses(ds: ImageDataset): number[] {
  return Array.from({ length: ds.numClasses }, (_, c) => c);
}

/**
 * The OOD-pool experiment (our addition to the thesis): from the in-distribution `train` (e.g. MNIST train),
 * L labelled and V validation images per class and a pool of `inDistributionCount` further images (all three
 * disjoint), plus round(n_id · share/(1 − share)) images of `ood` (e.g. Fashion-MNIST train) mixed into the
 * pool; `test` (e.g. MNIST test) unchanged. Seeded; throws naming the class/data set when one cannot be filled.
 */
export function oodSplit(train: ImageDataset, test: ImageDataset, ood: ImageDataset, o: OodSplitOptions): OodSplit {
  const where = 'oodSplit';
  const val = checkOptions(where, o);
  sameShape(where, train, test);
  sameShape(where, train, ood);
  const rng = new Random(o.seed);
  const taken = new Uint8Array(train.count);
  const classes = allClasses(train);
  const labelled = pickPerClass(train, classes, o.labelledPerClass, taken, rng, `${where} (labelled)`);
  const validation = pickPerClass(train, classes, val, taken, rng, `${where} (validation)`);
  const idIdx = pickAny(train, () => true, o.inDistributionCount, taken, rng, `${where} (in-distribution pool)`);
  const oodCount = oodCountFor(o.inDistributionCount, o.oodShare);
  const oodIdx = pickAny(ood, () => true, oodCount, new Uint8Array(ood.count), rng, `${where} (OOD pool)`);
  return {
    labelled: subset(train, labelled, `${train.name}/labelled-${o.labelledPerClass}-per-class`),
    validation: subset(train, validation, `${train.name}/validation-${val}-per-class`),
    test,
    ...mixPool(train, idIdx, ood, oodIdx, rng, `${train.name}+${ood.name}/unlabelled-ood-${o.oodShare}`),
    idCount: idIdx.length,
    oodCount,
  };
}

export interface ClassMismatchOptions extends OodSplitOptions {
  /** Classes 0..knownClasses-1 are the task (default 6: digits 0-5); the others are unseen in the pool only. */
  knownClasses?: number;
}

/**
 * The class-mismatch variant (Oliver et al. 2018's setting): labelled, validation and test sets of the known
 * classes 0..k-1 only (numClasses = k), and an unlabelled pool of `inDistributionCount` known-class images plus
 * round(n_id · share/(1 − share)) images of the unseen classes k.. from the same `train`, all disjoint; an
 * image is in-distribution when its class is known. The pool keeps the source's labels and numClasses.
 */
export function classMismatchSplit(train: ImageDataset, test: ImageDataset, o: ClassMismatchOptions): OodSplit {
  const where = 'classMismatchSplit';
  const val = checkOptions(where, o);
  sameShape(where, train, test);
  const k = o.knownClasses ?? 6;
  if (!Number.isInteger(k) || k < 2 || k >= train.numClasses) throw new Error(`${where}: knownClasses must be an integer in [2, ${train.numClasses - 1}], got ${k}`);
  const rng = new Random(o.seed);
  const taken = new Uint8Array(train.count);
  const known = Array.from({ length: k }, (_, c) => c);
  const labelled = pickPerClass(train, known, o.labelledPerClass, taken, rng, `${where} (labelled)`);
  const validation = pickPerClass(train, known, val, taken, rng, `${where} (validation)`);
  const idIdx = pickAny(train, (c) => c < k, o.inDistributionCount, taken, rng, `${where} (known-class pool)`);
  const oodCount = oodCountFor(o.inDistributionCount, o.oodShare);
  const oodIdx = pickAny(train, (c) => c >= k, oodCount, taken, rng, `${where} (unseen-class pool)`);
  const testIdx: number[] = [];
  for (let i = 0; i < test.count; i++) if (test.labels[i] < k) testIdx.push(i);
  const knownOnly = (ds: ImageDataset): ImageDataset => validateDataset({ ...ds, numClasses: k });
  return {
    labelled: knownOnly(subset(train, labelled, `${train.name}/classes-0-${k - 1}/labelled-${o.labelledPerClass}-per-class`)),
    validation: knownOnly(subset(train, validation, `${train.name}/classes-0-${k - 1}/validation-${val}-per-class`)),
    test: knownOnly(subset(test, testIdx, `${test.name}/classes-0-${k - 1}`)),
    ...mixPool(train, idIdx, train, oodIdx, rng, `${train.name}/unlabelled-mismatch-${o.oodShare}`),
    idCount: idIdx.length,
    oodCount,
  };
}
