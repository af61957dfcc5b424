// SVG plot tests: valid XML with one line per method; the drawn points map back to the metric means through the scales, one dash/shape per method, log axes where values span orders of magnitude.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { comparisonRows, type ComparisonRow } from '../../src/report/aggregate.js';
import {
  cosineOverTrainingSpec, cosineOverTrainingSvg, curvesSpec, curvesSvg, methodDashes, methodShapes, renderVegaLite, timePerMethodSvg, vegaView, wantsLogScale,
} from '../../src/report/plots.js';
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

/** Every mark of a vega scenegraph (depth first). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SceneMark = { marktype: string; role: string; name?: string; items: any[] };
function sceneMarks(root: SceneMark): SceneMark[] {
  const out: SceneMark[] = [];
  const visit = (m: SceneMark): void => {
    out.push(m);
    for (const item of m.items ?? []) for (const child of (item.items ?? []) as SceneMark[]) if (child && child.marktype) visit(child);
  };
  visit(root);
  return out;
}

/** Mean over seeds of validation loss per method and meta-epoch, computed with plain loops from the fixture metrics. */
function plainMeans(results: ReturnType<typeof sampleResults>, pick: (m: (typeof results)[number]['metrics'][number]) => number): Map<string, number> {
  const sums = new Map<string, { s: number; n: number }>();
  for (const r of results) {
    for (const m of r.metrics) {
      const key = `${r.method}@${m.metaEpoch}`;
      const e = sums.get(key) ?? { s: 0, n: 0 };
      e.s += pick(m);
      e.n += 1;
      sums.set(key, e);
    }
  }
  return new Map([...sums].map(([k, e]) => [k, e.s / e.n]));
}

describe('plotted values', () => {
  it('curves: the markers sit at the mean curves (y maps back through the scale), one dash and one shape per method', async () => {
    const results = sampleResults();
    const expected = plainMeans(results, (m) => m.validation.loss);
    const { spec, log } = curvesSpec(results, 'validation.loss');
    expect(log).toBe(false);
    const layers = (spec as { layer: { data: { values: { method: string; metaEpoch: number; mean: number }[] } }[] }).layer;
    const lineData = layers[1].data.values;
    expect(lineData.length).toBe(expected.size);
    for (const p of lineData) expect(p.mean).toBeCloseTo(expected.get(`${p.method}@${p.metaEpoch}`)!, 14);

    const view = await vegaView(spec);
    try {
      const marks = sceneMarks((view.scenegraph() as unknown as { root: SceneMark }).root);
      const symbols = marks.filter((m) => m.marktype === 'symbol' && m.role === 'mark').flatMap((m) => m.items);
      expect(symbols.length).toBe(expected.size);
      const y = view.scale('y') as unknown as { invert(v: number): number; type: string };
      const x = view.scale('x') as unknown as { invert(v: number): number };
      expect(y.type).toBe('linear');
      for (const s of symbols) {
        expect(y.invert(s.y)).toBeCloseTo(expected.get(`${s.datum.method}@${s.datum.metaEpoch}`)!, 10);
        expect(x.invert(s.x)).toBeCloseTo(s.datum.metaEpoch, 10);
      }
      const shapeOf = new Map<string, Set<string>>();
      for (const s of symbols) shapeOf.set(s.datum.method, (shapeOf.get(s.datum.method) ?? new Set()).add(s.shape));
      expect([...shapeOf.keys()]).toEqual(['Neumann', 'CG', 'Baseline']);
      for (const set of shapeOf.values()) expect(set.size).toBe(1);
      expect(new Set([...shapeOf.values()].map((v) => [...v][0])).size).toBe(3);
      const lines = marks.filter((m) => m.marktype === 'line' && m.role === 'mark');
      expect(lines.length).toBe(3);
      const dashes = lines.map((l) => `${l.items[0].datum.method}:${String(l.items[0].strokeDash)}`);
      expect(dashes).toEqual(['Neumann:1,0', 'CG:6,3', 'Baseline:2,2']);
      // The line vertices are the same means.
      for (const l of lines) for (const it of l.items) expect(y.invert(it.y)).toBeCloseTo(expected.get(`${it.datum.method}@${it.datum.metaEpoch}`)!, 10);
    } finally {
      view.finalize();
    }
    // And in the SVG: three dash patterns on the three line paths.
    const svg = await curvesSvg(results, 'validation.loss');
    const paths = markGroups(svg, 'line').map((g) => g.match(/stroke-dasharray="([^"]*)"/)?.[1]);
    expect(paths).toEqual(['1,0', '6,3', '2,2']);
    expect(markGroups(svg, 'symbol')[0].match(/<path/g)?.length).toBe(expected.size);
  });

  it('picks a log axis when positive values span more than 1e3, leaving non-positive ones out with a note', async () => {
    const spread = metricsFor(4, 0.5).map((m, i) => ({ ...m, hypergradNorm: [1, 1e-2, 1e-4, 1e-7][i] }));
    const withZero = metricsFor(4, 0.5).map((m, i) => ({ ...m, hypergradNorm: [1, 1e-2, 0, 1e-7][i] }));
    const a = curvesSpec([run('A', 1, {}, spread)], 'hypergradNorm');
    expect(a.log).toBe(true);
    expect(a.notes).toEqual([]);
    const b = curvesSpec([run('A', 1, {}, withZero)], 'hypergradNorm');
    expect(b.log).toBe(true);
    expect(b.notes).toEqual(['1 non-positive mean value left out of the log axis']);
    const view = await vegaView(b.spec);
    try {
      const y = view.scale('y') as unknown as { invert(v: number): number; type: string };
      expect(y.type).toBe('log');
      const symbols = sceneMarks((view.scenegraph() as unknown as { root: SceneMark }).root).filter((m) => m.marktype === 'symbol' && m.role === 'mark').flatMap((m) => m.items);
      expect(symbols.map((s) => s.datum.metaEpoch)).toEqual([1, 2, 4]);
      const got = symbols.map((s) => y.invert(s.y));
      [1, 1e-2, 1e-7].forEach((v, i) => expect(Math.abs(Math.log10(got[i]) - Math.log10(v))).toBeLessThan(1e-9));
    } finally {
      view.finalize();
    }
    expect(await curvesSvg([run('A', 1, {}, withZero)], 'hypergradNorm')).toContain('1 non-positive mean value left out of the log axis');
    // Accuracy (0.5 .. 0.53) and the learned decay (0.69) stay linear; the option can force either.
    expect(curvesSpec(sampleResults(), 'validation.accuracy').log).toBe(false);
    expect(curvesSpec([run('A', 1, {}, spread)], 'meanDecay').log).toBe(false);
    expect(curvesSpec([run('A', 1, {}, spread)], 'hypergradNorm', { logScale: false }).log).toBe(false);
    expect(curvesSpec(sampleResults(), 'validation.loss', { logScale: true }).log).toBe(true);
    expect(wantsLogScale([0, -1, 2, 2e3])).toBe(false);
    expect(wantsLogScale([0, -1, 2, 2001])).toBe(true);
  });

  it('relative error up to 2e14 goes on a log axis and the plotted means are the seeds means', async () => {
    const rows: ComparisonRow[] = [];
    const rel = (m: string, e: number, s: number): number => (m === 'Identity' ? 2e14 / e : 1e-3 * e) * (s + 1);
    for (const method of ['Identity', 'Neumann']) for (const seed of [0, 1]) for (const metaEpoch of [1, 2, 3]) {
      rows.push({ method, seed, metaEpoch, cosine: 0.5 + 0.1 * metaEpoch + 0.01 * seed, relError: rel(method, metaEpoch, seed) });
    }
    rows.push({ method: 'Neumann', seed: 2, metaEpoch: 3, cosine: 0.8, relError: 0 });
    const { spec, log, notes } = cosineOverTrainingSpec(rows);
    expect(log).toBe(true);
    expect(notes).toEqual(['1 non-positive relative-error value left out of the log axis']);
    const data = (spec as { data: { values: { method: string; metaEpoch: number; cosine: number; relError: number }[] } }).data.values;
    for (const d of data) {
      // Mean over seeds 0 and 1 (the zero of seed 2 is left out of the relative error, kept in the cosine).
      expect(d.relError / ((rel(d.method, d.metaEpoch, 0) + rel(d.method, d.metaEpoch, 1)) / 2)).toBeCloseTo(1, 14);
    }
    expect(data.find((d) => d.method === 'Neumann' && d.metaEpoch === 3)!.cosine).toBeCloseTo((0.8 + 0.81 + 0.8) / 3, 14);
    const view = await vegaView(spec);
    try {
      const names = ['concat_0_y', 'concat_1_y'];
      const scales = names.map((n) => view.scale(n) as unknown as { invert(v: number): number; type: string });
      expect(scales.map((s) => s.type)).toEqual(['linear', 'log']);
      const marks = sceneMarks((view.scenegraph() as unknown as { root: SceneMark }).root);
      const relSymbols = marks.filter((m) => m.marktype === 'symbol' && m.role === 'mark' && m.name?.startsWith('concat_1')).flatMap((m) => m.items);
      expect(relSymbols.length).toBe(6);
      for (const s of relSymbols) expect(scales[1].invert(s.y) / s.datum.relError).toBeCloseTo(1, 8);
      const shapes = new Map(relSymbols.map((s) => [s.datum.method, s.shape]));
      expect(shapes.get('Identity')).not.toBe(shapes.get('Neumann'));
    } finally {
      view.finalize();
    }
    // Linear when the errors span little; forced linear keeps the zero.
    expect(cosineOverTrainingSpec(rows.filter((r) => r.method === 'Neumann' && r.relError > 0)).log).toBe(false);
    expect(cosineOverTrainingSpec(rows, { logRelError: false }).notes).toEqual([]);
  });

  it('gives 64 methods 64 distinct (dash, shape) pairs', () => {
    const methods = Array.from({ length: 64 }, (_, i) => `m${i}`);
    const d = methodDashes(methods);
    const s = methodShapes(methods);
    expect(new Set(methods.map((_, i) => `${d[i].join(',')}/${s[i]}`)).size).toBe(64);
    expect(new Set(s.slice(0, 8)).size).toBe(8);
    expect(new Set(d.slice(0, 8).map((x) => x.join(','))).size).toBe(8);
  });
});
