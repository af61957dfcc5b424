// Tests for resizeImages: exact 2x2 means for 28->14, identity, bilinear for non-integer factors, channels kept apart.
import { describe, expect, it } from "vitest";

import { createImageDataset, type ImageDataset } from "../../src/data/dataset.js";
import { loadMnist } from "../../src/node/mnist.js";
import { resizeImages } from "../../src/data/resize.js";
import { subset } from "../../src/data/dataset.js";
import { Random } from "../../src/util/random.js";

function randomDataset(count: number, channels: number, h: number, w: number, seed: number): ImageDataset {
  const rng = new Random(seed);
  const images = new Float32Array(count * channels * h * w);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform();
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return createImageDataset({ images, labels, count, channels, height: h, width: w, numClasses: 10, name: "rand" });
}

/** Reference k x k block means, computed directly. */
function blockMeans(ds: ImageDataset, k: number): Float32Array {
  const oh = ds.height / k;
  const ow = ds.width / k;
  const out = new Float32Array(ds.count * ds.channels * oh * ow);
  for (let p = 0; p < ds.count * ds.channels; p++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        let s = 0;
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++) s += ds.images[p * ds.height * ds.width + (y * k + dy) * ds.width + x * k + dx];
        out[p * oh * ow + y * ow + x] = s / (k * k);
      }
  return out;
}

describe("resizeImages", () => {
  it("28x28 -> 14x14 equals the exact 2x2 means (random data)", () => {
    const ds = randomDataset(20, 1, 28, 28, 1);
    const r = resizeImages(ds, 14, 14);
    expect([r.count, r.channels, r.height, r.width]).toEqual([20, 1, 14, 14]);
    expect(r.name).toBe("rand@14x14");
    expect(Array.from(r.labels)).toEqual(Array.from(ds.labels));
    expect(Array.from(r.images)).toEqual(Array.from(blockMeans(ds, 2)));
  });

  it("28x28 -> 14x14 equals the exact 2x2 means (real MNIST digits)", () => {
    const mnist = loadMnist();
    const ds = subset(mnist, Array.from({ length: 200 }, (_, i) => i * 50), "mnist-sample");
    const r = resizeImages(ds, 14, 14);
    expect(Array.from(r.images)).toEqual(Array.from(blockMeans(ds, 2)));
  });

  it("integer factors on 3 channels stay per channel (32 -> 8 = 4x4 means)", () => {
    const ds = randomDataset(3, 3, 32, 32, 2);
    const r = resizeImages(ds, 8, 8);
    const ref = blockMeans(ds, 4);
    for (let i = 0; i < ref.length; i++) expect(r.images[i]).toBeCloseTo(ref[i], 6);
  });

  it("same size is the identity", () => {
    const ds = randomDataset(2, 1, 5, 7, 3);
    expect(Array.from(resizeImages(ds, 5, 7).images)).toEqual(Array.from(ds.images));
    expect(Array.from(resizeImages(ds, 5, 7, { method: "bilinear" }).images)).toEqual(Array.from(ds.images));
  });

  it("bilinear for non-integer factors: constants and linear ramps are preserved", () => {
    const h = 28;
    const w = 28;
    const images = new Float32Array(2 * h * w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        images[y * w + x] = 0.25;
        images[h * w + y * w + x] = x / (w - 1);
      }
    const ds = createImageDataset({ images, labels: Uint8Array.from([0, 1]), count: 2, channels: 1, height: h, width: w, numClasses: 2, name: "ramp" });
    const r = resizeImages(ds, 20, 20);
    for (let i = 0; i < 400; i++) expect(r.images[i]).toBeCloseTo(0.25, 6);
    // Half-pixel centres: output x maps to source (x + 0.5) * 1.4 - 0.5, clamped.
    for (let x = 0; x < 20; x++) {
      const src = Math.min(Math.max((x + 0.5) * 1.4 - 0.5, 0), 27);
      expect(r.images[400 + 7 * 20 + x]).toBeCloseTo(src / 27, 5);
    }
    let min = Infinity;
    let max = -Infinity;
    for (const v of resizeImages(randomDataset(4, 1, 28, 28, 4), 20, 20).images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
  });

  it("upsamples bilinearly and supports explicit area for non-integer factors", () => {
    const ds = randomDataset(1, 1, 4, 4, 5);
    const up = resizeImages(ds, 8, 8);
    expect(up.images.length).toBe(64);
    // Area 4 -> 3: each output covers 4/3 input pixels; mean is preserved exactly.
    const area = resizeImages(ds, 3, 3, { method: "area" });
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(area.images)).toBeCloseTo(mean(ds.images), 6);
  });

  it("rejects bad sizes and methods", () => {
    const ds = randomDataset(1, 1, 4, 4, 6);
    expect(() => resizeImages(ds, 0, 4)).toThrow(/positive integers/);
    expect(() => resizeImages(ds, 2.5, 4)).toThrow(/positive integers/);
    expect(() => resizeImages(ds, 2, 2, { method: "nearest" as never })).toThrow(/unknown method/);
  });
});
