// openRunFolder (iml fixmatch, iml confidence): --resume keeps config.json and refuses another protocol, and says so when the folder is resumed on another backend than it was started on (the runs continue, not bit for bit).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRunFolder } from '../../src/node/open-run-folder.js';

const base = mkdtempSync(join(tmpdir(), 'open-run-folder-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('openRunFolder', () => {
  it('a resume on another backend is allowed and noted; on the same one it is silent; another protocol is refused', async () => {
    const out = join(base, 'f');
    const fma = { backend: 'cpu (tensors in the Wasm heap, SIMD kernels on pointers, fused multiply-add in the GEMM)' };
    const plain = { backend: 'cpu (tensors in the Wasm heap, SIMD kernels on pointers)' };
    const open = (resume: boolean, protocol = { steps: 5 }): { folder: ReturnType<typeof openRunFolder<{ steps: number }>>; lines: string[] } => {
      const lines: string[] = [];
      return { folder: openRunFolder({ command: 'fixmatch', name: 'x', out, quick: false, resume, force: false, protocol, onMessage: (l) => lines.push(l) }), lines };
    };
    const first = open(false);
    await first.folder.writeConfig(fma);
    first.folder.release();

    const same = open(true);
    await same.folder.writeConfig(fma);
    same.folder.release();
    expect(same.lines).toEqual([]);

    const other = open(true);
    const config = await other.folder.writeConfig(plain);
    other.folder.release();
    expect(other.lines).toEqual([`note: ${join(out, 'config.json')} was started on '${fma.backend}' and is resumed on '${plain.backend}': the runs continue, but not bit for bit as an uninterrupted run would`]);
    // config.json keeps the provenance it was started with.
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).provenance).toEqual(fma);
    expect(config.provenance).toEqual(plain);

    expect(() => open(true, { steps: 6 })).toThrow(`${join(out, 'config.json')}: the run folder was started with another protocol:`);
  });
});
