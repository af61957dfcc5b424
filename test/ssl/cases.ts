// Tiny FixMatch problems shared by the trainer tests and the WebGPU comparison: 8x8 images of 3 classes (a bright bar at a class-dependent place).
import type { ImageDataset } from '../../src/data/dataset.js';
import { FIXMATCH_DEFAULTS, type FixMatchConfig } from '../../src/ssl/fixmatch-config.js';
import { sslSplit } from '../../src/ssl/ssl-split.js';
import { Random } from '../../src/util/random.js';

/** Class c images: a bright square at a class-dependent place, plus noise (8x8, levels k/255). */
export function toyData(count: number, seed: number, classes = 3): ImageDataset {
  const rng = new Random(seed);
  const images = new Float32Array(count * 64);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let p = 0; p < 64; p++) {
      const y = Math.floor(p / 8);
      const x = p % 8;
      const inside = y >= 2 && y < 6 && x >= 2 * c && x < 2 * c + 3;
      images[i * 64 + p] = (inside ? 200 + rng.int(55) : rng.int(60)) / 255;
    }
  }
  return { images, labels, count, channels: 1, height: 8, width: 8, numClasses: classes, name: `toy-${seed}` };
}

export const tinyConfig = (over: Partial<FixMatchConfig> = {}): FixMatchConfig => ({
  ...FIXMATCH_DEFAULTS, steps: 6, batchSize: 4, mu: 2, tau: 0.34, evalEvery: 2, checkpointEvery: 2, flip: false, seed: 3, emaDecay: 0.9, ...over,
});

export function tinyData() {
  const split = sslSplit(toyData(60, 1), 2, 0);
  return { ...split, validation: toyData(12, 2), test: toyData(15, 3) };
}

