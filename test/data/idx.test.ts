// Tests for the IDX parser/reader and the Fashion-MNIST-style directory loader on small generated files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  encodeIdx,
  isGzip,
  loadFashionMnist,
  loadIdxDataset,
  parseIdx,
  readIdxFile,
} from "../../src/data/idx.js";
import { Random } from "../../src/util/random.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "idx-test-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = new Random(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Writes a matching image (n x h x w) and label (n) pair; returns paths and the raw bytes. */
function writePair(prefix: string, n: number, h: number, w: number, gzip: boolean) {
  const pixels = randomBytes(n * h * w, n + h);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 10);
  const enc = (b: Uint8Array) => (gzip ? gzipSync(b) : b);
  const ext = gzip ? ".gz" : "";
  return {
    pixels,
    labels,
    imagesPath: write(`${prefix}-images${ext}`, enc(encodeIdx([n, h, w], pixels))),
    labelsPath: write(`${prefix}-labels${ext}`, enc(encodeIdx([n], labels))),
  };
}

describe("parseIdx / encodeIdx", () => {
  it("round-trips header and payload", () => {
    const data = randomBytes(2 * 3 * 4, 1);
    const bytes = encodeIdx([2, 3, 4], data);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 0, 8, 3]);
    expect(Array.from(bytes.subarray(4, 16))).toEqual([0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    const parsed = parseIdx(bytes, "mem");
    expect(parsed.dataType).toBe(8);
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it("reads big-endian dimensions above 255", () => {
    const parsed = parseIdx(encodeIdx([300], new Uint8Array(300)), "mem");
    expect(parsed.dims).toEqual([300]);
  });

  it("needs an inflate function for gzip input and uses it", () => {
    const gz = gzipSync(encodeIdx([3], Uint8Array.from([1, 2, 3])));
    expect(isGzip(gz)).toBe(true);
    expect(() => parseIdx(gz, "mem.gz")).toThrow(/IDX file mem\.gz: data is gzip-compressed but no inflate function/);
    expect(Array.from(parseIdx(gz, "mem.gz", { inflate: (b) => gunzipSync(b) }).data)).toEqual([1, 2, 3]);
  });
});

describe("readIdxFile / loadIdxDataset on files", () => {
  for (const gzip of [false, true]) {
    it(`round-trips a small ${gzip ? "gzipped" : "raw"} image/label pair`, () => {
      const { pixels, labels, imagesPath, labelsPath } = writePair(gzip ? "gz" : "raw", 5, 4, 3, gzip);
      const raw = readIdxFile(imagesPath);
      expect(raw.dims).toEqual([5, 4, 3]);
      expect(Array.from(raw.data)).toEqual(Array.from(pixels));
      const ds = loadIdxDataset(imagesPath, labelsPath, "small");
      expect([ds.count, ds.channels, ds.height, ds.width, ds.numClasses]).toEqual([5, 1, 4, 3, 10]);
      expect(ds.name).toBe("small");
      expect(Array.from(ds.labels)).toEqual(Array.from(labels));
      expect(ds.images.length).toBe(60);
      for (let i = 0; i < 60; i++) expect(ds.images[i]).toBe(Math.fround(pixels[i] / 255));
    });
  }

  it("rejects a bad magic number, naming the file", () => {
    const bytes = encodeIdx([2], Uint8Array.from([1, 2]));
    bytes[0] = 0x12;
    const p = write("badmagic-labels", bytes);
    expect(() => readIdxFile(p)).toThrow(new RegExp(`IDX file ${p}: bad magic number 0x12000801`));
    const text = write("notidx.txt", new TextEncoder().encode("hello world, not an idx file"));
    expect(() => readIdxFile(text)).toThrow(/notidx\.txt: bad magic number 0x68656c6c/);
  });

  it("rejects an unsupported element type", () => {
    const bytes = encodeIdx([1], Uint8Array.from([0]));
    bytes[2] = 0x0d;
    const p = write("float-idx", bytes);
    expect(() => readIdxFile(p)).toThrow(/float-idx: unsupported element type 0x0d \(float32\)/);
  });

  it("rejects truncated data and a truncated header", () => {
    const full = encodeIdx([4, 2, 2], randomBytes(16, 3));
    const p = write("trunc-images", full.subarray(0, full.length - 5));
    expect(() => readIdxFile(p)).toThrow(/trunc-images: truncated data: dimensions 4x2x2 need 16 bytes after the header, found 11/);
    const h = write("trunc-header", full.subarray(0, 9));
    expect(() => readIdxFile(h)).toThrow(/trunc-header: truncated header: 3 dimensions need 16 bytes, file has 9/);
    const tiny = write("trunc-magic", full.subarray(0, 2));
    expect(() => readIdxFile(tiny)).toThrow(/trunc-magic: truncated: 2 bytes/);
  });

  it("rejects trailing bytes (wrong size)", () => {
    const full = encodeIdx([3], Uint8Array.from([1, 2, 3]));
    const p = write("long-labels", Uint8Array.from([...full, 9, 9]));
    expect(() => readIdxFile(p)).toThrow(/long-labels: wrong size: .*2 trailing bytes/);
  });

  it("rejects a truncated gzip stream, naming the file", () => {
    const gz = gzipSync(encodeIdx([100], randomBytes(100, 4)));
    const p = write("cut.gz", gz.subarray(0, gz.length - 10));
    expect(() => readIdxFile(p)).toThrow(/cut\.gz: corrupt or truncated gzip stream/);
  });

  it("rejects a truncated file inside a valid gzip stream", () => {
    const full = encodeIdx([4, 2, 2], randomBytes(16, 5));
    const p = write("trunc-in-gz.gz", gzipSync(full.subarray(0, 24)));
    expect(() => readIdxFile(p)).toThrow(/trunc-in-gz\.gz \(gunzipped\): truncated data/);
  });

  it("rejects a missing file", () => {
    expect(() => readIdxFile(join(dir, "nope"))).toThrow(/IDX file .*nope: cannot be read/);
  });

  it("rejects mismatched image and label counts, naming both files", () => {
    const a = writePair("five", 5, 2, 2, false);
    const b = writePair("six", 6, 2, 2, false);
    expect(() => loadIdxDataset(a.imagesPath, b.labelsPath, "x")).toThrow(
      new RegExp(`IDX count mismatch: ${a.imagesPath} has 5 images but ${b.labelsPath} has 6 labels`),
    );
  });

  it("rejects labels out of range, and files swapped or of the wrong rank", () => {
    const { imagesPath } = writePair("lab", 3, 2, 2, false);
    const badLabels = write("lab-bad-labels", encodeIdx([3], Uint8Array.from([0, 10, 1])));
    expect(() => loadIdxDataset(imagesPath, badLabels, "x")).toThrow(/lab-bad-labels: label 10 at index 1 is out of range \[0, 9\]/);
    expect(loadIdxDataset(imagesPath, badLabels, "x", { numClasses: 11 }).labels[1]).toBe(10);
    expect(() => loadIdxDataset(badLabels, imagesPath, "x")).toThrow(/lab-bad-labels: expected an image file with 3 dimensions/);
    expect(() => loadIdxDataset(imagesPath, imagesPath, "x")).toThrow(/lab-images: expected a label file with 1 dimension/);
  });
});

describe("loadFashionMnist on a generated directory", () => {
  it("loads train and test from MNIST-style names, raw or .gz", () => {
    const fm = join(dir, "fm");
    mkdirSync(fm);
    const trainPx = randomBytes(6 * 28 * 28, 6);
    const testPx = randomBytes(2 * 28 * 28, 7);
    writeFileSync(join(fm, "train-images-idx3-ubyte.gz"), gzipSync(encodeIdx([6, 28, 28], trainPx)));
    writeFileSync(join(fm, "train-labels-idx1-ubyte.gz"), gzipSync(encodeIdx([6], Uint8Array.from([0, 1, 2, 3, 4, 9]))));
    writeFileSync(join(fm, "t10k-images-idx3-ubyte"), encodeIdx([2, 28, 28], testPx));
    expect(() => loadFashionMnist(fm)).toThrow(/fashion-mnist: missing file\(s\) in .*fm: t10k-labels-idx1-ubyte\[\.gz\]/);
    writeFileSync(join(fm, "t10k-labels-idx1-ubyte"), encodeIdx([2], Uint8Array.from([5, 5])));
    const { train, test } = loadFashionMnist(fm);
    expect(train.name).toBe("fashion-mnist/train");
    expect(test.name).toBe("fashion-mnist/test");
    expect([train.count, test.count]).toEqual([6, 2]);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 9]);
    expect(test.images[100]).toBe(Math.fround(testPx[100] / 255));
  });

  it("names the directory when it does not exist", () => {
    expect(() => loadFashionMnist(join(dir, "absent"))).toThrow(/fashion-mnist: directory .*absent does not exist/);
  });
});
