// Image augmentation on NCHW float batches (FixMatch's weak and strong views, each op on its own); plain typed arrays, no Node built-ins.

export * from './levels.js';
export * from './point-ops.js';
export * from './enhance.js';
export * from './geometric.js';
export * from './cutout.js';
export * from './weak.js';
export * from './randaugment.js';
export * from './flip-policy.js';
export * from './preview.js';
export * from './tensor.js';
