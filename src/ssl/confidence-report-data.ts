// Reading Confidence Network results for the report: checks each weight-learning run, groups seeds by setting, finds the kept learner's snapshot and splits its weights into in- and out-of-distribution.

import type { ConfidenceSetting, ConfidenceSettingResult, PoolWeightSnapshot, WeightLearningRun } from './confidence-results.js';

/** The seeds of one setting (same label and labels per class), in order of first appearance. */
export interface ConfidenceSettingGroup {
  setting: ConfidenceSetting;
  labelsPerClass: number;
  results: ConfidenceSettingResult[];
}

/** Where a weight-learning run is, for error messages: `setting 'ood-25' seed 1, weighting 'cn'`. */
export function weightRunLabel(result: ConfidenceSettingResult, run: WeightLearningRun): string {
  return `setting '${result.setting.label}' seed ${result.seed}, weighting '${run.weighting}'`;
}

const isFiniteArray = (xs: readonly number[]): number => xs.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));

/**
 * Throws, naming the run and the field, when a weight-learning run is inconsistent: sample, inDistribution and
 * labels of different lengths, an inDistribution entry other than 0/1, a snapshot whose original/weak lengths
 * differ from the sample's or that holds a non-finite weight, or no snapshot at bestMetaEpoch.
 */
export function checkWeightRun(result: ConfidenceSettingResult, run: WeightLearningRun): void {
  const where = weightRunLabel(result, run);
  const n = run.sample.length;
  if (run.inDistribution.length !== n) throw new Error(`${where}: inDistribution has ${run.inDistribution.length} entries for ${n} sampled images`);
  if (run.labels.length !== n) throw new Error(`${where}: labels has ${run.labels.length} entries for ${n} sampled images`);
  run.inDistribution.forEach((f, i) => {
    if (f !== 0 && f !== 1) throw new Error(`${where}: inDistribution[${i}] is ${f}, must be 0 or 1`);
  });
  for (const s of run.snapshots) {
    for (const view of ['original', 'weak'] as const) {
      if (s[view].length !== n) throw new Error(`${where}: snapshot at meta-epoch ${s.metaEpoch} has ${s[view].length} ${view} weights for ${n} sampled images`);
      const bad = isFiniteArray(s[view]);
      if (bad >= 0) throw new Error(`${where}: snapshot at meta-epoch ${s.metaEpoch}: ${view}[${bad}] = ${s[view][bad]} is not finite`);
    }
  }
  if (!run.snapshots.some((s) => s.metaEpoch === run.bestMetaEpoch)) {
    throw new Error(`${where}: no pool weight snapshot at bestMetaEpoch ${run.bestMetaEpoch} (snapshots at ${run.snapshots.map((s) => s.metaEpoch).join(', ') || 'none'})`);
  }
}

/** The kept learner's weights: the snapshot at bestMetaEpoch (after `checkWeightRun`). */
export function keptSnapshot(result: ConfidenceSettingResult, run: WeightLearningRun): PoolWeightSnapshot {
  checkWeightRun(result, run);
  return run.snapshots.find((s) => s.metaEpoch === run.bestMetaEpoch)!;
}

/**
 * Groups the results by (setting label, labels per class) in order of first appearance. Throws when one label
 * stands for two different settings (kind or share) or a seed appears twice in a group.
 */
export function settingGroups(results: readonly ConfidenceSettingResult[]): ConfidenceSettingGroup[] {
  const out: ConfidenceSettingGroup[] = [];
  results.forEach((r, i) => {
    const same = out.find((g) => g.setting.label === r.setting.label);
    if (same && (same.setting.kind !== r.setting.kind || same.setting.share !== r.setting.share)) {
      throw new Error(`results[${i}]: setting '${r.setting.label}' is ${r.setting.kind} ${r.setting.share} here but ${same.setting.kind} ${same.setting.share} before`);
    }
    let g = out.find((x) => x.setting.label === r.setting.label && x.labelsPerClass === r.labelsPerClass);
    if (!g) out.push((g = { setting: r.setting, labelsPerClass: r.labelsPerClass, results: [] }));
    if (g.results.some((x) => x.seed === r.seed)) throw new Error(`results[${i}]: setting '${r.setting.label}' (${r.labelsPerClass} labels/class) has seed ${r.seed} twice`);
    g.results.push(r);
  });
  return out;
}

/** A group's label in tables and plots: the setting's label, with the labels per class when several groups share the label. */
export function groupLabel(group: ConfidenceSettingGroup, all: readonly ConfidenceSettingGroup[]): string {
  const shared = all.filter((g) => g.setting.label === group.setting.label).length > 1;
  return shared ? `${group.setting.label} (${group.labelsPerClass}/class)` : group.setting.label;
}

/** The weightings that occur in a group, 'cn' before 'table'. */
export function groupWeightings(group: ConfidenceSettingGroup): ('cn' | 'table')[] {
  const present = new Set(group.results.flatMap((r) => r.weightLearning.map((w) => w.weighting)));
  return (['cn', 'table'] as const).filter((w) => present.has(w));
}

/** Each seed's run of `weighting` in the group (seeds without one are skipped); throws if a seed has two. */
export function runsOf(group: ConfidenceSettingGroup, weighting: 'cn' | 'table'): { result: ConfidenceSettingResult; run: WeightLearningRun }[] {
  const out: { result: ConfidenceSettingResult; run: WeightLearningRun }[] = [];
  for (const result of group.results) {
    const runs = result.weightLearning.filter((w) => w.weighting === weighting);
    if (runs.length > 1) throw new Error(`setting '${result.setting.label}' seed ${result.seed}: ${runs.length} weight-learning runs with weighting '${weighting}'`);
    if (runs.length === 1) out.push({ result, run: runs[0] });
  }
  return out;
}

/** Weights of one view split by the sample's in-distribution flags. */
export function splitById(weights: readonly number[], inDistribution: readonly number[]): { id: number[]; ood: number[] } {
  const id: number[] = [];
  const ood: number[] = [];
  weights.forEach((w, i) => (inDistribution[i] === 1 ? id : ood).push(w));
  return { id, ood };
}
