// Shared by every suite that needs something the machine may lack (a GPU adapter, Chromium, data files, an engine flag):
// a plain skip notice on a developer machine, a hard failure under CI (CI set, as .ci/run does) or IML_REQUIRE_WEBGPU=1.

/** Whether CI is set to anything but '', '0' or 'false' (GitHub Actions, GitLab and .ci/run set CI=true). */
export function ciSet(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

/**
 * The setting that makes a missing prerequisite an error, or null: CI for every suite, and IML_REQUIRE_WEBGPU=1
 * for the WebGPU and browser suites (`webgpu`).
 */
export function requiredBy(opts: { webgpu?: boolean } = {}, env: NodeJS.ProcessEnv = process.env): string | null {
  if (ciSet(env)) return `CI=${env.CI}`;
  if (opts.webgpu && env.IML_REQUIRE_WEBGPU === '1') return 'IML_REQUIRE_WEBGPU=1';
  return null;
}

/**
 * `suite` cannot run because of `reason`: throws when CI (or, for `webgpu` suites, IML_REQUIRE_WEBGPU=1) demands it,
 * otherwise prints a SKIPPED notice tagged `tag` and returns the reason (for describe.skipIf / ctx.skip).
 */
export function skipOrFail(suite: string, reason: string, opts: { tag?: string; webgpu?: boolean; env?: NodeJS.ProcessEnv } = {}): string {
  const by = requiredBy(opts, opts.env);
  if (by !== null) throw new Error(`${by} but ${suite} cannot run: ${reason}`);
  console.warn(`\n[${opts.tag ?? 'skip'}] SKIPPED ${suite}: ${reason}.\n`);
  return reason;
}
