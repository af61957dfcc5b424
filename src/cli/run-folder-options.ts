// The options every run-folder recipe command shares (--quick, --out, --resume, --force, --backend, --no-progress) and the check that --resume and --force are used sensibly.

import { Option, type Command } from 'commander';
import { BACKEND_KINDS } from '../node/select-backend.js';

/** Adds the shared run-folder options to `cmd` (help texts: what --quick runs, the default --out, what --no-progress prints instead). */
export function addRunFolderOptions(cmd: Command, help: { quick: string; out: string; noProgress: string }): Command {
  return cmd
    .option('--quick', help.quick)
    .option('--out <dir>', help.out)
    .option('--resume', 'continue the runs in --out from their checkpoints')
    .option('--force', 'delete the runs in --out first')
    .addOption(new Option('--backend <kind>', 'compute backend: cpu (tensors in the Wasm heap, docs/memory.md), cpu-js (its plain-array reference) or webgpu').choices([...BACKEND_KINDS]).default('cpu'))
    .option('--no-progress', help.noProgress);
}

/** Throws when --resume has no --out to continue, or comes with --force. */
export function checkResumeForce(o: { resume?: boolean; force?: boolean; out?: string }): void {
  if (o.resume && !o.out) throw new Error('--resume needs --out <run folder>');
  if (o.resume && o.force) throw new Error('--resume and --force exclude each other');
}
