// The numbers the plots draw, read back out of their specs and rendered views: the ± std band, the log axis's filter, the markers of long runs, the axis titles, the time bars.

import { describe, expect, it } from 'vitest';
import type { ComparisonRow, CurveMetric, RunResult } from '../../src/report/aggregate.js';
import { cosineOverTrainingSpec, curvesSpec, timePerMethodSpec, vegaView, type TimeBar } from '../../src/report/plots.js';
import { metricsFor, run, sampleResults } from './fixtures.js';

type Point = { method: string; metaEpoch: number; mean: number; lo: number; hi: number; n: number };
const layerData = (spec: unknown, i: number): Point[] => (spec as { layer: { data: { values: Point[] } }[] }).layer[i].data.values;
const layerCount = (spec: unknown): number => (spec as { layer: unknown[] }).layer.length;

/** Mean and population standard deviation, written out. */
function plainStats(xs: number[]): { mean: number; std: number } {
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / xs.length;
  let v = 0;
  for (const x of xs) v += (x - mean) ** 2;
  return { mean, std: Math.sqrt(v / xs.length) };
}

/** The values of `pick` per method and meta-epoch over every seed. */
function byEpoch(results: readonly RunResult[], pick: (m: RunResult['metrics'][number]) => number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of results) {
    for (const m of r.metrics) {
      const key = `${r.method}@${m.metaEpoch}`;
      out.set(key, [...(out.get(key) ?? []), pick(m)]);
    }
  }
  return out;
}

describe('curve plots: the band', () => {
  it('spans mean - std to mean + std over the seeds at every meta-epoch, in the spec and in the rendered area', async () => {
    const results = sampleResults();
    const values = byEpoch(results, (m) => m.validation.loss);
    const { spec } = curvesSpec(results, 'validation.loss');
    expect(layerCount(spec)).toBe(3);
    const band = layerData(spec, 0);
    expect(band.length).toBe(values.size);
    for (const p of band) {
      const { mean, std } = plainStats(values.get(`${p.method}@${p.metaEpoch}`)!);
      expect(p.lo).toBeCloseTo(mean - std, 14);
      expect(p.hi).toBeCloseTo(mean + std, 14);
    }
    // Neumann's seeds differ at epoch 1: a band of non-zero width.
    const n1 = band.find((p) => p.method === 'Neumann' && p.metaEpoch === 1)!;
    expect(n1.hi - n1.lo).toBeGreaterThan(1e-3);
    const view = await vegaView(spec);
    try {
      const y = view.scale('y') as unknown as { invert(v: number): number };
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const root = (view.scenegraph() as any).root;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const areas: any[] = [];
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const visit = (m: any): void => {
        if (m.marktype === 'area' && m.role === 'mark') areas.push(...m.items.flatMap((g: { items?: unknown[] }) => g.items ?? [g]));
        for (const item of m.items ?? []) for (const child of item.items ?? []) if (child?.marktype) visit(child);
      };
      visit(root);
      const vertices = areas.filter((a) => a.datum !== undefined);
      expect(vertices.length).toBe(band.length);
      for (const v of vertices) {
        const { mean, std } = plainStats(values.get(`${v.datum.method}@${v.datum.metaEpoch}`)!);
        expect(y.invert(v.y)).toBeCloseTo(mean - std, 8);
        expect(y.invert(v.y2)).toBeCloseTo(mean + std, 8);
      }
    } finally {
      view.finalize();
    }
  });

  it('on a log axis leaves out band points whose lower edge is not positive, but keeps their mean on the line', () => {
    // Three seeds; at meta-epoch 2 one outlier puts mean - std below zero, elsewhere the band stays positive.
    const norms = [[1, 1e-3, 1e-5, 1e-7], [1.5, 1e-3, 2e-5, 1e-7], [2, 1, 3e-5, 2e-7]];
    const results = norms.map((ns, s) => run('A', s, {}, metricsFor(4, 0.5).map((m, i) => ({ ...m, hypergradNorm: ns[i] }))));
    const { spec, log, notes } = curvesSpec(results, 'hypergradNorm');
    expect(log).toBe(true);
    expect(notes).toEqual([]);
    const epoch2 = plainStats([1e-3, 1e-3, 1]);
    expect(epoch2.mean - epoch2.std).toBeLessThan(0);
    expect(layerData(spec, 0).map((p) => p.metaEpoch)).toEqual([1, 3, 4]);
    expect(layerData(spec, 1).map((p) => p.metaEpoch)).toEqual([1, 2, 3, 4]);
    for (const p of layerData(spec, 0)) expect(p.lo).toBeGreaterThan(0);
    // A linear axis keeps every band point.
    expect(layerData(curvesSpec(results, 'hypergradNorm', { logScale: false }).spec, 0).map((p) => p.metaEpoch)).toEqual([1, 2, 3, 4]);
    // showStd: false draws no band, nor does a single seed.
    expect(layerCount(curvesSpec(results, 'hypergradNorm', { showStd: false }).spec)).toBe(2);
    expect(layerCount(curvesSpec(results.slice(0, 1), 'hypergradNorm').spec)).toBe(2);
  });
});

describe('curve plots: markers of long runs', () => {
  const long = [run('A', 1, {}, metricsFor(100, 0.5)), run('B', 1, {}, metricsFor(50, 0.5))];
  const markers = (spec: unknown, method: string): number[] => layerData(spec, layerCount(spec) - 1).filter((p) => p.method === method).map((p) => p.metaEpoch);
  /** Every k-th meta-epoch from the first, and the last one. */
  const expected = (epochs: number, k: number): number[] => {
    const out: number[] = [];
    for (let e = 1; e <= epochs; e += k) out.push(e);
    if (out[out.length - 1] !== epochs) out.push(epochs);
    return out;
  };

  it('every meta-epoch up to 40, then about 25 per method, counted from each method\'s own first point, with its last', () => {
    const { spec } = curvesSpec(long, 'validation.loss');
    // The longest method has 100 meta-epochs: a marker every ceil(100 / 25) = 4.
    expect(markers(spec, 'A')).toEqual(expected(100, 4));
    expect(markers(spec, 'B')).toEqual(expected(50, 4));
    const short = curvesSpec([run('A', 1, {}, metricsFor(40, 0.5))], 'validation.loss').spec;
    expect(markers(short, 'A')).toEqual(expected(40, 1));
    // The line itself keeps every point.
    expect(layerData(spec, layerCount(spec) - 2).length).toBe(150);
  });

  it('pointEvery sets the spacing; B starts at row 100 of the data, so its markers follow its own first point', () => {
    const { spec } = curvesSpec(long, 'validation.loss', { pointEvery: 7 });
    expect(markers(spec, 'A')).toEqual(expected(100, 7));
    expect(markers(spec, 'B')).toEqual(expected(50, 7));
    expect(markers(spec, 'B')[0]).toBe(1);
  });
});

describe('curve plots: axes', () => {
  const titles: [CurveMetric, string][] = [
    ['train.loss', 'Training loss'], ['train.accuracy', 'Training accuracy'], ['validation.loss', 'Validation loss'],
    ['validation.accuracy', 'Validation accuracy'], ['test.loss', 'Test loss'], ['test.accuracy', 'Test accuracy'],
    ['hypergradNorm', 'Hypergradient norm'], ['meanDecay', 'Mean softplus(λ)'], ['epochSeconds', 'Meta-epoch time (s)'],
    ['approximationSeconds', 'Approximation time (s)'], ['hvps', 'Hessian-vector products'],
  ];
  it.each(titles)('%s: y axis "%s", percent ticks only for accuracies, the default title names the metric', (metric, title) => {
    const { spec } = curvesSpec(sampleResults(), metric, { logScale: false });
    const y = (spec as { layer: { encoding: { y: { title: string; axis: { format?: string } } } }[] }).layer[1].encoding.y;
    expect(y.title).toBe(title);
    expect(y.axis.format).toBe(metric.endsWith('.accuracy') ? '.1%' : undefined);
    expect((spec as { title: string }).title).toBe(`${title} (mean over seeds)`);
    const x = (spec as { layer: { encoding: { x: { title: string; axis: { format: string } } } }[] }).layer[1].encoding.x;
    expect(x.title).toBe('Meta-epoch');
    expect(x.axis.format).toBe('d');
  });
});

describe('time bars', () => {
  it('mean ± std of the epoch and approximation times in ms over the runs that did not diverge; zeros for a method whose runs all diverged', async () => {
    const results = [
      ...sampleResults(),
      run('Broken', 1, { meanEpochSeconds: 5, meanApproximationSeconds: 4, diverged: { metaEpoch: 1, step: 3, what: 'training loss is NaN' } }),
    ];
    const spec = timePerMethodSpec(results);
    const rows = (spec as { data: { values: TimeBar[] } }).data.values;
    const expectBar = (method: string, kind: TimeBar['kind'], secs: number[]): void => {
      const bar = rows.find((r) => r.method === method && r.kind === kind)!;
      const { mean, std } = plainStats(secs.map((s) => s * 1000));
      expect(bar.ms).toBeCloseTo(mean, 9);
      expect(bar.lo).toBeCloseTo(mean - std, 9);
      expect(bar.hi).toBeCloseTo(mean + std, 9);
    };
    expect(rows.map((r) => `${r.method}/${r.kind}`)).toEqual(['Neumann', 'CG', 'Baseline', 'Broken'].flatMap((m) => [`${m}/Epoch time`, `${m}/Approximation time`]));
    expectBar('Neumann', 'Epoch time', [0.18, 0.19]);
    expectBar('Neumann', 'Approximation time', [0.02, 0.03]);
    // CG's third seed diverged (its times are left out).
    expectBar('CG', 'Epoch time', [0.3, 0.3]);
    expectBar('CG', 'Approximation time', [0.1, 0.1]);
    expectBar('Baseline', 'Epoch time', [0.1]);
    for (const r of rows.filter((x) => x.method === 'Broken')) expect([r.ms, r.lo, r.hi]).toEqual([0, 0, 0]);
    // The rendered bars reach those means on the y scale.
    const view = await vegaView(spec);
    try {
      const y = view.scale('y') as unknown as { invert(v: number): number };
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const rects: any[] = [];
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const visit = (m: any): void => {
        if (m.marktype === 'rect' && m.role === 'mark') rects.push(...m.items);
        for (const item of m.items ?? []) for (const child of item.items ?? []) if (child?.marktype) visit(child);
      };
      visit((view.scenegraph() as unknown as { root: unknown }).root);
      expect(rects.length).toBe(rows.length);
      for (const r of rects) expect(y.invert(r.y)).toBeCloseTo(r.datum.ms, 6);
    } finally {
      view.finalize();
    }
  });
});

describe('comparison plot: notes and order', () => {
  it('counts non-finite and (on a log axis) non-positive relative errors in notes joined by "; ", and sorts by method then meta-epoch', () => {
    const rows: ComparisonRow[] = [];
    for (const metaEpoch of [3, 2, 1]) {
      for (const method of ['Neumann', 'CG']) rows.push({ method, seed: 0, metaEpoch, cosine: 0.9, relError: metaEpoch * (method === 'CG' ? 1e-6 : 10) });
    }
    rows.push({ method: 'Neumann', seed: 1, metaEpoch: 2, cosine: 0.8, relError: NaN });
    rows.push({ method: 'CG', seed: 1, metaEpoch: 1, cosine: 0.8, relError: Infinity });
    rows.push({ method: 'CG', seed: 2, metaEpoch: 1, cosine: 0.7, relError: 0 });
    const { spec, notes, log } = cosineOverTrainingSpec(rows);
    expect(log).toBe(true);
    expect(notes).toEqual(['1 non-positive relative-error value left out of the log axis', '2 non-finite relative errors left out']);
    expect((spec as { title: { subtitle: string } }).title.subtitle).toBe(notes.join('; '));
    const data = (spec as { data: { values: { method: string; metaEpoch: number; cosine: number; relError: number }[] } }).data.values;
    expect(data.map((d) => `${d.method}@${d.metaEpoch}`)).toEqual(['Neumann@1', 'Neumann@2', 'Neumann@3', 'CG@1', 'CG@2', 'CG@3']);
    // The cosines keep every seed; the relative errors only the finite, positive ones.
    expect(data[1]!.cosine).toBeCloseTo(0.85, 14);
    expect(data[1]!.relError).toBe(20);
    expect(data[3]!.cosine).toBeCloseTo(0.8, 14);
    expect(data[3]!.relError).toBe(1e-6);
    // One of each: the singular forms.
    const one = cosineOverTrainingSpec([...rows.slice(0, 6), { method: 'CG', seed: 1, metaEpoch: 1, cosine: 0.8, relError: NaN }]);
    expect(one.notes).toEqual(['1 non-finite relative error left out']);
  });

  it('default sizes and axes: curves 480x280 with a linear y axis not forced to zero, comparison panels 320x240, relative error from zero when linear', () => {
    const c = curvesSpec(sampleResults(), 'validation.loss').spec as { width: number; height: number; layer: { encoding: { y: { scale: object } } }[] };
    expect([c.width, c.height]).toEqual([480, 280]);
    expect(c.layer[1]!.encoding.y.scale).toEqual({ zero: false });
    const rows: ComparisonRow[] = [1, 2].map((metaEpoch) => ({ method: 'A', seed: 0, metaEpoch, cosine: 0.9, relError: 0.1 * metaEpoch }));
    const cmp = cosineOverTrainingSpec(rows).spec as { hconcat: { width: number; height: number; layer: { encoding: { y: { scale: object } } }[] }[] };
    expect(cmp.hconcat.map((p) => [p.width, p.height])).toEqual([[320, 240], [320, 240]]);
    expect(cmp.hconcat.map((p) => p.layer[0]!.encoding.y.scale)).toEqual([{ zero: false }, { zero: true }]);
  });
});

describe('time bars: labels', () => {
  it('tilts the method labels when more than 4 methods share the axis, and widens the plot 90 px per method', () => {
    const many = ['a', 'b', 'c', 'd', 'e'].map((m) => run(m, 0, { meanEpochSeconds: 0.1 }));
    const x = (spec: unknown) => (spec as { encoding: { x: { axis: { labelAngle: number } } } }).encoding.x.axis.labelAngle;
    const width = (spec: unknown) => (spec as { width: number }).width;
    expect(x(timePerMethodSpec(many))).toBe(-30);
    expect(x(timePerMethodSpec(many.slice(0, 4)))).toBe(0);
    expect(width(timePerMethodSpec(many))).toBe(450);
    expect(width(timePerMethodSpec(many.slice(0, 2)))).toBe(240);
  });
});

describe('log-axis notes', () => {
  it('a band point whose lower edge is exactly 0 is left out on a log axis; two left-out means read "values"', () => {
    // Seeds 0 and 2 at meta-epoch 1: mean 1, std 1, so mean - std is exactly 0.
    const norms = [[0, 1e-2, 1e-4, 1e-7], [2, 1e-2, 1e-4, 1e-7]];
    const results = norms.map((ns, s) => run('A', s, {}, metricsFor(4, 0.5).map((m, i) => ({ ...m, hypergradNorm: ns[i]! }))));
    const { spec, log } = curvesSpec(results, 'hypergradNorm');
    expect(log).toBe(true);
    expect(layerData(spec, 0).map((p) => p.metaEpoch)).toEqual([2, 3, 4]);
    const zeros = [run('A', 0, {}, metricsFor(4, 0.5).map((m, i) => ({ ...m, hypergradNorm: [1, 0, 0, 1e-7][i]! })))];
    expect(curvesSpec(zeros, 'hypergradNorm').notes).toEqual(['2 non-positive mean values left out of the log axis']);
  });
});
