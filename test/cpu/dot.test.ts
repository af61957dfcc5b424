// Dot products on the CPU (src/backend/cpu/dot.ts, assembly/dot.ts): Wasm on the heap and the JS loop give the same bits for every length and dtype, both equal the documented summation order written out here, and vdot/vnorm of vector lists use them.
import { describe, expect, it } from 'vitest';
import { CpuBackend, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';
import { dotArrays } from '../../src/backend/cpu/dot.js';
import { withBackend } from '../../src/backend/registry.js';
import { tensor } from '../../src/core/creation.js';
import { vdot, vnorm } from '../../src/hypergrad/vector-list.js';
import { Random } from '../../src/util/random.js';

const heapBe = new CpuBackend({ heap: true });
const plainBe = new CpuBackend({ heap: false });

/** The order of dotArrays written out plainly: partial sums by i mod 8, combined pairwise, then the tail in order. */
function reference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const whole = n - (n % 8);
  const part = new Float64Array(8);
  for (let i = 0; i < whole; i++) part[i % 8] += a[i]! * b[i]!;
  let s = (part[0]! + part[1]! + (part[2]! + part[3]!)) + (part[4]! + part[5]! + (part[6]! + part[7]!));
  for (let i = whole; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

describe('CPU dot products', () => {
  it('heap (Wasm) and plain arrays (JS) give the documented order\'s bits, float32 and float64, lengths 0 to 100003', () => {
    const rng = new Random(3);
    let wasm = 0;
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of [0, 1, 7, 8, 9, 31, 32, 33, 39, 40, 41, 1000, 100_003]) {
        const av = Array.from({ length: n }, () => rng.uniform() * 2 - 1);
        const bv = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1e6 : rng.uniform()) * (i % 2 ? -1 : 1));
        const arrays = (be: CpuBackend) => [tensor(av, [n], { dtype, backend: be }), tensor(bv, [n], { dtype, backend: be })].map((t) => (t.buffer as CpuBuffer).data);
        const [ha, hb] = arrays(heapBe), [pa, pb] = arrays(plainBe);
        if (n > 0 && heapBe.heap()!.owns(ha!) && n >= 32) wasm++;
        const want = reference(pa!, pb!);
        expect(Object.is(dotArrays(ha!, hb!), want), `${dtype} n=${n} heap`).toBe(true);
        expect(Object.is(dotArrays(pa!, pb!), want), `${dtype} n=${n} plain`).toBe(true);
        // And it is the dot product: against a float64 sum of the same products in index order.
        let plain = 0;
        for (let i = 0; i < n; i++) plain += pa![i]! * pb![i]!;
        expect(Math.abs(want - plain)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(plain)));
      }
    }
    expect(wasm).toBe(2 * 7); // the lengths from 32 up ran the Wasm kernel
  });

  it('vdot and vnorm of CPU vector lists add the per-tensor dots in float64; mismatched sizes are refused', async () => {
    const a = [[1, 2, 3], [4, 5]], b = [[0.5, -1, 2], [3, 0.25]];
    for (const be of [heapBe, plainBe]) {
      await withBackend(be, async () => {
        const ta = a.map((v) => tensor(v, [v.length], { dtype: 'float64' })), tb = b.map((v) => tensor(v, [v.length], { dtype: 'float64' }));
        expect(await vdot(ta, tb)).toBe(0.5 - 2 + 6 + 12 + 1.25);
        expect(await vnorm(ta)).toBe(Math.sqrt(1 + 4 + 9 + 16 + 25));
        await expect(vdot([ta[0]!], [tb[1]!])).rejects.toThrow('vdot: tensor 0 has 3 and 2 elements');
      });
    }
  });
});
