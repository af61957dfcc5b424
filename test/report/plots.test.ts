// SVG plot tests: vega-lite renders headless in Node; the SVGs are valid XML with one line (or bar pair) per method.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { comparisonRows } from '../../src/report/aggregate.js';
import { cosineOverTrainingSvg, curvesSvg, renderVegaLite, timePerMethodSvg } from '../../src/report/plots.js';
import { metricsFor, run, sampleResults } from './fixtures.js';

/** Mark groups of a vega SVG: <g class="mark-TYPE role-mark ..."> ... </g> bodies (they hold no nested <g>). */
function markGroups(svg: string, type: string): string[] {
  return [...svg.matchAll(new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, 'gs'))].map((m) => m[1]);
}

function legendLabels(svg: string): string[] {
  const g = svg.match(/<g class="mark-text role-legend-label"[^>]*>(.*?)<\/g>/gs) ?? [];
  return g.flatMap((s) => [...s.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]));
}

function expectValidSvg(svg: string): void {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false }).parse(svg) as { svg?: Record<string, string> };
  expect(doc.svg).toBeDefined();
  expect(doc.svg!['@_xmlns']).toBe('http://www.w3.org/2000/svg');
}

describe('plots', () => {
  it('renderVegaLite renders a spec without a browser or canvas', async () => {
    const svg = await renderVegaLite({ data: { values: [{ a: 1, b: 2 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } });
    expectValidSvg(svg);
    expect(markGroups(svg, 'symbol').length).toBe(1);
  });

  it('curvesSvg draws one line per method with the methods in the legend', async () => {
    const results = sampleResults();
    const svg = await curvesSvg(results, 'validation.loss');
    expectValidSvg(svg);
    const lines = markGroups(svg, 'line');
    expect(lines.length).toBe(3);
    for (const body of lines) expect(body.match(/<path/g)?.length).toBe(1);
    expect(legendLabels(svg)).toEqual(['Neumann', 'CG', 'Baseline']);
    expect(svg).toContain('Validation loss');
    // ± std bands only for the methods with more than one seed at some epoch: one area per method (area marks group per series).
    expect(markGroups(svg, 'area').length).toBe(3);
  });

  it('curvesSvg without bands, for accuracy, with a single method', async () => {
    const svg = await curvesSvg([run('Only', 1, {}, metricsFor(4, 0.5))], 'train.accuracy', { showStd: false, title: 'T' });
    expectValidSvg(svg);
    expect(markGroups(svg, 'line').length).toBe(1);
    expect(markGroups(svg, 'area').length).toBe(0);
    expect(svg).toMatch(/>\d+(\.\d)?%</);
  });

  it('timePerMethodSvg draws an epoch-time and an approximation-time bar per method', async () => {
    const svg = await timePerMethodSvg(sampleResults());
    expectValidSvg(svg);
    const bars = markGroups(svg, 'rect');
    expect(bars.length).toBe(1);
    expect(bars[0].match(/<path/g)?.length).toBe(6);
    expect(legendLabels(svg)).toEqual(['Epoch time', 'Approximation time']);
    for (const m of ['Neumann', 'CG', 'Baseline']) expect(svg).toContain(`>${m}<`);
  });

  it('cosineOverTrainingSvg draws cosine and relative-error lines per method', async () => {
    const rows = comparisonRows(sampleResults());
    const svg = await cosineOverTrainingSvg(rows, { logRelError: true });
    expectValidSvg(svg);
    expect(markGroups(svg, 'line').length).toBe(2 * 2);
    expect(legendLabels(svg)).toEqual(['Neumann', 'CG']);
    expect(svg).toContain('Cosine similarity');
    expect(svg).toContain('Relative error');
  });
});
