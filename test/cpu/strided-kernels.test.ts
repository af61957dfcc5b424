// CPU binary/compare, where, sum/max reductions and strided copies (broadcast, transpose, slice, pad) against plain float64 index loops on random shapes (size 1, odd sizes, broadcasting, large).
import { describe, expect, it } from 'vitest';
import { binaryKernel, type Combine } from '../../src/backend/cpu/binary.js';
import { stridedCopy, whereKernel } from '../../src/backend/cpu/elementwise.js';
import { padKernel, sliceKernel, transposeKernel } from '../../src/backend/cpu/movement.js';
import { reduceKernel } from '../../src/backend/cpu/reduce.js';
import { broadcastStrides } from '../../src/backend/cpu/strided.js';
import { Random } from '../../src/util/random.js';

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Row-major multi-index of flat position i in shape s. */
function unravel(i: number, s: readonly number[]): number[] {
  const idx = new Array<number>(s.length);
  for (let k = s.length - 1; k >= 0; k--) {
    idx[k] = i % s[k];
    i = Math.floor(i / s[k]);
  }
  return idx;
}
function ravel(idx: readonly number[], s: readonly number[]): number {
  let f = 0;
  for (let k = 0; k < s.length; k++) f = f * s[k] + idx[k];
  return f;
}
/** Flat index into `inShape` of the element that broadcasts to out-index `idx`. */
function bcastIndex(idx: readonly number[], inShape: readonly number[]): number {
  const lead = idx.length - inShape.length;
  return ravel(inShape.map((d, k) => (d === 1 ? 0 : idx[k + lead])), inShape);
}

const OPS: Record<Combine, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b,
  gt: (a, b) => +(a > b), ge: (a, b) => +(a >= b), lt: (a, b) => +(a < b), le: (a, b) => +(a <= b),
  eq: (a, b) => +(a === b), ne: (a, b) => +(a !== b),
};

/** Values from a small set (so comparisons tie) or normals. */
function data(n: number, rng: Random, f32: boolean, ties: boolean): Float32Array | Float64Array {
  const a = f32 ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = ties ? Math.floor(rng.uniform() * 3) - 1 : rng.normal();
  return a;
}

/** A random output shape and an operand shape that broadcasts into it (trailing-aligned, some axes 1, maybe fewer axes). */
function shapes(rng: Random, maxRank: number, maxDim: number): { out: number[]; a: number[]; b: number[] } {
  const rank = Math.floor(rng.uniform() * (maxRank + 1));
  const out = Array.from({ length: rank }, () => (rng.uniform() < 0.25 ? 1 : 1 + Math.floor(rng.uniform() * maxDim)));
  const sub = (): number[] => {
    const drop = Math.floor(rng.uniform() * (rank + 1));
    return out.slice(drop).map((d) => (rng.uniform() < 0.4 ? 1 : d));
  };
  // At least one operand keeps the full shape so the output shape is what broadcasting gives.
  return rng.uniform() < 0.5 ? { out, a: [...out], b: sub() } : { out, a: sub(), b: [...out] };
}

// The shape patterns of the CNN step (max-pool windows, bias, row/column broadcasts, scalars) plus random ones.
const FIXED: Array<{ out: number[]; a: number[]; b: number[] }> = [
  { out: [2, 3, 4, 2, 5, 2], a: [2, 3, 4, 2, 5, 2], b: [2, 3, 4, 1, 5, 1] }, // pool window compare
  { out: [2, 3, 4, 2, 5, 2], a: [2, 3, 4, 1, 5, 1], b: [2, 3, 4, 2, 5, 2] },
  { out: [4, 5, 6, 7], a: [4, 5, 6, 7], b: [1, 5, 1, 1] }, // conv bias
  { out: [9, 13], a: [9, 13], b: [13] }, // row broadcast
  { out: [9, 13], a: [9, 1], b: [9, 13] }, // column broadcast
  { out: [9, 13], a: [9, 1], b: [1, 13] }, // outer product
  { out: [], a: [], b: [] },
  { out: [5], a: [1], b: [5] },
  { out: [3, 1, 4], a: [3, 1, 4], b: [] },
  { out: [1, 1, 1], a: [1], b: [1, 1, 1] },
  { out: [6, 8, 14, 2, 14, 2], a: [6, 8, 14, 2, 14, 2], b: [6, 8, 14, 1, 14, 1] }, // large
  { out: [200, 301], a: [200, 301], b: [200, 301] },
];

describe('binary and compare kernels vs float64 index loops', () => {
  const rng = new Random(5);
  const cases = [...FIXED, ...Array.from({ length: 40 }, () => shapes(rng, 6, 5))];
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (i, { out, a, b }) => {
    for (const f32 of [true, false]) {
      const ties = i % 2 === 0;
      const x = data(prod(a), rng, f32, ties);
      const y = data(prod(b), rng, f32, ties);
      const n = prod(out);
      const ai = new Int32Array(n), bi = new Int32Array(n);
      for (let k = 0; k < n; k++) {
        const idx = unravel(k, out);
        ai[k] = bcastIndex(idx, a);
        bi[k] = bcastIndex(idx, b);
      }
      for (const [op, fn] of Object.entries(OPS) as Array<[Combine, (p: number, q: number) => number]>) {
        const got = f32 ? new Float32Array(n) : new Float64Array(n);
        binaryKernel(op, x, a, y, b, got, out);
        const round = f32 ? Math.fround : (v: number) => v;
        for (let k = 0; k < n; k++) {
          const want = round(fn(x[ai[k]], y[bi[k]]));
          if (!Object.is(got[k], want) && !(Number.isNaN(got[k]) && Number.isNaN(want))) {
            expect.fail(`${op} ${f32 ? 'f32' : 'f64'} out ${JSON.stringify(out)} a ${JSON.stringify(a)} b ${JSON.stringify(b)}: element ${k} is ${got[k]}, want ${want}`);
          }
        }
      }
    }
  });
});

describe('where kernel vs a float64 index loop', () => {
  const rng = new Random(6);
  const cases = [...FIXED, ...Array.from({ length: 30 }, () => shapes(rng, 5, 4))];
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, { out, a, b }) => {
    // Condition shape: one of the three, so each operand position is exercised.
    for (const [cs, as, bs] of [[a, b, out], [out, a, b], [b, out, a]] as const) {
      const c = data(prod(cs), rng, false, true);
      const x = data(prod(as), rng, false, false);
      const y = data(prod(bs), rng, false, false);
      const n = prod(out);
      const got = new Float64Array(n);
      whereKernel(c, cs, x, as, y, bs, got, out);
      for (let k = 0; k < n; k++) {
        const idx = unravel(k, out);
        const want = c[bcastIndex(idx, cs)] !== 0 ? x[bcastIndex(idx, as)] : y[bcastIndex(idx, bs)];
        if (got[k] !== want) expect.fail(`where out ${JSON.stringify(out)}: element ${k} is ${got[k]}, want ${want}`);
      }
    }
  });
});

describe('sum and max reductions vs float64 index loops', () => {
  const rng = new Random(7);
  const cases: Array<{ shape: number[]; axes: number[] }> = [
    { shape: [2, 3, 4, 2, 5, 2], axes: [3, 5] }, // max-pool windows
    { shape: [6, 8, 14, 2, 14, 2], axes: [3, 5] }, // large
    { shape: [4, 5, 6, 7], axes: [0, 2, 3] }, // conv bias gradient
    { shape: [9, 13], axes: [1] },
    { shape: [9, 13], axes: [0] },
    { shape: [9, 13], axes: [0, 1] },
    { shape: [7], axes: [0] },
    { shape: [1, 1, 3], axes: [0, 1] },
    { shape: [3, 1, 4], axes: [1] },
    { shape: [2, 0, 3], axes: [0] }, // empty input: sums are 0
    { shape: [300, 301], axes: [0] },
  ];
  for (let t = 0; t < 30; t++) {
    const rank = 1 + Math.floor(rng.uniform() * 6);
    const shape = Array.from({ length: rank }, () => (rng.uniform() < 0.25 ? 1 : 1 + Math.floor(rng.uniform() * 5)));
    const axes = shape.flatMap((_, i) => (rng.uniform() < 0.5 ? [i] : []));
    cases.push({ shape, axes: axes.length ? axes : [rank - 1] });
  }
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (i, { shape, axes }) => {
    const outShape = shape.filter((_, k) => !axes.includes(k));
    const m = prod(outShape);
    for (const f32 of [true, false]) {
      const x = data(prod(shape), rng, f32, i % 3 === 0);
      if (i % 5 === 1 && x.length > 2) x[1] = NaN; // NaN propagates through max
      const sum = new Float64Array(m);
      const max = new Float64Array(m).fill(-Infinity);
      for (let k = 0; k < x.length; k++) {
        const idx = unravel(k, shape);
        const o = ravel(idx.filter((_, j) => !axes.includes(j)), outShape);
        sum[o] += x[k];
        if (x[k] > max[o] || Number.isNaN(x[k])) max[o] = x[k];
      }
      const gotSum = f32 ? new Float32Array(m) : new Float64Array(m);
      const gotMax = f32 ? new Float32Array(m) : new Float64Array(m);
      reduceKernel('sum', x, shape, axes, gotSum);
      reduceKernel('max', x, shape, axes, gotMax);
      for (let o = 0; o < m; o++) {
        // float32 sums accumulate in float64: one rounding at the end; float64 sums may be grouped differently.
        const tol = f32 ? Math.abs(Math.fround(sum[o]) - sum[o]) + 1e-12 : 1e-12 * (1 + Math.abs(sum[o]));
        if (!(Math.abs(gotSum[o] - sum[o]) <= tol) && !(Number.isNaN(gotSum[o]) && Number.isNaN(sum[o]))) {
          expect.fail(`sum ${JSON.stringify(shape)} axes ${axes}: output ${o} is ${gotSum[o]}, want ${sum[o]}`);
        }
        if (!Object.is(gotMax[o], f32 ? Math.fround(max[o]) : max[o]) && !(Number.isNaN(gotMax[o]) && Number.isNaN(max[o]))) {
          expect.fail(`max ${JSON.stringify(shape)} axes ${axes}: output ${o} is ${gotMax[o]}, want ${max[o]}`);
        }
      }
    }
  });
});

describe('strided copies vs float64 index loops', () => {
  const rng = new Random(8);
  it('broadcastTo over random shapes and the pooling/bias patterns', () => {
    // Runs of one repeated value (filled, from 16 up) and just below: a scalar, a per-channel value, a column.
    const fills = [
      { out: [3, 70], a: [] }, { out: [2, 4, 5, 7], a: [1, 4, 1, 1] }, { out: [3, 17], a: [3, 1] }, { out: [3, 15], a: [3, 1] },
      { out: [2, 3, 16], a: [2, 1, 1] }, { out: [16], a: [1] },
    ];
    const cases = [...FIXED, ...fills, ...Array.from({ length: 40 }, () => shapes(rng, 6, 5))];
    for (const { out, a } of cases) {
      const x = data(prod(a), rng, false, false);
      const got = new Float64Array(prod(out));
      stridedCopy(x, broadcastStrides(a, out), got, out);
      for (let k = 0; k < got.length; k++) expect(got[k]).toBe(x[bcastIndex(unravel(k, out), a)]);
    }
  });

  it('transpose: every permutation of rank-4 shapes with size-1 and long axes, and rank 0-6', () => {
    const perms = (n: number): number[][] => (n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
    const shapesToTry = [[2, 3, 1, 70], [1, 5, 4, 3], [3, 1, 1, 2], [], [6], [2, 3, 2, 3, 2, 2]];
    for (const s of shapesToTry) {
      for (const p of s.length <= 4 ? perms(s.length) : [[5, 3, 1, 0, 2, 4]]) {
        const x = data(prod(s), rng, true, false);
        const outShape = p.map((i) => s[i]);
        const got = new Float32Array(prod(s));
        transposeKernel(x, s, p, got);
        for (let k = 0; k < got.length; k++) {
          const oi = unravel(k, outShape);
          const ii = new Array<number>(s.length);
          p.forEach((src, j) => (ii[src] = oi[j]));
          if (got[k] !== x[ravel(ii, s)]) expect.fail(`transpose ${JSON.stringify(s)} by ${p}: element ${k}`);
        }
      }
    }
  });

  it('slice and pad (each other\'s adjoint) on random windows, including long contiguous rows', () => {
    for (let t = 0; t < 40; t++) {
      const rank = Math.floor(rng.uniform() * 5);
      const s = Array.from({ length: rank }, (_, i) => 1 + Math.floor(rng.uniform() * (t % 4 === 0 && i === rank - 1 ? 150 : 6)));
      const begin = s.map((d) => Math.floor(rng.uniform() * d));
      const size = s.map((d, i) => 1 + Math.floor(rng.uniform() * (d - begin[i])));
      const x = data(prod(s), rng, false, false);
      const got = new Float64Array(prod(size));
      sliceKernel(x, s, begin, size, got);
      for (let k = 0; k < got.length; k++) {
        const idx = unravel(k, size).map((v, i) => v + begin[i]);
        expect(got[k]).toBe(x[ravel(idx, s)]);
      }
      // pad the slice back: the window holds it, everything else is 0.
      const padded = new Float64Array(prod(s)).fill(7);
      padKernel(got, size, begin, padded, s);
      for (let k = 0; k < padded.length; k++) {
        const idx = unravel(k, s);
        const inside = idx.every((v, i) => v >= begin[i] && v < begin[i] + size[i]);
        expect(padded[k]).toBe(inside ? x[k] : 0);
      }
    }
  });
});
