// Markdown table tests: generic table structure and escaping (pipes, HTML), thesis table 4.1/4.2 and 4.5 shapes, diverged and single-seed rows.

import { describe, expect, it } from 'vitest';
import { aggregateByMethod } from '../../src/report/aggregate.js';
import {
  accuracyTable, escapeMarkdown, extraTable, markdownDocument, markdownTable, perRunTable, runStatusTable, tableToMarkdown, timeTable,
} from '../../src/report/markdown.js';
import { metricsFor, run, sampleResults } from './fixtures.js';

const lines = (md: string): string[] => md.trimEnd().split('\n');

describe('markdownTable', () => {
  it('writes a header, an alignment rule and one line per row', () => {
    const md = markdownTable(['Name', 'Value'], [['a', '1'], ['b']]);
    expect(lines(md)).toEqual(['| Name | Value |', '| --- | ---: |', '| a | 1 |', '| b |  |']);
  });

  it('escapes pipes and newlines and honours alignment', () => {
    const md = markdownTable(['x', 'y', 'z'], [['a|b', 'c\nd', 'e']], ['center', 'left', 'right']);
    expect(lines(md)).toEqual(['| x | y | z |', '| :---: | --- | ---: |', '| a\\|b | c d | e |']);
  });

  it('rejects rows wider than the header', () => {
    expect(() => markdownTable(['a'], [['1', '2']])).toThrow(/2 cells for 1 columns/);
  });
});

describe('thesis tables', () => {
  const aggs = aggregateByMethod(sampleResults());

  it('table 4.1/4.2: Name | n seeds | Train max | Val max | Test | ES Test | Convergence epoch | Diverged', () => {
    const md = lines(tableToMarkdown(accuracyTable(aggs)));
    expect(md[0]).toBe('| Name | n seeds | Train max | Val max | Test | ES Test | Convergence epoch | Diverged |');
    expect(md[1]).toBe('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    expect(md[2]).toBe('| Neumann | 2 | 98.50±0.50% | 96.00±1.00% | 95.00±1.00% | 96.00±0.50% | 12.0±2.0 | 0/2 |');
    // CG seed 3 diverged: means over seeds 1 and 2 (0.90, 0.92; best epochs 5, 6), counted under Diverged.
    expect(md[3]).toBe('| CG | 2 | 91.00±1.00% | 91.00±1.00% | 91.00±1.00% | 91.00±1.00% | 5.5±0.5 | 1/3 |');
    // One seed: no ± 0.00.
    expect(md[4]).toBe('| Baseline | 1 | 97.00% | 96.00% | 95.50% | 95.00% | 20.0 | 0/1 |');
    expect(md.length).toBe(5);
  });

  it('all-diverged methods show "—", not 0.00%', () => {
    const d = { metaEpoch: 1, step: 3, what: 'NaN' };
    const md = lines(tableToMarkdown(accuracyTable(aggregateByMethod([run('X', 1, { diverged: d }), run('X', 2, { diverged: d })]))));
    expect(md[2]).toBe('| X | 0 | — | — | — | — | — | 2/2 |');
  });

  it('table 4.5: Name | n seeds | Epoch time | Approximation time | share of epoch | Convergence epoch', () => {
    const md = lines(tableToMarkdown(timeTable(aggs)));
    expect(md[0]).toBe('| Name | n seeds | Epoch time | Approximation time | Share of epoch | Convergence epoch |');
    expect(md[2]).toBe('| Neumann | 2 | 185.00±5.00 ms | 25.00±5.00 ms | 13.45±2.34% | 12.0±2.0 |');
    expect(md[3]).toBe('| CG | 2 | 300.00±0.00 ms | 100.00±0.00 ms | 33.33±0.00% | 5.5±0.5 |');
    expect(md[4]).toBe('| Baseline | 1 | 100.00 ms | 0.00 ms | 0.00% | 20.0 |');
  });

  it('run status, per-run and extra tables', () => {
    const status = lines(tableToMarkdown(runStatusTable(aggs)));
    expect(status[0]).toBe('| Name | Runs | Seeds | Diverged | Early stopped | Meta-epochs run |');
    expect(status[3]).toBe('| CG | 3 | 1, 2, 3 | 1/3 | 1 | 4.0±1.4 |');
    const perRun = perRunTable(sampleResults());
    expect(perRun.rows.length).toBe(6);
    expect(perRun.rows[4].at(-1)).toBe('diverged at meta-epoch 3, step 120: training loss is NaN');
    expect(perRun.rows[2].at(-1)).toBe('early stopped');
    // The whole table: left-aligned name and status, right-aligned numbers, percentages with two decimals, '—' for a
    // value that is not finite.
    const perRunMd = lines(tableToMarkdown(perRunTable([...sampleResults(), run('Odd', 4, { test: NaN, esTest: Infinity })])));
    expect(perRunMd[0]).toBe('| Name | Seed | Meta-epochs | Train max | Val max | Test | ES Test | Best epoch | Status |');
    expect(perRunMd[1]).toBe('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    expect(perRunMd[2]).toBe('| Neumann | 1 | 4 | 98.00% | 97.00% | 96.00% | 96.50% | 10 | completed |');
    expect(perRunMd[6]).toBe('| CG | 3 | 2 | 94.00% | 94.00% | 94.00% | 94.00% | 7 | diverged at meta-epoch 3, step 120: training loss is NaN |');
    expect(perRunMd[8]).toBe('| Odd | 4 | 3 | 0.00% | 0.00% | — | — | 0 | completed |');
    // A Neumann series whose terms grew (its note says 'diverging') in some meta-epochs is named after the status.
    const grew = metricsFor(4, 0.5).map((m) => (m.metaEpoch >= 2 && m.metaEpoch !== 3 ? { ...m, note: 'alpha 1, 3 terms; diverging: ...' } : m));
    expect(perRunTable([run('N', 0, {}, grew)]).rows[0]!.at(-1)).toBe('completed; Neumann terms grew in 2 meta-epochs (first 2)');
    expect(perRunTable([run('N', 0, { stoppedEarly: true }, grew.slice(0, 2))]).rows[0]!.at(-1)).toBe('early stopped; Neumann terms grew in 1 meta-epoch (first 2)');
    expect(extraTable(aggs)).toBeNull();
    const withExtra = aggregateByMethod(sampleResults(), { extraColumns: [{ name: 'Rel. error', values: () => 0.5, scale: 100, unit: '%' }] });
    expect(lines(tableToMarkdown(extraTable(withExtra)!))).toEqual([
      '| Name | n seeds | Rel. error |', '| --- | ---: | ---: |', '| Neumann | 2 | 50.00±0.00% |', '| CG | 2 | 50.00±0.00% |', '| Baseline | 1 | 50.00% |',
    ]);
  });

  it('markdownDocument puts each table under its heading', () => {
    const doc = markdownDocument('Exp', [accuracyTable(aggs), timeTable(aggs)], 'Intro.');
    expect(doc.startsWith('# Exp\n\nIntro.\n')).toBe(true);
    expect(doc).toContain('## Accuracy\n\n| Name | n seeds | Train max |');
    expect(doc).toContain('## Time per meta-epoch\n\n| Name | n seeds | Epoch time |');
  });

  it('escapes HTML and pipes in method names, titles and the intro', () => {
    const aggs2 = aggregateByMethod([run('<script>alert(1)</script>|x', 1, { test: 0.5 })]);
    const t = accuracyTable(aggs2, 'Acc <b>&</b>');
    const doc = markdownDocument('T <img src=x onerror=alert(1)>', [t], 'a <i>b</i>');
    expect(doc).not.toContain('<script>');
    expect(doc).not.toMatch(/<img|<b>|<i>/);
    expect(doc.split('\n')[0]).toBe('# T &lt;img src=x onerror=alert(1)&gt;');
    expect(doc).toContain('a &lt;i&gt;b&lt;/i&gt;');
    expect(doc).toContain('## Acc &lt;b&gt;&amp;&lt;/b&gt;');
    expect(doc).toContain('| &lt;script&gt;alert(1)&lt;/script&gt;\\|x | 1 | 0.00% | 0.00% | 50.00% | 0.00% | 0.0 | 0/1 |');
    expect(escapeMarkdown('a\\b|c\nd&')).toBe('a\\\\b\\|c d&amp;');
  });
});

describe('markdown edges (each killed a surviving mutant of src/report/markdown.ts)', () => {
  it('a table ends in one newline, refuses zero columns, and the run-status table aligns its text columns left', () => {
    const md = tableToMarkdown({ headers: ['a', 'b'], rows: [['1', '2']] });
    expect(md).toBe('| a | b |\n| --- | ---: |\n| 1 | 2 |\n');
    expect(() => markdownTable([], [])).toThrow('markdownTable: no columns');
    const status = lines(tableToMarkdown(runStatusTable(aggregateByMethod(sampleResults()))));
    expect(status[1]).toBe('| --- | ---: | --- | ---: | ---: | ---: |');
  });

  it('no methods: no extra table; a document trims its intro and numbers untitled tables', () => {
    expect(extraTable([])).toBeNull();
    const doc = markdownDocument('T', [{ headers: ['x'], rows: [['1']] }], '  Intro line.  \n');
    expect(doc).toBe('# T\n\nIntro line.\n\n## Table 1\n\n| x |\n| --- |\n| 1 |\n');
  });
});
