// The playground page: reads the controls, runs the panels of panels.ts on the chosen backend and draws their tables and charts as results arrive.
import {
  CpuBackend, createWebGpuBackend, fetchMnist, initCpuHeap, initGemm, KERNELS, linalg, type Backend, type ImageDataset, type InverseCheckResult,
  type KernelBenchResult, type KernelName, type MetaEpochMetrics, type WebGpuBackend,
} from '../src/index.js';
import { barSpec, draw, lineSpec } from './charts.js';
import {
  BENCH_DEFAULTS, benchmarks, INVERSE_DEFAULTS, inverseCheck, META_DEFAULTS, metaTrace, metaTrain, type BenchSettings, type InverseSettings, type MetaTrainSettings,
} from './panels.js';

/** What the page computed, for people (the charts) and for the browser test (this object). */
export interface PlaygroundResults {
  meta: { backend: string; parameters: number; trace: number[]; accuracy: number[][]; meanDecay: number[] } | null;
  inverse: InverseCheckResult | null;
  bench: KernelBenchResult[] | null;
}
const results: PlaygroundResults = { meta: null, inverse: null, bench: null };
(globalThis as unknown as { playground: { results: PlaygroundResults } }).playground = { results };

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`playground: no element #${id}`);
  return el as T;
};
const int = (id: string): number => {
  const v = Number(($(id) as HTMLInputElement).value);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${id.replace('-', ': ')} must be a non-negative integer, got '${($(id) as HTMLInputElement).value}'`);
  return v;
};
const list = (id: string): number[] => {
  const text = ($(id) as HTMLInputElement).value.trim();
  if (text === '' || text === 'none') return [];
  return text.split(',').map((p) => {
    const v = Number(p.trim());
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${id.replace('-', ': ')}: '${p.trim()}' is not a positive integer`);
    return v;
  });
};
/** Lets the browser paint (a macrotask) between steps of long computations. */
const repaint = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

const cpu = new CpuBackend();
let gpu: Promise<WebGpuBackend> | null = null;
function webgpu(): Promise<WebGpuBackend> {
  const g = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!g) return Promise.reject(new Error('this browser has no WebGPU (navigator.gpu is missing)'));
  gpu ??= createWebGpuBackend(g, { featureLevel: 'core' });
  return gpu;
}
async function chosenBackend(): Promise<Backend> {
  const value = (document.querySelector('input[name=backend]:checked') as HTMLInputElement).value;
  return value === 'webgpu' ? webgpu() : cpu;
}

let mnist: Promise<ImageDataset> | null = null;
const digits = (): Promise<ImageDataset> => (mnist ??= fetchMnist(new URL('mnist/', location.href).href));

/** Runs one panel: state and status line, errors shown where they happened. */
async function panel(id: string, work: (status: (s: string) => void) => Promise<string>): Promise<void> {
  const section = $(id);
  const status = (s: string): void => void ($(`${id}-status`).textContent = s);
  section.dataset.state = 'running';
  try {
    status(await work(status));
    section.dataset.state = 'done';
  } catch (e) {
    status(`error: ${(e as Error).message}`);
    section.dataset.state = 'error';
    console.error(e);
  }
}

async function runMeta(): Promise<void> {
  await panel('meta', async (status) => {
    const s: MetaTrainSettings = {
      imageSize: int('meta-imageSize'), hidden: int('meta-hidden'), train: int('meta-train'), validation: int('meta-validation'), test: int('meta-test'),
      innerSteps: int('meta-innerSteps'), metaEpochs: int('meta-metaEpochs'), method: ($('meta-method') as HTMLInputElement).value.trim(), seed: int('meta-seed'),
    };
    const backend = await chosenBackend();
    status('loading MNIST ...');
    const data = await digits();
    const ms: MetaEpochMetrics[] = [];
    const redraw = async (): Promise<void> => {
      const at = (f: (m: MetaEpochMetrics) => number, series: string) => ms.map((m) => ({ x: m.metaEpoch, y: f(m), series }));
      await draw($('meta-loss'), lineSpec('Loss', [...at((m) => m.validation.loss, 'validation'), ...at((m) => m.train.loss, 'train')], 'meta-epoch', 'cross-entropy'));
      await draw($('meta-acc'), lineSpec('Accuracy', [...at((m) => m.validation.accuracy, 'validation'), ...at((m) => m.test.accuracy, 'test'), ...at((m) => m.train.accuracy, 'train')], 'meta-epoch', 'accuracy'));
      await draw($('meta-l2'), lineSpec('Mean learned L2 weight', at((m) => m.meanDecay, 'mean softplus(λ)²'), 'meta-epoch', 'mean L2', true));
    };
    const r = await metaTrain(data, s, async (m) => {
      ms.push(m);
      status(`${backend.name}: meta-epoch ${m.metaEpoch}/${s.metaEpochs}, validation loss ${m.validation.loss.toFixed(4)}, accuracy ${(100 * m.validation.accuracy).toFixed(1)}%`);
      await redraw();
      await repaint();
    }, backend);
    results.meta = {
      backend: backend.name, parameters: r.parameters, trace: metaTrace(r.metrics),
      accuracy: r.metrics.map((m) => [m.train.accuracy, m.validation.accuracy, m.test.accuracy]), meanDecay: r.metrics.map((m) => m.meanDecay),
    };
    return `${backend.name}: ${r.metrics.length} meta-epochs of ${s.method} on a ${r.parameters}-weight MLP; final validation loss ${r.metrics.at(-1)!.validation.loss.toFixed(4)}, ` +
      `test accuracy ${(100 * r.summary.test).toFixed(1)}% (${(100 * r.summary.esTest).toFixed(1)}% at the lowest validation loss)`;
  });
}

const fmt = (x: number | null): string => (x === null ? '-' : Number.isNaN(x) ? 'NaN' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4));
function table(headers: string[], rows: (string | number)[][]): string {
  const esc = (s: string | number): string => String(s).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return `<table><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

async function runInverse(): Promise<void> {
  await panel('inverse', async (status) => {
    const s: InverseSettings = {
      hidden: int('inverse-hidden'), trainSize: int('inverse-trainSize'), valSize: int('inverse-valSize'), trainSteps: int('inverse-trainSteps'),
      neumann: list('inverse-neumann'), cg: list('inverse-cg'), seed: int('inverse-seed'),
    };
    status('loading MNIST ...');
    const data = await digits();
    const n = 196 * s.hidden + s.hidden + 10 * s.hidden + 10;
    status(`training briefly, then the exact ${n} x ${n} Hessian (float64, CPU) and the approximations ...`);
    await repaint();
    const r = await inverseCheck(data, s);
    results.inverse = r;
    $('inverse-table').innerHTML = table(
      ['method', 'cos(x, x*)', 'rel. error', '||x||', 'hypergrad cos', 'time (ms)', 'HVPs'],
      r.rows.map((m) => [m.method, fmt(m.cosine), fmt(m.relativeError), fmt(m.norm), fmt(m.hypergradCosine), m.ms.toFixed(1), m.hvps]),
    );
    await draw($('inverse-chart'), barSpec('Cosine to the exact H⁻¹g', r.rows.map((m) => ({ category: m.method, y: m.cosine, series: 'cos(x, x*)' }))
      .concat(r.rows.map((m) => ({ category: m.method, y: m.hypergradCosine ?? NaN, series: 'hypergradient cos' }))), 'cosine'));
    const e = r.exact;
    return `${r.problem.parameters} parameters; exact by ${e.method}, λ from ${fmt(e.lambdaMin)} to ${fmt(e.lambdaMax)}, residual ${fmt(e.residual)}`;
  });
}

async function runBench(): Promise<void> {
  await panel('bench', async (status) => {
    const names = ($('bench-kernels') as HTMLInputElement).value.split(',').map((k) => k.trim()).filter((k) => k !== '');
    const bad = names.filter((k) => !(KERNELS as readonly string[]).includes(k));
    if (bad.length > 0) throw new Error(`bench: unknown kernel(s) ${bad.join(', ')}; choose from ${KERNELS.join(', ')}`);
    const s: BenchSettings = { kernels: names as KernelName[], sizes: list('bench-sizes'), repeats: int('bench-repeats') };
    const chosen = await chosenBackend();
    const backends: Backend[] = [chosen];
    if (($('bench-both') as HTMLInputElement).checked) {
      if (chosen === cpu) {
        try {
          backends.push(await webgpu());
        } catch (e) {
          status(`WebGPU unavailable (${(e as Error).message}); CPU only`);
        }
      } else backends.unshift(cpu);
    }
    const rows: KernelBenchResult[] = [];
    const r = await benchmarks(s, backends, async (x) => {
      rows.push(x);
      status(`${x.kernel} at ${x.size} on ${x.backend}: ${x.ms.toFixed(2)} ms`);
      $('bench-table').innerHTML = table(['kernel', 'size', 'backend', 'problem', 'median ms', 'GFLOPS', 'checksum'],
        rows.map((b) => [b.kernel, b.size, b.backend, b.shape, b.ms.toFixed(3), b.gflops >= 0.01 ? b.gflops.toFixed(2) : b.gflops.toExponential(2), b.checksum.toPrecision(7)]));
      await draw($('bench-chart'), barSpec('GFLOPS (higher is better)', rows.map((b) => ({ category: `${b.kernel} ${b.size}`, y: b.gflops, series: b.backend })), 'GFLOPS', true));
      await repaint();
    });
    results.bench = r;
    return `${r.length} measurements on ${backends.map((b) => b.name).join(' and ')}`;
  });
}

/** Puts each default setting into its control (#<panel>-<field>), so the page and panels.ts share one set of defaults. */
function showDefaults(panelId: string, defaults: object): void {
  for (const [key, value] of Object.entries(defaults)) {
    ($(`${panelId}-${key}`) as HTMLInputElement).value = Array.isArray(value) ? value.join(',') : String(value);
  }
}

async function start(): Promise<void> {
  showDefaults('meta', META_DEFAULTS);
  showDefaults('inverse', INVERSE_DEFAULTS);
  showDefaults('bench', BENCH_DEFAULTS);
  // Wasm on a browser's main thread must be compiled asynchronously before the CPU kernels run.
  // initCpuHeap: CPU tensors in Wasm memory where the page is cross-origin isolated (the playground server sends COOP/COEP).
  await Promise.all([initGemm(), linalg.initLinalg(), initCpuHeap()]);
  $('meta-run').addEventListener('click', () => void runMeta());
  $('inverse-run').addEventListener('click', () => void runInverse());
  $('bench-run').addEventListener('click', () => void runBench());
  $('backend-status').textContent = (navigator as Navigator & { gpu?: GPU }).gpu ? 'WebGPU is available in this browser' : 'no WebGPU in this browser: CPU only';
  document.body.dataset.ready = 'true';
}
void start();
