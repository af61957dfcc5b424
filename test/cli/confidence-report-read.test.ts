// Reading an `iml confidence` run folder for confidence-report: a hand-edited or foreign config.json is refused with the file and the field named (not a TypeError), and folders from before metaUnlabelled get μB for both learners.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfidencePart } from '../../src/cli/confidence-report.js';

const root = mkdtempSync(join(tmpdir(), 'iml-cn-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function folder(config: unknown, results: unknown[] | null = []): string {
  const dir = join(root, `run${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  if (results !== null) writeFileSync(join(dir, 'results.json'), JSON.stringify(results));
  return dir;
}

const protocol = { settings: [{ label: 'ood-50' }], phase1: { metaUnlabelled: { cn: 48, table: 480 } }, fixmatch: { mu: 3, batchSize: 16 } };

describe('confidence-report reads run folders', () => {
  it('takes a complete folder as it is', () => {
    const p = readConfidencePart(folder({ command: 'confidence', protocol }));
    expect(p.protocol.phase1.metaUnlabelled).toEqual({ cn: 48, table: 480 });
    expect(p.results).toEqual([]);
  });

  it('gives folders written before metaUnlabelled μB for both learners', () => {
    const p = readConfidencePart(folder({ command: 'confidence', protocol: { ...protocol, phase1: {} } }));
    expect(p.protocol.phase1.metaUnlabelled).toEqual({ cn: 48, table: 48 });
  });

  it('names the file and the field when the protocol lacks what it needs', () => {
    const noFixmatch = folder({ command: 'confidence', protocol: { settings: [], phase1: {} } });
    expect(() => readConfidencePart(noFixmatch)).toThrow(
      `${join(noFixmatch, 'config.json')}: protocol.fixmatch.mu and protocol.fixmatch.batchSize (numbers; needed because protocol.phase1.metaUnlabelled is absent) is missing`,
    );
    const noPhase1 = folder({ command: 'confidence', protocol: { settings: [] } });
    expect(() => readConfidencePart(noPhase1)).toThrow(`${join(noPhase1, 'config.json')}: protocol.phase1 (an object) is missing`);
    const noSettings = folder({ command: 'confidence', protocol: { phase1: {} } });
    expect(() => readConfidencePart(noSettings)).toThrow('protocol.settings (a list) is missing');
    const other = folder({ command: 'fixmatch', protocol });
    expect(() => readConfidencePart(other)).toThrow("was written by 'fixmatch', not 'iml confidence'");
    const noResults = folder({ command: 'confidence', protocol }, null);
    expect(() => readConfidencePart(noResults)).toThrow('has no results.json yet');
  });
});
