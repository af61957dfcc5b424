// Benchmark of max-pooling: the primitives (argmax, gather, scatter) against the composite reference (reshape + max) in the same process: pooling forward+backward, a small-CNN SGD step and an HVP through it, on the CPU and optionally WebGPU.
// Usage: npm run build && node dist/bench/pool.js [--samples N] [--batch B] [--webgpu] [--out FILE.md]
//   --samples 1 --batch 2 is the one-iteration correctness run: every case once, primitive and composite compared.

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Backend } from '../src/backend/backend.js';
import { withBackend } from '../src/backend/registry.js';
import { createNodeWebGpuBackend } from '../src/node/webgpu.js';
import { CpuBackend } from '../src/backend/cpu/cpu-backend.js';
import {
  conv2d, crossEntropy, globalAvgPool2d, hvp, matmul, maxPool2d, maxPool2dComposite, mul, oneHot, Random, randn, relu,
  sub, valueAndGrad, vjp, type Tensor,
} from '../src/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const samples = Number(arg('samples') ?? 15);
const batch = Number(arg('batch') ?? 64);
const outFile = arg('out');
const useGpu = process.argv.includes('--webgpu');
if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples: expected a positive integer, got ${arg('samples')}`);
if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch: expected a positive integer, got ${arg('batch')}`);

type Pool = (x: Tensor) => Tensor;
const POOLS: Record<'primitive' | 'composite', Pool> = {
  primitive: (x) => maxPool2d(x, 2),
  composite: (x) => maxPool2dComposite(x, 2),
};

/** One case: runs once and returns the tensors whose values both implementations must agree on. */
type Case = (pool: Pool) => Tensor[];

/**
 * The cases of one backend: pooling forward+backward at the small CNN's two pooling shapes (widths 32 and 64 on
 * 28x28 images), and a small CNN (conv3x3-ReLU-pool twice, conv3x3-ReLU, global average pool, linear): an SGD
 * step's value and gradient, and an HVP (second order through the pooling).
 */
function makeCases(be: Backend): Record<string, Case> {
  const rng = new Random(1);
  const r = (shape: number[], scale: number) => randn(shape, rng, scale, { backend: be });
  const pool1 = r([batch, 32, 28, 28], 1);
  const pool2 = r([batch, 64, 14, 14], 1);
  const g1 = r([batch, 32, 14, 14], 1);
  const g2 = r([batch, 64, 7, 7], 1);
  const ws = [r([32, 1, 3, 3], 1 / 3), r([64, 32, 3, 3], 1 / Math.sqrt(288)), r([128, 64, 3, 3], 1 / Math.sqrt(576)), r([10, 128], 1 / Math.sqrt(128))];
  const vs = ws.map((w) => r(w.shape as number[], 1));
  const x = r([batch, 1, 28, 28], 1);
  const t = oneHot(Array.from({ length: batch }, (_, i) => i % 10), 10, { backend: be });
  const cnnLoss = (pool: Pool) => ([k1, k2, k3, w]: Tensor[]): Tensor => {
    let h = pool(relu(conv2d(x, k1, { padding: 1 })));
    h = pool(relu(conv2d(h, k2, { padding: 1 })));
    h = relu(conv2d(h, k3, { padding: 1 }));
    return crossEntropy(matmul(globalAvgPool2d(h), w, { transB: true }), t);
  };
  const fwdBwd = (x0: Tensor, g: Tensor) => (pool: Pool): Tensor[] => {
    const { outputs, pullback } = vjp(([a]) => [pool(a)], [x0]);
    return [outputs[0], pullback([g])[0]];
  };
  return {
    [`pool fwd+bwd [${batch},32,28,28]`]: fwdBwd(pool1, g1),
    [`pool fwd+bwd [${batch},64,14,14]`]: fwdBwd(pool2, g2),
    [`small-CNN SGD step b${batch}`]: (pool) => {
      const { value, grads } = valueAndGrad(cnnLoss(pool))(ws);
      return [value, ...grads.map((gi, i) => sub(ws[i], mul(gi, 0.01)))];
    },
    [`small-CNN HVP b${batch}`]: (pool) => hvp(cnnLoss(pool), ws, vs),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Largest |a - b| over the paired outputs, relative to the largest |b| (the two rules agree where no window ties). */
async function difference(a: Tensor[], b: Tensor[]): Promise<number> {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = await a[i].data();
    const y = await b[i].data();
    for (let j = 0; j < y.length; j++) {
      d = Math.max(d, Math.abs(x[j] - y[j]));
      m = Math.max(m, Math.abs(y[j]));
    }
  }
  return m === 0 ? d : d / m;
}

interface Row {
  backend: string;
  name: string;
  primitive: number;
  composite: number;
  diff: number;
}

async function measure(be: Backend): Promise<Row[]> {
  const rows: Row[] = [];
  const cases = withBackend(be, () => makeCases(be));
  for (const [name, run] of Object.entries(cases)) {
    const times = { primitive: [] as number[], composite: [] as number[] };
    let last: Record<string, Tensor[]> = {};
    // Alternate the two implementations so that load changes hit both; the first round also warms them.
    for (let s = 0; s <= samples; s++) {
      for (const kind of ['primitive', 'composite'] as const) {
        const t0 = performance.now();
        const out = withBackend(be, () => run(POOLS[kind]));
        for (const o of out) await o.data();
        if (s > 0) times[kind].push(performance.now() - t0);
        last[kind] = out;
      }
    }
    const diff = await difference(last.primitive, last.composite);
    last = {};
    rows.push({ backend: be.name, name, primitive: median(times.primitive), composite: median(times.composite), diff });
    const row = rows[rows.length - 1];
    console.log(`${be.name} ${name}: primitive ${row.primitive.toFixed(2)} ms, composite ${row.composite.toFixed(2)} ms, relative difference ${diff.toExponential(1)}`);
  }
  return rows;
}

async function main(): Promise<void> {
  const backends: Backend[] = [new CpuBackend()];
  if (useGpu) backends.push(await createNodeWebGpuBackend());
  const rows: Row[] = [];
  for (const be of backends) rows.push(...(await measure(be)));
  const lines = [
    `# Max-pooling: primitives vs composite (float32, batch ${batch}, median of ${samples} samples)`,
    '',
    `Load average at the end: ${loadavg().map((v) => v.toFixed(2)).join(', ')}.`,
    '',
    '| backend | case | primitive (ms) | composite (ms) | speed-up | relative difference |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.backend} | ${r.name} | ${r.primitive.toFixed(2)} | ${r.composite.toFixed(2)} | ${(r.composite / r.primitive).toFixed(2)}x | ${r.diff.toExponential(1)} |`),
    '',
  ];
  console.log(lines.join('\n'));
  if (outFile) writeFileSync(outFile, lines.join('\n'));
  // The rules differ only on ties (first maximum vs shared), which continuous random data does not produce.
  const bad = rows.filter((r) => !(r.diff <= 1e-5));
  if (bad.length > 0) throw new Error(`pool bench: primitive and composite disagree on ${bad.map((r) => `${r.backend} ${r.name} (${r.diff})`).join(', ')}`);
  for (const be of backends) if ('dispose' in be && typeof be.dispose === 'function') be.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
