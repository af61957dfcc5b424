// RandAugment as in the FixMatch references: N random ops out of 14, each applied with probability p at a random magnitude, then Cutout; and the strong view (weak + RandAugment + Cutout) of a batch.

import { Random } from '../util/random.js';
import { cutout } from './cutout.js';
import { brightness, color, contrast, sharpness } from './enhance.js';
import { rotate, shearX, shearY, translateX, translateY } from './geometric.js';
import { checkBatch, floatToLevels, levelsToFloat, type FloatImage, type ImageBatch, type LevelImage } from './levels.js';
import { autoContrast, equalize, identity, posterize, solarize } from './point-ops.js';
import { weakAugmentImage, type WeakOptions } from './weak.js';

/** One op at magnitude m in [0, 1) with sign s (±1; used by the signed ops). */
interface RandOp {
  name: string;
  apply: (img: LevelImage, m: number, s: number) => LevelImage;
  /** The op's parameter at (m, s), for traces and the preview. */
  parameter: (img: LevelImage, m: number, s: number) => number | null;
}

/** Enhance factor 0.05 + 0.9 m, in [0.05, 0.95). */
const enhance = (m: number): number => 0.05 + 0.9 * m;

/**
 * The 14 ops with the references' ranges (magnitudes drawn uniformly, as in the continuous-magnitude
 * variants of the references, not on the 1..9 grid of one PyTorch port): enhance factors 0.05-0.95, Posterize
 * 4-8 bits, Rotate ±30 degrees, Shear ±0.3, Solarize threshold 0-256, Translate ±0.3 of the side. Geometric ops
 * fill with black, as PIL's defaults that the references use.
 */
export const RAND_AUGMENT_OPS: readonly RandOp[] = [
  { name: 'Identity', apply: (img) => identity(img), parameter: () => null },
  { name: 'AutoContrast', apply: (img) => autoContrast(img), parameter: () => null },
  { name: 'Equalize', apply: (img) => equalize(img), parameter: () => null },
  { name: 'Rotate', apply: (img, m, s) => rotate(img, 30 * m * s), parameter: (_i, m, s) => 30 * m * s },
  { name: 'Solarize', apply: (img, m) => solarize(img, 256 * m), parameter: (_i, m) => 256 * m },
  { name: 'Color', apply: (img, m) => color(img, enhance(m)), parameter: (_i, m) => enhance(m) },
  { name: 'Contrast', apply: (img, m) => contrast(img, enhance(m)), parameter: (_i, m) => enhance(m) },
  { name: 'Brightness', apply: (img, m) => brightness(img, enhance(m)), parameter: (_i, m) => enhance(m) },
  { name: 'Sharpness', apply: (img, m) => sharpness(img, enhance(m)), parameter: (_i, m) => enhance(m) },
  { name: 'ShearX', apply: (img, m, s) => shearX(img, 0.3 * m * s), parameter: (_i, m, s) => 0.3 * m * s },
  { name: 'ShearY', apply: (img, m, s) => shearY(img, 0.3 * m * s), parameter: (_i, m, s) => 0.3 * m * s },
  { name: 'TranslateX', apply: (img, m, s) => translateX(img, 0.3 * m * s * img.width), parameter: (img, m, s) => 0.3 * m * s * img.width },
  { name: 'TranslateY', apply: (img, m, s) => translateY(img, 0.3 * m * s * img.height), parameter: (img, m, s) => 0.3 * m * s * img.height },
  { name: 'Posterize', apply: (img, m) => posterize(img, 4 + Math.floor(5 * m)), parameter: (_i, m) => 4 + Math.floor(5 * m) },
];

export interface RandAugmentOptions {
  /** Ops drawn per image, with replacement (default 2). */
  n?: number;
  /** Probability that a drawn op is applied (default 0.5). */
  p?: number;
  /** Cutout side as a share of the image side (default 0.5: 16 px on 32, 14 on 28); 0 turns Cutout off. */
  cutout?: number;
  /** Cutout fill (default grey 0.5). */
  cutoutFill?: number;
}

/** What RandAugment did to one image (for the preview and tests). */
export interface RandAugmentTrace {
  ops: { name: string; applied: boolean; parameter: number | null }[];
  cutout: { cx: number; cy: number; size: number } | null;
}

/**
 * RandAugment + Cutout on one image. Random draws, in this order: per op the op index (uniform over the 14),
 * whether it applies (uniform < p), its magnitude m (uniform in [0, 1)) and its sign (uniform < 0.5: negative),
 * all four always drawn; then the Cutout centre (x, y uniform over the image). The ops run on 8-bit levels
 * (PIL semantics); Cutout runs on the float result.
 */
export function randAugmentImage(img: FloatImage, rng: Random, options: RandAugmentOptions = {}, trace?: RandAugmentTrace): FloatImage {
  const n = options.n ?? 2;
  const p = options.p ?? 0.5;
  const share = options.cutout ?? 0.5;
  if (!Number.isInteger(n) || n < 0) throw new Error(`randAugment: n must be a non-negative integer, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new Error(`randAugment: p must be in [0, 1], got ${p}`);
  if (!(share >= 0 && share <= 1)) throw new Error(`randAugment: cutout must be in [0, 1], got ${share}`);
  let levels = floatToLevels(img);
  for (let k = 0; k < n; k++) {
    const op = RAND_AUGMENT_OPS[rng.int(RAND_AUGMENT_OPS.length)];
    const applied = rng.uniform() < p;
    const m = rng.uniform();
    const s = rng.uniform() < 0.5 ? -1 : 1;
    trace?.ops.push({ name: op.name, applied, parameter: op.parameter(levels, m, s) });
    if (applied) levels = op.apply(levels, m, s);
  }
  let out = levelsToFloat(levels);
  if (share > 0) {
    const size = Math.floor(Math.min(img.height, img.width) * share);
    const cx = rng.uniform() * img.width;
    const cy = rng.uniform() * img.height;
    if (trace) trace.cutout = { cx, cy, size };
    out = cutout(out, cx, cy, size, options.cutoutFill ?? 0.5);
  }
  return out;
}

/**
 * Strong views of a batch (a new batch): per image the weak view (flip where allowed, shift) and then
 * RandAugment + Cutout, from one generator image after image (same seed, same images, on any backend).
 */
export function strongAugment(batch: ImageBatch, rng: Random, weak: WeakOptions, options: RandAugmentOptions = {}, traces?: RandAugmentTrace[]): ImageBatch {
  checkBatch('strongAugment', batch);
  const size = batch.channels * batch.height * batch.width;
  const out: ImageBatch = { ...batch, data: new Float32Array(batch.data.length) };
  for (let i = 0; i < batch.count; i++) {
    const img: FloatImage = { data: batch.data.subarray(i * size, (i + 1) * size), channels: batch.channels, height: batch.height, width: batch.width };
    const trace: RandAugmentTrace | undefined = traces ? { ops: [], cutout: null } : undefined;
    out.data.set(randAugmentImage(weakAugmentImage(img, rng, weak), rng, options, trace).data, i * size);
    if (trace) traces!.push(trace);
  }
  return out;
}
