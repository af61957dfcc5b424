// Meta-training in memory: the IML loop (inner Adam, Neumann hypergradients, RMSprop on per-parameter L2) with memoryRunStore, no file system, as in a browser page.
import { memoryRunStore, nn, parseMethod, perParameterL2, Random, runIml, THESIS_DEFAULTS, type ImlConfig } from 'iml-engine';
import { printResult, syntheticImages } from './shared.js';

const data = { train: syntheticImages(40, 1, 'train'), validation: syntheticImages(20, 2, 'validation'), test: syntheticImages(20, 3, 'test') };
const model = new nn.MLP([16, 8, 3], new Random(9));
const metaKnowledge = perParameterL2(model.parameters());
const config: ImlConfig = {
  ...THESIS_DEFAULTS, method: parseMethod(process.argv[2] ?? 'neumann:3'), seed: 5, innerSteps: 4, innerBatch: 8, metaEpochs: 5,
  innerLr: 1e-2, patience: 0, checkpointEvery: 2,
};
const store = memoryRunStore();
const { metrics, summary } = await runIml(model, metaKnowledge, data, config, {
  store,
  onMetaEpoch: (m) => console.log(`meta-epoch ${m.metaEpoch}: validation loss ${m.validation.loss.toFixed(5)}, accuracy ${(100 * m.validation.accuracy).toFixed(1)}%, mean L2 ${m.meanDecay.toExponential(3)}`),
});
console.log(`lowest validation loss at meta-epoch ${summary.bestMetaEpoch}; test accuracy ${(100 * summary.test).toFixed(1)}% (${(100 * summary.esTest).toFixed(1)}% at that checkpoint)`);
console.log(`kept in memory: ${(await store.readMetrics()).length} metric lines, checkpoint at step ${(await store.loadCheckpoint())?.step}, best snapshot of ${Object.keys(store.best?.params ?? {}).length} tensors`);
printResult({
  trace: metrics.map((m) => [m.validation.loss, m.train.loss, m.hypergradNorm, m.meanDecay]),
  storedMetrics: (await store.readMetrics()).length, checkpointStep: (await store.loadCheckpoint())?.step ?? null, bestTensors: Object.keys(store.best?.params ?? {}).length,
});
