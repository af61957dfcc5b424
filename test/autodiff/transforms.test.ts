// Composition of transforms: jvp of grad equals the HVP, grad of an HVP (third order) passes derivative checks.
import { describe, expect, it } from 'vitest';
import { checkGrads, grad, hvp, jvp, mul, Random, randn, sum, tanh, exp, type Tensor } from '../../src/index.js';

const f64 = { dtype: 'float64' as const };
const rng = new Random(11);
const f = ([x, y]: Tensor[]): Tensor => sum(mul(tanh(mul(x, y)), exp(mul(y, 0.3))));

describe('nested transforms', () => {
  const xs = [randn([5], rng, 1, f64), randn([5], rng, 1, f64)];
  const vs = [randn([5], rng, 1, f64), randn([5], rng, 1, f64)];

  it('jvp of grad equals the reverse-over-reverse HVP', () => {
    const a = jvp((x) => grad(f)(x), xs, vs).tangents.flatMap((t) => t.toArray());
    const b = hvp(f, xs, vs).flatMap((t) => t.toArray());
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 12));
  });

  it('the HVP is itself differentiable (third derivatives pass checkGrads)', () => {
    checkGrads((x) => hvp(f, x, vs), xs, { order: 1, rtol: 1e-6, atol: 1e-8 });
  });

  it('grad of grad composes (second derivatives of a gradient, order 2 check)', () => {
    checkGrads((x) => grad(f)(x), xs, { order: 2, rtol: 1e-5, atol: 1e-7 });
  });
});
