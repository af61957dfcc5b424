// Merges the results of several Confidence Network run folders (e.g. settings or seeds run in parallel processes) into one result list and protocol, refusing folders whose protocols differ in anything but their settings and seeds, or that hold the same setting and seed twice.

import type { ConfidenceProtocol } from './confidence-experiment.js';
import type { ConfidenceSetting, ConfidenceSettingResult } from './confidence-results.js';

/** One folder's part: its name (for messages), protocol and finished results. */
export interface ConfidencePart {
  where: string;
  protocol: ConfidenceProtocol;
  results: readonly ConfidenceSettingResult[];
}

/** Paths ('phase1.metaLr.table') where two JSON values differ; [] when equal. */
function differences(a: unknown, b: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path || '(the protocol)'];
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
    const diff = differences(strip(first.protocol), strip(part.protocol));
    if (diff.length > 0) {
      const show = (p: ConfidenceProtocol, path: string) => JSON.stringify(path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], p));
      throw new Error(`confidence merge: ${part.where} was run with another protocol than ${first.where}:\n  ${diff.map((d) => `${d}: ${show(first.protocol, d)} vs ${show(part.protocol, d)}`).join('\n  ')}`);
    }
  }
  const settings: ConfidenceSetting[] = [];
  const seen = new Map<string, string>();
  const results: { r: ConfidenceSettingResult; order: number }[] = [];
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
      results.push({ r, order: 0 });
    }
  }
  for (const x of results) x.order = settings.findIndex((s) => s.label === x.r.setting.label);
  results.sort((a, b) => a.order - b.order || a.r.seed - b.r.seed);
  // The protocol names what the results hold: settings and seeds of unfinished runs are left out.
  const used = settings.filter((s) => results.some((x) => x.r.setting.label === s.label));
  const seeds = [...new Set(results.map((x) => x.r.seed))].sort((a, b) => a - b);
  return { protocol: { ...first.protocol, settings: used, seeds }, results: results.map((x) => x.r) };
}
