// CPU kernels of the fused softplus and sigmoid primitives: one Wasm pass on heap arrays, else the composites' steps over a scratch array; the composites' bits either way.

import type { TypedArray } from '../../core/dtype.js';
import { unaryKernel } from './elementwise.js';
import { SIGMOID, SOFTPLUS, wasmSmooth } from './wasm-elementwise.js';

/** z = exp(−|x|) into a fresh array of x's type: the steps neg(where(x < 0, −x, x)) then exp, as the composites take them. */
function expNegAbs(x: TypedArray): TypedArray {
  const z = new (x.constructor as { new (n: number): TypedArray })(x.length);
  for (let i = 0; i < x.length; i++) z[i] = -(x[i] < 0 ? -x[i] : x[i]);
  unaryKernel('exp', z, z);
  return z;
}

/** out = (x ≥ 0 ? x : 0) + log(z + 1), z = e^{−|x|} (softplusComposite in src/ops/activations.ts). */
export function softplusKernel(x: TypedArray, out: TypedArray): void {
  if (out.length === 0 || wasmSmooth(SOFTPLUS, x, out)) return;
  const t = expNegAbs(x);
  for (let i = 0; i < t.length; i++) t[i] = t[i] + 1;
  unaryKernel('log', t, t);
  // The composite's where(x ≥ 0, x, 0) (x is already in its type; -∞ and NaN give +0 there), then one rounded add.
  for (let i = 0; i < out.length; i++) out[i] = (x[i] >= 0 ? x[i] : 0) + t[i];
}

/** out = [x ≥ 0] ? 1/(z + 1) : z/(z + 1), z = e^{−|x|} (sigmoidComposite), each step rounded to x's type. */
export function sigmoidKernel(x: TypedArray, out: TypedArray): void {
  if (out.length === 0 || wasmSmooth(SIGMOID, x, out)) return;
  const z = expNegAbs(x);
  const d = new (x.constructor as { new (n: number): TypedArray })(x.length);
  for (let i = 0; i < d.length; i++) d[i] = z[i] + 1;
  for (let i = 0; i < out.length; i++) out[i] = x[i] >= 0 ? 1 / d[i] : z[i] / d[i];
}
