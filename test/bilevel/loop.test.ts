// runBilevel on a problem that is not L2: a quadratic inner problem with learned data weights, against a float64 reference of the whole schedule (hypergradients in closed form), early stopping with the best snapshot, kill/resume bit for bit.
import { describe, expect, it } from 'vitest';
import { valueAndGrad } from '../../src/autodiff/transforms.js';
import type { BilevelConfig } from '../../src/bilevel/config.js';
import { runBilevel, type BilevelEpochMetrics, type BilevelHooks } from '../../src/bilevel/loop.js';
import type { BilevelProblem } from '../../src/bilevel/problem.js';
import { tensor, zeros } from '../../src/core/creation.js';
import { add, exp, mul, sub, sum } from '../../src/core/ops.js';
import { keep } from '../../src/core/scope.js';
import { noGrad, type Tensor } from '../../src/core/tensor.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
// Registers the dense exact inverse-HVP ('exact' method).
import '../../src/linalg/index.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import type { ParamRef } from '../../src/optim/optimizer.js';
import { Random } from '../../src/util/random.js';

// K data points a_k in R^D, each weighted by e^{ω_k}; the outer loss pulls θ towards b.
const A = [[1, 0.5, -0.2], [0.8, -0.3, 0.4], [-0.5, 1.2, 0.1], [0.3, 0.2, 0.9]];
const B = [0.1, 0.3, 0.05];
const K = A.length;
const D = B.length;
const RHO = 0.2; // ridge on θ
const ETA = 0.1; // inner step size
const MU = 0.5; // inner heavy-ball momentum
const f64 = { dtype: 'float64' as const };

interface QuadMetrics {
  thetaNorm: number;
}

/**
 * L_T(θ, ω; m) = ½ Σ_k m_k e^{ω_k} ||θ - a_k||² + ½ ρ ||θ||² with the mask m choosing the inner batch (all points in
 * meta-steps), L_V(θ) = ½ ||θ - b||². θ is trained by heavy-ball gradient descent (velocity and a step counter are
 * the problem's own checkpoint state); each inner step draws 2 of the K points from the loop's random stream.
 */
function quadraticProblem(scoped: 'no' | 'kept' | 'unkept' = 'no'): BilevelProblem<QuadMetrics> & { velocity: () => Tensor; calls: () => number; seen: { theta: number[]; meta: number[] }[] } {
  const a = tensor(A.flat(), [K, D], f64);
  const b = tensor(B, [D], f64);
  const theta: ParamRef = { name: 'theta', value: zeros([D], f64) };
  let velocity = zeros([D], f64);
  let innerCalls = 0;
  const seen: { theta: number[]; meta: number[] }[] = [];
  const loss = (th: Tensor, om: Tensor, mask: Tensor): Tensor => {
    const d = sub(th, a);
    const perPoint = sum(mul(d, d), 1);
    return add(mul(sum(mul(mul(mask, exp(om)), perPoint)), 0.5), mul(sum(mul(th, th)), 0.5 * RHO));
  };
  const all = tensor(new Array(K).fill(1), [K], f64);
  return {
    kind: 'quadratic data weights',
    tidy: scoped !== 'no',
    metaNames: ['weights'],
    init: (rng) => [tensor(A.map(() => 0.1 * rng.normal()), [K], f64)],
    innerParams: () => [theta],
    async innerStep(meta, { rng }) {
      const pick = rng.permutation(K).subarray(0, 2);
      const mask = tensor(A.map((_, k) => (pick.includes(k) ? 1 : 0)), [K], f64);
      const { value, grads } = valueAndGrad((xs: Tensor[]) => loss(xs[0], meta[0], mask))([theta.value]);
      return {
        loss: (await value.data())[0],
        apply: () => {
          innerCalls++;
          const own = (t: Tensor): Tensor => (scoped === 'kept' ? keep(t) : t);
          velocity = own(noGrad(() => add(mul(velocity, MU), grads[0])));
          theta.value = own(noGrad(() => sub(theta.value, mul(velocity, ETA))));
        },
      };
    },
    metaObjective: () => ({
      trainLoss: (ws, lm) => loss(ws[0], lm[0], all),
      valLoss: (ws) => {
        const d = sub(ws[0], b);
        return mul(sum(mul(d, d)), 0.5);
      },
    }),
    async evaluate(meta) {
      const th = Array.from(await theta.value.data());
      seen.push({ theta: th, meta: Array.from(await meta[0].data()) });
      return { validationLoss: 0.5 * th.reduce((s, t, j) => s + (t - B[j]) ** 2, 0), esScore: -th[0], metrics: { thetaNorm: Math.hypot(...th) } };
    },
    state: async () => ({ tensors: { 'quad:velocity': velocity }, json: { innerCalls } }),
    restore(saved) {
      const v = saved.tensors['quad:velocity'];
      if (!v || typeof saved.json.innerCalls !== 'number') throw new Error(`${saved.where}: no quadratic-problem state`);
      velocity = v;
      innerCalls = saved.json.innerCalls;
    },
    velocity: () => velocity,
    calls: () => innerCalls,
    seen,
  };
}

/** ∂L_V/∂ω_k = -(c e^{ω_k}) (θ - b)ᵀ(θ - a_k), with H⁻¹ ≈ c I: c = 1/(Σ e^{ω} + ρ) exact (H = (Σ e^{ω} + ρ) I), c = 1 identity. */
function closedFormHypergrad(theta: readonly number[], w: readonly number[], method: 'exact' | 'identity'): number[] {
  const s = w.reduce((acc, wk) => acc + Math.exp(wk), 0) + RHO;
  const c = method === 'exact' ? 1 / s : 1;
  return A.map((ak, k) => -c * Math.exp(w[k]) * theta.reduce((acc, t, j) => acc + (t - B[j]) * (t - ak[j]), 0));
}

interface RefConfig {
  seed: number;
  warmupSteps: number;
  innerSteps: number;
  metaEpochs: number;
  metaLr: number;
  method: 'exact' | 'identity' | 't1t2';
  optimizer: 'rmsprop' | 'adam';
}

/** The whole schedule in plain float64: warm-up, meta-epochs of inner steps and a meta-step (T1-T2: after each), torch's RMSprop / Adam on ω. */
function reference(cfg: RefConfig): { valLoss: number[]; norms: number[]; theta: number[][]; w: number[][] } {
  const rng = new Random(cfg.seed);
  const w = A.map(() => 0.1 * rng.normal());
  const theta = new Array<number>(D).fill(0);
  const vel = new Array<number>(D).fill(0);
  const m1 = new Array<number>(K).fill(0);
  const m2 = new Array<number>(K).fill(0);
  let t = 0;
  const inner = (): void => {
    const pick = rng.permutation(K).subarray(0, 2);
    const grad = theta.map((th, j) => A.reduce((acc, ak, k) => acc + (pick.includes(k) ? Math.exp(w[k]) * (th - ak[j]) : 0), 0) + RHO * th);
    for (let j = 0; j < D; j++) {
      vel[j] = MU * vel[j] + grad[j];
      theta[j] -= ETA * vel[j];
    }
  };
  let norm = 0;
  const meta = (): void => {
    const g = closedFormHypergrad(theta, w, cfg.method === 'exact' ? 'exact' : 'identity');
    norm = Math.hypot(...g);
    t++;
    for (let k = 0; k < K; k++) {
      if (cfg.optimizer === 'rmsprop') {
        m2[k] = 0.99 * m2[k] + 0.01 * g[k] * g[k];
        w[k] -= (cfg.metaLr * g[k]) / (Math.sqrt(m2[k]) + 1e-8);
      } else {
        m1[k] = 0.9 * m1[k] + 0.1 * g[k];
        m2[k] = 0.999 * m2[k] + 0.001 * g[k] * g[k];
        w[k] -= ((cfg.metaLr / (1 - 0.9 ** t)) * m1[k]) / (Math.sqrt(m2[k]) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
      }
    }
  };
  const out = { valLoss: [] as number[], norms: [] as number[], theta: [] as number[][], w: [] as number[][] };
  for (let i = 0; i < cfg.warmupSteps; i++) inner();
  for (let e = 1; e <= cfg.metaEpochs; e++) {
    for (let i = 0; i < cfg.innerSteps; i++) {
      inner();
      if (cfg.method === 't1t2') meta();
    }
    if (cfg.method !== 't1t2') meta();
    out.valLoss.push(0.5 * theta.reduce((s, th, j) => s + (th - B[j]) ** 2, 0));
    out.norms.push(norm);
    out.theta.push([...theta]);
    out.w.push([...w]);
  }
  return out;
}

const close = (a: readonly number[], b: readonly number[], rel: number, what: string): void => {
  expect(a.length, what).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `${what}[${i}]: ${v} vs ${b[i]}`).toBeLessThanOrEqual(rel * Math.max(1e-6, Math.abs(b[i]))));
};

const loopConfig = (o: Partial<BilevelConfig> = {}): BilevelConfig => ({
  method: parseMethod('exact'), innerSteps: 3, metaEpochs: 6, warmupSteps: 2, patience: 0, seed: 7, metaLr: 0.05, checkpointEvery: 0, ...o,
});

describe('runBilevel on a quadratic problem with learned data weights', () => {
  for (const [spec, optimizer] of [['exact', 'rmsprop'], ['identity', 'adam'], ['t1t2', 'rmsprop']] as const) {
    it(`${spec} with ${optimizer}: every meta-step applies the closed-form hypergradient and the run follows the float64 reference`, async () => {
      const p = quadraticProblem();
      const steps: { epoch: number; step: number; theta: number[]; meta: number[]; hypergrad: number[] }[] = [];
      const hooks: BilevelHooks<QuadMetrics> = {
        onMetaStep: async ({ metaEpoch, step, theta, meta, result }) => {
          steps.push({ epoch: metaEpoch, step, theta: Array.from(await theta[0].data()), meta: Array.from(await meta[0].data()), hypergrad: Array.from(await result.hypergrad[0].data()) });
        },
      };
      const cfg = loopConfig({ method: parseMethod(spec), metaOptimizer: { kind: optimizer }, metaEpochs: spec === 't1t2' ? 3 : 6 });
      const r = await runBilevel(p, cfg, hooks);
      expect(r.diverged).toBeNull();
      // The schedule: 2 warm-up steps, then 3 inner steps per meta-epoch and a meta-step (T1-T2: one per inner step).
      expect(r.metrics.map((m) => m.innerStep)).toEqual(spec === 't1t2' ? [5, 8, 11] : [5, 8, 11, 14, 17, 20]);
      expect(steps.map((s) => s.step)).toEqual(spec === 't1t2' ? [3, 4, 5, 6, 7, 8, 9, 10, 11] : [5, 8, 11, 14, 17, 20]);
      for (const s of steps) close(s.hypergrad, closedFormHypergrad(s.theta, s.meta, spec === 'exact' ? 'exact' : 'identity'), 1e-9, `hypergradient at step ${s.step}`);
      const ref = reference({ seed: 7, warmupSteps: 2, innerSteps: 3, metaEpochs: cfg.metaEpochs, metaLr: 0.05, method: spec, optimizer });
      close(r.metrics.map((m) => m.thetaNorm), ref.theta.map((th) => Math.hypot(...th)), 1e-9, 'θ norms');
      close(r.metrics.map((m) => m.hypergradNorm), ref.norms, 1e-9, 'hypergradient norms');
      close(p.seen.map((s) => s.theta).flat(), ref.theta.flat(), 1e-9, 'θ');
      close(Array.from(await r.meta[0].data()), ref.w.at(-1)!, 1e-9, 'final ω');
      // The data weights moved: ω is learned, not just carried.
      expect(Math.abs(ref.w.at(-1)![0] - ref.w[0][0])).toBeGreaterThan(1e-3);
    });
  }

  it('a problem with tidy: true runs every step in a tidy scope: kept state gives the same run bit for bit, unkept state is reported', async () => {
    const cfg = loopConfig({ method: parseMethod('cg:3:warm'), metaOptimizer: { kind: 'adam' }, metaEpochs: 4 });
    const plain = await runBilevel(quadraticProblem(), cfg);
    const scoped = await runBilevel(quadraticProblem('kept'), cfg);
    expect(scoped.metrics.map(({ epochSeconds: _e, approximationSeconds: _a, ...m }) => m)).toEqual(plain.metrics.map(({ epochSeconds: _e, approximationSeconds: _a, ...m }) => m));
    expect(Array.from(await scoped.meta[0].data())).toEqual(Array.from(await plain.meta[0].data()));
    // θ written by apply() without keep() is disposed with the step's scope: the next step says so.
    await expect(runBilevel(quadraticProblem('unkept'), cfg)).rejects.toThrow(/theta.*was used after dispose\(\)|was used after dispose\(\)/);
  });

  it('early stopping keeps the best snapshot (θ and ω) and restoreBest puts it back', async () => {
    // θ passes near b on its way from 0 to the weighted mean of the points: the validation loss falls, then rises, and patience 2 fires.
    const p = quadraticProblem();
    const cfg = loopConfig({ metaEpochs: 30, patience: 2, restoreBest: true, metaLr: 0.01, warmupSteps: 0, innerSteps: 1 });
    const r = await runBilevel(p, cfg);
    const vals = r.metrics.map((m, i) => 0.5 * p.seen[i].theta.reduce((s, t, j) => s + (t - B[j]) ** 2, 0));
    expect(r.stoppedEarly).toBe(true);
    const stop = r.earlyStopEpoch!;
    expect(r.metrics.length).toBe(stop);
    const bestEpoch = vals.indexOf(Math.min(...vals)) + 1;
    expect(r.best.metaEpoch).toBe(bestEpoch);
    expect(stop - bestEpoch).toBe(2);
    expect(bestEpoch).toBeGreaterThan(1);
    expect(r.best.validationLoss).toBe(vals[bestEpoch - 1]);
    expect(r.best.esScore).toBe(-p.seen[bestEpoch - 1].theta[0]);
    // θ and ω are those of the best meta-epoch, not of the last one.
    expect(Array.from(await p.innerParams()[0].value.data())).toEqual(p.seen[bestEpoch - 1].theta);
    expect(Array.from(await r.meta[0].data())).toEqual(p.seen[bestEpoch - 1].meta);
    expect(p.seen[stop - 1].theta).not.toEqual(p.seen[bestEpoch - 1].theta);
    // Without restoreBest θ stays where training ended.
    const q = quadraticProblem();
    await runBilevel(q, { ...cfg, restoreBest: false });
    expect(Array.from(await q.innerParams()[0].value.data())).toEqual(q.seen[stop - 1].theta);
  });

  it('killed after meta-epoch 5 (checkpoint at 4) and resumed, the run is the uninterrupted one bit for bit, the problem state included', async () => {
    const cfg = loopConfig({ method: parseMethod('cg:2:warm'), metaEpochs: 8, checkpointEvery: 2, patience: 3, continueAfterEarlyStop: true, metaOptimizer: { kind: 'adam' } });
    const strip = <M extends { epochSeconds: number; approximationSeconds: number }>(ms: M[]) => ms.map(({ epochSeconds: _e, approximationSeconds: _a, ...rest }) => rest);
    const full = quadraticProblem();
    const a = await runBilevel(full, cfg);
    const store = memoryRunStore<(typeof a.metrics)[number]>();
    const killed = quadraticProblem();
    await expect(runBilevel(killed, cfg, { store, onMetaEpoch: (m) => { if (m.metaEpoch === 5) throw new Error('killed'); } })).rejects.toThrow('killed');
    const saved = (await store.loadCheckpoint())!;
    expect(saved.params['quad:velocity'].shape).toEqual([D]);
    expect((saved.meta as { innerCalls: number }).innerCalls).toBe(2 + 4 * 3);
    expect(saved.params['state:previousSolution:0'].shape).toEqual([D]);
    const resumed = quadraticProblem();
    const b = await runBilevel(resumed, cfg, { store, resume: true });
    expect(b.metrics.map((m) => m.metaEpoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(strip(b.metrics)).toEqual(strip(a.metrics));
    expect({ ...b, metrics: null, best: { ...b.best, theta: null, meta: null }, meta: null }).toEqual({ ...a, metrics: null, best: { ...a.best, theta: null, meta: null }, meta: null });
    expect(Array.from(await resumed.innerParams()[0].value.data())).toEqual(Array.from(await full.innerParams()[0].value.data()));
    expect(Array.from(await b.meta[0].data())).toEqual(Array.from(await a.meta[0].data()));
    expect(Array.from(await resumed.velocity().data())).toEqual(Array.from(await full.velocity().data()));
    expect(resumed.calls()).toBe(full.calls());
    expect((await store.readMetrics()).map((m) => m.metaEpoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refuses bad input with what is wrong: a configuration count, nothing to learn, clashing checkpoint names', async () => {
    await expect(runBilevel(quadraticProblem(), loopConfig({ innerSteps: -1 }))).rejects.toThrow('runBilevel: config.innerSteps must be an integer >= 0, got -1');
    await expect(runBilevel(quadraticProblem(), loopConfig({ compare: { every: 0, reference: parseMethod('exact'), methods: [] } }))).rejects.toThrow('runBilevel: config.compare must be an integer >= 1, got 0');
    const none = { ...quadraticProblem(), metaNames: [], init: () => [] };
    await expect(runBilevel(none, loopConfig())).rejects.toThrow("runBilevel: 'quadratic data weights' has no meta-parameters, so Exact has nothing to learn (use the baseline method)");
    const wrongCount = { ...quadraticProblem(), init: () => [] };
    await expect(runBilevel(wrongCount, loopConfig())).rejects.toThrow('runBilevel: quadratic data weights.init returned 0 meta-parameter tensors for 1 names (weights)');
    const p = quadraticProblem();
    const jsonClash = { ...p, state: async () => ({ json: { step: 1 } }) };
    await expect(runBilevel(jsonClash, loopConfig({ checkpointEvery: 1, metaEpochs: 1 }), { store: memoryRunStore() }))
      .rejects.toThrow("runBilevel: quadratic data weights.state() JSON field 'step' is one of the loop's");
    const q = quadraticProblem();
    const tensorClash = { ...q, state: async () => ({ tensors: { 'lam:x': zeros([1], f64) } }) };
    await expect(runBilevel(tensorClash, loopConfig({ checkpointEvery: 1, metaEpochs: 1 }), { store: memoryRunStore() }))
      .rejects.toThrow("runBilevel: quadratic data weights.state() tensor 'lam:x' clashes with θ's names or the loop's prefixes");
  });

  it('every field and tensor prefix of the loop is refused in a problem\'s state, and an optimizer named meta (from the loop mutation survivors)', async () => {
    const keys = ['identity', 'rng', 'startEpoch', 'best', 'sinceBest', 'earlyStopAt', 'stoppedEarly', 'step', 'methodState'];
    for (const key of keys) {
      const clash = { ...quadraticProblem(), state: async () => ({ json: { [key]: 1 } }) };
      await expect(runBilevel(clash, loopConfig({ checkpointEvery: 1, metaEpochs: 1 }), { store: memoryRunStore() }))
        .rejects.toThrow(new Error(`runBilevel: quadratic data weights.state() JSON field '${key}' is one of the loop's (${keys.join(', ')})`));
    }
    for (const name of ['lam:x', 'best:x', 'bestlam:x', 'state:x', 'theta']) {
      const clash = { ...quadraticProblem(), state: async () => ({ tensors: { [name]: zeros([1], f64) } }) };
      await expect(runBilevel(clash, loopConfig({ checkpointEvery: 1, metaEpochs: 1 }), { store: memoryRunStore() }))
        .rejects.toThrow(new Error(`runBilevel: quadratic data weights.state() tensor '${name}' clashes with θ's names or the loop's prefixes (lam:, best:, bestlam:, state:)`));
    }
    const p = quadraticProblem();
    const metaClash = { ...p, state: async () => ({ ...(await p.state()), optimizers: { meta: { kind: 'sgd' } as never } }) };
    await expect(runBilevel(metaClash, loopConfig({ checkpointEvery: 1, metaEpochs: 1 }), { store: memoryRunStore() }))
      .rejects.toThrow(new Error("runBilevel: quadratic data weights.state() names an optimizer 'meta' (the loop's meta optimizer)"));
  });

  it('resuming: a checkpoint without one of θ\'s tensors is named; metaEpochs and checkpointEvery may change, innerSteps may not', async () => {
    const cfg = loopConfig({ metaEpochs: 4, checkpointEvery: 2 });
    const store = memoryRunStore<BilevelEpochMetrics<QuadMetrics>>();
    await expect(runBilevel(quadraticProblem(), cfg, { store, onMetaEpoch: (m) => { if (m.metaEpoch === 3) throw new Error('killed'); } })).rejects.toThrow('killed');
    const missing = { ...store, loadCheckpoint: async () => {
      const ck = (await store.loadCheckpoint())!;
      delete ck.params['theta'];
      return ck;
    } };
    await expect(runBilevel(quadraticProblem(), cfg, { store: missing, resume: true }))
      .rejects.toThrow(new Error("memory: checkpoint has no tensor 'theta' (was it written by another model or method?)"));
    const longer = await runBilevel(quadraticProblem(), { ...cfg, metaEpochs: 5, checkpointEvery: 1 }, { store, resume: true });
    expect(longer.metrics.map((m) => m.metaEpoch)).toEqual([1, 2, 3, 4, 5]);
    await expect(runBilevel(quadraticProblem(), { ...cfg, innerSteps: cfg.innerSteps + 1 }, { store, resume: true })).rejects.toThrow(/belongs to a different configuration; refusing to resume:\n {2}config\.innerSteps:/);
  });

  it('a non-finite inner loss ends the run as diverged with the meta-epoch and step, θ untouched by that step', async () => {
    const p = quadraticProblem();
    let calls = 0;
    const bad = { ...p, innerStep: async (meta: readonly Tensor[], ctx: Parameters<typeof p.innerStep>[1]) => {
      const s = await p.innerStep(meta, ctx);
      return ++calls === 4 ? { loss: NaN, apply: () => { throw new Error('applied a diverged step'); } } : s;
    } };
    const r = await runBilevel(bad, loopConfig());
    expect(r.diverged).toEqual({ metaEpoch: 1, step: 4, what: 'training loss is NaN' });
    expect(r.metrics).toEqual([]);
    expect(p.calls()).toBe(3);
  });
});
