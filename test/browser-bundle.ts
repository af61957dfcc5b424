// Shared by the browser suites: bundle a test entry with esbuild, serve it (with a page loading it) on 127.0.0.1, the Chromium flags for headless WebGPU, and the skip-or-fail check for a missing browser.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { skipOrFail } from './require-or-skip.js';

export interface ServedBundle {
  js: string;
  server: Server;
  url: string;
}

/** Bundles `entry` for the browser and serves `/bundle.js` plus an HTML page titled `title` that loads it. */
export async function bundleAndServe(entry: string, title: string): Promise<ServedBundle> {
  const esbuild = await import('esbuild');
  const bundle = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const js = bundle.outputFiles[0]!.text;
  // Cross-origin isolated (COOP + COEP): pages get SharedArrayBuffer, so the CPU backend keeps tensors in its Wasm heap.
  const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  const server = createServer((req, res) => {
    if (req.url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', ...isolation });
      res.end(js);
    } else {
      // `?plain`: the same page without isolation (no SharedArrayBuffer: the CPU backend keeps plain arrays).
      const plain = (req.url ?? '').includes('?plain');
      res.writeHead(200, { 'content-type': 'text/html', ...(plain ? {} : isolation) });
      res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="/bundle.js"></script>`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { js, server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/` };
}

/** Chromium flags for headless WebGPU as root: SwiftShader serves the core adapter, ANGLE/Vulkan (lavapipe) the compatibility one. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-angle=vulkan',
  '--use-webgpu-adapter=opengles',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Debian's Chromium, or IML_CHROMIUM. */
export const CHROMIUM = process.env.IML_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why a browser suite cannot run here (no Chromium, playwright-core or esbuild), or null. The reason is printed as
 * a skip notice, or thrown under CI (and, for `webgpu` suites, IML_REQUIRE_WEBGPU=1): see ../require-or-skip.ts.
 */
export async function browserSkipReason(suite: string, tag: string, opts: { webgpu?: boolean } = {}): Promise<string | null> {
  let reason: string | null = null;
  if (!existsSync(CHROMIUM)) reason = `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  else {
    try {
      await import('playwright-core');
      await import('esbuild');
    } catch {
      reason = 'playwright-core or esbuild is not installed';
    }
  }
  if (reason === null) return null;
  return skipOrFail(suite, reason, { tag, webgpu: opts.webgpu });
}

/** A bundled test entry served on 127.0.0.1 and a headless Chromium with a fresh profile; `close` tears both down. */
export interface BrowserSession {
  url: string;
  context: import('playwright-core').BrowserContext;
  close(): Promise<void>;
}

/**
 * Bundles `entry` (checking the bundle imports no Node built-in), serves it and opens Chromium on a fresh profile
 * (`args`: extra flags, e.g. CHROMIUM_ARGS for WebGPU).
 */
export async function openBrowserSession(entry: string, title: string, tag: string, args: readonly string[] = ['--no-sandbox', '--no-first-run', '--disable-background-networking']): Promise<BrowserSession> {
  const served = await bundleAndServe(entry, title);
  if (/from\s*["']node:|require\(["'](node:)?(fs|path|os|crypto|zlib|child_process)["']\)/.test(served.js)) {
    served.server.close();
    throw new Error(`${entry}: the browser bundle imports a Node built-in`);
  }
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), `iml-${tag}-chromium-`));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...args] });
  return {
    url: served.url,
    context,
    close: async () => {
      await context.close();
      served.server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
