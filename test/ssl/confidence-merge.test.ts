// Merging Confidence Network run folders: results ordered by setting then seed, the protocol narrowed to what the results hold, and refusals naming the folders and fields (another protocol, a setting label with two meanings, a setting and seed twice).
import { describe, expect, it } from 'vitest';
import { parseConfidenceSetting } from '../../src/ssl/confidence-experiment.js';
import { mergeConfidenceParts, type ConfidencePart } from '../../src/ssl/confidence-merge.js';
import type { ConfidenceSettingResult } from '../../src/ssl/confidence-results.js';
import { tinyProtocol } from './confidence-cases.js';

/** A result with only what the merge reads (setting, seed) and a marker. */
const result = (label: string, seed: number, acc: number) =>
  ({ setting: parseConfidenceSetting(label), seed, labelsPerClass: 2, testAccuracy: { fixmatch: acc }, weightLearning: [] }) as unknown as ConfidenceSettingResult;

const part = (where: string, settings: string[], seeds: number[], results: ConfidenceSettingResult[], over = {}): ConfidencePart =>
  ({ where, protocol: tinyProtocol({ settings: settings.map(parseConfidenceSetting), seeds, ...over }), results });

describe('mergeConfidenceParts', () => {
  it('orders results by setting (first appearance) then seed; settings and seeds are those with results', () => {
    const a = part('a', ['ood-0', 'ood-25'], [0], [result('ood-0', 0, 0.1), result('ood-25', 0, 0.2)]);
    const b = part('b', ['ood-50', 'ood-0'], [1, 2], [result('ood-50', 1, 0.3), result('ood-0', 2, 0.4), result('ood-0', 1, 0.5)]);
    const m = mergeConfidenceParts([a, b]);
    expect(m.results.map((r) => `${r.setting.label}/${r.seed}/${r.testAccuracy.fixmatch}`)).toEqual(['ood-0/0/0.1', 'ood-0/1/0.5', 'ood-0/2/0.4', 'ood-25/0/0.2', 'ood-50/1/0.3']);
    expect(m.protocol.settings.map((s) => s.label)).toEqual(['ood-0', 'ood-25', 'ood-50']);
    expect(m.protocol.seeds).toEqual([0, 1, 2]);
    // A folder whose ood-75 never finished does not put ood-75 or its seed into the merged protocol.
    const c = part('c', ['ood-75'], [9], []);
    expect(mergeConfidenceParts([a, c]).protocol).toMatchObject({ seeds: [0], settings: [{ label: 'ood-0' }, { label: 'ood-25' }] });
  });

  it('refuses another protocol, naming the folders, the field and both values', () => {
    const a = part('runs/a', ['ood-0'], [0], [result('ood-0', 0, 0.1)]);
    const b = part('runs/b', ['ood-25'], [0], [result('ood-25', 0, 0.2)], { phase1: { ...tinyProtocol().phase1, metaLr: { cn: 0.01, table: 0.03 } } });
    expect(() => mergeConfidenceParts([a, b])).toThrow('confidence merge: runs/b was run with another protocol than runs/a:\n  phase1.metaLr.table: 0.05 vs 0.03');
    const c = part('runs/c', ['ood-25'], [0], [], { labelsPerClass: 3 });
    expect(() => mergeConfidenceParts([a, c])).toThrow(/labelsPerClass: 2 vs 3/);
  });

  it('refuses the same setting and seed twice, and a label that means two pools', () => {
    const a = part('runs/a', ['ood-0'], [0], [result('ood-0', 0, 0.1)]);
    const b = part('runs/b', ['ood-0'], [0, 1], [result('ood-0', 1, 0.2), result('ood-0', 0, 0.3)]);
    expect(() => mergeConfidenceParts([a, b])).toThrow('confidence merge: ood-0 seed 0 is in both runs/a and runs/b; give each setting and seed once');
    const odd = { where: 'runs/d', protocol: tinyProtocol({ settings: [{ kind: 'ood', share: 0.3, label: 'ood-0' }] }), results: [] } as ConfidencePart;
    expect(() => mergeConfidenceParts([a, odd])).toThrow(/setting 'ood-0' means .* in runs\/d/);
    expect(() => mergeConfidenceParts([])).toThrow(/no run folders given/);
  });
});
