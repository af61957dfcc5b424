// Tests for the IDX parser/reader and the Fashion-MNIST-style directory loader on small generated files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants as zlibConstants, gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  encodeIdx,
  isGzip,
  loadFashionMnist,
  loadIdxDataset,
  parseIdx,
  readIdxFile,
} from "../../src/node/idx.js";
import { Random } from "../../src/util/random.js";
import { splitDataset } from "../../src/data/split.js";
import { loadDataset } from "../../src/node/datasets.js";

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

describe("gzip'd IDX files are inflated only as far as their header declares", () => {
  /** A gzip member of `mib` MiB of zeros (about 1 KB compressed per MiB), to append after a valid file. */
  const zerosMember = (mib: number) => gzipSync(new Uint8Array(mib * 2 ** 20));
  /** Concatenated gzip members inflate to the concatenation: a ~600 KB file that inflates to 600 MiB past the header's size. */
  const bomb = (head: Uint8Array, copies: number) => {
    const member = zerosMember(1);
    return Buffer.concat([gzipSync(head), ...Array.from({ length: copies }, () => member)]);
  };
  /** gunzipSync honouring the limits, recording every output size. */
  const recording = () => {
    const outputs: number[] = [];
    const limits: unknown[] = [];
    const inflate = (gz: Uint8Array, l?: { partial: boolean; maxOutputLength?: number }) => {
      limits.push(l);
      const out = l?.partial ? gunzipSync(gz, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : gunzipSync(gz, l?.maxOutputLength ? { maxOutputLength: l.maxOutputLength } : {});
      outputs.push(out.length);
      return out;
    };
    return { inflate, outputs, limits };
  };

  it("refuses a gzip bomb at the declared size, naming the file and that size", () => {
    const gz = bomb(encodeIdx([10, 28, 28], randomBytes(7840, 11)), 600);
    expect(gz.length).toBeLessThan(1_000_000);
    const p = write("bomb-images.gz", gz);
    expect(() => readIdxFile(p)).toThrow(
      new Error(`IDX file ${p}: gzip data inflates to more than the 7856 bytes its header declares (dimensions 10x28x28); stopped there`),
    );
    // Memory stays bounded: no inflate call produced more than the declared size.
    const r = recording();
    expect(() => parseIdx(gz, "mem.gz", { inflate: r.inflate })).toThrow(/^IDX file mem\.gz: gzip data inflates to more than the 7856 bytes/);
    expect(r.limits).toEqual([{ partial: true }, { partial: false, maxOutputLength: 7856 }]);
    expect(Math.max(...r.outputs)).toBeLessThanOrEqual(7856);
  });

  it("refuses data one byte longer than the header says", () => {
    const raw = encodeIdx([3, 2, 2], randomBytes(12, 12));
    const p = write("long.gz", gzipSync(Buffer.concat([raw, Buffer.from([7])])));
    expect(() => readIdxFile(p)).toThrow(
      new Error(`IDX file ${p}: gzip data inflates to more than the 28 bytes its header declares (dimensions 3x2x2); stopped there`),
    );
    expect(Array.from(readIdxFile(write("exact.gz", gzipSync(raw))).data)).toEqual(Array.from(raw.subarray(16)));
  });

  it("refuses data shorter than the header says", () => {
    const raw = encodeIdx([3, 2, 2], randomBytes(12, 13));
    const p = write("short.gz", gzipSync(raw.subarray(0, 27)));
    expect(() => readIdxFile(p)).toThrow(
      new Error(`IDX file ${p} (gunzipped): truncated data: dimensions 3x2x2 need 12 bytes after the header, found 11`),
    );
  });

  it("checks the header before inflating the rest", () => {
    const r = recording();
    const badMagic = bomb(Uint8Array.from([0xff, 0, 8, 3]), 50);
    expect(() => parseIdx(badMagic, "bad.gz", { inflate: r.inflate })).toThrow(/^IDX file bad\.gz \(gunzipped\): bad magic number 0xff000803/);
    expect(r.limits).toEqual([{ partial: true }]);
    expect(Math.max(...r.outputs)).toBeLessThan(300_000);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(0, 0x0803);
    [100000, 1000, 1000].forEach((d, i) => new DataView(huge.buffer).setUint32(4 + 4 * i, d));
    const p = write("huge.gz", bomb(huge, 5));
    expect(() => readIdxFile(p)).toThrow(
      new Error(`IDX file ${p} (gunzipped): dimensions 100000x1000x1000 are too large (100000000000 bytes; at most 2147483647 are read)`),
    );
  });

  it("reads a file whose gzip header carries a long file name", () => {
    const raw = encodeIdx([2, 3], randomBytes(6, 14));
    const gz = gzipSync(raw);
    // Set FNAME and insert a 5000-character name after the 10-byte gzip header.
    const named = Buffer.concat([gz.subarray(0, 3), Buffer.from([gz[3]! | 0x08]), gz.subarray(4, 10), Buffer.from("n".repeat(5000) + "\0"), gz.subarray(10)]);
    expect(Array.from(readIdxFile(write("named.gz", named)).data)).toEqual(Array.from(raw.subarray(12)));
  });
});

describe("datasets: image sizes and split sizes", () => {
  it("refuses train and test image files of different sizes, naming both", () => {
    const fm = join(dir, "fm-sizes");
    mkdirSync(fm);
    writeFileSync(join(fm, "train-images-idx3-ubyte"), encodeIdx([2, 28, 28], randomBytes(2 * 784, 15)));
    writeFileSync(join(fm, "train-labels-idx1-ubyte"), encodeIdx([2], Uint8Array.from([1, 2])));
    writeFileSync(join(fm, "t10k-images-idx3-ubyte.gz"), gzipSync(encodeIdx([2, 14, 14], randomBytes(2 * 196, 16))));
    writeFileSync(join(fm, "t10k-labels-idx1-ubyte"), encodeIdx([2], Uint8Array.from([3, 4])));
    expect(() => loadFashionMnist(fm)).toThrow(new Error(
      `fashion-mnist: image sizes differ: ${join(fm, "train-images-idx3-ubyte")} has 28x28 images, ${join(fm, "t10k-images-idx3-ubyte.gz")} has 14x14`,
    ));
  });

  it("a split larger than the data says how many were requested and are available", () => {
    const { imagesPath, labelsPath } = writePair("two-hundred", 200, 2, 2, false);
    const ds = loadIdxDataset(imagesPath, labelsPath, "small");
    expect(() => splitDataset(ds, { train: 0, validation: 5000, test: 0 }, 0)).toThrow(new Error("splitDataset(small): 5000 validation images requested, 200 available"));
    expect(() => splitDataset(ds, { train: 150, validation: 50, test: 1 }, 0)).toThrow(
      new Error("splitDataset(small): requested 150 train + 50 validation + 1 test = 201 images, but the dataset has only 200"),
    );
    const fm = join(dir, "fm-small");
    mkdirSync(fm);
    writeFileSync(join(fm, "train-images-idx3-ubyte"), encodeIdx([200, 2, 2], randomBytes(800, 17)));
    writeFileSync(join(fm, "train-labels-idx1-ubyte"), encodeIdx([200], new Uint8Array(200)));
    writeFileSync(join(fm, "t10k-images-idx3-ubyte"), encodeIdx([2, 2, 2], randomBytes(8, 18)));
    writeFileSync(join(fm, "t10k-labels-idx1-ubyte"), encodeIdx([2], new Uint8Array(2)));
    expect(() => loadDataset("fashion-mnist", { dataDir: fm, seed: 0 })).toThrow(new Error(
      `fashion-mnist (${fm}): 5000 validation images requested, 200 available in the training files (the validation images are held out of them, and at least one must be left to train on)`,
    ));
  });
});
