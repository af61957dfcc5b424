// Run-folder tests: summary.md, tables/*.csv, plots/*.svg and report.html are written (atomically) next to the trainer's files; config.json only on request.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { writeRunFolder } from '../../src/node/report-folder.js';
import { TEMP_FILE_PATTERN, writeFileAtomic } from '../../src/node/write-atomic.js';
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
      config, writeConfig: true, results, title: 'MNIST comparison', generatedAt: new Date('2026-02-03T04:05:06Z'),
      extraColumns: [{ name: 'Peak memory', values: results.map((r) => 100 + r.seed), digits: 0, unit: ' MiB' }],
      extraTables: [{ title: 'Notes', headers: ['Key', 'Value'], rows: [['device', 'cpu']] }],
      extraPlots: [{ name: 'custom plot/1', title: 'Custom', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect id="r" width="5" height="5"/></svg>' }],
    });
    expect(report).toBe(join(dir, 'report.html'));
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(config);

    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(summary.startsWith('# MNIST comparison\n')).toBe(true);
    expect(summary).toContain('| Name | n seeds | Train max | Val max | Test | ES Test | Convergence epoch | Diverged |');
    expect(summary).toContain('| Neumann | 2 | 98.50±0.50% | 96.00±1.00% | 95.00±1.00% | 96.00±0.50% | 12.0±2.0 | 0/2 |');
    expect(summary).toContain('| CG | 2 | 91.00±1.00% | 91.00±1.00% | 91.00±1.00% | 91.00±1.00% | 5.5±0.5 | 1/3 |');
    expect(summary).toContain('| Baseline | 1 | 97.00% | 96.00% | 95.50% | 95.00% | 20.0 | 0/1 |');
    expect(summary).toContain('| Name | n seeds | Epoch time | Approximation time | Share of epoch | Convergence epoch |');
    expect(summary).toContain('| Name | n seeds | Peak memory |');
    expect(summary).toContain('| Neumann | 2 | 102±1 MiB |');
    expect(summary).toContain('the 1 diverged run(s) left out');
    expect(summary).toContain('## Notes');
    expect(summary).toContain('(plots/validation-loss.svg)');

    const plots = readdirSync(join(dir, 'plots')).sort();
    expect(plots).toEqual([
      'custom-plot-1.svg', 'hypergradNorm.svg', 'inverse-hvp-comparison.svg', 'meanDecay.svg', 'test-accuracy.svg', 'time-per-method.svg',
      'train-accuracy.svg', 'train-loss.svg', 'validation-accuracy.svg', 'validation-loss.svg',
    ]);
    expect(summary).toContain('- [Hypergradient norm](plots/hypergradNorm.svg)');

    // Every table as CSV, and every run's metrics.
    expect(readdirSync(join(dir, 'tables')).sort()).toEqual(['accuracy.csv', 'extra-measurements.csv', 'notes.csv', 'per-run.csv', 'runs', 'runs.csv', 'time-per-meta-epoch.csv']);
    const acc = readFileSync(join(dir, 'tables', 'accuracy.csv'), 'utf8').split('\r\n');
    expect(acc[0]).toBe('Name,n seeds,Train max,Val max,Test,ES Test,Convergence epoch,Diverged');
    expect(acc[2]).toBe('CG,2,91.00±1.00%,91.00±1.00%,91.00±1.00%,91.00±1.00%,5.5±0.5,1/3');
    expect(readFileSync(join(dir, 'tables', 'runs.csv'), 'utf8').split('\r\n')[2]).toBe('CG,3,"1, 2, 3",1/3,1,4.0±1.4');
    expect(readdirSync(join(dir, 'tables', 'runs')).sort()).toEqual([
      'baseline-seed-7.csv', 'cg-seed-1.csv', 'cg-seed-2.csv', 'cg-seed-3.csv', 'neumann-seed-1.csv', 'neumann-seed-2.csv',
    ]);
    const cg3 = readFileSync(join(dir, 'tables', 'runs', 'cg-seed-3.csv'), 'utf8').trimEnd().split('\r\n');
    expect(cg3.length).toBe(1 + 2);
    expect(cg3[2].split(',').map(Number)).toEqual([2, 100, 1 / 2.44, 0.44 + 0.02, 1.2 / 2.44, 0.44 + 0.016, 1.3 / 2.44, 0.44 + 0.014, 0.05, 0.69, 0.2, 0.02, 10]);
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
    expect(all.filter((f) => TEMP_FILE_PATTERN.test(f))).toEqual([]);
  });

  it('omits the comparison plot without comparisons and overwrites an earlier report', async () => {
    const dir = tmp();
    const results = [run('A', 1, { test: 0.5 }, metricsFor(2, 0.5)), run('B', 1, { test: 0.6 }, metricsFor(2, 0.6))];
    await writeRunFolder(dir, { config: { v: 1 }, writeConfig: true, results, curves: ['validation.loss'], hyperCurves: [] });
    await writeRunFolder(dir, { config: { v: 2 }, writeConfig: true, results, curves: ['validation.loss'], hyperCurves: [] });
    expect(readdirSync(join(dir, 'plots')).sort()).toEqual(['time-per-method.svg', 'validation-loss.svg']);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual({ v: 2 });
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
  });

  it('does not write config.json unless asked: an existing one stays byte-identical, and the report still shows the config', async () => {
    const dir = tmp();
    const recorded = '{\n  "recipe": "compare",\n  "provenance": { "gitCommit": "abc123" }\n}\n';
    writeFileSync(join(dir, 'config.json'), recorded);
    const config = { recipe: 'compare', provenance: { gitCommit: 'abc123', packageVersion: '1.2.3' } };
    await writeRunFolder(dir, { config, results: [run('A', 1, { test: 0.5 })], curves: [] });
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(recorded);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2 id="provenance">Provenance</h2>');
    expect(html).toContain('<code>1.2.3</code>');
    expect(html).toContain('&quot;recipe&quot;: &quot;compare&quot;');
    const fresh = tmp();
    await writeRunFolder(fresh, { config, results: [run('A', 1, { test: 0.5 })], curves: [] });
    expect(existsSync(join(fresh, 'config.json'))).toBe(false);
  });

  it('refuses an invalid summary before writing anything, naming the run and the field', async () => {
    const dir = tmp();
    await expect(writeRunFolder(dir, { config: {}, results: [run('A', 1, { test: 0.5 }), run('B', 3, { validationMax: 1.2 })] }))
      .rejects.toThrow("run 'B' seed 3: summary field 'validationMax' is 1.2: is outside [0, 1]");
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps <script> in a method name out of summary.md and report.html as markup', async () => {
    const dir = tmp();
    const evil = '<script>alert(1)</script>';
    await writeRunFolder(dir, { config: { provenance: { command: ['iml', evil] } }, title: `T ${evil}`, results: [run(evil, 1, { test: 0.5 }), run('ok', 1, { test: 0.6 })] });
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(summary).not.toContain('<script');
    expect(html).not.toContain('<script');
    expect(summary).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<code>iml &lt;script&gt;alert(1)&lt;/script&gt;</code>');
    for (const p of readdirSync(join(dir, 'plots'))) expect(readFileSync(join(dir, 'plots', p), 'utf8')).not.toContain('<script');
  });

  it('draws the hyperparameter curves only for methods that learn hyperparameters', async () => {
    const dir = tmp();
    const zero = metricsFor(3, 0.5).map((m) => ({ ...m, hypergradNorm: 0, meanDecay: 0 }));
    await writeRunFolder(dir, { config: {}, curves: [], results: [run('Baseline', 1, { test: 0.5 }, zero), run('IFT', 1, { test: 0.6 })] });
    const svg = readFileSync(join(dir, 'plots', 'meanDecay.svg'), 'utf8');
    expect(svg).toContain('>IFT<');
    expect(svg).not.toContain('>Baseline<');
    const onlyBaseline = tmp();
    await writeRunFolder(onlyBaseline, { config: {}, curves: [], results: [run('Baseline', 1, { test: 0.5 }, zero)] });
    expect(readdirSync(join(onlyBaseline, 'plots'))).toEqual(['time-per-method.svg']);
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
