// Child process of wasm-heap.test.ts, run as `node --expose-gc`: tensors dropped without dispose() come back to the heap through the FinalizationRegistry after a GC, and FixMatch steps of a small CNN in tidy scopes (their replaced state left to the GC) keep the heap flat; prints a JSON report.
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import type { WasmHeapStats } from '../../src/backend/cpu/wasm-heap.js';
import { tensor } from '../../src/core/creation.js';
import { tidyAsync } from '../../src/core/scope.js';
import { SGD } from '../../src/optim/sgd.js';
import { WeightEma } from '../../src/ssl/ema.js';
import { fixMatchGradient } from '../../src/ssl/fixmatch-step.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { addWeightDecay } from '../../src/ssl/weight-decay.js';
import { Random } from '../../src/util/random.js';

export interface HeapChildReport {
  /** The heap's top before the first tensor (above the GEMM's scratch). */
  base: number;
  dropped: { finalized: number; liveBefore: number; liveAfter: number };
  samples: (WasmHeapStats & { step: number })[];
  spilled: number;
  loss: number;
}

const gc = (globalThis as unknown as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('wasm-heap-child: run with node --expose-gc');

/** Twice: a full GC, then two turns of the event loop so the registry's cleanup task runs. */
async function collect(): Promise<void> {
  for (let round = 0; round < 2; round++) {
    gc!();
    for (let i = 0; i < 2; i++) await new Promise((r) => setTimeout(r, 5));
  }
}

const backend = new CpuBackend({ heap: true });
const heap = backend.heap()!;
const base = heap.stats().topBytes;
await collect();
const live0 = heap.stats().liveBlocks;
const fin0 = heap.stats().finalizedBlocks;
(() => {
  for (let i = 0; i < 100; i++) tensor(new Float32Array(1000).fill(i), [1000], { backend });
})();
await collect();
const dropped = { finalized: heap.stats().finalizedBlocks - fin0, liveBefore: live0, liveAfter: heap.stats().liveBlocks };

const rng = new Random(3);
const model = new SmallCnn(new Random(1), { backend, side: 8, widths: [4, 8, 8] });
const params = model.parameters();
const sgd = new SGD(params, { lr: 0.03, momentum: 0.9, nesterov: true });
const ema = new WeightEma(params, 0.999, true);
const B = 4, U = 4;
const samples: HeapChildReport['samples'] = [];
let loss = NaN;
for (let step = 1; step <= 2000; step++) {
  const x = Float32Array.from({ length: (B + 2 * U) * 64 }, () => rng.uniform());
  const labels = Array.from({ length: B }, (_, i) => (i + step) % 10);
  loss = await tidyAsync(async () => {
    const g = await fixMatchGradient(model, params.map((p) => p.value), { x, shape: [B + 2 * U, 1, 8, 8], labels, unlabelled: U, tau: 0.5, lambdaU: 1 });
    sgd.step(addWeightDecay(g.grads, params, 5e-4));
    ema.update(params, step - 1);
    return g.loss;
  });
  if (step % 50 === 0) await collect();
  if (step === 200 || step === 1000 || step === 2000) samples.push({ step, ...heap.stats() });
}
const report: HeapChildReport = { base, dropped, samples, spilled: backend.memoryStats().spilledArrays ?? -1, loss };
process.stdout.write(JSON.stringify(report));
