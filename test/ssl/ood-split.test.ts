// OOD and class-mismatch splits on synthetic data sets whose pixels encode (source, index): counts, flags, disjointness, the fixed in-distribution count across shares, class-mismatch labels, seeding and errors.

import { describe, expect, it } from 'vitest';
import { classHistogram, type ImageDataset } from '../../src/data/dataset.js';
import { classMismatchSplit, oodCountFor, oodSplit } from '../../src/ssl/ood-split.js';

/** `perClass` images of each of 10 classes, 1x2x2; pixel 0 = source id, pixel 1 = index / 4096 (exact in float32). */
function synthetic(name: string, source: number, perClass: number, classes = 10): ImageDataset {
  const count = perClass * classes;
  const images = new Float32Array(count * 4);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % classes;
    images[i * 4] = source;
    images[i * 4 + 1] = i / 4096;
  }
  return { images, labels, count, channels: 1, height: 2, width: 2, numClasses: classes, name };
}

const key = (ds: ImageDataset, i: number): string => `${ds.images[i * 4]}:${ds.images[i * 4 + 1] * 4096}`;
const keys = (ds: ImageDataset): string[] => Array.from({ length: ds.count }, (_, i) => key(ds, i));

const mnist = synthetic('mnist', 1, 200);
const mnistTest = synthetic('mnist-test', 2, 20);
const fashion = synthetic('fashion', 3, 300);

describe('oodCountFor', () => {
  it('n_ood = round(n_id s / (1 − s)), so the OOD share of the pool is s', () => {
    expect([0, 0.25, 0.5, 0.75].map((s) => oodCountFor(600, s))).toEqual([0, 200, 600, 1800]);
    expect(oodCountFor(100, 0.25)).toBe(33); // 33.33 rounds down
    expect(() => oodCountFor(10, 1)).toThrow(/\[0, 1\)/);
    expect(() => oodCountFor(10, -0.1)).toThrow(/\[0, 1\)/);
  });
});

describe('oodSplit', () => {
  const shares = [0, 0.25, 0.5, 0.75];
  const splits = shares.map((oodShare) => oodSplit(mnist, mnistTest, fashion, { labelledPerClass: 4, validationPerClass: 10, inDistributionCount: 600, oodShare, seed: 5 }));

  it('labelled and validation are balanced, test unchanged, the pool holds 600 MNIST images plus the share of Fashion', () => {
    splits.forEach((s, k) => {
      expect(Array.from(classHistogram(s.labelled))).toEqual(new Array(10).fill(4));
      expect(Array.from(classHistogram(s.validation))).toEqual(new Array(10).fill(10));
      expect(s.test).toBe(mnistTest);
      const ood = [0, 200, 600, 1800][k];
      expect(s.idCount).toBe(600);
      expect(s.oodCount).toBe(ood);
      expect(s.unlabelled.count).toBe(600 + ood);
      expect(s.inDistribution.length).toBe(600 + ood);
    });
  });

  it('flags match the images\' sources, and no image is used twice (labelled, validation, pool are disjoint)', () => {
    for (const s of splits) {
      let id = 0;
      for (let i = 0; i < s.unlabelled.count; i++) {
        const src = s.unlabelled.images[i * 4];
        expect(s.inDistribution[i]).toBe(src === 1 ? 1 : 0);
        expect(src === 1 || src === 3).toBe(true);
        id += s.inDistribution[i];
      }
      expect(id).toBe(600);
      const all = [...keys(s.labelled), ...keys(s.validation), ...keys(s.unlabelled)];
      expect(new Set(all).size).toBe(all.length);
      // Pool labels are the sources' own (a copy of the image's label).
      for (let i = 0; i < s.unlabelled.count; i++) expect(s.unlabelled.labels[i]).toBe((s.unlabelled.images[i * 4 + 1] * 4096) % 10);
    }
  });

  it('mixes the pool (OOD images are not all at the end) and is reproducible from the seed', () => {
    const s = splits[2];
    const firstHalf = Array.from(s.inDistribution.subarray(0, 600)).reduce((a, v) => a + v, 0);
    expect(firstHalf).toBeGreaterThan(200);
    expect(firstHalf).toBeLessThan(400);
    const again = oodSplit(mnist, mnistTest, fashion, { labelledPerClass: 4, validationPerClass: 10, inDistributionCount: 600, oodShare: 0.5, seed: 5 });
    expect(keys(again.unlabelled)).toEqual(keys(s.unlabelled));
    const other = oodSplit(mnist, mnistTest, fashion, { labelledPerClass: 4, validationPerClass: 10, inDistributionCount: 600, oodShare: 0.5, seed: 6 });
    expect(keys(other.unlabelled)).not.toEqual(keys(s.unlabelled));
  });

  it('errors when a pool or class cannot be filled, and on bad options or shapes', () => {
    // 2000 MNIST images − 40 labelled − 100 validation = 1860 left.
    expect(() => oodSplit(mnist, mnistTest, fashion, { labelledPerClass: 4, validationPerClass: 10, inDistributionCount: 1861, oodShare: 0, seed: 1 }))
      .toThrow(/in-distribution pool.*1860 eligible images left, 1861 needed/);
    expect(() => oodSplit(mnist, mnistTest, fashion, { labelledPerClass: 4, validationPerClass: 10, inDistributionCount: 1001, oodShare: 0.75, seed: 1 }))
      .toThrow(/OOD pool.*"fashion" has 3000 eligible images left, 3003 needed/);
    expect(() => oodSplit(mnist, mnistTest, fashion, { labelledPerClass: 150, validationPerClass: 100, inDistributionCount: 10, oodShare: 0, seed: 1 }))
      .toThrow(/validation.*class 0 of "mnist" has 50 images left, 100 requested/);
    expect(() => oodSplit(mnist, mnistTest, fashion, { labelledPerClass: 0, inDistributionCount: 10, oodShare: 0, seed: 1 })).toThrow(/labelledPerClass must be an integer >= 1/);
    expect(() => oodSplit(mnist, mnistTest, fashion, { labelledPerClass: 1, inDistributionCount: 10, oodShare: 1, seed: 1 })).toThrow(/share must be in/);
    const big = { ...fashion, channels: 1, height: 1, width: 4, name: 'wide' };
    expect(() => oodSplit(mnist, mnistTest, big, { labelledPerClass: 1, inDistributionCount: 10, oodShare: 0.5, seed: 1 })).toThrow(/"wide" has images 1x1x4/);
  });
});

describe('classMismatchSplit', () => {
  const s = classMismatchSplit(mnist, mnistTest, { labelledPerClass: 5, validationPerClass: 10, inDistributionCount: 300, oodShare: 0.5, seed: 9 });

  it('labelled, validation and test hold classes 0-5 only, with numClasses 6', () => {
    for (const ds of [s.labelled, s.validation, s.test]) {
      expect(ds.numClasses).toBe(6);
      expect(Math.max(...ds.labels)).toBeLessThan(6);
    }
    expect(Array.from(classHistogram(s.labelled))).toEqual(new Array(6).fill(5));
    expect(Array.from(classHistogram(s.validation))).toEqual(new Array(6).fill(10));
    expect(Array.from(classHistogram(s.test))).toEqual(new Array(6).fill(20));
  });

  it('the pool has 300 known-class images and 300 of digits 6-9, flagged by class, disjoint from the labelled sets', () => {
    expect(s.idCount).toBe(300);
    expect(s.oodCount).toBe(300);
    expect(s.unlabelled.count).toBe(600);
    expect(s.unlabelled.numClasses).toBe(10);
    let unseen = 0;
    for (let i = 0; i < s.unlabelled.count; i++) {
      expect(s.inDistribution[i]).toBe(s.unlabelled.labels[i] < 6 ? 1 : 0);
      if (s.unlabelled.labels[i] >= 6) unseen++;
    }
    expect(unseen).toBe(300);
    const all = [...keys(s.labelled), ...keys(s.validation), ...keys(s.unlabelled)];
    expect(new Set(all).size).toBe(all.length);
  });

  it('keeps the known-class count fixed across shares and errors when the unseen classes run out', () => {
    for (const oodShare of [0, 0.25, 0.75]) {
      const t = classMismatchSplit(mnist, mnistTest, { labelledPerClass: 5, validationPerClass: 10, inDistributionCount: 200, oodShare, seed: 9 });
      expect(Array.from(t.inDistribution).reduce((a, v) => a + v, 0)).toBe(200);
      expect(t.oodCount).toBe(oodCountFor(200, oodShare));
    }
    // Digits 6-9: 4 x 200 = 800 images; share 0.75 of 300 known needs 900.
    expect(() => classMismatchSplit(mnist, mnistTest, { labelledPerClass: 5, inDistributionCount: 300, oodShare: 0.75, seed: 9 }))
      .toThrow(/unseen-class pool.*800 eligible images left, 900 needed/);
    expect(() => classMismatchSplit(mnist, mnistTest, { labelledPerClass: 5, inDistributionCount: 3, oodShare: 0, seed: 9, knownClasses: 10 }))
      .toThrow(/knownClasses must be an integer in \[2, 9\]/);
  });
});
