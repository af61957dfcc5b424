// Where a run came from (Node): package version, git commit, Node version, backend and adapter, the command line and the start time.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder: the first folder above this file whose package.json is iml-engine's (works from src/ and from dist/). */
export function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'iml-engine') return d;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(d);
    if (up === d) throw new Error(`cannot find iml-engine's package.json above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The git commit of the package folder and whether its tracked files have changes, or null outside a git checkout. */
export function gitCommit(): { commit: string; dirty: boolean } | null {
  const cwd = packageRoot();
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return { commit, dirty: status.length > 0 };
  } catch {
    return null;
  }
}

/** The provenance record of a run started now with `backend` (e.g. 'webgpu (llvmpipe)'). */
export function provenance(backend: string, argv: readonly string[] = process.argv): Record<string, unknown> {
  const git = gitCommit();
  return {
    packageVersion: packageVersion(),
    gitCommit: git ? `${git.commit}${git.dirty ? ' (with uncommitted changes)' : ''}` : null,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    host: hostname(),
    backend,
    commandLine: ['iml', ...argv.slice(2)].join(' '),
    startedAt: new Date().toISOString(),
  };
}
