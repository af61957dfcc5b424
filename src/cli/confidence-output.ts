// Writes a Confidence Network experiment's outputs into a folder (summary.md, summary.json, plots/*.svg, report.html with fig. 5.2 per setting), shared by `iml confidence` and `iml confidence-report`.

import { join } from 'node:path';
import { encodePngRgb } from '../node/png.js';
import { writeFileAtomic } from '../node/write-atomic.js';
import { renderHtmlReport } from '../report/html.js';
import { tableToMarkdown } from '../report/markdown.js';
import type { ConfidenceProtocol } from '../ssl/confidence-experiment.js';
import { confidenceReportSections } from '../ssl/confidence-report.js';
import type { ConfidenceSetting, ConfidenceSettingResult } from '../ssl/confidence-results.js';
import type { OodSplit } from '../ssl/ood-split.js';

/** File name of a report plot: its title's words, lower case, joined by '-'. */
function plotFileName(title: string, i: number): string {
  const slug = title.toLowerCase().replace(/\(thesis fig[^)]*\)/g, '').replace(/[^a-z0-9]+/g, '-').slice(0, 60).replace(/^-+|-+$/g, '');
  return `${String(i + 1).padStart(2, '0')}-${slug || 'plot'}.svg`;
}

/** "seeds 0, 1" when every setting has the same seeds, else "seeds: ood-0 0, 1; ood-25 0". */
function seedText(results: readonly ConfidenceSettingResult[]): string {
  const by = new Map<string, number[]>();
  for (const r of results) by.set(r.setting.label, [...(by.get(r.setting.label) ?? []), r.seed]);
  const lists = [...by.entries()].map(([label, seeds]) => ({ label, text: seeds.join(', ') }));
  if (lists.every((l) => l.text === lists[0]?.text)) return `seeds ${lists[0]?.text ?? '-'}`;
  return `seeds: ${lists.map((l) => `${l.label} ${l.text}`).join('; ')}`;
}

export interface ConfidenceOutputs {
  out: string;
  title: string;
  /** The data sets' name for the intro. */
  dataName: string;
  protocol: ConfidenceProtocol;
  results: ConfidenceSettingResult[];
  /** The split of a setting for a seed (fig. 5.2 draws the pool images the sample indices point into). */
  split(setting: ConfidenceSetting, seed: number): OodSplit;
  /** What report.html shows as the configuration (the run folder's config.json). */
  config: unknown;
}

/** Writes the outputs and returns the summary's markdown. Fig. 5.2 is drawn for the first seed of every setting that learned weights. */
export async function writeConfidenceOutputs(o: ConfidenceOutputs): Promise<string> {
  const { out, protocol, results } = o;
  const firstSeed = new Map<string, ConfidenceSettingResult>();
  for (const r of results) if (r.weightLearning.length > 0 && !firstSeed.has(r.setting.label)) firstSeed.set(r.setting.label, r);
  const images = [...firstSeed.values()].map((r) => ({ pool: o.split(r.setting, r.seed).unlabelled, setting: r.setting.label, seed: r.seed }));
  const { tables, plots } = await confidenceReportSections(results, { images, encodePng: encodePngRgb });
  for (const [i, plot] of plots.entries()) await writeFileAtomic(join(out, 'plots', plotFileName(plot.title, i)), plot.svg);
  const p1 = protocol.phase1;
  const intro = `${o.dataName}: ${protocol.labelsPerClass} labels/class, ${protocol.validationPerClass} validation images/class, pools of ${protocol.poolInDistribution} in-distribution images plus the OOD share; ` +
    `FixMatch batch ${protocol.fixmatch.batchSize}, mu ${protocol.fixmatch.mu}, tau ${protocol.fixmatch.tau}, ${protocol.fixmatch.model}; phase 1: ${p1.warmupSteps} warm-up steps, ${p1.metaEpochs} meta-steps every ${p1.metaEvery} steps ` +
    `(${p1.method}, Adam lr ${p1.metaLr.cn} CN / ${p1.metaLr.table} table, ${p1.metaUnlabelled.cn} / ${p1.metaUnlabelled.table} unlabelled images per meta-step, normalisation ${p1.normalisation}); ` +
    `phase 2: ${protocol.phase2.steps} steps from scratch; ${seedText(results)}.`;
  const markdown = `# ${o.title}\n\n${intro}\n\n${tables.map(tableToMarkdown).join('\n\n')}\n`;
  await writeFileAtomic(join(out, 'summary.md'), markdown);
  const slim = results.map((r) => ({ ...r, weightLearning: r.weightLearning.map((w) => ({ ...w, snapshots: undefined, sample: undefined, inDistribution: undefined, labels: undefined })) }));
  await writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify({ protocol, results: slim }, null, 2)}\n`);
  await writeFileAtomic(join(out, 'report.html'), renderHtmlReport({ title: o.title, intro, config: o.config, tables, plots }));
  return markdown;
}
