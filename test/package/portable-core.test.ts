// The portable core stays portable: the root entry bundles for the browser with no plugins, and only src/node and src/cli use Node built-ins.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../cli/cli-harness.js';

const SRC = join(ROOT, 'src');
/** Folders whose code may use Node built-ins (and Node-only packages); everything else must run in a browser. */
const NODE_ONLY = ['node', 'cli'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** Every module specifier a file imports (static, dynamic with a string literal, and `typeof import(...)`). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  return out;
}

describe('portable core', () => {
  it('files outside src/node and src/cli import no Node built-in and no Node-only package', () => {
    const offenders: string[] = [];
    const nodeOnlyPackages = ['webgpu', 'mnist', 'commander', 'cli-progress'];
    for (const file of tsFiles(SRC)) {
      const rel = relative(SRC, file);
      if (NODE_ONLY.some((d) => rel.startsWith(`${d}/`))) continue;
      for (const s of specifiers(readFileSync(file, 'utf8'))) {
        const builtin = s.startsWith('node:') || ['fs', 'path', 'os', 'crypto', 'zlib', 'module', 'url', 'child_process', 'worker_threads'].includes(s);
        if (builtin || nodeOnlyPackages.includes(s) || /\/(node|cli)\//.test(s) || /^\.\.\/(node|cli)\//.test(s)) offenders.push(`${rel} imports '${s}'`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the self-test of the scan catches a node: import', () => {
    expect(specifiers(`import { x } from 'node:fs';\nconst y = await import('node:path');`)).toEqual(['node:fs', 'node:path']);
  });

  it('src/index.ts bundles for the browser (esbuild, no plugins) without Node modules, src/node or src/cli', async () => {
    const esbuild = await import('esbuild');
    const r = await esbuild.build({
      entryPoints: [join(SRC, 'index.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
      write: false, metafile: true, logLevel: 'silent',
    });
    expect(r.errors).toEqual([]);
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.filter((p) => p.startsWith('src/node/') || p.startsWith('src/cli/') || p.includes('node_modules'))).toEqual([]);
    const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(imports.filter((p) => p.startsWith('node:') || !p.startsWith('.'))).toEqual([]);
    // The only Node module named anywhere in the text: the CPU sgemm's thread pool, loaded through a variable
    // specifier (bundlers do not follow it) and only where process.versions.node exists, plus its worker's source string.
    const named = new Set([...r.outputFiles[0]!.text.matchAll(/["']node:([a-z_/]+)["']/g)].map((m) => m[1]));
    expect([...named]).toEqual(['worker_threads']);
  });
});
