// Public entry point of the engine (`iml-engine`, portable: Node and browsers, no Node built-ins): tensors, ops, autodiff, backends, IML, exact curvature, data in memory. Node adapters: src/node/index.ts (`iml-engine/node`).

export { Tensor, noGrad, withGradMode, isGradEnabled, retain, disposeWith } from './core/tensor.js';
export type { GradNode } from './core/tensor.js';
export { tidy, tidyAsync, keep } from './core/scope.js';
export type { DType, TypedArray } from './core/dtype.js';
export * from './core/creation.js';
export * from './core/ops.js';
export * from './ops/activations.js';
export * from './ops/elementwise.js';
export * from './ops/reductions.js';
export * from './ops/losses.js';
export * from './ops/pooling.js';
export * from './ops/batch-norm.js';
export { ALL_PRIMS, FUSED_PRIMS } from './core/primitives.js';
export type { CorePrim, FusedPrim, Prim, PrimParams } from './core/primitives.js';
export { backward } from './autodiff/backward.js';
export * from './autodiff/transforms.js';
export { checkGrads, GradCheckError } from './autodiff/check-grads.js';
export type { Backend, DeviceBuffer, KernelCall } from './backend/backend.js';
export { CpuBackend } from './backend/cpu/cpu-backend.js';
export { getBackend, setBackend, withBackend } from './backend/registry.js';
export { WebGpuBackend, GpuBuffer, createWebGpuBackend } from './backend/webgpu/webgpu-backend.js';
export type { WebGpuBackendOptions, WebGpuMemoryStats, WebGpuTuning } from './backend/webgpu/webgpu-backend.js';
export { Random } from './util/random.js';
export * from './optim/index.js';
export * as nn from './nn/index.js';
export * as linalg from './linalg/index.js';

// Hypergradients and inverse-HVP solvers.
export { hypergradient, solveInverseHvp, compareInverseHvps, registerExactSolver } from './hypergrad/hypergradient.js';
export type {
  LossFn, ExactSolver, HypergradientResult, ComparisonRequest, InverseHvpComparison, MethodState,
} from './hypergrad/hypergradient.js';
export { neumannInverseHvp, cgInverseHvp, identityInverseHvp, NonFiniteError, SolverFailure } from './hypergrad/inverse-hvp.js';
export type { LinearOperator, InverseHvpResult, CgOptions } from './hypergrad/inverse-hvp.js';
export { parseMethod, methodLabel, METHOD_HELP } from './hypergrad/methods.js';
export type { HypergradMethod } from './hypergrad/methods.js';
export { perParameterL2, perLayerL2, fixedL2, noMetaKnowledge } from './hypergrad/meta-knowledge.js';
export type { MetaKnowledge, ClosedFormPenalty, L2InitOptions } from './hypergrad/meta-knowledge.js';
export { topEigenvalue } from './hypergrad/power-iteration.js';
export type { TopEigen } from './hypergrad/power-iteration.js';
export { readScalars, vdot, vnorm, vaxpy, vscale, vsub, vzerosLike, vcosine } from './hypergrad/vector-list.js';
export type { VectorList } from './hypergrad/vector-list.js';

// The generic bilevel loop (implicit meta-learning of any meta-parameters ω; docs/bilevel.md).
export { runBilevel } from './bilevel/loop.js';
export type { BilevelHooks, BilevelResult, BilevelEpochBase, BilevelEpochMetrics } from './bilevel/loop.js';
export type { BilevelProblem, InnerStep, InnerStepContext, MetaObjective, ProblemEvaluation, ProblemState, SavedProblemState } from './bilevel/problem.js';
export { bilevelIdentity } from './bilevel/config.js';
export type { BilevelConfig } from './bilevel/config.js';
export { createMetaOptimizer } from './bilevel/meta-optimizer.js';
export type { MetaOptimizerSpec } from './bilevel/meta-optimizer.js';
export { BilevelDivergence } from './bilevel/divergence.js';

// The IML loop (the L2 problem on runBilevel), run stores and recipes.
export { l2Problem } from './iml/l2-problem.js';
export type { L2Data, L2Metrics, L2ProblemOptions } from './iml/l2-problem.js';
export { runIml, runIdentity, configDifferences, ImlDivergence, THESIS_DEFAULTS, RESUMABLE_CHANGES } from './iml/trainer.js';
export type { ImlConfig, ImlData, ImlSummary, MetaEpochMetrics, ImlRunOptions } from './iml/trainer.js';
export { memoryRunStore } from './iml/run-store.js';
export type { RunStore, MemoryRunStore, StoredCheckpoint, StoredTensor } from './iml/run-store.js';
export { RECIPES, getRecipe } from './iml/recipes.js';
export type { Recipe, MetaKnowledgeKind } from './iml/recipes.js';
export { parseRecipeOverrides } from './iml/recipe-overrides.js';
export type { RecipeOverrides } from './iml/recipe-overrides.js';
export { planRecipe } from './iml/recipe-plan.js';
export type { PlanOptions, RecipePlan } from './iml/recipe-plan.js';

// The exact-vs-approximate inverse-HVP check on a problem (iml inverse-check).
export { runInverseCheck, formatInverseCheck, iterateText } from './linalg/inverse-check.js';
export type { InverseCheckOptions, InverseCheckResult, MethodRow } from './linalg/inverse-check.js';
export {
  PROBLEM_FORMAT, MAX_PARAMETERS, BUILTIN_DEFAULTS, mnistInverseCheckProblem, parseInverseCheckProblem, problemToJson,
  checkpointInverseCheckProblem, checkpointParams, mlpParameterShapes, checkParameterCount, makeLosses, buildModel,
} from './linalg/inverse-check-problem.js';
export type { InverseCheckProblem, BuiltinOptions, ParseProblemOptions, Losses } from './linalg/inverse-check-problem.js';

// Training and evaluation.
export { trainClassifier, DivergenceError } from './train/train-classifier.js';
export type { TrainOptions, TrainResult } from './train/train-classifier.js';
export { evaluate, batchTensors, argmaxRows } from './train/evaluate.js';
export type { Evaluation } from './train/evaluate.js';

// Data in memory (files: iml-engine/node; MNIST in a page: fetchMnist).
export {
  createImageDataset, validateDataset, getBatch, subset, classHistogram, batchIndices, iterateBatches, flattenedSize,
} from './data/dataset.js';
export type { ImageDataset, Batch, BatchOptions } from './data/dataset.js';
export { splitDataset, resolveSplitSizes } from './data/split.js';
export type { SplitSizes, SplitOptions, DatasetSplit } from './data/split.js';
export { resizeImages } from './data/resize.js';
export type { ResizeMethod, ResizeOptions } from './data/resize.js';
export { mnistFromDigitFiles, fetchMnist, MNIST_DIGIT_FILES } from './data/mnist.js';
export { mnistSplits, resizeSplits, HELD_OUT_VALIDATION } from './data/named-splits.js';
export type { Splits } from './data/named-splits.js';

// Reports as values (tables, markdown, CSV); SVG plots and report folders: iml-engine/node.
export * as report from './report/index.js';

// Kernel micro-benchmarks; the CPU kernels' Wasm (await initGemm() before CPU matmuls on a browser's main thread).
export { benchKernel, KERNELS } from './perf/kernel-bench.js';
export type { KernelName, KernelBenchOptions, KernelBenchResult } from './perf/kernel-bench.js';
export { initGemm, gemmReady } from './backend/cpu/wasm-gemm.js';
// Threads for the CPU backend's products, convolutions and large elementwise passes (Node: worker_threads; 1 where threads are unavailable), and the GEMM's fused-multiply-add build.
export { setGemmThreads, setGemmRelaxedSimd, getGemmInfo } from './backend/cpu/wasm-gemm.js';
// The CPU tensor heap (docs/memory.md): await initCpuHeap() on a browser's main thread so CPU tensors live in Wasm memory from the first one.
export { initCpuHeap, setCpuHeapLimit, makeWasmHeap, type WasmHeap, type WasmHeapStats, type HeapOverflow } from './backend/cpu/wasm-heap.js';

// Semi-supervised learning: augmentation and FixMatch.
export * as augment from './augment/index.js';
export * as ssl from './ssl/index.js';
