// The kernel module bound to the CPU tensor heap's memory (src/backend/cpu/wasm-heap.ts): the elementwise kernels, 2x2 max pooling, the optimizer kernels, dot products and batch norm's passes, one instance per heap.
export * from './elementwise';
export * from './pool';
export * from './optim';
export * from './dot';
export * from './batch-norm';
