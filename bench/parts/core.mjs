#!/usr/bin/env node
// Bench part: prompt processing (pp) and generation (tg) tokens/s on one context, much as
// `npm run bench:core` shows them: pp plain and with all-block last-token capture; tg plain,
// steered on every steerable block, and with the emotion meter on; pp and tg plain also on a
// context created with activationHooks: false (no eval callback at all); pp capturing every
// token of every block, and tg capturing every block for every generated token (capture of one block per
// generated token, read through meterStream). tg = tokens / (time - time of the same call
// with maxTokens 0). Configurations are interleaved, `--reps` times; every repetition's
// tokens/s is returned so that bench/run.mjs can pool them across rounds.
//
//   node bench/parts/core.mjs [--model <gguf>] [--pp 128] [--tg 64] [--reps 5] [--threads N] [--batch 512]
import { parseArgs } from 'node:util';
import { EmotionMeter, EmotionVectorSet, loadModel, meterStream } from '../../dist/index.js';
import { emit, median, MODEL_OPTIONS, resolveGpuLayers, resolveModel, resolveThreads, SPEED_OPTIONS, timed } from './util.mjs';

const { values } = parseArgs({
  options: {
    ...MODEL_OPTIONS,
    ...SPEED_OPTIONS,
  },
});
const modelPath = resolveModel(values.model);
const PP = Number(values.pp);
const TG = Number(values.tg);
const REPS = Number(values.reps);
const threads = resolveThreads(values.threads);
const batchSize = Number(values.batch);

const model = await loadModel(modelPath, { gpuLayers: resolveGpuLayers(values['gpu-layers']) });
const ctxOptions = { contextSize: Math.max(512, PP + TG + 16), batchSize, threads };
const ctx = await model.createContext(ctxOptions);
// The same decode on a context without the capture hook (llama.cpp's eval callback unset): the
// cost of having the hook installed at all.
const bare = await model.createContext({ ...ctxOptions, activationHooks: false });
const { nLayer, nEmbd } = model.info;

const base = 'The old lighthouse keeper walked along the shore every morning, counting the boats and listening to the gulls. ';
let text = base;
while (model.tokenize(text).length < PP) text += base;
const promptTokens = model.tokenize(text).slice(0, PP);
const prompt8 = promptTokens.slice(0, 8);

// A small pseudo-random steering vector on every steerable block.
const steer = new Float32Array(nLayer * nEmbd).map((_, i) => Math.sin(i * 12.9898) * 0.01);

// An emotion meter on the middle block, 20 pseudo-random emotion directions: the reading
// costs the same as with extracted vectors.
const meterLayer = Math.floor(nLayer / 2);
const meterSet = EmotionVectorSet.fromVectors(
  { method: 'comprehension', model: { path: modelPath, sha256: '', arch: model.info.arch, description: model.info.description, nLayer, nEmbd, quantization: model.info.quantization, nParams: model.info.nParams }, params: { bench: true } },
  new Map(Array.from({ length: 20 }, (_, e) => [`emotion${e}`, new Map([[meterLayer, new Float32Array(nEmbd).map((_, j) => Math.cos((e + 1) * (j + 1) * 0.37))]])])),
);
const meter = new EmotionMeter(meterSet, meterLayer);

// `before`/`after` run outside the timed region (setting and clearing the steering).
const gen = (options = {}, c = ctx) => () => c.generateText(prompt8, { maxTokens: TG, stopOnEog: false, ...options });
const configs = {
  // pp with the last token's logits, as llama-bench's pp (and as every capture of the last
  // block needs that row's output anyway)
  pp_plain: { run: () => ctx.evaluate(promptTokens, { logits: true }) },
  pp_nohooks: { run: () => bare.evaluate(promptTokens, { logits: true }) },
  pp_capture: { run: () => ctx.evaluate(promptTokens, { capture: { layers: 'all', pooling: 'last' } }) },
  // every token of every block: the last block then needs output rows (logits) for every token
  pp_capture_tokens: { run: () => ctx.evaluate(promptTokens, { capture: { layers: 'all', pooling: 'all' } }) },
  tg_plain: { run: gen() },
  tg_nohooks: { run: gen({}, bare) },
  tg_capture: { run: gen({ capture: { layers: 'all' } }) },
  tg_steered: { before: () => ctx.setSteering(steer, { layers: [1, nLayer - 1] }), run: gen(), after: () => ctx.clearSteering() },
  tg_meter: {
    run: async () => {
      let n = 0;
      for await (const t of meterStream(ctx, prompt8, meter, { maxTokens: TG, stopOnEog: false })) n += t.emotions ? 1 : 0;
      if (n !== TG) throw new Error(`meter read ${n} of ${TG} tokens`);
    },
  },
  // The tg runs' own prompt step (sampler set-up, the 8-token prompt, the first sampling):
  // the same call with maxTokens 0. Its median is subtracted from every tg run.
  tg_prompt: { run: gen({ maxTokens: 0 }) },
  tg_prompt_nohooks: { run: gen({ maxTokens: 0 }, bare) },
};

// warm-up
await configs.pp_plain.run();
await configs.pp_nohooks.run();
await configs.tg_plain.run();
await configs.tg_nohooks.run();
const times = Object.fromEntries(Object.keys(configs).map((k) => [k, []]));
for (let r = 0; r < REPS; r++) {
  for (const [name, c] of Object.entries(configs)) {
    await c.before?.();
    times[name].push(await timed(c.run));
    await c.after?.();
  }
}
const promptSeconds = median(times.tg_prompt);
const promptSecondsNoHooks = median(times.tg_prompt_nohooks);
const samples = {};
for (const [name, ts] of Object.entries(times)) {
  if (name.startsWith('tg_prompt')) continue;
  const p = name === 'tg_nohooks' ? promptSecondsNoHooks : promptSeconds;
  samples[name] = ts.map((t) => (name.startsWith('pp') ? PP / t : TG / Math.max(1e-9, t - p)));
}
await ctx.dispose();
await bare.dispose();
model.dispose();
emit({
  part: 'core',
  model: model.info.description,
  modelPath,
  tensorBytes: model.info.tensorBytes,
  nLayer,
  threads,
  batchSize,
  pp: PP,
  tg: TG,
  reps: REPS,
  meterLayer,
  tgPromptSeconds: promptSeconds,
  samples,
  tokensPerSecond: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
});
