// Thesis fig. 5.2: per class of the pool (ID classes, then OOD classes as a separate row group), the highest, median and lowest weighted sample image of one run's kept learner, as an RGB raster with caption positions and as SVG with the pixels embedded.

import type { ImageDataset } from '../data/dataset.js';
import { escapeHtml } from '../report/html.js';
import type { ConfidenceSettingResult, WeightLearningRun } from './confidence-results.js';
import { keptSnapshot, weightRunLabel } from './confidence-report-data.js';

export type WeightRank = 'highest' | 'median' | 'lowest';

/** One picked image. */
export interface WeightedImagePick {
  rank: WeightRank;
  /** Position in `WeightLearningRun.sample`. */
  position: number;
  poolIndex: number;
  weight: number;
}

/** The picks of one class: in-distribution or not, the pool's own label, and highest/median/lowest. */
export interface WeightedImageGroup {
  inDistribution: boolean;
  label: number;
  /** Images of this class in the sample. */
  count: number;
  picks: WeightedImagePick[];
}

/**
 * Groups the sample by (in-distribution, pool label) — ID classes first, then OOD classes, labels ascending — and
 * picks per group: highest = the largest weight, lowest = the smallest weight (ties: the lower pool index), median
 * = the lower median, position ⌊(n−1)/2⌋ when the group is sorted by weight ascending then pool index.
 */
export function pickWeightedImages(run: Pick<WeightLearningRun, 'sample' | 'inDistribution' | 'labels'>, weights: readonly number[]): WeightedImageGroup[] {
  const n = run.sample.length;
  if (weights.length !== n || run.inDistribution.length !== n || run.labels.length !== n) {
    throw new Error(`pickWeightedImages: ${weights.length} weights, ${run.inDistribution.length} inDistribution flags and ${run.labels.length} labels for ${n} sampled images`);
  }
  const keys = new Map<string, { inDistribution: boolean; label: number; members: number[] }>();
  for (let i = 0; i < n; i++) {
    const id = run.inDistribution[i] === 1;
    const key = `${id ? 0 : 1}:${run.labels[i]}`;
    const g = keys.get(key) ?? { inDistribution: id, label: run.labels[i], members: [] };
    g.members.push(i);
    keys.set(key, g);
  }
  const groups = [...keys.values()].sort((a, b) => Number(b.inDistribution) - Number(a.inDistribution) || a.label - b.label);
  return groups.map(({ inDistribution, label, members }) => {
    const ascending = [...members].sort((a, b) => weights[a] - weights[b] || run.sample[a] - run.sample[b]);
    const byHighest = [...members].sort((a, b) => weights[b] - weights[a] || run.sample[a] - run.sample[b]);
    const pick = (rank: WeightRank, position: number): WeightedImagePick => ({ rank, position, poolIndex: run.sample[position], weight: weights[position] });
    return {
      inDistribution, label, count: members.length,
      picks: [pick('highest', byHighest[0]), pick('median', ascending[Math.floor((members.length - 1) / 2)]), pick('lowest', ascending[0])],
    };
  });
}

/** A text to print over the raster (SVG coordinates = raster pixels). */
export interface GridText {
  x: number;
  y: number;
  text: string;
  anchor: 'start' | 'middle';
  bold?: boolean;
}

export interface WeightedImageGrid {
  /** Row-major RGB, 3 bytes per pixel; white where the texts go. */
  rgb: Uint8Array;
  width: number;
  height: number;
  texts: GridText[];
  groups: WeightedImageGroup[];
  /** Where each picked image is drawn (top-left corner, size in raster pixels). */
  cells: { pick: WeightedImagePick; group: number; x: number; y: number; width: number; height: number }[];
}

export interface ImageGridOptions {
  /** Pixel magnification (default 2). */
  scale?: number;
  /** Class blocks side by side (default 2, like the thesis' figure). */
  groupsPerRow?: number;
  /** Class names for the captions; by default "class k". */
  classNames?: { id?: readonly string[]; ood?: readonly string[] };
  /** Decimals of the printed weights (default 2). */
  digits?: number;
}

const GAP = 4;
const BLOCK_GAP = 16;
const CAPTION = 16;
const WEIGHT_TEXT = 14;
const HEADER = 20;
const MARGIN = 6;

function checkPool(pool: ImageDataset, run: WeightLearningRun, where: string): void {
  if (pool.channels !== 1 && pool.channels !== 3) throw new Error(`${where}: pool "${pool.name}" has ${pool.channels} channels; pictures need 1 (grey) or 3 (RGB)`);
  run.sample.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= pool.count) throw new Error(`${where}: sample[${i}] = ${p} is not an index of pool "${pool.name}" (${pool.count} images)`);
    if (pool.labels[p] !== run.labels[i]) throw new Error(`${where}: sample[${i}] is pool image ${p} with label ${pool.labels[p]}, but the run says ${run.labels[i]} (wrong pool?)`);
  });
}

/**
 * Draws thesis fig. 5.2 for one run: a header row per section ("In-distribution", "Out-of-distribution"), then per
 * class a block with its caption and the highest, median and lowest weighted image (kept learner, original images)
 * magnified by `scale`, each with its weight printed below (as `texts`, for the SVG).
 */
export function weightedImageGrid(pool: ImageDataset, result: ConfidenceSettingResult, run: WeightLearningRun, options: ImageGridOptions = {}): WeightedImageGrid {
  const where = `weightedImageGrid (${weightRunLabel(result, run)})`;
  const scale = options.scale ?? 2;
  const perRow = options.groupsPerRow ?? 2;
  const digits = options.digits ?? 2;
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`${where}: scale must be a positive integer, got ${scale}`);
  if (!Number.isInteger(perRow) || perRow < 1) throw new Error(`${where}: groupsPerRow must be a positive integer, got ${perRow}`);
  checkPool(pool, run, where);
  const groups = pickWeightedImages(run, keptSnapshot(result, run).original);
  const cellW = pool.width * scale;
  const cellH = pool.height * scale;
  const blockW = 3 * cellW + 2 * GAP;
  const blockH = CAPTION + cellH + WEIGHT_TEXT;
  const width = 2 * MARGIN + Math.max(perRow * blockW + (perRow - 1) * BLOCK_GAP, 260);
  const texts: GridText[] = [];
  const cells: WeightedImageGrid['cells'] = [];
  let y = MARGIN;
  const sections = [true, false].map((id) => groups.map((g, k) => ({ g, k })).filter(({ g }) => g.inDistribution === id));
  sections.forEach((members, s) => {
    if (members.length === 0) return;
    const kind = s === 0 ? 'In-distribution' : 'Out-of-distribution';
    texts.push({ x: MARGIN, y: y + 14, text: `${kind}: highest, median, lowest weight per class`, anchor: 'start', bold: true });
    y += HEADER;
    members.forEach(({ g, k }, j) => {
      const bx = MARGIN + (j % perRow) * (blockW + BLOCK_GAP);
      const by = y + Math.floor(j / perRow) * (blockH + GAP);
      const names = g.inDistribution ? options.classNames?.id : options.classNames?.ood;
      texts.push({ x: bx, y: by + 12, text: `${names?.[g.label] ?? `class ${g.label}`} (${g.count})`, anchor: 'start' });
      g.picks.forEach((pick, c) => {
        const cx = bx + c * (cellW + GAP);
        cells.push({ pick, group: k, x: cx, y: by + CAPTION, width: cellW, height: cellH });
        texts.push({ x: cx + cellW / 2, y: by + CAPTION + cellH + 11, text: pick.weight.toFixed(digits), anchor: 'middle' });
      });
    });
    y += Math.ceil(members.length / perRow) * (blockH + GAP);
  });
  const height = y + MARGIN;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const plane = pool.height * pool.width;
  const size = pool.channels * plane;
  for (const cell of cells) {
    const base = cell.pick.poolIndex * size;
    for (let yy = 0; yy < cellH; yy++) {
      for (let xx = 0; xx < cellW; xx++) {
        const src = Math.floor(yy / scale) * pool.width + Math.floor(xx / scale);
        const o = ((cell.y + yy) * width + cell.x + xx) * 3;
        for (let ch = 0; ch < 3; ch++) {
          const v = pool.images[base + (pool.channels === 3 ? ch * plane : 0) + src];
          rgb[o + ch] = Math.round(Math.min(1, Math.max(0, v)) * 255);
        }
      }
    }
  }
  return { rgb, width, height, texts, groups, cells };
}

/** Base64 of bytes (portable: no Buffer). */
export function base64(bytes: Uint8Array): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    const n = (a << 16) | (b << 8) | c;
    out += abc[(n >> 18) & 63] + abc[(n >> 12) & 63] + (i + 1 < bytes.length ? abc[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? abc[n & 63] : '=');
  }
  return out;
}

/** Encodes an RGB raster as PNG (in Node: `encodePngRgb` of `src/node/png.ts`). */
export type PngEncoder = (rgb: Uint8Array, width: number, height: number) => Uint8Array;

/** The grid as a standalone SVG: the raster as an embedded PNG (pixelated) under the captions and weights as text. */
export function weightedImageGridSvg(grid: WeightedImageGrid, encodePng: PngEncoder, title?: string): string {
  const png = base64(encodePng(grid.rgb, grid.width, grid.height));
  const texts = grid.texts.map((t) => `<text x="${t.x}" y="${t.y}" text-anchor="${t.anchor}"${t.bold ? ' font-weight="bold"' : ''}>${escapeHtml(t.text)}</text>`);
  const tips = grid.cells.map((c) => `<rect x="${c.x}" y="${c.y}" width="${c.width}" height="${c.height}" fill="transparent"><title>${c.pick.rank}: pool image ${c.pick.poolIndex}, weight ${c.pick.weight}</title></rect>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width}" height="${grid.height}" viewBox="0 0 ${grid.width} ${grid.height}" font-family="sans-serif" font-size="11">\n` +
    (title ? `<title>${escapeHtml(title)}</title>\n` : '') +
    `<image x="0" y="0" width="${grid.width}" height="${grid.height}" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>\n` +
    `${texts.join('\n')}\n${tips.join('\n')}\n</svg>\n`;
}
