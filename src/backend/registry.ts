// The current default backend: CPU unless the user selects another (WebGPU).

import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/cpu-backend.js';

let current: Backend | null = null;

export function getBackend(): Backend {
  if (current === null) current = new CpuBackend();
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
}

/** Runs fn with another default backend, restoring the previous one afterwards. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const prev = current;
  current = backend;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
