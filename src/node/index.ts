// Node adapters of the engine (`iml-engine/node`): Dawn's WebGPU, checkpoint files, run folders and their lock, recipes on disk, datasets from disk, report folders.

export { createNodeWebGpuBackend, nodeGpu, nodeGarbageCollector, nodeWebGpuUnavailable } from './webgpu.js';
export type { NodeWebGpuOptions } from './webgpu.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint-file.js';
export { fileRunStore, parseMetricsLines } from './file-run-store.js';
export { lockRunFolder, removeStaleTempFiles, LOCK_FILE } from './run-folder-lock.js';
export type { RunFolderLock } from './run-folder-lock.js';
export { runRecipe, writeJsonAtomic } from './run-recipe.js';
export type { RecipeRunOptions, RecipeRunResult, RunFolderConfig } from './run-recipe.js';
export { loadRuns } from './load-runs.js';
export { loadDataset, DATASET_NAMES } from './datasets.js';
export { loadMnist, mnistPackageDigitsDir } from './mnist.js';
export { confidenceData } from './confidence-data.js';
export type { ConfidenceDataOptions } from './confidence-data.js';
export {
  parseIdx, encodeIdx, readIdxFile, idxToDataset, loadIdxDataset, loadMnistStyleDir, loadFashionMnist, findIdxFile,
  hasMnistStyleFiles, isGzip, FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, IDX_TYPES,
} from './idx.js';
export type { IdxArray, ParseIdxOptions, IdxDatasetOptions, InflateLimits } from './idx.js';
export { loadCifar10, parseCifar10Batches, CIFAR10_CLASSES } from './cifar10.js';
export { parseProblem, readProblemFile, builtinProblem, checkpointProblem } from './inverse-check-files.js';
export { writeRunFolder, DEFAULT_CURVES, HYPER_CURVES } from './report-folder.js';
export type { RunFolderInput, NamedPlot } from './report-folder.js';
export { writeFileAtomic, writeFileAtomicSync } from './write-atomic.js';
export { readJsonFile } from './read-json.js';
