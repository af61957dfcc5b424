// Chooses where tensors live for a Node command or worker: the CPU backend, or WebGPU through Dawn (IML_WEBGPU_POWER picks the adapter).

import { CpuBackend } from '../backend/cpu/cpu-backend.js';
import { setBackend } from '../backend/registry.js';
import { createNodeWebGpuBackend, nodeWebGpuUnavailable } from './webgpu.js';

/** Makes the chosen backend the default for models, λ and batches; returns its label for logs and provenance. */
/** What --backend accepts: the CPU backend, the CPU backend with its tensors in the Wasm heap (opt-in), or WebGPU. */
export const BACKEND_KINDS = ['cpu', 'cpu-heap', 'webgpu'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export async function selectBackend(kind: BackendKind): Promise<string> {
  if (kind === 'cpu') return 'cpu (JS + Wasm SIMD)';
  if (kind === 'cpu-heap') {
    setBackend(new CpuBackend({ heap: true }));
    return 'cpu-heap (tensors in the Wasm heap, SIMD kernels on pointers)';
  }
  const reason = await nodeWebGpuUnavailable();
  if (reason !== null) throw new Error(`--backend webgpu: ${reason}`);
  const power = process.env.IML_WEBGPU_POWER as GPUPowerPreference | undefined;
  const be = await createNodeWebGpuBackend(power ? { powerPreference: power } : {});
  setBackend(be);
  return `webgpu (${be.adapterName})`;
}
