// Reads a user's JSON file (Node) with errors that name the file: unreadable, or not valid JSON and where.

import { readFileSync } from 'node:fs';

/** JSON.parse of the file at `path`; `what` (e.g. 'run configuration') is added to the messages. */
export function readJsonFile(path: string, what?: string): unknown {
  const label = what ? `${path} (${what})` : path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${label}: cannot read (${(e as Error).message})`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${label}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}
