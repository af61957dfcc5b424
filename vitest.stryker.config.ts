// Vitest configuration for mutation testing: the in-process Node suites only (child-process CLI runs, browser and GPU suites cannot see Stryker's mutants).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/cli/**', 'test/webgpu/**', 'test/**/browser*.test.ts', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
