// Hypergradient methods: how H⁻¹v is approximated, parsed from short specs like "neumann:3", "cg:5:ridge=0.01".

export type HypergradMethod =
  | { kind: 'neumann'; steps: number; alpha: number }
  | { kind: 'damped-neumann'; steps: number; damping: number; powerIterations: number }
  | { kind: 'cg'; steps: number; ridge: number; warmStart: boolean }
  | { kind: 'identity' }
  | { kind: 't1t2' }
  | { kind: 'exact'; damping: number }
  /** No learned hyperparameters; `l2` > 0 trains with a fixed weight decay (the grid-searched baseline). */
  | { kind: 'baseline'; l2: number };

export const METHOD_HELP =
  'neumann:K[:alpha=A] | damped-neumann:K[:damping=D] | cg:K[:ridge=R][:warm] | identity | t1t2 | exact[:damping=D] | baseline[:l2=C]';

/** Parses a method spec; throws naming the bad part. */
export function parseMethod(spec: string): HypergradMethod {
  const [name, ...rest] = spec.trim().split(':');
  const opts = new Map<string, string>();
  const positional: string[] = [];
  for (const r of rest) {
    const eq = r.indexOf('=');
    if (eq >= 0) opts.set(r.slice(0, eq), r.slice(eq + 1));
    else positional.push(r);
  }
  const num = (key: string, fallback: number): number => {
    const raw = opts.get(key);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) throw new Error(`method '${spec}': ${key} must be a non-negative number, got '${raw}'`);
    return v;
  };
  const steps = (): number => {
    const v = Number(positional[0]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`method '${spec}': the number of steps must be a non-negative integer (e.g. ${name}:3)`);
    return v;
  };
  switch (name) {
    case 'neumann': return { kind: 'neumann', steps: steps(), alpha: num('alpha', 0.1) };
    case 'damped-neumann': return { kind: 'damped-neumann', steps: steps(), damping: num('damping', 1e-3), powerIterations: num('power', 10) };
    case 'cg': return { kind: 'cg', steps: steps(), ridge: num('ridge', 0), warmStart: positional.includes('warm') };
    case 'identity': return { kind: 'identity' };
    case 't1t2': return { kind: 't1t2' };
    case 'exact': return { kind: 'exact', damping: num('damping', 0) };
    case 'baseline': return { kind: 'baseline', l2: num('l2', 0) };
    default: throw new Error(`unknown hypergradient method '${spec}'; expected ${METHOD_HELP}`);
  }
}

export function methodLabel(m: HypergradMethod): string {
  switch (m.kind) {
    case 'neumann': return `Neumann(${m.steps}, α=${m.alpha})`;
    case 'damped-neumann': return `Damped Neumann(${m.steps}, δ=${m.damping})`;
    case 'cg': return `CG(${m.steps}${m.ridge ? `, ridge=${m.ridge}` : ''}${m.warmStart ? ', warm' : ''})`;
    case 'identity': return 'IFT-Identity';
    case 't1t2': return 'T1-T2';
    case 'exact': return `Exact${m.damping ? ` (δ=${m.damping})` : ''}`;
    case 'baseline': return m.l2 > 0 ? `Baseline (L2=${m.l2})` : 'Baseline';
  }
}
