// Element types: float32 everywhere, float64 on the CPU backend for reference checks.

export type DType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array;

export function allocArray(dtype: DType, size: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
}

export function toTypedArray(dtype: DType, data: ArrayLike<number>): TypedArray {
  return dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
}
