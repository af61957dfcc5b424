// Confidence Network report pieces on hand-made results (2 settings x 2 seeds): table strings, AUROC of the kept snapshot, plot data values, histogram counts, the picked images of fig. 5.2 and the HTML report, all against hand-computed numbers.

import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { createImageDataset } from '../../src/data/dataset.js';
import { encodePngRgb } from '../../src/node/png.js';
import { auroc } from '../../src/report/auroc.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { base64, pickWeightedImages, weightedImageGrid, weightedImageGridSvg } from '../../src/ssl/confidence-image-grid.js';
import {
  idOodWeightPoints, idOodWeightSpec, keptWeightHistograms, validationLossPoints, validationLossSpec, viewWeightPoints, weightHistogram, weightHistogramSpec,
} from '../../src/ssl/confidence-plots.js';
import { confidenceReportSections, findImageRun } from '../../src/ssl/confidence-report.js';
import type { ConfidenceSettingResult, PoolWeightSnapshot, WeightLearningRun } from '../../src/ssl/confidence-results.js';
import { confidenceAccuracyTable, confidenceWeightTable, keptWeightStats } from '../../src/ssl/confidence-tables.js';

const snap = (metaEpoch: number, original: number[], weak: number[] = original): PoolWeightSnapshot => ({ metaEpoch, step: metaEpoch * 10, original, weak });
const curve = (losses: number[]): WeightLearningRun['curve'] =>
  losses.map((validationLoss, i) => ({ metaEpoch: i + 1, step: (i + 1) * 10, validationLoss, testAccuracy: 0.5, meanWeight: 1 }));

const OOD = { kind: 'ood' as const, share: 0.5, label: 'ood-50' };
const NONE = { kind: 'none' as const, share: 0, label: 'none' };

// ood-50 seed 0, CN: kept learner at meta-epoch 2; ID weights 2.0, 1.5, 1.0; OOD 1.2, 0.5, 0.1.
const cn0: WeightLearningRun = {
  weighting: 'cn', method: 'IFT-Identity', sample: [10, 11, 12, 13, 14, 15], inDistribution: [1, 1, 1, 0, 0, 0], labels: [0, 1, 0, 3, 3, 7],
  curve: curve([0.9, 0.5, 0.6]), bestMetaEpoch: 2,
  snapshots: [snap(1, [1, 1, 1, 1, 1, 1]), snap(2, [2.0, 1.5, 1.0, 1.2, 0.5, 0.1], [2, 2, 0, 0, 1, 1]), snap(3, [3, 3, 3, 0, 0, 0])],
};
// ood-50 seed 1, CN: kept at meta-epoch 1 (all weights 1); meta-epoch 2 would separate differently.
const cn1: WeightLearningRun = {
  weighting: 'cn', method: 'IFT-Identity', sample: [20, 21, 22, 23], inDistribution: [1, 0, 1, 0], labels: [2, 5, 2, 5],
  curve: curve([0.7, 0.8]), bestMetaEpoch: 1,
  snapshots: [snap(1, [1, 1, 1, 1]), snap(2, [0.8, 0.9, 1.6, 0.4], [1, 3, 1, 3])],
};
// ood-50 seed 0, table: diverged (left out of means and plots, counted).
const table0: WeightLearningRun = {
  weighting: 'table', method: 'IFT-Identity', sample: [10, 11], inDistribution: [1, 0], labels: [0, 3],
  curve: curve([5]), bestMetaEpoch: 1, snapshots: [snap(1, [9, 0])], diverged: 'meta-epoch 2, step 20: non-finite L_V',
};
const noneRun = (original: number[]): WeightLearningRun => ({
  weighting: 'cn', method: 'IFT-Identity', sample: [0, 1, 2], inDistribution: [1, 1, 1], labels: [0, 1, 2],
  curve: curve([0.4]), bestMetaEpoch: 1, snapshots: [snap(1, original)],
});

const results: ConfidenceSettingResult[] = [
  { setting: OOD, seed: 0, labelsPerClass: 4, testAccuracy: { supervised: 0.7, fixmatch: 0.8, 'fixmatch+cn': 0.84, 'fixmatch+table': 0.82 }, weightLearning: [cn0, table0] },
  { setting: OOD, seed: 1, labelsPerClass: 4, testAccuracy: { supervised: 0.72, fixmatch: 0.9, 'fixmatch+cn': 0.88 }, weightLearning: [cn1] },
  { setting: NONE, seed: 0, labelsPerClass: 4, testAccuracy: { fixmatch: 0.9, 'fixmatch+cn': 0.91 }, weightLearning: [noneRun([1, 2, 3])] },
  { setting: NONE, seed: 1, labelsPerClass: 4, testAccuracy: { fixmatch: 0.9, 'fixmatch+cn': 0.93 }, weightLearning: [noneRun([2, 2, 2])] },
];

// Pool of 16 1x2x2 images, pixel k of image i = (4i + k)/64; labels of 10..15 as the run says.
const labels = new Uint8Array(16);
[0, 1, 0, 3, 3, 7].forEach((l, i) => (labels[10 + i] = l));
const pool = createImageDataset({
  images: Float32Array.from({ length: 64 }, (_, j) => j / 64), labels, count: 16, channels: 1, height: 2, width: 2, numClasses: 10, name: 'pool',
});

type Values<T> = { data: { values: T[] } };

describe('Confidence Network tables', () => {
  it('accuracy: mean ± population std over seeds per setting x method, paired difference to FixMatch, n/N runs', () => {
    const t = confidenceAccuracyTable(results);
    expect(t.headers).toEqual(['Setting', 'Labels/class', 'Method', 'Test acc.', 'Δ vs FixMatch', 'Runs']);
    expect(t.rows).toEqual([
      // supervised 0.70, 0.72 -> 71±1%; minus fixmatch (0.80, 0.90): -0.10, -0.18 -> -14±4 pp.
      ['ood-50', '4', 'supervised', '71.00±1.00%', '-14.00±4.00 pp', '2/2'],
      ['ood-50', '4', 'fixmatch', '85.00±5.00%', '—', '2/2'],
      // 0.84, 0.88 -> 86±2%; differences +0.04, -0.02 -> 1±3 pp.
      ['ood-50', '4', 'fixmatch+cn', '86.00±2.00%', '1.00±3.00 pp', '2/2'],
      // one seed: no ±.
      ['ood-50', '4', 'fixmatch+table', '82.00%', '2.00 pp', '1/2'],
      ['none', '4', 'fixmatch', '90.00±0.00%', '—', '2/2'],
      ['none', '4', 'fixmatch+cn', '92.00±1.00%', '2.00±1.00 pp', '2/2'],
    ]);
  });

  it('weights: AUROC of the snapshot at bestMetaEpoch, ID/OOD means, OOD among the lowest 10%; diverged runs counted, not averaged; — without OOD', () => {
    // Seed 0 at meta-epoch 2: ID {2, 1.5, 1} vs OOD {1.2, 0.5, 0.1}: 8 of 9 pairs ordered -> 8/9. Seed 1 at
    // meta-epoch 1: all equal -> 1/2. Mean (8/9 + 1/2)/2 = 0.69444, std 0.19444.
    const s0 = keptWeightStats(cn0.snapshots[1].original, cn0.inDistribution, cn0.sample);
    expect(s0.auroc).toBe(auroc([2.0, 1.5, 1.0, 1.2, 0.5, 0.1], [1, 1, 1, 0, 0, 0]));
    expect(s0.auroc).toBeCloseTo(8 / 9, 14);
    expect(s0.meanId).toBeCloseTo(1.5, 14);
    expect(s0.meanOod).toBeCloseTo(0.6, 14);
    // ceil(6/10) = 1 lowest: weight 0.1 is OOD.
    expect(s0.oodInLowest).toBe(1);
    // Seed 1: all weights 1, the tie goes to the lowest pool index (20, in-distribution) -> 0.
    const s1 = keptWeightStats(cn1.snapshots[0].original, cn1.inDistribution, cn1.sample);
    expect([s1.auroc, s1.meanId, s1.meanOod, s1.oodInLowest, s1.oodShare]).toEqual([0.5, 1, 1, 0, 0.5]);

    const t = confidenceWeightTable(results);
    expect(t.headers).toEqual(['Setting', 'Labels/class', 'Weighting', 'AUROC (ID vs OOD)', 'Mean weight ID', 'Mean weight OOD', 'OOD in lowest 10%', 'OOD share of sample', 'Kept meta-epoch', 'Runs']);
    expect(t.rows).toEqual([
      // ID means 1.5, 1 -> 1.25±0.25; OOD 0.6, 1 -> 0.8±0.2; lowest 1, 0 -> 50±50%; kept epochs 2, 1.
      ['ood-50', '4', 'cn', '0.694±0.194', '1.250±0.250', '0.800±0.200', '50.0±50.0%', '50.0±0.0%', '1.5±0.5', '2/2'],
      ['ood-50', '4', 'table', '—', '—', '—', '—', '—', '—', '0/1'],
      // No OOD images: ID means 2 and 2.
      ['none', '4', 'cn', '—', '2.000±0.000', '—', '—', '0.0±0.0%', '1.0±0.0', '2/2'],
    ]);
  });

  it('refuses inconsistent runs, naming the run and field', () => {
    const bad = { ...results[0], weightLearning: [{ ...cn0, bestMetaEpoch: 7 }] };
    expect(() => confidenceWeightTable([bad])).toThrow(/setting 'ood-50' seed 0, weighting 'cn': no pool weight snapshot at bestMetaEpoch 7/);
    const short = { ...results[0], weightLearning: [{ ...cn0, snapshots: [snap(2, [1, 2])] }] };
    expect(() => confidenceWeightTable([short])).toThrow(/snapshot at meta-epoch 2 has 2 original weights for 6 sampled images/);
    const twice = [results[0], { ...results[0], testAccuracy: {} }];
    expect(() => confidenceAccuracyTable(twice)).toThrow(/setting 'ood-50' \(4 labels\/class\) has seed 0 twice/);
    const clash = [results[0], { ...results[1], setting: { ...OOD, share: 0.25 } }];
    expect(() => confidenceAccuracyTable(clash)).toThrow(/results\[1\]: setting 'ood-50' is ood 0.25 here but ood 0.5 before/);
  });
});

describe('Confidence Network plots', () => {
  it('validation loss: mean over the non-diverged seeds per (setting, weighting) and meta-epoch', () => {
    const pts = validationLossPoints(results);
    // ood-50 cn: seed 0 (0.9, 0.5, 0.6), seed 1 (0.7, 0.8) -> 0.8±0.1, 0.65±0.15, 0.6 (one seed); the diverged table run is left out.
    const ood = pts.filter((p) => p.series === 'ood-50, cn').map((p) => [p.metaEpoch, +p.mean.toFixed(12), +p.std.toFixed(12), p.n]);
    expect(ood).toEqual([[1, 0.8, 0.1, 2], [2, 0.65, 0.15, 2], [3, 0.6, 0, 1]]);
    expect(new Set(pts.map((p) => p.series))).toEqual(new Set(['ood-50, cn', 'none, cn']));
    const spec = validationLossSpec(results) as unknown as Values<{ series: string; metaEpoch: number; mean: number }>;
    expect(spec.data.values.find((v) => v.series === 'none, cn' && v.metaEpoch === 1)!.mean).toBe(0.4);
  });

  it('ID vs OOD: mean weight of each group per meta-epoch, averaged over seeds', () => {
    const pts = idOodWeightPoints(results).filter((p) => p.panel === 'ood-50, cn');
    const of = (series: string): number[][] => pts.filter((p) => p.series === series).map((p) => [p.metaEpoch, +p.mean.toFixed(12), p.n]);
    // ID: epoch 1 (1, 1) -> 1; epoch 2 seed 0 mean(2, 1.5, 1) = 1.5, seed 1 mean(0.8, 1.6) = 1.2 -> 1.35; epoch 3 seed 0 only: 3.
    expect(of('in-distribution')).toEqual([[1, 1, 2], [2, 1.35, 2], [3, 3, 1]]);
    // OOD: epoch 2 seed 0 mean(1.2, 0.5, 0.1) = 0.6, seed 1 mean(0.9, 0.4) = 0.65 -> 0.625; epoch 3: 0.
    expect(of('out-of-distribution')).toEqual([[1, 1, 2], [2, 0.625, 2], [3, 0, 1]]);
    // No OOD images: only the ID line.
    expect(idOodWeightPoints(results).filter((p) => p.panel === 'none, cn').map((p) => [p.series, p.mean])).toEqual([['in-distribution', 2]]);
    const spec = idOodWeightSpec(results) as unknown as Values<{ panel: string }> & { facet: { field: string } };
    expect(spec.facet.field).toBe('panel');
    expect(spec.data.values.length).toBe(pts.length + 1);
  });

  it('original vs weak (fig. 5.1): mean and std over images, averaged over seeds', () => {
    const at2 = viewWeightPoints(results).filter((p) => p.panel === 'ood-50, cn' && p.metaEpoch === 2);
    const weak = at2.find((p) => p.series === 'weak')!;
    // Seed 0 weak (2, 2, 0, 0, 1, 1): mean 1, var 4/6; seed 1 weak (1, 3, 1, 3): mean 2, std 1.
    expect(weak.mean).toBeCloseTo(1.5, 14);
    expect(weak.std).toBeCloseTo((Math.sqrt(4 / 6) + 1) / 2, 14);
    expect(weak.hi - weak.lo).toBeCloseTo(2 * weak.std, 14);
    const orig = at2.find((p) => p.series === 'original')!;
    // Seed 0 original: mean 6.3/6 = 1.05, squared deviations sum 2.335; seed 1: mean 0.925, sum 0.7475.
    expect(orig.mean).toBeCloseTo((1.05 + 0.925) / 2, 14);
    expect(orig.std).toBeCloseTo((Math.sqrt(2.335 / 6) + Math.sqrt(0.7475 / 4)) / 2, 14);
  });

  it('histogram: equal-width bins, the last one closed, ID and OOD counted apart', () => {
    expect(weightHistogram([0, 0.25, 0.5, 0.75, 1], [1, 0, 1, 0, 1], 4)).toEqual([
      { lo: 0, hi: 0.25, id: 1, ood: 0 }, { lo: 0.25, hi: 0.5, id: 0, ood: 1 }, { lo: 0.5, hi: 0.75, id: 1, ood: 0 }, { lo: 0.75, hi: 1, id: 1, ood: 1 },
    ]);
    // Equal weights: one bin of width 1% of the value centred on it (a zero-width bar would not be drawn).
    expect(weightHistogram([2, 2, 2], [1, 0, 1], 5)).toEqual([{ lo: 1.99, hi: 2.01, id: 2, ood: 1 }]);
    expect(weightHistogram([0, 0], [1, 0], 5)).toEqual([{ lo: -5e-7, hi: 5e-7, id: 1, ood: 1 }]);
    expect(() => weightHistogram([1, NaN], [1, 0])).toThrow(/weight NaN at position 1/);
    // ood-50 cn kept weights pooled: seed 0 (2, 1.5, 1 | 1.2, 0.5, 0.1), seed 1 (1, 1 | 1, 1). Range [0.1, 2], width 0.475:
    // [0.1, 0.575): OOD 0.5, 0.1; [0.575, 1.05): ID 1, 1, 1, OOD 1, 1; [1.05, 1.525): ID 1.5, OOD 1.2; [1.525, 2]: ID 2.
    const h = keptWeightHistograms(results, 4).find((x) => x.panel === 'ood-50, cn')!.bins;
    expect(h.map((b) => [b.id, b.ood])).toEqual([[0, 2], [3, 2], [1, 1], [1, 0]]);
    expect(h[1].lo).toBeCloseTo(0.575, 14);
    const spec = weightHistogramSpec(results, 4) as unknown as Values<{ panel: string; bin: number; group: string; count: number; y0: number; y1: number }>;
    const counts = spec.data.values.filter((v) => v.panel === 'ood-50, cn' && v.group === 'out-of-distribution').map((v) => v.count);
    expect(counts).toEqual([2, 2, 1, 0]);
    // Stacked: OOD bars sit on the ID counts (0, 3, 1, 1).
    expect(spec.data.values.filter((v) => v.panel === 'ood-50, cn' && v.group === 'out-of-distribution').map((v) => [v.y0, v.y1])).toEqual([[0, 2], [3, 5], [1, 2], [1, 1]]);
  });
});

describe('Confidence Network image grid (fig. 5.2)', () => {
  it('picks highest, median (lower) and lowest per class, ties to the lower pool index', () => {
    // All ID class 0. Highest weight 3 at pools 4 and 2 -> pool 2 (position 3). Lowest 1 at pools 9, 7, 5 -> pool 5
    // (position 4). Ascending by (weight, pool): 5, 7, 9, 2, 4 -> median (index 2) pool 9, position 0.
    const [g] = pickWeightedImages({ sample: [9, 4, 7, 2, 5], inDistribution: [1, 1, 1, 1, 1], labels: [0, 0, 0, 0, 0] }, [1, 3, 1, 3, 1]);
    expect(g.picks.map((p) => [p.rank, p.position, p.poolIndex, p.weight])).toEqual([['highest', 3, 2, 3], ['median', 0, 9, 1], ['lowest', 4, 5, 1]]);
  });

  it('groups ID classes then OOD classes and draws the picked pool images', () => {
    const grid = weightedImageGrid(pool, results[0], cn0, { scale: 3 });
    // Kept weights (2, 1.5, 1 | 1.2, 0.5, 0.1); ID class 0 at positions 0 (2.0) and 2 (1.0): highest 10, median = lowest 12.
    expect(grid.groups.map((g) => [g.inDistribution, g.label, g.picks.map((p) => p.poolIndex)])).toEqual([
      [true, 0, [10, 12, 12]], [true, 1, [11, 11, 11]], [false, 3, [13, 14, 14]], [false, 7, [15, 15, 15]],
    ]);
    expect(grid.rgb.length).toBe(grid.width * grid.height * 3);
    for (const c of grid.cells) {
      expect([c.width, c.height]).toEqual([6, 6]);
      // Top-left block = pixel 0, block at column 3 = pixel 1, at row 3 = pixel 2 (each 3x3 by the scale).
      for (const [dx, dy, k] of [[0, 0, 0], [2, 2, 0], [3, 0, 1], [0, 3, 2], [5, 5, 3]]) {
        const o = ((c.y + dy) * grid.width + c.x + dx) * 3;
        const v = Math.round(((4 * c.pick.poolIndex + k) / 64) * 255);
        expect([grid.rgb[o], grid.rgb[o + 1], grid.rgb[o + 2]]).toEqual([v, v, v]);
      }
    }
    expect(grid.texts.map((t) => t.text)).toEqual(expect.arrayContaining(['2.00', '1.00', '1.20', '0.50', '0.10', 'class 0 (2)', 'class 7 (1)']));
    const svg = weightedImageGridSvg(grid, encodePngRgb, 'ood-50 <seed 0>');
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain(`href="data:image/png;base64,${Buffer.from(encodePngRgb(grid.rgb, grid.width, grid.height)).toString('base64')}"`);
    expect(svg).toContain('ood-50 &lt;seed 0&gt;');
  });

  it('base64 matches Node for every padding length; a pool whose labels disagree with the run is refused', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 256]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      expect(base64(b)).toBe(Buffer.from(b).toString('base64'));
    }
    const wrong = { ...pool, labels: new Uint8Array(16) };
    expect(() => weightedImageGrid(wrong, results[0], cn0)).toThrow(/sample\[1\] is pool image 11 with label 0, but the run says 1/);
    expect(() => findImageRun(results, { setting: 'ood-50', seed: 3 })).toThrow(/no such result/);
    expect(findImageRun(results, { setting: 'ood-50', seed: 0, weighting: 'table' }).run).toBe(table0);
  });
});

describe('Confidence Network HTML report', () => {
  it('renders both tables, the four plots and the picture', async () => {
    const sections = await confidenceReportSections(results, { images: [{ pool, setting: 'ood-50', seed: 0 }], encodePng: encodePngRgb, histogramBins: 4 });
    expect(sections.tables.map((t) => t.headers[3])).toEqual(['Test acc.', 'AUROC (ID vs OOD)']);
    expect(sections.plots.length).toBe(5);
    for (const p of sections.plots) expect(XMLValidator.validate(p.svg)).toBe(true);
    const html = renderHtmlReport({ title: 'CN', generatedAt: '2024-01-01T00:00:00Z', tables: sections.tables, plots: sections.plots });
    expect(html).toContain('<td style="text-align:right">86.00±2.00%</td>');
    expect(html).toContain('<td style="text-align:right">0.694±0.194</td>');
    expect(html).toContain('thesis fig. 5.2');
    expect(html).toContain('data:image/png;base64,');
    await expect(confidenceReportSections(results, { images: [{ pool, setting: 'ood-50', seed: 0 }] })).rejects.toThrow(/no encodePng/);
  });
});
