// Shared by the examples: a small synthetic classification set (4x4 "images", 3 classes) so every example runs in seconds without downloads.
import { createImageDataset, Random, type ImageDataset } from 'iml-engine';

/** `n` 4x4 images whose class brightens one of three pixel phases, plus noise (seeded). */
export function syntheticImages(n: number, seed: number, name: string): ImageDataset {
  const rng = new Random(seed);
  const labels = new Uint8Array(n).map(() => rng.int(3));
  const images = new Float32Array(n * 16).map((_, i) =>
    Math.min(1, Math.max(0, 0.5 + 0.3 * rng.normal() + (labels[Math.floor(i / 16)] === i % 3 ? 0.3 : 0))));
  return createImageDataset({ images, labels, count: n, channels: 1, height: 4, width: 4, numClasses: 3, name });
}

/** Prints `value` as the last line, prefixed so tests can find it. */
export function printResult(value: unknown): void {
  console.log(`RESULT ${JSON.stringify(value)}`);
}
