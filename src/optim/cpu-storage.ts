// Direct access to CPU tensor storage for the fused optimizer updates (no copies).

import type { CpuBuffer } from '../backend/cpu/cpu-backend.js';
import type { Tensor } from '../core/tensor.js';

/** Whether every tensor lives in CPU storage, where the fused updates apply. */
export function allOnCpu(...ts: Tensor[]): boolean {
  return ts.every((t) => t.backend.name === 'cpu');
}

/** The typed array behind a CPU tensor (shared, not copied). */
export function cpuData(t: Tensor): Float32Array | Float64Array {
  return (t.buffer as CpuBuffer).data;
}
