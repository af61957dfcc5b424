// Adam's elementwise decay d ⊙ p equals adding d ⊙ p to the gradient, on the fused CPU path, in float32 and float64.
import { describe, expect, it } from 'vitest';
import { add, mul, Random, randn, type Tensor } from '../../src/index.js';
import { Adam } from '../../src/optim/adam.js';

describe('Adam elementwise decay', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: three steps with decay match three steps on pre-added gradients`, () => {
      const rng = new Random(3);
      const p0 = randn([5, 4], rng, 1, { dtype });
      const d = mul(randn([5, 4], rng, 1, { dtype }), mul(randn([5, 4], rng, 1, { dtype }), 1)); // any signs
      const grads = [0, 1, 2].map(() => randn([5, 4], rng, 1, { dtype }));
      const a = { name: 'p', value: p0 };
      const b = { name: 'p', value: p0 };
      const withDecay = new Adam([a], { lr: 0.01 });
      withDecay.elementwiseDecay = [d];
      const plain = new Adam([b], { lr: 0.01 });
      for (const g of grads) {
        withDecay.step([g]);
        plain.step([add(g, mul(d, b.value as Tensor))]);
      }
      const x = a.value.toArray();
      const y = b.value.toArray();
      x.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThan(dtype === 'float32' ? 1e-6 : 1e-14));
    });
  }
});
