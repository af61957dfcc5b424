// Run-folder tests: config.json, summary.md, plots/*.svg and report.html are written (atomically) next to the trainer's files.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeRunFolder } from '../../src/report/run-folder.js';
import { metricsFor, run, sampleResults } from './fixtures.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'iml-report-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('writeRunFolder', () => {
  it('writes config, summary, plots and the report, leaving the per-run files alone', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'Neumann', 'seed-1'), { recursive: true });
    writeFileSync(join(dir, 'Neumann', 'seed-1', 'metrics.jsonl'), '{"metaEpoch":1}\n');
    const config = { dataset: 'mnist', methods: ['Neumann', 'CG', 'Baseline'], seeds: [1, 2, 3], metaLr: 0.1 };
    const results = sampleResults();
    const report = await writeRunFolder(dir, {
      config, results, title: 'MNIST comparison', generatedAt: new Date('2026-02-03T04:05:06Z'),
      extraColumns: [{ name: 'Peak memory', values: results.map((r) => 100 + r.seed), digits: 0, unit: ' MiB' }],
      extraTables: [{ title: 'Notes', headers: ['Key', 'Value'], rows: [['device', 'cpu']] }],
      extraPlots: [{ name: 'custom plot/1', title: 'Custom', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect id="r" width="5" height="5"/></svg>' }],
    });
    expect(report).toBe(join(dir, 'report.html'));
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(config);

    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(summary.startsWith('# MNIST comparison\n')).toBe(true);
    expect(summary).toContain('| Name | Train max | Val max | Test | ES Test | Convergence epoch |');
    expect(summary).toContain('| Neumann | 98.50±0.50% | 96.00±1.00% | 95.00±1.00% | 96.00±0.50% | 12.0±2.0 |');
    expect(summary).toContain('| Name | Epoch time | Approximation time | Share of epoch | Convergence epoch |');
    expect(summary).toContain('| Name | Peak memory |');
    expect(summary).toContain('| Neumann | 102±1 MiB |');
    expect(summary).toContain('## Notes');
    expect(summary).toContain('(plots/validation-loss.svg)');

    const plots = readdirSync(join(dir, 'plots')).sort();
    expect(plots).toEqual([
      'custom-plot-1.svg', 'inverse-hvp-comparison.svg', 'test-accuracy.svg', 'time-per-method.svg', 'train-accuracy.svg',
      'train-loss.svg', 'validation-accuracy.svg', 'validation-loss.svg',
    ]);
    for (const p of plots) expect(XMLValidator.validate(readFileSync(join(dir, 'plots', p), 'utf8'))).toBe(true);

    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<title>MNIST comparison</title>');
    expect(html.match(/<svg[\s>]/g)?.length).toBe(plots.length);
    // accuracy, time, extra, run status, per run, notes
    expect(html.match(/<table>/g)?.length).toBe(6);
    expect(html).toContain('2026-02-03T04:05:06.000Z');
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);

    expect(readFileSync(join(dir, 'Neumann', 'seed-1', 'metrics.jsonl'), 'utf8')).toBe('{"metaEpoch":1}\n');
    const all = readdirSync(dir, { recursive: true }) as string[];
    expect(all.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('omits the comparison plot without comparisons and overwrites an earlier report', async () => {
    const dir = tmp();
    const results = [run('A', 1, { test: 0.5 }, metricsFor(2, 0.5)), run('B', 1, { test: 0.6 }, metricsFor(2, 0.6))];
    await writeRunFolder(dir, { config: { v: 1 }, results, curves: ['validation.loss'] });
    await writeRunFolder(dir, { config: { v: 2 }, results, curves: ['validation.loss'] });
    expect(readdirSync(join(dir, 'plots')).sort()).toEqual(['time-per-method.svg', 'validation-loss.svg']);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual({ v: 2 });
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
  });

  it('writeFileAtomic creates folders and leaves no temporary file', async () => {
    const dir = tmp();
    const file = join(dir, 'a', 'b', 'c.txt');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['c.txt']);
  });
});
