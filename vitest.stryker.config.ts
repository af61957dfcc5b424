// Vitest configuration for mutation testing: the in-process Node suites only (child-process CLI, package, playground and sweep runs, browser and GPU suites cannot see Stryker's mutants).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // IML_MUTATION_TESTS narrows the suites per module (comma-separated globs), e.g.
    // IML_MUTATION_TESTS='test/linalg/**/*.test.ts' npm run mutation -- --mutate 'src/linalg/**/*.ts'
    include: process.env.IML_MUTATION_TESTS ? process.env.IML_MUTATION_TESTS.split(',') : ['test/**/*.test.ts'],
    // test/examples too: Stryker's sandbox prefixes every .ts file with @ts-nocheck, so its README-verbatim check cannot hold there.
    // test/cli: only the suites that run `iml` through cli-harness (a child process); the others parse and validate in process.
    exclude: ['test/cli/{confidence,fixmatch,input-train,pipeline,run-folder-integrity}.test.ts', 'test/webgpu/**', 'test/**/browser*.test.ts', 'test/package/**', 'test/playground/**', 'test/sweep/**', 'test/examples/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
