// The kernel module bound to the CPU tensor heap's memory (src/backend/cpu/wasm-heap.ts): the elementwise kernels, 2x2 max pooling, the optimizer kernels and dot products, one instance per heap.
export * from './elementwise';
export * from './pool';
export * from './optim';
export * from './dot';
