// resizeImages against its documented interpolation (area coverage, half-pixel bilinear, per-axis auto) written as plain 2-D loops.
import { describe, expect, it } from 'vitest';
import { createImageDataset, type ImageDataset } from '../../src/data/dataset.js';
import { resizeImages, type ResizeMethod } from '../../src/data/resize.js';
import { expectClose } from './helpers.js';
import { Random } from '../../src/util/random.js';

function dataset(count: number, channels: number, h: number, w: number, seed: number): ImageDataset {
  const rng = new Random(seed);
  const images = new Float32Array(count * channels * h * w);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform();
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 3) % 10);
  return createImageDataset({ images, labels, count, channels, height: h, width: w, numClasses: 10, name: 'ref' });
}

/** Area: the mean of the input over the output pixel's box [oy·H/h, (oy+1)·H/h) × [ox·W/w, (ox+1)·W/w), by 2-D overlap areas. */
function areaPixel(img: ArrayLike<number>, H: number, W: number, h: number, w: number, oy: number, ox: number): number {
  const y0 = (oy * H) / h;
  const y1 = ((oy + 1) * H) / h;
  const x0 = (ox * W) / w;
  const x1 = ((ox + 1) * W) / w;
  let acc = 0;
  for (let iy = 0; iy < H; iy++)
    for (let ix = 0; ix < W; ix++) {
      const oyl = Math.max(0, Math.min(y1, iy + 1) - Math.max(y0, iy));
      const oxl = Math.max(0, Math.min(x1, ix + 1) - Math.max(x0, ix));
      acc += oyl * oxl * img[iy * W + ix];
    }
  return acc / ((y1 - y0) * (x1 - x0));
}

/** Source coordinate of output o under half-pixel centres, clamped to [0, in-1]: (o + ½)·in/out - ½. */
const srcCoord = (o: number, inSize: number, outSize: number): number => Math.min(Math.max(((o + 0.5) * inSize) / outSize - 0.5, 0), inSize - 1);

/** Bilinear: the four neighbours of the source point, weights (1-fy)(1-fx), (1-fy)fx, fy(1-fx), fy·fx, edges clamped. */
function bilinearPixel(img: ArrayLike<number>, H: number, W: number, h: number, w: number, oy: number, ox: number): number {
  const sy = srcCoord(oy, H, h);
  const sx = srcCoord(ox, W, w);
  const ya = Math.floor(sy);
  const xa = Math.floor(sx);
  const yb = Math.min(ya + 1, H - 1);
  const xb = Math.min(xa + 1, W - 1);
  const fy = sy - ya;
  const fx = sx - xa;
  return (1 - fy) * (1 - fx) * img[ya * W + xa] + (1 - fy) * fx * img[ya * W + xb] + fy * (1 - fx) * img[yb * W + xa] + fy * fx * img[yb * W + xb];
}

/** 'auto' per axis: area along an axis whose size divides evenly, bilinear along the other (a mixed 2-D filter). */
function mixedPixel(img: ArrayLike<number>, H: number, W: number, h: number, w: number, oy: number, ox: number, areaY: boolean): number {
  // area along y (box [oy·k, (oy+1)·k)), bilinear along x; or the reverse.
  let acc = 0;
  if (areaY) {
    const k = H / h;
    const sx = srcCoord(ox, W, w);
    const xa = Math.floor(sx);
    const xb = Math.min(xa + 1, W - 1);
    const fx = sx - xa;
    for (let iy = oy * k; iy < (oy + 1) * k; iy++) acc += ((1 - fx) * img[iy * W + xa] + fx * img[iy * W + xb]) / k;
  } else {
    const k = W / w;
    const sy = srcCoord(oy, H, h);
    const ya = Math.floor(sy);
    const yb = Math.min(ya + 1, H - 1);
    const fy = sy - ya;
    for (let ix = ox * k; ix < (ox + 1) * k; ix++) acc += ((1 - fy) * img[ya * W + ix] + fy * img[yb * W + ix]) / k;
  }
  return acc;
}

function reference(ds: ImageDataset, h: number, w: number, pixel: (img: Float32Array, oy: number, ox: number) => number): Float64Array {
  const H = ds.height;
  const W = ds.width;
  const planes = ds.count * ds.channels;
  const out = new Float64Array(planes * h * w);
  for (let p = 0; p < planes; p++) {
    const img = ds.images.subarray(p * H * W, (p + 1) * H * W);
    for (let oy = 0; oy < h; oy++) for (let ox = 0; ox < w; ox++) out[(p * h + oy) * w + ox] = pixel(img, oy, ox);
  }
  return out;
}

const tol = { rtol: 1e-6, atol: 1e-7 }; // the result is stored in float32

const CASES: Array<[ResizeMethod, number, number, number, number, 'area' | 'bilinear']> = [
  ['auto', 28, 28, 14, 14, 'area'],
  ['auto', 12, 9, 4, 3, 'area'],
  ['auto', 6, 5, 6, 5, 'area'], // equal sizes: the identity
  ['area', 7, 10, 3, 4, 'area'], // fractional coverage
  ['area', 5, 5, 2, 3, 'area'],
  ['bilinear', 28, 28, 20, 20, 'bilinear'],
  ['bilinear', 8, 6, 4, 3, 'bilinear'], // integer downscale, still bilinear when asked
  ['bilinear', 5, 4, 9, 11, 'bilinear'], // upscale: edges clamp
  ['auto', 10, 7, 4, 5, 'bilinear'], // neither axis divides evenly
  ['auto', 3, 3, 7, 8, 'bilinear'],
];

describe.each(CASES)('resizeImages method %s %ix%i -> %ix%i (%s)', (method, H, W, h, w, kind) => {
  it('every output pixel of every plane equals the documented filter', () => {
    const ds = dataset(3, 2, H, W, H * 100 + W);
    const r = resizeImages(ds, h, w, { method });
    expect([r.count, r.channels, r.height, r.width]).toEqual([3, 2, h, w]);
    expect(Array.from(r.labels)).toEqual(Array.from(ds.labels));
    const pix = kind === 'area' ? areaPixel : bilinearPixel;
    const want = reference(ds, h, w, (img, oy, ox) => pix(img, H, W, h, w, oy, ox));
    expectClose(r.images, want, { ...tol, label: `${method} ${H}x${W}->${h}x${w}` });
    if (H === h && W === w) expectClose(r.images, ds.images, { rtol: 0, atol: 0, label: 'identity' });
  });
});

describe('resizeImages auto with one evenly dividing axis', () => {
  it('28x21 -> 14x10: 2-row area averaging vertically, bilinear horizontally', () => {
    const ds = dataset(2, 3, 28, 21, 5);
    const r = resizeImages(ds, 14, 10);
    const want = reference(ds, 14, 10, (img, oy, ox) => mixedPixel(img, 28, 21, 14, 10, oy, ox, true));
    expectClose(r.images, want, { ...tol, label: 'area-y bilinear-x' });
  });

  it('9x16 -> 4x8: bilinear vertically, 2-column area averaging horizontally', () => {
    const ds = dataset(2, 1, 9, 16, 6);
    const r = resizeImages(ds, 4, 8);
    const want = reference(ds, 4, 8, (img, oy, ox) => mixedPixel(img, 9, 16, 4, 8, oy, ox, false));
    expectClose(r.images, want, { ...tol, label: 'bilinear-y area-x' });
  });

  it('hand-computed 4x4 -> 2x2 area and bilinear on a ramp', () => {
    const images = Float32Array.from({ length: 16 }, (_, i) => i);
    const ds = createImageDataset({ images, labels: new Uint8Array(1), count: 1, channels: 1, height: 4, width: 4, numClasses: 10, name: 'ramp' });
    // area: block means (0+1+4+5)/4 = 2.5, ...; bilinear 4->2: source 0.5 and 2.5, also 2.5 ... on a linear ramp.
    expect(Array.from(resizeImages(ds, 2, 2, { method: 'area' }).images)).toEqual([2.5, 4.5, 10.5, 12.5]);
    expect(Array.from(resizeImages(ds, 2, 2, { method: 'bilinear' }).images)).toEqual([2.5, 4.5, 10.5, 12.5]);
    // 4 -> 3 along one axis: source coordinates 1/6·... : (o+½)·4/3 - ½ = 1/6, 3/2, 17/6.
    const b = resizeImages(ds, 4, 3, { method: 'bilinear' }).images;
    expectClose(b.subarray(0, 3), [1 / 6, 1.5, 17 / 6], { rtol: 1e-6, atol: 1e-7, label: 'row 0' });
  });
});
