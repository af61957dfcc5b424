// PIL's ImageEnhance on 0-255 levels: Color, Contrast, Brightness and Sharpness blend the image with a degenerate version of itself.

import { blankLike, checkLevelImage, type LevelImage } from './levels.js';

const f32 = Math.fround;

/**
 * Image.blend(degenerate, img, factor) per level: out = trunc(d + factor (v - d)), evaluated in float32 as
 * PIL's C code does, clamped to [0, 255] (factors outside [0, 1] extrapolate).
 */
export function blend(degenerate: LevelImage, img: LevelImage, factor: number): LevelImage {
  checkLevelImage('blend', img);
  if (degenerate.data.length !== img.data.length) throw new Error('blend: the two images differ in shape');
  if (typeof factor !== 'number' || !Number.isFinite(factor)) throw new Error(`blend: factor must be a finite number, got ${factor}`);
  const a = f32(factor);
  const out = blankLike(img);
  for (let i = 0; i < img.data.length; i++) {
    const d = degenerate.data[i];
    const t = f32(d + f32(a * (img.data[i] - d)));
    out.data[i] = t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
  }
  return out;
}

/** PIL's RGB -> L conversion: L = (19595 R + 38470 G + 7471 B + 2^15) >> 16 (ITU-R 601-2 luma, rounded); grayscale is a copy. */
export function luminance(img: LevelImage): Uint8Array {
  const plane = img.height * img.width;
  if (img.channels === 1) return img.data.slice();
  const out = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) {
    out[i] = (img.data[i] * 19595 + img.data[plane + i] * 38470 + img.data[2 * plane + i] * 7471 + 0x8000) >>> 16;
  }
  return out;
}

function checkFactor(where: string, factor: number): void {
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) throw new Error(`${where}: factor must be a finite number >= 0, got ${factor}`);
}

/** ImageEnhance.Color: blend with the image's grayscale version (L copied into every band); 0 gives grayscale, 1 the image. No-op on grayscale. */
export function color(img: LevelImage, factor: number): LevelImage {
  checkLevelImage('color', img);
  checkFactor('color', factor);
  const plane = img.height * img.width;
  const l = luminance(img);
  const deg = blankLike(img);
  for (let c = 0; c < img.channels; c++) deg.data.set(l, c * plane);
  return blend(deg, img, factor);
}

/** ImageEnhance.Contrast: blend with a flat image at the rounded mean luminance int(mean(L) + 0.5); 0 gives flat grey. */
export function contrast(img: LevelImage, factor: number): LevelImage {
  checkLevelImage('contrast', img);
  checkFactor('contrast', factor);
  const l = luminance(img);
  let s = 0;
  for (let i = 0; i < l.length; i++) s += l[i];
  const m = Math.trunc(s / l.length + 0.5);
  const deg = blankLike(img);
  deg.data.fill(m);
  return blend(deg, img, factor);
}

/** ImageEnhance.Brightness: blend with black, i.e. trunc(factor v) clamped; 0 gives black. */
export function brightness(img: LevelImage, factor: number): LevelImage {
  checkLevelImage('brightness', img);
  checkFactor('brightness', factor);
  return blend(blankLike(img), img, factor);
}

/**
 * ImageFilter.SMOOTH per band as Pillow (>= 9) computes it: weights k = float32(1/13), float32(5/13); per interior
 * pixel the float32 sum 0.5 + Σ_rows (v[x-1] k + v[x] k' + v[x+1] k) over the rows below, at and above the pixel,
 * in that order, truncated and clamped (the 0.5 rounds); the one-pixel border is copied unchanged.
 */
export function smooth(img: LevelImage): LevelImage {
  const { height: h, width: w } = img;
  const out = { ...img, data: img.data.slice() };
  const plane = h * w;
  const side = f32(1 / 13);
  const centre = f32(5 / 13);
  const d = img.data;
  // One kernel row: ((a k0 + b k1) + c k2) in float32, as KERNEL1x3 evaluates it.
  const row = (i: number, k1: number): number => f32(f32(f32(d[i - 1] * side) + f32(d[i] * k1)) + f32(d[i + 1] * side));
  for (let c = 0; c < img.channels; c++) {
    const p = c * plane;
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = p + y * w + x;
        let ss = 0.5;
        ss = f32(ss + row(i + w, side));
        ss = f32(ss + row(i, centre));
        ss = f32(ss + row(i - w, side));
        out.data[i] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
    }
  }
  return out;
}

/** ImageEnhance.Sharpness: blend with the SMOOTH-filtered image; 0 blurs, 1 is the image, 2 sharpens. */
export function sharpness(img: LevelImage, factor: number): LevelImage {
  checkLevelImage('sharpness', img);
  checkFactor('sharpness', factor);
  return blend(smooth(img), img, factor);
}
