// The L2 meta-knowledge's softplus terms c = (s·s)·2, dc = (s·σ(λ))·4 with s = softplus(λ): the fused Wasm pass on the CPU heap equals the composites (plain arrays) bit for bit, float32 and float64, every tail length, special and large-|λ| values at every lane of a step.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { withBackend } from '../../src/backend/registry.js';
import { tensor } from '../../src/core/creation.js';
import type { DType } from '../../src/core/dtype.js';
import { softplusTerms } from '../../src/hypergrad/softplus-terms.js';
import { Random } from '../../src/util/random.js';

const heapBe = new CpuBackend({ heap: true });
/** The primitives the heap backend ran. */
const prims: string[] = [];
const run0 = heapBe.run.bind(heapBe);
heapBe.run = (call, ...rest) => {
  prims.push(call.prim);
  return run0(call, ...rest);
};
const plainBe = new CpuBackend({ heap: false });
const OFF = [NaN, Infinity, -Infinity, 88, -88, 100, -100, 1e30, -0, 0, 5e-324, -1e-40];

function values(n: number, seed: number): number[] {
  const rng = new Random(seed);
  const v = Array.from({ length: n }, () => rng.uniform() * 16 - 8);
  // One special value in some groups of four, at a different lane each time: over the first 46 groups it takes each
  // of the 16 positions of the kernel's 16-float step once; the other steps stay on the fast path.
  for (let s = 0; 4 * s + 3 < n && s < 48; s += 3) v[4 * s + (s % 4)] = OFF[(s / 3) % OFF.length]!;
  return v;
}

describe('fused softplus terms equal the composites bit for bit', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`${dtype}: c and dc over sizes 1 to 4099 (under 32 both run the composites)`, () => {
      let fused = 0;
      for (const n of [1, 7, 31, 32, 33, 34, 35, 64, 1003, 4099]) {
        const v = values(n, n);
        const run = (be: CpuBackend) => withBackend(be, () => {
          const l = tensor(v, [n], { dtype });
          const t = softplusTerms(l);
          return { c: t.c.dataSync().slice(), dc: t.dc.dataSync().slice() };
        });
        const before = prims.length;
        const h = run(heapBe), p = run(plainBe);
        // The fused pass runs no primitive on the heap backend; the composites run softplus, sigmoid and mul.
        if (prims.length === before) fused++;
        else expect(n).toBeLessThan(32);
        for (const k of ['c', 'dc'] as const) {
          for (let i = 0; i < n; i++) if (!Object.is(h[k][i], p[k][i])) throw new Error(`${dtype} n=${n} ${k}[${i}] (λ = ${v[i]}): fused ${h[k][i]}, composite ${p[k][i]}`);
        }
      }
      expect(fused).toBe(7); // the sizes from 32 up went through the Wasm pass
    });
  }

  it('hand-checked: at λ = 0 (softplus ln 2) c = 2 ln²2, dc = 4·ln 2·½; λ = -100 gives 0 (the composite\'s log(1 + e^-100) rounds 1 + e^-100 to 1)', () => {
    const v = Array.from({ length: 40 }, (_, i) => (i === 5 ? -100 : 0));
    const t = withBackend(heapBe, () => softplusTerms(tensor(v, [40], { dtype: 'float64' })));
    const c = t.c.dataSync(), dc = t.dc.dataSync();
    expect(c[0]).toBeCloseTo(2 * Math.LN2 ** 2, 15);
    expect(dc[0]).toBeCloseTo(2 * Math.LN2, 15);
    expect([c[5], dc[5]]).toEqual([0, 0]);
  });
});
