// Weak and strong views: deterministic per seed, shifts within 12.5% of the side, flips only where allowed, RandAugment draws and Cutout.
import { describe, expect, it } from 'vitest';
import { checkBatch, RAND_AUGMENT_OPS, randAugmentImage, strongAugment, weakAugment, weakAugmentImage, type FloatImage, type RandAugmentTrace } from '../../src/augment/index.js';
import { Random } from '../../src/util/random.js';
import { augmentCases, syntheticBatch } from './cases.js';

/** An image whose pixel values encode their position (x + 100 y + 1e4 c), to read back what a transform did. */
function coded(channels: number, side: number): FloatImage {
  const data = new Float32Array(channels * side * side);
  for (let c = 0; c < channels; c++) for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[(c * side + y) * side + x] = x + 100 * y + 1e4 * c;
  return { data, channels, height: side, width: side };
}

describe('weak augmentation', () => {
  it('draws shifts uniformly over [-3, 3] on 28 px and [-4, 4] on 32 px, with reflect padding; never flips when flip is off', () => {
    for (const [side, p] of [[28, 3], [32, 4]] as const) {
      const seen = new Set<string>();
      const rng = new Random(5);
      for (let k = 0; k < 400; k++) {
        const out = weakAugmentImage(coded(1, side), rng, { flip: false });
        // The interior pixel (p..side-1-p) reads its source without reflection: x_src = x - dx.
        const v = out.data[p * side + p];
        const dx = p - (v % 100);
        const dy = p - Math.floor(v / 100);
        expect(Math.abs(dx)).toBeLessThanOrEqual(p);
        expect(Math.abs(dy)).toBeLessThanOrEqual(p);
        // Row order preserved (no flip): the next pixel to the right comes from x + 1.
        expect(out.data[p * side + p + 1] - v).toBe(1);
        seen.add(`${dx},${dy}`);
      }
      expect(seen.size).toBe((2 * p + 1) ** 2);
    }
  });

  it('flips about half of the images when flip is on', () => {
    const rng = new Random(9);
    let flips = 0;
    for (let k = 0; k < 1000; k++) {
      const out = weakAugmentImage(coded(3, 32), rng, { flip: true });
      if (out.data[4 * 32 + 5] - out.data[4 * 32 + 4] === -1) flips++;
    }
    expect(flips).toBeGreaterThan(440);
    expect(flips).toBeLessThan(560);
  });

  it('same seed -> same batch, other seed -> other batch; input untouched', () => {
    const b = syntheticBatch(8, 1, 28, 3);
    const copy = b.data.slice();
    const a1 = weakAugment(b, new Random(1), { flip: false }).data;
    const a2 = weakAugment(b, new Random(1), { flip: false }).data;
    const a3 = weakAugment(b, new Random(2), { flip: false }).data;
    expect(a1).toEqual(a2);
    expect(a1).not.toEqual(a3);
    expect(b.data).toEqual(copy);
  });
});

describe('RandAugment and the strong view', () => {
  it('has the 14 ops of the references', () => {
    expect(RAND_AUGMENT_OPS.map((o) => o.name).sort()).toEqual(
      ['AutoContrast', 'Brightness', 'Color', 'Contrast', 'Equalize', 'Identity', 'Posterize', 'Rotate', 'Sharpness', 'ShearX', 'ShearY', 'Solarize', 'TranslateX', 'TranslateY'].sort(),
    );
  });

  it('draws 2 ops per image, applies each with p = 0.5, parameters in the reference ranges, and always cuts out half the side', () => {
    const rng = new Random(21);
    const img = syntheticBatch(1, 3, 32, 4);
    const counts = new Map<string, number>();
    let applied = 0;
    let ops = 0;
    for (let k = 0; k < 1400; k++) {
      const trace: RandAugmentTrace = { ops: [], cutout: null };
      const out = randAugmentImage({ data: img.data, channels: 3, height: 32, width: 32 }, rng, {}, trace);
      expect(trace.ops.length).toBe(2);
      expect(trace.cutout!.size).toBe(16);
      for (const o of trace.ops) {
        ops++;
        applied += o.applied ? 1 : 0;
        counts.set(o.name, (counts.get(o.name) ?? 0) + 1);
        const v = o.parameter;
        if (['Color', 'Contrast', 'Brightness', 'Sharpness'].includes(o.name)) expect(v! >= 0.05 && v! < 0.95).toBe(true);
        if (o.name === 'Rotate') expect(Math.abs(v!)).toBeLessThanOrEqual(30);
        if (o.name.startsWith('Shear')) expect(Math.abs(v!)).toBeLessThanOrEqual(0.3);
        if (o.name.startsWith('Translate')) expect(Math.abs(v!)).toBeLessThanOrEqual(0.3 * 32);
        if (o.name === 'Solarize') expect(v! >= 0 && v! < 256).toBe(true);
        if (o.name === 'Posterize') expect([4, 5, 6, 7, 8]).toContain(v);
      }
      // The cutout square is grey in every channel.
      const { cx, cy } = trace.cutout!;
      const x0 = Math.max(0, Math.floor(cx - 8));
      const y0 = Math.max(0, Math.floor(cy - 8));
      for (let c = 0; c < 3; c++) expect(out.data[(c * 32 + y0) * 32 + x0]).toBe(0.5);
    }
    expect(applied / ops).toBeGreaterThan(0.46);
    expect(applied / ops).toBeLessThan(0.54);
    expect(counts.size).toBe(14);
    for (const n of counts.values()) expect(n).toBeGreaterThan(130); // 2800 / 14 = 200 expected
  });

  it('strong views are deterministic per seed, stay in [0, 1] and differ from the weak ones', () => {
    for (const c of augmentCases()) expect(c.run()).toEqual(c.run());
    const b = syntheticBatch(16, 3, 32, 5);
    const s1 = strongAugment(b, new Random(3), { flip: true });
    const s2 = strongAugment(b, new Random(4), { flip: true });
    checkBatch('s1', s1);
    expect(s1.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(s1.data).not.toEqual(s2.data);
    expect(s1.data).not.toEqual(weakAugment(b, new Random(3), { flip: true }).data);
  });

  it('refuses bad batches and options with clear messages', () => {
    expect(() => weakAugment({ data: new Float32Array(10), count: 1, channels: 2, height: 2, width: 2 }, new Random(0), { flip: false })).toThrow(/1 \(grayscale\) or 3 \(RGB\) channels, got 2/);
    expect(() => strongAugment({ data: new Float32Array(3), count: 1, channels: 1, height: 2, width: 2 }, new Random(0), { flip: false })).toThrow(/Float32Array of 4 values/);
    expect(() => randAugmentImage(coded(1, 4), new Random(0), { p: 2 })).toThrow(/p must be in \[0, 1\]/);
  });
});

describe('tensor front end', () => {
  it('weak/strong views of a tensor equal the batch functions, on the same backend; non-NCHW refused', async () => {
    const { tensor } = await import('../../src/core/creation.js');
    const { strongAugmentTensor, weakAugmentTensor } = await import('../../src/augment/index.js');
    const b = syntheticBatch(3, 3, 32, 8);
    const x = tensor(b.data, [3, 3, 32, 32]);
    const w = await weakAugmentTensor(x, new Random(4), { flip: true });
    expect(w.shape).toEqual([3, 3, 32, 32]);
    expect(w.backend).toBe(x.backend);
    expect(await w.data()).toEqual(weakAugment(b, new Random(4), { flip: true }).data);
    const s = await strongAugmentTensor(x, new Random(5), { flip: true });
    expect(await s.data()).toEqual(strongAugment(b, new Random(5), { flip: true }).data);
    await expect(weakAugmentTensor(tensor([1, 2], [2]), new Random(0), { flip: false })).rejects.toThrow(/expected an NCHW image tensor/);
  });
});
