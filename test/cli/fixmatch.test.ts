// `iml fixmatch` and `iml augment-preview` end to end in child processes: run folder files, refusal to overwrite, a run killed after its first checkpoint and resumed matches the uninterrupted run bit for bit.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TIMING_FIELDS } from '../../src/ssl/fixmatch-metrics.js';
import { loadCheckpoint } from '../../src/node/checkpoint-file.js';
import { runCli, startCli } from './cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'iml-fixmatch-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARGS = ['fixmatch', '--dataset', 'mnist', '--labels', '1', '--seeds', '0', '--batch-size', '4', '--mu', '1', '--tau', '0.3',
  '--eval-every', '2', '--checkpoint-every', '2', '--eval-limit', '40', '--no-progress'];

const metricsOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => {
  const m = JSON.parse(l) as Record<string, unknown>;
  for (const k of TIMING_FIELDS) delete m[k];
  return m;
});

describe('iml fixmatch', () => {
  it('writes config, per-run metrics and checkpoints, summary, plots and report; refuses to overwrite without --resume/--force', async () => {
    const out = join(dir, 'a');
    const r = await runCli([...ARGS, '--steps', '4', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    for (const run of ['fixmatch-L1-seed0', 'supervised-L1-seed0']) {
      expect(metricsOf(join(out, 'runs', run, 'metrics.jsonl')).map((m) => m.step)).toEqual([2, 4]);
      expect((await loadCheckpoint(join(out, 'runs', run, 'checkpoint.json'))).step).toBe(4);
    }
    expect(readdirSync(join(out, 'plots')).sort()).toEqual(['lr.svg', 'maskRate.svg', 'pseudoAccuracy.svg', 'supervisedLoss.svg', 'testAccuracy.svg', 'unsupervisedLoss.svg']);
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| 1 \| fixmatch \|/);
    expect(summary).toMatch(/\| 1 \| supervised \|/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<svg/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.protocol.config.steps).toBe(4);
    expect(config.protocol.config.flip).toBe(false);
    const again = await runCli([...ARGS, '--steps', '4', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds runs: pass --resume to continue them or --force to delete them/);
    const other = await runCli([...ARGS, '--steps', '6', '--out', out, '--resume']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/started with another protocol/);
  }, 120_000);

  it('killed after its first checkpoint and resumed: the same metrics and weights as an uninterrupted run', async () => {
    const full = join(dir, 'full');
    const r = await runCli([...ARGS, '--steps', '8', '--methods', 'fixmatch', '--out', full]);
    expect(r.code, r.stderr).toBe(0);
    const killed = join(dir, 'killed');
    const run = join(killed, 'runs', 'fixmatch-L1-seed0');
    const { child, done } = await startCli([...ARGS, '--steps', '8', '--methods', 'fixmatch', '--out', killed]);
    const t0 = Date.now();
    while (!existsSync(join(run, 'checkpoint.json')) && Date.now() - t0 < 60_000) await new Promise((res) => setTimeout(res, 20));
    child.kill('SIGKILL');
    const k = await done;
    expect(k.signal).toBe('SIGKILL');
    const resumed = await runCli([...ARGS, '--steps', '8', '--methods', 'fixmatch', '--out', killed, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/took over|stale|lock/i);
    expect(metricsOf(join(run, 'metrics.jsonl'))).toEqual(metricsOf(join(full, 'runs', 'fixmatch-L1-seed0', 'metrics.jsonl')));
    const a = await loadCheckpoint(join(run, 'checkpoint.json'));
    const b = await loadCheckpoint(join(full, 'runs', 'fixmatch-L1-seed0', 'checkpoint.json'));
    expect(Object.keys(a.params).sort()).toEqual(Object.keys(b.params).sort());
    for (const key of Object.keys(a.params)) expect(Array.from(a.params[key].dataSync()), key).toEqual(Array.from(b.params[key].dataSync()));
    expect(a.optimizer).toEqual(b.optimizer);
  }, 180_000);
});

describe('iml augment-preview', () => {
  it('writes a PNG grid and an SVG; refuses other extensions', async () => {
    const png = join(dir, 'p.png');
    const r = await runCli(['augment-preview', '--dataset', 'mnist', '--count', '2', '--out', png]);
    expect(r.code, r.stderr).toBe(0);
    expect(Array.from(readFileSync(png).subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(r.stdout).toMatch(/flip off/);
    const svg = join(dir, 'p.svg');
    expect((await runCli(['augment-preview', '--dataset', 'mnist', '--count', '1', '--out', svg])).code).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*data:image\/png;base64,[\s\S]*<title>/);
    const bad = await runCli(['augment-preview', '--out', join(dir, 'p.jpg')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/must end in \.png or \.svg/);
  }, 60_000);
});
