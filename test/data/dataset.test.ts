// Tests for the in-memory ImageDataset helpers: validation, subset, getBatch, batching.
import { describe, expect, it } from "vitest";

import {
  batchIndices,
  classHistogram,
  createImageDataset,
  flattenedSize,
  getBatch,
  iterateBatches,
  subset,
  validateDataset,
  type ImageDataset,
} from "../../src/data/dataset.js";
import { Random } from "../../src/util/random.js";

/** n images of 2x2x3 (C,H,W); every value of image i equals i/1000 + position/100000 so images are identifiable. */
function tiny(n: number): ImageDataset {
  const size = 2 * 2 * 3;
  const images = new Float32Array(n * size);
  for (let i = 0; i < n; i++) for (let p = 0; p < size; p++) images[i * size + p] = i / 1000 + p / 100000;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 3;
  return createImageDataset({ images, labels, count: n, channels: 2, height: 2, width: 3, numClasses: 3, name: "tiny" });
}

describe("dataset helpers", () => {
  it("flattenedSize is C*H*W", () => {
    expect(flattenedSize(tiny(1))).toBe(12);
    expect(flattenedSize({ channels: 3, height: 32, width: 32 })).toBe(3072);
  });

  it("getBatch gathers images and labels in the given order", () => {
    const ds = tiny(10);
    const { x, y } = getBatch(ds, [7, 2, 7]);
    expect(x.length).toBe(36);
    expect(Array.from(y)).toEqual([1, 2, 1]);
    expect(Array.from(x.subarray(0, 12))).toEqual(Array.from(ds.images.subarray(84, 96)));
    expect(Array.from(x.subarray(12, 24))).toEqual(Array.from(ds.images.subarray(24, 36)));
    expect(() => getBatch(ds, [0, 10])).toThrow(/index 10 at position 1 is out of range/);
    expect(() => getBatch(ds, [-1])).toThrow(/out of range/);
  });

  it("subset copies and keeps metadata", () => {
    const ds = tiny(10);
    const s = subset(ds, Int32Array.from([3, 4]), "tiny/part");
    expect(s.count).toBe(2);
    expect(s.name).toBe("tiny/part");
    expect([s.channels, s.height, s.width, s.numClasses]).toEqual([2, 2, 3, 3]);
    expect(Array.from(s.labels)).toEqual([0, 1]);
    s.images[0] = 42;
    expect(ds.images[36]).not.toBe(42);
    expect(() => validateDataset(s)).not.toThrow();
  });

  it("validateDataset rejects inconsistent datasets", () => {
    const ds = tiny(4);
    expect(() => validateDataset({ ...ds, count: 5 })).toThrow(/dataset "tiny": images has 48 values, expected 60/);
    expect(() => validateDataset({ ...ds, labels: new Uint8Array(3) })).toThrow(/3 labels for 4 images/);
    expect(() => validateDataset({ ...ds, labels: Uint8Array.from([0, 1, 2, 3]) })).toThrow(/label 3 of image 3 is out of range/);
    expect(() => validateDataset({ ...ds, numClasses: 0 })).toThrow(/numClasses/);
  });

  it("classHistogram counts labels", () => {
    expect(Array.from(classHistogram(tiny(10)))).toEqual([4, 3, 3]);
  });

  it("batchIndices covers every index once per epoch; rng makes it a seeded shuffle", () => {
    const plain = batchIndices(10, 4);
    expect(plain.map((b) => Array.from(b))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(batchIndices(10, 4, { dropLast: true }).length).toBe(2);
    const a = batchIndices(10, 3, { rng: new Random(5) }).map((b) => Array.from(b));
    const b = batchIndices(10, 3, { rng: new Random(5) }).map((b) => Array.from(b));
    expect(a).toEqual(b);
    expect(a.flat().sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => batchIndices(10, 0)).toThrow(/batchSize/);
  });

  it("iterateBatches yields getBatch results", () => {
    const ds = tiny(5);
    const batches = [...iterateBatches(ds, 2)];
    expect(batches.map((b) => b.y.length)).toEqual([2, 2, 1]);
    expect(Array.from(batches[2].x)).toEqual(Array.from(ds.images.subarray(48, 60)));
  });
});
