// Loads the real Fashion-MNIST IDX files from the Debian package dataset-fashion-mnist; required under CI.
import { describe, expect, it } from "vitest";

import { classHistogram } from "../../src/data/dataset.js";
import { FASHION_MNIST_DIR, hasMnistStyleFiles, loadFashionMnist } from "../../src/node/idx.js";
import { skipOrFail } from "../require-or-skip.js";

// FASHION_MNIST_DIR in the environment points the test at another copy of the files.
const dir = process.env.FASHION_MNIST_DIR || FASHION_MNIST_DIR;
const present = hasMnistStyleFiles(dir);
const reason = `Fashion-MNIST files not found in ${dir} (apt-get install -y dataset-fashion-mnist)`;

describe("Fashion-MNIST (real files)", () => {
  it("loads 60,000 train and 10,000 test images, 28x28, 10 balanced classes", (ctx) => {
    // Under CI a missing package is a failure, not a skip.
    if (!present) ctx.skip(skipOrFail("Fashion-MNIST (real files)", reason, { tag: "data" }));
    const { train, test } = loadFashionMnist(dir);
    expect([train.count, test.count]).toEqual([60000, 10000]);
    for (const ds of [train, test]) {
      expect([ds.channels, ds.height, ds.width, ds.numClasses]).toEqual([1, 28, 28, 10]);
      expect(ds.images.length).toBe(ds.count * 784);
    }
    expect(Array.from(classHistogram(train))).toEqual(new Array(10).fill(6000));
    expect(Array.from(classHistogram(test))).toEqual(new Array(10).fill(1000));
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of test.images) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    // Fashion-MNIST's mean pixel is about 0.286.
    expect(sum / test.images.length).toBeGreaterThan(0.25);
    expect(sum / test.images.length).toBeLessThan(0.32);
    // First training label of the official files is 9 (ankle boot); first test label is 9 too.
    expect(train.labels[0]).toBe(9);
    expect(test.labels[0]).toBe(9);
  });
});
