// `iml confidence`: the Confidence Network protocol (thesis 5.3.1) on MNIST with Fashion-MNIST / unseen-class pools, each run resumable in a locked run folder, with results.json, summary and report.html.

import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { join } from 'node:path';
import { initGemm } from '../backend/cpu/wasm-gemm.js';
import { METHOD_HELP } from '../hypergrad/methods.js';
import { CONFIDENCE_DATASETS, confidenceData, type ConfidenceDataset } from '../node/confidence-data.js';
import { fileRunStore } from '../node/file-run-store.js';
import { openRunFolder } from '../node/open-run-folder.js';
import { selectBackend } from '../node/select-backend.js';
import { writeFileAtomic } from '../node/write-atomic.js';
import { parseConfidenceSetting, runConfidenceSetting, validateConfidenceProtocol, type ConfidenceProtocol, type ConfidenceRecord } from '../ssl/confidence-experiment.js';
import { CONFIDENCE_METHODS, type ConfidenceMethod, type ConfidenceSettingResult } from '../ssl/confidence-results.js';
import { FIXMATCH_DEFAULTS } from '../ssl/fixmatch-config.js';
import { parseWeightNormalisation, WEIGHT_NORMALISATIONS } from '../ssl/weight-normalisation.js';
import { emaBatchNormOption, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, uniqueIntList, uniqueList } from './options.js';
import { addRunFolderOptions, checkResumeForce } from './run-folder-options.js';
import { provenance } from './provenance.js';
import { writeConfidenceOutputs } from './confidence-output.js';

/**
 * What --quick runs (the whole pipeline on one setting and seed, under 15 minutes on 2 shared cores): ood-50, 10
 * labels per class, 10 validation images per class, a pool of 300 MNIST digits (+300 Fashion-MNIST), batch 8 with
 * mu 2, tau 0.8 (at 0.95 the mask stays near 0 for the first few hundred steps, so the meta-steps would see no
 * unlabelled loss to weigh); phase 1: CN warm-up of 100 Adam steps, 60 FixMatch steps, then 6 meta-epochs of 15 steps (L_V on 50
 * validation images); phase 2: 150 steps per method; evaluation on 300 test images; weights of 100 pool images
 * recorded (wall times measured at load 8-12 are in docs/confidence-network.md).
 */
export const QUICK = {
  settings: ['ood-50'], labels: 10, validation: 10, pool: 300, seeds: [0], batchSize: 8, mu: 2, tau: 0.8, warmupSteps: 60, metaEvery: 15, metaEpochs: 6,
  phase2Steps: 150, evalEvery: 50, evalLimit: 300, cnWarmupSteps: 100, poolSample: 100, metaValidation: 50,
};

const settingList = (v: string): string[] => uniqueList('--settings')(v).map((s) => {
  try {
    parseConfidenceSetting(s);
  } catch (e) {
    throw new InvalidArgumentError(`--settings: ${(e as Error).message}`);
  }
  return s;
});

const weightingList = (v: string): ('cn' | 'table')[] => uniqueList('--weightings')(v).map((w) => {
  if (w !== 'cn' && w !== 'table') throw new InvalidArgumentError(`--weightings: '${w}' is not a weighting (cn, table)`);
  return w;
});

const methodList = (v: string): ConfidenceMethod[] => uniqueList('--methods')(v).map((m) => {
  if (!(CONFIDENCE_METHODS as readonly string[]).includes(m)) throw new InvalidArgumentError(`--methods: '${m}' is not a method (${CONFIDENCE_METHODS.join(', ')})`);
  return m as ConfidenceMethod;
});

export function registerConfidence(program: Command): void {
  const command = program
    .command('confidence')
    .description('Confidence Network for FixMatch (thesis ch. 5) on MNIST with OOD / unseen-class pools: learn the CN and a per-image table, then train supervised, FixMatch, FixMatch+CN, FixMatch+table from scratch')
    .option('--settings <list>', 'pool settings: ood-<percent> (Fashion-MNIST share), mismatch-<percent> (digits 6-9 unseen), none', settingList)
    .option('--labels <n>', 'labelled images per class', positiveInt('--labels'))
    .option('--validation <n>', 'labelled validation images per class (the outer loss)', positiveInt('--validation'))
    .option('--pool <n>', 'MNIST images in every unlabelled pool (OOD images are added)', positiveInt('--pool'))
    .option('--seeds <list>', 'seeds, e.g. 0,1,2', uniqueIntList('--seeds'))
    .option('--weightings <list>', 'weight learners of phase 1: cn,table', weightingList)
    .option('--methods <list>', `phase 2 models: ${CONFIDENCE_METHODS.join(',')}`, methodList)
    .option('--steps <n>', 'phase 2 steps per model (K of its cosine schedule)', positiveInt('--steps'))
    .option('--warmup-steps <n>', 'phase 1: FixMatch steps before the first meta-step', nonNegativeInt('--warmup-steps'))
    .option('--meta-every <n>', 'phase 1: FixMatch steps between meta-steps', positiveInt('--meta-every'))
    .option('--meta-epochs <n>', 'phase 1: meta-steps (meta-epochs)', positiveInt('--meta-epochs'))
    .option('--method <spec>', `inverse-HVP method of the meta-steps: ${METHOD_HELP}`, 'identity')
    .addOption(new Option('--normalisation <mode>', 'normalisation of the batch weights').choices([...WEIGHT_NORMALISATIONS]).default('none'))
    .option('--meta-lr <x>', "Adam's learning rate on the CN's weights", positiveNumber('--meta-lr'), 1e-3)
    .option('--table-meta-lr <x>', "Adam's learning rate on the table's scores", positiveNumber('--table-meta-lr'), 3e-2)
    .option('--meta-unlabelled <n>', "unlabelled images in a CN meta-step's L_T (default: mu x batch size, the inner batch's)", positiveInt('--meta-unlabelled'))
    .option('--table-meta-unlabelled <n>', "unlabelled images in a table meta-step's L_T (default: 10 x mu x batch size; the table learns only the weights of the images it sees)", positiveInt('--table-meta-unlabelled'))
    .option('--meta-validation <n>', 'validation images per meta-step (0: all)', nonNegativeInt('--meta-validation'))
    .option('--cn-warmup-steps <n>', 'Adam steps training the CN to output 1 before phase 1', nonNegativeInt('--cn-warmup-steps'))
    .option('--patience <n>', 'phase 1: meta-epochs without a lower validation loss before stopping (0: never)', nonNegativeInt('--patience'), 0)
    .option('--pool-sample <n>', 'pool images whose weights are recorded every meta-epoch', nonNegativeInt('--pool-sample'))
    .option('--batch-size <n>', 'labelled batch B', positiveInt('--batch-size'))
    .option('--mu <n>', 'unlabelled images per labelled one', positiveInt('--mu'))
    .option('--tau <x>', 'confidence threshold', nonNegativeNumber('--tau'))
    .option('--lr <x>', 'initial learning rate of the classifier', positiveNumber('--lr'))
    .option('--eval-every <n>', 'phase 2 steps between evaluations and checkpoints', positiveInt('--eval-every'))
    .option('--eval-limit <n>', 'evaluate on at most N validation/test images (0: all)', nonNegativeInt('--eval-limit'))
    .addOption(new Option('--dataset <name>', "the task: MNIST (OOD source Fashion-MNIST), Fashion-MNIST (OOD source MNIST) or CIFAR-10 from --data-dir (settings 'none' and 'mismatch-<p>' only)").choices([...CONFIDENCE_DATASETS]).default('mnist'))
    .option('--data-dir <dir>', "folder of the task's files (Fashion-MNIST IDX, CIFAR-10 binary batches)")
    .addOption(new Option('--model <name>', 'classifier').choices(['small-cnn', 'wrn-28-2']).default('small-cnn'))
    .option('--fashion-dir <dir>', 'folder of the Fashion-MNIST IDX files (OOD source of MNIST)')
    .addOption(emaBatchNormOption());
  addRunFolderOptions(command, { quick: `reduced protocol: ${JSON.stringify(QUICK)}`, out: 'run folder (default runs/confidence-<time>)', noProgress: 'one line per meta-epoch / evaluation instead of a progress bar' })
    .action(async (o) => {
      checkResumeForce(o);
      const q = o.quick ? QUICK : null;
      const phase2Steps = o.steps ?? q?.phase2Steps ?? 2000;
      const protocol: ConfidenceProtocol = {
        // Only when not MNIST, so protocols of folders written before the option stay equal.
        ...(o.dataset !== 'mnist' ? { dataset: o.dataset as ConfidenceDataset } : {}),
        labelsPerClass: o.labels ?? q?.labels ?? 25,
        validationPerClass: o.validation ?? q?.validation ?? 100,
        poolInDistribution: o.pool ?? q?.pool ?? 2500,
        seeds: o.seeds ?? q?.seeds ?? [0, 1, 2],
        settings: (o.settings ?? q?.settings ?? ['ood-0', 'ood-25', 'ood-50', 'ood-75', 'mismatch-50']).map(parseConfidenceSetting),
        weightings: o.weightings ?? ['cn', 'table'],
        methods: o.methods ?? [...CONFIDENCE_METHODS],
        fixmatch: {
          ...FIXMATCH_DEFAULTS,
          model: o.model,
          batchSize: o.batchSize ?? q?.batchSize ?? FIXMATCH_DEFAULTS.batchSize,
          mu: o.mu ?? q?.mu ?? FIXMATCH_DEFAULTS.mu,
          tau: o.tau ?? q?.tau ?? FIXMATCH_DEFAULTS.tau,
          lr: o.lr ?? FIXMATCH_DEFAULTS.lr,
          evalLimit: o.evalLimit ?? q?.evalLimit ?? FIXMATCH_DEFAULTS.evalLimit,
          flip: false,
          // Only when asked for, so protocols of folders written before the option stay equal.
          ...(o.emaBn === 'recompute' ? { emaBatchNorm: 'recompute' as const } : {}),
        },
        phase1: {
          warmupSteps: o.warmupSteps ?? q?.warmupSteps ?? 500,
          metaEvery: o.metaEvery ?? q?.metaEvery ?? 50,
          metaEpochs: o.metaEpochs ?? q?.metaEpochs ?? 30,
          method: o.method,
          normalisation: parseWeightNormalisation(o.normalisation),
          metaLr: { cn: o.metaLr, table: o.tableMetaLr },
          metaUnlabelled: { cn: 0, table: 0 }, // set below from B and μ
          metaValidation: o.metaValidation ?? q?.metaValidation ?? 500,
          cnWarmupSteps: o.cnWarmupSteps ?? q?.cnWarmupSteps ?? 300,
          cnWidths: [8, 16],
          patience: o.patience,
          checkpointEvery: 1,
        },
        phase2: { steps: phase2Steps, evalEvery: o.evalEvery ?? q?.evalEvery ?? Math.min(100, phase2Steps) },
        poolSample: o.poolSample ?? q?.poolSample ?? 500,
      };
      const inner = protocol.fixmatch.mu * protocol.fixmatch.batchSize;
      protocol.phase1.metaUnlabelled = { cn: o.metaUnlabelled ?? inner, table: o.tableMetaUnlabelled ?? 10 * inner };
      validateConfidenceProtocol(protocol);
      const folder = openRunFolder({ command: 'confidence', name: 'confidence', out: o.out, quick: Boolean(o.quick), resume: Boolean(o.resume), force: Boolean(o.force), protocol, onMessage: (l) => console.log(l) });
      const { out, runsDir } = folder;
      try {
        await initGemm();
        const backendLabel = await selectBackend(o.backend);
        const folderConfig = await folder.writeConfig(provenance(backendLabel));
        const data = confidenceData(protocol.settings, { ...protocol, dataset: o.dataset, dataDir: o.dataDir, fashionDir: o.fashionDir });
        const p1 = protocol.phase1;
        console.log(`Confidence Network on ${data.name}${o.quick ? ' [--quick]' : ''}: settings ${protocol.settings.map((s) => s.label).join(', ')}, seeds ${protocol.seeds.join(', ')}, ` +
          `${protocol.labelsPerClass} labels/class; phase 1 ${p1.warmupSteps} + ${p1.metaEpochs} x ${p1.metaEvery} steps (${p1.method}), phase 2 ${protocol.phase2.steps} steps\nrun folder: ${out}\nbackend: ${backendLabel}`);
        let bar: cliProgress.SingleBar | null = null;
        const results: ConfidenceSettingResult[] = [];
        try {
          for (const setting of protocol.settings) {
            for (const seed of protocol.seeds) {
              results.push(await runConfidenceSetting(protocol, setting, seed, {
                split: data.split,
                store: (name) => fileRunStore<ConfidenceRecord>(join(runsDir, name)),
                resume: Boolean(o.resume),
                onRunStart: (name, total) => {
                  bar?.stop();
                  bar = o.progress && process.stdout.isTTY
                    ? new cliProgress.SingleBar({ format: `${name} [{bar}] {value}/{total} | L_V {lv} | test {acc} | w id/ood {w}` }, cliProgress.Presets.shades_classic)
                    : null;
                  bar?.start(total, 0, { lv: '-', acc: '-', w: '-' });
                },
                onRecord: (name, m) => {
                  const w = m.meanWeightId !== null && m.meanWeightOod !== null ? `${m.meanWeightId.toFixed(3)}/${m.meanWeightOod.toFixed(3)}` : '-';
                  bar?.update(m.innerStep, { lv: m.validationLoss.toFixed(4), acc: `${(100 * m.testAccuracy).toFixed(2)}%`, w });
                  if (!bar) {
                    console.log(`${name} step ${m.innerStep}: L_V ${m.validationLoss.toFixed(4)}, EMA test ${(100 * m.testAccuracy).toFixed(2)}%, mask ${(100 * m.maskRate).toFixed(1)}%, ` +
                      `weight id/ood ${w}${m.poolAuroc !== null ? `, AUROC ${m.poolAuroc.toFixed(3)}` : ''}${m.hypergradNorm ? `, |hypergrad| ${m.hypergradNorm.toExponential(3)}` : ''}`);
                  }
                },
              }));
              await writeFileAtomic(join(out, 'results.json'), `${JSON.stringify(results)}\n`);
            }
          }
        } finally {
          (bar as cliProgress.SingleBar | null)?.stop();
        }
        const markdown = await writeConfidenceOutputs({ out, title: `Confidence Network${o.quick ? ' [--quick]' : ''}`, dataName: data.name, protocol, results, split: data.split, config: folderConfig });
        console.log(`\n${markdown}\nreport: ${join(out, 'report.html')}`);
      } finally {
        folder.release();
      }
    });
}
