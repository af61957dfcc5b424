// The tensor-heap kernels on fixed inputs, shared by Node and the Chromium bit-identity run: every elementwise kernel, matmul, conv2d (three directions), 2x2 pooling, strided copies, max reductions, gather and scatter-add, float32 and float64, outputs as base64 bytes.
import type { KernelCall } from '../../src/backend/backend.js';
import { CpuBackend, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';
import type { DType } from '../../src/core/dtype.js';
import type { Prim } from '../../src/core/primitives.js';
import { sizeOf } from '../../src/core/shape.js';
import { Random } from '../../src/util/random.js';
import { SPECIALS, toBase64 } from './math-cases.js';

export interface HeapRun {
  /** Whether every output was computed on heap tensors (false: shared Wasm memory was unavailable). */
  inHeap: boolean;
  outputs: Record<string, string>;
}

function data(n: number, seed: number, specials: boolean): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, i) => (specials && i % 5 === 2 ? SPECIALS[(i * 7 + seed) % SPECIALS.length]! : rng.uniform() * 8 - 4));
}

interface HeapCase {
  key: string;
  prim: Prim;
  params?: object;
  inputs: number[][];
  out: number[];
  finite?: boolean;
}

const N = 4099;
const pool = { kernel: [2, 2], stride: [2, 2], padding: [0, 0] };
const conv = { stride: [1, 1], padding: [1, 1] };
const CASES: HeapCase[] = [
  ...(['add', 'sub', 'mul', 'div'] as const).flatMap((p): HeapCase[] => [
    { key: p, prim: p, inputs: [[N], [N]], out: [N] },
    { key: `${p} scalar`, prim: p, inputs: [[N], [1]], out: [N] },
    { key: `${p} rows`, prim: p, inputs: [[8, 3, 9, 19], [1, 3, 1, 1]], out: [8, 3, 9, 19] },
  ]),
  ...(['gt', 'ge', 'lt', 'le', 'eq', 'ne'] as const).map((op): HeapCase => ({ key: op, prim: 'compare', params: { op }, inputs: [[N], [N]], out: [N] })),
  ...(['neg', 'sqrt', 'exp', 'log', 'relu'] as const).map((p): HeapCase => ({ key: p, prim: p, inputs: [[N]], out: [N] })),
  { key: 'reluGrad', prim: 'reluGrad', inputs: [[N], [N]], out: [N] },
  { key: 'leakyRelu', prim: 'leakyRelu', params: { slope: 0.1 }, inputs: [[N]], out: [N] },
  { key: 'leakyReluGrad', prim: 'leakyReluGrad', params: { slope: 0.1 }, inputs: [[N], [N]], out: [N] },
  { key: 'where', prim: 'where', inputs: [[N], [N], [N]], out: [N] },
  { key: 'matmul', prim: 'matmul', params: { transA: false, transB: true }, inputs: [[37, 70], [45, 70]], out: [37, 45], finite: true },
  { key: 'conv2d', prim: 'conv2d', params: conv, inputs: [[2, 3, 10, 9], [4, 3, 3, 3]], out: [2, 4, 10, 9], finite: true },
  { key: 'conv2dGradInput', prim: 'conv2dGradInput', params: { ...conv, inputShape: [2, 3, 10, 9] }, inputs: [[2, 4, 10, 9], [4, 3, 3, 3]], out: [2, 3, 10, 9], finite: true },
  { key: 'conv2dGradWeight', prim: 'conv2dGradWeight', params: { ...conv, weightShape: [4, 3, 3, 3] }, inputs: [[2, 3, 10, 9], [2, 4, 10, 9]], out: [4, 3, 3, 3], finite: true },
  { key: 'maxPool2dArgmax', prim: 'maxPool2dArgmax', params: pool, inputs: [[2, 3, 14, 13]], out: [2, 3, 7, 6] },
  { key: 'transpose', prim: 'transpose', params: { perm: [0, 2, 3, 1] }, inputs: [[3, 9, 7, 11]], out: [3, 7, 11, 9] },
  { key: 'pad', prim: 'pad', params: { before: [0, 1, 2], after: [1, 0, 3] }, inputs: [[3, 9, 40]], out: [4, 10, 45] },
  { key: 'max runs', prim: 'max', params: { axes: [2] }, inputs: [[3, 5, 70]], out: [3, 5] },
  { key: 'max columns', prim: 'max', params: { axes: [0] }, inputs: [[37, 19]], out: [19] },
  { key: 'gather', prim: 'gather', params: { indices: Int32Array.from([4, 0, 4, 2]), axis: 1 }, inputs: [[3, 5, 9]], out: [3, 4, 9] },
  { key: 'scatterAdd', prim: 'scatterAdd', params: { indices: Int32Array.from([4, 0, 4, 2]), axis: 1, size: 5 }, inputs: [[3, 4, 9]], out: [3, 5, 9] },
];

/** Runs every case on `backend` (float64 too, except the float32-only Wasm GEMM, conv and pooling paths). */
export function heapOutputs(backend: CpuBackend): HeapRun {
  const heap = backend.heap();
  let inHeap = heap !== null;
  const outputs: Record<string, string> = {};
  for (const c of CASES) {
    for (const dtype of ['float32', 'float64'] as DType[]) {
      if (dtype === 'float64' && (c.finite || c.prim.startsWith('maxPool'))) continue;
      const bufs = c.inputs.map((shape, i) => {
        const b = backend.alloc(sizeOf(shape), dtype) as CpuBuffer;
        b.data.set(data(sizeOf(shape), i + 1, !c.finite));
        return b;
      });
      const out = backend.allocOutput(c.prim, sizeOf(c.out), dtype);
      const call = { prim: c.prim, params: c.params ?? {}, inputs: c.inputs.map((shape) => ({ shape, dtype })), output: { shape: c.out, dtype } } as KernelCall;
      backend.run(call, bufs, out);
      for (const b of [...bufs, out]) inHeap &&= heap!.owns(b.data);
      outputs[`${c.key} ${dtype}`] = toBase64(out.data);
      for (const b of [...bufs, out]) backend.free(b);
    }
  }
  return { inHeap, outputs };
}
