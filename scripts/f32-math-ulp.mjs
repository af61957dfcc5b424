// Exhaustive accuracy of the float32 exp and log (assembly/math-f32x4.ts via the math module): every float32 in exp's finite range and every positive float32 for log, against Math.exp / Math.log in float64.
// Usage: npm run build && node scripts/f32-math-ulp.mjs [exp|log]. Prints, per function: inputs, the largest error in ulps of the
// true result (float64 reference, itself within 2^-29 ulp(float32)), and how many results differ from the float64
// result rounded to float32 (the correctly rounded float32 except next to a rounding midpoint). About a minute each.
import { unaryKernel } from '../dist/src/backend/cpu/elementwise.js';

const which = process.argv[2];
const CHUNK = 1 << 20;
const bits = new Uint32Array(CHUNK);
const x = new Float32Array(bits.buffer);
const y = new Float32Array(CHUNK);

/** ulp of float32 at |v| (v a float64 value), subnormal spacing below 2^-126. */
function ulp32(v) {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

function sweep(op, ref, lo, hi) {
  let worst = 0, at = NaN, differ = 0, unfaithful = 0, n = 0;
  for (let b0 = lo; b0 <= hi; b0 += CHUNK) {
    const m = Math.min(CHUNK, hi - b0 + 1);
    for (let i = 0; i < m; i++) bits[i] = b0 + i;
    unaryKernel(op, x.subarray(0, m), y.subarray(0, m));
    for (let i = 0; i < m; i++) {
      const t = ref(x[i]);
      if (!Number.isFinite(t) || Math.fround(t) === Infinity) continue;
      n++;
      const e = Math.abs(y[i] - t) / ulp32(Math.fround(t) === 0 ? t : Math.fround(t));
      if (e > worst) { worst = e; at = x[i]; }
      const r = Math.fround(t);
      if (y[i] !== r) {
        differ++;
        // Faithful: y is one of the two floats around t (r and its neighbour on t's other side).
        const side = t > r ? 1 : -1;
        if (!(t !== r && (y[i] - r) * side > 0 && Math.abs(y[i] - r) <= ulp32(r) * 1.0000001 && (y[i] - t) * side >= 0)) unfaithful++;
      }
    }
  }
  return { n, worst, at, differ, unfaithful };
}

const f32bits = (v) => new Uint32Array(new Float32Array([v]).buffer)[0];
const report = (name, r) =>
  console.log(`${name}: ${r.n} inputs, max error ${r.worst.toFixed(3)} ulp (at x = ${r.at}), ${r.differ} (${((100 * r.differ) / r.n).toFixed(3)}%) differ from fround(float64), ${r.unfaithful} not faithful (neither float around the true value)`);
if (!which || which === 'exp') {
  // Negative floats from -0 down to -104, then positive ones up to 89 (bit patterns are monotonic in |x|).
  const neg = sweep('exp', Math.exp, f32bits(-0), f32bits(-104));
  const pos = sweep('exp', Math.exp, 0, f32bits(89));
  report('exp float32 over [-104, 89] (every float)', { n: neg.n + pos.n, worst: Math.max(neg.worst, pos.worst), at: neg.worst > pos.worst ? neg.at : pos.at, differ: neg.differ + pos.differ, unfaithful: neg.unfaithful + pos.unfaithful });
}
if (!which || which === 'log') report('log float32 over (0, +Inf) (every positive float)', sweep('log', Math.log, 1, f32bits(3.4028234663852886e38)));
