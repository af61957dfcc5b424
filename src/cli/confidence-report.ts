// `iml confidence-report`: one report (summary, plots, report.html) from several `iml confidence` run folders, e.g. settings or seeds run in parallel processes.

import type { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { confidenceData, type ConfidenceDataset } from '../node/confidence-data.js';
import { readJsonFile } from '../node/read-json.js';
import { writeFileAtomic } from '../node/write-atomic.js';
import type { ConfidenceProtocol } from '../ssl/confidence-experiment.js';
import { mergeConfidenceParts, type ConfidencePart } from '../ssl/confidence-merge.js';
import type { ConfidenceSettingResult } from '../ssl/confidence-results.js';
import { writeConfidenceOutputs } from './confidence-output.js';
import { provenance } from './provenance.js';

/** A run folder's protocol, provenance and finished results; throws naming the folder and what is missing. */
export function readConfidencePart(folder: string): ConfidencePart & { provenance: unknown } {
  const configFile = join(folder, 'config.json');
  if (!existsSync(configFile)) throw new Error(`${folder} has no config.json: is it an 'iml confidence' run folder?`);
  const config = readJsonFile(configFile) as { command?: string; protocol?: ConfidenceProtocol; provenance?: unknown };
  if (config.command !== 'confidence' || !config.protocol) throw new Error(`${configFile} was written by '${config.command ?? '?'}', not 'iml confidence'`);
  const protocol = config.protocol as Partial<ConfidenceProtocol>;
  const missing = (field: string): Error => new Error(`${configFile}: protocol.${field} is missing or not what 'iml confidence' writes (was the file edited?)`);
  if (!Array.isArray(protocol.settings)) throw missing('settings (a list)');
  if (typeof protocol.phase1 !== 'object' || protocol.phase1 === null) throw missing('phase1 (an object)');
  const p1 = protocol.phase1 as Partial<ConfidenceProtocol['phase1']>;
  // Folders written before metaUnlabelled existed drew μB unlabelled images for both learners' meta-steps.
  if (p1.metaUnlabelled === undefined) {
    const fm = protocol.fixmatch as Partial<ConfidenceProtocol['fixmatch']> | undefined;
    if (typeof fm?.mu !== 'number' || typeof fm.batchSize !== 'number') {
      throw missing('fixmatch.mu and protocol.fixmatch.batchSize (numbers; needed because protocol.phase1.metaUnlabelled is absent)');
    }
    const inner = fm.mu * fm.batchSize;
    p1.metaUnlabelled = { cn: inner, table: inner };
  }
  const resultsFile = join(folder, 'results.json');
  if (!existsSync(resultsFile)) throw new Error(`${folder} has no results.json yet: no setting and seed of it has finished`);
  const results = readJsonFile(resultsFile) as ConfidenceSettingResult[];
  if (!Array.isArray(results)) throw new Error(`${resultsFile} does not hold a list of results`);
  return { where: folder, protocol: config.protocol, results, provenance: config.provenance };
}

export function registerConfidenceReport(program: Command): void {
  program
    .command('confidence-report')
    .description('merge the finished results of several `iml confidence` run folders (same protocol apart from settings and seeds) into one summary and report.html')
    .argument('<folders...>', 'run folders of iml confidence')
    .requiredOption('--out <dir>', 'folder for summary.md, summary.json, plots/ and report.html')
    .option('--data-dir <dir>', "folder of the task's files when it is not MNIST (Fashion-MNIST IDX, CIFAR-10 binary batches), for the pictures")
    .option('--fashion-dir <dir>', 'folder of the Fashion-MNIST IDX files (for the pictures of OOD pools)')
    .option('--force', 'overwrite a report already in --out')
    .action(async (folders: string[], o: { out: string; dataDir?: string; fashionDir?: string; force?: boolean }) => {
      const out = resolve(o.out);
      for (const f of folders) if (resolve(f) === out) throw new Error(`--out ${o.out} is one of the run folders; choose another folder`);
      if (existsSync(out) && readdirSync(out).includes('report.html') && !o.force) throw new Error(`${o.out} already holds a report.html: pass --force to overwrite it`);
      const parts = folders.map(readConfidencePart);
      const { protocol, results } = mergeConfidenceParts(parts);
      const data = confidenceData(protocol.settings, { ...protocol, dataset: (protocol.dataset ?? 'mnist') as ConfidenceDataset, dataDir: o.dataDir, fashionDir: o.fashionDir });
      const config = {
        command: 'confidence-report', protocol, provenance: provenance('none (merges the source folders below)'),
        sources: parts.map((p) => ({ folder: resolve(p.where), results: p.results.map((r) => `${r.setting.label} seed ${r.seed}`), provenance: p.provenance })),
      };
      await writeFileAtomic(join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
      const markdown = await writeConfidenceOutputs({ out, title: 'Confidence Network', dataName: data.name, protocol, results, split: data.split, config });
      console.log(`${markdown}\nreport: ${join(out, 'report.html')}`);
    });
}
