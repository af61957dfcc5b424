// Plots of a Confidence Network experiment as vega-lite specs and SVG: weight learning's validation loss, ID vs OOD mean weight and original vs weak weights over meta-epochs (thesis fig. 5.1), and the kept learner's weight histogram (fig. 5.3).

import type { TopLevelSpec } from 'vega-lite';
import { meanStd } from '../report/aggregate.js';
import { renderVegaLite } from '../report/plots.js';
import type { ConfidenceSettingResult, WeightLearningRun } from './confidence-results.js';
import {
  checkWeightRun, groupLabel, groupWeightings, keptSnapshot, runsOf, settingGroups, splitById,
  type ConfidenceSettingGroup,
} from './confidence-report-data.js';

/** One point of a curve: `mean` with a band [lo, hi] at a meta-epoch, for one series in one panel. */
export interface ConfidenceCurvePoint {
  panel: string;
  series: string;
  metaEpoch: number;
  mean: number;
  /** Band half-width (std over seeds, or over images for the view plot). */
  std: number;
  lo: number;
  hi: number;
  /** Seeds that contributed. */
  n: number;
}

/** One bin [lo, hi) of a weight histogram (the last bin includes hi) with its ID and OOD counts. */
export interface WeightBin {
  lo: number;
  hi: number;
  id: number;
  ood: number;
}

const EPOCH_AXIS = { field: 'metaEpoch', type: 'quantitative' as const, title: 'Meta-epoch', axis: { tickMinStep: 1, format: 'd' } };
const ID_LABEL = 'in-distribution';
const OOD_LABEL = 'out-of-distribution';

/** The (group, weighting) panels and their non-diverged runs, in group order, 'cn' before 'table'. */
function panels(results: readonly ConfidenceSettingResult[]): { panel: string; group: ConfidenceSettingGroup; weighting: 'cn' | 'table'; runs: { result: ConfidenceSettingResult; run: WeightLearningRun }[] }[] {
  const groups = settingGroups(results);
  return groups.flatMap((group) => groupWeightings(group).map((weighting) => {
    const runs = runsOf(group, weighting).filter(({ run }) => !run.diverged);
    runs.forEach(({ result, run }) => checkWeightRun(result, run));
    return { panel: `${groupLabel(group, groups)}, ${weighting}`, group, weighting, runs };
  }));
}

/** Per meta-epoch, mean ± population std over seeds of the finite values `valueAt(run, metaEpoch)` gives. */
function overSeeds(
  panel: string, series: string, runs: readonly WeightLearningRun[], epochsOf: (run: WeightLearningRun) => number[],
  valueAt: (run: WeightLearningRun, metaEpoch: number) => number | undefined,
): ConfidenceCurvePoint[] {
  const epochs = [...new Set(runs.flatMap(epochsOf))].sort((a, b) => a - b);
  const out: ConfidenceCurvePoint[] = [];
  for (const metaEpoch of epochs) {
    const s = meanStd(runs.map((r) => valueAt(r, metaEpoch)));
    if (s.n > 0) out.push({ panel, series, metaEpoch, mean: s.mean, std: s.std, lo: s.mean - s.std, hi: s.mean + s.std, n: s.n });
  }
  return out;
}

const snapshotEpochs = (run: WeightLearningRun): number[] => run.snapshots.map((s) => s.metaEpoch);
const snapshotAt = (run: WeightLearningRun, metaEpoch: number) => run.snapshots.find((s) => s.metaEpoch === metaEpoch);

/** Validation loss L_V of weight learning per (setting, weighting) and meta-epoch: mean ± std over the seeds that did not diverge. */
export function validationLossPoints(results: readonly ConfidenceSettingResult[]): ConfidenceCurvePoint[] {
  return panels(results).flatMap(({ panel, runs }) => overSeeds(
    'all', panel, runs.map((r) => r.run), (run) => run.curve.map((c) => c.metaEpoch),
    (run, e) => run.curve.find((c) => c.metaEpoch === e)?.validationLoss,
  ));
}

/** Mean weight of the ID and of the OOD sample images (original views) per panel and meta-epoch: mean ± std over seeds. */
export function idOodWeightPoints(results: readonly ConfidenceSettingResult[]): ConfidenceCurvePoint[] {
  return panels(results).flatMap(({ panel, runs }) => {
    const rs = runs.map((r) => r.run);
    const part = (which: 'id' | 'ood') => (run: WeightLearningRun, e: number): number | undefined => {
      const s = snapshotAt(run, e);
      return s ? meanStd(splitById(s.original, run.inDistribution)[which]).mean : undefined;
    };
    return [...overSeeds(panel, ID_LABEL, rs, snapshotEpochs, part('id')), ...overSeeds(panel, OOD_LABEL, rs, snapshotEpochs, part('ood'))];
  });
}

/**
 * Thesis fig. 5.1: per panel, view (original, weak) and meta-epoch, the mean of the sample's weights and their
 * std over the images; with several seeds both are averaged over seeds (mean of means, mean of stds). The band
 * is mean ± that std. `n`: seeds.
 */
export function viewWeightPoints(results: readonly ConfidenceSettingResult[]): ConfidenceCurvePoint[] {
  const out: ConfidenceCurvePoint[] = [];
  for (const { panel, runs } of panels(results)) {
    for (const view of ['original', 'weak'] as const) {
      const epochs = [...new Set(runs.flatMap(({ run }) => snapshotEpochs(run)))].sort((a, b) => a - b);
      for (const metaEpoch of epochs) {
        const per = runs.map(({ run }) => snapshotAt(run, metaEpoch)).filter((s) => s !== undefined && s[view].length > 0).map((s) => meanStd(s![view]));
        if (per.length === 0) continue;
        const m = meanStd(per.map((p) => p.mean)).mean;
        const sd = meanStd(per.map((p) => p.std)).mean;
        out.push({ panel, series: view, metaEpoch, mean: m, std: sd, lo: m - sd, hi: m + sd, n: per.length });
      }
    }
  }
  return out;
}

/**
 * `bins` equal-width bins over [min, max] of the weights, counting ID and OOD images apart; bin k holds
 * lo + k·width ≤ w < lo + (k+1)·width, the last bin also w = max. All weights equal: one bin [w, w].
 */
export function weightHistogram(weights: readonly number[], inDistribution: readonly number[], bins = 20): WeightBin[] {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`weightHistogram: bins must be a positive integer, got ${bins}`);
  if (inDistribution.length !== weights.length) throw new Error(`weightHistogram: ${weights.length} weights but ${inDistribution.length} inDistribution flags`);
  if (weights.length === 0) return [];
  weights.forEach((w, i) => {
    if (!Number.isFinite(w)) throw new Error(`weightHistogram: weight ${w} at position ${i} is not finite`);
  });
  const lo = Math.min(...weights);
  const hi = Math.max(...weights);
  // All weights equal (e.g. a table that never moved): one bin of width 1% of the value (1e-6 at 0) centred on it, so the bar is drawn.
  if (lo === hi) {
    const half = Math.max(Math.abs(lo) * 0.005, 5e-7);
    return [{ lo: lo - half, hi: hi + half, id: inDistribution.filter((f) => f === 1).length, ood: inDistribution.filter((f) => f !== 1).length }];
  }
  const width = (hi - lo) / bins;
  const out: WeightBin[] = Array.from({ length: bins }, (_, k) => ({ lo: lo + k * width, hi: k === bins - 1 ? hi : lo + (k + 1) * width, id: 0, ood: 0 }));
  weights.forEach((w, i) => {
    const k = Math.min(bins - 1, Math.floor((w - lo) / width));
    if (inDistribution[i] === 1) out[k].id++;
    else out[k].ood++;
  });
  return out;
}

/** Histogram rows per panel of the kept learners' original-image weights, pooled over the seeds that did not diverge. */
export function keptWeightHistograms(results: readonly ConfidenceSettingResult[], bins = 20): { panel: string; bins: WeightBin[] }[] {
  return panels(results).map(({ panel, runs }) => {
    const weights = runs.flatMap(({ result, run }) => keptSnapshot(result, run).original);
    const flags = runs.flatMap(({ run }) => run.inDistribution);
    return { panel, bins: weightHistogram(weights, flags, bins) };
  });
}

/** Line + point layers (and a band layer when `band`) over meta-epochs, colored by series, one facet per panel when there are several. */
function curveSpec(title: string, yTitle: string, values: readonly ConfidenceCurvePoint[], band: boolean, seriesTitle: string | null): TopLevelSpec {
  const series = [...new Set(values.map((v) => v.series))];
  const color = { field: 'series', type: 'nominal' as const, title: seriesTitle, scale: { domain: series }, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400, symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2 } };
  const strokeDash = { field: 'series', type: 'nominal' as const, title: seriesTitle };
  const y = { field: 'mean', type: 'quantitative' as const, title: yTitle, scale: { zero: false } };
  const tooltip = [{ field: 'panel' }, { field: 'series' }, { field: 'metaEpoch' }, { field: 'mean', format: '.4g' }, { field: 'std', format: '.4g' }, { field: 'n' }];
  const layer: object[] = [];
  if (band) layer.push({ mark: { type: 'area', opacity: 0.15 }, encoding: { x: EPOCH_AXIS, color, y: { ...y, field: 'lo' }, y2: { field: 'hi' } } });
  layer.push({ mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x: EPOCH_AXIS, y, color, strokeDash, tooltip } });
  layer.push({ mark: { type: 'point', filled: true, size: 30 }, encoding: { x: EPOCH_AXIS, y, color, tooltip } });
  const nPanels = new Set(values.map((v) => v.panel)).size;
  if (nPanels <= 1) return { title, background: 'white', width: 480, height: 260, data: { values: [...values] }, layer } as TopLevelSpec;
  return {
    title, background: 'white', data: { values: [...values] },
    facet: { field: 'panel', type: 'nominal', title: null, sort: [...new Set(values.map((v) => v.panel))] },
    columns: 2,
    spec: { width: 320, height: 200, layer },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** (a) Validation loss of weight learning over meta-epochs, one line per (setting, weighting): mean over seeds with a ± std band. */
export function validationLossSpec(results: readonly ConfidenceSettingResult[]): TopLevelSpec {
  const values = validationLossPoints(results);
  return curveSpec('Weight learning: validation loss L_V (mean ± std over seeds)', 'Validation loss', values, values.some((v) => v.n > 1), 'Setting, weighting');
}

/** (b) Mean weight of ID vs OOD sample images (original) over meta-epochs, one panel per (setting, weighting). */
export function idOodWeightSpec(results: readonly ConfidenceSettingResult[]): TopLevelSpec {
  const values = idOodWeightPoints(results);
  return curveSpec('Mean weight of in- vs out-of-distribution images (mean ± std over seeds)', 'Mean weight', values, values.some((v) => v.n > 1), null);
}

/** (c) Thesis fig. 5.1: mean ± std (over images) of the weights of original vs weakly augmented views over meta-epochs. */
export function viewWeightSpec(results: readonly ConfidenceSettingResult[]): TopLevelSpec {
  return curveSpec('Weights of original vs weakly augmented images (mean ± std over images)', 'Weight', viewWeightPoints(results), true, 'View');
}

/** (d) Thesis fig. 5.3: histogram of the kept learner's weights (original images, seeds pooled), ID and OOD stacked. */
export function weightHistogramSpec(results: readonly ConfidenceSettingResult[], bins = 20): TopLevelSpec {
  const values = keptWeightHistograms(results, bins).flatMap(({ panel, bins: bs }) => bs.flatMap((b, k) => [
    { panel, bin: k, lo: b.lo, hi: b.hi, group: ID_LABEL, count: b.id, y0: 0, y1: b.id },
    { panel, bin: k, lo: b.lo, hi: b.hi, group: OOD_LABEL, count: b.ood, y0: b.id, y1: b.id + b.ood },
  ]));
  // Stacked by hand (ID below OOD): a bar with x and x2 set is a ranged bar, so vega-lite would not stack its y.
  const layer = [{
    mark: { type: 'bar', binSpacing: 0 },
    encoding: {
      x: { field: 'lo', type: 'quantitative', title: 'Weight', scale: { zero: false } },
      x2: { field: 'hi' },
      y: { field: 'y0', type: 'quantitative', title: 'Images' },
      y2: { field: 'y1' },
      color: { field: 'group', type: 'nominal', title: null, scale: { domain: [ID_LABEL, OOD_LABEL] }, legend: { orient: 'bottom' } },
      tooltip: [{ field: 'panel' }, { field: 'group' }, { field: 'lo', format: '.4g' }, { field: 'hi', format: '.4g' }, { field: 'count' }],
    },
  }];
  const title = "Weights of the kept learner (original images, seeds pooled)";
  const nPanels = new Set(values.map((v) => v.panel)).size;
  if (nPanels <= 1) return { title, background: 'white', width: 480, height: 260, data: { values }, layer } as TopLevelSpec;
  return {
    title, background: 'white', data: { values },
    facet: { field: 'panel', type: 'nominal', title: null, sort: [...new Set(values.map((v) => v.panel))] },
    columns: 2,
    spec: { width: 320, height: 200, layer },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as TopLevelSpec;
}

export const validationLossSvg = (results: readonly ConfidenceSettingResult[]): Promise<string> => renderVegaLite(validationLossSpec(results));
export const idOodWeightSvg = (results: readonly ConfidenceSettingResult[]): Promise<string> => renderVegaLite(idOodWeightSpec(results));
export const viewWeightSvg = (results: readonly ConfidenceSettingResult[]): Promise<string> => renderVegaLite(viewWeightSpec(results));
export const weightHistogramSvg = (results: readonly ConfidenceSettingResult[], bins = 20): Promise<string> => renderVegaLite(weightHistogramSpec(results, bins));
