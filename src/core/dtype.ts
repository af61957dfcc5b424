// Element types: float32 everywhere, float64 on the CPU backend for reference checks.

export type DType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array;

/** Throws unless dtype is one of the engine's ('float32', 'float64'), naming op and the value (for callers without types). */
export function checkDType(op: string, dtype: unknown): asserts dtype is DType {
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`${op}: dtype must be 'float32' or 'float64', got ${JSON.stringify(dtype)}`);
}

export function allocArray(dtype: DType, size: number): TypedArray {
  checkDType('allocArray', dtype);
  return dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
}

export function toTypedArray(dtype: DType, data: ArrayLike<number>): TypedArray {
  return dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
}
