#!/usr/bin/env node
// Core cost of emosteer's hooks on one model: prompt processing (pp) and generation (tg)
// tokens/s, plain vs all-layer capture vs all-layer steering, in one run, same context.
// Runs are interleaved and repeated; the median is reported, with ratios to plain.
//
//   npm run bench:core -- [--model <gguf>] [--pp 128] [--tg 64] [--reps 5] [--threads N] [--json]
// Default model: Gemma 3 270M from `npm run model:gemma`.
import { cpus, availableParallelism, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { loadModel, versions } from '../dist/index.js';
import { median, resolveModel, resolveThreads } from './parts/util.mjs';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    pp: { type: 'string', default: '128' },
    tg: { type: 'string', default: '64' },
    reps: { type: 'string', default: '5' },
    threads: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const modelPath = resolveModel(values.model);
const PP = Number(values.pp);
const TG = Number(values.tg);
const REPS = Number(values.reps);
const threads = resolveThreads(values.threads);

const model = await loadModel(modelPath);
const ctx = await model.createContext({ contextSize: Math.max(512, PP + TG + 16), batchSize: 512, threads });
const { nLayer, nEmbd } = model.info;

// A pp-token prompt of ordinary text.
const base = 'The old lighthouse keeper walked along the shore every morning, counting the boats and listening to the gulls. ';
let text = base;
while (model.tokenize(text).length < PP) text += base;
const promptTokens = model.tokenize(text).slice(0, PP);

// A small random steering vector on every steerable block.
const steer = new Float32Array(nLayer * nEmbd).map((_, i) => Math.sin(i * 12.9898) * 0.01);

const configs = {
  pp_plain: async () => ctx.evaluate(promptTokens),
  pp_capture_last: async () => ctx.evaluate(promptTokens, { capture: { layers: 'all', pooling: 'last' } }),
  pp_capture_all_rows: async () => ctx.evaluate(promptTokens, { capture: { layers: 'all', pooling: 'all' } }),
  tg_plain: async () => ctx.generateText(promptTokens.slice(0, 8), { maxTokens: TG, stopOnEog: false }),
  tg_capture: async () => ctx.generateText(promptTokens.slice(0, 8), { maxTokens: TG, stopOnEog: false, capture: { layers: 'all' } }),
  tg_steered: async () => ctx.generateText(promptTokens.slice(0, 8), { maxTokens: TG, stopOnEog: false }),
};

const times = Object.fromEntries(Object.keys(configs).map((k) => [k, []]));
// warm-up
await configs.pp_plain();
await configs.tg_plain();
for (let r = 0; r < REPS; r++) {
  for (const [name, fn] of Object.entries(configs)) {
    if (name === 'tg_steered') await ctx.setSteering(steer, { layers: [1, nLayer - 1] });
    const t0 = performance.now();
    await fn();
    times[name].push((performance.now() - t0) / 1000);
    if (name === 'tg_steered') await ctx.clearSteering();
  }
}
// tg runs include an 8-token prompt; subtract its median cost measured separately.
const t8 = [];
for (let r = 0; r < REPS; r++) { const t0 = performance.now(); await ctx.evaluate(promptTokens.slice(0, 8)); t8.push((performance.now() - t0) / 1000); }
const prompt8 = median(t8);
const tps = {};
for (const [name, ts] of Object.entries(times)) {
  const m = median(ts);
  tps[name] = name.startsWith('pp') ? PP / m : TG / Math.max(1e-9, m - prompt8);
}
const result = {
  model: model.info.description,
  modelPath,
  threads,
  pp: PP,
  tg: TG,
  reps: REPS,
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), memGiB: +(totalmem() / 2 ** 30).toFixed(1) },
  llamaCppCommit: versions().llamaCppCommit,
  tokensPerSecond: Object.fromEntries(Object.entries(tps).map(([k, v]) => [k, +v.toFixed(1)])),
  ratios: {
    captureLastOverPlainPp: +(tps.pp_capture_last / tps.pp_plain).toFixed(3),
    captureAllRowsOverPlainPp: +(tps.pp_capture_all_rows / tps.pp_plain).toFixed(3),
    captureOverPlainTg: +(tps.tg_capture / tps.tg_plain).toFixed(3),
    steeredOverPlainTg: +(tps.tg_steered / tps.tg_plain).toFixed(3),
  },
};
await ctx.dispose();
model.dispose();
if (values.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`${result.model} | ${threads} threads | ${result.machine.cpu} | pp${PP} tg${TG}, median of ${REPS}`);
  for (const [k, v] of Object.entries(result.tokensPerSecond)) console.log(`  ${k.padEnd(22)} ${String(v).padStart(8)} tok/s`);
  for (const [k, v] of Object.entries(result.ratios)) console.log(`  ${k.padEnd(28)} ${v}`);
}
