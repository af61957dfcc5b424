// Every level op against Pillow's own output (test/fixtures/golden/augment-pil.json, made by scripts/golden-augment.py with Pillow 9.4): RGB and grayscale, square and not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  autoContrast, brightness, color, contrast, equalize, posterize, rotate, sharpness, shearX, shearY, solarize, translateX, translateY,
  type LevelImage,
} from '../../src/augment/index.js';

interface Golden {
  pillow: string;
  images: { channels: number; width: number; height: number; data: string }[];
  cases: { op: string; param: number | null; outputs: string[] }[];
}

const golden = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'golden', 'augment-pil.json'), 'utf8')) as Golden;
const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64'));
const images: LevelImage[] = golden.images.map((i) => ({ data: bytes(i.data), channels: i.channels, height: i.height, width: i.width }));

const OPS: Record<string, (img: LevelImage, p: number) => LevelImage> = {
  autoContrast: (img) => autoContrast(img),
  equalize: (img) => equalize(img),
  posterize: (img, p) => posterize(img, p),
  solarize: (img, p) => solarize(img, p),
  color: (img, p) => color(img, p),
  contrast: (img, p) => contrast(img, p),
  brightness: (img, p) => brightness(img, p),
  sharpness: (img, p) => sharpness(img, p),
  rotate: (img, p) => rotate(img, p),
  shearX: (img, p) => shearX(img, p),
  shearY: (img, p) => shearY(img, p),
  translateX: (img, p) => translateX(img, p),
  translateY: (img, p) => translateY(img, p),
};

describe(`level ops agree with Pillow ${golden.pillow}`, () => {
  it('covers every level op of RandAugment on 4 images', () => {
    expect(new Set(golden.cases.map((c) => c.op))).toEqual(new Set(Object.keys(OPS)));
    expect(images.map((i) => i.channels)).toEqual([3, 1, 3, 1]);
  });

  for (const c of golden.cases) {
    it(`${c.op}(${c.param ?? ''}) matches level for level`, () => {
      images.forEach((img, k) => {
        const want = bytes(c.outputs[k]);
        const got = OPS[c.op](img, c.param ?? 0).data;
        const bad: string[] = [];
        for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) bad.push(`[${i}] ${got[i]} vs ${want[i]}`);
        expect(bad.slice(0, 5), `image ${k} (${img.channels}x${img.height}x${img.width}): ${bad.length} of ${want.length} levels differ`).toEqual([]);
      });
    });
  }
});
