// WebGPU benchmarks in one run: iml's tiled matmul and conv2d vs tfjs-webgpu (same Dawn adapter) vs a naive WGSL matmul, and the MLP HVP/gradient time ratio.
// Usage: npm run build && node dist/bench/webgpu.js [--sizes 256,512,1024] [--only matmul,conv,mlp] [--gemm WGXxWGYxBK] [--power high-performance] [--quick]

import Benchmark from 'benchmark';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, globals } from 'webgpu';
import { grad, hvp } from '../src/autodiff/transforms.js';
import { randn } from '../src/core/creation.js';
import { add, conv2d, matmul } from '../src/core/ops.js';
import type { Tensor } from '../src/core/tensor.js';
import { relu } from '../src/ops/activations.js';
import { crossEntropy } from '../src/ops/losses.js';
import { oneHot } from '../src/core/creation.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backend/webgpu/webgpu-backend.js';
import { nodeGarbageCollector } from '../src/node/webgpu.js';
import { Random } from '../src/util/random.js';

type Tf = typeof import('@tensorflow/tfjs-core');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const quick = process.argv.includes('--quick');
const sizes = (arg('sizes') ?? '256,512,1024').split(',').map(Number);
const gemmArg = arg('gemm')?.split('x').map(Number);
const only = new Set((arg('only') ?? 'matmul,conv,mlp').split(','));

/** Mean seconds per call of an async op, measured by benchmark.js (deferred). */
function measure(name: string, op: () => Promise<void>, minSamples = quick ? 3 : 5, maxTime = quick ? 0.5 : 1.5): Promise<number> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      defer: true,
      minSamples,
      maxTime,
      initCount: 1,
      fn: (deferred: { resolve(): void }) => {
        op().then(() => deferred.resolve(), reject);
      },
      onComplete: () => resolve(bench.stats.mean),
      onError: (e: unknown) => reject(e),
    } as Benchmark.Options);
    bench.run({ async: true });
  });
}

/** Best of `rounds` measurements (the machine may be shared; alternating rounds are fairer than one long run). */
async function best(rounds: number, ops: Record<string, () => Promise<void>>, slow: Set<string> = new Set()): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, op] of Object.entries(ops)) {
      await op(); // warm (pipelines compiled, buffers pooled)
      const t = await measure(name, op, slow.has(name) ? 2 : undefined, slow.has(name) ? 0.2 : undefined);
      out[name] = Math.min(out[name] ?? Infinity, t);
    }
  }
  return out;
}

/** The naive WGSL matmul on the given device: one dispatch and a read-back per call. */
function naiveMatmul(device: GPUDevice, m: number, k: number, n: number): () => Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const wgslPath = [join(here, 'naive-matmul.wgsl'), join(here, '..', '..', 'bench', 'naive-matmul.wgsl')].find((p) => {
    try {
      readFileSync(p);
      return true;
    } catch {
      return false;
    }
  })!;
  const module = device.createShaderModule({ code: readFileSync(wgslPath, 'utf8') });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const mk = (data: ArrayBufferView & { byteLength: number }, usage: number): GPUBuffer => {
    const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
    device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  };
  const A = mk(new Float32Array(m * k).map(() => Math.random() - 0.5), 0x80 | 0x8);
  const B = mk(new Float32Array(k * n).map(() => Math.random() - 0.5), 0x80 | 0x8);
  const C = device.createBuffer({ size: m * n * 4, usage: 0x80 | 0x4 });
  const U = mk(new Uint32Array([m, n, k, 0]), 0x40 | 0x8);
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [0, 1, 2, 3].map((i) => ({ binding: i, resource: { buffer: [U, C, A, B][i] } })),
  });
  return async () => {
    const staging = device.createBuffer({ size: m * n * 4, usage: 0x1 | 0x8 });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(n / 8), Math.ceil(m / 8));
    pass.end();
    enc.copyBufferToBuffer(C, 0, staging, 0, m * n * 4);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(1);
    staging.destroy();
  };
}

async function readAndFree(t: Tensor): Promise<void> {
  await t.data();
  t.dispose();
}

async function main(): Promise<void> {
  Object.assign(globalThis, globals);
  const gpu = create([]);
  if (!('navigator' in globalThis)) (globalThis as { navigator?: object }).navigator = {};
  Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });

  const tuning = gemmArg ? { gemm: { wgx: gemmArg[0], wgy: gemmArg[1], bk: gemmArg[2] } } : undefined;
  const powerPreference = (arg('power') as GPUPowerPreference | undefined) ?? undefined;
  const be: WebGpuBackend = await createWebGpuBackend(gpu, { tuning, powerPreference, collectGarbage: (await nodeGarbageCollector()) ?? undefined });
  const tf: Tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  tf.env().set('WEBGPU_USE_LOW_POWER_GPU', powerPreference === 'low-power');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs-webgpu did not initialise');
  await tf.ready();
  const { wgx, wgy, bk } = be.tuning.gemm;
  console.log(`adapter: ${be.adapterName}; iml GEMM workgroup ${wgx}x${wgy} (tile ${8 * wgy}x${8 * wgx}x${bk}); tfjs ${tf.version_core}`);

  const rows: string[][] = [];
  const rounds = quick ? 1 : 2;
  const rng = new Random(1);
  const gf = (flop: number, s: number): string => (flop / s / 1e9).toFixed(2);
  const x = (a: number, b: number): string => `${(b / a).toFixed(2)}x`;

  for (const n of only.has('matmul') ? sizes : []) {
    const a = randn([n, n], rng, 1, { backend: be });
    const b = randn([n, n], rng, 1, { backend: be });
    const ta = tf.randomNormal([n, n]);
    const tb = tf.randomNormal([n, n]);
    const naive = naiveMatmul(be.device, n, n, n);
    const t = await best(rounds, {
      iml: () => readAndFree(matmul(a, b)),
      tfjs: async () => {
        const c = tf.matMul(ta, tb);
        await c.data();
        c.dispose();
      },
      naive,
    }, new Set(['naive']));
    const flop = 2 * n ** 3;
    rows.push([`matmul ${n}x${n}x${n}`, 'GFLOPS', gf(flop, t.iml), gf(flop, t.tfjs), gf(flop, t.naive), x(t.iml, t.tfjs), x(t.iml, t.naive)]);
    a.dispose();
    b.dispose();
    ta.dispose();
    tb.dispose();
  }

  const convs = [
    { n: 32, c: 16, h: 32, o: 32, k: 3 },
    { n: 8, c: 64, h: 16, o: 64, k: 3 },
  ];
  for (const s of only.has('conv') ? convs : []) {
    const xi = randn([s.n, s.c, s.h, s.h], rng, 1, { backend: be });
    const wi = randn([s.o, s.c, s.k, s.k], rng, 0.1, { backend: be });
    const xt = tf.randomNormal([s.n, s.h, s.h, s.c]); // tfjs' native NHWC layout
    const wt = tf.randomNormal([s.k, s.k, s.c, s.o]);
    const t = await best(rounds, {
      iml: () => readAndFree(conv2d(xi, wi, { padding: 1 })),
      tfjs: async () => {
        const y = tf.conv2d(xt as import('@tensorflow/tfjs-core').Tensor4D, wt as import('@tensorflow/tfjs-core').Tensor4D, 1, 'same');
        await y.data();
        y.dispose();
      },
    });
    const flop = 2 * s.n * s.o * s.h * s.h * s.c * s.k * s.k;
    rows.push([`conv2d ${s.n}x${s.c}x${s.h}x${s.h} * ${s.o}x${s.c}x${s.k}x${s.k} pad 1`, 'GFLOPS', gf(flop, t.iml), gf(flop, t.tfjs), '-', x(t.iml, t.tfjs), '-']);
    xi.dispose();
    wi.dispose();
    xt.dispose();
    wt.dispose();
  }

  // MLP 784-784-10, batch 128: gradient vs Hessian-vector product (reverse over reverse) on WebGPU.
  if (only.has('mlp')) await mlpRows(be, rng, rows, rounds);
  printTable(rows);
  be.dispose();
  process.exit(0);
}

async function mlpRows(be: WebGpuBackend, rng: Random, rows: string[][], rounds: number): Promise<void> {
  const opts = { backend: be };
  const ws = [randn([784, 784], rng, 0.03, opts), randn([784], rng, 0.03, opts), randn([10, 784], rng, 0.03, opts), randn([10], rng, 0.03, opts)];
  const vs = ws.map((w) => randn(w.shape, rng, 1, opts));
  const xb = randn([128, 784], rng, 1, opts);
  const labels = Array.from({ length: 128 }, () => rng.int(10));
  const yb = oneHot(labels, 10, opts);
  const loss = ([w1, b1, w2, b2]: Tensor[]): Tensor =>
    crossEntropy(add(matmul(relu(add(matmul(xb, w1, { transB: true }), b1)), w2, { transB: true }), b2), yb);
  const g = grad(loss);
  const gradOp = async (): Promise<void> => {
    g(ws);
    await be.sync();
  };
  const hvpOp = async (): Promise<void> => {
    hvp(loss, ws, vs);
    await be.sync();
  };
  const t = await best(rounds, { grad: gradOp, hvp: hvpOp });
  // The ratio from back-to-back pairs (order alternating), median: robust to load drifting between benchmarks.
  const ratios: number[] = [];
  for (let i = 0; i < (quick ? 4 : 8); i++) {
    const order = i % 2 === 0 ? [gradOp, hvpOp] : [hvpOp, gradOp];
    const times: number[] = [];
    for (const op of order) {
      const t0 = performance.now();
      await op();
      times.push(performance.now() - t0);
    }
    ratios.push(i % 2 === 0 ? times[1] / times[0] : times[0] / times[1]);
  }
  ratios.sort((p, q) => p - q);
  const medianRatio = ratios[Math.floor(ratios.length / 2)];
  rows.push(['MLP 784-784-10 b128: gradient', 'ms', (t.grad * 1e3).toFixed(1), '-', '-', '-', '-']);
  rows.push(['MLP 784-784-10 b128: HVP', 'ms', (t.hvp * 1e3).toFixed(1), '-', '-', '-', '-']);
  rows.push(['MLP 784-784-10 b128: HVP / gradient (best times)', 'ratio', (t.hvp / t.grad).toFixed(2), '-', '-', '-', '-']);
  rows.push([`MLP 784-784-10 b128: HVP / gradient (median of ${ratios.length} pairs)`, 'ratio', medianRatio.toFixed(2), '-', '-', '-', '-']);

}

function printTable(rows: string[][]): void {
  const head = ['benchmark', 'unit', 'iml WebGPU', 'tfjs-webgpu', 'naive WGSL', 'iml/tfjs', 'iml/naive'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
