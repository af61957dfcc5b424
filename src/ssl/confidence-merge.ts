// Merges the results of several Confidence Network run folders (e.g. settings or seeds run in parallel processes) into one result list and protocol, refusing folders whose protocols differ in anything but their settings and seeds, or that hold the same setting and seed twice.

import { jsonDifferences } from '../bilevel/config-differences.js';
import type { ConfidenceProtocol } from './confidence-experiment.js';
import type { ConfidenceSetting, ConfidenceSettingResult } from './confidence-results.js';

/** One folder's part: its name (for messages), protocol and finished results. */
export interface ConfidencePart {
  where: string;
  protocol: ConfidenceProtocol;
  results: readonly ConfidenceSettingResult[];
}

/**
 * The merged protocol (the first part's, with the settings and seeds the results hold: settings in order of
 * appearance, seeds sorted) and results (by setting in that order, then seed). Throws naming the folders and fields when the
 * protocols differ elsewhere, when a setting label means two different pools, or when a setting and seed occur twice.
 */
export function mergeConfidenceParts(parts: readonly ConfidencePart[]): { protocol: ConfidenceProtocol; results: ConfidenceSettingResult[] } {
  if (parts.length === 0) throw new Error('confidence merge: no run folders given');
  const strip = (p: ConfidenceProtocol) => ({ ...p, settings: undefined, seeds: undefined });
  const first = parts[0];
  for (const part of parts.slice(1)) {
    const diff = jsonDifferences(strip(first.protocol), strip(part.protocol), (path, a, b) => `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    if (diff.length > 0) throw new Error(`confidence merge: ${part.where} was run with another protocol than ${first.where}:\n  ${diff.join('\n  ')}`);
  }
  const settings: ConfidenceSetting[] = [];
  const seen = new Map<string, string>();
  const results: ConfidenceSettingResult[] = [];
  for (const part of parts) {
    for (const s of part.protocol.settings) {
      const had = settings.find((x) => x.label === s.label);
      if (!had) settings.push(s);
      else if (had.kind !== s.kind || had.share !== s.share) throw new Error(`confidence merge: setting '${s.label}' means ${JSON.stringify(had)} in one folder and ${JSON.stringify(s)} in ${part.where}`);
    }
    for (const r of part.results) {
      const key = `${r.setting.label} seed ${r.seed}`;
      const prev = seen.get(key);
      if (prev !== undefined) throw new Error(`confidence merge: ${key} is in both ${prev} and ${part.where}; give each setting and seed once`);
      seen.set(key, part.where);
      results.push(r);
    }
  }
  const order = (r: ConfidenceSettingResult): number => settings.findIndex((s) => s.label === r.setting.label);
  results.sort((a, b) => order(a) - order(b) || a.seed - b.seed);
  // The protocol names what the results hold: settings and seeds of unfinished runs are left out.
  const used = settings.filter((s) => results.some((r) => r.setting.label === s.label));
  const seeds = [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b);
  return { protocol: { ...first.protocol, settings: used, seeds }, results };
}
