// Checkpoints: bit-exact float32/float64 round trips, optimizer resume, atomic tmp-then-rename writes, corrupt-file errors.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, randn, tensor, type Tensor } from '../../src/index.js';
import { Adam, restoreParams, SGD, type OptimizerState, type ParamRef } from '../../src/optim/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint-file.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.js';
import { encodeBase64 } from '../../src/util/base64.js';
import { sha256Hex } from '../../src/util/sha256.js';

const dir = mkdtempSync(join(tmpdir(), 'iml-ckpt-'));
afterAll(() => {
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});
let counter = 0;
const fresh = (): string => join(dir, `ckpt-${counter++}.json`);

const bytes = (t: Tensor): Buffer => {
  const d = t.dataSync();
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
};

/** Values that are easy to mangle: signed zero, subnormals, extremes, infinities, NaN, and random numbers. */
function awkward(dtype: 'float32' | 'float64', n: number): Tensor {
  const specials = [0, -0, 1, -1, Number.MIN_VALUE, 1.401298464324817e-45, 1e-40, 3.4028234663852886e38, -1.7976931348623157e308, Infinity, -Infinity, NaN, 1 / 3, Math.PI];
  const rng = new Random(3);
  const arr = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) arr[i] = i < specials.length ? specials[i] : rng.normal() * 10 ** ((i % 9) - 4);
  return tensor(arr, [n / 4, 4], { dtype });
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips float32 and float64 tensors bit-exactly, with step and meta', async () => {
    const path = fresh();
    const params = { a32: awkward('float32', 40), a64: awkward('float64', 40), s: tensor([2.5], [], { dtype: 'float64' }), empty: tensor([], [0, 3]) };
    const meta = { run: 'test', config: { lr: 0.1, seeds: [1, 2] }, note: null };
    await saveCheckpoint(path, { params, step: 1234, meta });
    const ck = await loadCheckpoint(path);
    expect(ck.step).toBe(1234);
    expect(ck.meta).toEqual(meta);
    expect(ck.optimizer).toBeUndefined();
    expect(Object.keys(ck.params)).toEqual(['a32', 'a64', 's', 'empty']);
    for (const [name, t] of Object.entries(params)) {
      const back = ck.params[name];
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(bytes(back).equals(bytes(t))).toBe(true);
    }
    // One JSON file; tensors are base64 of little-endian bytes with dtype and shape.
    const raw = JSON.parse(readFileSync(path, 'utf8'));
    expect(raw).toMatchObject({ format: 'iml-checkpoint', version: 2, content: { step: 1234 } });
    // One SHA-256 over the whole content's JSON text.
    expect(raw.sha256).toBe(createHash('sha256').update(JSON.stringify(raw.content)).digest('hex'));
    expect(raw.content.params.s).toMatchObject({ dtype: 'float64', shape: [] });
    expect(Buffer.from(raw.content.params.s.data, 'base64').readDoubleLE(0)).toBe(2.5);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('accepts ParamRef lists and restores them with validation', async () => {
    const path = fresh();
    const refs: ParamRef[] = [
      { name: 'w', value: randn([2, 3], new Random(1)) },
      { name: 'b', value: tensor([1, 2], [2], { dtype: 'float64' }) },
    ];
    await saveCheckpoint(path, { params: refs, step: 0 });
    const ck = await loadCheckpoint(path);
    const target: ParamRef[] = [
      { name: 'b', value: tensor([0, 0], [2], { dtype: 'float64' }) },
      { name: 'w', value: tensor(new Float32Array(6), [2, 3]) },
    ];
    restoreParams(target, ck);
    expect(bytes(target[1].value).equals(bytes(refs[0].value))).toBe(true);
    expect(target[0].value.toArray()).toEqual([1, 2]);

    const wrongName = [{ name: 'w', value: tensor(new Float32Array(6), [2, 3]) }, { name: 'c', value: tensor([0, 0], [2], { dtype: 'float64' }) }];
    expect(() => restoreParams(wrongName, ck)).toThrow(/missing from the checkpoint: 'c'; not among the parameters: 'b'/);
    const wrongShape = [{ name: 'w', value: tensor(new Float32Array(6), [3, 2]) }, { name: 'b', value: tensor([0, 0], [2], { dtype: 'float64' }) }];
    expect(() => restoreParams(wrongShape, ck)).toThrow(/parameter 'w' has shape \[2, 3\] in the checkpoint but \[3, 2\] in the model/);
    const wrongDtype = [{ name: 'w', value: tensor(new Float32Array(6), [2, 3]) }, { name: 'b', value: tensor([0, 0], [2]) }];
    expect(() => restoreParams(wrongDtype, ck)).toThrow(/parameter 'b' is float64 in the checkpoint but float32 in the model/);
    expect(wrongDtype[0].value.toArray()).toEqual([0, 0, 0, 0, 0, 0]); // nothing assigned on failure
  });

  it('resumes training bit-exactly through a checkpoint file (params + Adam state, float32)', async () => {
    const path = fresh();
    const rng = new Random(11);
    const init = randn([5], rng);
    const grads = Array.from({ length: 6 }, () => randn([5], rng));
    const refsA: ParamRef[] = [{ name: 'w', value: init }];
    const a = new Adam(refsA, { lr: 0.01, amsgrad: true, weightDecay: 0.001 });
    grads.forEach((g) => a.step([g]));

    const refsB: ParamRef[] = [{ name: 'w', value: init }];
    const b = new Adam(refsB, { lr: 0.01, amsgrad: true, weightDecay: 0.001 });
    grads.slice(0, 3).forEach((g) => b.step([g]));
    await saveCheckpoint(path, { params: refsB, optimizer: b.stateDict(), step: b.stepCount });

    const ck = await loadCheckpoint(path);
    const refsC: ParamRef[] = [{ name: 'w', value: tensor(new Float32Array(5), [5]) }];
    restoreParams(refsC, ck);
    const c = new Adam(refsC, { lr: 0.01, amsgrad: true, weightDecay: 0.001 });
    c.loadStateDict(ck.optimizer as OptimizerState);
    expect(ck.step).toBe(3);
    expect(ck.optimizer).toEqual(b.stateDict());
    grads.slice(3).forEach((g) => c.step([g]));
    expect(bytes(refsC[0].value).equals(bytes(refsA[0].value))).toBe(true);
    expect(c.stateDict()).toEqual(a.stateDict());
  });

  it('leaves the previous checkpoint intact when the new one cannot be serialised', async () => {
    const path = fresh();
    await saveCheckpoint(path, { params: { w: tensor([1, 2, 3]) }, step: 1 });
    const before = readFileSync(path);
    await expect(saveCheckpoint(path, { params: { w: tensor([4, 5, 6]) }, step: 2, meta: { big: 10n } })).rejects.toThrow(
      new RegExp(`saveCheckpoint\\(${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): cannot serialise the checkpoint`),
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(saveCheckpoint(path, { params: { w: tensor([4, 5, 6]) }, step: 2, meta: circular })).rejects.toThrow(/cannot serialise/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect((await loadCheckpoint(path)).step).toBe(1);
  });

  it('leaves the previous checkpoint intact when writing the temporary file fails', async () => {
    const path = fresh();
    await saveCheckpoint(path, { params: { w: tensor([1, 2, 3]) }, step: 1 });
    const before = readFileSync(path);
    // Occupy the temporary name with a directory, so opening it for writing fails (EISDIR) even as root.
    const tmp = `${path}.tmp-${process.pid}`;
    mkdirSync(tmp);
    await expect(saveCheckpoint(path, { params: { w: tensor([4, 5, 6]) }, step: 2 })).rejects.toThrow(/write failed, the previous file \(if any\) is unchanged/);
    expect(readFileSync(path).equals(before)).toBe(true);
    rmSync(tmp, { recursive: true });
    await saveCheckpoint(path, { params: { w: tensor([4, 5, 6]) }, step: 2 });
    expect((await loadCheckpoint(path)).params.w.toArray()).toEqual([4, 5, 6]);
  });

  it('rejects bad inputs before writing', async () => {
    const path = fresh();
    await expect(saveCheckpoint(path, { params: { w: tensor([1]) }, step: -1 })).rejects.toThrow(/step must be an integer >= 0/);
    await expect(saveCheckpoint(path, { params: [{ name: 'a', value: tensor([1]) }, { name: 'a', value: tensor([1]) }], step: 0 })).rejects.toThrow(
      /parameter name 'a' appears twice/,
    );
    await expect(saveCheckpoint(path, { params: { w: [1] as unknown as Tensor }, step: 0 })).rejects.toThrow(/parameter 'w' is not a Tensor/);
    expect(existsSync(path)).toBe(false);
  });

  describe('rejects damaged files with an error naming the file', () => {
    const good = fresh();
    const write = (text: string): string => {
      const p = fresh();
      writeFileSync(p, text);
      return p;
    };
    const setup = saveCheckpoint(good, {
      params: { w: tensor([1, 2, 3, 4], [2, 2], { dtype: 'float64' }) },
      optimizer: (() => {
        const refs = [{ name: 'w', value: tensor([1, 2, 3, 4], [2, 2], { dtype: 'float64' }) }];
        const o = new SGD(refs, { lr: 0.1, momentum: 0.9 });
        o.step([tensor([1, 1, 1, 1], [2, 2], { dtype: 'float64' })]);
        return o.stateDict();
      })(),
      step: 5,
    });
    const text = async (): Promise<string> => {
      await setup;
      return readFileSync(good, 'utf8');
    };
    // Edits re-sealed with a fresh whole-file checksum reach the per-tensor checks behind it.
    const reseal = (raw: { sha256: string; content: unknown }): string => {
      raw.sha256 = createHash('sha256').update(JSON.stringify(raw.content)).digest('hex');
      return JSON.stringify(raw);
    };
    const expectRejected = async (p: string, re: RegExp): Promise<void> => {
      const err = await loadCheckpoint(p).then(
        () => null,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toContain(p);
      expect(err!.message).toMatch(re);
    };

    it('missing', async () => expectRejected(join(dir, 'nope.json'), /cannot read the file/));
    it('truncated', async () => {
      const t = await text();
      await expectRejected(write(t.slice(0, Math.floor(t.length / 2))), /truncated or corrupt/);
      await expectRejected(write(''), /truncated or corrupt/);
    });
    it('not a checkpoint', async () => expectRejected(write('{"hello": 1}'), /not an iml-checkpoint file/));
    it('wrong version', async () => {
      const raw = JSON.parse(await text());
      raw.version = 99;
      await expectRejected(write(JSON.stringify(raw)), /unsupported checkpoint version 99 \(this build reads versions 1 and 2\)/);
    });
    it('any edit of the content without a matching checksum is refused (step, optimizer lr, meta)', async () => {
      for (const edit of [(r: any) => (r.content.step = 6), (r: any) => (r.content.optimizer.lr = 0.2), (r: any) => (r.content.meta = { x: 1 })]) {
        const raw = JSON.parse(await text());
        edit(raw);
        await expectRejected(write(JSON.stringify(raw)), /fails its checksum: the file was modified or is corrupt/);
      }
      const raw = JSON.parse(await text());
      delete raw.sha256;
      await expectRejected(write(JSON.stringify(raw)), /missing content or checksum/);
    });
    it('non-finite numbers in meta are refused when saving (JSON would turn them into null)', async () => {
      const p = fresh();
      await expect(saveCheckpoint(p, { params: {}, step: 0, meta: { best: { loss: Infinity } } })).rejects.toThrow(/field 'loss' is Infinity, which JSON cannot hold/);
    });
    it('flipped data byte fails the checksum', async () => {
      const raw = JSON.parse(await text());
      const d: string = raw.content.params.w.data;
      raw.content.params.w.data = (d[0] === 'A' ? 'B' : 'A') + d.slice(1);
      await expectRejected(write(JSON.stringify(raw)), /fails its checksum: the file was modified/);
      await expectRejected(write(reseal(raw)), /parameter 'w' fails its checksum/);
    });
    it('corrupt optimizer buffer fails the checksum', async () => {
      const raw = JSON.parse(await text());
      const rec = raw.content.optimizer.params.w.buffers.momentum_buffer;
      rec.data = (rec.data[0] === 'A' ? 'B' : 'A') + rec.data.slice(1);
      await expectRejected(write(reseal(raw)), /optimizer buffer 'momentum_buffer' of 'w' fails its checksum/);
    });
    it('wrong byte count or bad base64', async () => {
      const raw = JSON.parse(await text());
      const w = raw.content.params.w;
      w.shape = [2, 3];
      await expectRejected(write(reseal(raw)), /holds 32 bytes, \[2, 3\]:float64 needs 48/);
      w.shape = [2, 2];
      w.data = '!!!!' + w.data.slice(4);
      await expectRejected(write(reseal(raw)), /corrupt base64/);
      w.dtype = 'int8';
      await expectRejected(write(reseal(raw)), /unknown dtype "int8"/);
    });
    it('the intact file loads, including the optimizer state', async () => {
      await setup;
      const ck = await loadCheckpoint(good);
      expect(ck.step).toBe(5);
      expect(ck.optimizer?.params.w.buffers.momentum_buffer).toEqual([1, 1, 1, 1]);
    });
  });
});

describe('portable encoding (Web Crypto SHA-256, base64 without Buffer)', () => {
  it('base64 and SHA-256 agree with node:crypto and Buffer byte for byte (every padding case)', async () => {
    const rng = new Random(7);
    for (let n = 0; n <= 70; n++) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256));
      expect(encodeBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
      expect(await sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    const big = Uint8Array.from({ length: 3 * 16384 * 2 + 5 }, (_, i) => (i * 131) & 255);
    expect(encodeBase64(big)).toBe(Buffer.from(big).toString('base64'));
    expect(await sha256Hex('λ ünïcode')).toBe(createHash('sha256').update('λ ünïcode').digest('hex'));
  });

  it('encodeCheckpoint is the file saveCheckpoint writes, and decodeCheckpoint reads it back', async () => {
    const params = { a: randn([3, 5], new Random(1)), b: tensor([1, -2, 3.25], [3], { dtype: 'float64' }) };
    const path = join(dir, 'portable.json');
    await saveCheckpoint(path, { params, step: 9, meta: { note: 'x' } });
    const text = await encodeCheckpoint({ params, step: 9, meta: { note: 'x' } });
    expect(text).toBe(readFileSync(path, 'utf8'));
    const back = await decodeCheckpoint(text);
    expect(back.step).toBe(9);
    expect(Array.from(back.params.a!.dataSync())).toEqual(Array.from(params.a.dataSync()));
    expect(back.params.b!.toArray()).toEqual([1, -2, 3.25]);
    await expect(decodeCheckpoint(text.replace('"step":9', '"step":8'))).rejects.toThrow(/decodeCheckpoint: fails its checksum/);
  });
});

