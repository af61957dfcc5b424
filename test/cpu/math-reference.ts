// Correctly rounded exp and log of doubles for the accuracy tests: 300-bit fixed-point arithmetic in BigInt (Taylor series with argument halving for exp, Newton's method on exp for log).

const P = 300n;
const ONE = 1n << P;

/** A double as an exact fixed-point BigInt (value · 2^P). */
function toFixed(x: number): bigint {
  const bits = new BigInt64Array(new Float64Array([x]).buffer)[0]!;
  const exponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (exponent !== 0) mantissa |= 1n << 52n;
  const shift = BigInt(exponent !== 0 ? exponent - 1075 : -1074) + P;
  const v = shift >= 0n ? mantissa << shift : mantissa >> -shift;
  return bits < 0n ? -v : v;
}

/** The nearest double (ties to even) to a fixed-point value, for results of magnitude 2^-200 .. 2^1000. */
function toDouble(v: bigint): number {
  if (v === 0n) return 0;
  if (v < 0n) return -toDouble(-v);
  const shift = BigInt(v.toString(2).length) - 53n;
  if (shift <= 0n) return Number(v << -shift) * 2 ** Number(shift - P);
  let m = v >> shift;
  const rem = v - (m << shift);
  const half = 1n << (shift - 1n);
  if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
  return Number(m) * 2 ** Number(shift - P);
}

/** e^a in fixed point: Taylor series of e^(a/2^10), squared ten times. */
function expFixed(a: bigint): bigint {
  const negative = a < 0n;
  const h = (negative ? -a : a) >> 10n;
  let sum = ONE;
  let term = ONE;
  for (let k = 1n; term > 0n; k++) {
    term = (term * h) / ONE / k;
    sum += term;
  }
  for (let i = 0; i < 10; i++) sum = (sum * sum) / ONE;
  return negative ? (ONE * ONE) / sum : sum;
}

/** exp(x) correctly rounded, for x in [-130, 130] (results normal and far from the fixed point's limits). */
export function expCorrectlyRounded(x: number): number {
  if (!(Math.abs(x) <= 130)) throw new Error(`expCorrectlyRounded: x = ${x} outside [-130, 130]`);
  return toDouble(expFixed(toFixed(x)));
}

/** log(x) correctly rounded, for x in [2^-60, 2^60]: Newton steps y <- y + (x - e^y)/e^y from Math.log. */
export function logCorrectlyRounded(x: number): number {
  if (!(x >= 2 ** -60 && x <= 2 ** 60)) throw new Error(`logCorrectlyRounded: x = ${x} outside [2^-60, 2^60]`);
  const xf = toFixed(x);
  let y = toFixed(Math.log(x));
  for (let i = 0; i < 3; i++) {
    const ey = expFixed(y);
    y += ((xf - ey) * ONE) / ey;
  }
  return toDouble(y);
}
