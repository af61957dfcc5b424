// A picture of augmentations: originals with their weak and strong views side by side, as an 8-bit RGB raster (no Node built-ins).

import { Random } from '../util/random.js';
import { checkBatch, imageOf, type FloatImage, type ImageBatch } from './levels.js';
import { randAugmentImage, type RandAugmentTrace } from './randaugment.js';
import { weakAugmentImage, type WeakOptions } from './weak.js';

export interface PreviewOptions {
  weakViews?: number;
  strongViews?: number;
  /** Pixel magnification (default 4). */
  scale?: number;
  seed: number;
  weak: WeakOptions;
}

export interface PreviewGrid {
  /** Row-major RGB, 3 bytes per pixel. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** Column captions: 'original', 'weak 1', ..., 'strong 1', ... */
  columns: string[];
  /** Per image and strong view, the RandAugment ops drawn (for captions). */
  traces: RandAugmentTrace[][];
  cell: number;
  gap: number;
}

/**
 * Lays out `batch.count` rows of [original | weak views | strong views], each cell the image magnified by
 * `scale`, with a gap of 2 px (white between cells). Grayscale is drawn as grey; views come from one generator
 * seeded with `seed` (image after image: the weak views, then the strong ones).
 */
export function previewGrid(batch: ImageBatch, options: PreviewOptions): PreviewGrid {
  checkBatch('previewGrid', batch);
  const nw = options.weakViews ?? 2;
  const ns = options.strongViews ?? 4;
  const scale = options.scale ?? 4;
  const gap = 2;
  const cols = 1 + nw + ns;
  const cellW = batch.width * scale;
  const cellH = batch.height * scale;
  const width = cols * cellW + (cols + 1) * gap;
  const height = batch.count * cellH + (batch.count + 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const rng = new Random(options.seed);
  const traces: RandAugmentTrace[][] = [];
  const draw = (img: FloatImage, row: number, col: number): void => {
    const ox = gap + col * (cellW + gap);
    const oy = gap + row * (cellH + gap);
    const plane = img.height * img.width;
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const src = Math.floor(y / scale) * img.width + Math.floor(x / scale);
        const o = ((oy + y) * width + ox + x) * 3;
        for (let c = 0; c < 3; c++) {
          const v = img.data[(img.channels === 3 ? c * plane : 0) + src];
          rgb[o + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
        }
      }
    }
  };
  for (let i = 0; i < batch.count; i++) {
    const img = imageOf(batch, i);
    draw(img, i, 0);
    for (let k = 0; k < nw; k++) draw(weakAugmentImage(img, rng, options.weak), i, 1 + k);
    const row: RandAugmentTrace[] = [];
    for (let k = 0; k < ns; k++) {
      const trace: RandAugmentTrace = { ops: [], cutout: null };
      draw(randAugmentImage(weakAugmentImage(img, rng, options.weak), rng, {}, trace), i, 1 + nw + k);
      row.push(trace);
    }
    traces.push(row);
  }
  const columns = ['original', ...Array.from({ length: nw }, (_, k) => `weak ${k + 1}`), ...Array.from({ length: ns }, (_, k) => `strong ${k + 1}`)];
  return { rgb, width, height, columns, traces, cell: cellW, gap };
}

/** A trace as a short caption, e.g. "Rotate(-12.3) · ShearX(0.12)×" (× marks an op drawn but not applied). */
export function describeTrace(t: RandAugmentTrace): string {
  const ops = t.ops.map((o) => `${o.name}${o.parameter === null ? '' : `(${Number(o.parameter.toFixed(2))})`}${o.applied ? '' : '×'}`);
  return ops.join(' · ') + (t.cutout ? ` · Cutout(${t.cutout.size})` : '');
}
