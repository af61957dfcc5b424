// The per-parameter L2 hypergradient's tail ∂L_V/∂λ − (x ⊙ w) ⊙ dc: one Wasm pass on the CPU heap with the composite's bits (direct term given or absent, float32 and float64), the composite where it does not apply (plain arrays, grouped λ); valueAndGradOrNull's null for inputs a function ignores.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { withBackend } from '../../src/backend/registry.js';
import { valueAndGrad, valueAndGradOrNull } from '../../src/autodiff/transforms.js';
import { randn, tensor, zerosLike } from '../../src/core/creation.js';
import { mul, sub, sum } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { fusedTail, fusedTailPasses } from '../../src/hypergrad/l2-hypergrad-tail.js';
import { perLayerL2, perParameterL2 } from '../../src/hypergrad/meta-knowledge.js';
import { Random } from '../../src/util/random.js';

const heapBe = new CpuBackend({ heap: true });
const plainBe = new CpuBackend({ heap: false });
const SHAPES = [[37, 5], [5], [1], [3, 2, 7]];

/** Parameters w, their λ, a vector x and a direct term d on backend `be`, from one seed. */
function problem(be: CpuBackend, dtype: 'float32' | 'float64', grouped: boolean) {
  return withBackend(be, () => {
    const rng = new Random(11);
    const params = SHAPES.map((s, i) => ({ name: `p${i}`, layer: `l${i >> 1}`, value: randn(s, rng, 0.5, { dtype }) }));
    const mk = grouped ? perLayerL2(params as never, { groupBy: 'layer' }) : perParameterL2(params as never);
    // λ over a wide range, so that softplus, σ and the products round in every way.
    const lam = mk.init(rng).map((l) => mul(l, 2));
    const w = params.map((p) => p.value);
    const x = SHAPES.map((s) => randn(s, rng, 3, { dtype }));
    const d = lam.map((l) => randn(l.shape, rng, 0.1, { dtype }));
    return { w, lam, x, d, cf: mk.closedForm!(w, lam) };
  });
}

const bits = (ts: readonly Tensor[]): number[][] => ts.map((t) => Array.from(t.toArray() as ArrayLike<number>));

describe('the L2 hypergradient tail', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}, per-parameter λ: the fused pass on the heap is sub(d, mixed(x)) bit for bit, with and without a direct term`, () => {
      for (const be of [heapBe, plainBe]) {
        const { w, lam, x, d, cf } = problem(be, dtype, false);
        withBackend(be, () => {
          const composite = cf.mixed(x).map((m, i) => sub(d[i]!, m));
          const compositeNoDirect = cf.mixed(x).map((m) => sub(zerosLike(m), m));
          const before = fusedTailPasses();
          expect(bits(cf.subtractMixed!(d, x))).toStrictEqual(bits(composite));
          expect(bits(cf.subtractMixed!(lam.map(() => null), x))).toStrictEqual(bits(compositeNoDirect));
          // One fused pass per λ tensor on the heap, twice; none on plain arrays.
          expect(fusedTailPasses() - before).toBe(be === heapBe ? 2 * lam.length : 0);
          // The fused pass is what ran on the heap, and only there.
          const fused = fusedTail(d[0]!, x[0]!, w[0]!, mul(lam[0]!, 0));
          expect(fused !== null, be === heapBe ? 'heap' : 'plain arrays').toBe(be === heapBe);
        });
      }
    });
  }

  it('grouped λ (per layer): the composite, the same values as subtracting mixed', () => {
    const { lam, x, d, cf } = problem(heapBe, 'float64', true);
    withBackend(heapBe, () => {
      expect(lam.map((l) => l.size)).toEqual([1, 1]);
      const before = fusedTailPasses();
      const got = cf.subtractMixed!(d, x);
      expect(fusedTailPasses()).toBe(before); // grouped λ: the composite
      const want = cf.mixed(x).map((m, i) => sub(d[i]!, m));
      expect(bits(got)).toStrictEqual(bits(want));
    });
  });

  it('the tail of a mismatched shape or dtype is refused by the fused pass (null), not computed wrongly', () => {
    withBackend(heapBe, () => {
      const rng = new Random(2);
      const a = randn([4, 3], rng), b = randn([3, 4], rng), c64 = randn([4, 3], rng, 1, { dtype: 'float64' });
      expect(fusedTail(null, a, b, a)).toBeNull();
      expect(fusedTail(b, a, a, a)).toBeNull(); // a direct term of another shape (the same length)
      expect(fusedTail(null, a, a, c64)).toBeNull();
      expect(fusedTail(c64, c64, c64, a)).toBeNull();
      expect(fusedTail(null, a, a, a)).not.toBeNull();
    });
  });
});

describe('valueAndGradOrNull', () => {
  it('gives null for an input the function ignores, where valueAndGrad gives zeros, and the same gradients otherwise', () => {
    withBackend(heapBe, () => {
      const f = (xs: Tensor[]): Tensor => sum(mul(xs[0]!, xs[0]!));
      const x = tensor([1, -2, 3], [3]), y = tensor([5, 6], [2]);
      const a = valueAndGradOrNull(f)([x, y]);
      const b = valueAndGrad(f)([x, y]);
      expect(a.grads[1]).toBeNull();
      expect(Array.from(b.grads[1]!.toArray() as ArrayLike<number>)).toEqual([0, 0]);
      expect(Array.from(a.grads[0]!.toArray() as ArrayLike<number>)).toEqual([2, -4, 6]);
      expect(Array.from(b.grads[0]!.toArray() as ArrayLike<number>)).toEqual([2, -4, 6]);
      expect(a.value.toArray()[0]).toBe(14);
    });
  });
});
