// The engine's primitive operations and their parameters: every backend implements exactly these.

import type { DType } from './dtype.js';

export type UnaryPrim = 'neg' | 'exp' | 'log' | 'sqrt';
export type BinaryPrim = 'add' | 'sub' | 'mul' | 'div';
export type CompareOp = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';

export interface Conv2dParams {
  stride: [number, number];
  padding: [number, number];
}

/**
 * Max-pooling window geometry: kernel, stride and zero-based padding per spatial axis (NCHW). Padded positions
 * never win a window (PyTorch pads with -inf), so padding is at most half the kernel.
 */
export interface Pool2dParams {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

/** Parameters per primitive; the type checker keeps rule and kernel tables complete. */
export interface PrimParams {
  neg: Record<string, never>;
  exp: Record<string, never>;
  log: Record<string, never>;
  sqrt: Record<string, never>;
  add: Record<string, never>;
  sub: Record<string, never>;
  mul: Record<string, never>;
  div: Record<string, never>;
  compare: { op: CompareOp };
  where: Record<string, never>;
  sum: { axes: number[] };
  max: { axes: number[] };
  broadcastTo: { shape: number[] };
  reshape: { shape: number[] };
  transpose: { perm: number[] };
  slice: { begin: number[]; size: number[] };
  pad: { before: number[]; after: number[] };
  matmul: { transA: boolean; transB: boolean };
  conv2d: Conv2dParams;
  conv2dGradInput: Conv2dParams & { inputShape: number[] };
  conv2dGradWeight: Conv2dParams & { weightShape: number[] };
  gather: { indices: Int32Array; axis: number };
  scatterAdd: { indices: Int32Array; axis: number; size: number };
  cast: { dtype: DType };
  maxPool2dArgmax: Pool2dParams;
  maxPool2dGather: Pool2dParams;
  maxPool2dScatter: Pool2dParams & { inputShape: number[] };
  relu: Record<string, never>;
  reluGrad: Record<string, never>;
  leakyRelu: { slope: number };
  leakyReluGrad: { slope: number };
  batchNormStats: Record<string, never>;
  batchNormTrain: BatchNormParams;
  batchNormGradGamma: BatchNormParams;
  batchNormGradInput: BatchNormParams;
  softplus: Record<string, never>;
  sigmoid: Record<string, never>;
}

/** Batch normalisation over every axis but the channel axis 1: ε added to the variance. */
export interface BatchNormParams {
  eps: number;
}

export type Prim = keyof PrimParams;

/**
 * Fused primitives: optional kernels that do in one or two passes what a reference composite of the other
 * primitives does in many. A backend without a kernel for one (Backend.hasKernel) never sees it: its op computes
 * the composite instead (src/core/fused.ts).
 */
export type FusedPrim =
  | 'relu' | 'reluGrad' | 'leakyRelu' | 'leakyReluGrad' | 'batchNormStats' | 'batchNormTrain' | 'batchNormGradGamma' | 'batchNormGradInput'
  | 'softplus' | 'sigmoid';

export const FUSED_PRIMS: readonly FusedPrim[] = [
  'relu', 'reluGrad', 'leakyRelu', 'leakyReluGrad', 'batchNormStats', 'batchNormTrain', 'batchNormGradGamma', 'batchNormGradInput',
  'softplus', 'sigmoid',
];

/** The primitives every backend implements. */
export type CorePrim = Exclude<Prim, FusedPrim>;

export const ALL_PRIMS: readonly CorePrim[] = [
  'neg', 'exp', 'log', 'sqrt', 'add', 'sub', 'mul', 'div', 'compare', 'where', 'sum', 'max',
  'broadcastTo', 'reshape', 'transpose', 'slice', 'pad', 'matmul', 'conv2d', 'conv2dGradInput',
  'conv2dGradWeight', 'gather', 'scatterAdd', 'cast', 'maxPool2dArgmax', 'maxPool2dGather', 'maxPool2dScatter',
];

export function convOutputSize(inSize: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((inSize + 2 * pad - kernel) / stride) + 1;
}
