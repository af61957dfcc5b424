// Browser entry of the flat-memory check: bundled by esbuild and run in headless Chromium, where no garbage collection can be forced; runs the shared pooled training steps.
import { pooledSteps, type PooledStepsRun } from '../pooled-steps.js';

(globalThis as unknown as { imlPooledSteps: (n: number, at: number[]) => Promise<PooledStepsRun> }).imlPooledSteps = pooledSteps;
