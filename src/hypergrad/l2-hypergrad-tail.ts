// The per-parameter softplus-L2 hypergradient's tail d − (x ⊙ w) ⊙ dc as one Wasm pass over tensors in the CPU heap (the composite's bits).

import type { CpuBackend } from '../backend/cpu/cpu-backend.js';
import { wasmL2HypergradTail } from '../backend/cpu/wasm-elementwise.js';
import { shapesEqual } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { cpuData } from '../optim/cpu-storage.js';

/**
 * d − (x ⊙ w) ⊙ dc in one pass on the CPU heap (float32 or float64, all one shape); null where that does not apply
 * (another backend or shape here; arrays outside the heap or of another dtype in wasmL2HypergradTail).
 */
export function fusedTail(d: Tensor | null, x: Tensor, w: Tensor, dc: Tensor): Tensor | null {
  const all = d === null ? [x, w, dc] : [d, x, w, dc];
  if (all.some((t) => t.backend.name !== 'cpu' || !shapesEqual(t.shape, dc.shape))) return null;
  const be = dc.backend as CpuBackend;
  const out = be.allocUnzeroed(dc.size, dc.dtype);
  if (wasmL2HypergradTail(d === null ? null : cpuData(d), cpuData(x), cpuData(w), cpuData(dc), out.data)) {
    passes++;
    return new Tensor(be, out, dc.shape, dc.dtype);
  }
  be.free(out);
  return null;
}

/** Tails computed by the fused pass so far: which path ran, for tests (the composite gives the same values). */
let passes = 0;
export function fusedTailPasses(): number {
  return passes;
}
