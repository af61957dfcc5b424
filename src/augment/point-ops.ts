// Per-level lookup-table ops with PIL's ImageOps semantics on 0-255 levels: AutoContrast, Equalize, Posterize, Solarize, Identity.

import { checkLevelImage, type LevelImage } from './levels.js';

/** Applies one 256-entry table per channel (PIL's Image.point on a multi-band image). */
function applyLuts(img: LevelImage, luts: Uint8Array[]): LevelImage {
  const plane = img.height * img.width;
  const out = new Uint8Array(img.data.length);
  for (let c = 0; c < img.channels; c++) {
    const lut = luts[c];
    for (let i = c * plane; i < (c + 1) * plane; i++) out[i] = lut[img.data[i]];
  }
  return { data: out, channels: img.channels, height: img.height, width: img.width };
}

function histogram(img: LevelImage, c: number): Int32Array {
  const plane = img.height * img.width;
  const h = new Int32Array(256);
  for (let i = c * plane; i < (c + 1) * plane; i++) h[img.data[i]]++;
  return h;
}

function identityLut(): Uint8Array {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i;
  return lut;
}

/** The image unchanged (a copy). */
export function identity(img: LevelImage): LevelImage {
  checkLevelImage('identity', img);
  return { ...img, data: img.data.slice() };
}

/**
 * ImageOps.autocontrast with cutoff 0, per channel: with lo/hi the darkest/brightest level present,
 * level v -> trunc(v * 255/(hi-lo) - lo * 255/(hi-lo)) clamped to [0, 255]; a channel with hi <= lo is unchanged.
 */
export function autoContrast(img: LevelImage): LevelImage {
  checkLevelImage('autoContrast', img);
  const luts: Uint8Array[] = [];
  for (let c = 0; c < img.channels; c++) {
    const h = histogram(img, c);
    let lo = 0;
    while (lo < 255 && h[lo] === 0) lo++;
    let hi = 255;
    while (hi > 0 && h[hi] === 0) hi--;
    if (hi <= lo) {
      luts.push(identityLut());
      continue;
    }
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    const lut = new Uint8Array(256);
    for (let v = 0; v < 256; v++) lut[v] = Math.min(255, Math.max(0, Math.trunc(v * scale + offset)));
    luts.push(lut);
  }
  return applyLuts(img, luts);
}

/**
 * ImageOps.equalize, per channel: with h the histogram and S the pixel count outside the last occupied
 * level, step = floor(S / 255); level v -> floor((floor(step/2) + Σ_{u<v} h[u]) / step), clamped to 255 as
 * Image.point does. Channels with one occupied level or step 0 (fewer than 255 such pixels: every image of at
 * most 255 pixels, e.g. a 4x4 ramp) are unchanged, as in PIL.
 */
export function equalize(img: LevelImage): LevelImage {
  checkLevelImage('equalize', img);
  const luts: Uint8Array[] = [];
  for (let c = 0; c < img.channels; c++) {
    const h = histogram(img, c);
    let occupied = 0;
    let total = 0;
    let last = 0;
    for (let v = 0; v < 256; v++) {
      if (h[v] > 0) {
        occupied++;
        last = h[v];
        total += h[v];
      }
    }
    const step = Math.floor((total - last) / 255);
    if (occupied <= 1 || step === 0) {
      luts.push(identityLut());
      continue;
    }
    const lut = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let v = 0; v < 256; v++) {
      lut[v] = Math.min(255, Math.floor(n / step));
      n += h[v];
    }
    luts.push(lut);
  }
  return applyLuts(img, luts);
}

/** ImageOps.posterize: keeps the top `bits` bits of every level (v & ~(2^(8-bits) - 1)), bits in 1..8. */
export function posterize(img: LevelImage, bits: number): LevelImage {
  checkLevelImage('posterize', img);
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new Error(`posterize: bits must be an integer in [1, 8], got ${bits}`);
  const mask = ~((1 << (8 - bits)) - 1) & 0xff;
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = v & mask;
  return applyLuts(img, Array.from({ length: img.channels }, () => lut));
}

/** ImageOps.solarize: levels at or above `threshold` are inverted (v -> 255 - v); threshold in [0, 256] (256: no change). */
export function solarize(img: LevelImage, threshold: number): LevelImage {
  checkLevelImage('solarize', img);
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 256)) throw new Error(`solarize: threshold must be in [0, 256], got ${threshold}`);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = v < threshold ? v : 255 - v;
  return applyLuts(img, Array.from({ length: img.channels }, () => lut));
}
