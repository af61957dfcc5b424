// The `iml` startup's relaxed-SIMD setting: in a child Node started without flags, enableRelaxedSimd lets Node 20 run the fused-multiply-add GEMM (a dot product rounds once), the backend label says so, IML_RELAXED_SIMD=0 keeps the plain build, and bad values are refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relaxedSimdFromEnv } from '../../src/node/relaxed-simd.js';

interface Report { status: string; relaxedSimd: boolean; label: string; execArgv: string[]; dot: number }

describe('IML_RELAXED_SIMD and the fused-multiply-add GEMM of the iml command', () => {
  let dir = '';
  let file = '';
  const run = (env: Record<string, string>): Report => {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
    return JSON.parse(out) as Report;
  };

  beforeAll(async () => {
    const esbuild = await import('esbuild');
    dir = mkdtempSync(join(tmpdir(), 'iml-relaxed-setting-'));
    file = join(dir, 'child.mjs');
    await esbuild.build({
      entryPoints: [join(import.meta.dirname, 'relaxed-simd-setting-child.ts')],
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: file, logLevel: 'silent',
    });
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('default: the GEMM fuses multiply and add (2⁻¹¹ + 2⁻²⁴, not 2⁻¹¹), with no command-line flag, and the label says so', () => {
    const r = run({ IML_RELAXED_SIMD: '' });
    expect(r.execArgv).toEqual([]);
    // Node 20 needs the V8 flag, set at run time; later engines validate relaxed SIMD themselves.
    expect(['enabled', 'native']).toContain(r.status);
    if (process.versions.node.startsWith('20.')) expect(r.status).toBe('enabled');
    expect(r.relaxedSimd).toBe(true);
    expect(r.dot).toBe(2 ** -11 + 2 ** -24);
    expect(r.label).toBe('cpu (tensors in the Wasm heap, SIMD kernels on pointers, fused multiply-add in the GEMM)');
  });

  it('IML_RELAXED_SIMD=0: the plain-SIMD GEMM (mul then add round twice) and the plain label', () => {
    const r = run({ IML_RELAXED_SIMD: '0' });
    expect(r.status).toBe('off');
    expect(r.relaxedSimd).toBe(false);
    expect(r.dot).toBe(2 ** -11);
    expect(r.label).toBe('cpu (tensors in the Wasm heap, SIMD kernels on pointers)');
  });

  it('reads 0, 1 or nothing, and names a bad value', () => {
    expect(relaxedSimdFromEnv({})).toBe(true);
    expect(relaxedSimdFromEnv({ IML_RELAXED_SIMD: '1' })).toBe(true);
    expect(relaxedSimdFromEnv({ IML_RELAXED_SIMD: '0' })).toBe(false);
    expect(() => relaxedSimdFromEnv({ IML_RELAXED_SIMD: 'yes' })).toThrow(new Error("IML_RELAXED_SIMD must be 0 or 1, got 'yes'"));
  });
});
