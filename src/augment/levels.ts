// 8-bit planar images (PIL's 0-255 levels) for the augmentation ops, and conversion from/to NCHW float batches in [0, 1].

/** One image as 8-bit levels, planar CHW (channel, row, column), like a PIL "L" or "RGB" image split into bands. */
export interface LevelImage {
  data: Uint8Array;
  channels: number;
  height: number;
  width: number;
}

/** One float image, planar CHW, values in [0, 1]. */
export interface FloatImage {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** A batch of float images, NCHW, values in [0, 1] (the layout of ImageDataset.images and of model inputs). */
export interface ImageBatch {
  data: Float32Array;
  count: number;
  channels: number;
  height: number;
  width: number;
}

/** Throws unless the batch's fields agree with each other (shape, array length, 1 or 3 channels). */
export function checkBatch(where: string, b: ImageBatch): void {
  for (const k of ['count', 'channels', 'height', 'width'] as const) {
    if (!Number.isInteger(b[k]) || b[k] < (k === 'count' ? 0 : 1)) throw new Error(`${where}: ${k} must be a positive integer, got ${String(b[k])}`);
  }
  if (b.channels !== 1 && b.channels !== 3) throw new Error(`${where}: images must have 1 (grayscale) or 3 (RGB) channels, got ${b.channels}`);
  const n = b.count * b.channels * b.height * b.width;
  if (!(b.data instanceof Float32Array) || b.data.length !== n) {
    throw new Error(`${where}: data must be a Float32Array of ${n} values (${b.count}x${b.channels}x${b.height}x${b.width}), got ${b.data?.length}`);
  }
}

/** Throws unless the image's fields agree (1 or 3 channels, data length). */
export function checkLevelImage(where: string, img: LevelImage): void {
  if (img.channels !== 1 && img.channels !== 3) throw new Error(`${where}: images must have 1 or 3 channels, got ${img.channels}`);
  if (!Number.isInteger(img.height) || !Number.isInteger(img.width) || img.height < 1 || img.width < 1) {
    throw new Error(`${where}: invalid image size ${img.height}x${img.width}`);
  }
  if (img.data.length !== img.channels * img.height * img.width) {
    throw new Error(`${where}: data has ${img.data.length} values, expected ${img.channels}x${img.height}x${img.width}`);
  }
}

/** An empty image of the same shape. */
export function blankLike(img: LevelImage): LevelImage {
  return { data: new Uint8Array(img.data.length), channels: img.channels, height: img.height, width: img.width };
}

/**
 * Image `index` of a float batch as levels: round(clamp(v, 0, 1) * 255) (what PIL gets from
 * torchvision's ToPILImage after the float image was made from 8-bit data; exact for values k/255).
 */
export function toLevels(batch: ImageBatch, index: number): LevelImage {
  const size = batch.channels * batch.height * batch.width;
  const out = new Uint8Array(size);
  const off = index * size;
  for (let i = 0; i < size; i++) {
    const v = batch.data[off + i];
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return { data: out, channels: batch.channels, height: batch.height, width: batch.width };
}

/** Writes levels back as floats v / 255 into image `index` of `batch` (torchvision's ToTensor). */
export function fromLevels(img: LevelImage, batch: ImageBatch, index: number): void {
  const size = img.data.length;
  const off = index * size;
  for (let i = 0; i < size; i++) batch.data[off + i] = img.data[i] / 255;
}

/** Image `index` of a batch (a copy). */
export function imageOf(batch: ImageBatch, index: number): FloatImage {
  const size = batch.channels * batch.height * batch.width;
  return { data: batch.data.slice(index * size, (index + 1) * size), channels: batch.channels, height: batch.height, width: batch.width };
}

/** Float image -> levels, round(clamp(v, 0, 1) * 255). */
export function floatToLevels(img: FloatImage): LevelImage {
  return toLevels({ ...img, count: 1 }, 0);
}

/** Levels -> float image, v / 255. */
export function levelsToFloat(img: LevelImage): FloatImage {
  const out: FloatImage = { data: new Float32Array(img.data.length), channels: img.channels, height: img.height, width: img.width };
  fromLevels(img, { ...out, count: 1 }, 0);
  return out;
}
