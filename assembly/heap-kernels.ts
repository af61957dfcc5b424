// The kernel module bound to the CPU tensor heap's memory (src/backend/cpu/wasm-heap.ts): the elementwise kernels, 2x2 max pooling, the optimizer kernels, dot products, batch norm's passes, strided copies and max reductions, one instance per heap.
export * from './elementwise';
export * from './pool';
export * from './optim';
export * from './dot';
export * from './batch-norm';
export * from './movement';
