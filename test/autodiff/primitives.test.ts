// Every primitive and derived op passes first- and second-order derivative checks in float64.
import { describe, expect, it } from 'vitest';
import {
  abs, add, avgPool2d, broadcastTo, cast, checkGrads, concat, conv2d, crossEntropy, div, exp, gather, globalAvgPool2d,
  leakyRelu, log, logSoftmax, logSumExp, matmul, max, maxPool2d, mean, mul, neg, oneHot, pad, Random, randn, relu,
  reshape, scatterAdd, sigmoid, slice, softmax, softplus, sqrt, sub, sum, tanh, tensor, transpose, variance, where,
  greater, valueAndGrad, type Tensor,
} from '../../src/index.js';

const rng = new Random(42);
const f64 = (shape: number[], scale = 1): Tensor => randn(shape, rng, scale, { dtype: 'float64' });
const positive = (shape: number[]): Tensor => add(abs(f64(shape)), 0.5);

type Case = [string, (xs: Tensor[]) => Tensor, () => Tensor[], { rtol?: number; eps?: number }?];

// Fixed random factors used inside test functions (drawn once, not per evaluation).
const c324 = f64([3, 2, 4]);
const c423 = f64([4, 2, 3]);
const c35 = f64([3, 5]);
const c42 = f64([4, 2]);

const cases: Case[] = [
  ['neg', ([x]) => neg(x), () => [f64([3, 4])]],
  ['exp', ([x]) => exp(x), () => [f64([3, 4])]],
  ['log', ([x]) => log(x), () => [positive([3, 4])]],
  ['sqrt', ([x]) => sqrt(x), () => [positive([5])]],
  ['add broadcast', ([a, b]) => add(a, b), () => [f64([3, 4]), f64([4])]],
  ['sub broadcast', ([a, b]) => sub(a, b), () => [f64([3, 1]), f64([1, 4])]],
  ['mul broadcast', ([a, b]) => mul(a, b), () => [f64([2, 3, 4]), f64([3, 1])]],
  ['div broadcast', ([a, b]) => div(a, b), () => [f64([3, 4]), positive([4])]],
  ['where', ([a, b]) => where(greater(a, b), mul(a, a), mul(b, 3)), () => [f64([4, 5]), f64([5])]],
  ['sum axes', ([x]) => sum(x, [0, 2]), () => [f64([2, 3, 4])]],
  ['sum all', ([x]) => sum(mul(x, x)), () => [f64([3, 3])]],
  ['max axis', ([x]) => max(mul(x, x), 1), () => [f64([4, 6])]],
  ['broadcastTo', ([x]) => mul(broadcastTo(x, [3, 2, 4]), c324), () => [f64([2, 1])]],
  ['reshape', ([x]) => mul(reshape(x, [4, 3]), reshape(x, [4, 3])), () => [f64([2, 6])]],
  ['transpose', ([x]) => mul(transpose(x, [2, 0, 1]), c423), () => [f64([2, 3, 4])]],
  ['slice', ([x]) => mul(slice(x, [1, 0], [2, 3]), slice(x, [0, 1], [2, 3])), () => [f64([3, 4])]],
  ['pad', ([x]) => mul(pad(x, [1, 0], [0, 2]), c35), () => [f64([2, 3])]],
  ['concat', ([a, b]) => mul(concat([a, b], 1), concat([b, a], 1)), () => [f64([2, 3]), f64([2, 3])]],
  ['matmul', ([a, b]) => matmul(a, b), () => [f64([3, 4]), f64([4, 5])]],
  ['matmul transA', ([a, b]) => matmul(a, b, { transA: true }), () => [f64([4, 3]), f64([4, 5])]],
  ['matmul transB', ([a, b]) => matmul(a, b, { transB: true }), () => [f64([3, 4]), f64([5, 4])]],
  ['matmul transA transB', ([a, b]) => matmul(mul(a, a), b, { transA: true, transB: true }), () => [f64([4, 3]), f64([5, 4])]],
  ['conv2d', ([x, w]) => conv2d(x, w, { padding: 1 }), () => [f64([2, 3, 5, 5]), f64([4, 3, 3, 3])]],
  ['conv2d stride 2', ([x, w]) => conv2d(mul(x, x), w, { stride: 2, padding: [1, 0] }), () => [f64([2, 2, 6, 7]), f64([3, 2, 3, 2])]],
  ['gather', ([x]) => mul(gather(x, [2, 0, 2], 1), 3), () => [f64([2, 4])]],
  ['scatterAdd', ([x]) => mul(scatterAdd(x, [1, 1, 0], 0, 4), c42), () => [f64([3, 2])]],
  ['cast (float32 round trip)', ([x]) => mul(cast(mul(cast(x, 'float32'), 2), 'float64'), x), () => [f64([3])], { rtol: 2e-3, eps: 1e-2 }],
  ['relu', ([x]) => mul(relu(x), x), () => [f64([10])]],
  ['abs', ([x]) => mul(abs(x), x), () => [f64([10])]],
  ['leakyRelu', ([x]) => mul(leakyRelu(x, 0.1), x), () => [f64([10])]],
  ['sigmoid', ([x]) => sigmoid(x), () => [f64([10], 3)]],
  ['tanh', ([x]) => tanh(x), () => [f64([10], 2)]],
  ['softplus', ([x]) => softplus(x), () => [f64([10], 3)]],
  ['mean', ([x]) => mean(mul(x, x), 1), () => [f64([3, 4])]],
  ['variance', ([x]) => variance(x, 0), () => [f64([5, 3])]],
  ['logSumExp', ([x]) => logSumExp(x, 1), () => [f64([3, 5])]],
  ['softmax', ([x]) => softmax(x), () => [f64([3, 5])]],
  ['logSoftmax', ([x]) => logSoftmax(x, 0), () => [f64([4, 3])]],
  ['crossEntropy', ([x]) => crossEntropy(x, oneHot([0, 2, 1], 3, { dtype: 'float64' })), () => [f64([3, 3])]],
  ['maxPool2d', ([x]) => maxPool2d(mul(x, x), 2), () => [f64([1, 2, 4, 5])]],
  ['avgPool2d', ([x]) => avgPool2d(mul(x, x), 2), () => [f64([2, 1, 4, 4])]],
  ['globalAvgPool2d', ([x]) => globalAvgPool2d(mul(x, x)), () => [f64([2, 3, 3, 3])]],
];

describe('derivative checks (float64, central differences and inner-product identity)', () => {
  for (const [name, fn, inputs, tol] of cases) {
    it(`${name}: first and second order`, () => {
      checkGrads((xs) => [fn(xs)], inputs(), { order: 2, eps: tol?.eps ?? 1e-5, rtol: tol?.rtol ?? 1e-6, atol: 1e-8 });
    });
  }

  it('softplus at exactly 0 has the derivative σ(0) = ½ (both pieces on the same side of the kink)', () => {
    const { grads } = valueAndGrad(([x]) => sum(softplus(x)))([tensor([0, -0, 1e-300, -1e-300], [4], { dtype: 'float64' })]);
    expect(grads[0].toArray()).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(softplus(tensor([0], [1], { dtype: 'float64' })).toArray()[0]).toBe(Math.log(2));
  });

  it('detects a wrong derivative (the checker can fail)', () => {
    // f(x) = x² computed with a deliberately detached factor has derivative x, not 2x.
    const x = f64([4]);
    const wrong = ([v]: Tensor[]): Tensor[] => [mul(v, tensor(v.dataSync(), v.shape, { dtype: 'float64' }))];
    expect(() => checkGrads(wrong, [x], { order: 1 })).toThrow(/jvp vs central difference/);
  });
});
