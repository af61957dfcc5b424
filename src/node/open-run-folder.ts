// Opens the run folder of a protocol command (iml fixmatch, iml confidence): default name, lock, --resume / --force against its runs/, the protocol check of config.json and writing it.

import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from './read-json.js';
import { lockRunFolder } from './run-folder-lock.js';
import { writeFileAtomic } from './write-atomic.js';

export interface OpenRunFolderOptions<P> {
  /** The command recorded in config.json, e.g. 'fixmatch'. */
  command: string;
  /** Start of the default folder name runs/<name>[-quick]-<time>, e.g. 'fixmatch-mnist'. */
  name: string;
  /** The folder given with --out; without it the default name. */
  out?: string;
  quick: boolean;
  resume: boolean;
  force: boolean;
  /** What the runs depend on; a --resume with another protocol (compared as JSON) is refused. */
  protocol: P;
  onMessage?: (line: string) => void;
}

/** config.json of such a folder. */
export interface ProtocolFolderConfig<P, V> {
  command: string;
  quick: boolean;
  protocol: P;
  provenance: V;
}

/** A locked, checked run folder; release() must be called when the command is done (also on errors). */
export interface OpenedRunFolder<P> {
  out: string;
  /** out/runs, one folder per run. */
  runsDir: string;
  configFile: string;
  /** Writes config.json (unless resuming a folder that has one) and returns its contents. */
  writeConfig<V>(provenance: V): Promise<ProtocolFolderConfig<P, V>>;
  release(): void;
}

/**
 * Creates and locks the folder, then: runs already in out/runs are refused unless --resume (kept) or --force
 * (deleted); on --resume the protocol of an existing config.json must equal `protocol`. The lock is released
 * when a check fails.
 */
export function openRunFolder<P>(o: OpenRunFolderOptions<P>): OpenedRunFolder<P> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = o.out ?? join('runs', `${o.name}${o.quick ? '-quick' : ''}-${stamp}`);
  const runsDir = join(out, 'runs');
  mkdirSync(out, { recursive: true });
  const lock = lockRunFolder(out, { onMessage: o.onMessage });
  const configFile = join(out, 'config.json');
  // config.json of the folder being resumed (null when starting one, or resuming a folder that has none yet).
  let started: { protocol?: P; provenance?: unknown } | null = null;
  try {
    const hasRuns = existsSync(runsDir) && readdirSync(runsDir).length > 0;
    if (hasRuns && !o.resume && !o.force) throw new Error(`${out} already holds runs: pass --resume to continue them or --force to delete them`);
    if (hasRuns && o.force) rmSync(runsDir, { recursive: true, force: true });
    if (o.resume && existsSync(configFile)) {
      started = readJsonFile(configFile) as { protocol?: P; provenance?: unknown };
      if (JSON.stringify(started.protocol) !== JSON.stringify(o.protocol)) {
        throw new Error(`${configFile}: the run folder was started with another protocol:\n  was ${JSON.stringify(started.protocol)}\n  now ${JSON.stringify(o.protocol)}`);
      }
    }
  } catch (e) {
    lock.release();
    throw e;
  }
  return {
    out,
    runsDir,
    configFile,
    async writeConfig(provenance) {
      const config = { command: o.command, quick: o.quick, protocol: o.protocol, provenance };
      if (started === null) {
        await writeFileAtomic(configFile, `${JSON.stringify(config, null, 2)}\n`);
      } else {
        const note = resumedOnAnotherBackend(configFile, started.provenance, provenance);
        if (note !== null) o.onMessage?.(note);
      }
      return config;
    },
    release: () => lock.release(),
  };
}

/**
 * The note to print when a folder is resumed on another backend than it was started on, i.e. the provenances'
 * `backend` labels differ (e.g. the FMA GEMM of `iml` against IML_RELAXED_SIMD=0, or another machine's adapter); null
 * otherwise. Allowed, since both are the same computation, but the continued runs will not repeat an uninterrupted
 * run bit for bit.
 */
export function resumedOnAnotherBackend(configFile: string, startedWith: unknown, resumedWith: unknown): string | null {
  const backend = (p: unknown): unknown => (p as { backend?: unknown } | null | undefined)?.backend;
  const was = backend(startedWith), now = backend(resumedWith);
  if (typeof was !== 'string' || typeof now !== 'string' || was === now) return null;
  return `note: ${configFile} was started on '${was}' and is resumed on '${now}': the runs continue, but not bit for bit as an uninterrupted run would`;
}
