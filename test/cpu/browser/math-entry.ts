// Browser entry of the exp/log bit-identity check: bundled by esbuild and run in headless Chromium; returns the CPU backend's exp and log outputs (float32 and float64) as base64 bytes.
import { unaryKernel } from '../../../src/backend/cpu/elementwise.js';
import { expInputs, logInputs, toBase64 } from '../math-cases.js';

export interface MathBrowserRun {
  /** Keyed "exp f64", "log f32", ...: the output bytes as base64. */
  outputs: Record<string, string>;
  /** Keyed "exp", "log": the float64 input bytes as drawn in the browser (they must match Node's for the comparison to mean anything). */
  inputs: Record<string, string>;
}

function run(): MathBrowserRun {
  const outputs: Record<string, string> = {};
  const inputs: Record<string, string> = {};
  for (const [op, xs] of [['exp', expInputs()], ['log', logInputs()]] as const) {
    inputs[op] = toBase64(xs);
    const out64 = new Float64Array(xs.length);
    unaryKernel(op, xs, out64);
    outputs[`${op} f64`] = toBase64(out64);
    const x32 = Float32Array.from(xs);
    const out32 = new Float32Array(xs.length);
    unaryKernel(op, x32, out32);
    outputs[`${op} f32`] = toBase64(out32);
  }
  return { outputs, inputs };
}

(globalThis as unknown as { imlRunMath: () => MathBrowserRun }).imlRunMath = run;
