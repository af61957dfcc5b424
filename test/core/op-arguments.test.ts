// The primitives' front ends: every bad argument gets an error naming the op, the offending value and where it is; the shortcuts that return their input unchanged do so only when nothing changes; comparisons, where, transposes, slices and concatenations give the values written out by hand.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { randn, randu, tensor } from '../../src/core/creation.js';
import { allocArray } from '../../src/core/dtype.js';
import { Random } from '../../src/util/random.js';
import {
  broadcastTo,
  cast,
  compare,
  concat,
  conv2d,
  conv2dGradInput,
  conv2dGradWeight,
  detach,
  equal,
  gather,
  greater,
  greaterEqual,
  less,
  lessEqual,
  matmul,
  max,
  pad,
  reshape,
  scatterAdd,
  slice,
  sum,
  sumTo,
  transpose,
  where,
  add,
  div,
  mul,
  sub,
} from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { vjp } from '../../src/autodiff/transforms.js';

/** A labelled float64 tensor, so error messages name it the same way in every run. */
function t(values: number[], shape: number[], label = 'x', dtype: 'float32' | 'float64' = 'float64'): Tensor {
  const r = tensor(values, shape, { dtype });
  r.label = label;
  return r;
}
const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('comparisons and where', () => {
  const a = t([1, 2, 3], [3], 'a');
  const b = t([2, 2, 2], [3], 'b');
  it('each comparison gives 1 where it holds and 0 elsewhere, equal values included', () => {
    expect(greater(a, b).toArray()).toEqual([0, 0, 1]);
    expect(greaterEqual(a, b).toArray()).toEqual([0, 1, 1]);
    expect(less(a, b).toArray()).toEqual([1, 0, 0]);
    expect(lessEqual(a, b).toArray()).toEqual([1, 1, 0]);
    expect(equal(a, b).toArray()).toEqual([0, 1, 0]);
    // A number on either side is lifted to the tensor's dtype and broadcast.
    expect(less(2, a).toArray()).toEqual([0, 0, 1]);
    expect(greaterEqual(a, 2).dtype).toBe('float64');
  });
  it('comparisons of two numbers and of shapes that do not broadcast are refused, naming the comparison', () => {
    expect(() => compare(1, 2, 'le')).toThrow('compare(le): at least one argument must be a Tensor');
    expect(() => greater(t([1, 2], [2]), t([1, 2, 3], [3]))).toThrow('compare(gt): shapes [2] and [3] cannot be broadcast together (axis 0)');
    expect(() => add(1, 2)).toThrow('add: at least one argument must be a Tensor');
  });
  it('the other argument of a binary op, or a branch of where, must be a Tensor or a number: null, undefined, arrays and typed arrays are refused', () => {
    const x = t([1, 2], [2], 'x', 'float32');
    const bad = (v: unknown): never => v as never;
    expect(() => add(x, bad(null))).toThrow(new Error('add: expected a Tensor or a number, got null'));
    expect(() => mul(bad(undefined), x)).toThrow(new Error('mul: expected a Tensor or a number, got undefined'));
    expect(() => sub(x, bad([1, 2]))).toThrow(new Error('sub: expected a Tensor or a number, got an array'));
    expect(() => div(x, bad(Float32Array.of(2)))).toThrow(new Error('div: expected a Tensor or a number, got an object (Float32Array)'));
    expect(() => compare(x, bad('1'), 'gt')).toThrow(new Error('compare(gt): expected a Tensor or a number, got string'));
    expect(() => where(x, bad(null), 1)).toThrow(new Error('where: expected a Tensor or a number, got null'));
    expect(add(x, 0.5).toArray()).toEqual([1.5, 2.5]);
  });
  it('where picks per element, casts a condition of another dtype, and refuses branches of different dtypes', () => {
    const cond = t([1, 0, 2], [3], 'c', 'float32');
    const r = where(cond, a, b);
    expect(r.dtype).toBe('float64');
    expect(r.toArray()).toEqual([1, 2, 3]);
    expect(where(t([0, 1], [2, 1]), a, 0).toArray()).toEqual([0, 0, 0, 1, 2, 3]);
    expect(() => where(cond, a, t([1, 1, 1], [3], 'y', 'float32'))).toThrow('where: branch dtypes differ (float64 vs float32)');
    expect(() => where(t([1, 0], [2]), a, b)).toThrow('where: shapes [2] and [3] and [3] cannot be broadcast together (axis 0)');
  });
});

describe('reductions and broadcasting', () => {
  const x = t(iota(6), [2, 3]);
  it('sum over no axes is the input itself; max of an empty axis is refused', () => {
    expect(sum(x, [])).toBe(x);
    expect(max(x, [])).toBe(x);
    expect(max(x, 1).toArray()).toEqual([3, 6]);
    expect(max(x, 0, true).shape).toEqual([1, 3]);
    expect(max(x).shape).toEqual([]);
    const empty = t([], [2, 0], 'e');
    expect(() => max(empty, 1)).toThrow('max: cannot reduce an empty axis 1 of e[2, 0]:float64');
    expect(sum(empty, 1).toArray()).toEqual([0, 0]);
  });
  it('broadcastTo: same shape is the input; a shape it cannot reach is refused', () => {
    expect(broadcastTo(x, [2, 3])).toBe(x);
    expect(broadcastTo(t([1, 2, 3], [3]), [2, 3]).toArray()).toEqual([1, 2, 3, 1, 2, 3]);
    expect(() => broadcastTo(x, [3])).toThrow('broadcastTo: cannot broadcast [2, 3] to [3]');
    expect(() => broadcastTo(x, [2, 4])).toThrow('broadcastTo: shapes [2, 3] and [2, 4] cannot be broadcast together (axis 1)');
  });
  it('sumTo sums the broadcast axes only, and refuses larger ranks and shapes that were not broadcast', () => {
    expect(sumTo(x, [2, 3])).toBe(x);
    expect(sumTo(x, [3]).toArray()).toEqual([5, 7, 9]);
    expect(sumTo(x, [2, 1]).toArray()).toEqual([6, 15]);
    expect(sumTo(x, [1, 3]).toArray()).toEqual([5, 7, 9]);
    expect(sumTo(t(iota(6), [2, 1, 3]), [1, 3]).toArray()).toEqual([5, 7, 9]);
    expect(sumTo(x, []).toArray()).toEqual([21]);
    expect(() => sumTo(x, [1, 2, 3])).toThrow('sumTo: cannot reduce [2, 3] to larger rank [1, 2, 3]');
    expect(() => sumTo(x, [2])).toThrow('sumTo: [2, 3] is not a broadcast of [2]');
  });
});

describe('movement', () => {
  const x = t(iota(6), [2, 3]);
  it('reshape infers -1, returns the input for its own shape, and names the sizes when they differ', () => {
    expect(reshape(x, [2, 3])).toBe(x);
    expect(reshape(x, [-1]).shape).toEqual([6]);
    expect(reshape(x, [3, -1]).shape).toEqual([3, 2]);
    expect(reshape(x, [-1, 3])).toBe(x);
    expect(() => reshape(x, [4, -1])).toThrow('reshape: cannot infer -1 in [4, -1] for x[2, 3]:float64');
    expect(() => reshape(x, [0, -1])).toThrow('reshape: cannot infer -1 in [0, -1] for x[2, 3]:float64');
    expect(() => reshape(x, [4])).toThrow('reshape: x[2, 3]:float64 has 6 elements, shape [4] needs 4');
    // Two -1s, or another negative or fractional size: the shape itself is refused (a product of two -1s used to
    // pass the size check, naming a shape [-6, -1]).
    expect(() => reshape(x, [-1, -1])).toThrow('reshape: [-1, -1] is not a shape (non-negative integers, at most one -1) for x[2, 3]:float64');
    expect(() => reshape(x, [-2, -3])).toThrow('reshape: [-2, -3] is not a shape');
    expect(() => reshape(x, [1.5, 4])).toThrow('reshape: [1.5, 4] is not a shape');
  });
  it('transpose reverses the axes by default, keeps the identity permutation as the input, refuses non-permutations', () => {
    const y = t(iota(24), [2, 3, 4]);
    const r = transpose(y);
    expect(r.shape).toEqual([4, 3, 2]);
    // r[k][j][i] = y[i][j][k] = 12 i + 4 j + k + 1
    expect(r.toArray().slice(0, 4)).toEqual([1, 13, 5, 17]);
    expect(transpose(y, [0, 2, 1]).toArray().slice(0, 6)).toEqual([1, 5, 9, 2, 6, 10]);
    expect(transpose(y, [0, 1, 2])).toBe(y);
    expect(() => transpose(y, [0, 1])).toThrow('transpose: [0, 1] is not a permutation of the axes of x[2, 3, 4]:float64');
    expect(() => transpose(y, [0, 1, 1])).toThrow('transpose: [0, 1, 1] is not a permutation of the axes of x[2, 3, 4]:float64');
    expect(() => transpose(y, [1, 2, 3])).toThrow('is not a permutation');
  });
  it('slice: -1 runs to the end of the axis; the whole window is the input; windows outside are refused with their axis', () => {
    expect(slice(x, [0, 1], [2, -1]).toArray()).toEqual([2, 3, 5, 6]);
    expect(slice(x, [1, 0], [-1, 2]).toArray()).toEqual([4, 5]);
    expect(slice(x, [0, 0], [-1, -1])).toBe(x);
    expect(slice(x, [0, 2], [2, 0]).shape).toEqual([2, 0]);
    expect(() => slice(x, [0], [1])).toThrow('slice: begin/size must have rank 2 for x[2, 3]:float64');
    expect(() => slice(x, [0, 0], [1])).toThrow('slice: begin/size must have rank 2');
    expect(() => slice(x, [0], [1, 1])).toThrow('slice: begin/size must have rank 2');
    expect(() => slice(x, [0, 1], [1, 3])).toThrow('slice: window begin [0, 1] size [1, 3] is outside x[2, 3]:float64 (axis 1)');
    expect(() => slice(x, [-1, 0], [1, 1])).toThrow('(axis 0)');
    expect(() => slice(x, [1, 0], [-2, 1])).toThrow('size [-2, 1] is outside');
    expect(() => slice(x, [2, 0], [1, 1])).toThrow('(axis 0)');
    // Fractional windows are refused (0.5 used to read from row 0 as if it were an index).
    expect(() => slice(x, [0.5, 0], [1, 1])).toThrow('slice: begin [0.5, 0] and size [1, 1] must be integers (size -1: to the end) for x[2, 3]:float64');
    expect(() => slice(x, [0, 0], [1, 1.5])).toThrow('slice: begin [0, 0] and size [1, 1.5] must be integers');
  });
  it('pad: zeros around, nothing to pad is the input, bad amounts are refused', () => {
    expect(pad(x, [0, 1], [1, 0]).toArray()).toEqual([0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0]);
    expect(pad(x, [0, 0], [0, 0])).toBe(x);
    expect(pad(x, [0, 0], [0, 1]).shape).toEqual([2, 4]);
    expect(pad(x, [1, 0], [0, 0]).shape).toEqual([3, 3]);
    expect(() => pad(x, [0], [0, 0])).toThrow('pad: before/after must have rank 2 for x[2, 3]:float64');
    expect(() => pad(x, [0, 0], [0])).toThrow('pad: before/after must have rank 2');
    expect(() => pad(x, [0, -1], [0, 0])).toThrow('pad: negative or fractional padding');
    expect(() => pad(x, [0, 0], [0.5, 0])).toThrow('pad: negative or fractional padding');
  });
  it('concat along positive and negative axes, of three pieces, and refuses mismatched shapes', () => {
    const a = t([1, 2], [2, 1], 'a');
    const b = t([3, 4, 5, 6], [2, 2], 'b');
    const c = t([7, 8], [2, 1], 'c');
    expect(concat([a, b, c], 1).toArray()).toEqual([1, 3, 4, 7, 2, 5, 6, 8]);
    expect(concat([a, b, c], -1).toArray()).toEqual([1, 3, 4, 7, 2, 5, 6, 8]);
    expect(concat([x, x], 0).shape).toEqual([4, 3]);
    expect(concat([x]).toArray()).toEqual(iota(6));
    expect(() => concat([])).toThrow('concat: no tensors given');
    expect(() => concat([a, b], 0)).toThrow('concat: shapes [2, 1], [2, 2] differ outside axis 0');
    expect(() => concat([a, t([1, 2], [2])], 1)).toThrow('concat: shapes [2, 1], [2] differ outside axis 1');
    // An axis past the rank used to give x + x (no axis matched it, so nothing was padded and the pieces were added).
    expect(() => concat([x, x], 2)).toThrow('concat: axis 2 is out of range for rank 2');
    expect(() => concat([x, x], -3)).toThrow('concat: axis -3 is out of range for rank 2');
  });
});

describe('matmul, conv2d, gather, scatterAdd, cast, detach', () => {
  it('matmul names both operands (with ᵀ for a transposed one) when the shapes do not fit', () => {
    const a = t(iota(6), [2, 3], 'A');
    const b = t(iota(6), [2, 3], 'B');
    expect(() => matmul(a, t([1, 2, 3], [3], 'v'))).toThrow('matmul: expects 2-D tensors, got A[2, 3]:float64 and v[3]:float64');
    expect(() => matmul(t([1, 2, 3], [3], 'v'), a)).toThrow('matmul: expects 2-D tensors, got v[3]:float64 and A[2, 3]:float64');
    expect(() => matmul(a, b)).toThrow('matmul: inner dimensions differ, A[2, 3]:float64 x B[2, 3]:float64');
    expect(() => matmul(a, b, { transA: true, transB: true })).toThrow('matmul: inner dimensions differ, A[2, 3]:float64ᵀ x B[2, 3]:float64ᵀ');
    expect(matmul(a, b, { transB: true }).toArray()).toEqual([14, 32, 32, 77]);
    expect(matmul(a, b, { transA: true }).shape).toEqual([3, 3]);
  });
  it('conv2d refuses other ranks, channel mismatches and kernels that do not fit', () => {
    const x = t(new Array(2 * 3 * 4 * 4).fill(1), [2, 3, 4, 4]);
    const w = t(new Array(5 * 3 * 3 * 3).fill(1), [5, 3, 3, 3], 'w');
    expect(conv2d(x, w, { padding: 1 }).shape).toEqual([2, 5, 4, 4]);
    expect(conv2d(x, w, { stride: [2, 1] }).shape).toEqual([2, 5, 1, 2]);
    expect(() => conv2d(t([1], [1, 1, 1]), w)).toThrow('conv2d: expects NCHW input and [out, in, kh, kw] weight, got x[1, 1, 1]:float64 and w[5, 3, 3, 3]:float64');
    expect(() => conv2d(x, t([1], [1, 1, 1]))).toThrow('conv2d: expects NCHW input');
    expect(() => conv2d(x, t(new Array(5 * 2 * 9).fill(1), [5, 2, 3, 3], 'w2'))).toThrow('conv2d: input has 3 channels, weight w2[5, 2, 3, 3]:float64 expects 2');
    const wide = t(new Array(5 * 3 * 5).fill(1), [5, 3, 1, 5], 'wide');
    expect(() => conv2d(x, wide)).toThrow('conv2d: kernel [5, 3, 1, 5] does not fit input [2, 3, 4, 4] with padding 0,0');
    expect(conv2d(x, wide, { padding: [0, 1] }).shape).toEqual([2, 5, 4, 2]);
    const tall = t(new Array(5 * 3 * 5).fill(1), [5, 3, 5, 1], 'tall');
    expect(() => conv2d(x, tall)).toThrow('does not fit input');
  });
  it('conv2d refuses a stride below 1, a negative padding and non-integers, naming the value', () => {
    const x = t(new Array(2 * 3 * 4 * 4).fill(1), [2, 3, 4, 4]);
    const w = t(new Array(5 * 3 * 3 * 3).fill(1), [5, 3, 3, 3], 'w');
    expect(() => conv2d(x, w, { stride: 0 })).toThrow('conv2d: stride must be an integer >= 1 or a pair of them, got 0');
    expect(() => conv2d(x, w, { stride: [1, 1.5] })).toThrow('conv2d: stride must be an integer >= 1 or a pair of them, got [1,1.5]');
    expect(() => conv2d(x, w, { padding: -1 })).toThrow('conv2d: padding must be an integer >= 0 or a pair of them, got -1');
    expect(() => conv2d(x, w, { padding: [1, 1, 1] as unknown as [number, number] })).toThrow('conv2d: padding must be an integer >= 0 or a pair of them, got [1,1,1]');
    expect(() => conv2d(x, w, { stride: '2' as unknown as number })).toThrow('conv2d: stride must be an integer >= 1 or a pair of them, got "2"');
  });
  // These two are public: a caller (a custom VJP, a transposed convolution) passes conv2d's own options; before the
  // checks, numbers instead of pairs reached the Wasm kernel as an undefined stride and trapped ("divide by zero").
  it('conv2dGradInput and conv2dGradWeight take conv2d options (numbers or pairs) and agree with its VJP', () => {
    const rng = (i: number): number => Math.sin(i * 1.7) + 0.25 * Math.cos(i * 0.3);
    const vals = (n: number, o: number): number[] => Array.from({ length: n }, (_, i) => rng(i + o));
    const x = t(vals(2 * 3 * 5 * 5, 0), [2, 3, 5, 5]);
    const w = t(vals(4 * 3 * 3 * 3, 100), [4, 3, 3, 3], 'w');
    const g = t(vals(2 * 4 * 3 * 3, 200), [2, 4, 3, 3], 'g');
    const [dx, dw] = vjp(([a, b]) => [conv2d(a, b, { stride: 2, padding: 1 })], [x, w]).pullback([g]);
    expect(conv2dGradInput(g, w, { stride: 2, padding: 1 }, x.shape).toArray()).toEqual(dx.toArray());
    expect(conv2dGradInput(g, w, { stride: [2, 2], padding: [1, 1] }, x.shape).toArray()).toEqual(dx.toArray());
    expect(conv2dGradWeight(x, g, { stride: 2, padding: 1 }, w.shape).toArray()).toEqual(dw.toArray());
    // On the CPU heap too (the Wasm kernels), float32: the values of the plain arrays' kernels.
    const heap = new CpuBackend();
    const on = (v: Tensor, be: CpuBackend): Tensor => tensor(Array.from(v.toArray()), v.shape, { dtype: 'float32', backend: be });
    const plain = new CpuBackend({ heap: false });
    const gi = (be: CpuBackend): number[] => Array.from(conv2dGradInput(on(g, be), on(w, be), { stride: 2, padding: 1 }, x.shape).toArray());
    const gw = (be: CpuBackend): number[] => Array.from(conv2dGradWeight(on(x, be), on(g, be), { stride: 2, padding: 1 }, w.shape).toArray());
    expect(gi(heap)).toEqual(gi(plain));
    expect(gw(heap)).toEqual(gw(plain));
  });
  it('conv2dGradInput and conv2dGradWeight refuse shapes that are not one convolution, naming both', () => {
    const x = t(new Array(2 * 3 * 5 * 5).fill(1), [2, 3, 5, 5]);
    const w = t(new Array(4 * 3 * 3 * 3).fill(1), [4, 3, 3, 3], 'w');
    const g = t(new Array(2 * 4 * 5 * 5).fill(1), [2, 4, 5, 5], 'g');
    const p = { padding: 1 };
    expect(conv2dGradInput(g, w, p, x.shape).shape).toEqual([2, 3, 5, 5]);
    expect(conv2dGradWeight(x, g, p, w.shape).shape).toEqual([4, 3, 3, 3]);
    expect(() => conv2dGradInput(g, w, { padding: 1, stride: 0 }, x.shape)).toThrow('conv2dGradInput: stride must be an integer >= 1 or a pair of them, got 0');
    expect(() => conv2dGradWeight(x, g, { padding: -2 }, w.shape)).toThrow('conv2dGradWeight: padding must be an integer >= 0 or a pair of them, got -2');
    expect(() => conv2dGradInput(g, w, p, [2, 3, 5])).toThrow('conv2dGradInput: the input shape (NCHW) must be 4 non-negative integers, got [2,3,5]');
    expect(() => conv2dGradWeight(x, g, p, [4, 3, 3, 2.5])).toThrow('conv2dGradWeight: the weight shape [out, in, kh, kw] must be 4 non-negative integers, got [4,3,3,2.5]');
    expect(() => conv2dGradInput(t([1, 2], [2]), w, p, x.shape)).toThrow('conv2dGradInput: the output gradient shape (NCHW) must be 4 non-negative integers, got [2]');
    expect(() => conv2dGradInput(g, w, p, [2, 2, 5, 5])).toThrow('conv2dGradInput: input [2, 2, 5, 5] has 2 channels, weight [4, 3, 3, 3] expects 3');
    expect(() => conv2dGradWeight(x, g, p, [5, 3, 3, 3])).toThrow('conv2dGradWeight: output gradient [2, 4, 5, 5] has 4 channels, weight [5, 3, 3, 3] has 5 output channels');
    expect(() => conv2dGradInput(g, w, p, [3, 3, 5, 5])).toThrow('conv2dGradInput: output gradient [2, 4, 5, 5] holds 2 images, input [3, 3, 5, 5] 3');
    expect(() => conv2dGradInput(g, w, {}, x.shape)).toThrow('conv2dGradInput: input [2, 3, 5, 5] with kernel 3x3, stride [1, 1] and padding [0, 0] gives 3x3 outputs, but the output gradient is [2, 4, 5, 5]');
    expect(() => conv2dGradWeight(x, g, { padding: [1, 0] }, w.shape)).toThrow('gives 5x3 outputs, but the output gradient is [2, 4, 5, 5]');
    expect(() => conv2dGradWeight(x, g, { padding: [0, 1] }, w.shape)).toThrow('gives 3x5 outputs, but the output gradient is [2, 4, 5, 5]');
    expect(() => conv2dGradInput(g, w, p, [2, 3, -5, 5])).toThrow('conv2dGradInput: the input shape (NCHW) must be 4 non-negative integers, got [2,3,-5,5]');
    // No images is a convolution too.
    expect(conv2dGradInput(t([], [0, 4, 5, 5]), w, p, [0, 3, 5, 5]).shape).toEqual([0, 3, 5, 5]);
  });
  it('gather and scatterAdd name the index out of range and its position', () => {
    const x = t(iota(6), [3, 2]);
    expect(gather(x, [2, 0]).toArray()).toEqual([5, 6, 1, 2]);
    expect(gather(x, [1], -1).toArray()).toEqual([2, 4, 6]);
    expect(() => gather(x, [0, 3])).toThrow('gather: index 3 at position 1 is outside [0, 3)');
    expect(() => gather(x, [-1])).toThrow('gather: index -1 at position 0 is outside [0, 3)');
    expect(() => gather(x, [0], 2)).toThrow('gather: axis 2 is out of range for rank 2');
    expect(scatterAdd(x, [1, 1, 0], 0, 2).toArray()).toEqual([5, 6, 4, 6]);
    expect(() => scatterAdd(x, [0, 1], 0, 2)).toThrow('scatterAdd: 2 indices for axis 0 of x[3, 2]:float64');
    expect(() => scatterAdd(x, [0, 2, 1], 0, 2)).toThrow('scatterAdd: index 2 at position 1 is outside [0, 2)');
    // Fractional and NaN indices are refused before the conversion to integers (which truncated 0.5 to row 0).
    expect(() => gather(x, [0.5])).toThrow('gather: index 0.5 at position 0 is not an integer');
    expect(() => gather(x, [1, NaN])).toThrow('gather: index NaN at position 1 is not an integer');
    expect(() => gather(x, [2 ** 32])).toThrow('gather: index 4294967296 at position 0 is outside [0, 3)');
    expect(() => scatterAdd(x, [0, 1.5, 1], 0, 2)).toThrow('scatterAdd: index 1.5 at position 1 is not an integer');
    expect(scatterAdd(x, [1, 0], -1, 3).toArray()).toEqual([2, 1, 0, 4, 3, 0, 6, 5, 0]);
    expect(() => scatterAdd(x, [1, 0], 2, 3)).toThrow('scatterAdd: axis 2 is out of range for rank 2');
    expect(() => scatterAdd(x, [0, 1, 1], 0, -1)).toThrow('scatterAdd: size must be an integer >= 0, got -1');
    expect(() => scatterAdd(x, [0, 1, 1], 0, 2.5)).toThrow('scatterAdd: size must be an integer >= 0, got 2.5');
    // The size replaces the scattered axis only.
    expect(scatterAdd(x, [1, 1, 0], 0, 4).shape).toEqual([4, 2]);
    expect(scatterAdd(t([], [0, 2]), [], 0, 0).shape).toEqual([0, 2]);
  });
  it('cast to its own dtype is the input; to a dtype the backend lacks is refused', () => {
    const x = t([1.5, -2], [2]);
    expect(cast(x, 'float64')).toBe(x);
    const f = cast(x, 'float32');
    expect(f).not.toBe(x);
    expect(f.dtype).toBe('float32');
    expect(f.toArray()).toEqual([1.5, -2]);
    class NoF64 extends CpuBackend {
      override supports(dtype: string): boolean {
        return dtype !== 'float64';
      }
    }
    const y = tensor([1, 2], [2], { dtype: 'float32', backend: new NoF64() });
    expect(() => cast(y, 'float64')).toThrow("cast: backend 'cpu' does not support float64");
    // A dtype the engine does not have (from untyped callers) is refused by name, on every backend.
    expect(() => cast(x, 'int8' as 'float32')).toThrow(`cast: dtype must be 'float32' or 'float64', got "int8"`);
    expect(() => cast(x, 'float16' as 'float32')).toThrow(`cast: dtype must be 'float32' or 'float64', got "float16"`);
    expect(new CpuBackend().supports('int32' as 'float32')).toBe(false);
    expect(() => tensor([1], [1], { dtype: 'int32' as 'float32' })).toThrow("tensor: backend 'cpu' does not support int32");
    // The typed-array allocator refuses it too (the backstop for callers that skip a backend check).
    expect(() => allocArray('int16' as 'float32', 2)).toThrow(`allocArray: dtype must be 'float32' or 'float64', got "int16"`);
    expect(allocArray('float64', 2)).toBeInstanceOf(Float64Array);
  });
  it('detach cuts a tensor that requires a gradient off the graph and leaves others alone', () => {
    const x = t([1, 2], [2]);
    expect(detach(x)).toBe(x);
    x.requiresGrad = true;
    const d = detach(x);
    expect(d).not.toBe(x);
    expect(d.requiresGrad).toBe(false);
    expect(d.toArray()).toEqual([1, 2]);
  });
});

describe('random tensors', () => {
  it('randn and randu refuse shapes that are not non-negative integers, naming the op (a -1 used to reach a typed-array constructor)', () => {
    const rng = new Random(0);
    expect(() => randn([-1], rng)).toThrow('randn: invalid shape [-1]');
    expect(() => randn([2, 1.5], rng)).toThrow('randn: invalid shape [2, 1.5]');
    expect(() => randu([3, NaN], rng)).toThrow('randu: invalid shape [3, NaN]');
    expect(randn([0, 3], rng).shape).toEqual([0, 3]);
    expect(randu([2], rng, 1, 1).toArray()).toEqual([1, 1]);
  });
  it('Random takes integer seeds only (NaN, fractions and strings all used to become seed 0 or a truncation); permutation needs n >= 0', () => {
    expect(() => new Random(NaN)).toThrow('Random: seed must be an integer, got NaN');
    expect(() => new Random(1.5)).toThrow('Random: seed must be an integer, got 1.5');
    expect(() => new Random('7' as unknown as number)).toThrow('Random: seed must be an integer, got "7"');
    expect(() => new Random(undefined as unknown as number)).toThrow('Random: seed must be an integer, got undefined');
    // Any integer is a seed, taken modulo 2^32.
    expect(new Random(-1).uniform()).toBe(new Random(2 ** 32 - 1).uniform());
    expect(new Random(3).uniform()).not.toBe(new Random(4).uniform());
    expect(() => new Random(0).permutation(-1)).toThrow('Random.permutation: n must be an integer >= 0, got -1');
    expect(Array.from(new Random(0).permutation(0))).toEqual([]);
  });
});
