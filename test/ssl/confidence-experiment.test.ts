// The Confidence Network experiment runner on tiny synthetic data: a well-formed ConfidenceSettingResult (both learners, four phase-2 methods), snapshots that agree with the recorded metrics, AUROC from a snapshot equal to auroc() on the same numbers, the summary tables; setting labels and protocol errors.
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import { auroc } from '../../src/report/auroc.js';
import { confidenceSplit, parseConfidenceSetting, runConfidenceExperiment, validateConfidenceProtocol, type ConfidenceProtocol, type ConfidenceRecord } from '../../src/ssl/confidence-experiment.js';
import { confidenceAccuracyTable, confidenceWeightTable, keptWeightStats } from '../../src/ssl/confidence-tables.js';
import { Random } from '../../src/util/random.js';
import { toyData } from './cases.js';
import { tinyProtocol } from './confidence-cases.js';

/** 8x8 noise images (the OOD source), 3 "classes". */
function noise(count: number, seed: number): ImageDataset {
  const rng = new Random(seed);
  return { images: Float32Array.from({ length: count * 64 }, () => rng.uniform()), labels: Uint8Array.from({ length: count }, (_, i) => i % 3), count, channels: 1, height: 8, width: 8, numClasses: 3, name: `noise-${seed}` };
}

describe('Confidence Network experiment runner', () => {
  it('produces a well-formed ConfidenceSettingResult whose snapshots, AUROC and curves agree with the runs it stored', async () => {
    const p = tinyProtocol();
    const train = toyData(60, 1);
    const stores = new Map<string, ReturnType<typeof memoryRunStore<ConfidenceRecord>>>();
    const started: string[] = [];
    const [r] = await runConfidenceExperiment(p, {
      split: (setting, seed) => confidenceSplit(setting, train, toyData(15, 3), noise(40, 4), { labelsPerClass: 2, validationPerClass: 2, poolInDistribution: 12, seed }),
      store: (name) => {
        const s = memoryRunStore<ConfidenceRecord>();
        stores.set(name, s);
        return s;
      },
      onRunStart: (name) => started.push(name),
    });
    expect(started).toEqual(['ood-50-seed0/phase1-cn', 'ood-50-seed0/phase1-table', 'ood-50-seed0/phase2-supervised', 'ood-50-seed0/phase2-fixmatch', 'ood-50-seed0/phase2-fixmatch+cn', 'ood-50-seed0/phase2-fixmatch+table']);
    expect(r.setting).toEqual({ kind: 'ood', share: 0.5, label: 'ood-50' });
    expect(r.seed).toBe(0);
    expect(r.labelsPerClass).toBe(2);
    expect(Object.keys(r.testAccuracy).sort()).toEqual(['fixmatch', 'fixmatch+cn', 'fixmatch+table', 'supervised']);
    // The toy test set has 15 images: every accuracy is k/15.
    for (const a of Object.values(r.testAccuracy)) expect(Math.abs(a! * 15 - Math.round(a! * 15))).toBeLessThan(1e-9);
    for (const [m, a] of Object.entries(r.testAccuracy)) {
      const last = (await stores.get(`ood-50-seed0/phase2-${m}`)!.readMetrics()).at(-1)!;
      expect(a).toBe(last.testAccuracy);
      expect(last.innerStep).toBe(4);
    }
    expect(r.weightLearning.map((w) => w.weighting)).toEqual(['cn', 'table']);
    const split = confidenceSplit(r.setting, train, toyData(15, 3), noise(40, 4), { labelsPerClass: 2, validationPerClass: 2, poolInDistribution: 12, seed: 0 });
    expect(split.unlabelled.count).toBe(24);
    for (const w of r.weightLearning) {
      expect(w.method).toBe('IFT-Identity');
      expect(w.sample).toHaveLength(10);
      expect(new Set(w.sample).size).toBe(10);
      expect(w.inDistribution).toEqual(w.sample.map((i) => split.inDistribution[i]));
      expect(w.labels).toEqual(w.sample.map((i) => split.unlabelled.labels[i]));
      const recorded = await stores.get(`ood-50-seed0/phase1-${w.weighting}`)!.readMetrics();
      expect(w.curve).toEqual(recorded.map((m) => ({ metaEpoch: m.metaEpoch, step: m.innerStep, validationLoss: m.validationLoss, testAccuracy: m.testAccuracy, meanWeight: m.meanWeight })));
      expect(w.curve.map((c) => c.step)).toEqual([4, 6]);
      expect(w.snapshots.map((s) => s.metaEpoch)).toEqual([1, 2]);
      expect(w.bestMetaEpoch).toBe(w.curve.reduce((b, c) => (c.validationLoss < b.validationLoss ? c : b)).metaEpoch);
      for (const s of w.snapshots) {
        expect(s.original).toHaveLength(10);
        expect(s.original.every((v) => v > 0)).toBe(true);
        // AUROC of the snapshot = auroc() on the same numbers = what the problem recorded at that meta-epoch.
        const stats = keptWeightStats(s.original, w.inDistribution, w.sample);
        expect(stats.auroc).toBe(auroc(s.original, w.inDistribution));
        expect(stats.auroc).toBe(recorded[s.metaEpoch - 1].poolAuroc);
        const ids = s.original.filter((_, i) => w.inDistribution[i] === 1);
        expect(stats.meanId).toBeCloseTo(ids.reduce((x, y) => x + y, 0) / ids.length, 12);
      }
    }
    // The table sees no pixels: its original and weak weights are the same numbers.
    const table = r.weightLearning[1];
    expect(table.snapshots[0].weak).toEqual(table.snapshots[0].original);
    const acc = confidenceAccuracyTable([r]);
    expect(acc.rows.map((row) => row[2])).toEqual(['supervised', 'fixmatch', 'fixmatch+cn', 'fixmatch+table']);
    expect(acc.rows[1][3].startsWith(`${(100 * r.testAccuracy.fixmatch!).toFixed(2)}`)).toBe(true);
    const wt = confidenceWeightTable([r]);
    expect(wt.rows.map((row) => [row[0], row[2]])).toEqual([['ood-50', 'cn'], ['ood-50', 'table']]);
    const kept = r.weightLearning[0].snapshots.find((s) => s.metaEpoch === r.weightLearning[0].bestMetaEpoch)!;
    expect(wt.rows[0][3].startsWith(auroc(kept.original, r.weightLearning[0].inDistribution).toFixed(3))).toBe(true);
  }, 120_000);

  it('parses setting labels and refuses bad ones and inconsistent protocols, naming them', () => {
    expect(parseConfidenceSetting('ood-25')).toEqual({ kind: 'ood', share: 0.25, label: 'ood-25' });
    expect(parseConfidenceSetting('ood-0')).toEqual({ kind: 'none', share: 0, label: 'ood-0' });
    expect(parseConfidenceSetting('mismatch-50')).toEqual({ kind: 'mismatch', share: 0.5, label: 'mismatch-50' });
    expect(() => parseConfidenceSetting('ood-100')).toThrow(/unknown setting 'ood-100'/);
    expect(() => parseConfidenceSetting('mismatch-0')).toThrow(/needs a share above 0/);
    expect(() => validateConfidenceProtocol(tinyProtocol({ weightings: ['cn'] }))).toThrow(/'fixmatch\+table' needs the 'table' weighting/);
    expect(() => validateConfidenceProtocol(tinyProtocol({ phase2: { steps: 5, evalEvery: 2 } }))).toThrow(/phase2.steps \(5\) must be a multiple of phase2.evalEvery \(2\)/);
    expect(() => validateConfidenceProtocol(tinyProtocol({ phase1: { ...tinyProtocol().phase1, method: 'exact' } }))).toThrow(/phase1.method 'exact' cannot learn/);
  });
});
