// The weak augmentation of FixMatch on float images: horizontal flip (p = 0.5, where the data set allows) and a random integer translation up to 12.5% of the side with reflect padding.

import { Random } from '../util/random.js';
import { checkBatch, type FloatImage, type ImageBatch } from './levels.js';

/** Mirror image left-right. */
export function flipHorizontal(img: FloatImage): FloatImage {
  const { channels, height: h, width: w } = img;
  const out = new Float32Array(img.data.length);
  for (let r = 0; r < channels * h; r++) {
    for (let x = 0; x < w; x++) out[r * w + x] = img.data[r * w + (w - 1 - x)];
  }
  return { ...img, data: out };
}

/** Index k reflected into [0, n) without repeating the edge (numpy/torch 'reflect': -1 -> 1, n -> n-2). */
function reflect(k: number, n: number): number {
  if (n === 1) return 0;
  let i = k;
  const period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

/**
 * Shift by (dx, dy) whole pixels with reflect padding: out(y, x) = in(reflect(y - dy), reflect(x - dx)), so
 * content moves right for dx > 0 and down for dy > 0. Equals RandomCrop(side, padding=p, padding_mode='reflect')
 * with crop offset (p - dy, p - dx).
 */
export function translateReflect(img: FloatImage, dx: number, dy: number): FloatImage {
  if (!Number.isInteger(dx) || !Number.isInteger(dy)) throw new Error(`translateReflect: shifts must be integers, got (${dx}, ${dy})`);
  const { channels, height: h, width: w } = img;
  const out = new Float32Array(img.data.length);
  const cols = new Int32Array(w);
  for (let x = 0; x < w; x++) cols[x] = reflect(x - dx, w);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) {
      const src = (c * h + reflect(y - dy, h)) * w;
      const dst = (c * h + y) * w;
      for (let x = 0; x < w; x++) out[dst + x] = img.data[src + cols[x]];
    }
  }
  return { ...img, data: out };
}

export interface WeakOptions {
  /** Flip left-right with probability 1/2 (a data-set property: never for digits). */
  flip: boolean;
  /** Largest shift as a share of the side (default 0.125, as the references: 4 px on 32, 3 px on 28). */
  translate?: number;
}

/** Largest shift in pixels for a side: floor(side * fraction) (torchvision's padding=int(32 * 0.125)). */
export function maxShift(side: number, fraction: number): number {
  return Math.floor(side * fraction);
}

/**
 * Weak view of one image: draws, in this order, the flip (one uniform, only when options.flip), then the
 * vertical and horizontal shifts, each uniform over the integers in [-p, p] with p = maxShift(side).
 */
export function weakAugmentImage(img: FloatImage, rng: Random, options: WeakOptions): FloatImage {
  const fraction = options.translate ?? 0.125;
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`weakAugment: translate must be in [0, 1), got ${fraction}`);
  let out = img;
  if (options.flip && rng.uniform() < 0.5) out = flipHorizontal(out);
  const py = maxShift(img.height, fraction);
  const px = maxShift(img.width, fraction);
  const dy = rng.int(2 * py + 1) - py;
  const dx = rng.int(2 * px + 1) - px;
  return translateReflect(out, dx, dy);
}

/** Weak views of a whole batch (a new batch), image after image from one generator: same seed, same images. */
export function weakAugment(batch: ImageBatch, rng: Random, options: WeakOptions): ImageBatch {
  checkBatch('weakAugment', batch);
  const size = batch.channels * batch.height * batch.width;
  const out: ImageBatch = { ...batch, data: new Float32Array(batch.data.length) };
  for (let i = 0; i < batch.count; i++) {
    const img: FloatImage = { data: batch.data.subarray(i * size, (i + 1) * size), channels: batch.channels, height: batch.height, width: batch.width };
    out.data.set(weakAugmentImage(img, rng, options).data, i * size);
  }
  return out;
}
