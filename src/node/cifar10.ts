// CIFAR-10 binary-version reader: data_batch_1..5.bin and test_batch.bin (1 label byte + 3072 CHW pixel bytes per record).

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { createImageDataset, type ImageDataset } from "../data/dataset.js";

export const CIFAR10_SIDE = 32;
export const CIFAR10_CHANNELS = 3;
export const CIFAR10_PIXELS = CIFAR10_CHANNELS * CIFAR10_SIDE * CIFAR10_SIDE; // 3072
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_PIXELS; // 3073
export const CIFAR10_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR10_TEST_FILE = "test_batch.bin";

/** CIFAR-10 class names, by label. */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/**
 * Parses the bytes of one or more CIFAR-10 binary batch files into a dataset (3x32x32, pixels / 255).
 * Each part is checked on its own: non-empty, size a multiple of 3073, labels <= 9; errors name the
 * part's source. Records keep file order, parts are concatenated in the given order.
 */
export function parseCifar10Batches(parts: ReadonlyArray<{ bytes: Uint8Array; source: string }>, name: string): ImageDataset {
  let total = 0;
  for (const { bytes, source } of parts) {
    if (bytes.length === 0) throw new Error(`CIFAR-10 file ${source}: file is empty`);
    if (bytes.length % CIFAR10_RECORD_BYTES !== 0) {
      const whole = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
      throw new Error(
        `CIFAR-10 file ${source}: wrong size ${bytes.length} bytes, not a multiple of the ${CIFAR10_RECORD_BYTES}-byte record ` +
          `(${whole} whole records + ${bytes.length - whole * CIFAR10_RECORD_BYTES} extra bytes); truncated or not a CIFAR-10 binary batch`,
      );
    }
    const n = bytes.length / CIFAR10_RECORD_BYTES;
    for (let r = 0; r < n; r++) {
      const label = bytes[r * CIFAR10_RECORD_BYTES];
      if (label > 9) {
        throw new Error(
          `CIFAR-10 file ${source}: label ${label} of record ${r} (byte offset ${r * CIFAR10_RECORD_BYTES}) is out of range [0, 9]`,
        );
      }
    }
    total += n;
  }
  const images = new Float32Array(total * CIFAR10_PIXELS);
  const labels = new Uint8Array(total);
  let k = 0;
  for (const { bytes } of parts) {
    const n = bytes.length / CIFAR10_RECORD_BYTES;
    for (let r = 0; r < n; r++, k++) {
      const base = r * CIFAR10_RECORD_BYTES;
      labels[k] = bytes[base];
      // Pixels are already channel-major (1024 R, 1024 G, 1024 B; each row-major 32x32) = CHW.
      const out = k * CIFAR10_PIXELS;
      for (let i = 0; i < CIFAR10_PIXELS; i++) images[out + i] = bytes[base + 1 + i] / 255;
    }
  }
  return createImageDataset({
    images,
    labels,
    count: total,
    channels: CIFAR10_CHANNELS,
    height: CIFAR10_SIDE,
    width: CIFAR10_SIDE,
    numClasses: 10,
    name,
  });
}

/**
 * Resolves the folder holding the batch files: dir itself, or `dir/cifar-10-batches-bin` (the
 * folder inside the official `cifar-10-binary.tar.gz`) when dir lacks the files but has that.
 */
function resolveCifarDir(dir: string): string {
  if (!existsSync(dir)) throw new Error(`CIFAR-10: folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`CIFAR-10: ${dir} is not a folder`);
  const nested = join(dir, "cifar-10-batches-bin");
  if (!existsSync(join(dir, CIFAR10_TEST_FILE)) && existsSync(join(nested, CIFAR10_TEST_FILE))) return nested;
  return dir;
}

/**
 * Loads CIFAR-10 (binary version) from a folder with data_batch_1.bin .. data_batch_5.bin and
 * test_batch.bin (or its `cifar-10-batches-bin` subfolder). Returns train (batches 1-5 in order)
 * and test datasets, 3x32x32 NCHW with pixels in [0,1]. Throws an Error naming the folder/file for
 * a missing folder or file, a size that is not a multiple of 3073 bytes, or a label above 9.
 */
export function loadCifar10(dir: string): { train: ImageDataset; test: ImageDataset } {
  const root = resolveCifarDir(dir);
  const needed = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const missing = needed.filter((f) => !existsSync(join(root, f)));
  if (missing.length > 0) throw new Error(`CIFAR-10: missing file(s) in ${root}: ${missing.join(", ")}`);
  const read = (f: string): { bytes: Uint8Array; source: string } => {
    const source = join(root, f);
    try {
      return { bytes: readFileSync(source), source };
    } catch (err) {
      throw new Error(`CIFAR-10 file ${source}: cannot be read: ${(err as Error).message}`);
    }
  };
  return {
    train: parseCifar10Batches(CIFAR10_TRAIN_FILES.map(read), "cifar10/train"),
    test: parseCifar10Batches([read(CIFAR10_TEST_FILE)], "cifar10/test"),
  };
}
