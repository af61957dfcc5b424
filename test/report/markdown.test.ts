// Markdown table tests: generic table structure and escaping, thesis table 4.1/4.2 and 4.5 shapes.

import { describe, expect, it } from 'vitest';
import { aggregateByMethod } from '../../src/report/aggregate.js';
import {
  accuracyTable, extraTable, markdownDocument, markdownTable, perRunTable, runStatusTable, tableToMarkdown, timeTable,
} from '../../src/report/markdown.js';
import { sampleResults } from './fixtures.js';

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

  it('table 4.1/4.2: Name | Train max | Val max | Test | ES Test | Convergence epoch', () => {
    const md = lines(tableToMarkdown(accuracyTable(aggs)));
    expect(md[0]).toBe('| Name | Train max | Val max | Test | ES Test | Convergence epoch |');
    expect(md[1]).toBe('| --- | ---: | ---: | ---: | ---: | ---: |');
    expect(md[2]).toBe('| Neumann | 98.50±0.50% | 96.00±1.00% | 95.00±1.00% | 96.00±0.50% | 12.0±2.0 |');
    expect(md[3]).toBe('| CG | 92.00±1.63% | 92.00±1.63% | 92.00±1.63% | 92.00±1.63% | 6.0±0.8 |');
    expect(md[4]).toBe('| Baseline | 97.00±0.00% | 96.00±0.00% | 95.50±0.00% | 95.00±0.00% | 20.0±0.0 |');
    expect(md.length).toBe(5);
  });

  it('table 4.5: Name | Epoch time | Approximation time | share of epoch | Convergence epoch', () => {
    const md = lines(tableToMarkdown(timeTable(aggs)));
    expect(md[0]).toBe('| Name | Epoch time | Approximation time | Share of epoch | Convergence epoch |');
    expect(md[2]).toBe('| Neumann | 185.00±5.00 ms | 25.00±5.00 ms | 13.45±2.34% | 12.0±2.0 |');
    expect(md[3]).toBe('| CG | 300.00±0.00 ms | 100.00±0.00 ms | 33.33±0.00% | 6.0±0.8 |');
    expect(md[4]).toBe('| Baseline | 100.00±0.00 ms | 0.00±0.00 ms | 0.00±0.00% | 20.0±0.0 |');
  });

  it('run status, per-run and extra tables', () => {
    const status = lines(tableToMarkdown(runStatusTable(aggs)));
    expect(status[0]).toBe('| Name | Runs | Seeds | Diverged | Early stopped | Meta-epochs run |');
    expect(status[3]).toBe('| CG | 3 | 1, 2, 3 | 1 | 1 | 4.0±1.4 |');
    const perRun = perRunTable(sampleResults());
    expect(perRun.rows.length).toBe(6);
    expect(perRun.rows[4].at(-1)).toBe('diverged at meta-epoch 3, step 120: training loss is NaN');
    expect(perRun.rows[2].at(-1)).toBe('early stopped');
    expect(extraTable(aggs)).toBeNull();
    const withExtra = aggregateByMethod(sampleResults(), { extraColumns: [{ name: 'Rel. error', values: () => 0.5, scale: 100, unit: '%' }] });
    expect(lines(tableToMarkdown(extraTable(withExtra)!))).toEqual([
      '| Name | Rel. error |', '| --- | ---: |', '| Neumann | 50.00±0.00% |', '| CG | 50.00±0.00% |', '| Baseline | 50.00±0.00% |',
    ]);
  });

  it('markdownDocument puts each table under its heading', () => {
    const doc = markdownDocument('Exp', [accuracyTable(aggs), timeTable(aggs)], 'Intro.');
    expect(doc.startsWith('# Exp\n\nIntro.\n')).toBe(true);
    expect(doc).toContain('## Accuracy\n\n| Name | Train max |');
    expect(doc).toContain('## Time per meta-epoch\n\n| Name | Epoch time |');
  });
});
