// Every augmentation op against hand-computed outputs on small known images (PIL semantics on 0-255 levels).
import { describe, expect, it } from 'vitest';
import {
  affine, autoContrast, brightness, color, contrast, cutout, equalize, flipHorizontal, floatToLevels, identity, levelsToFloat,
  posterize, rotate, sharpness, shearX, shearY, smooth, solarize, translateReflect, translateX, translateY,
  type FloatImage, type LevelImage,
} from '../../src/augment/index.js';

const L = (rows: number[][], channels = 1): LevelImage => {
  const height = rows.length / channels;
  return { data: Uint8Array.from(rows.flat()), channels, height, width: rows[0].length };
};
const rowsOf = (img: LevelImage): number[][] => Array.from({ length: img.channels * img.height }, (_, r) => Array.from(img.data.subarray(r * img.width, (r + 1) * img.width)));
const F = (rows: number[][], channels = 1): FloatImage => ({ data: Float32Array.from(rows.flat()), channels, height: rows.length / channels, width: rows[0].length });
const frows = (img: FloatImage): number[][] => Array.from({ length: img.channels * img.height }, (_, r) => Array.from(img.data.subarray(r * img.width, (r + 1) * img.width)));

/** A 4x4 ramp of levels lo, lo+1, ..., lo+15 in row-major order. */
const ramp = (lo: number): LevelImage => L([0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => lo + 4 * r + c)));

describe('lookup-table ops', () => {
  it('AutoContrast stretches a 4x4 ramp 10..25 to 0..255 (scale 255/15 = 17) and leaves a flat channel alone', () => {
    expect(Array.from(autoContrast(ramp(10)).data)).toEqual(Array.from({ length: 16 }, (_, i) => 17 * i));
    // RGB: channel 0 ramp 10..25, channel 1 constant 7 (hi <= lo: unchanged), channel 2 ramp 0..15.
    const rgb: LevelImage = { data: Uint8Array.from([...ramp(10).data, ...new Array(16).fill(7), ...ramp(0).data]), channels: 3, height: 4, width: 4 };
    const out = autoContrast(rgb).data;
    expect(Array.from(out.subarray(0, 16))).toEqual(Array.from({ length: 16 }, (_, i) => 17 * i));
    expect(Array.from(out.subarray(16, 32))).toEqual(new Array(16).fill(7));
    expect(Array.from(out.subarray(32))).toEqual(Array.from({ length: 16 }, (_, i) => 17 * i));
    // Levels 100..200: scale 2.55, offset -255; in doubles 200 * 2.55 = 509.99999999999994, so 200 -> 254 (as PIL's
    // Python loop computes it), 150 -> trunc(127.49999999999997) = 127.
    expect(Array.from(autoContrast(L([[100, 200, 150]])).data)).toEqual([0, 254, 127]);
    expect(200 * (255 / 100) - 100 * (255 / 100)).toBeLessThan(255);
  });

  it('Equalize: a 4x4 ramp is unchanged (PIL: step = floor(15/255) = 0); 510/255/255 pixels at 0/100/200 map to 0/170/255', () => {
    expect(Array.from(equalize(ramp(10)).data)).toEqual(Array.from(ramp(10).data));
    // step = floor((1020 - 255) / 255) = 3, n starts at 1: 0 -> 1//3 = 0, 100 -> 511//3 = 170, 200 -> 766//3 = 255.
    const data = new Uint8Array(1020);
    data.fill(0, 0, 510);
    data.fill(100, 510, 765);
    data.fill(200, 765);
    const out = equalize({ data, channels: 1, height: 30, width: 34 }).data;
    expect([out[0], out[600], out[900]]).toEqual([0, 170, 255]);
    expect(new Set(out)).toEqual(new Set([0, 170, 255]));
    // One occupied level: unchanged.
    expect(Array.from(equalize(L([[9, 9], [9, 9]])).data)).toEqual([9, 9, 9, 9]);
  });

  it('Posterize keeps the top bits', () => {
    const img = L([[0b10110111, 255, 0b00001111, 0b01010101]]);
    expect(Array.from(posterize(img, 4).data)).toEqual([0b10110000, 0b11110000, 0, 0b01010000]);
    expect(Array.from(posterize(img, 1).data)).toEqual([128, 128, 0, 0]);
    expect(Array.from(posterize(img, 8).data)).toEqual(Array.from(img.data));
    expect(Array.from(posterize(img, 6).data)).toEqual([0b10110100, 0b11111100, 0b00001100, 0b01010100]);
    expect(() => posterize(img, 0)).toThrow(/bits must be an integer in \[1, 8\], got 0/);
  });

  it('Solarize inverts levels at or above the threshold', () => {
    const img = L([[0, 127, 128, 200, 255]]);
    expect(Array.from(solarize(img, 128).data)).toEqual([0, 127, 127, 55, 0]);
    expect(Array.from(solarize(img, 0).data)).toEqual([255, 128, 127, 55, 0]);
    expect(Array.from(solarize(img, 256).data)).toEqual([0, 127, 128, 200, 255]);
    expect(Array.from(solarize(img, 127.5).data)).toEqual([0, 127, 127, 55, 0]);
  });

  it('Identity copies', () => {
    const img = ramp(3);
    const out = identity(img);
    expect(out.data).not.toBe(img.data);
    expect(Array.from(out.data)).toEqual(Array.from(img.data));
  });
});

describe('enhance ops', () => {
  it('Brightness truncates factor * level', () => {
    expect(Array.from(brightness(L([[0, 100, 255, 3]]), 0.5).data)).toEqual([0, 50, 127, 1]);
    expect(Array.from(brightness(L([[0, 100, 255, 3]]), 0.05).data)).toEqual([0, 5, 12, 0]);
  });

  it('Contrast blends with the rounded mean level (mean 15.25 -> 15)', () => {
    const img = L([[0, 10, 20, 31]]);
    expect(Array.from(contrast(img, 0).data)).toEqual([15, 15, 15, 15]);
    // 15 + 0.5 (v - 15): 7.5, 12.5, 17.5, 23 -> truncated.
    expect(Array.from(contrast(img, 0.5).data)).toEqual([7, 12, 17, 23]);
    expect(Array.from(contrast(img, 1).data)).toEqual([0, 10, 20, 31]);
  });

  it('Color blends RGB with its luma (255, 0, 0 -> L = 76) and is a no-op on grayscale', () => {
    const red: LevelImage = { data: Uint8Array.from([255, 0, 0]), channels: 3, height: 1, width: 1 };
    expect(Array.from(color(red, 0).data)).toEqual([76, 76, 76]);
    // 76 + 0.5 (255 - 76) = 165.5, 76 + 0.5 (0 - 76) = 38.
    expect(Array.from(color(red, 0.5).data)).toEqual([165, 38, 38]);
    // (10, 200, 30): (195950 + 7694000 + 224130 + 32768) >> 16 = 8146848 >> 16 = 124.
    const px: LevelImage = { data: Uint8Array.from([10, 200, 30]), channels: 3, height: 1, width: 1 };
    expect(Array.from(color(px, 0).data)).toEqual([124, 124, 124]);
    expect(Array.from(color(ramp(0), 0.1).data)).toEqual(Array.from(ramp(0).data));
  });

  it('Sharpness blends with SMOOTH (kernel 1/5 over 13, border copied)', () => {
    const img = L([[10, 10, 10], [10, 23, 10], [10, 10, 10]]);
    // Centre: floor((8*10 + 5*23)/13) = floor(195/13) = 15.
    expect(rowsOf(smooth(img))).toEqual([[10, 10, 10], [10, 15, 10], [10, 10, 10]]);
    expect(rowsOf(sharpness(img, 0))).toEqual([[10, 10, 10], [10, 15, 10], [10, 10, 10]]);
    // 15 + 0.5 (23 - 15) = 19.
    expect(rowsOf(sharpness(img, 0.5))).toEqual([[10, 10, 10], [10, 19, 10], [10, 10, 10]]);
    expect(rowsOf(sharpness(img, 2))).toEqual([[10, 10, 10], [10, 31, 10], [10, 10, 10]]);
  });
});

describe('geometric ops', () => {
  const sq = L([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);

  it('Rotate by 90 degrees is exact (counter-clockwise, as PIL), -90 and 270 agree, 180 on non-square images too', () => {
    expect(rowsOf(rotate(sq, 90))).toEqual([[3, 6, 9], [2, 5, 8], [1, 4, 7]]);
    expect(rowsOf(rotate(sq, -90))).toEqual([[7, 4, 1], [8, 5, 2], [9, 6, 3]]);
    expect(rowsOf(rotate(sq, 270))).toEqual(rowsOf(rotate(sq, -90)));
    expect(rowsOf(rotate(sq, 360))).toEqual(rowsOf(sq));
    expect(rowsOf(rotate(L([[1, 2, 3], [4, 5, 6]]), 180))).toEqual([[6, 5, 4], [3, 2, 1]]);
    // RGB: every channel rotates the same way.
    const rgb: LevelImage = { data: Uint8Array.from([...sq.data, ...sq.data.map((v) => v + 10), ...sq.data.map((v) => v + 20)]), channels: 3, height: 3, width: 3 };
    expect(rowsOf(rotate(rgb, 90)).slice(3, 6)).toEqual([[13, 16, 19], [12, 15, 18], [11, 14, 17]]);
  });

  it('Rotate by a small angle keeps the centre and fills uncovered corners with black', () => {
    // 5x5 of 100 with centre 200: by 30 degrees the centre pixel stays, corners sample outside.
    const img = L(Array.from({ length: 5 }, (_, r) => Array.from({ length: 5 }, (_, c) => (r === 2 && c === 2 ? 200 : 100))));
    const out = rowsOf(rotate(img, 30));
    expect(out[2][2]).toBe(200);
    expect(out[0][0]).toBe(0);
    expect(out[4][4]).toBe(0);
    expect(out[2][0]).toBe(100);
    // 5 degrees: the maps of the four corner centres (±2.5 from the centre, rotated) stay inside only partly;
    // the affine map sends (x, y) = (0.5, 0.5) to cos·(-2) + sin·... - it is enough that it is not the identity.
    expect(rowsOf(rotate(img, 45))[0][0]).toBe(0);
  });

  it('ShearX / ShearY by 1 sample (x + y + 1, y) / (x, x + y + 1) at pixel centres', () => {
    expect(rowsOf(shearX(sq, 1))).toEqual([[2, 3, 0], [6, 0, 0], [0, 0, 0]]);
    expect(rowsOf(shearY(sq, 1))).toEqual([[4, 8, 0], [7, 0, 0], [0, 0, 0]]);
    expect(rowsOf(shearX(sq, -1))).toEqual([[1, 2, 3], [0, 4, 5], [0, 0, 7]]);
    expect(rowsOf(shearX(sq, 0))).toEqual(rowsOf(sq));
  });

  it('TranslateX / TranslateY move content by whole pixels after rounding x + ½ + v down', () => {
    const row = L([[1, 2, 3, 4]]);
    expect(Array.from(translateX(row, 1).data)).toEqual([2, 3, 4, 0]);
    expect(Array.from(translateX(row, -1).data)).toEqual([0, 1, 2, 3]);
    expect(Array.from(translateX(row, 0.4).data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(translateX(row, 0.6).data)).toEqual([2, 3, 4, 0]);
    expect(Array.from(translateX(row, -0.6).data)).toEqual([0, 1, 2, 3]);
    expect(rowsOf(translateY(sq, 1))).toEqual([[4, 5, 6], [7, 8, 9], [0, 0, 0]]);
    expect(rowsOf(translateY(sq, -2, 255))).toEqual([[255, 255, 255], [255, 255, 255], [1, 2, 3]]);
    expect(() => affine(sq, [1, 0, NaN, 0, 1, 0])).toThrow(/6 finite coefficients/);
  });
});

describe('float ops', () => {
  it('flipHorizontal mirrors every row of every channel', () => {
    expect(frows(flipHorizontal(F([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 0, 0]], 2)))).toEqual([[3, 2, 1], [6, 5, 4], [9, 8, 7], [0, 0, 1]]);
  });

  it('translateReflect shifts with reflect padding (no repeated edge)', () => {
    const row = F([[1, 2, 3, 4, 5]]);
    expect(frows(translateReflect(row, 2, 0))).toEqual([[3, 2, 1, 2, 3]]);
    expect(frows(translateReflect(row, -2, 0))).toEqual([[3, 4, 5, 4, 3]]);
    expect(frows(translateReflect(row, 0, 0))).toEqual([[1, 2, 3, 4, 5]]);
    const col = F([[1], [2], [3], [4]]);
    expect(frows(translateReflect(col, 0, 1))).toEqual([[2], [1], [2], [3]]);
    expect(frows(translateReflect(col, 0, -3))).toEqual([[4], [3], [2], [1]]);
    expect(() => translateReflect(row, 0.5, 0)).toThrow(/integers/);
  });

  it('Cutout fills a size x size square with grey; cut at the right/bottom edges', () => {
    const ones: FloatImage = { data: new Float32Array(28 * 28).fill(1), channels: 1, height: 28, width: 28 };
    const count = (img: FloatImage): number => img.data.reduce((n, v) => n + (v === 0.5 ? 1 : 0), 0);
    const mid = cutout(ones, 14, 14, 14);
    expect(count(mid)).toBe(196);
    // Corner (7, 7): rows/cols 7..20.
    expect([mid.data[7 * 28 + 7], mid.data[20 * 28 + 20], mid.data[6 * 28 + 7], mid.data[21 * 28 + 20]]).toEqual([0.5, 0.5, 1, 1]);
    expect(count(cutout(ones, 27.9, 27.9, 14))).toBe(8 * 8); // corner (20, 20), cut at 28
    expect(count(cutout(ones, 1, 2, 14))).toBe(14 * 14); // corner clamped to (0, 0)
    const rgb: FloatImage = { data: new Float32Array(3 * 32 * 32).fill(1), channels: 3, height: 32, width: 32 };
    expect(count(cutout(rgb, 16, 16, 16))).toBe(3 * 256);
  });

  it('levels round-trip: k/255 -> k -> k/255 exactly; values outside [0, 1] clamp', () => {
    const img: FloatImage = { data: Float32Array.from([0, 1 / 255, 128 / 255, 1, -0.2, 1.5, 0.5]), channels: 1, height: 1, width: 7 };
    const lv = floatToLevels(img);
    expect(Array.from(lv.data)).toEqual([0, 1, 128, 255, 0, 255, 128]);
    expect(Array.from(levelsToFloat(lv).data)).toEqual(Array.from(Float32Array.from([0, 1 / 255, 128 / 255, 1, 0, 1, 128 / 255])));
  });
});
