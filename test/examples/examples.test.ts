// Every program in examples/ runs (small sizes) and prints numbers that are checked here: finite differences, the exact solve, the library's own run, float64 loops.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randn } from '../../src/core/creation.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import { runIml } from '../../src/iml/trainer.js';
import type { KernelBenchResult } from '../../src/perf/kernel-bench.js';
import { Random } from '../../src/util/random.js';
import { ROOT } from '../cli/cli-harness.js';
import { build, config, data, trace } from '../iml/cases.js';
import { runExample, runExampleOutput } from './run-example.js';

describe('examples/', () => {
  it('gradient-hvp-mixed: H v and the mixed term agree with central differences of the gradient', async () => {
    const { result } = await runExample<{ gradNorm: number; hvpNorm: number; mixedNorm: number; hvpError: number; mixedError: number }>('gradient-hvp-mixed');
    expect(result.gradNorm).toBeGreaterThan(0.1);
    expect(result.hvpNorm).toBeGreaterThan(0.1);
    expect(result.mixedNorm).toBeGreaterThan(0.1);
    expect(result.hvpError).toBeLessThan(1e-6);
    expect(result.mixedError).toBeLessThan(1e-6);
  });

  it('hypergradient-methods: CG with n steps reproduces the dense exact solve, Neumann and damped Neumann approach it, identity does not', async () => {
    type Row = { method: string; norm: number; cosine: number; relativeError: number; hvps: number };
    const { result } = await runExample<Row[]>('hypergradient-methods');
    const row = (m: string): Row => result.find((r) => r.method === m)!;
    expect(result.map((r) => r.method)).toEqual(['exact', 'cg:51', 'cg:5', 'neumann:100:alpha=0.1', 'damped-neumann:100', 'identity']);
    expect(row('exact').relativeError).toBe(0);
    expect(row('exact').hvps).toBe(51);
    // Two independent solvers (LDLᵀ/Cholesky on the dense Hessian, 51 CG steps on HVPs) agree to rounding.
    expect(row('cg:51').relativeError).toBeLessThan(1e-8);
    expect(row('cg:5').relativeError).toBeGreaterThan(row('cg:51').relativeError);
    expect(row('neumann:100:alpha=0.1').relativeError).toBeLessThan(0.05);
    expect(row('damped-neumann:100').relativeError).toBeLessThan(0.01);
    expect(row('identity').relativeError).toBeGreaterThan(0.1);
    for (const r of result) expect(Number.isFinite(r.norm) && r.norm > 0, r.method).toBe(true);
  });

  it('exact-vs-approx: the exact solve on a user-built problem has a tiny residual and every method is compared', async () => {
    type Out = { parameters: number; exactResidual: number; lambdaMin: number; lambdaMax: number; rows: { method: string; cosine: number; relativeError: number; hvps: number }[] };
    const { stdout, result } = await runExample<Out>('exact-vs-approx');
    expect(result.parameters).toBe(16 * 12 + 12 + 12 * 3 + 3);
    expect(result.exactResidual).toBeLessThan(1e-10);
    expect(result.lambdaMax).toBeGreaterThan(result.lambdaMin);
    expect(result.rows.map((r) => r.hvps)).toEqual([243, 5, 50, 5, 50, 0]);
    expect(result.rows[0]!.cosine).toBeCloseTo(1, 12);
    // More CG steps get closer to the exact solution.
    expect(result.rows[4]!.relativeError).toBeLessThan(result.rows[3]!.relativeError);
    expect(stdout).toMatch(/\| method \| cos\(x, x\*\) \|/);
  });

  it('meta-train-in-memory: prints exactly the trajectory of the same run made here, and keeps metrics, checkpoint and best snapshot in memory', async () => {
    const { result } = await runExample<{ trace: number[][]; storedMetrics: number; checkpointStep: number | null; bestTensors: number }>('meta-train-in-memory');
    const { model, mk } = build();
    const store = memoryRunStore();
    const here = await runIml(model, mk, data, config({ metaEpochs: 5, checkpointEvery: 2 }), { store });
    expect(result.trace.flat()).toEqual(trace(here.metrics));
    expect(result.storedMetrics).toBe(5);
    expect(result.checkpointStep).toBe((await store.loadCheckpoint())!.step);
    expect(result.bestTensors).toBe(8); // 4 weight tensors + 4 λ tensors
  });

  it('kernel-benchmark: checksums match float64 loops over the same random inputs; GFLOPS = flops / time', async () => {
    const { result } = await runExample<KernelBenchResult[]>('kernel-benchmark', ['--sizes', '8,12', '--repeats', '2']);
    expect(result.map((r) => `${r.kernel}:${r.size}:${r.backend}`)).toEqual([
      'matmul:8:cpu', 'matmul:12:cpu', 'conv2d:8:cpu', 'conv2d:12:cpu', 'elementwise:8:cpu', 'elementwise:12:cpu', 'hvp:8:cpu', 'hvp:12:cpu',
    ]);
    for (const r of result) {
      expect(r.samples).toHaveLength(2);
      expect(r.ms).toBeGreaterThan(0);
      expect(r.gflops).toBeCloseTo(r.flops / (r.ms * 1e6), 10);
    }
    const close = (got: number, want: number, scale: number): void => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * scale);
    for (const n of [8, 12]) {
      const rng = new Random(0);
      const a = randn([n, n], rng).toArray();
      const b = randn([n, n], rng).toArray();
      let s = 0;
      let mag = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) {
        s += a[i * n + k]! * b[k * n + j]!;
        mag += Math.abs(a[i * n + k]! * b[k * n + j]!);
      }
      close(result.find((r) => r.kernel === 'matmul' && r.size === n)!.checksum, s, mag);

      const r2 = new Random(0);
      const x = randn([8, 16, n, n], r2).toArray();
      const w = randn([32, 16, 3, 3], r2, 0.1).toArray();
      let cs = 0;
      let cm = 0;
      for (let bi = 0; bi < 8; bi++) for (let o = 0; o < 32; o++) for (let y = 0; y < n; y++) for (let xx = 0; xx < n; xx++) {
        for (let c = 0; c < 16; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
          const yy = y + i - 1;
          const xc = xx + j - 1;
          if (yy < 0 || yy >= n || xc < 0 || xc >= n) continue;
          const p = x[((bi * 16 + c) * n + yy) * n + xc]! * w[((o * 16 + c) * 3 + i) * 3 + j]!;
          cs += p;
          cm += Math.abs(p);
        }
      }
      close(result.find((r) => r.kernel === 'conv2d' && r.size === n)!.checksum, cs, cm);

      const r3 = new Random(0);
      const [ea, eb, ec] = [randn([n * n], r3).toArray(), randn([n * n], r3).toArray(), randn([n * n], r3).toArray()];
      let es = 0;
      let em = 0;
      for (let i = 0; i < n * n; i++) {
        es += ea[i]! * eb[i]! + ec[i]!;
        em += Math.abs(ea[i]! * eb[i]!) + Math.abs(ec[i]!);
      }
      close(result.find((r) => r.kernel === 'elementwise' && r.size === n)!.checksum, es, em);
    }
  });
});

describe('README', () => {
  it("shows examples/readme-usage.ts verbatim (type-checked strict by test/tsconfig.json), and it runs", async () => {
    const source = readFileSync(join(ROOT, 'examples', 'readme-usage.ts'), 'utf8').split('\n').slice(1).join('\n');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`\`\`\`ts\n${source}\`\`\`\n`);
    expect((await runExampleOutput('readme-usage')).trim()).toBe('4 [ 32, 784 ] [ 32, 784 ]');
  });
});
