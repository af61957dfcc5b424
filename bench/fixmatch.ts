// FixMatch benchmark: training steps per second of the small CNN or WRN-28-2 (batch B, mu) on this engine's CPU backend (at each GEMM thread count) and on WebGPU, next to PyTorch (Debian's python3-torch, bench/fixmatch_torch.py) at the same thread counts on the same model and batch, and augmentation throughput against the step.
// node dist/bench/fixmatch.js [--model small-cnn|wrn-28-2] [--batch 64] [--mu 7] [--steps 5] [--side 28|32] [--channels 1|3]
//   [--backends cpu,webgpu] [--threads 1,2] [--no-torch] [--no-composite] [--composite (WRN)]

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strongAugment, weakAugment } from '../src/augment/index.js';
import type { Backend } from '../src/backend/backend.js';
import { CpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { getBackend, setBackend } from '../src/backend/registry.js';
import { initGemm, setGemmThreads } from '../src/backend/cpu/wasm-gemm.js';
import type { WebGpuBackend } from '../src/backend/webgpu/webgpu-backend.js';
import { tidyAsync } from '../src/core/scope.js';
import { createNodeWebGpuBackend, nodeWebGpuUnavailable } from '../src/node/webgpu.js';
import { SGD } from '../src/optim/sgd.js';
import type { SslModel } from '../src/ssl/fixmatch-config.js';
import { fixMatchGradient } from '../src/ssl/fixmatch-step.js';
import { createSslModel } from '../src/ssl/models.js';
import { addWeightDecay } from '../src/ssl/weight-decay.js';
import { Random } from '../src/util/random.js';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  if (i + 1 >= argv.length) throw new Error(`--${name} needs a value`);
  return argv[i + 1];
};
const int = (name: string, def: number, min: number): number => {
  const v = Number(option(name, String(def)));
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}, got '${option(name, '')}'`);
  return v;
};
const list = <T extends string>(name: string, def: string, allowed: readonly T[]): T[] => {
  const xs = option(name, def).split(',').filter((s) => s !== '');
  for (const x of xs) if (!allowed.includes(x as T)) throw new Error(`--${name}: unknown '${x}'; choose from ${allowed.join(', ')}`);
  return [...new Set(xs)] as T[];
};

const MODEL = option('model', 'small-cnn') as SslModel;
if (MODEL !== 'small-cnn' && MODEL !== 'wrn-28-2') throw new Error(`--model: unknown '${MODEL}'; choose small-cnn or wrn-28-2`);
const B = int('batch', 64, 1);
const MU = int('mu', 7, 0);
const STEPS = int('steps', 5, 1);
const SIDE = int('side', MODEL === 'wrn-28-2' ? 32 : 28, 4);
const CH = int('channels', MODEL === 'wrn-28-2' ? 3 : 1, 1);
const BACKENDS = list('backends', 'cpu', ['cpu', 'webgpu'] as const);
const THREADS = option('threads', '1,2').split(',').map((s) => {
  const t = Number(s);
  if (!Number.isInteger(t) || t < 1) throw new Error(`--threads: '${s}' is not a positive integer`);
  return t;
});
const TORCH = !flag('no-torch');
// The scoped/unscoped and fused/composite comparisons are of the small CNN (each doubles a WRN run's time); --composite adds the latter for WRN.
const EXTRA_ROWS = MODEL === 'small-cnn';
const COMPOSITE = (EXTRA_ROWS && !flag('no-composite')) || flag('composite');
// Horizontal flips for colour (CIFAR-like) images, none for digits and clothes, as the trainer's dataset policy.
const FLIP = CH === 3;
const U = B * MU;
const N = B + 2 * U;

interface TorchResult { version: string; threads: number; s: number; maxRssMiB: number }

/** PyTorch's median step time at `threads` threads, or the reason it could not run. */
function torchStep(threads: number): TorchResult | string {
  const here = dirname(fileURLToPath(import.meta.url));
  const script = [join(here, 'fixmatch_torch.py'), join(here, '..', '..', 'bench', 'fixmatch_torch.py')].find((p) => existsSync(p));
  if (!script) return 'bench/fixmatch_torch.py not found';
  const cfg = { model: MODEL, threads, b: B, u: U, side: SIDE, ch: CH, steps: STEPS };
  // Debian's interpreter with python3-torch, not whichever python3 comes first on PATH.
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify(cfg)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error) return `/usr/bin/python3 failed to start: ${r.error.message}`;
  if (r.status !== 0) return `/usr/bin/python3 exited with ${r.status ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TorchResult;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.floor(s.length / 2);
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
};
const load = (): string => loadavg().map((v) => v.toFixed(2)).join(' ');

type Step = (scoped: boolean) => Promise<void>;

/** Runs fn with `backend` as the default backend (as the trainer's --backend does), restoring the previous one. */
async function onBackend<T>(backend: Backend | undefined, fn: () => Promise<T>): Promise<T> {
  if (!backend) return fn();
  const prev = getBackend();
  setBackend(backend);
  try {
    return await fn();
  } finally {
    setBackend(prev);
  }
}

interface Row { what: string; threads: number | null; s: number | null; error?: string }

async function main(): Promise<void> {
  const t0 = performance.now();
  const loadStart = load();
  await initGemm();
  const rng = new Random(0);
  const batch = (n: number) => ({ data: Float32Array.from({ length: n * CH * SIDE * SIDE }, () => rng.int(256) / 255), count: n, channels: CH, height: SIDE, width: SIDE });
  const lab = batch(B);
  const unl = batch(U);
  // Augmentation of one step's images: weak for B + U, strong for U.
  const augTimes: number[] = [];
  for (let k = 0; k < STEPS + 1; k++) {
    const t = performance.now();
    weakAugment(lab, rng, { flip: FLIP });
    if (U > 0) {
      weakAugment(unl, rng, { flip: FLIP });
      strongAugment(unl, rng, { flip: FLIP });
    }
    augTimes.push((performance.now() - t) / 1000);
  }
  const x = new Float32Array(N * CH * SIDE * SIDE);
  x.set(lab.data);
  x.set(unl.data, lab.data.length);
  x.set(unl.data, lab.data.length + unl.data.length);
  const labels = Array.from({ length: B }, (_, i) => i % 10);

  /** One training step of a fresh model on `backend` (the default CPU backend when undefined); WebGPU steps end with a sync. */
  const stepper = (backend?: Backend, gpu?: WebGpuBackend): Step => {
    const model = createSslModel(MODEL, { channels: CH, side: SIDE, classes: 10 }, new Random(0), backend ? { backend } : {});
    const params = model.parameters();
    const sgd = new SGD(params, { lr: 0.03, momentum: 0.9, nesterov: true });
    const grad = () => fixMatchGradient(model, params.map((p) => p.value), { x, shape: [N, CH, SIDE, SIDE], labels, unlabelled: U, tau: 0.95, lambdaU: 1 });
    // As the trainer runs it (tidyAsync: temporaries back to the pool) or without a scope (temporaries left to the GC).
    return (scoped) => onBackend(backend, async () => {
      const g = scoped ? await tidyAsync(grad) : await grad();
      sgd.step(addWeightDecay(g.grads, params, 5e-4));
      if (gpu) await gpu.sync(); // the update's dispatches belong to this step
    });
  };
  /** Median step time of each stepper after one warm-up step each, the steppers taking turns step by step (so a change of load hits all alike). */
  const timeSteps = async (steps: Step[], scoped: boolean): Promise<number[]> => {
    for (const step of steps) await step(scoped);
    const times: number[][] = steps.map(() => []);
    for (let k = 0; k < STEPS; k++) {
      for (const [i, step] of steps.entries()) {
        const t = performance.now();
        await step(scoped);
        times[i].push((performance.now() - t) / 1000);
      }
    }
    return times.map(median);
  };

  const rows: Row[] = [];
  const torch = new Map<number, TorchResult | string>();
  const phases: string[] = [];
  const phase = async (name: string, fn: () => Promise<void>): Promise<void> => {
    const t = performance.now();
    await fn();
    phases.push(`${name} ${((performance.now() - t) / 1000).toFixed(0)} s (load ${load()})`);
  };

  if (BACKENDS.includes('cpu')) {
    // The Wasm tensor heap (the default); `reference` below is the plain-array backend (heap: false).
    const fused = stepper(new CpuBackend({ heap: true }));
    // The reference composites of relu and batch norm, as the CPU ran them before the fused kernels (and WebGPU runs them).
    const composite = COMPOSITE ? stepper(new CpuBackend({ fusedKernels: false })) : null;
    // The plain-array backend with the JS kernels: the reference the heap is measured against.
    const reference = stepper(new CpuBackend({ heap: false }));
    for (const th of THREADS) {
      const got = await setGemmThreads(th);
      if (got !== th) throw new Error(`setGemmThreads(${th}) gave ${got} thread(s) (worker_threads with shared Wasm memory unavailable?)`);
      await phase(`engine CPU ${th} thread(s)`, async () => {
        const cpu = `iml-engine CPU (GEMM on ${th} thread${th > 1 ? 's' : ''})`;
        if (EXTRA_ROWS) {
          const [unscoped] = await timeSteps([fused], false);
          const [ours, ref, comp] = await timeSteps(composite ? [fused, reference, composite] : [fused, reference], true);
          rows.push({ what: `${cpu}, Wasm tensor heap (the default), step in tidyAsync (as the trainer)`, threads: th, s: ours });
          rows.push({ what: `${cpu}, plain arrays (heap: false: the reference JS kernels)`, threads: th, s: ref });
          rows.push({ what: `${cpu}, Wasm tensor heap, temporaries left to the GC (no tidyAsync)`, threads: th, s: unscoped });
          if (composite) rows.push({ what: `${cpu}, relu and batch norm as composites (fusedKernels: false)`, threads: th, s: comp });
        } else {
          const [ours, ref, comp] = await timeSteps(composite ? [fused, reference, composite] : [fused, reference], true);
          rows.push({ what: `${cpu}, Wasm tensor heap (the default), step in tidyAsync (as the trainer)`, threads: th, s: ours });
          rows.push({ what: `${cpu}, plain arrays (heap: false: the reference JS kernels)`, threads: th, s: ref });
          if (composite) rows.push({ what: `${cpu}, relu, leaky relu and batch norm as composites (fusedKernels: false)`, threads: th, s: comp });
        }
      });
      // PyTorch right after the engine at the same thread count, under about the same load.
      if (TORCH) await phase(`PyTorch ${th} thread(s)`, async () => void torch.set(th, torchStep(th)));
    }
    await setGemmThreads(1);
  } else if (TORCH) {
    for (const th of THREADS) await phase(`PyTorch ${th} thread(s)`, async () => void torch.set(th, torchStep(th)));
  }

  // lavapipe rasterises on LP_NUM_THREADS threads (default: one per CPU): compared with PyTorch at that count.
  const lpThreads = Number(process.env.LP_NUM_THREADS) || availableParallelism();
  if (BACKENDS.includes('webgpu')) {
    await phase('engine WebGPU', async () => {
      const unavailable = await nodeWebGpuUnavailable();
      if (unavailable !== null) {
        rows.push({ what: 'iml-engine WebGPU', threads: null, s: null, error: unavailable });
        return;
      }
      const gpu = await createNodeWebGpuBackend();
      const what = `iml-engine WebGPU (${gpu.adapterName}), step in tidyAsync`;
      try {
        const [s] = await timeSteps([stepper(gpu, gpu)], true);
        rows.push({ what, threads: lpThreads, s });
      } catch (e) {
        rows.push({ what, threads: lpThreads, s: null, error: `${(e as Error).name}: ${(e as Error).message}`.replace(/\s*\n\s*/g, ' ') });
        console.error(`WebGPU step failed:\n${(e as Error).stack}`);
      } finally {
        gpu.dispose();
      }
    });
  }

  const modelName = MODEL === 'wrn-28-2' ? 'WRN-28-2' : 'small CNN';
  console.log(`FixMatch step, ${modelName}, ${CH}x${SIDE}x${SIDE}, B ${B}, mu ${MU} (${N} images per forward pass); median of ${STEPS} step(s) after one warm-up; load at start ${loadStart}, at end ${load()}`);
  console.log('| what | threads | s/step | steps/s | s/step / PyTorch s/step (same threads) |\n|---|---|---|---|---|');
  const ratio = (s: number, th: number | null): string => {
    const t = th === null ? undefined : torch.get(th);
    return t && typeof t !== 'string' ? (s / t.s).toFixed(2) : '-';
  };
  for (const r of rows) {
    const th = r.threads === null ? '-' : r.what.includes('WebGPU') ? `lavapipe ${r.threads}` : String(r.threads);
    console.log(r.s === null ? `| ${r.what} | ${th} | failed: ${r.error} | | |` : `| ${r.what} | ${th} | ${r.s.toFixed(3)} | ${(1 / r.s).toFixed(3)} | ${ratio(r.s, r.threads)} |`);
  }
  for (const [th, t] of torch) {
    console.log(typeof t === 'string'
      ? `| PyTorch | ${th} | not available: ${t} | | |`
      : `| PyTorch ${t.version} CPU (peak RSS ${t.maxRssMiB.toFixed(0)} MiB) | ${t.threads} | ${t.s.toFixed(3)} | ${(1 / t.s).toFixed(3)} | 1.00 |`);
  }
  const aug = median(augTimes.slice(1));
  const fastest = Math.min(...rows.filter((r) => r.s !== null && !r.what.includes('GC') && !r.what.includes('composites')).map((r) => r.s!));
  console.log(`\naugmentation per step (weak ${B + U} + strong ${U} images, flip ${FLIP ? 'on' : 'off'}, median of ${STEPS} after one warm-up): ${aug.toFixed(3)} s = ${(N / aug).toFixed(0)} images/s` +
    (Number.isFinite(fastest) ? `, ${(100 * aug / fastest).toFixed(1)}% of the fastest engine step (${fastest.toFixed(3)} s)` : ''));
  console.log(`\ntimes: ${phases.join('; ')}; total ${((performance.now() - t0) / 1000).toFixed(0)} s; engine process peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

await main();
// Dawn's instance and the gemm workers must not keep the process alive.
process.exit(0);
