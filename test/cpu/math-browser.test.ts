// exp and log of the CPU backend give the same bits in headless Chromium (esbuild bundle via playwright-core) as in Node, float32 and float64, on ~80k inputs each (sweeps, random draws, specials); and so do all the tensor-heap kernels, in a cross-origin-isolated page (Wasm heap) and in a plain one (plain arrays, JS kernels).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unaryKernel } from '../../src/backend/cpu/elementwise.js';
import { browserSkipReason, openBrowserSession, type BrowserSession } from '../browser-bundle.js';
import { expInputs, fromBase64, logInputs } from './math-cases.js';
import type { MathBrowserRun } from './browser/math-entry.js';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { setGemmRelaxedSimd } from '../../src/backend/cpu/wasm-gemm.js';
import { heapOutputs, type HeapRun } from './heap-cases.js';

const reason = await browserSkipReason('the browser exp/log bit-identity run', 'math');

describe.skipIf(reason !== null)('exp and log in headless Chromium agree with Node bit for bit', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowserSession(join(import.meta.dirname, 'browser', 'math-entry.ts'), 'iml math checks', 'math');
  }, 60_000);

  afterAll(async () => {
    await session?.close();
  });

  it('exp and log, float32 and float64: every output byte matches', async () => {
    const page = await session.context.newPage();
    try {
      await page.goto(session.url);
      await page.waitForFunction(() => 'imlRunMath' in globalThis);
      const run = (await page.evaluate(() => (globalThis as unknown as { imlRunMath: () => unknown }).imlRunMath())) as MathBrowserRun;
      expect(Object.keys(run.outputs).sort()).toEqual(['exp f32', 'exp f64', 'log f32', 'log f64']);
      for (const [op, xs] of [['exp', expInputs()], ['log', logInputs()]] as const) {
        expect(fromBase64(run.inputs[op]!), `${op} inputs drawn in the browser`).toEqual(new Uint8Array(xs.buffer));
        const out64 = new Float64Array(xs.length);
        unaryKernel(op, xs, out64);
        const out32 = new Float32Array(xs.length);
        unaryKernel(op, Float32Array.from(xs), out32);
        for (const [key, node] of [[`${op} f64`, out64], [`${op} f32`, out32]] as const) {
          const got = fromBase64(run.outputs[key]!);
          const want = new Uint8Array(node.buffer);
          expect(got.length, key).toBe(want.length);
          const i = want.findIndex((b, j) => b !== got[j]);
          const el = Math.floor(i / node.BYTES_PER_ELEMENT);
          expect(i, i < 0 ? key : `${key}: first differing element ${el}, input ${xs[el]}, Node ${node[el]}`).toBe(-1);
        }
      }
    } finally {
      await page.close();
    }
  }, 120_000);
});

describe.skipIf(reason !== null)('the tensor-heap kernels in a cross-origin-isolated Chromium page agree with Node bit for bit', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowserSession(join(import.meta.dirname, 'browser', 'heap-entry.ts'), 'iml heap checks', 'math');
  }, 60_000);

  afterAll(async () => {
    await session?.close();
  });

  for (const isolated of [true, false]) {
    it(isolated
      ? 'elementwise, matmul, conv2d and pooling outputs: every byte matches, and Chromium computed them on heap tensors'
      : 'the same outputs in a page that is not cross-origin isolated, where Chromium keeps plain arrays and runs the JS kernels', async () => {
      const page = await session.context.newPage();
      try {
        await page.goto(isolated ? session.url : `${session.url}?plain`);
        await page.waitForFunction(() => 'imlRunHeap' in globalThis);
        const run = (await page.evaluate(() => (globalThis as unknown as { imlRunHeap: () => Promise<unknown> }).imlRunHeap())) as HeapRun & { isolated: boolean };
        expect(run.isolated).toBe(isolated);
        expect(run.inHeap).toBe(isolated);
        // The plain-SIMD GEMM on both sides (a Node that validates relaxed SIMD would otherwise fuse multiply-adds).
        await setGemmRelaxedSimd(false);
        const node = heapOutputs(new CpuBackend({ heap: true }));
        await setGemmRelaxedSimd(true);
        expect(node.inHeap).toBe(true);
        expect(Object.keys(run.outputs).sort()).toEqual(Object.keys(node.outputs).sort());
        expect(Object.keys(node.outputs).length).toBeGreaterThan(50);
        for (const [key, want] of Object.entries(node.outputs)) {
          const a = fromBase64(run.outputs[key]!), b = fromBase64(want);
          const i = b.findIndex((x, j) => x !== a[j]);
          expect(i, `${key}: first differing byte ${i}`).toBe(-1);
          expect(a.length, key).toBe(b.length);
        }
      } finally {
        await page.close();
      }
    }, 120_000);
  }
});
