// FixMatch (thesis 2.2) and the Confidence Network (thesis chapter 5): loss, pseudo-labels, EMA, weight decay on weights, SSL and OOD splits, models, the trainer and its report pieces, CN weights and objectives; no Node built-ins.

export * from './pseudo-labels.js';
export * from './fixmatch-loss.js';
export * from './fixmatch-step.js';
export * from './fixmatch-config.js';
export * from './fixmatch-metrics.js';
export * from './fixmatch-store.js';
export * from './fixmatch-trainer.js';
export * from './ema.js';
export * from './weight-decay.js';
export * from './sampler.js';
export * from './ssl-split.js';
export * from './small-cnn.js';
export * from './models.js';
export * from './confidence-net.js';
export * from './confidence-warmup.js';
export * from './confidence-loss.js';
export * from './sample-weight-table.js';
export * from './weight-normalisation.js';
export * from './ood-split.js';
export * from './confidence-results.js';
export * from './fixmatch-stepper.js';
export * from './confidence-problem.js';
export * from './confidence-experiment.js';
