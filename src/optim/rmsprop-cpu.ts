// Fused CPU RMSprop update (no momentum, not centred): one pass over typed arrays, the squared-gradient average updated in place.

import type { CpuBackend, CpuBuffer } from '../backend/cpu/cpu-backend.js';
import { Tensor } from '../core/tensor.js';
import { residentKernels, WASM_MIN_ELEMENTS } from '../backend/cpu/wasm-elementwise.js';
import { cpuData as data } from './cpu-storage.js';

/**
 * g = grad + p·wd;  v = v0·α + (g·(1 − α))·g;  p' = p + (g·(−lr)) / (√v + ε)
 * Each operation rounded to the parameter's type as the op-by-op rule's primitives round it (the scalars rounded to
 * it first), so the bits of src/optim/rmsprop.ts's composite: float32 in Math.fround steps on plain arrays, f32x4 in
 * Wasm on heap arrays. v0 belongs to the optimizer and is updated in place.
 */
export function fusedRmspropStep(
  param: Tensor, grad: Tensor, v0: Tensor | undefined, s: { alpha: number; eps: number; weightDecay: number; lr: number },
): { value: Tensor; squareAvg: Tensor } {
  const b = param.backend;
  const n = param.size;
  const make = (buf: CpuBuffer): Tensor => new Tensor(b, buf, param.shape, param.dtype);
  const out = (b as CpuBackend).allocUnzeroed(n, param.dtype); // the kernel writes every element
  const v = v0 ?? make(b.alloc(n, param.dtype) as CpuBuffer);
  const p = data(param);
  const g = data(grad);
  const V = data(v);
  const P = out.data;
  const { alpha, eps, weightDecay: wd } = s;
  const oneMinusAlpha = 1 - alpha;
  const negLr = -s.lr;
  // In the tensor heap: the same loop in Wasm SIMD (assembly/optim.ts), the same bits.
  const k = n >= WASM_MIN_ELEMENTS ? residentKernels([p, g, V, P]) : null;
  if (k !== null) {
    (P instanceof Float32Array ? k.rmspropF32 : k.rmspropF64)(p.byteOffset, g.byteOffset, V.byteOffset, P.byteOffset, n, wd !== 0 ? 1 : 0, wd, alpha, oneMinusAlpha, eps, negLr);
    return { value: make(out), squareAvg: v };
  }
  if (P instanceof Float32Array) {
    // Math.fround after every operation: the float32 primitive's rounding (a double holds the exact result of one
    // float32 operation, rounded once by fround).
    const f = Math.fround;
    const wdf = f(wd), af = f(alpha), omaf = f(oneMinusAlpha), epsf = f(eps), nlf = f(negLr);
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      const gi = wd !== 0 ? f(g[i] + f(pi * wdf)) : g[i];
      const vi = f(f(V[i] * af) + f(f(gi * omaf) * gi));
      V[i] = vi;
      P[i] = pi + f(f(gi * nlf) / f(f(Math.sqrt(vi)) + epsf));
    }
    return { value: make(out), squareAvg: v };
  }
  for (let i = 0; i < n; i++) {
    const pi = p[i];
    const gi = wd !== 0 ? g[i] + pi * wd : g[i];
    const vi = V[i] * alpha + gi * oneMinusAlpha * gi;
    V[i] = vi;
    P[i] = pi + (gi * negLr) / (Math.sqrt(vi) + eps);
  }
  return { value: make(out), squareAvg: v };
}
