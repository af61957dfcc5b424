// Public entry point of the engine: tensors, ops, autodiff transforms, backends.

export { Tensor, noGrad, withGradMode, isGradEnabled } from './core/tensor.js';
export type { GradNode } from './core/tensor.js';
export type { DType, TypedArray } from './core/dtype.js';
export * from './core/creation.js';
export * from './core/ops.js';
export * from './ops/activations.js';
export * from './ops/elementwise.js';
export * from './ops/reductions.js';
export * from './ops/losses.js';
export * from './ops/pooling.js';
export { ALL_PRIMS } from './core/primitives.js';
export type { Prim, PrimParams } from './core/primitives.js';
export { backward } from './autodiff/backward.js';
export * from './autodiff/transforms.js';
export { checkGrads, GradCheckError } from './autodiff/check-grads.js';
export type { Backend, DeviceBuffer, KernelCall } from './backend/backend.js';
export { CpuBackend } from './backend/cpu/cpu-backend.js';
export { getBackend, setBackend, withBackend } from './backend/registry.js';
export { WebGpuBackend, GpuBuffer, createWebGpuBackend } from './backend/webgpu/webgpu-backend.js';
export type { WebGpuBackendOptions, WebGpuMemoryStats, WebGpuTuning } from './backend/webgpu/webgpu-backend.js';
export { createNodeWebGpuBackend, nodeGpu, nodeGarbageCollector } from './backend/webgpu/node.js';
export { Random } from './util/random.js';
export * from './optim/index.js';
export * as nn from './nn/index.js';
export * as linalg from './linalg/index.js';
export * as augment from './augment/index.js';
export * as ssl from './ssl/index.js';
