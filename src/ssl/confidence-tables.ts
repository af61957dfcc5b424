// Tables of a Confidence Network experiment: test accuracy per setting x method and the kept weight learner's ID/OOD separation (AUROC, mean weights, OOD among the lowest weighted), mean ± std over seeds.

import { formatMeanStd, meanStd, PERCENT, type MeanStdFormat } from '../report/aggregate.js';
import { auroc } from '../report/auroc.js';
import type { TableData } from '../report/markdown.js';
import { CONFIDENCE_METHODS, type ConfidenceSettingResult } from './confidence-results.js';
import { groupLabel, groupWeightings, keptSnapshot, runsOf, settingGroups, splitById } from './confidence-report-data.js';

const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Percentage points: a difference of accuracies ×100. */
const POINTS: MeanStdFormat = { scale: 100, digits: 2, unit: ' pp' };
const WEIGHT: MeanStdFormat = { digits: 3 };
const AUROC: MeanStdFormat = { digits: 3 };
const SHARE: MeanStdFormat = { scale: 100, digits: 1, unit: '%' };

/**
 * One row per setting x method that some seed ran (methods in CONFIDENCE_METHODS order): final EMA test accuracy
 * as mean ± population std over the seeds that report it, the paired difference to FixMatch (per seed, method
 * minus fixmatch, over the seeds that report both) and "n/N" runs (N: the setting's seeds).
 */
export function confidenceAccuracyTable(
  results: readonly ConfidenceSettingResult[],
  title = 'Test accuracy per setting (EMA model, mean ± std over seeds)',
): TableData {
  const groups = settingGroups(results);
  const rows: string[][] = [];
  for (const g of groups) {
    for (const method of CONFIDENCE_METHODS) {
      const accs = g.results.map((r) => r.testAccuracy[method]).filter(finite);
      if (accs.length === 0) continue;
      const deltas = g.results
        .filter((r) => finite(r.testAccuracy[method]) && finite(r.testAccuracy.fixmatch))
        .map((r) => r.testAccuracy[method]! - r.testAccuracy.fixmatch!);
      rows.push([
        groupLabel(g, groups), String(g.labelsPerClass), method,
        formatMeanStd(meanStd(accs), PERCENT),
        method === 'fixmatch' ? '—' : formatMeanStd(meanStd(deltas), POINTS),
        `${accs.length}/${g.results.length}`,
      ]);
    }
  }
  return {
    title,
    headers: ['Setting', 'Labels/class', 'Method', 'Test acc.', 'Δ vs FixMatch', 'Runs'],
    rows,
    align: ['left', 'right', 'left', 'right', 'right', 'right'],
  };
}

/** What one kept learner says about its sample: AUROC (null without OOD images), mean ID/OOD weight, OOD share among the lowest 10%. */
export interface KeptWeightStats {
  auroc: number | null;
  meanId: number;
  meanOod: number;
  /** Share of OOD images among the ceil(n/10) lowest weighted (ties: lower pool index first); null without OOD images. */
  oodInLowest: number | null;
  /** Share of OOD images in the whole sample (what `oodInLowest` would be by chance). */
  oodShare: number;
}

/** Indices (sample positions) of the `k` lowest weights, ordered by weight then pool index. */
export function lowestWeighted(weights: readonly number[], poolIndex: readonly number[], k: number): number[] {
  return weights
    .map((_, i) => i)
    .sort((a, b) => weights[a] - weights[b] || poolIndex[a] - poolIndex[b])
    .slice(0, k);
}

/** The statistics of `KeptWeightStats` on one snapshot's original-image weights. */
export function keptWeightStats(weights: readonly number[], inDistribution: readonly number[], poolIndex: readonly number[]): KeptWeightStats {
  const { id, ood } = splitById(weights, inDistribution);
  const n = weights.length;
  const hasBoth = id.length > 0 && ood.length > 0;
  const k = Math.ceil(n / 10);
  const lowest = lowestWeighted(weights, poolIndex, k);
  return {
    auroc: hasBoth ? auroc(weights, inDistribution) : null,
    meanId: meanStd(id).mean,
    meanOod: meanStd(ood).mean,
    oodInLowest: ood.length > 0 && k > 0 ? lowest.filter((i) => inDistribution[i] === 0).length / k : null,
    oodShare: n > 0 ? ood.length / n : NaN,
  };
}

/**
 * One row per setting x weighting (cn, table): on the kept learner's weights of the original sample images (the
 * snapshot at bestMetaEpoch), the AUROC with in-distribution as the positive class, the mean weight of ID and of
 * OOD images, and the share of OOD images among the 10% lowest weighted, each as mean ± population std over the
 * seeds whose weight learning did not diverge ("—" for settings without OOD images); then the OOD share of the
 * sample (chance level of the previous column), the kept meta-epoch and "n/N" runs (diverged ones counted, left out).
 */
export function confidenceWeightTable(
  results: readonly ConfidenceSettingResult[],
  title = 'Learned weights of the kept learner: in- vs out-of-distribution (mean ± std over seeds)',
): TableData {
  const groups = settingGroups(results);
  const rows: string[][] = [];
  for (const g of groups) {
    for (const weighting of groupWeightings(g)) {
      const all = runsOf(g, weighting);
      const ok = all.filter(({ run }) => !run.diverged);
      const stats = ok.map(({ result, run }) => keptWeightStats(keptSnapshot(result, run).original, run.inDistribution, run.sample));
      const of = (f: (s: KeptWeightStats) => number | null): number[] => stats.map(f).filter((v): v is number => v !== null && Number.isFinite(v));
      rows.push([
        groupLabel(g, groups), String(g.labelsPerClass), weighting,
        formatMeanStd(meanStd(of((s) => s.auroc)), AUROC),
        formatMeanStd(meanStd(of((s) => s.meanId)), WEIGHT),
        formatMeanStd(meanStd(of((s) => s.meanOod)), WEIGHT),
        formatMeanStd(meanStd(of((s) => s.oodInLowest)), SHARE),
        formatMeanStd(meanStd(of((s) => s.oodShare)), SHARE),
        formatMeanStd(meanStd(ok.map(({ run }) => run.bestMetaEpoch)), { digits: 1 }),
        `${ok.length}/${all.length}`,
      ]);
    }
  }
  return {
    title,
    headers: ['Setting', 'Labels/class', 'Weighting', 'AUROC (ID vs OOD)', 'Mean weight ID', 'Mean weight OOD', 'OOD in lowest 10%', 'OOD share of sample', 'Kept meta-epoch', 'Runs'],
    rows,
    align: ['left', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  };
}
