// Runs an example of examples/ (built by scripts/example.mjs: 'iml-engine' mapped to src/) in a child Node and returns its output.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildExample } from '../../scripts/example.mjs';
import { ROOT } from '../cli/cli-harness.js';

/** Runs examples/<name>.ts with `args` and returns its stdout. */
export async function runExampleOutput(name: string, args: string[] = []): Promise<string> {
  const outfile = await buildExample(name, join(ROOT, 'node_modules', '.cache', 'iml-examples', String(process.pid)));
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
