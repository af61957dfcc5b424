// Child process of relaxed-simd-setting.test.ts: what `iml` does at startup (enableRelaxedSimd, then selectBackend), reported as JSON.
import { enableRelaxedSimd } from '../../src/node/relaxed-simd.js';

const status = enableRelaxedSimd();
const { getGemmInfo, initGemm, sgemm } = await import('../../src/backend/cpu/wasm-gemm.js');
const { selectBackend } = await import('../../src/node/select-backend.js');
await initGemm();
const label = await selectBackend('cpu');
// A dot product whose rounding tells fused from unfused: (-1)·1 + (1 + 2⁻¹²)², where (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ is
// not a float32: mul then add gives 2⁻¹¹, a fused multiply-add 2⁻¹¹ + 2⁻²⁴.
const e = 1 + 2 ** -12;
const dot = sgemm(Float32Array.of(-1, e), Float32Array.of(1, e), 1, 1, 2)[0];
console.log(JSON.stringify({ status, relaxedSimd: getGemmInfo().relaxedSimd, label, execArgv: process.execArgv, dot }));
