// Deterministic augmentation runs shared by the Node tests and the Chromium bundle: synthetic grayscale and RGB batches, weak and strong views from fixed seeds.
import { RAND_AUGMENT_OPS, strongAugment, weakAugment, type ImageBatch } from '../../src/augment/index.js';
import { Random } from '../../src/util/random.js';

/** A batch of smooth random images with levels k/255 (blobs, so that every op changes something). */
export function syntheticBatch(count: number, channels: number, side: number, seed: number): ImageBatch {
  const rng = new Random(seed);
  const data = new Float32Array(count * channels * side * side);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channels; c++) {
      const cx = rng.uniform() * side;
      const cy = rng.uniform() * side;
      const r = 2 + rng.uniform() * side / 3;
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
          const level = d2 < r * r ? 255 - Math.floor((200 * d2) / (r * r)) : rng.int(30);
          data[((i * channels + c) * side + y) * side + x] = level / 255;
        }
      }
    }
  }
  return { data, count, channels, height: side, width: side };
}

export interface AugmentCase {
  name: string;
  run: () => Float32Array;
}

/** Weak and strong views of grayscale 28x28 (no flip) and RGB 32x32 (flip) batches; the strong ones also once per op alone. */
export function augmentCases(): AugmentCase[] {
  const gray = syntheticBatch(6, 1, 28, 1);
  const rgb = syntheticBatch(6, 3, 32, 2);
  const cases: AugmentCase[] = [
    { name: 'weak gray', run: () => weakAugment(gray, new Random(11), { flip: false }).data },
    { name: 'weak rgb', run: () => weakAugment(rgb, new Random(12), { flip: true }).data },
    { name: 'strong gray', run: () => strongAugment(gray, new Random(13), { flip: false }).data },
    { name: 'strong rgb', run: () => strongAugment(rgb, new Random(14), { flip: true }).data },
  ];
  RAND_AUGMENT_OPS.forEach((op, k) => {
    cases.push({
      name: `op ${op.name} rgb`,
      run: () => {
        const out = new Float32Array(rgb.data.length);
        const size = 3 * 32 * 32;
        const rng = new Random(100 + k);
        for (let i = 0; i < rgb.count; i++) {
          const img = { data: rgb.data.subarray(i * size, (i + 1) * size), channels: 3, height: 32, width: 32 };
          const levels = { data: Uint8Array.from(img.data, (v) => Math.round(v * 255)), channels: 3, height: 32, width: 32 };
          const res = op.apply(levels, rng.uniform(), rng.uniform() < 0.5 ? -1 : 1);
          out.set(Float32Array.from(res.data, (v) => v / 255), i * size);
        }
        return out;
      },
    });
  });
  return cases;
}

export function f32ToBase64(a: Float32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

export function base64ToF32(s: string): Float32Array {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}
