// Runs the real `iml` command line in child processes: src/cli/main.ts bundled once with esbuild (inside the package, so it finds package.json), then `node bundle args`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE = join(ROOT, 'node_modules', '.cache', 'iml-cli-test', `main-${process.pid}.mjs`);
let built: Promise<string> | null = null;

/** Bundles the CLI (once per test process); packages stay external and resolve from node_modules. */
export function cliBundle(): Promise<string> {
  built ??= (async () => {
    mkdirSync(dirname(BUNDLE), { recursive: true });
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')], bundle: true, format: 'esm', platform: 'node', target: 'node20',
      packages: 'external', outfile: BUNDLE, logLevel: 'silent',
    });
    return BUNDLE;
  })();
  return built;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `iml ...args` (stdout is a pipe, not a terminal); `done` resolves when it exits. */
export async function startCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ child: ChildProcess; done: Promise<CliResult>; output: () => string }> {
  const bundle = await cliBundle();
  const child = spawn(process.execPath, [bundle, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, output: () => stdout + stderr };
}

export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return (await startCli(args, opts)).done;
}
