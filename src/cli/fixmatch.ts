// `iml fixmatch`: FixMatch vs supervised-only over labels-per-class x seeds, each run resumable in a locked run folder, with metrics, summary, plots and report.html.

import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { join } from 'node:path';
import { allowsHorizontalFlip } from '../augment/flip-policy.js';
import { initGemm } from '../backend/cpu/wasm-gemm.js';
import { openRunFolder } from '../node/open-run-folder.js';
import { renderHtmlReport } from '../report/html.js';
import { tableToMarkdown } from '../report/markdown.js';
import { FIXMATCH_DEFAULTS, validateFixMatchConfig, type FixMatchConfig, type SslMethod, type SslModel } from '../ssl/fixmatch-config.js';
import { FixMatchDivergence, trainFixMatch } from '../ssl/fixmatch-trainer.js';
import { createSslModel } from '../ssl/models.js';
import { sslCurveSvg, sslSummaryTable, SSL_CURVES, type SslCurve, type SslRunResult } from '../ssl/report.js';
import { sslSplit } from '../ssl/ssl-split.js';
import { Random } from '../util/random.js';
import { writeFileAtomic } from '../node/write-atomic.js';
import { DATASET_NAMES, loadDataset } from '../node/datasets.js';
import { fileFixMatchStore } from '../node/fixmatch-file-store.js';
import { selectBackend } from '../node/select-backend.js';
import { emaBatchNormOption, nonNegativeInt, positiveInt, positiveNumber, nonNegativeNumber, uniqueIntList, uniqueList } from './options.js';
import { addRunFolderOptions, checkResumeForce } from './run-folder-options.js';
import { provenance } from './provenance.js';

/**
 * What --quick runs (a smoke run of the whole pipeline, under 15 minutes on 2 shared cores): 10 labels per class,
 * both methods, one seed, 150 steps of batch 16 with mu 3, evaluation on 1000 images (200 steps took 14.3 minutes at load 8-14).
 */
export const QUICK = { steps: 150, batchSize: 16, mu: 3, evalEvery: 50, checkpointEvery: 50, evalLimit: 1000, labels: [10], seeds: [0] };

interface Protocol {
  dataset: string;
  labels: number[];
  methods: SslMethod[];
  seeds: number[];
  config: Omit<FixMatchConfig, 'method' | 'seed'>;
}

const methodList = (v: string): SslMethod[] => uniqueList('--methods')(v).map((m) => {
  if (m !== 'fixmatch' && m !== 'supervised') throw new InvalidArgumentError(`--methods: '${m}' is not a method (fixmatch, supervised)`);
  return m;
});

function runName(method: string, labels: number, seed: number): string {
  return `${method}-L${labels}-seed${seed}`;
}


export function registerFixMatch(program: Command): void {
  const command = program
    .command('fixmatch')
    .description('FixMatch (thesis 2.2) vs supervised-only on L labels per class; run folder with metrics, checkpoints, plots and report.html')
    .option('--dataset <name>', `one of ${DATASET_NAMES.join(', ')}`, 'mnist')
    .option('--data-dir <dir>', 'folder for fashion-mnist (IDX) or cifar10 (binary batches)')
    .option('--labels <list>', 'labelled images per class, e.g. 10,25', uniqueIntList('--labels', 1))
    .option('--methods <list>', 'fixmatch,supervised', methodList)
    .option('--seeds <list>', 'seeds, e.g. 0,1,2', uniqueIntList('--seeds'))
    .addOption(new Option('--model <name>', 'classifier').choices(['small-cnn', 'wrn-28-2']).default('small-cnn'))
    .option('--steps <n>', 'total steps K (cosine schedule length)', positiveInt('--steps'))
    .option('--batch-size <n>', 'labelled batch B', positiveInt('--batch-size'))
    .option('--mu <n>', 'unlabelled images per labelled one', positiveInt('--mu'))
    .option('--tau <x>', 'confidence threshold', nonNegativeNumber('--tau'))
    .option('--lambda-u <x>', 'weight of the unlabelled loss', nonNegativeNumber('--lambda-u'))
    .option('--lr <x>', 'initial learning rate', positiveNumber('--lr'))
    .option('--weight-decay <x>', 'L2 on weights (not biases / batch norm)', nonNegativeNumber('--weight-decay'))
    .option('--ema <x>', 'EMA decay of the evaluated weights', nonNegativeNumber('--ema'))
    .option('--no-ema-warmup', 'EMA decay from the first step (default: min(decay, (1+t)/(10+t)) at step t)')
    .option('--eval-every <n>', 'steps between evaluations', positiveInt('--eval-every'))
    .option('--checkpoint-every <n>', 'steps between checkpoints (multiple of --eval-every)', positiveInt('--checkpoint-every'))
    .option('--eval-limit <n>', 'evaluate on at most N validation/test images (0: all)', nonNegativeInt('--eval-limit'))
    .addOption(emaBatchNormOption());
  addRunFolderOptions(command, { quick: `reduced protocol: ${JSON.stringify(QUICK)}`, out: 'run folder (default runs/fixmatch-<dataset>-<time>)', noProgress: 'one line per evaluation instead of a progress bar' })
    .action(async (o) => {
      checkResumeForce(o);
      const q = o.quick ? QUICK : null;
      const flip = allowsHorizontalFlip(o.dataset);
      const steps = o.steps ?? q?.steps ?? 20000;
      const evalEvery = o.evalEvery ?? q?.evalEvery ?? FIXMATCH_DEFAULTS.evalEvery;
      const protocol: Protocol = {
        dataset: o.dataset,
        labels: o.labels ?? q?.labels ?? [10, 25],
        methods: o.methods ?? ['fixmatch', 'supervised'],
        seeds: o.seeds ?? q?.seeds ?? [0, 1, 2],
        config: {
          ...FIXMATCH_DEFAULTS,
          model: o.model as SslModel,
          steps,
          batchSize: o.batchSize ?? q?.batchSize ?? FIXMATCH_DEFAULTS.batchSize,
          mu: o.mu ?? q?.mu ?? FIXMATCH_DEFAULTS.mu,
          tau: o.tau ?? FIXMATCH_DEFAULTS.tau,
          lambdaU: o.lambdaU ?? FIXMATCH_DEFAULTS.lambdaU,
          lr: o.lr ?? FIXMATCH_DEFAULTS.lr,
          weightDecay: o.weightDecay ?? FIXMATCH_DEFAULTS.weightDecay,
          emaDecay: o.ema ?? FIXMATCH_DEFAULTS.emaDecay,
          emaWarmup: o.emaWarmup !== false,
          evalEvery,
          checkpointEvery: o.checkpointEvery ?? q?.checkpointEvery ?? Math.max(evalEvery, Math.round(FIXMATCH_DEFAULTS.checkpointEvery / evalEvery) * evalEvery),
          evalLimit: o.evalLimit ?? q?.evalLimit ?? FIXMATCH_DEFAULTS.evalLimit,
          flip,
          // Only written when not the default, so run folders from before the option still resume.
          ...(o.emaBn === 'recompute' ? { emaBatchNorm: 'recompute' as const } : {}),
        },
      };
      for (const method of protocol.methods) validateFixMatchConfig({ ...protocol.config, method, seed: 0, mu: method === 'supervised' ? 0 : protocol.config.mu });
      const folder = openRunFolder({ command: 'fixmatch', name: `fixmatch-${o.dataset}`, out: o.out, quick: Boolean(o.quick), resume: Boolean(o.resume), force: Boolean(o.force), protocol, onMessage: (l) => console.log(l) });
      const { out, runsDir } = folder;
      try {
        await initGemm();
        const backendLabel = await selectBackend(o.backend);
        const folderConfig = await folder.writeConfig(provenance(backendLabel));
        const loaded = loadDataset(o.dataset, { dataDir: o.dataDir, seed: 0 });
        const n = protocol.labels.length * protocol.methods.length * protocol.seeds.length;
        console.log(`FixMatch on ${loaded.name}${o.quick ? ' [--quick]' : ''}: ${n} run(s), ${steps} steps, batch ${protocol.config.batchSize}, mu ${protocol.config.mu}, ` +
          `${protocol.config.model}, flip ${flip ? 'on' : 'off'}\nrun folder: ${out}\nbackend: ${backendLabel}`);
        const results: SslRunResult[] = [];
        for (const labels of protocol.labels) {
          for (const seed of protocol.seeds) {
            const split = sslSplit(loaded.train, labels, seed);
            for (const method of protocol.methods) {
              const name = runName(method, labels, seed);
              const cfg: FixMatchConfig = { ...protocol.config, method, seed, mu: method === 'supervised' ? 0 : protocol.config.mu };
              const store = fileFixMatchStore(join(runsDir, name));
              const model = createSslModel(cfg.model, { channels: loaded.train.channels, side: loaded.train.height, classes: loaded.train.numClasses }, new Random(seed));
              const bar = o.progress && process.stdout.isTTY
                ? new cliProgress.SingleBar({ format: `${name} [{bar}] {value}/{total} | loss {loss} | test {acc}` }, cliProgress.Presets.shades_classic)
                : null;
              bar?.start(steps, 0, { loss: '-', acc: '-' });
              let diverged: string | undefined;
              let metrics = await store.readMetrics();
              try {
                const r = await trainFixMatch(model, { ...split, validation: loaded.validation, test: loaded.test }, cfg, store, {
                  resume: Boolean(o.resume),
                  onStep: (step, loss) => bar?.update(step, { loss: loss.toFixed(4) }),
                  onEvaluation: (m) => {
                    bar?.update(m.step, { acc: `${(100 * m.testAccuracy).toFixed(2)}%` });
                    if (!bar) {
                      console.log(`${name} step ${m.step}/${steps}: loss ${m.supervisedLoss.toFixed(4)}+${m.unsupervisedLoss.toFixed(4)}, mask ${(100 * m.maskRate).toFixed(1)}%, ` +
                        `pseudo ${(100 * m.pseudoAccuracy).toFixed(1)}%, EMA test ${(100 * m.testAccuracy).toFixed(2)}%, lr ${m.lr.toExponential(3)}, ${m.stepsPerSecond.toFixed(2)} steps/s`);
                    }
                  },
                });
                metrics = r.metrics;
              } catch (e) {
                if (!(e instanceof FixMatchDivergence)) throw e;
                diverged = e.message;
                metrics = await store.readMetrics();
                console.log(`${name}: ${e.message}`);
              } finally {
                bar?.stop();
              }
              results.push({ method, labelsPerClass: labels, seed, metrics, diverged });
            }
          }
        }
        const table = sslSummaryTable(results);
        const plots: { title: string; svg: string }[] = [];
        for (const curve of Object.keys(SSL_CURVES) as SslCurve[]) {
          const svg = await sslCurveSvg(results, curve);
          await writeFileAtomic(join(out, 'plots', `${curve}.svg`), svg);
          plots.push({ title: SSL_CURVES[curve], svg });
        }
        const intro = `${loaded.name}: ${steps} steps (K), batch ${protocol.config.batchSize}, mu ${protocol.config.mu}, tau ${protocol.config.tau}, lambda_u ${protocol.config.lambdaU}, ` +
          `lr ${protocol.config.lr} cosine, weight decay ${protocol.config.weightDecay}, EMA ${protocol.config.emaDecay}, ${protocol.config.model}; seeds ${protocol.seeds.join(', ')}.`;
        const markdown = `# FixMatch${o.quick ? ' [--quick]' : ''}\n\n${intro}\n\n${tableToMarkdown(table)}\n`;
        await writeFileAtomic(join(out, 'summary.md'), markdown);
        await writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify({ protocol, runs: results.map((r) => ({ ...r, final: r.metrics.at(-1) ?? null, metrics: undefined })) }, null, 2)}\n`);
        const html = renderHtmlReport({ title: `FixMatch${o.quick ? ' [--quick]' : ''}`, intro, config: folderConfig, tables: [table], plots });
        await writeFileAtomic(join(out, 'report.html'), html);
        console.log(`\n${markdown}\nreport: ${join(out, 'report.html')}`);
      } finally {
        folder.release();
      }
    });
}
