// Browser entry of the augmentation checks: bundled by esbuild and run in headless Chromium; returns every case's output as base64 float32.
import { augmentCases, f32ToBase64 } from '../cases.js';

export interface AugmentBrowserRun {
  results: { name: string; output: string; error?: string }[];
}

function run(): AugmentBrowserRun {
  return {
    results: augmentCases().map((c) => {
      try {
        return { name: c.name, output: f32ToBase64(c.run()) };
      } catch (e) {
        return { name: c.name, output: '', error: String((e as Error).message ?? e) };
      }
    }),
  };
}

(globalThis as unknown as { imlRunAugment: () => AugmentBrowserRun }).imlRunAugment = run;
