// Checkpoints hold everything that decides a run's future: resumes between checkpoints are exact for every method, tampering and mismatches are refused.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noMetaKnowledge } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { fileRunStore } from '../../src/node/file-run-store.js';
import { runIml, type ImlConfig, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import { loadCheckpoint } from '../../src/node/checkpoint-file.js';
import { build, config as baseConfig, data } from './cases.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'iml-resume-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// Patience 2 with continue-to-budget exercises the patience counter, the best snapshot and the frozen ES checkpoint.
const config = (spec: string, o: Partial<ImlConfig> = {}): ImlConfig =>
  baseConfig({ method: parseMethod(spec), metaEpochs: 7, checkpointEvery: 2, patience: 2, continueAfterEarlyStop: true, metaSubset: 10, ...o });

/** Everything a run reports except wall-clock times. */
const strip = (ms: readonly MetaEpochMetrics[]) => ms.map(({ epochSeconds: _e, approximationSeconds: _a, ...rest }) => rest);
const stripSummary = (s: Awaited<ReturnType<typeof runIml>>['summary']) => ({ ...s, meanEpochSeconds: 0, meanApproximationSeconds: 0 });

const mk = (spec: string) => {
  const b = build();
  return spec === 'baseline' ? { model: b.model, mk: noMetaKnowledge() } : b;
};

/** Runs until `killAt` (the process "dies" right after that meta-epoch's metrics line), then resumes in a fresh model. */
async function killAndResume(spec: string, killAt: number, dir: string, o: Partial<ImlConfig> = {}) {
  const a = mk(spec);
  await expect(runIml(a.model, a.mk, data, config(spec, o), {
    store: fileRunStore(dir),
    onMetaEpoch: (m) => {
      if (m.metaEpoch === killAt) throw new Error('killed');
    },
  })).rejects.toThrow('killed');
  const b = mk(spec);
  return runIml(b.model, b.mk, data, config(spec, o), { store: fileRunStore(dir), resume: true });
}

describe('resume between checkpoints', () => {
  for (const spec of ['neumann:3', 'cg:3:warm', 'damped-neumann:3', 'identity', 't1t2', 'baseline', 'baseline:l2=0.01']) {
    it(`${spec}: killed after meta-epoch 5 (checkpoint at 4) resumes to the uninterrupted run, metrics and summary`, async () => {
      const a = mk(spec);
      const method = parseMethod(spec);
      const m = method.kind === 'baseline' && method.l2 > 0 ? { model: a.model, mk: (await import('../../src/hypergrad/meta-knowledge.js')).fixedL2(a.model.parameters(), method.l2) } : a;
      const full = await runIml(m.model, m.mk, data, config(spec));
      expect(full.summary.diverged).toBeNull();
      const dir = tmp();
      let resumed;
      if (method.kind === 'baseline' && method.l2 > 0) {
        // fixedL2 needs the model's own parameters: build both runs by hand.
        const { fixedL2 } = await import('../../src/hypergrad/meta-knowledge.js');
        const b = build();
        await expect(runIml(b.model, fixedL2(b.model.parameters(), method.l2), data, config(spec), {
          store: fileRunStore(dir), onMetaEpoch: (x) => { if (x.metaEpoch === 5) throw new Error('killed'); },
        })).rejects.toThrow('killed');
        const c = build();
        resumed = await runIml(c.model, fixedL2(c.model.parameters(), method.l2), data, config(spec), { store: fileRunStore(dir), resume: true });
      } else {
        resumed = await killAndResume(spec, 5, dir);
      }
      expect(strip(resumed.metrics)).toEqual(strip(full.metrics));
      expect(stripSummary(resumed.summary)).toEqual(stripSummary(full.summary));
      const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).metaEpoch);
      expect(lines).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });
  }

  it('the carried solver state is in the checkpoint: CG warm start and the power-iteration vector', async () => {
    for (const [spec, name] of [['cg:3:warm', 'state:previousSolution:0'], ['damped-neumann:3', 'state:eigenvector:0']] as const) {
      const dir = tmp();
      const a = build();
      await runIml(a.model, a.mk, data, config(spec, { metaEpochs: 2 }), { store: fileRunStore(dir) });
      const ck = await loadCheckpoint(join(dir, 'checkpoint.json'));
      expect(ck.params[name]?.shape, spec).toEqual([8, 16]);
      expect(ck.optimizers?.meta?.kind).toBe('rmsprop');
    }
  });
});

describe('metrics.jsonl reconciled with the checkpoint on resume', () => {
  it('lines past the checkpoint and a half-written last line are dropped', async () => {
    const a = build();
    const full = await runIml(a.model, a.mk, data, config('neumann:3'));
    const dir = tmp();
    const b = build();
    await expect(runIml(b.model, b.mk, data, config('neumann:3'), {
      store: fileRunStore(dir), onMetaEpoch: (m) => { if (m.metaEpoch === 5) throw new Error('killed'); },
    })).rejects.toThrow('killed');
    // The process died while appending meta-epoch 6.
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"metaEpoch":6,"innerStep":2`);
    const c = build();
    const r = await runIml(c.model, c.mk, data, config('neumann:3'), { store: fileRunStore(dir), resume: true });
    expect(strip(r.metrics)).toEqual(strip(full.metrics));
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).metaEpoch)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('a metrics file shorter than the checkpoint is refused (no gap, no wrong summary)', async () => {
    const dir = tmp();
    const a = build();
    await runIml(a.model, a.mk, data, config('neumann:3', { metaEpochs: 4 }), { store: fileRunStore(dir) });
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 2).map((l) => `${l}\n`).join(''));
    const b = build();
    await expect(runIml(b.model, b.mk, data, config('neumann:3', { metaEpochs: 6 }), { store: fileRunStore(dir), resume: true }))
      .rejects.toThrow(`${dir}: metrics hold 2 meta-epochs but the checkpoint is at meta-epoch 4; the metrics were truncated or replaced (refusing to resume with a gap)`);
  });

  it('a bad line inside the resumed prefix is an error naming the line', async () => {
    const dir = tmp();
    const a = build();
    await runIml(a.model, a.mk, data, config('neumann:3', { metaEpochs: 4 }), { store: fileRunStore(dir) });
    const file = join(dir, 'metrics.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1].slice(0, 20);
    writeFileSync(file, lines.join('\n'));
    const b = build();
    await expect(runIml(b.model, b.mk, data, config('neumann:3', { metaEpochs: 6 }), { store: fileRunStore(dir), resume: true }))
      .rejects.toThrow(`${file}: line 2 is not JSON`);
  });
});

describe('tampered or mismatched checkpoints are refused', () => {
  const saved = async (spec = 'neumann:3'): Promise<string> => {
    const dir = tmp();
    const a = build();
    await runIml(a.model, a.mk, data, config(spec, { metaEpochs: 2 }), { store: fileRunStore(dir) });
    return dir;
  };
  const resume = (dir: string, spec = 'neumann:3', o: Partial<ImlConfig> = {}, identity?: Record<string, unknown>) => {
    const b = build();
    return runIml(b.model, b.mk, data, config(spec, { metaEpochs: 4, ...o }), { store: fileRunStore(dir), resume: true, identity });
  };

  it('every single-byte change anywhere in the file is refused, naming the file', async () => {
    const dir = await saved();
    const file = join(dir, 'checkpoint.json');
    const original = readFileSync(file);
    // Deterministic positions spread over the whole file (wrapper, tensors, optimizer states, RNG, cursor, best, config).
    let refused = 0;
    const positions = Array.from({ length: 60 }, (_, i) => Math.floor(((i + 0.5) / 60) * original.length));
    for (const pos of positions) {
      const bytes = Buffer.from(original);
      bytes[pos] = bytes[pos] === 0x31 ? 0x32 : 0x31; // '1' <-> '2', else becomes '1'
      writeFileSync(file, bytes);
      try {
        await loadCheckpoint(file);
      } catch (e) {
        expect((e as Error).message).toContain(file);
        refused++;
      }
    }
    expect(refused).toBe(positions.length);
  });

  it('an edited optimizer hyperparameter (Adam lr), RNG state or data cursor is refused', async () => {
    const dir = await saved();
    const file = join(dir, 'checkpoint.json');
    const text = readFileSync(file, 'utf8');
    const edits: [RegExp, (n: number) => number][] = [[/"lr":(0\.01)/, (n) => 2 * n], [/"cursor":(\d+)/, (n) => n + 1], [/"rng":\[(-?\d+)/, (n) => n + 1]];
    for (const [re, change] of edits) {
      const m = re.exec(text);
      expect(m, String(re)).not.toBeNull();
      writeFileSync(file, text.replace(re, (whole, n: string) => whole.replace(n, String(change(Number(n))))));
      await expect(resume(dir)).rejects.toThrow(`loadCheckpoint(${file}): fails its checksum: the file was modified or is corrupt (refusing to resume from it)`);
    }
  });

  it('resuming with a different configuration lists the differences', async () => {
    const dir = tmp();
    const a = build();
    await runIml(a.model, a.mk, data, config('neumann:3', { metaEpochs: 2 }), { store: fileRunStore(dir), identity: { dataset: 'mnist', recipe: 'r' } });
    await expect(resume(dir, 'neumann:3', { seed: 6, innerLr: 0.02 }, { dataset: 'fashion-mnist', recipe: 'r' })).rejects.toThrow(
      `${dir}: checkpoint belongs to a different configuration; refusing to resume:\n` +
      '  config.innerLr: 0.01 in the checkpoint, 0.02 now\n  config.seed: 5 in the checkpoint, 6 now\n' +
      '  dataset: "mnist" in the checkpoint, "fashion-mnist" now\n(use another run folder, or start afresh with --force)');
    await expect(resume(dir, 'cg:3', {}, { dataset: 'mnist', recipe: 'r' })).rejects.toThrow(/config\.method\.kind: "neumann" in the checkpoint, "cg" now/);
    // The budget may change (extend a run): that resumes.
    const r = await resume(dir, 'neumann:3', {}, { dataset: 'mnist', recipe: 'r' });
    expect(r.metrics.map((m) => m.metaEpoch)).toEqual([1, 2, 3, 4]);
  });

  it('a version-1 checkpoint (tensors-only checksum) is refused for resuming, with the reason', async () => {
    const dir = await saved();
    const file = join(dir, 'checkpoint.json');
    const v2 = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ format: 'iml-checkpoint', version: 1, ...v2.content }));
    await expect(resume(dir)).rejects.toThrow(`${dir}: checkpoint was written by an older version whose checksum covers only the tensors`);
  });
});
