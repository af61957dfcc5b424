// Tests for the CIFAR-10 binary reader on small generated batch files, including malformed ones.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { CIFAR10_RECORD_BYTES, loadCifar10 } from "../../src/node/cifar10.js";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "cifar-test-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Pixel byte for (file, record, channel, row, col): distinct enough to catch layout errors. */
function px(file: number, rec: number, c: number, y: number, x: number): number {
  return (file * 37 + rec * 11 + c * 83 + y * 5 + x * 3) % 256;
}

/** Record bytes for a batch: label = (file + rec) % 10, pixels channel-major. */
function batch(file: number, records: number): Uint8Array {
  const out = new Uint8Array(records * CIFAR10_RECORD_BYTES);
  for (let r = 0; r < records; r++) {
    const base = r * CIFAR10_RECORD_BYTES;
    out[base] = (file + r) % 10;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[base + 1 + c * 1024 + y * 32 + x] = px(file, r, c, y, x);
  }
  return out;
}

/** Writes a full set: data_batch_1..5.bin (file ids 1..5) and test_batch.bin (file id 0), 5 records each. */
function writeSet(dir: string, records = 5): void {
  mkdirSync(dir, { recursive: true });
  for (let f = 1; f <= 5; f++) writeFileSync(join(dir, `data_batch_${f}.bin`), batch(f, records));
  writeFileSync(join(dir, "test_batch.bin"), batch(0, records));
}

describe("loadCifar10", () => {
  it("reads generated batches into 3x32x32 NCHW datasets", () => {
    const dir = join(root, "ok");
    writeSet(dir);
    const { train, test } = loadCifar10(dir);
    expect([train.count, test.count]).toEqual([25, 5]);
    for (const ds of [train, test]) {
      expect([ds.channels, ds.height, ds.width, ds.numClasses]).toEqual([3, 32, 32, 10]);
      expect(ds.images.length).toBe(ds.count * 3072);
    }
    expect(train.name).toBe("cifar10/train");
    expect(test.name).toBe("cifar10/test");
    // Train = batches 1..5 in order, records in file order.
    const expectedLabels: number[] = [];
    for (let f = 1; f <= 5; f++) for (let r = 0; r < 5; r++) expectedLabels.push((f + r) % 10);
    expect(Array.from(train.labels)).toEqual(expectedLabels);
    expect(Array.from(test.labels)).toEqual([0, 1, 2, 3, 4]);
    // Spot-check the pixel layout of image 13 (batch 3, record 3) and test image 4.
    for (const [c, y, x] of [[0, 0, 0], [1, 5, 7], [2, 31, 30], [0, 17, 31]]) {
      expect(train.images[13 * 3072 + c * 1024 + y * 32 + x]).toBe(Math.fround(px(3, 3, c, y, x) / 255));
      expect(test.images[4 * 3072 + c * 1024 + y * 32 + x]).toBe(Math.fround(px(0, 4, c, y, x) / 255));
    }
  });

  it("accepts the cifar-10-batches-bin subfolder of the official archive", () => {
    const dir = join(root, "archive");
    writeSet(join(dir, "cifar-10-batches-bin"), 2);
    expect(loadCifar10(dir).train.count).toBe(10);
  });

  it("rejects a missing folder and missing files", () => {
    expect(() => loadCifar10(join(root, "absent"))).toThrow(/CIFAR-10: folder .*absent does not exist/);
    const dir = join(root, "partial");
    writeSet(dir);
    rmSync(join(dir, "data_batch_4.bin"));
    rmSync(join(dir, "test_batch.bin"));
    expect(() => loadCifar10(dir)).toThrow(/CIFAR-10: missing file\(s\) in .*partial: data_batch_4\.bin, test_batch\.bin/);
    writeFileSync(join(root, "plainfile"), "x");
    expect(() => loadCifar10(join(root, "plainfile"))).toThrow(/plainfile is not a folder/);
  });

  it("rejects a size that is not a multiple of 3073 bytes, naming the file", () => {
    const dir = join(root, "short");
    writeSet(dir);
    writeFileSync(join(dir, "data_batch_2.bin"), batch(2, 5).subarray(0, 5 * 3073 - 100));
    expect(() => loadCifar10(dir)).toThrow(
      /CIFAR-10 file .*data_batch_2\.bin: wrong size 15265 bytes, not a multiple of the 3073-byte record \(4 whole records \+ 2973 extra bytes\)/,
    );
  });

  it("rejects an empty file", () => {
    const dir = join(root, "empty");
    writeSet(dir);
    writeFileSync(join(dir, "test_batch.bin"), new Uint8Array(0));
    expect(() => loadCifar10(dir)).toThrow(/test_batch\.bin: file is empty/);
  });

  it("rejects labels above 9, naming the file and record", () => {
    const dir = join(root, "badlabel");
    writeSet(dir);
    const b = batch(5, 5);
    b[3 * 3073] = 10;
    writeFileSync(join(dir, "data_batch_5.bin"), b);
    expect(() => loadCifar10(dir)).toThrow(/data_batch_5\.bin: label 10 of record 3 \(byte offset 9219\) is out of range \[0, 9\]/);
  });
});
