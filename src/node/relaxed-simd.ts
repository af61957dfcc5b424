// Node only: lets Node 20 run the GEMM's relaxed-SIMD build (fused multiply-add), which Node 22+ and Chromium validate by default; must run before any Wasm module is compiled.

import { setFlagsFromString } from 'node:v8';
import { decodeBase64 } from '../util/base64.js';
import { gemmRelaxedWasmBase64 } from '../generated/gemm-relaxed.wasm.js';
import { setGemmRelaxedSimd } from '../backend/cpu/wasm-gemm.js';

/**
 * What IML_RELAXED_SIMD asks for: '1' or unset (default) lets the GEMM use fused multiply-add wherever the engine
 * can run it; '0' keeps the plain-SIMD build (bit-identical results on every engine and machine).
 */
export function relaxedSimdFromEnv(env: Record<string, string | undefined> = process.env): boolean {
  const raw = env.IML_RELAXED_SIMD;
  if (raw === undefined || raw === '' || raw === '1') return true;
  if (raw === '0') return false;
  throw new Error(`IML_RELAXED_SIMD must be 0 or 1, got '${raw}'`);
}

/**
 * Node 20 validates relaxed SIMD only behind --experimental-wasm-relaxed-simd: with IML_RELAXED_SIMD unset or 1 this
 * sets that V8 flag in the running process (call it before anything compiles Wasm). Fused multiply-add rounds once
 * where mul + add round twice, so products differ in the last bits from the plain build; the backend's label
 * says which build ran. Returns 'native' (the engine validates it already), 'enabled' (the flag was set), 'off'
 * (IML_RELAXED_SIMD=0) or 'unavailable'.
 */
export function enableRelaxedSimd(env: Record<string, string | undefined> = process.env): 'native' | 'enabled' | 'off' | 'unavailable' {
  if (!relaxedSimdFromEnv(env)) return 'off';
  const probe = decodeBase64(gemmRelaxedWasmBase64);
  if (WebAssembly.validate(probe)) return 'native';
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return 'unavailable';
  }
  return WebAssembly.validate(probe) ? 'enabled' : 'unavailable';
}

/** The GEMM build IML_RELAXED_SIMD asks for (0: plain SIMD even where the engine validates relaxed SIMD, as Node 22+ does). */
export async function applyRelaxedSimdSetting(env: Record<string, string | undefined> = process.env): Promise<void> {
  await setGemmRelaxedSimd(relaxedSimdFromEnv(env));
}
