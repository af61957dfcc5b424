// FixMatch benchmark: training steps per second of the small CNN (batch B, mu; 28x28) on this engine's CPU backend (fused relu and batch-norm kernels, and their composites) next to PyTorch (Debian's python3-torch, 1 and 2 threads) on the same model and batch, and augmentation throughput against the step.
// node dist/bench/fixmatch.js [--batch 64] [--mu 7] [--steps 5] [--side 28|32] [--channels 1|3] [--no-torch] [--no-composite]

import { spawnSync } from 'node:child_process';
import { strongAugment, weakAugment } from '../src/augment/index.js';
import type { Backend } from '../src/backend/backend.js';
import { CpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { initGemm } from '../src/backend/cpu/wasm-gemm.js';
import { tidyAsync } from '../src/core/scope.js';
import { SGD } from '../src/optim/sgd.js';
import { fixMatchGradient } from '../src/ssl/fixmatch-step.js';
import { SmallCnn } from '../src/ssl/small-cnn.js';
import { addWeightDecay } from '../src/ssl/weight-decay.js';
import { Random } from '../src/util/random.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const B = arg('batch', 64);
const MU = arg('mu', 7);
const STEPS = arg('steps', 5);
const SIDE = arg('side', 28);
const CH = arg('channels', 1);

const TORCH = String.raw`
import json, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
B, U, S, C, steps = cfg["b"], cfg["u"], cfg["side"], cfg["ch"], cfg["steps"]
m = nn.Sequential(nn.Conv2d(C,16,3,padding=1,bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(16,32,3,padding=1,bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(32,64,3,padding=1,bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64,10))
opt = torch.optim.SGD(m.parameters(), lr=0.03, momentum=0.9, nesterov=True)
x = torch.rand(B + 2*U, C, S, S)
y = torch.randint(0, 10, (B,))
def step():
    logits = m(x)
    ls = F.cross_entropy(logits[:B], y)
    q = torch.softmax(logits[B:B+U].detach(), 1)
    mp, pl = q.max(1)
    lu = (F.cross_entropy(logits[B+U:], pl, reduction='none') * (mp >= 0.95).float()).mean() if U > 0 else 0
    loss = ls + lu
    opt.zero_grad(); loss.backward(); opt.step()
step()
xs = []
for _ in range(steps):
    t = time.perf_counter(); step(); xs.append(time.perf_counter() - t)
xs.sort()
print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(), "s": xs[len(xs)//2]}))
`;

function torchStep(threads: number): { version: string; s: number } | null {
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH, JSON.stringify({ threads, b: B, u: B * MU, side: SIDE, ch: CH, steps: STEPS })], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { version: string; s: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  await initGemm();
  const rng = new Random(0);
  const U = B * MU;
  const batch = (n: number) => ({ data: Float32Array.from({ length: n * CH * SIDE * SIDE }, () => rng.int(256) / 255), count: n, channels: CH, height: SIDE, width: SIDE });
  const lab = batch(B);
  const unl = batch(U);
  // Augmentation of one step's images: weak for B + U, strong for U.
  const augTimes: number[] = [];
  for (let k = 0; k < STEPS; k++) {
    const t = performance.now();
    weakAugment(lab, rng, { flip: false });
    weakAugment(unl, rng, { flip: false });
    strongAugment(unl, rng, { flip: false });
    augTimes.push((performance.now() - t) / 1000);
  }
  const x = new Float32Array((B + 2 * U) * CH * SIDE * SIDE);
  x.set(lab.data);
  x.set(unl.data, lab.data.length);
  x.set(unl.data, lab.data.length + unl.data.length);
  const labels = Array.from({ length: B }, (_, i) => i % 10);
  /** One training step of a fresh model on `backend` (the default CPU backend when undefined). */
  const stepper = (backend?: Backend) => {
    const model = new SmallCnn(new Random(0), { inChannels: CH, side: SIDE, backend });
    const params = model.parameters();
    const sgd = new SGD(params, { lr: 0.03, momentum: 0.9, nesterov: true });
    // As the trainer runs it (tidyAsync: temporaries back to the pool) and without a scope (temporaries left to the GC).
    const grad = () => fixMatchGradient(model, params.map((p) => p.value), { x, shape: [B + 2 * U, CH, SIDE, SIDE], labels, unlabelled: U, tau: 0.95, lambdaU: 1 });
    return async (scoped: boolean): Promise<void> => {
      const g = scoped ? await tidyAsync(grad) : await grad();
      sgd.step(addWeightDecay(g.grads, params, 5e-4));
    };
  };
  /** Median step time of each stepper, the steppers taking turns step by step (so a change of load hits all alike). */
  const timeSteps = async (steps: ((scoped: boolean) => Promise<void>)[], scoped: boolean): Promise<number[]> => {
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
  const fused = stepper();
  // The reference composites of relu and batch norm, as the CPU ran them before the fused kernels (and WebGPU runs
  // them); --no-composite leaves them out (a profile of the fused step alone).
  const withComposite = !process.argv.includes('--no-composite');
  const composite = stepper(new CpuBackend({ fusedKernels: false }));
  const [unscoped] = await timeSteps([fused], false);
  const [ours, compositeStep] = await timeSteps(withComposite ? [fused, composite] : [fused], true);
  const aug = median(augTimes);
  const { loadavg } = await import('node:os');
  console.log(`FixMatch step, small CNN, ${CH}x${SIDE}x${SIDE}, B ${B}, mu ${MU} (${B + 2 * U} images per forward pass); median of ${STEPS}; load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`| what | s/step | steps/s | vs engine |\n|---|---|---|---|`);
  console.log(`| iml-engine CPU (JS + Wasm SIMD), step in tidyAsync (as the trainer) | ${ours.toFixed(3)} | ${(1 / ours).toFixed(3)} | 1.00 |`);
  console.log(`| iml-engine CPU, forward temporaries left to the GC (no tidyAsync) | ${unscoped.toFixed(3)} | ${(1 / unscoped).toFixed(3)} | ${(unscoped / ours).toFixed(2)}x slower |`);
  if (withComposite) {
    console.log(`| iml-engine CPU, relu and batch norm as composites (fusedKernels: false), in tidyAsync | ${compositeStep.toFixed(3)} | ${(1 / compositeStep).toFixed(3)} | ${(compositeStep / ours).toFixed(2)}x slower |`);
  }
  if (!process.argv.includes('--no-torch')) {
    for (const th of [1, 2]) {
      const t = torchStep(th);
      console.log(t ? `| PyTorch ${t.version} CPU, ${th} thread(s) | ${t.s.toFixed(3)} | ${(1 / t.s).toFixed(3)} | ${(ours / t.s).toFixed(2)}x faster |` : `| PyTorch, ${th} thread(s) | not available (/usr/bin/python3 with torch) | | |`);
    }
  }
  console.log(`\naugmentation per step (weak ${B + U} + strong ${U} images): ${aug.toFixed(3)} s = ${((B + 2 * U) / aug).toFixed(0)} images/s, ${(100 * aug / (aug + ours)).toFixed(1)}% of augmentation + step`);
}

await main();
