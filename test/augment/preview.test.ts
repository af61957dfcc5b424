// The preview grid's layout (originals copied pixel for pixel, magnified) and the PNG encoder (chunks, CRC-32, inflated rows).
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { allowsHorizontalFlip, previewGrid } from '../../src/augment/index.js';
import { encodePngRgb } from '../../src/node/png.js';
import { syntheticBatch } from './cases.js';

describe('augment preview', () => {
  it('draws each original magnified in column 0 and lays out 1 + weak + strong columns', () => {
    const b = syntheticBatch(3, 1, 28, 7);
    const g = previewGrid(b, { seed: 1, weak: { flip: false }, weakViews: 2, strongViews: 3, scale: 2 });
    expect(g.columns).toEqual(['original', 'weak 1', 'weak 2', 'strong 1', 'strong 2', 'strong 3']);
    expect(g.width).toBe(6 * 56 + 7 * 2);
    expect(g.height).toBe(3 * 56 + 4 * 2);
    for (const [i, y, x] of [[0, 0, 0], [1, 13, 27], [2, 27, 5]]) {
      const want = Math.round(b.data[i * 784 + y * 28 + x] * 255);
      const o = ((2 + i * 58 + 2 * y + 1) * g.width + 2 + 2 * x + 1) * 3;
      expect([g.rgb[o], g.rgb[o + 1], g.rgb[o + 2]]).toEqual([want, want, want]);
    }
    expect(g.traces.length).toBe(3);
    expect(g.traces[0].length).toBe(3);
  });

  it('flip policy: never for digits, yes for clothes and CIFAR-10, unknown names refused', () => {
    expect(allowsHorizontalFlip('mnist')).toBe(false);
    expect(allowsHorizontalFlip('fashion-mnist')).toBe(true);
    expect(allowsHorizontalFlip('cifar10')).toBe(true);
    expect(() => allowsHorizontalFlip('svhn')).toThrow(/no horizontal-flip policy for data set 'svhn'/);
  });

  it('PNG: signature, IHDR, valid CRCs, rows with filter 0 that inflate to the raster', () => {
    const rgb = Uint8Array.from({ length: 3 * 4 * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePngRgb(rgb, 4, 3);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    let p = 8;
    const chunks: { type: string; data: Buffer }[] = [];
    while (p < png.length) {
      const len = png.readUInt32BE(p);
      const type = png.subarray(p + 4, p + 8).toString('latin1');
      const data = png.subarray(p + 8, p + 8 + len);
      expect(png.readUInt32BE(p + 8 + len)).toBe(crc32(png.subarray(p + 4, p + 8 + len)) >>> 0);
      chunks.push({ type, data });
      p += 12 + len;
    }
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([chunks[0].data.readUInt32BE(0), chunks[0].data.readUInt32BE(4), chunks[0].data[8], chunks[0].data[9]]).toEqual([4, 3, 8, 2]);
    const raw = inflateSync(chunks[1].data);
    expect(raw.length).toBe(3 * 13);
    for (let y = 0; y < 3; y++) {
      expect(raw[y * 13]).toBe(0);
      expect(Array.from(raw.subarray(y * 13 + 1, y * 13 + 13))).toEqual(Array.from(rgb.subarray(y * 12, y * 12 + 12)));
    }
    expect(() => encodePngRgb(rgb, 5, 3)).toThrow(/36 bytes for 5x3 RGB \(expected 45\)/);
  });
});
