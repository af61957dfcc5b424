// The kernel module bound to the CPU tensor heap's memory (src/backend/cpu/wasm-heap.ts): the elementwise kernels, 2x2 max pooling and the optimizer kernels, one instance per heap.
export * from './elementwise';
export * from './pool';
export * from './optim';
