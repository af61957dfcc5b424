// Browser entry of the tensor-heap bit-identity check: bundled by esbuild and run in a cross-origin-isolated headless Chromium page; compiles the heap's kernel module asynchronously, forbids the relaxed-SIMD GEMM (Node 20 has none), and returns the heap kernels' outputs.
import { CpuBackend } from '../../../src/backend/cpu/cpu-backend.js';
import { setGemmRelaxedSimd } from '../../../src/backend/cpu/wasm-gemm.js';
import { initCpuHeap } from '../../../src/backend/cpu/wasm-heap.js';
import { heapOutputs, type HeapRun } from '../heap-cases.js';

async function run(): Promise<HeapRun & { isolated: boolean }> {
  await setGemmRelaxedSimd(false);
  await initCpuHeap();
  return { isolated: globalThis.crossOriginIsolated === true, ...heapOutputs(new CpuBackend({ heap: true })) };
}

(globalThis as unknown as { imlRunHeap: typeof run }).imlRunHeap = run;
