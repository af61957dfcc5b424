// Child process of wasm-heap.test.ts, run as `node --expose-gc`: tensors dropped without dispose() come back to the heap through the FinalizationRegistry after a GC, and FixMatch steps of a small CNN in tidy scopes (their replaced state left to the GC) keep the heap flat; prints a JSON report.
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import type { WasmHeapStats } from '../../src/backend/cpu/wasm-heap.js';
import { tensor } from '../../src/core/creation.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { Random } from '../../src/util/random.js';
import { fixMatchSteps } from '../core/pooled-steps.js';

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

const model = new SmallCnn(new Random(1), { backend, side: 8, widths: [4, 8, 8] });
const samples: HeapChildReport['samples'] = [];
const loss = await fixMatchSteps({
  model, steps: 2000,
  afterStep: async (step) => {
    if (step % 50 === 0) await collect();
    if (step === 200 || step === 1000 || step === 2000) samples.push({ step, ...heap.stats() });
  },
});
const report: HeapChildReport = { base, dropped, samples, spilled: backend.memoryStats().spilledArrays ?? -1, loss };
process.stdout.write(JSON.stringify(report));
