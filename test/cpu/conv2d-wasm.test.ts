// The float32 Wasm conv2d kernels (im2col/col2im in assembly/conv.ts, per-image GEMM) against the float64 JS reference on larger random problems, on one thread and on the threaded GEMM.
import { afterAll, describe, expect, it } from 'vitest';
import { conv2dGradInputKernel, conv2dGradWeightKernel, conv2dKernel } from '../../src/backend/cpu/conv2d.js';
import { conv2dGradInputJs, conv2dGradWeightJs, conv2dJs } from '../../src/backend/cpu/conv2d-js.js';
import { getGemmWorkerJobs, setGemmRelaxedSimd, setGemmThreads } from '../../src/backend/cpu/wasm-gemm.js';
import { convOutputSize } from '../../src/core/primitives.js';
import { cpuHeap } from '../../src/backend/cpu/wasm-heap.js';
import { Random } from '../../src/util/random.js';
import { decodeBase64 } from '../../src/util/base64.js';
import { convWasmBase64 } from '../../src/generated/conv.wasm.js';
import { convMtWasmBase64 } from '../../src/generated/conv-mt.wasm.js';
import { convRelaxedWasmBase64 } from '../../src/generated/conv-relaxed.wasm.js';
import { convMtRelaxedWasmBase64 } from '../../src/generated/conv-mt-relaxed.wasm.js';
import { gemmWasmBase64 } from '../../src/generated/gemm.wasm.js';
import { gemmRelaxedWasmBase64 } from '../../src/generated/gemm-relaxed.wasm.js';

// Chromium refuses to compile modules over 4 KiB synchronously on the main thread; the CPU backend
// compiles the GEMM and conv modules on first use, synchronously, so each must stay under that.
it('the GEMM and conv Wasm modules stay under 4 KiB each (synchronous compile on browser main threads)', () => {
  for (const [name, b64] of Object.entries({ gemmWasmBase64, gemmRelaxedWasmBase64, convWasmBase64, convMtWasmBase64, convRelaxedWasmBase64, convMtRelaxedWasmBase64 })) {
    const n = decodeBase64(b64).length;
    expect(n, name).toBeGreaterThan(500);
    expect(n, name).toBeLessThanOrEqual(4096);
  }
});

interface Geo { n: number; c: number; o: number; h: number; w: number; k: [number, number]; s: [number, number]; p: [number, number] }

const GEOS: Array<[string, Geo]> = [
  ['CNN conv 1 (1->32, 28x28, 3x3 p1)', { n: 3, c: 1, o: 32, h: 28, w: 28, k: [3, 3], s: [1, 1], p: [1, 1] }],
  ['CNN conv 2 (32->64, 14x14, 3x3 p1)', { n: 2, c: 32, o: 64, h: 14, w: 14, k: [3, 3], s: [1, 1], p: [1, 1] }],
  ['stride 2, odd sizes (5->9, 17x11)', { n: 3, c: 5, o: 9, h: 17, w: 11, k: [3, 3], s: [2, 2], p: [1, 1] }],
  ['pointwise 1x1 (12->20, 9x10)', { n: 2, c: 12, o: 20, h: 9, w: 10, k: [1, 1], s: [1, 1], p: [0, 0] }],
  // K = 48·9 = 432 > 384: the columns come in two row blocks of the packed layout; 13 output columns: a ragged panel.
  ['two K blocks, ragged panel (48->5, 5x13, 3x3 p1)', { n: 2, c: 48, o: 5, h: 5, w: 13, k: [3, 3], s: [1, 1], p: [1, 1] }],
  ['5x5 kernel, padding 2, stride (1, 2) (3->4, 9x12)', { n: 2, c: 3, o: 4, h: 9, w: 12, k: [5, 5], s: [1, 2], p: [2, 2] }],
  ['single output pixel (4->3, 3x3, no pad)', { n: 1, c: 4, o: 3, h: 3, w: 3, k: [3, 3], s: [1, 1], p: [0, 0] }],
  // One setting away from the pointwise path, which reads the image as its columns (from the mutation survivors).
  ['1x1 stride 2 (6->5, 9x8)', { n: 2, c: 6, o: 5, h: 9, w: 8, k: [1, 1], s: [2, 2], p: [0, 0] }],
  ['1x1 stride (1, 2) (6->5, 7x9)', { n: 2, c: 6, o: 5, h: 7, w: 9, k: [1, 1], s: [1, 2], p: [0, 0] }],
  ['1x1 stride (2, 1) (6->5, 7x9)', { n: 2, c: 6, o: 5, h: 7, w: 9, k: [1, 1], s: [2, 1], p: [0, 0] }],
  ['1x1 padding (1, 0) (4->6, 5x6)', { n: 2, c: 4, o: 6, h: 5, w: 6, k: [1, 1], s: [1, 1], p: [1, 0] }],
  ['1x1 padding (0, 1) (4->6, 5x6)', { n: 2, c: 4, o: 6, h: 5, w: 6, k: [1, 1], s: [1, 1], p: [0, 1] }],
  ['3x1 kernel (4->6, 7x6)', { n: 2, c: 4, o: 6, h: 7, w: 6, k: [3, 1], s: [1, 1], p: [0, 0] }],
  ['1x3 kernel (4->6, 6x7)', { n: 2, c: 4, o: 6, h: 6, w: 7, k: [1, 3], s: [1, 1], p: [0, 0] }],
];

function normals(n: number, seed: number): Float64Array {
  const r = new Random(seed);
  return Float64Array.from({ length: n }, () => r.normal());
}

/** max_i |got_i - want_i| / (max_i |scale_i| + 1e-30): per-element error relative to the largest magnitude of the terms. */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>): number {
  let e = 0, m = 0;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(scale[i]));
  }
  return e / (m + 1e-30);
}

/** |x| and |w| through the float64 reference: the sum of |terms| behind each output, the scale for float32 error. */
const abs = (a: Float64Array): Float64Array => a.map(Math.abs);

describe.each([1, 2])('float32 Wasm conv2d on %i GEMM thread(s) vs the float64 JS reference', (threads) => {
  afterAll(async () => {
    await setGemmThreads(1);
  });
  it.each(GEOS)('%s: forward, grad-input, grad-weight', async (_name, g) => {
    expect(await setGemmThreads(threads)).toBe(threads);
    const ho = convOutputSize(g.h, g.k[0], g.s[0], g.p[0]);
    const wo = convOutputSize(g.w, g.k[1], g.s[1], g.p[1]);
    const xs = [g.n, g.c, g.h, g.w], ws = [g.o, g.c, g.k[0], g.k[1]], ys = [g.n, g.o, ho, wo];
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const p = { stride: g.s, padding: g.p };
    const x = normals(size(xs), 1), w = normals(size(ws), 2), gy = normals(size(ys), 3);
    const x32 = Float32Array.from(x), w32 = Float32Array.from(w), gy32 = Float32Array.from(gy);
    // The reference gets the float32-rounded inputs, so only the kernel's own rounding remains.
    const [xr, wr, gr] = [Float64Array.from(x32), Float64Array.from(w32), Float64Array.from(gy32)];

    const jobs0 = getGemmWorkerJobs();
    const y = new Float32Array(size(ys)), yRef = new Float64Array(size(ys)), yScale = new Float64Array(size(ys));
    conv2dKernel(x32, xs, w32, ws, p, y, ys);
    conv2dJs(xr, xs, wr, ws, p, yRef, ys);
    conv2dJs(abs(xr), xs, abs(wr), ws, p, yScale, ys);
    expect(relErr(y, yRef, yScale)).toBeLessThan(1e-6);

    const dx = new Float32Array(size(xs)), dxRef = new Float64Array(size(xs)), dxScale = new Float64Array(size(xs));
    conv2dGradInputKernel(gy32, ys, w32, ws, p, dx, xs);
    conv2dGradInputJs(gr, ys, wr, ws, p, dxRef, xs);
    conv2dGradInputJs(abs(gr), ys, abs(wr), ws, p, dxScale, xs);
    expect(relErr(dx, dxRef, dxScale)).toBeLessThan(1e-6);

    const dw = new Float32Array(size(ws)), dwRef = new Float64Array(size(ws)), dwScale = new Float64Array(size(ws));
    conv2dGradWeightKernel(x32, xs, gy32, ys, p, dw, ws);
    conv2dGradWeightJs(xr, xs, gr, ys, p, dwRef, ws);
    conv2dGradWeightJs(abs(xr), xs, abs(gr), ys, p, dwScale, ws);
    expect(relErr(dw, dwRef, dwScale)).toBeLessThan(1e-6);
    // A stale value anywhere (a region the kernel forgot to write) would be far off: check every element is close too.
    for (let i = 0; i < dw.length; i++) expect(Math.abs(dw[i] - dwRef[i])).toBeLessThanOrEqual(1e-5 * dwScale[i] + 1e-6);
    // Per-image products of the 32->64 layer (64 x 196 x 288 multiply-adds) are large enough for the worker threads.
    if (threads === 2 && g.c === 32) expect(getGemmWorkerJobs()).toBeGreaterThan(jobs0);
  });

  it('empty batch: gradient of the weights is 0, other outputs are empty', async () => {
    expect(await setGemmThreads(threads)).toBe(threads);
    const dw = new Float32Array(2 * 3 * 3 * 3).fill(5);
    conv2dGradWeightKernel(new Float32Array(0), [0, 3, 4, 4], new Float32Array(0), [0, 2, 4, 4], { stride: [1, 1], padding: [1, 1] }, dw, [2, 3, 3, 3]);
    expect(Array.from(dw)).toEqual(new Array(dw.length).fill(0));
  });
});

describe('conv2d on the tensor heap with 2 threads: images (forward, grad-input) or dW rows (grad-weight) shared, bits of 1 thread', () => {
  // Each above 2^21 multiply-adds, so threaded: odd channel counts, stride 2, 5x5, pointwise, 3 input channels.
  const THREADED: Array<[string, Geo]> = [
    ['b64 3->32 32x32 3x3 p1', { n: 64, c: 3, o: 32, h: 32, w: 32, k: [3, 3], s: [1, 1], p: [1, 1] }],
    ['7->24 30x30, 17 images', { n: 17, c: 7, o: 24, h: 30, w: 30, k: [3, 3], s: [1, 1], p: [1, 1] }],
    ['pointwise 64->64 16x16', { n: 16, c: 64, o: 64, h: 16, w: 16, k: [1, 1], s: [1, 1], p: [0, 0] }],
    ['5x5 stride 2 pad 2, 6->12 33x29, 11 images', { n: 11, c: 6, o: 12, h: 33, w: 29, k: [5, 5], s: [2, 2], p: [2, 2] }],
  ];
  afterAll(async () => {
    await setGemmThreads(1);
  });
  it.each(THREADED)('%s', async (_name, g) => {
    const heap = cpuHeap()!;
    const ho = convOutputSize(g.h, g.k[0], g.s[0], g.p[0]);
    const wo = convOutputSize(g.w, g.k[1], g.s[1], g.p[1]);
    const xs = [g.n, g.c, g.h, g.w], ws = [g.o, g.c, g.k[0], g.k[1]], ys = [g.n, g.o, ho, wo];
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const onHeap = (src: ArrayLike<number>): Float32Array => {
      const a = heap.alloc('float32', src.length, 'error', 'test') as Float32Array;
      a.set(src);
      return a;
    };
    const x = onHeap(normals(size(xs), 4)), w = onHeap(normals(size(ws), 5)), gy = onHeap(normals(size(ys), 6));
    const p = { stride: g.s, padding: g.p };
    const run = (): Float32Array[] => {
      // NaN in the outputs: every element must be written, none accumulated onto what was there.
      const y = onHeap(new Float32Array(size(ys)).fill(NaN)), dx = onHeap(new Float32Array(size(xs)).fill(NaN));
      const dw = onHeap(new Float32Array(size(ws)).fill(NaN));
      conv2dKernel(x, xs, w, ws, p, y, ys);
      conv2dGradInputKernel(gy, ys, w, ws, p, dx, xs);
      conv2dGradWeightKernel(x, xs, gy, ys, p, dw, ws);
      return [y, dx, dw];
    };
    expect(await setGemmThreads(1)).toBe(1);
    const one = run();
    expect(await setGemmThreads(2)).toBe(2);
    const jobs0 = getGemmWorkerJobs();
    const two = run();
    // The worker took a share of each of the three.
    expect(getGemmWorkerJobs() - jobs0).toBe(3);
    ['forward', 'grad-input', 'grad-weight'].forEach((what, i) => {
      const diff = one[i]!.findIndex((v, j) => !Object.is(v, two[i]![j]));
      expect(diff, `${what}: first element that differs`).toBe(-1);
    });
    // And the float64 reference agrees (the shares cover every image and row).
    const dwRef = new Float64Array(size(ws)), dwScale = new Float64Array(size(ws));
    conv2dGradWeightJs(Float64Array.from(x), xs, Float64Array.from(gy), ys, p, dwRef, ws);
    conv2dGradWeightJs(abs(Float64Array.from(x)), xs, abs(Float64Array.from(gy)), ys, p, dwScale, ws);
    expect(relErr(two[2]!, dwRef, dwScale)).toBeLessThan(1e-6);
    const yRef = new Float64Array(size(ys)), yScale = new Float64Array(size(ys));
    conv2dJs(Float64Array.from(x), xs, Float64Array.from(w), ws, p, yRef, ys);
    conv2dJs(abs(Float64Array.from(x)), xs, abs(Float64Array.from(w)), ws, p, yScale, ys);
    expect(relErr(two[0]!, yRef, yScale)).toBeLessThan(1e-6);
    for (const a of [x, w, gy, ...one, ...two]) heap.free(a);
  });
});

describe('conv grad-weight in the plain-SIMD builds', () => {
  it('keeps the GEMM and its bits: im2col, then dWᵀ += cols · gyᵀ image by image, transposed (the dot products are for FMA builds only)', async () => {
    await setGemmRelaxedSimd(false);
    try {
      const heap = cpuHeap()!;
      const bound = heap.gemm()!;
      expect(bound.conv.usesRelaxedSimd()).toBe(0);
      // The benchmark's layer, where FMA builds take the dots: 3 -> 32 channels, 32x32, 3x3 padding 1, two images.
      const n = 2, c = 3, o = 32, h = 32, K = c * 9, hw = h * h;
      const rng = new Random(31);
      const onHeap = (len: number, f: () => number): Float32Array => {
        const a = heap.alloc('float32', len, 'error', 'test') as Float32Array;
        for (let i = 0; i < len; i++) a[i] = f();
        return a;
      };
      const x = onHeap(n * c * hw, () => rng.normal()), gy = onHeap(n * o * hw, () => rng.normal());
      const dw = onHeap(o * K, () => NaN), cols = onHeap(K * hw, () => 0), acc = onHeap(K * o, () => 0);
      conv2dGradWeightKernel(x, [n, c, h, h], gy, [n, o, h, h], { stride: [1, 1], padding: [1, 1] }, dw, [o, c, 3, 3]);
      for (let i = 0; i < n; i++) {
        bound.conv.im2col(x.byteOffset + i * c * hw * 4, c, h, h, 3, 3, h, h, 1, 1, 1, 1, cols.byteOffset);
        bound.sgemm(0, 1, K, o, hw, cols.byteOffset, gy.byteOffset + i * o * hw * 4, acc.byteOffset, i > 0 ? 1 : 0);
      }
      const want = Float32Array.from({ length: o * K }, (_, j) => acc[(j % K) * o + Math.floor(j / K)]!);
      expect(Array.from(dw)).toStrictEqual(Array.from(want));
      for (const a of [x, gy, dw, cols, acc]) heap.free(a);
    } finally {
      await setGemmRelaxedSimd(true);
    }
  });
});
