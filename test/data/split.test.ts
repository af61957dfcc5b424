// Tests for seeded train/validation/test splitting: determinism, disjointness, sizes, fractions, stratification.
import { describe, expect, it } from "vitest";

import { classHistogram, createImageDataset, type ImageDataset } from "../../src/data/dataset.js";
import { loadMnist } from "../../src/node/mnist.js";
import { resolveSplitSizes, splitDataset } from "../../src/data/split.js";

/** n one-pixel images whose single value encodes the image index (i / n), labels with a skewed histogram. */
function indexed(n: number, numClasses = 4): ImageDataset {
  const images = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    images[i] = i / n;
    labels[i] = i % 10 < 5 ? 0 : (i % 10) % numClasses; // class 0 is about half of the data
  }
  return createImageDataset({ images, labels, count: n, channels: 1, height: 1, width: 1, numClasses, name: "idx" });
}

const ids = (ds: ImageDataset): number[] => Array.from(ds.images, (v) => Math.round(v * 1000));

describe("splitDataset", () => {
  const ds = indexed(1000);

  it("covers the requested sizes with disjoint parts", () => {
    const s = splitDataset(ds, { train: 700, validation: 100, test: 150 }, 1);
    expect([s.train.count, s.validation.count, s.test.count]).toEqual([700, 100, 150]);
    expect([s.train.name, s.validation.name, s.test.name]).toEqual(["idx/train", "idx/validation", "idx/test"]);
    const all = [...ids(s.train), ...ids(s.validation), ...ids(s.test)];
    expect(new Set(all).size).toBe(950);
    for (const part of [s.train, s.validation, s.test]) {
      // labels travel with their images
      for (let i = 0; i < part.count; i++) expect(part.labels[i]).toBe(ds.labels[Math.round(part.images[i] * 1000)]);
    }
  });

  it("is deterministic for a seed and differs between seeds", () => {
    const a = splitDataset(ds, { train: 500, validation: 250, test: 250 }, 42);
    const b = splitDataset(ds, { train: 500, validation: 250, test: 250 }, 42);
    const c = splitDataset(ds, { train: 500, validation: 250, test: 250 }, 43);
    expect(ids(a.train)).toEqual(ids(b.train));
    expect(ids(a.validation)).toEqual(ids(b.validation));
    expect(ids(a.test)).toEqual(ids(b.test));
    expect(ids(a.train)).not.toEqual(ids(c.train));
    // Sorted order would mean no shuffling happened.
    expect(ids(a.train)).not.toEqual([...ids(a.train)].sort((p, q) => p - q));
  });

  it("accepts fractions and rounds them to whole images summing to the total", () => {
    expect(resolveSplitSizes(1000, { train: 0.8, validation: 0.1, test: 0.1 })).toEqual({ train: 800, validation: 100, test: 100 });
    expect(resolveSplitSizes(7, { train: 0.8, validation: 0.1, test: 0.1 })).toEqual({ train: 5, validation: 1, test: 1 });
    const r = resolveSplitSizes(7, { train: 1 / 3, validation: 1 / 3, test: 1 / 3 });
    expect(r.train + r.validation + r.test).toBe(7);
    expect(resolveSplitSizes(10, { train: 0.5, validation: 0, test: 0.25 })).toEqual({ train: 5, validation: 0, test: 3 });
    const s = splitDataset(ds, { train: 0.6, validation: 0.2, test: 0.2 }, 3);
    expect([s.train.count, s.validation.count, s.test.count]).toEqual([600, 200, 200]);
  });

  it("rejects sizes exceeding the dataset and malformed sizes", () => {
    expect(() => splitDataset(ds, { train: 900, validation: 100, test: 1 }, 1)).toThrow(
      /splitDataset\(idx\): requested 900 train \+ 100 validation \+ 1 test = 1001 images, but the dataset has only 1000/,
    );
    expect(() => splitDataset(ds, { train: 0.7, validation: 0.2, test: 0.2 }, 1)).toThrow(/fractions/);
    expect(() => splitDataset(ds, { train: 500.5, validation: 0, test: 0 }, 1)).toThrow(/mix fractions and counts/);
    expect(() => splitDataset(ds, { train: -1, validation: 0, test: 0 }, 1)).toThrow(/train size must be a non-negative number/);
  });

  it("allows empty parts", () => {
    const s = splitDataset(ds, { train: 10, validation: 0, test: 0 }, 1);
    expect([s.validation.count, s.test.count]).toEqual([0, 0]);
    expect(s.test.images.length).toBe(0);
  });

  it("stratified splits keep class proportions and stay deterministic and disjoint", () => {
    const hist = Array.from(classHistogram(ds));
    const sizes = { train: 600, validation: 150, test: 250 };
    const s = splitDataset(ds, sizes, 9, { stratify: true });
    const again = splitDataset(ds, sizes, 9, { stratify: true });
    expect(ids(s.test)).toEqual(ids(again.test));
    expect(new Set([...ids(s.train), ...ids(s.validation), ...ids(s.test)]).size).toBe(1000);
    for (const part of ["train", "validation", "test"] as const) {
      const h = classHistogram(s[part]);
      for (let c = 0; c < hist.length; c++) {
        expect(Math.abs(h[c] - (hist[c] * sizes[part]) / 1000)).toBeLessThanOrEqual(2);
      }
    }
  });

  it("splits real MNIST with stratification", () => {
    const mnist = loadMnist();
    const s = splitDataset(mnist, { train: 8000, validation: 1000, test: 1000 }, 2024, { stratify: true });
    expect([s.train.count, s.validation.count, s.test.count]).toEqual([8000, 1000, 1000]);
    const hv = classHistogram(s.validation);
    const hall = classHistogram(mnist);
    for (let c = 0; c < 10; c++) expect(Math.abs(hv[c] - hall[c] / 10)).toBeLessThanOrEqual(2);
  });
});
