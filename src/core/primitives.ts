// The engine's primitive operations and their parameters: every backend implements exactly these.

import type { DType } from './dtype.js';

export type UnaryPrim = 'neg' | 'exp' | 'log' | 'sqrt';
export type BinaryPrim = 'add' | 'sub' | 'mul' | 'div';
export type CompareOp = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';

export interface Conv2dParams {
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
}

export type Prim = keyof PrimParams;

export const ALL_PRIMS: readonly Prim[] = [
  'neg', 'exp', 'log', 'sqrt', 'add', 'sub', 'mul', 'div', 'compare', 'where', 'sum', 'max',
  'broadcastTo', 'reshape', 'transpose', 'slice', 'pad', 'matmul', 'conv2d', 'conv2dGradInput',
  'conv2dGradWeight', 'gather', 'scatterAdd', 'cast',
];

export function convOutputSize(inSize: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((inSize + 2 * pad - kernel) / stride) + 1;
}
