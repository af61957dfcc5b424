// A minimal Web `Worker` stand-in on node:worker_threads (blob: URL scripts only), so that @jax-js/jax can use its Wasm worker pool in Node 20.

import { resolveObjectURL } from 'node:buffer';
import { Worker as NodeWorker } from 'node:worker_threads';

/** Runs first in the worker: gives the Web-style script `self`, `postMessage` and `self.onmessage`. */
const PRELUDE = `
const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
parentPort.on('message', (data) => { if (typeof self.onmessage === 'function') self.onmessage({ data }); });
`;

type MessageHandler = ((e: { data: unknown }) => void) | null;
type ErrorHandler = ((e: { message: string }) => void) | null;

/**
 * Enough of the Web Worker interface for jax-js' WasmWorkerPool: construction from a blob: URL
 * (its source is read asynchronously, so messages posted before the thread exists are queued),
 * onmessage / onerror, postMessage (structured clone: WebAssembly.Module and shared memory pass
 * through) and terminate. Threads are unref'd so that idle workers do not keep Node alive.
 */
export class WebWorkerShim {
  onmessage: MessageHandler = null;
  onerror: ErrorHandler = null;
  private worker: NodeWorker | null = null;
  private queued: unknown[] = [];
  private terminated = false;
  static readonly live = new Set<WebWorkerShim>();

  constructor(url: string | URL) {
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new Error(`WebWorkerShim: only blob: URLs are supported, got ${String(url)}`);
    WebWorkerShim.live.add(this);
    blob.text().then(
      (source) => {
        if (this.terminated) return;
        const w = new NodeWorker(PRELUDE + source, { eval: true });
        w.unref();
        w.on('message', (data: unknown) => this.onmessage?.({ data }));
        w.on('error', (err: Error) => this.onerror?.({ message: err.message }));
        this.worker = w;
        for (const m of this.queued) w.postMessage(m);
        this.queued = [];
      },
      (err: unknown) => this.onerror?.({ message: String(err) }),
    );
  }

  postMessage(message: unknown): void {
    if (this.worker) this.worker.postMessage(message);
    else this.queued.push(message);
  }

  async terminate(): Promise<void> {
    this.terminated = true;
    WebWorkerShim.live.delete(this);
    await this.worker?.terminate();
  }

  /** Stops every worker started through the shim. */
  static async terminateAll(): Promise<void> {
    await Promise.all([...WebWorkerShim.live].map((w) => w.terminate()));
  }
}
