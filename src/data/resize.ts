// Image resizing for ImageDatasets: exact area averaging for integer downscale factors (28->14 = 2x2 mean), bilinear otherwise.

import { createImageDataset, type ImageDataset } from "./dataset.js";

/**
 * - "auto" (default): per axis, area averaging when the input size is an integer multiple of the
 *   output size (including equal sizes), bilinear interpolation otherwise.
 * - "area": box filter with exact fractional pixel coverage on both axes (any ratio).
 * - "bilinear": half-pixel-centre bilinear interpolation with edge clamping (like
 *   align_corners=false) on both axes.
 */
export type ResizeMethod = "auto" | "area" | "bilinear";

export interface ResizeOptions {
  method?: ResizeMethod;
  /** Name of the result; default `${ds.name}@${height}x${width}`. */
  name?: string;
}

/** For each output index: the input indices it reads and their weights (summing to 1). */
interface AxisWeights {
  index: number[][];
  weight: number[][];
}

function areaWeights(inSize: number, outSize: number): AxisWeights {
  // Work in units of 1/outSize input pixels so that coverage is computed in exact integers:
  // output o spans [o*inSize, (o+1)*inSize), input i spans [i*outSize, (i+1)*outSize).
  const index: number[][] = [];
  const weight: number[][] = [];
  for (let o = 0; o < outSize; o++) {
    const lo = o * inSize;
    const hi = (o + 1) * inSize;
    const idx: number[] = [];
    const w: number[] = [];
    for (let i = Math.floor(lo / outSize); i * outSize < hi && i < inSize; i++) {
      const overlap = Math.min(hi, (i + 1) * outSize) - Math.max(lo, i * outSize);
      if (overlap > 0) {
        idx.push(i);
        w.push(overlap / inSize);
      }
    }
    index.push(idx);
    weight.push(w);
  }
  return { index, weight };
}

function bilinearWeights(inSize: number, outSize: number): AxisWeights {
  const index: number[][] = [];
  const weight: number[][] = [];
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const f = src - i0;
    if (i1 === i0 || f === 0) {
      index.push([i0]);
      weight.push([1]);
    } else {
      index.push([i0, i1]);
      weight.push([1 - f, f]);
    }
  }
  return { index, weight };
}

function axisWeights(inSize: number, outSize: number, method: ResizeMethod): AxisWeights {
  if (method === "area" || (method === "auto" && inSize % outSize === 0)) return areaWeights(inSize, outSize);
  return bilinearWeights(inSize, outSize);
}

/**
 * Resizes every image of a dataset to height x width (all channels, labels unchanged), returning
 * a new dataset. With the default "auto" method, 28x28 -> 14x14 is exactly the mean of each 2x2
 * block; non-integer factors (e.g. 28 -> 20, or any upscale) use bilinear interpolation.
 */
export function resizeImages(ds: ImageDataset, height: number, width: number, options: ResizeOptions = {}): ImageDataset {
  const method = options.method ?? "auto";
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new Error(`resizeImages(${ds.name}): target size must be positive integers, got ${height}x${width}`);
  }
  if (method !== "auto" && method !== "area" && method !== "bilinear") {
    throw new Error(`resizeImages(${ds.name}): unknown method "${String(method)}"`);
  }
  const H = ds.height;
  const W = ds.width;
  const C = ds.channels;
  const wy = axisWeights(H, height, method);
  const wx = axisWeights(W, width, method);
  const planes = ds.count * C;
  const out = new Float32Array(planes * height * width);
  const tmp = new Float64Array(height * W); // vertical pass, kept in float64 so 2x2 means are exact
  for (let p = 0; p < planes; p++) {
    const src = p * H * W;
    for (let oy = 0; oy < height; oy++) {
      const idx = wy.index[oy];
      const w = wy.weight[oy];
      const row = oy * W;
      for (let x = 0; x < W; x++) tmp[row + x] = 0;
      for (let t = 0; t < idx.length; t++) {
        const s = src + idx[t] * W;
        const wt = w[t];
        for (let x = 0; x < W; x++) tmp[row + x] += wt * ds.images[s + x];
      }
    }
    const dst = p * height * width;
    for (let oy = 0; oy < height; oy++) {
      const row = oy * W;
      for (let ox = 0; ox < width; ox++) {
        const idx = wx.index[ox];
        const w = wx.weight[ox];
        let acc = 0;
        for (let t = 0; t < idx.length; t++) acc += w[t] * tmp[row + idx[t]];
        out[dst + oy * width + ox] = acc;
      }
    }
  }
  return createImageDataset({
    images: out,
    labels: new Uint8Array(ds.labels),
    count: ds.count,
    channels: C,
    height,
    width,
    numClasses: ds.numClasses,
    name: options.name ?? `${ds.name}@${height}x${width}`,
  });
}
