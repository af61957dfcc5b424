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
  'neumann:K[:alpha=A] | damped-neumann:K[:damping=D][:power=P] | cg:K[:ridge=R][:warm] | identity | t1t2 | exact[:damping=D] | baseline[:l2=C]';

/** What each method accepts after its name: a step count, `key=value` options (placeholder shown in errors) and bare flags. */
interface MethodGrammar {
  steps: boolean;
  options: Record<string, string>;
  flags: string[];
}

const GRAMMAR: Record<HypergradMethod['kind'], MethodGrammar> = {
  neumann: { steps: true, options: { alpha: 'A' }, flags: [] },
  'damped-neumann': { steps: true, options: { damping: 'D', power: 'P' }, flags: [] },
  cg: { steps: true, options: { ridge: 'R' }, flags: ['warm'] },
  identity: { steps: false, options: {}, flags: [] },
  t1t2: { steps: false, options: {}, flags: [] },
  exact: { steps: false, options: { damping: 'D' }, flags: [] },
  baseline: { steps: false, options: { l2: 'C' }, flags: [] },
};

const isKind = (name: string): name is HypergradMethod['kind'] => Object.prototype.hasOwnProperty.call(GRAMMAR, name);

/** Parses a method spec; throws naming the bad part (unknown, repeated or malformed options and flags included). */
export function parseMethod(spec: string): HypergradMethod {
  const [name = '', ...rest] = spec.trim().split(':');
  if (!isKind(name)) throw new Error(`unknown hypergradient method '${spec}'; expected ${METHOD_HELP}`);
  const g = GRAMMAR[name];
  const fail = (what: string): never => { throw new Error(`method '${spec}': ${what}`); };
  const accepted = [...Object.entries(g.options).map(([k, p]) => `${k}=${p}`), ...g.flags];
  const allowed = accepted.length > 0 ? `${name} accepts ${accepted.join(', ')}` : `${name} takes no options`;
  let stepsRaw: string | undefined;
  if (g.steps) {
    stepsRaw = rest.shift();
    const n = stepsRaw === undefined || stepsRaw.trim() === '' ? NaN : Number(stepsRaw);
    if (!Number.isInteger(n) || n < 0) {
      fail(`the number of steps must be a non-negative integer (e.g. ${name}:3)${stepsRaw === undefined ? '' : `, got '${stepsRaw}'`}`);
    }
  }
  if (accepted.length === 0 && rest.length > 0) fail(`${name} takes no options, got '${rest.join(':')}'`);
  const opts = new Map<string, string>();
  const flags = new Set<string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq >= 0) {
      const key = part.slice(0, eq);
      if (!Object.prototype.hasOwnProperty.call(g.options, key)) fail(`unknown option '${key}' (${allowed})`);
      if (opts.has(key)) fail(`option '${key}' is given twice`);
      opts.set(key, part.slice(eq + 1));
    } else {
      if (!g.flags.includes(part)) fail(part === '' ? `empty option (${allowed})` : `unknown flag '${part}' (${allowed})`);
      if (flags.has(part)) fail(`flag '${part}' is given twice`);
      flags.add(part);
    }
  }
  const num = (key: string, fallback: number): number => {
    const raw = opts.get(key);
    if (raw === undefined) return fallback;
    const v = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(v) || v < 0) fail(`${key} must be a non-negative number, got '${raw}'`);
    return v;
  };
  const posInt = (key: string, fallback: number): number => {
    const raw = opts.get(key);
    if (raw === undefined) return fallback;
    const v = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isInteger(v) || v <= 0) fail(`${key} must be a positive integer, got '${raw}'`);
    return v;
  };
  const steps = Number(stepsRaw);
  switch (name) {
    case 'neumann': return { kind: 'neumann', steps, alpha: num('alpha', 0.1) };
    case 'damped-neumann': return { kind: 'damped-neumann', steps, damping: num('damping', 1e-3), powerIterations: posInt('power', 10) };
    case 'cg': return { kind: 'cg', steps, ridge: num('ridge', 0), warmStart: flags.has('warm') };
    case 'identity': return { kind: 'identity' };
    case 't1t2': return { kind: 't1t2' };
    case 'exact': return { kind: 'exact', damping: num('damping', 0) };
    case 'baseline': return { kind: 'baseline', l2: num('l2', 0) };
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
