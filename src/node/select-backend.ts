// Chooses where tensors live for a Node command or worker: the CPU backend, or WebGPU through Dawn (IML_WEBGPU_POWER picks the adapter).

import { CpuBackend } from '../backend/cpu/cpu-backend.js';
import { setBackend } from '../backend/registry.js';
import { getGemmInfo, setGemmThreads } from '../backend/cpu/wasm-gemm.js';
import { applyRelaxedSimdSetting } from './relaxed-simd.js';
import { createNodeWebGpuBackend, nodeWebGpuUnavailable } from './webgpu.js';

/**
 * What --backend accepts: the CPU backend (tensors in the Wasm heap, kernels in Wasm SIMD), its plain-array reference
 * with JS kernels (cpu-js: the same bits, slower), cpu-heap (the former name of the default, kept for scripts), or WebGPU.
 */
export const BACKEND_KINDS = ['cpu', 'cpu-js', 'cpu-heap', 'webgpu'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/**
 * Threads for the CPU backend's products, convolutions and large elementwise passes from IML_CPU_THREADS (default 1).
 * The results are the same bits on any count (each product and conv output element keeps its 1-thread summation
 * order; elementwise passes split into contiguous shares).
 */
export function cpuThreadsFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = env.IML_CPU_THREADS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`IML_CPU_THREADS must be an integer from 1 to 8, got '${raw}'`);
  return n;
}

/** ', fused multiply-add in the GEMM' when the GEMM runs its relaxed-SIMD build, for the backend's label. */
const fmaLabel = (): string => (getGemmInfo().relaxedSimd ? ', fused multiply-add in the GEMM' : '');

/** Makes the chosen backend the default for models, λ and batches; returns its label for logs and provenance. */
export async function selectBackend(kind: BackendKind): Promise<string> {
  if (kind === 'cpu' || kind === 'cpu-heap') {
    const be = new CpuBackend();
    setBackend(be);
    await applyRelaxedSimdSetting();
    const threads = await setGemmThreads(cpuThreadsFromEnv());
    const on = threads > 1 ? `, products, convolutions and large elementwise passes on ${threads} threads` : '';
    const fma = fmaLabel();
    return be.heap() !== null ? `cpu (tensors in the Wasm heap, SIMD kernels on pointers${on}${fma})` : `cpu (plain arrays: no shared Wasm memory here${fma})`;
  }
  if (kind === 'cpu-js') {
    setBackend(new CpuBackend({ heap: false }));
    await applyRelaxedSimdSetting();
    return `cpu-js (plain arrays, JS kernels: the reference backend${fmaLabel()})`;
  }
  const reason = await nodeWebGpuUnavailable();
  if (reason !== null) throw new Error(`--backend webgpu: ${reason}`);
  const power = process.env.IML_WEBGPU_POWER as GPUPowerPreference | undefined;
  const be = await createNodeWebGpuBackend(power ? { powerPreference: power } : {});
  setBackend(be);
  return `webgpu (${be.adapterName})`;
}
