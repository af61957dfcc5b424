// `npm run example -- <name> [args]`: bundles examples/<name>.ts with 'iml-engine' and 'iml-engine/node' taken from src/ (no build needed) and runs it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRIES = { 'iml-engine': join(ROOT, 'src', 'index.ts'), 'iml-engine/node': join(ROOT, 'src', 'node', 'index.ts') };

/**
 * Bundles examples/<name>.ts for Node (other packages stay external, resolved from this checkout) and returns the file.
 * @param {string} name
 * @param {string} [outDir]
 * @returns {Promise<string>}
 */
export async function buildExample(name, outDir = join(ROOT, 'node_modules', '.cache', 'iml-examples')) {
  const entry = join(ROOT, 'examples', `${name}.ts`);
  if (!existsSync(entry)) throw new Error(`no example examples/${name}.ts`);
  const esbuild = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}.mjs`);
  await esbuild.build({
    entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'silent',
    plugins: [{ name: 'iml-engine-from-src', setup: (b) => b.onResolve({ filter: /^iml-engine(\/node)?$/ }, (a) => ({ path: ENTRIES[a.path] })) }],
  });
  return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [name, ...args] = process.argv.slice(2);
  if (!name) {
    console.error('usage: npm run example -- <name> [args]   (names: the files of examples/ without .ts)');
    process.exit(2);
  }
  const file = await buildExample(name);
  process.exit(spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' }).status ?? 1);
}
