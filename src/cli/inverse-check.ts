// `iml inverse-check`: the command over runInverseCheck (src/linalg) with problems from files, checkpoints or built-in MNIST (src/node).

import { Command, InvalidArgumentError } from 'commander';
import { formatInverseCheck, runInverseCheck } from '../linalg/inverse-check.js';
import { BUILTIN_DEFAULTS, problemToJson, type BuiltinOptions, type InverseCheckProblem } from '../linalg/inverse-check-problem.js';
import { builtinProblem, checkpointProblem, readProblemFile } from '../node/inverse-check-files.js';
import { checkWritable, writeFileAtomic } from '../node/write-atomic.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, uniqueIntList } from './options.js';

/** A comma list of distinct non-negative integers; '' or 'none' is the empty list. */
function intList(name: string) {
  const parse = uniqueIntList(name);
  return (v: string): number[] => (v.trim() === '' || v.trim() === 'none' ? [] : parse(v));
}

/** Adds `iml inverse-check` to the program. */
export function registerInverseCheck(program: Command): void {
  program
    .command('inverse-check')
    .description('exact H⁻¹g (dense Hessian, Cholesky/LU/eigen in Wasm) vs Neumann, CG and identity: cosine, relative error, norms, time, peak memory')
    .option('--problem <file>', 'problem file (model, weights or checkpoint, λ, train/validation batches; docs/inverse-check.md)')
    .option('--checkpoint <file>', 'MLP weights (and λ named lam:<param>.l2) from an iml checkpoint; data from built-in MNIST')
    .option('--save-problem <file>', 'write the problem (e.g. the built-in one) in the problem-file format')
    .option('--json <file>', 'write the results as JSON')
    .option('--neumann <k,...>', 'Neumann series terms to compare', intList('--neumann'), [3, 10, 20, 50])
    .option('--alpha <x>', 'Neumann step size α', positiveNumber('--alpha'), 0.1)
    .option('--cg <k,...>', 'conjugate-gradient steps to compare', intList('--cg'), [3, 5, 10])
    .option('--ridge <x>', 'CG damping: solve (H + ridge I) x = g', nonNegativeNumber('--ridge'), 0)
    .option('--method <m>', 'exact solver: auto (Cholesky, else LDLᵀ, else eigen pseudo-inverse), cholesky, ldlt, lu or eigen', 'auto')
    .option('--damping <x>', 'exact solve of (H + damping I) x = g', nonNegativeNumber('--damping'), 0)
    .option('--spectrum <s>', 'eigenvalues for the report: auto, full, lanczos or none', 'auto')
    .option('--seed <n>', 'built-in problem: data split, sample choice, initialisation', nonNegativeInt('--seed'), BUILTIN_DEFAULTS.seed)
    .option('--image-size <n>', 'built-in problem: MNIST resized to n x n', positiveInt('--image-size'), BUILTIN_DEFAULTS.imageSize)
    .option('--hidden <n>', 'built-in problem: hidden units', positiveInt('--hidden'), BUILTIN_DEFAULTS.hidden)
    .option('--train-size <n>', 'training samples (the Hessian batch)', positiveInt('--train-size'), BUILTIN_DEFAULTS.trainSize)
    .option('--val-size <n>', 'validation samples', positiveInt('--val-size'), BUILTIN_DEFAULTS.valSize)
    .option('--train-steps <n>', 'built-in problem: Adam steps before the check', nonNegativeInt('--train-steps'), BUILTIN_DEFAULTS.trainSteps)
    .option('--lr <x>', 'built-in problem: Adam learning rate', positiveNumber('--lr'), BUILTIN_DEFAULTS.lr)
    .option('--activation <a>', 'relu, tanh or sigmoid (built-in problem and --checkpoint)', BUILTIN_DEFAULTS.activation)
    .option('--no-progress', 'no progress output')
    .action(async (opts) => {
      if (!['auto', 'cholesky', 'ldlt', 'lu', 'eigen'].includes(opts.method)) throw new InvalidArgumentError(`--method must be auto, cholesky, ldlt, lu or eigen, got '${opts.method}'`);
      if (!['auto', 'full', 'lanczos', 'none'].includes(opts.spectrum)) throw new InvalidArgumentError(`--spectrum must be auto, full, lanczos or none, got '${opts.spectrum}'`);
      if (!['relu', 'tanh', 'sigmoid'].includes(opts.activation)) throw new InvalidArgumentError(`--activation must be relu, tanh or sigmoid`);
      const log = (s: string): void => console.error(s);
      // Before the Hessian is built (minutes for large problems): destinations that cannot be written fail now.
      for (const [flag, path] of [['--save-problem', opts.saveProblem], ['--json', opts.json]] as const) {
        if (path) await checkWritable(path, `${flag} ${path}`);
      }
      const builtin: BuiltinOptions = {
        ...BUILTIN_DEFAULTS, seed: opts.seed, imageSize: opts.imageSize, hidden: opts.hidden, trainSize: opts.trainSize,
        valSize: opts.valSize, trainSteps: opts.trainSteps, lr: opts.lr, activation: opts.activation,
      };
      let problem: InverseCheckProblem;
      if (opts.problem) {
        if (opts.checkpoint) throw new Error('give either --problem (which may name a checkpoint) or --checkpoint, not both');
        problem = await readProblemFile(opts.problem);
      } else if (opts.checkpoint) {
        problem = await checkpointProblem(opts.checkpoint, builtin);
      } else {
        log('building the built-in problem (MNIST, brief Adam training) ...');
        problem = builtinProblem(builtin, log);
      }
      if (opts.saveProblem) {
        await writeFileAtomic(opts.saveProblem, JSON.stringify(problemToJson(problem)));
        log(`problem written to ${opts.saveProblem}`);
      }
      const n = problem.weights.reduce((s, t) => s + t.size, 0);
      log(`exact Hessian: ${n} x ${n} (${((n * n * 8) / 2 ** 20).toFixed(0)} MiB) ...`);
      let lastPct = -1;
      const result = await runInverseCheck(problem, {
        neumann: opts.neumann, alpha: opts.alpha, cg: opts.cg, ridge: opts.ridge, method: opts.method, damping: opts.damping, spectrum: opts.spectrum,
        onProgress: opts.progress
          ? (d, total) => {
              const pct = Math.floor((100 * d) / total);
              if (pct !== lastPct && pct % 10 === 0) {
                lastPct = pct;
                log(`  Hessian rows ${d}/${total}`);
              }
            }
          : undefined,
      });
      console.log(formatInverseCheck(result));
      if (opts.json) {
        await writeFileAtomic(opts.json, JSON.stringify(result, null, 2));
        log(`results written to ${opts.json}`);
      }
    });
}
