// The exact-vs-approximate inverse-HVP comparison (portable): exact H⁻¹g by a dense solve in Wasm against Neumann, CG and identity (accuracy, time, memory).

import { secondOrderOperator, valueAndGrad } from '../autodiff/transforms.js';
import { cgInverseHvp, identityInverseHvp, isDivergingNote, neumannInverseHvp, type InverseHvpResult } from '../hypergrad/inverse-hvp.js';
import { vcosine, vnorm, vsub, type VectorList } from '../hypergrad/vector-list.js';
import { ExactHessianSolver, type ExactCurvatureReport, type ExactMethod } from './exact-inverse-hvp.js';
import { exactHessian, flattenTensors, unflattenLike } from './hessian.js';
import { buildModel, makeLosses, MAX_PARAMETERS, TOO_LARGE, type InverseCheckProblem } from './inverse-check-problem.js';
import { MemoryProbe } from './memory-probe.js';
import { initLinalg, linalgMemoryStats, resetLinalgPeak } from './wasm.js';

// ---------------------------------------------------------------------------
// The comparison.
// ---------------------------------------------------------------------------

/** Which approximations to compare with the exact solve, and how to solve exactly. */
export interface InverseCheckOptions {
  neumann: number[];
  alpha: number;
  cg: number[];
  ridge: number;
  method: 'auto' | ExactMethod;
  damping: number;
  spectrum: 'auto' | 'full' | 'lanczos' | 'none';
  onProgress?: (done: number, total: number) => void;
}

export interface MethodRow {
  method: string;
  /** cos(x, x*) and ||x - x*|| / ||x*|| against the exact solution x*. */
  cosine: number;
  relativeError: number;
  norm: number;
  /** Same for the hypergradient -xᵀ ∂²L_T/∂w∂λ (when there are hyperparameters). */
  hypergradCosine: number | null;
  hypergradRelativeError: number | null;
  ms: number;
  /** Peak JS heap + array-buffer growth during the solve, and peak Wasm bytes (exact only). */
  peakJsBytes: number;
  peakWasmBytes: number;
  hvps: number;
  note: string;
  /** CG rows: the iterate returned (of how many), its relative residual ||b - Ax||/||b||, and whether it is the best-residual or the last one. */
  iterate: { returned: number; iterations: number; residual: number; choice: 'best' | 'last' } | null;
}

export interface InverseCheckResult {
  problem: { description: string; parameters: number; trainLoss: number; valLoss: number; gradNorm: number; valGradNorm: number };
  exact: ExactCurvatureReport & { hessianMs: number; solveMs: number; residual: number; asymmetry: number };
  rows: MethodRow[];
}

/** Runs the exact solve and every approximation on one problem (`iml inverse-check`'s table). */
export async function runInverseCheck(p: InverseCheckProblem, o: InverseCheckOptions): Promise<InverseCheckResult> {
  const count = p.weights.reduce((s, t) => s + t.size, 0);
  if (count > MAX_PARAMETERS) throw new Error(`inverse-check: the problem has ${count} parameters; ${TOO_LARGE}`);
  if (p.train.y.length === 0) throw new Error('inverse-check: the training batch is empty (it defines H)');
  if (p.validation.y.length === 0) throw new Error('inverse-check: the validation batch is empty (it defines g)');
  await initLinalg();
  const model = buildModel(p);
  const { trainLoss, valLoss } = makeLosses(p, model);
  const w = p.weights;
  const lam = p.lambdas;
  const n = w.reduce((s, t) => s + t.size, 0);
  const { value: vl, grads: g } = valueAndGrad(valLoss)(w);
  const op = secondOrderOperator(trainLoss, w, lam);
  const trainValue = op.value.item();

  // Exact.
  resetLinalgPeak();
  const wasmBefore = linalgMemoryStats().bytesInUse;
  const probe = new MemoryProbe();
  const H = exactHessian((ws) => trainLoss(ws, lam), w, {
    onProgress: (d, total) => {
      if (d % 64 === 0 || d === total) probe.sample();
      o.onProgress?.(d, total);
    },
  });
  const solver = ExactHessianSolver.create(H.matrix, { method: o.method, damping: o.damping, spectrum: o.spectrum });
  const sol = solver.solve(flattenTensors(g));
  probe.sample();
  const xStar = unflattenLike(sol.x, g);
  const report = solver.report;
  const wasmPeak = linalgMemoryStats().peakBytesInUse - wasmBefore;
  solver.free();
  H.matrix.free();
  const mixed = (x: VectorList): VectorList | null => (lam.length === 0 ? null : op.mixed(x));
  const hgStar = mixed(xStar);
  const exactMs = H.ms + report.factorMs + report.spectrumMs + sol.ms;

  const row = async (method: string, r: InverseHvpResult, ms: number, mem: MemoryProbe, wasmBytes: number): Promise<MethodRow> => {
    const hg = hgStar ? mixed(r.x) : null;
    const nx = await vnorm(xStar);
    return {
      method,
      cosine: await vcosine(r.x, xStar),
      relativeError: nx === 0 ? NaN : (await vnorm(vsub(r.x, xStar))) / nx,
      norm: await vnorm(r.x),
      hypergradCosine: hg && hgStar ? await vcosine(hg, hgStar) : null,
      hypergradRelativeError: hg && hgStar ? (await vnorm(vsub(hg, hgStar))) / (await vnorm(hgStar)) : null,
      ms,
      peakJsBytes: mem.peak,
      peakWasmBytes: wasmBytes,
      hvps: r.hvps,
      note: r.note,
      iterate: r.iterate ?? null,
    };
  };
  const rows: MethodRow[] = [
    await row(
      `exact (${report.method}${report.pseudoInverse ? ' pinv' : ''})`,
      { x: xStar, hvps: n, residuals: [sol.residual], note: `residual ${sol.residual.toExponential(2)}` },
      exactMs, probe, wasmPeak,
    ),
  ];
  const timed = async (name: string, solve: (hvp: (v: VectorList) => VectorList) => InverseHvpResult | Promise<InverseHvpResult>): Promise<void> => {
    const mem = new MemoryProbe();
    const hvp = (v: VectorList): VectorList => {
      const r = op.hvp(v);
      mem.sample();
      return r;
    };
    const t = performance.now();
    let r: InverseHvpResult;
    try {
      r = await solve(hvp);
    } catch (e) {
      rows.push({ method: name, cosine: NaN, relativeError: NaN, norm: NaN, hypergradCosine: null, hypergradRelativeError: null, ms: performance.now() - t, peakJsBytes: mem.peak, peakWasmBytes: 0, hvps: 0, note: `failed: ${(e as Error).message}`, iterate: null });
      return;
    }
    const ms = performance.now() - t;
    mem.sample();
    rows.push(await row(name, r, ms, mem, 0));
  };
  for (const k of o.neumann) await timed(`neumann(${k}, α=${o.alpha})`, (hvp) => neumannInverseHvp(hvp, g, { alpha: o.alpha, steps: k }));
  for (const k of o.cg) await timed(`cg(${k}${o.ridge ? `, ridge=${o.ridge}` : ''})`, (hvp) => cgInverseHvp(hvp, g, { steps: k, ridge: o.ridge }));
  await timed('identity', () => identityInverseHvp(g));

  return {
    problem: { description: p.description, parameters: n, trainLoss: trainValue, valLoss: vl.item(), gradNorm: await vnorm(op.grad), valGradNorm: await vnorm(g) },
    exact: { ...report, notes: [...report.notes], hessianMs: H.ms, solveMs: sol.ms, residual: sol.residual, asymmetry: H.asymmetry },
    rows,
  };
}

// ---------------------------------------------------------------------------
// Output.
// ---------------------------------------------------------------------------

const mib = (b: number): string => (b / 2 ** 20).toFixed(2);
const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : Number.isNaN(x) ? 'NaN' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits - 1) : x.toFixed(digits));

/** '7 of 10, best residual 1.2e-3' (an earlier iterate had the smallest residual) or '10 of 10, last, residual ...'; '-' for other methods. */
export function iterateText(it: MethodRow['iterate']): string {
  if (!it) return '-';
  return `${it.returned} of ${it.iterations}, ${it.choice === 'best' ? 'best' : 'last'}, residual ${fmt(it.residual)}`;
}

/** The comparison as text: problem, exact solve and curvature, then one markdown table row per method. */
export function formatInverseCheck(r: InverseCheckResult): string {
  const e = r.exact;
  const lines: string[] = [];
  lines.push(`problem: ${r.problem.description}`);
  lines.push(`  ${r.problem.parameters} parameters, training loss ${r.problem.trainLoss.toFixed(5)} (||∇|| ${fmt(r.problem.gradNorm)}), validation loss ${r.problem.valLoss.toFixed(5)} (||g|| ${fmt(r.problem.valGradNorm)})`);
  lines.push(`exact: ${e.method}${e.pseudoInverse ? ' (pseudo-inverse)' : ''}${e.damping ? `, damping ${e.damping}` : ''}; ` +
    `λmin ${fmt(e.lambdaMin)}, λmax ${fmt(e.lambdaMax)}, min|λ| ${fmt(e.absLambdaMin)}, cond ${fmt(e.conditionNumber)} (${e.spectrumSource})` +
    `${e.inertia ? `, inertia (+${e.inertia.positive}, -${e.inertia.negative}, 0:${e.inertia.zero})` : ''}${e.rcond1 !== null ? `, rcond₁ ${fmt(e.rcond1)}` : ''}`);
  lines.push(`  Hessian ${(e.hessianMs / 1000).toFixed(2)} s (asymmetry ${fmt(e.asymmetry)}), spectrum ${(e.spectrumMs / 1000).toFixed(2)} s, ` +
    `factor ${(e.factorMs / 1000).toFixed(2)} s, solve ${e.solveMs.toFixed(1)} ms, residual ||Hx-g||/||g|| ${fmt(e.residual)}`);
  for (const note of e.notes) lines.push(`  note: ${note}`);
  lines.push('');
  const head = ['method', 'cos(x, x*)', 'rel. error', '||x||', 'hypergrad cos', 'hypergrad rel. err', 'time (ms)', 'peak MiB (JS + Wasm)', 'HVPs', 'CG iterate returned'];
  const body = r.rows.map((m) => [
    m.method, fmt(m.cosine, 6), fmt(m.relativeError), fmt(m.norm), fmt(m.hypergradCosine, 6), fmt(m.hypergradRelativeError),
    m.ms.toFixed(1), `${mib(m.peakJsBytes)} + ${mib(m.peakWasmBytes)}`, String(m.hvps), iterateText(m.iterate),
  ]);
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map(() => '---').join('|')}|`);
  for (const b of body) lines.push(`| ${b.join(' | ')} |`);
  // Failed methods, and series whose terms grew (their x is not an approximation of x*), with their notes.
  const flagged = r.rows.filter((m) => m.note.startsWith('failed') || isDivergingNote(m.note));
  for (const f of flagged) lines.push(`${f.method}: ${f.note}`);
  return lines.join('\n');
}
