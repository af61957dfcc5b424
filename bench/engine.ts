// CPU engine benchmark in one process (benchmark.js): MLP gradient / HVP, matmul GFLOPS and conv2d, ours vs @jax-js/jax (wasm), tfjs-wasm and optionally PyTorch (1 thread); prints one table.
// Usage: npm run build && node dist/bench/engine.js [--out FILE.md] [--quick] [--rounds N] [--jax-workers N] [--no-torch] [--no-jax] [--no-tfjs] [--sections mlp,matmul,conv]

import Benchmark from 'benchmark';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { hvpAndMixed, secondOrderOperator, valueAndGrad } from '../src/autodiff/transforms.js';
import { getGemmInfo, initGemm, setGemmThreads } from '../src/backend/cpu/wasm-gemm.js';
import { oneHot, randn, tensor } from '../src/core/creation.js';
import { conv2d, matmul, sum } from '../src/core/ops.js';
import type { Tensor } from '../src/core/tensor.js';
import { tidy } from '../src/core/scope.js';
import { crossEntropy } from '../src/ops/losses.js';
import { functionalCall, MLP } from '../src/nn/index.js';
import { Random } from '../src/util/random.js';
import { runTorch, type TorchResult } from './cpu-torch.js';
import { WebWorkerShim } from './cpu-web-worker.js';
import { CpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { setBackend } from '../src/backend/registry.js';

// Our rows run the CPU backend with the Wasm tensor heap (the default).
setBackend(new CpuBackend({ heap: true }));

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const quick = flag('quick');
const rounds = Number(arg('rounds') ?? (quick ? 1 : 2));
const minSamples = quick ? 5 : 10;
const maxTime = quick ? 0.4 : 1.0; // seconds per case per round (benchmark.js keeps going until minSamples too)
const jaxWorkers = Number(arg('jax-workers') ?? 2);
const outFile = arg('out');
const sections = new Set((arg('sections') ?? 'mlp,matmul,conv').split(','));

/** Earlier medians on this 2-core machine (used only where PyTorch cannot run in this process run). */
const TORCH_REFERENCE_MS: Record<string, number> = { mlpGrad: 4.6, mlpHvp: 11.2, convFwd: 2.9, convFwdBwd: 15 };

// ---------------------------------------------------------------------------------------------
// Measurement: benchmark.js suites; every case is deferred (benchmark.js would otherwise inline
// the function's source text, which silently measures nothing for closures), samples of all rounds
// are pooled and the median taken.
// ---------------------------------------------------------------------------------------------

interface Case {
  key: string;
  fn: () => unknown;
  threads: 1 | 2;
  /** Set from the warm-up time: slow cases (jax-js conv gradient takes ~1 s) get fewer samples. */
  minSamples?: number;
}

const samplesMs = new Map<string, number[]>();
const failures = new Map<string, string>();
const notes: string[] = [];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function med(key: string): number | undefined {
  const xs = samplesMs.get(key);
  return xs && xs.length ? median(xs) : undefined;
}

/** One suite over `cases` (all at the current thread count). */
function runSuite(cases: Case[], round: number): Promise<void> {
  return new Promise((resolve) => {
    const suite = new Benchmark.Suite();
    for (const c of cases) {
      suite.add(c.key, {
        defer: true,
        minSamples: c.minSamples ?? minSamples,
        maxTime,
        initCount: 1,
        fn: (d: Benchmark.Deferred) => {
          let r: unknown;
          try {
            r = c.fn();
          } catch (err) {
            failures.set(c.key, String(err));
            d.resolve();
            return;
          }
          if (r instanceof Promise) {
            r.then(
              () => d.resolve(),
              (err: unknown) => {
                failures.set(c.key, String(err));
                d.resolve();
              },
            );
          } else d.resolve();
        },
      } as Benchmark.Options);
    }
    suite.on('cycle', (e: Benchmark.Event) => {
      const b = e.target as unknown as Benchmark;
      const name = String(b.name);
      if (b.error) {
        failures.set(name, String(b.error));
        return;
      }
      const xs = b.stats.sample.map((s) => s * 1e3);
      samplesMs.set(name, [...(samplesMs.get(name) ?? []), ...xs]);
      console.log(`  [round ${round + 1}] ${name.padEnd(34)} ${median(xs).toFixed(2).padStart(9)} ms median  (${xs.length} samples, ±${b.stats.rme.toFixed(1)}%)`);
    });
    suite.on('complete', () => resolve());
    suite.run({ async: true });
  });
}

/** Warms every case (compiles, JITs, fills pools); drops cases that fail. Then `rounds` alternating suites per thread count. */
async function runCases(title: string, cases: Case[]): Promise<void> {
  console.log(`\n== ${title}`);
  const ok: Case[] = [];
  for (const t of [1, 2] as const) {
    const these = cases.filter((c) => c.threads === t);
    if (!these.length) continue;
    await setGemmThreads(t);
    for (const c of these) {
      try {
        await c.fn();
        const t0 = performance.now();
        await c.fn();
        const warmS = (performance.now() - t0) / 1e3;
        c.minSamples = Math.max(3, Math.min(minSamples, Math.round((2 * maxTime) / Math.max(warmS, 1e-6))));
        ok.push(c);
      } catch (err) {
        failures.set(c.key, String(err));
        console.log(`  ${c.key}: failed (${String(err).split('\n')[0]})`);
      }
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const t of [1, 2] as const) {
      const these = ok.filter((c) => c.threads === t);
      if (!these.length) continue;
      await setGemmThreads(t);
      await runSuite(these, r);
    }
  }
  await setGemmThreads(1);
}

// ---------------------------------------------------------------------------------------------
// Peers
// ---------------------------------------------------------------------------------------------

type Tf = typeof import('@tensorflow/tfjs');
type TfTensor = import('@tensorflow/tfjs').Tensor;
type Jax = typeof import('@jax-js/jax');
type JaxArray = import('@jax-js/jax').Array;

async function loadTfjs(): Promise<Tf | null> {
  if (flag('no-tfjs')) return null;
  try {
    // The union package, not tfjs-core alone: its Node bundle registers the gradients tf.grads needs.
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    // The package loads its .wasm from its own dist/ folder in Node; it runs one thread there
    // (WASM_HAS_MULTITHREAD_SUPPORT is false under Node in 4.22).
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    notes.push(`tfjs-wasm ${tf.version_core}: SIMD ${simd}, multithread ${mt} (tfjs disables Wasm threads under Node), so 1 thread.`);
    return tf;
  } catch (err) {
    notes.push(`tfjs-wasm not measured: ${String(err).split('\n')[0]}`);
    return null;
  }
}

async function loadJax(): Promise<Jax | null> {
  if (flag('no-jax')) return null;
  const g = globalThis as unknown as Record<string, unknown>;
  // jax-js tests `data instanceof Float16Array` before Float64Array; Node 20 has no Float16Array.
  if (g.Float16Array === undefined) g.Float16Array = class Float16ArrayStandIn {};
  let definedNavigator = false;
  if (jaxWorkers > 0) {
    // Its Wasm backend dispatches kernels to a pool of Web Workers (blob: URL scripts) sized by
    // navigator.hardwareConcurrency (4 when absent) when SharedArrayBuffer and Worker exist.
    if (g.Worker === undefined) g.Worker = WebWorkerShim;
    if (g.navigator === undefined) {
      g.navigator = { hardwareConcurrency: jaxWorkers };
      definedNavigator = true;
    }
  }
  try {
    const jax = await import('@jax-js/jax');
    const devices = await jax.init('wasm');
    if (!devices.includes('wasm')) throw new Error(`init('wasm') gave [${devices.join(', ')}]`);
    jax.defaultDevice('wasm');
    notes.push(`jax-js ${packageVersion('@jax-js/jax')}: wasm device, ${jaxWorkers > 0 ? `${jaxWorkers} workers (Web Worker stand-in on worker_threads)` : 'main thread only'}; best of eager and jit per quantity.`);
    return jax;
  } catch (err) {
    notes.push(`jax-js not measured: ${String(err).split('\n')[0]}`);
    return null;
  } finally {
    if (definedNavigator) delete g.navigator; // read once by init('wasm'); keep other libraries' platform checks unchanged
  }
}

/** Installed version of a package, read next to its resolved entry point (its exports hide package.json). */
function packageVersion(name: string): string {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      let pkg: { name?: string; version?: string };
      try {
        pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
      } catch {
        continue;
      }
      if (pkg.name === name) return pkg.version ?? '?';
    }
  } catch {
    // unresolvable: fall through
  }
  return '?';
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

const B = 128, D = 784, H = 784, C = 10;
const rng = new Random(0);
function randArray(n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}
const xData = randArray(B * D, 1);
const tData = new Float32Array(B * C);
for (let i = 0; i < B; i++) tData[i * C + (i % C)] = 1;
const mlpShapes = { W1: [D, H], b1: [H], W2: [H, C], b2: [C] } as const;
const mlpData = {
  W1: randArray(D * H, 1 / Math.sqrt(D)),
  b1: randArray(H, 0.01),
  W2: randArray(H * C, 1 / Math.sqrt(H)),
  b2: randArray(C, 0.01),
};
const convX = randArray(64 * 3 * 32 * 32, 1); // NCHW
const convW = randArray(32 * 3 * 3 * 3, 0.2); // OIHW
const mm = new Map([512, 1024].map((n) => [n, { a: randArray(n * n, 1), b: randArray(n * n, 1) }]));

/** NCHW -> NHWC and OIHW -> HWIO for tfjs (same values). */
function toNHWC(x: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
    out[((i * h + y) * w + xx) * c + ch] = x[((i * c + ch) * h + y) * w + xx]!;
  }
  return out;
}
function toHWIO(wt: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(wt.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    out[((y * kw + x) * i + b) * o + a] = wt[((a * i + b) * kh + y) * kw + x]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

function oursMlpCases(): Case[] {
  const model = new MLP([D, H, C], new Random(1));
  const w = model.parameters().map((p) => p.value);
  const x = tensor(xData, [B, D]);
  const t = oneHot(Array.from({ length: B }, (_, i) => i % C), C);
  const f = (ws: Tensor[]): Tensor => functionalCall(model, ws, () => crossEntropy(model.forward(x), t));
  const vg = valueAndGrad(f);
  const v = w.map((wi) => randn(wi.shape, rng));
  const op = secondOrderOperator((ws) => f(ws), w, []);
  const cases: Case[] = [];
  for (const threads of [1, 2] as const) {
    cases.push({ key: `ours mlp grad ${threads}T`, threads, fn: () => tidy(() => void vg(w)) });
    cases.push({ key: `ours mlp hvpAndMixed ${threads}T`, threads, fn: () => tidy(() => void hvpAndMixed((ws) => f(ws), w, [], v)) });
  }
  cases.push({ key: 'ours mlp op.hvp 1T', threads: 1, fn: () => tidy(() => void op.hvp(v)) });
  return cases;
}

function tfjsMlpCases(tf: Tf): Case[] {
  const x = tf.tensor2d(xData, [B, D]);
  const t = tf.tensor2d(tData, [B, C]);
  const ps = (Object.keys(mlpShapes) as (keyof typeof mlpShapes)[]).map((k) => tf.tensor(mlpData[k], [...mlpShapes[k]]));
  const loss = (W1: TfTensor, b1: TfTensor, W2: TfTensor, b2: TfTensor) => {
    const h = tf.relu(tf.add(tf.matMul(x, W1), b1));
    const z = tf.add(tf.matMul(h, W2), b2);
    return tf.mul(tf.sum(tf.mul(t, tf.logSoftmax(z))), -1 / B) as import('@tensorflow/tfjs').Scalar;
  };
  const g = tf.grads(loss as (...a: TfTensor[]) => TfTensor);
  return [{ key: 'tfjs-wasm mlp grad', threads: 1, fn: () => tf.tidy(() => void g(ps)) }];
}

function jaxParams(jax: Jax): Record<string, JaxArray> {
  const np = jax.numpy;
  return Object.fromEntries((Object.keys(mlpShapes) as (keyof typeof mlpShapes)[]).map((k) => [k, np.array(mlpData[k], { shape: [...mlpShapes[k]] })]));
}

function refs(p: Record<string, JaxArray>): Record<string, JaxArray> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.ref]));
}

function jaxMlpCases(jax: Jax): Case[] {
  const { numpy: np, nn } = jax;
  const P = jaxParams(jax);
  const V = jaxParams(jax);
  const X = np.array(xData, { shape: [B, D] });
  const T = np.array(tData, { shape: [B, C] });
  type P = Record<string, JaxArray>;
  const loss = (p: P, x: JaxArray, t: JaxArray): JaxArray => {
    const h = nn.relu(np.matmul(x, p.W1!).add(p.b1!));
    const z = np.matmul(h, p.W2!).add(p.b2!);
    return nn.logSoftmax(z, -1).mul(t).sum().mul(-1 / B);
  };
  const gradEager = (p: P, x: JaxArray, t: JaxArray): P => jax.grad(loss)(p, x, t) as P;
  const hvpEager = (p: P, v: P, x: JaxArray, t: JaxArray): P => {
    const [g, hv] = jax.jvp((q: P) => jax.grad(loss)(q, x, t) as P, [p], [v]) as unknown as [P, P];
    jax.tree.dispose(g);
    return hv;
  };
  const gradJit = jax.jit(gradEager);
  const hvpJit = jax.jit(hvpEager);
  const done = async (out: P): Promise<void> => {
    await jax.blockUntilReady(out);
    jax.tree.dispose(out);
  };
  return [
    { key: 'jax-js mlp grad eager', threads: 1, fn: () => done(gradEager(refs(P), X.ref, T.ref)) },
    { key: 'jax-js mlp grad jit', threads: 1, fn: () => done(gradJit(refs(P), X.ref, T.ref) as P) },
    { key: 'jax-js mlp hvp eager', threads: 1, fn: () => done(hvpEager(refs(P), refs(V), X.ref, T.ref)) },
    { key: 'jax-js mlp hvp jit', threads: 1, fn: () => done(hvpJit(refs(P), refs(V), X.ref, T.ref) as P) },
  ];
}

function matmulCases(tf: Tf | null, jax: Jax | null): Case[] {
  const cases: Case[] = [];
  for (const [n, { a, b }] of mm) {
    const A = tensor(a, [n, n]), Bt = tensor(b, [n, n]);
    for (const threads of [1, 2] as const) cases.push({ key: `ours matmul ${n} ${threads}T`, threads, fn: () => tidy(() => void matmul(A, Bt)) });
    if (tf) {
      const ta = tf.tensor2d(a, [n, n]), tb = tf.tensor2d(b, [n, n]);
      cases.push({ key: `tfjs-wasm matmul ${n}`, threads: 1, fn: () => tf.tidy(() => void tf.matMul(ta, tb)) });
    }
    if (jax) {
      const ja = jax.numpy.array(a, { shape: [n, n] }), jb = jax.numpy.array(b, { shape: [n, n] });
      cases.push({
        key: `jax-js matmul ${n}`,
        threads: 1,
        fn: async () => {
          const c = jax.numpy.matmul(ja.ref, jb.ref);
          await c.blockUntilReady();
          c.dispose();
        },
      });
    }
  }
  return cases;
}

function convCases(tf: Tf | null, jax: Jax | null): Case[] {
  const cases: Case[] = [];
  const x = tensor(convX, [64, 3, 32, 32]), w = tensor(convW, [32, 3, 3, 3]);
  const vg = valueAndGrad((xs) => sum(conv2d(xs[0]!, xs[1]!, { padding: 1 })));
  for (const threads of [1, 2] as const) {
    cases.push({ key: `ours conv fwd ${threads}T`, threads, fn: () => tidy(() => void conv2d(x, w, { padding: 1 })) });
    cases.push({ key: `ours conv fwd+bwd ${threads}T`, threads, fn: () => tidy(() => void vg([x, w])) });
  }
  if (tf) {
    const tx = tf.tensor4d(toNHWC(convX, 64, 3, 32, 32), [64, 32, 32, 3]);
    const tw = tf.tensor4d(toHWIO(convW, 32, 3, 3, 3), [3, 3, 3, 32]);
    const g = tf.grads((a: TfTensor, b: TfTensor) =>
      tf.sum(tf.conv2d(a as import('@tensorflow/tfjs').Tensor4D, b as import('@tensorflow/tfjs').Tensor4D, 1, 'same')));
    cases.push({ key: 'tfjs-wasm conv fwd', threads: 1, fn: () => tf.tidy(() => void tf.conv2d(tx, tw, 1, 'same')) });
    cases.push({ key: 'tfjs-wasm conv fwd+bwd', threads: 1, fn: () => tf.tidy(() => void g([tx, tw])) });
  }
  if (jax) {
    const { numpy: np, lax } = jax;
    const jx = np.array(convX, { shape: [64, 3, 32, 32] }), jw = np.array(convW, { shape: [32, 3, 3, 3] });
    const f = (a: JaxArray, b: JaxArray): JaxArray => np.sum(lax.conv(a, b, [1, 1], 'SAME'));
    const gEager = (a: JaxArray, b: JaxArray): JaxArray[] => jax.grad(f, { argnums: [0, 1] })(a, b) as unknown as JaxArray[];
    const gJit = jax.jit(gEager);
    const done = async (out: JaxArray | JaxArray[]): Promise<void> => {
      await jax.blockUntilReady(out);
      jax.tree.dispose(out);
    };
    cases.push({ key: 'jax-js conv fwd', threads: 1, fn: () => done(lax.conv(jx.ref, jw.ref, [1, 1], 'SAME')) });
    cases.push({ key: 'jax-js conv fwd+bwd eager', threads: 1, fn: () => done(gEager(jx.ref, jw.ref)) });
    cases.push({ key: 'jax-js conv fwd+bwd jit', threads: 1, fn: () => done(gJit(jx.ref, jw.ref) as JaxArray[]) });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

interface Row {
  quantity: string;
  ours: string;
  peers: string;
  ratio: string;
  goal: string;
  met: string;
}

const fmt = (x: number | undefined, d = 1): string => (x === undefined ? 'n/a' : x.toFixed(d));
const gflops = (n: number, ms: number | undefined): number | undefined => (ms === undefined ? undefined : (2 * n ** 3) / (ms * 1e6));
/** a/b formatted as '1.23x', or 'n/a' when either is missing. */
const rx = (a: number | undefined, b: number | undefined, d = 2): string => (a === undefined || b === undefined || !b ? 'n/a' : `${(a / b).toFixed(d)}x`);
const rr = (a: number | undefined, b: number | undefined, d = 2): string => (a === undefined || b === undefined || !b ? 'n/a' : (a / b).toFixed(d));
const how = (b: { ms: number | undefined; how: string }): string => (b.ms === undefined ? '' : ` (${b.how})`);
const yes = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'yes' : 'no');

/** The smaller of a peer's eager and jit medians, with which one it was. */
function bestOf(prefix: string): { ms: number | undefined; how: string } {
  const e = med(`${prefix} eager`), j = med(`${prefix} jit`);
  if (e === undefined && j === undefined) return { ms: undefined, how: '' };
  if (j === undefined || (e !== undefined && e <= j)) return { ms: e, how: 'eager' };
  return { ms: j, how: 'jit' };
}

function buildRows(torch: TorchResult | null): Row[] {
  const rows: Row[] = [];
  const torchMs = (k: string): { ms: number | undefined; tag: string } =>
    torch ? { ms: torch.ms[k], tag: 'PyTorch 1T' } : { ms: TORCH_REFERENCE_MS[k], tag: 'PyTorch 1T (earlier ref)' };

  const g1 = med('ours mlp grad 1T'), g2 = med('ours mlp grad 2T');
  const h1 = med('ours mlp hvpAndMixed 1T'), h2 = med('ours mlp hvpAndMixed 2T');
  const o1 = med('ours mlp op.hvp 1T');
  const jg = bestOf('jax-js mlp grad'), jh = bestOf('jax-js mlp hvp');
  const tg = med('tfjs-wasm mlp grad');
  const pg = torchMs('mlpGrad'), ph = torchMs('mlpHvp');

  // jax-js against ours at its own thread count: its main thread alone (--jax-workers 0) against our 1 thread, its
  // workers (2 by default) against our 2 threads.
  const gSame = jaxWorkers > 0 ? g2 : g1;
  const sameLabel = jaxWorkers > 0 ? '2T' : '1T';
  rows.push({
    quantity: 'MLP 784-784-10 b128 gradient, ms (vs jax-js)',
    ours: `${fmt(g1, 2)} (2T ${fmt(g2, 2)})`,
    peers: `jax-js ${fmt(jg.ms, 1)}${how(jg)}${jaxWorkers > 0 ? `, ${jaxWorkers} workers` : ', main thread'}; tfjs-wasm ${fmt(tg, 1)}`,
    ratio: `jax-js/ours ${rx(jg.ms, gSame)} (ours ${sameLabel}; 1T ${rx(jg.ms, g1)}); tfjs/ours ${rx(tg, g1, 1)}`,
    goal: '>= 2x faster than jax-js (same threads)',
    met: yes(jg.ms && gSame ? jg.ms / gSame >= 2 : undefined),
  });
  rows.push({
    quantity: 'MLP gradient, ms (vs PyTorch)',
    ours: fmt(g1, 2),
    peers: `${pg.tag} ${fmt(pg.ms, 2)}`,
    ratio: `ours/PyTorch ${rx(g1, pg.ms)}`,
    goal: '<= 3x PyTorch 1T',
    met: yes(pg.ms && g1 ? g1 / pg.ms <= 3 : undefined),
  });
  rows.push({
    quantity: 'MLP HVP (hvpAndMixed, no λ), ms; HVP/gradient',
    ours: `${fmt(h1, 2)} (2T ${fmt(h2, 2)})`,
    peers: `jax-js jvp-of-grad ${fmt(jh.ms, 1)}${how(jh)}; ${ph.tag} ${fmt(ph.ms, 2)}`,
    ratio: `ours ${rr(h1, g1)} (2T ${rr(h2, g2)}); PyTorch ${rr(ph.ms, pg.ms)}; jax-js ${rr(jh.ms, jg.ms)}`,
    goal: 'HVP/grad <= 2.0',
    met: yes(h1 && g1 ? h1 / g1 <= 2 : undefined),
  });
  rows.push({
    quantity: 'MLP extra op.hvp(v) on recorded secondOrderOperator, ms',
    ours: fmt(o1, 2),
    peers: `jax-js HVP/ours ${rx(jh.ms, h1)} (hvpAndMixed); ours/PyTorch HVP ${rx(h1, ph.ms)}`,
    ratio: `op.hvp/grad ${rr(o1, g1)}`,
    goal: '(info)',
    met: '-',
  });
  for (const n of [512, 1024]) {
    const o1g = gflops(n, med(`ours matmul ${n} 1T`)), o2g = gflops(n, med(`ours matmul ${n} 2T`));
    const tfg = gflops(n, med(`tfjs-wasm matmul ${n}`)), jxg = gflops(n, med(`jax-js matmul ${n}`));
    const ptg = torch ? gflops(n, torch.ms[`matmul${n}`]) : undefined;
    const bestOurs = Math.max(o1g ?? 0, o2g ?? 0) || undefined;
    rows.push({
      quantity: `matmul ${n}x${n}x${n} float32, GFLOPS`,
      ours: `1T ${fmt(o1g)} / 2T ${fmt(o2g)}`,
      peers: `tfjs-wasm (1T) ${fmt(tfg)}; jax-js ${fmt(jxg)}${torch ? `; PyTorch 1T ${fmt(ptg)}` : ''}`,
      ratio: `ours best/tfjs ${rx(bestOurs, tfg)} (1T ${rx(o1g, tfg)})`,
      goal: '>= 1.5x tfjs-wasm',
      met: yes(bestOurs && tfg ? bestOurs / tfg >= 1.5 : undefined),
    });
  }
  for (const [k, label, tk] of [['fwd', 'forward', 'convFwd'], ['fwd+bwd', 'forward+backward (d/dx, d/dw of sum)', 'convFwdBwd']] as const) {
    const c1 = med(`ours conv ${k} 1T`), c2 = med(`ours conv ${k} 2T`);
    const tc = med(`tfjs-wasm conv ${k}`);
    const jc = k === 'fwd' ? { ms: med('jax-js conv fwd'), how: 'eager' } : bestOf('jax-js conv fwd+bwd');
    const pc = torchMs(tk);
    rows.push({
      quantity: `conv2d b64 3->32 32x32 3x3 p1 ${label}, ms`,
      ours: `${fmt(c1, 2)} (2T ${fmt(c2, 2)})`,
      peers: `tfjs-wasm ${fmt(tc, 2)}; jax-js ${fmt(jc.ms, 2)}${how(jc)}; ${pc.tag} ${fmt(pc.ms, 2)}`,
      ratio: `ours/PyTorch ${rx(c1, pc.ms)}; tfjs/ours ${rx(tc, c1)}`,
      goal: '<= 3x PyTorch 1T',
      met: yes(c1 && pc.ms ? c1 / pc.ms <= 3 : undefined),
    });
  }
  return rows;
}

const HEAD: (keyof Row)[] = ['quantity', 'ours', 'peers', 'ratio', 'goal', 'met'];
const HEAD_TEXT: Record<keyof Row, string> = { quantity: 'quantity', ours: 'ours', peers: 'peers', ratio: 'ratio', goal: 'goal', met: 'met?' };

function textTable(rows: Row[]): string {
  const widths = HEAD.map((h) => Math.max(HEAD_TEXT[h].length, ...rows.map((r) => r[h].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(HEAD.map((h) => HEAD_TEXT[h])), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map((r) => line(HEAD.map((h) => r[h])))].join('\n');
}

function markdownTable(rows: Row[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${HEAD.map((h) => HEAD_TEXT[h]).join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${HEAD.map((h) => esc(r[h])).join(' | ')} |`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  await initGemm();
  const load0 = loadavg()[0]!;
  const header = `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), relaxed-SIMD gemm ${getGemmInfo().relaxedSimd}, ` +
    `rounds ${rounds}, minSamples ${minSamples}, maxTime ${maxTime}s per case per round; times are medians of pooled benchmark.js samples.`;
  console.log(header);
  if (!getGemmInfo().relaxedSimd) {
    notes.push('our gemm runs its plain-SIMD build here; on Node 20, `node --experimental-wasm-relaxed-simd dist/bench/engine.js` selects the fused multiply-add build.');
  }

  let torch: TorchResult | null = null;
  if (flag('no-torch')) notes.push('PyTorch skipped (--no-torch); PyTorch ratios use the earlier reference medians.');
  else {
    console.log('\n== PyTorch (child process, torch.set_num_threads(1))');
    const r = runTorch({ threads: 1, budgetS: quick ? 0.5 : 2 * maxTime, minSamples });
    if (typeof r === 'string') {
      notes.push(`PyTorch section skipped: ${r}; PyTorch ratios use the earlier reference medians (${JSON.stringify(TORCH_REFERENCE_MS)} ms).`);
      console.log(`  skipped: ${r}`);
    } else {
      torch = r;
      notes.push(`PyTorch ${r.version} (CPU, ${r.threads} thread), measured in this run by a child python process.`);
      for (const [k, v] of Object.entries(r.ms)) console.log(`  ${k.padEnd(34)} ${v.toFixed(2).padStart(9)} ms median  (${r.samples[k]} samples)`);
    }
  }

  const tf = await loadTfjs();
  const jax = await loadJax();

  if (sections.has('mlp')) {
    await runCases('MLP 784-784-10 (ReLU), batch 128, cross-entropy, float32', [
      ...oursMlpCases(),
      ...(jax ? jaxMlpCases(jax) : []),
      ...(tf ? tfjsMlpCases(tf) : []),
    ]);
  }
  if (sections.has('matmul')) await runCases('matmul float32', matmulCases(tf, jax));
  if (sections.has('conv')) await runCases('conv2d batch 64, 3->32, 32x32, 3x3, pad 1', convCases(tf, jax));

  for (const [k, e] of failures) notes.push(`${k} failed: ${e.split('\n')[0]}`);
  notes.push(`load average ${load0.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end (2 shared cores: ratios within this run are what count).`);
  notes.push(`total ${((performance.now() - started) / 1000).toFixed(0)} s.`);

  const rows = buildRows(torch);
  console.log('\n' + textTable(rows));
  console.log('\nNotes:\n' + notes.map((n) => `- ${n}`).join('\n'));
  if (outFile) {
    const md = `# CPU engine benchmark\n\n${header}\n\n${markdownTable(rows)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
    writeFileSync(outFile, md);
    console.log(`\nwrote ${outFile}`);
  }
  await WebWorkerShim.terminateAll();
  await setGemmThreads(1);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
