// IDX file format (MNIST / Fashion-MNIST): a pure parser plus Node file readers and the Fashion-MNIST loader.

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { constants as zlibConstants, gunzipSync } from "node:zlib";

import { createImageDataset, type ImageDataset } from "../data/dataset.js";

/** IDX element type codes (third header byte). Only UNSIGNED_BYTE is supported for data. */
export const IDX_TYPES: Readonly<Record<number, string>> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};
export const IDX_UBYTE = 0x08;

/** A parsed IDX file: shape (big-endian dims from the header) and the raw unsigned-byte payload. */
export interface IdxArray {
  /** Element type code; always 0x08 (unsigned byte) for arrays returned by parseIdx. */
  dataType: number;
  dims: number[];
  data: Uint8Array;
}

/** Bounds for {@link ParseIdxOptions.inflate}. */
export interface InflateLimits {
  /** `gz` is a prefix of the stream: return what it inflates to so far (no end-of-stream error). */
  partial: boolean;
  /** Stop (throw) once the output would exceed this many bytes (honoured when `partial` is false). */
  maxOutputLength?: number;
}

/** The largest IDX payload read (bytes after the header): 2^31 - 1, as a Float32Array of pixels must fit too. */
export const IDX_MAX_ELEMENTS = 2 ** 31 - 1;

export interface ParseIdxOptions {
  /**
   * Decompresses a gzip stream. Only needed for gzip input (magic 1f 8b); keeps this parser free
   * of Node APIs. {@link readIdxFile} passes node:zlib's gunzipSync. The parser first inflates growing
   * prefixes (`partial`) until it has the IDX header, then the whole stream bounded by the size the
   * header declares (`maxOutputLength`), so a gzip bomb is refused without being inflated. A function
   * that ignores the limits still works (the sizes are checked afterwards).
   */
  inflate?: (gz: Uint8Array, limits?: InflateLimits) => Uint8Array;
}

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(v: number, digits: number): string {
  return "0x" + v.toString(16).padStart(digits, "0");
}

interface IdxHeader {
  dataType: number;
  dims: number[];
  elements: number;
  headerBytes: number;
}

/** Reads and checks the IDX header at the start of `bytes` (magic number, element type, dimensions). */
function readIdxHeader(bytes: Uint8Array, where: string): IdxHeader {
  if (bytes.length < 4) {
    throw new Error(`${where}: truncated: ${bytes.length} bytes is shorter than the 4-byte IDX magic number`);
  }
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const dataType = bytes[2];
  const ndim = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(dataType in IDX_TYPES) || ndim === 0) {
    throw new Error(
      `${where}: bad magic number ${hex(magic, 8)}; expected 0x0000TTNN with a known type TT ` +
        `(08 = unsigned byte) and NN >= 1 dimensions — not an IDX file?`,
    );
  }
  if (dataType !== IDX_UBYTE) {
    throw new Error(
      `${where}: unsupported element type ${hex(dataType, 2)} (${IDX_TYPES[dataType]}); only ${hex(IDX_UBYTE, 2)} (unsigned byte) is supported`,
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new Error(`${where}: truncated header: ${ndim} dimensions need ${headerBytes} bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let elements = 1;
  for (let d = 0; d < ndim; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    elements *= size;
  }
  if (!Number.isSafeInteger(elements) || elements > IDX_MAX_ELEMENTS) {
    throw new Error(`${where}: dimensions ${dims.join("x")} are too large (${elements} bytes; at most ${IDX_MAX_ELEMENTS} are read)`);
  }
  return { dataType, dims, elements, headerBytes };
}

/**
 * Inflates a gzip'd IDX file without trusting it: the header is read from inflated prefixes first,
 * then the stream is inflated with a bound of exactly the size the header declares; longer data is
 * refused at that bound (a gzip bomb never inflates), shorter data is left to parseIdx to report.
 */
function inflateIdx(bytes: Uint8Array, where: string, inflate: NonNullable<ParseIdxOptions["inflate"]>): Uint8Array {
  const run = (gz: Uint8Array, limits: InflateLimits): Uint8Array => {
    try {
      return inflate(gz, limits);
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw err;
      throw new Error(`${where}: corrupt or truncated gzip stream: ${(err as Error).message}`);
    }
  };
  // 1. The header (at most 4 + 4·255 bytes), from growing prefixes of the compressed stream.
  let head: Uint8Array = new Uint8Array(0);
  for (let n = 256; ; n *= 4) {
    head = run(bytes.subarray(0, Math.min(n, bytes.length)), { partial: true });
    const need = head.length >= 4 ? 4 + 4 * head[3] : 4;
    if (head.length >= need || n >= bytes.length) break;
  }
  const { dims, elements, headerBytes } = readIdxHeader(head, `${where} (gunzipped)`);
  // 2. The whole stream, stopped one byte past the declared size.
  const expected = headerBytes + elements;
  let raw: Uint8Array;
  try {
    raw = run(bytes, { partial: false, maxOutputLength: expected });
  } catch (err) {
    if ((err as { code?: string }).code !== "ERR_BUFFER_TOO_LARGE") throw err;
    return tooLong(where, dims, expected);
  }
  if (raw.length > expected) return tooLong(where, dims, expected);
  return raw;
}

function tooLong(where: string, dims: number[], expected: number): never {
  throw new Error(
    `${where}: gzip data inflates to more than the ${expected} bytes its header declares (dimensions ${dims.join("x")}); stopped there`,
  );
}

/**
 * Parses an IDX file (optionally gzip-compressed). Environment-free: gzip input requires
 * `options.inflate`. Throws an Error starting with `sourceName` on any malformation: bad magic
 * number, unsupported element type, truncated header or data, trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, sourceName: string, options: ParseIdxOptions = {}): IdxArray {
  const where = `IDX file ${sourceName}`;
  if (isGzip(bytes)) {
    if (!options.inflate) throw new Error(`${where}: data is gzip-compressed but no inflate function was given`);
    return parseIdx(inflateIdx(bytes, where, options.inflate), sourceName + " (gunzipped)", {});
  }
  const { dataType, dims, elements, headerBytes } = readIdxHeader(bytes, where);
  const payload = bytes.length - headerBytes;
  if (payload < elements) {
    throw new Error(
      `${where}: truncated data: dimensions ${dims.join("x")} need ${elements} bytes after the header, found ${payload}`,
    );
  }
  if (payload > elements) {
    throw new Error(
      `${where}: wrong size: dimensions ${dims.join("x")} need ${elements} bytes after the header, found ${payload} (${payload - elements} trailing bytes)`,
    );
  }
  return { dataType, dims, data: bytes.subarray(headerBytes, headerBytes + elements) };
}

/** Encodes an unsigned-byte IDX file (uncompressed); the inverse of {@link parseIdx}. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (dims.length < 1 || dims.length > 255) throw new Error(`encodeIdx: need 1..255 dimensions, got ${dims.length}`);
  const elements = dims.reduce((a, b) => a * b, 1);
  if (elements !== data.length) {
    throw new Error(`encodeIdx: dimensions ${dims.join("x")} need ${elements} bytes, data has ${data.length}`);
  }
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (IDX_UBYTE << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}

/** Reads and parses an IDX file from disk (Node), gunzipping it if it starts with 1f 8b. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`IDX file ${path}: cannot be read: ${(err as Error).message}`);
  }
  return parseIdx(bytes, path, {
    inflate: (gz, limits) =>
      limits?.partial
        ? gunzipSync(gz, { finishFlush: zlibConstants.Z_SYNC_FLUSH })
        : gunzipSync(gz, limits?.maxOutputLength !== undefined ? { maxOutputLength: limits.maxOutputLength } : {}),
  });
}

export interface IdxDatasetOptions {
  /** Number of classes; labels must be below it. Default 10. */
  numClasses?: number;
}

/**
 * Combines a parsed image file (dims N x H x W, one channel) and label file (dims N) into an
 * ImageDataset with pixels scaled by 1/255. Errors name the files.
 */
export function idxToDataset(
  images: IdxArray,
  labels: IdxArray,
  name: string,
  imagesSource: string,
  labelsSource: string,
  options: IdxDatasetOptions = {},
): ImageDataset {
  const numClasses = options.numClasses ?? 10;
  if (images.dims.length !== 3) {
    throw new Error(
      `IDX file ${imagesSource}: expected an image file with 3 dimensions (count x height x width), got ${images.dims.length} (${images.dims.join("x")})`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new Error(
      `IDX file ${labelsSource}: expected a label file with 1 dimension (count), got ${labels.dims.length} (${labels.dims.join("x")})`,
    );
  }
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new Error(
      `IDX count mismatch: ${imagesSource} has ${count} images but ${labelsSource} has ${labels.dims[0]} labels`,
    );
  }
  if (height === 0 || width === 0) {
    throw new Error(`IDX file ${imagesSource}: images have empty size ${height}x${width}`);
  }
  for (let i = 0; i < count; i++) {
    if (labels.data[i] >= numClasses) {
      throw new Error(
        `IDX file ${labelsSource}: label ${labels.data[i]} at index ${i} is out of range [0, ${numClasses - 1}]`,
      );
    }
  }
  const px = new Float32Array(images.data.length);
  for (let i = 0; i < px.length; i++) px[i] = images.data[i] / 255;
  return createImageDataset({
    images: px,
    labels: new Uint8Array(labels.data),
    count,
    channels: 1,
    height,
    width,
    numClasses,
    name,
  });
}

/** Loads an image IDX file and a label IDX file (each raw or gzipped) as one ImageDataset. */
export function loadIdxDataset(
  imagesPath: string,
  labelsPath: string,
  name: string,
  options: IdxDatasetOptions = {},
): ImageDataset {
  return idxToDataset(readIdxFile(imagesPath), readIdxFile(labelsPath), name, imagesPath, labelsPath, options);
}

/** Where the Debian package `dataset-fashion-mnist` installs the Fashion-MNIST IDX files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Fashion-MNIST class names, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** The standard MNIST-style IDX file stems (without `.gz`). */
export const MNIST_STYLE_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** Path of `stem` or `stem.gz` in dir (uncompressed preferred), or null when neither exists. */
export function findIdxFile(dir: string, stem: string): string | null {
  for (const candidate of [join(dir, stem), join(dir, stem + ".gz")]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** True when all four MNIST-style IDX files (raw or .gz) are present in dir. */
export function hasMnistStyleFiles(dir: string): boolean {
  return Object.values(MNIST_STYLE_FILES).every((stem) => findIdxFile(dir, stem) !== null);
}

/**
 * Loads the four standard MNIST-style IDX files (`train-images-idx3-ubyte[.gz]`,
 * `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`)
 * from dir, e.g. the original MNIST or Fashion-MNIST. Dataset names are `${name}/train` and `${name}/test`.
 */
export function loadMnistStyleDir(dir: string, name: string, hint = ""): { train: ImageDataset; test: ImageDataset } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`${name}: directory ${dir} does not exist${hint}`);
  }
  const paths: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, stem] of Object.entries(MNIST_STYLE_FILES)) {
    const p = findIdxFile(dir, stem);
    if (p === null) missing.push(`${stem}[.gz]`);
    else paths[key] = p;
  }
  if (missing.length > 0) throw new Error(`${name}: missing file(s) in ${dir}: ${missing.join(", ")}${hint}`);
  const train = loadIdxDataset(paths.trainImages, paths.trainLabels, `${name}/train`);
  const test = loadIdxDataset(paths.testImages, paths.testLabels, `${name}/test`);
  if (train.height !== test.height || train.width !== test.width) {
    throw new Error(
      `${name}: image sizes differ: ${paths.trainImages} has ${train.height}x${train.width} images, ` +
        `${paths.testImages} has ${test.height}x${test.width}`,
    );
  }
  return { train, test };
}

/**
 * Loads Fashion-MNIST (60,000 train + 10,000 test images, 28x28, 10 classes) from IDX files.
 * Default dir is where `apt-get install dataset-fashion-mnist` puts them ({@link FASHION_MNIST_DIR}).
 */
export function loadFashionMnist(dir: string = FASHION_MNIST_DIR): { train: ImageDataset; test: ImageDataset } {
  const hint = dir === FASHION_MNIST_DIR ? " (install the Debian package: apt-get install dataset-fashion-mnist)" : "";
  return loadMnistStyleDir(dir, "fashion-mnist", hint);
}
