// Optimizers, learning-rate schedules and the portable checkpoint format: the public surface of src/optim (files: src/node/checkpoint-file.ts).

export { Optimizer } from './optimizer.js';
export type { Buffers, HyperValue, OptimizerState, ParamRef, ParamStateDict } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export { constantLr, cosineAnnealingLr, fixMatchCosineLr } from './schedule.js';
export type { LrSchedule } from './schedule.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, decodeCheckpoint, encodeCheckpoint, restoreParams } from '../train/checkpoint.js';
export type { Checkpoint, CheckpointInput, LoadCheckpointOptions } from '../train/checkpoint.js';
