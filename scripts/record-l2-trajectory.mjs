// `node scripts/record-l2-trajectory.mjs`: runs the current runIml on the cases of test/bilevel/l2-trajectory-cases.ts and writes test/fixtures/l2-trajectory.json (checked exactly by test/bilevel/l2-trajectory.test.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(ROOT, 'node_modules', '.cache', 'iml-record');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, 'l2-trajectory-cases.mjs');
const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: [join(ROOT, 'test', 'bilevel', 'l2-trajectory-cases.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20',
  packages: 'external', outfile, logLevel: 'silent',
});
const { recordL2Trajectory } = await import(pathToFileURL(outfile).href);
const record = { node: process.versions.node, cases: await recordL2Trajectory() };
const target = join(ROOT, 'test', 'fixtures', 'l2-trajectory.json');
writeFileSync(target, `${JSON.stringify(record, null, 1)}\n`);
console.log(`wrote ${target} (${record.cases.length} cases)`);
