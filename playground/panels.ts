// The playground's computations (portable, no DOM): meta-training the thesis' 4.1 problem, the 14x14 exact-vs-approximate check and kernel benchmarks; the Node test runs the same functions.
import {
  benchKernel, getRecipe, mnistInverseCheckProblem, mnistSplits, nn, parseMethod, perParameterL2, Random, runInverseCheck, runIml, subset,
  withBackend, type Backend, type ImageDataset, type ImlConfig, type InverseCheckResult, type KernelBenchResult, type KernelName,
  type MetaEpochMetrics, type ImlSummary,
} from '../src/index.js';

/** Panel (a): the 4.1 protocol (per-parameter L2, small splits, Adam inner steps, RMSprop on λ) at a chosen size. */
export interface MetaTrainSettings {
  /** MNIST resized to imageSize x imageSize (the thesis uses 28). */
  imageSize: number;
  /** Hidden units; 0 = as many as inputs (the thesis' choice). */
  hidden: number;
  train: number;
  validation: number;
  test: number;
  innerSteps: number;
  metaEpochs: number;
  method: string;
  seed: number;
}

export const META_DEFAULTS: MetaTrainSettings = { imageSize: 14, hidden: 0, train: 50, validation: 50, test: 50, innerSteps: 50, metaEpochs: 20, method: 'neumann:3', seed: 0 };

const firstN = (ds: ImageDataset, n: number): ImageDataset => (n <= 0 || n >= ds.count ? ds : subset(ds, Array.from({ length: n }, (_, i) => i), `${ds.name}[:${n}]`));

/** Meta-trains like `iml experiment overfit-small-val` (same split, model seed 1000 + seed, recipe configuration) on `backend`. */
export async function metaTrain(
  mnist: ImageDataset, s: MetaTrainSettings, onEpoch: (m: MetaEpochMetrics) => void | Promise<void> = () => {}, backend?: Backend,
): Promise<{ metrics: MetaEpochMetrics[]; summary: ImlSummary; parameters: number }> {
  const recipe = getRecipe('overfit-small-val');
  const all = mnistSplits(mnist, { seed: s.seed, imageSize: s.imageSize });
  const data = { train: firstN(all.train, s.train), validation: firstN(all.validation, s.validation), test: firstN(all.test, s.test) };
  const inputs = s.imageSize * s.imageSize;
  const make = (): nn.MLP => new nn.MLP([inputs, s.hidden || inputs, 10], new Random(1000 + s.seed));
  const model = backend ? withBackend(backend, make) : make();
  const config: ImlConfig = {
    ...recipe.config, method: parseMethod(s.method), seed: s.seed, innerSteps: s.innerSteps, metaEpochs: s.metaEpochs, checkpointEvery: 0,
  };
  const r = await runIml(model, perParameterL2(model.parameters()), data, config, { onMetaEpoch: onEpoch });
  return { ...r, parameters: model.parameterCount() };
}

/** The continuous per-epoch numbers two hosts are compared on (accuracies move in steps of 1/50 and are compared apart). */
export const metaTrace = (ms: readonly MetaEpochMetrics[]): number[] => ms.flatMap((m) => [m.validation.loss, m.train.loss, m.hypergradNorm, m.meanDecay]);

/** Panel (b): the thesis' 14x14 exact-vs-approximate problem (section 4.1.3) at a chosen size. */
export interface InverseSettings {
  hidden: number;
  trainSize: number;
  valSize: number;
  trainSteps: number;
  neumann: number[];
  cg: number[];
  seed: number;
}

export const INVERSE_DEFAULTS: InverseSettings = { hidden: 16, trainSize: 50, valSize: 50, trainSteps: 300, neumann: [3, 10, 20, 50], cg: [3, 5, 10], seed: 0 };

/** Exact H⁻¹g against Neumann, CG and identity (float64 on the CPU backend: the dense solve reads every Hessian column). */
export async function inverseCheck(mnist: ImageDataset, s: InverseSettings): Promise<InverseCheckResult> {
  const problem = mnistInverseCheckProblem(mnist, { seed: s.seed, imageSize: 14, hidden: s.hidden, trainSize: s.trainSize, valSize: s.valSize, trainSteps: s.trainSteps });
  return runInverseCheck(problem, { neumann: s.neumann, alpha: 0.1, cg: s.cg, ridge: 0, method: 'auto', damping: 0, spectrum: 'auto' });
}

/** Panel (c): kernels, sizes and repetitions of the micro-benchmarks. */
export interface BenchSettings {
  kernels: KernelName[];
  sizes: number[];
  repeats: number;
}

export const BENCH_DEFAULTS: BenchSettings = { kernels: ['matmul', 'conv2d', 'elementwise', 'hvp'], sizes: [64, 128, 256], repeats: 5 };

/** Every kernel at every size on every backend given (the same seeded inputs everywhere). */
export async function benchmarks(s: BenchSettings, backends: readonly Backend[], onResult: (r: KernelBenchResult) => void | Promise<void> = () => {}): Promise<KernelBenchResult[]> {
  const out: KernelBenchResult[] = [];
  for (const kernel of s.kernels) {
    for (const size of s.sizes) {
      for (const backend of backends) {
        const r = await benchKernel(kernel, { size, backend, repeats: s.repeats });
        out.push(r);
        await onResult(r);
      }
    }
  }
  return out;
}
