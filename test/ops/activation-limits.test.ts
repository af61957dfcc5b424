// softplus, sigmoid and tanh at ±∞, ±0 and NaN give their limits (PyTorch's values) with their derivatives, on the composites, the plain-array kernels and the tensor heap's Wasm kernels, float32 and float64; softplus(-∞) was NaN (-∞·0 in x·[x ≥ 0]).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { grad } from '../../src/autodiff/transforms.js';
import { tensor } from '../../src/core/creation.js';
import { sum } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { sigmoid, sigmoidComposite, softplus, softplusComposite, tanh } from '../../src/ops/activations.js';

const X = [-Infinity, -1e30, -0, 0, 1e30, Infinity, NaN];
// Padded past the Wasm kernels' thresholds so that the heap runs its SIMD paths on the same lanes.
const PAD = 40;
const values = (t: Tensor): number[] => Array.from(t.toArray()).slice(0, X.length);

describe('activation limits', () => {
  for (const [name, backend] of [['plain arrays', new CpuBackend({ heap: false })], ['tensor heap', new CpuBackend({ heap: true })]] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      const label = `${name}, ${dtype}`;
      const x = tensor([...X, ...Array(PAD).fill(0.25)], [X.length + PAD], { dtype, backend });
      it(`softplus: 0 at -∞, ln 2 at ±0, x at +∞ (and past 1e30), NaN at NaN; derivative σ (${label})`, () => {
        const ln2 = dtype === 'float32' ? Math.fround(Math.LN2) : Math.LN2;
        for (const f of [softplus, softplusComposite]) {
          expect(values(f(x))).toEqual([0, 0, ln2, ln2, dtype === 'float32' ? Math.fround(1e30) : 1e30, Infinity, NaN]);
        }
        expect(values(grad(([v]) => sum(softplus(v!)))([x])[0]!)).toEqual([0, 0, 0.5, 0.5, 1, 1, NaN]);
      });
      it(`sigmoid: 0 at -∞, ½ at ±0, 1 at +∞, NaN at NaN; tanh: ∓1, ±0, NaN (${label})`, () => {
        for (const f of [sigmoid, sigmoidComposite]) expect(values(f(x))).toEqual([0, 0, 0.5, 0.5, 1, 1, NaN]);
        expect(values(grad(([v]) => sum(sigmoid(v!)))([x])[0]!)).toEqual([0, 0, 0.25, 0.25, 0, 0, NaN]);
        const th = values(tanh(x));
        expect(th.slice(0, 2)).toEqual([-1, -1]);
        expect(Math.abs(th[2]!)).toBe(0);
        expect(th.slice(3)).toEqual([0, 1, 1, NaN]);
      });
    }
  }
});
