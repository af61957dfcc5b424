// Browser entry of the linalg checks: bundled by esbuild and run in headless Chromium; instantiates the Wasm module asynchronously and runs every case.
import { initLinalg } from '../../../src/linalg/wasm.js';
import { f64ToBase64, linalgCases } from '../browser-cases.js';

export interface LinalgBrowserRun {
  results: { name: string; outputs: string[]; error?: string }[];
  error?: string;
}

async function run(): Promise<LinalgBrowserRun> {
  const out: LinalgBrowserRun = { results: [] };
  try {
    await initLinalg(); // Chromium refuses synchronous compiles of large modules on the main thread
    for (const c of linalgCases()) {
      try {
        out.results.push({ name: c.name, outputs: c.run().map(f64ToBase64) });
      } catch (e) {
        out.results.push({ name: c.name, outputs: [], error: String((e as Error).message ?? e) });
      }
    }
  } catch (e) {
    out.error = String((e as Error).message ?? e);
  }
  return out;
}

(globalThis as unknown as { imlRunLinalg: () => Promise<LinalgBrowserRun> }).imlRunLinalg = run;
