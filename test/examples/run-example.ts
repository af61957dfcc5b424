// Builds an example of examples/ with esbuild ('iml-engine' and 'iml-engine/node' mapped to src/, other packages external) and runs it in a child Node.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../cli/cli-harness.js';

const OUT = join(ROOT, 'node_modules', '.cache', 'iml-examples', String(process.pid));
const ENTRIES: Record<string, string> = { 'iml-engine': join(ROOT, 'src', 'index.ts'), 'iml-engine/node': join(ROOT, 'src', 'node', 'index.ts') };

/** Runs examples/<name>.ts with `args` and returns its stdout. */
export async function runExampleOutput(name: string, args: string[] = []): Promise<string> {
  const esbuild = await import('esbuild');
  mkdirSync(OUT, { recursive: true });
  const outfile = join(OUT, `${name}.mjs`);
  await esbuild.build({
    entryPoints: [join(ROOT, 'examples', `${name}.ts`)], bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', outfile, logLevel: 'silent',
    plugins: [{ name: 'iml-engine-from-src', setup: (b) => b.onResolve({ filter: /^iml-engine(\/node)?$/ }, (a) => ({ path: ENTRIES[a.path]! })) }],
  });
  const { stdout } = await promisify(execFile)(process.execPath, [outfile, ...args], { cwd: ROOT, maxBuffer: 1 << 24 });
  return stdout;
}

/** Runs examples/<name>.ts with `args` and returns its stdout and the value of its `RESULT <json>` line. */
export async function runExample<T>(name: string, args: string[] = []): Promise<{ stdout: string; result: T }> {
  const stdout = await runExampleOutput(name, args);
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`examples/${name}.ts printed no RESULT line:\n${stdout}`);
  return { stdout, result: JSON.parse(line.slice('RESULT '.length)) as T };
}
