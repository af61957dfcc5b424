// Dense float64 factorisations (Wasm) side by side with scipy/LAPACK (one thread) and @jax-js/jax, plus the exact Hessian + solve of the thesis MLP.
//
// Usage (after `npm run build`):
//   node dist/bench/linalg.js [sizes=1000,2000,4000] [--no-jax] [--no-scipy] [--no-mlp] [--only-mlp] [--jax-max N]
// scipy runs as /usr/bin/python3 bench/linalg_scipy.py with OPENBLAS_NUM_THREADS=1 (Debian python3-scipy).
// Timings are wall clock on a possibly shared machine: each engine is measured in the same run, interleaved by size.
import Benchmark from 'benchmark';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { cholesky, ldlt, lu, matmul, Matrix } from '../src/linalg/dense.js';
import { exactHessian } from '../src/linalg/hessian.js';
import { ExactHessianSolver } from '../src/linalg/exact-inverse-hvp.js';
import { flattenTensors } from '../src/linalg/hessian.js';
import { initLinalg } from '../src/linalg/wasm.js';
import { builtinProblem } from '../src/node/inverse-check-files.js';
import { valueAndGrad } from '../src/autodiff/transforms.js';
import { functionalCall } from '../src/nn/module.js';
import { MLP } from '../src/nn/layers.js';
import { Random } from '../src/util/random.js';
import { crossEntropy } from '../src/ops/losses.js';
import { oneHot } from '../src/core/creation.js';
import { add, mul, sum } from '../src/core/ops.js';
import { softplus } from '../src/ops/activations.js';
import type { Tensor } from '../src/core/tensor.js';

type Op = 'cholesky' | 'lu' | 'ldlt';
const FLOPS: Record<Op, (n: number) => number> = {
  cholesky: (n) => n ** 3 / 3,
  lu: (n) => (2 * n ** 3) / 3,
  ldlt: (n) => n ** 3 / 3,
};

const args = process.argv.slice(2);
const sizes = (args.find((a) => /^\d/.test(a)) ?? '1000,2000,4000').split(',').map(Number);
const flag = (f: string): boolean => args.includes(f);
const jaxMax = Number(args[args.indexOf('--jax-max') + 1] ?? 2000) || 2000;

/** Same constructions as bench/linalg_scipy.py (different generator, same distributions). */
function matrices(n: number): Record<Op, Float64Array> {
  const rng = new Random(n);
  const s = new Float64Array(n * n);
  for (let i = 0; i < s.length; i++) s[i] = rng.normal();
  // SPD: S Sᵀ / n + I (via the Wasm GEMM itself; setup only).
  const S = Matrix.from(s, n, n);
  const P = matmul(S, S, { transB: true, alpha: 1 / n });
  const spd = P.toArray();
  for (let i = 0; i < n; i++) spd[i * n + i]! += 1;
  S.free();
  P.free();
  const gen = new Float64Array(n * n);
  for (let i = 0; i < gen.length; i++) gen[i] = rng.normal();
  for (let i = 0; i < n; i++) gen[i * n + i]! += 2 * Math.sqrt(n);
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = 0.5 * (s[i * n + j]! + s[j * n + i]!);
  return { cholesky: spd, lu: gen, ldlt: sym };
}

interface Row {
  n: number;
  op: Op;
  engine: string;
  seconds: number;
  gflops: number;
  note?: string;
}

/** Benchmark.js timing of one factorisation (the matrix copy into the work matrix is included, as scipy's overwrite_a=False copies too). */
function benchWasm(n: number, op: Op, src: Float64Array): Promise<Row> {
  const work = new Matrix(n, n);
  const run = (): void => {
    work.data.set(src);
    // In place: the factor is `work` itself (pivot arrays are reclaimed by the garbage collector).
    if (op === 'cholesky') cholesky(work, { overwrite: true });
    else if (op === 'lu') lu(work, { overwrite: true });
    else ldlt(work, { overwrite: true });
  };
  run(); // warm-up (tier-up of the Wasm functions)
  return new Promise((resolve) => {
    const b = new Benchmark(`wasm ${op} n=${n}`, run, { minSamples: n >= 4000 ? 2 : 5, maxTime: n >= 4000 ? 1 : 3, initCount: 1 });
    b.on('complete', () => {
      const mean = b.stats.mean;
      const min = Math.min(...b.stats.sample);
      work.free();
      resolve({ n, op, engine: 'wasm (this repo)', seconds: min, gflops: FLOPS[op](n) / min / 1e9, note: `mean ${mean.toFixed(3)} s ±${b.stats.rme.toFixed(1)}%, ${b.stats.sample.length} samples` });
    });
    b.run();
  });
}

async function benchJax(n: number, op: Op, src: Float64Array): Promise<Row | null> {
  if (op === 'ldlt') return null;
  if (typeof (globalThis as { Float16Array?: unknown }).Float16Array === 'undefined') {
    // jax-js references Float16Array, which Node 20 lacks; float64 inputs never use it.
    (globalThis as { Float16Array?: unknown }).Float16Array = class Float16Array extends Float32Array {};
  }
  const jax = await import('@jax-js/jax');
  await jax.init('wasm');
  const np = jax.numpy;
  const A = np.array(src, { dtype: np.float64 }).reshape([n, n]);
  const once = async (): Promise<number> => {
    const t = performance.now();
    if (op === 'cholesky') {
      const L = np.linalg.cholesky(A.ref);
      await L.data();
    } else {
      const [f, piv, perm] = jax.lax.linalg.lu(A.ref);
      await f.data();
      piv.dispose();
      perm.dispose();
    }
    return (performance.now() - t) / 1000;
  };
  await once(); // warm-up
  const t = Math.min(await once(), n <= 1000 ? await once() : Infinity);
  A.dispose();
  return { n, op, engine: '@jax-js/jax 0.1.25 (wasm)', seconds: t, gflops: FLOPS[op](n) / t / 1e9 };
}

function benchScipy(): Row[] {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'linalg_scipy.py');
  if (!existsSync('/usr/bin/python3') || !existsSync(script)) return [];
  try {
    const out = execFileSync('/usr/bin/python3', [script, sizes.join(','), '3'], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(out) as { numpy: string; scipy: string; results: ({ n: number; ldlt_lwork: number } & Record<Op, [number, number]>)[] };
    return r.results.flatMap((x) =>
      (['cholesky', 'lu', 'ldlt'] as Op[]).map((op) => ({
        n: x.n, op, engine: `scipy ${r.scipy} (OpenBLAS, 1 thread)`, seconds: x[op][0], gflops: FLOPS[op](x.n) / x[op][0] / 1e9,
        note: `mean ${x[op][1].toFixed(3)} s${op === 'ldlt' ? `, dsytrf with its optimal workspace (lwork ${x.ldlt_lwork})` : ''}`,
      })),
    );
  } catch (e) {
    console.error(`scipy skipped: ${(e as Error).message.split('\n')[0]}`);
    return [];
  }
}

/** Exact Hessian + solve for the built-in thesis problem (MLP 196-32-10, 6634 parameters). */
async function benchMlp(): Promise<void> {
  const p = builtinProblem({});
  const model = new MLP(p.sizes, new Random(0), p.activation, { dtype: 'float64' });
  const tTrain = oneHot(p.train.y, 10, { dtype: 'float64' });
  const tVal = oneHot(p.validation.y, 10, { dtype: 'float64' });
  const trainLoss = (w: Tensor[]): Tensor =>
    functionalCall(model, w, () => {
      let loss = crossEntropy(model.forward(p.train.x), tTrain);
      p.lambdas.forEach((l, i) => {
        const r = mul(softplus(l), w[i]!);
        loss = add(loss, sum(mul(r, r)));
      });
      return loss;
    });
  const g = valueAndGrad((w: Tensor[]) => functionalCall(model, w, () => crossEntropy(model.forward(p.validation.x), tVal)))(p.weights).grads;
  // Wall time, and CPU time of this process (less sensitive to other load on a shared machine).
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const c0 = cpu();
  const t0 = performance.now();
  const H = exactHessian(trainLoss, p.weights);
  const t1 = performance.now();
  const c1 = cpu();
  const results: string[] = [];
  for (const method of ['auto', 'lu'] as const) {
    const cs = cpu();
    const ts = performance.now();
    const s = ExactHessianSolver.create(H.matrix, { method, spectrum: 'none' });
    const r = s.solve(flattenTensors(g));
    const te = performance.now();
    const ce = cpu();
    results.push(
      `${s.report.method}: factor ${(s.report.factorMs / 1000).toFixed(2)} s, solve ${(r.ms / 1000).toFixed(3)} s, residual ${r.residual.toExponential(2)}, ` +
        `total with Hessian ${((t1 - t0 + te - ts) / 1000).toFixed(2)} s wall / ${(c1 - c0 + ce - cs).toFixed(2)} s CPU`,
    );
    s.free();
  }
  const ts = performance.now();
  const rep = ExactHessianSolver.create(H.matrix, { spectrum: 'lanczos' });
  const spectrumNote = `report spectrum (Lanczos 40 steps on H and H⁻¹): ${(rep.report.spectrumMs / 1000).toFixed(2)} s; λ ∈ [${rep.report.lambdaMin.toExponential(3)}, ${rep.report.lambdaMax.toExponential(3)}], cond ${rep.report.conditionNumber.toExponential(3)}, inertia ${JSON.stringify(rep.report.inertia)}; whole ExactHessianSolver.create ${((performance.now() - ts) / 1000).toFixed(2)} s`;
  rep.free();
  H.matrix.free();
  console.log(`\n## Exact Hessian + solve, ${p.description}\n`);
  console.log(`Hessian ${H.n}x${H.n}: ${((t1 - t0) / 1000).toFixed(2)} s wall / ${(c1 - c0).toFixed(2)} s CPU (${(((t1 - t0) * 1000) / H.n).toFixed(0)} µs per reverse-over-reverse pass)`);
  for (const r of results) console.log(`- ${r}`);
  console.log(`- ${spectrumNote}`);
}

async function main(): Promise<void> {
  await initLinalg();
  if (flag('--only-mlp')) {
    await benchMlp();
    return;
  }
  const rows: Row[] = [];
  if (!flag('--no-scipy')) rows.push(...benchScipy());
  for (const n of sizes) {
    const m = matrices(n);
    for (const op of ['cholesky', 'lu', 'ldlt'] as Op[]) {
      const r = await benchWasm(n, op, m[op]);
      rows.push(r);
      console.error(`${r.engine} ${op} n=${n}: ${r.seconds.toFixed(3)} s, ${r.gflops.toFixed(2)} GFLOPS`);
      if (!flag('--no-jax') && n <= jaxMax) {
        const j = await benchJax(n, op, m[op]);
        if (j) {
          rows.push(j);
          console.error(`${j.engine} ${op} n=${n}: ${j.seconds.toFixed(3)} s, ${j.gflops.toFixed(2)} GFLOPS`);
        }
      }
    }
  }
  console.log('\n## Factorisations (float64, best of the samples; GFLOPS = n³/3 for Cholesky and LDLᵀ, 2n³/3 for LU)\n');
  console.log('| n | factorisation | engine | time (s) | GFLOPS | % of scipy |');
  console.log('|---|---|---|---|---|---|');
  for (const n of sizes) {
    for (const op of ['cholesky', 'lu', 'ldlt'] as Op[]) {
      const ref = rows.find((r) => r.n === n && r.op === op && r.engine.startsWith('scipy'));
      for (const r of rows.filter((x) => x.n === n && x.op === op)) {
        const pct = ref ? `${((100 * r.gflops) / ref.gflops).toFixed(0)}%` : '-';
        console.log(`| ${n} | ${op} | ${r.engine} | ${r.seconds.toFixed(3)} | ${r.gflops.toFixed(2)} | ${pct} |`);
      }
    }
  }
  if (!flag('--no-mlp')) await benchMlp();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
