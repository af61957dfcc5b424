// PIL's geometric ops on 0-255 levels: affine transform with nearest sampling (Image.transform AFFINE), Rotate, ShearX/Y, TranslateX/Y.

import { blankLike, checkLevelImage, type LevelImage } from './levels.js';

/** The coefficients (a, b, c, d, e, f) of PIL's AFFINE transform: output pixel (x, y) samples input (a x + b y + c, d x + e y + f). */
export type AffineCoefficients = readonly [number, number, number, number, number, number];

function checkFill(where: string, fill: number): void {
  if (!Number.isInteger(fill) || fill < 0 || fill > 255) throw new Error(`${where}: fill must be a level in [0, 255], got ${fill}`);
}

/** Pillow's 16.16 fixed-point rounding FIX(v) = floor(v * 65536 + 0.5). */
const fix = (v: number): number => Math.floor(v * 65536 + 0.5);

/**
 * Image.transform(size, AFFINE, coefficients, NEAREST): output pixel (x, y) takes the input pixel at
 * (floor(a (x+½) + b (y+½) + c), floor(d (x+½) + e (y+½) + f)), or `fill` when that lies outside the image.
 * As Pillow: pure scalings/translations (b = d = 0) accumulate the coordinates in doubles; other maps (rotations,
 * shears) in 16.16 fixed point (coefficients rounded by FIX, steps added as integers, coordinate = sum >> 16)
 * whenever the image corners map inside ±32768, so the results match Pillow level for level.
 */
export function affine(img: LevelImage, m: AffineCoefficients, fill = 0): LevelImage {
  checkLevelImage('affine', img);
  checkFill('affine', fill);
  if (m.length !== 6 || m.some((v) => !Number.isFinite(v))) throw new Error(`affine: expected 6 finite coefficients, got [${m.join(', ')}]`);
  const [a, b, c, d, e, f] = m;
  const { height: h, width: w } = img;
  const plane = h * w;
  const out = blankLike(img);
  const inRange = (x: number, y: number): boolean => Math.abs(x * a + y * b + c) < 32768 && Math.abs(x * d + y * e + f) < 32768;
  if ((b !== 0 || d !== 0) && inRange(0, 0) && inRange(w, h) && inRange(0, h) && inRange(w, 0)) {
    const a0 = fix(a);
    const a1 = fix(b);
    const a3 = fix(d);
    const a4 = fix(e);
    let a2 = fix(c + a * 0.5 + b * 0.5);
    let a5 = fix(f + d * 0.5 + e * 0.5);
    for (let y = 0; y < h; y++) {
      let xx = a2;
      let yy = a5;
      for (let x = 0; x < w; x++) {
        const xi = Math.floor(xx / 65536);
        const yi = Math.floor(yy / 65536);
        const inside = xi >= 0 && xi < w && yi >= 0 && yi < h;
        for (let ch = 0; ch < img.channels; ch++) out.data[ch * plane + y * w + x] = inside ? img.data[ch * plane + yi * w + xi] : fill;
        xx += a0;
        yy += a3;
      }
      a2 += a1;
      a5 += a4;
    }
    return out;
  }
  let xo = c + b * 0.5 + a * 0.5;
  let yo = f + e * 0.5 + d * 0.5;
  for (let y = 0; y < h; y++) {
    let xx = xo;
    let yy = yo;
    for (let x = 0; x < w; x++) {
      const xi = xx < 0 ? -1 : Math.trunc(xx);
      const yi = yy < 0 ? -1 : Math.trunc(yy);
      const inside = xi >= 0 && xi < w && yi >= 0 && yi < h;
      for (let ch = 0; ch < img.channels; ch++) {
        out.data[ch * plane + y * w + x] = inside ? img.data[ch * plane + yi * w + xi] : fill;
      }
      xx += a;
      yy += d;
    }
    xo += b;
    yo += e;
  }
  return out;
}

/** Python's round(v, 15) (nearest double to the correctly rounded decimal). */
function round15(v: number): number {
  return Number(v.toFixed(15));
}

/**
 * Exact counter-clockwise rotations by 90/180/270 degrees (PIL's transpose ROTATE_90/180/270). Only for square
 * images when quarters is 1 or 3 (PIL's rotate keeps the size, so other images take the affine path).
 */
function rotateQuarter(img: LevelImage, quarters: 1 | 2 | 3): LevelImage {
  const { height: h, width: w } = img;
  const plane = h * w;
  const out = blankLike(img);
  for (let ch = 0; ch < img.channels; ch++) {
    const src = img.data.subarray(ch * plane, (ch + 1) * plane);
    const dst = out.data.subarray(ch * plane, (ch + 1) * plane);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Counter-clockwise by 90: out(y, x) = in(x, w-1-y); 180: in(h-1-y, w-1-x); 270: in(h-1-x, y).
        const v = quarters === 1 ? src[x * w + (w - 1 - y)] : quarters === 2 ? src[(h - 1 - y) * w + (w - 1 - x)] : src[(h - 1 - x) * w + y];
        dst[y * w + x] = v;
      }
    }
  }
  return out;
}

/**
 * Image.rotate(degrees) (counter-clockwise, about the centre (w/2, h/2), nearest, same size, corners filled
 * with `fill`). As PIL: multiples of 90 degrees on square images are exact transposes (180 on any image);
 * other angles use the affine map with cos/sin rounded to 15 decimals.
 */
export function rotate(img: LevelImage, degrees: number, fill = 0): LevelImage {
  checkLevelImage('rotate', img);
  checkFill('rotate', fill);
  if (typeof degrees !== 'number' || !Number.isFinite(degrees)) throw new Error(`rotate: degrees must be a finite number, got ${degrees}`);
  let deg = degrees % 360;
  if (deg < 0) deg += 360;
  if (deg === 0) return { ...img, data: img.data.slice() };
  const square = img.height === img.width;
  if (deg === 180 || (square && (deg === 90 || deg === 270))) return rotateQuarter(img, (deg / 90) as 1 | 2 | 3);
  const angle = -(deg * (Math.PI / 180));
  const a = round15(Math.cos(angle));
  const b = round15(Math.sin(angle));
  const d = round15(-Math.sin(angle));
  const e = round15(Math.cos(angle));
  const cx = img.width / 2;
  const cy = img.height / 2;
  const c = a * -cx + b * -cy + cx;
  const f = d * -cx + e * -cy + cy;
  return affine(img, [a, b, c, d, e, f], fill);
}

/** Horizontal shear: output (x, y) samples input (x + v y, y) (PIL transform (1, v, 0, 0, 1, 0)). */
export function shearX(img: LevelImage, v: number, fill = 0): LevelImage {
  return affine(img, [1, v, 0, 0, 1, 0], fill);
}

/** Vertical shear: output (x, y) samples input (x, v x + y) (PIL transform (1, 0, 0, v, 1, 0)). */
export function shearY(img: LevelImage, v: number, fill = 0): LevelImage {
  return affine(img, [1, 0, 0, v, 1, 0], fill);
}

/** Horizontal translation by `pixels` (may be fractional): output (x, y) samples input (x + pixels, y), so content moves left for pixels > 0. */
export function translateX(img: LevelImage, pixels: number, fill = 0): LevelImage {
  return affine(img, [1, 0, pixels, 0, 1, 0], fill);
}

/** Vertical translation by `pixels`: output (x, y) samples input (x, y + pixels), so content moves up for pixels > 0. */
export function translateY(img: LevelImage, pixels: number, fill = 0): LevelImage {
  return affine(img, [1, 0, 0, 0, 1, pixels], fill);
}
