#!/usr/bin/env node
// `node bench/steering-tg-cost.mjs [--model <gguf|name>] [--rounds 16] [--tg 64] [--threads 2]
//   [--strength 0.01] [--json <out.json>]`: does steering cost anything per generated token?
//
// One context, one 8-token prompt, `--tg` greedy tokens (stopOnEog false, so every run decodes
// exactly as many tokens). Three arms, run in paired, interleaved rounds so that drift of a
// shared machine falls on both sides of every ratio:
//   plain        no steering
//   controlVec   context-wide steering (setSteering, llama.cpp's control vector) on every
//                steerable block, set and cleared outside the timed region
//   perCall      the same vectors as the call's own `steering` option (uniform per-call
//                steering: applied through the control vector automatically, see
//                ContextOptions.steeringControlVector)
//   perCallHook  the same per-call steering with steeringControlVector: false on a second
//                context (the eval-callback path: one graph split per steered block)
// Each round runs the arms in an order that alternates (ABCD, DCBA, ...). tg tokens/s = tg /
// (time of the run - median time of the same call with maxTokens 0 in that arm). Per round the
// ratio arm/plain; reported: the median ratio with a percentile bootstrap 95% interval over the
// rounds (lib/evaluate's bootstrapCI, seed 0), and the median tokens/s of each arm.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModel, resolveModel } from '../dist/index.js';
import { bootstrapCI } from '../dist/evaluate/index.js';
import { median } from './parts/util.mjs';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'gemma-3-270m' },
    rounds: { type: 'string', default: '16' },
    tg: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    strength: { type: 'string', default: '0.01' },
    json: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const TG = Number(values.tg);
const threads = Number(values.threads);
const strength = Number(values.strength);
for (const [k, v] of [['rounds', ROUNDS], ['tg', TG], ['threads', threads]]) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}
if (!(strength > 0)) throw new Error('--strength must be positive');

const modelPath = await resolveModel(values.model);
const model = await loadModel(modelPath);
const { nLayer, nEmbd } = model.info;
const ctxOptions = { contextSize: 256, threads };
const ctx = await model.createContext(ctxOptions);
const hookCtx = await model.createContext({ ...ctxOptions, steeringControlVector: false });

// A fixed pseudo-random direction per block, scaled to `strength` x sqrt(nEmbd) (unit-RMS
// residuals are O(1) per component in these models; the cost does not depend on the values).
const vectors = new Float32Array(nLayer * nEmbd).map((_, i) => Math.sin(i * 12.9898) * strength);
const layers = [1, nLayer - 1];
const steering = { vectors, layers };
const prompt = model.tokenize('The old lighthouse keeper walked along the shore every').slice(0, 8);
const gen = (c, extra = {}) => c.generateText(prompt, { maxTokens: TG, stopOnEog: false, ...extra });
const promptOnly = (c, extra = {}) => c.generateText(prompt, { maxTokens: 0, stopOnEog: false, ...extra });

const arms = {
  plain: { run: (o) => o(ctx) },
  controlVec: { before: () => ctx.setSteering(vectors, { layers }), run: (o) => o(ctx), after: () => ctx.clearSteering() },
  perCall: { run: (o) => o(ctx, { steering }) },
  perCallHook: { run: (o) => o(hookCtx, { steering }) },
};
const names = Object.keys(arms);

async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

// warm-up, and the same tokens from every arm (steering this small may change them; it must
// not change how many are decoded)
for (const n of names) {
  const a = arms[n];
  await a.before?.();
  const r = await a.run(gen);
  await a.after?.();
  if (r.tokens.length !== TG) throw new Error(`${n}: decoded ${r.tokens.length} of ${TG} tokens`);
}
const runs = Object.fromEntries(names.map((n) => [n, []]));
const prompts = Object.fromEntries(names.map((n) => [n, []]));
const t0 = Date.now();
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? names : [...names].reverse();
  for (const n of order) {
    const a = arms[n];
    await a.before?.();
    prompts[n].push(await time(() => a.run(promptOnly)));
    runs[n].push(await time(() => a.run(gen)));
    await a.after?.();
  }
}
const seconds = (Date.now() - t0) / 1000;
const tps = Object.fromEntries(names.map((n) => {
  const p = median(prompts[n]);
  return [n, runs[n].map((t) => TG / Math.max(1e-9, t - p))];
}));
const result = {
  bench: 'steering-tg-cost',
  command: `node bench/steering-tg-cost.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  model: model.info.description, modelPath, nLayer, nEmbd, threads, tg: TG, rounds: ROUNDS, strength,
  steeredBlocks: layers, seconds,
  tokensPerSecond: Object.fromEntries(names.map((n) => [n, median(tps[n])])),
  ratios: {},
};
for (const n of names.slice(1)) {
  const ratios = tps[n].map((v, i) => v / tps.plain[i]);
  const ci = bootstrapCI(ratios.length, (idx) => median(Array.from(idx, (i) => ratios[i])));
  result.ratios[n] = { median: ci.value, ci95: ci.ci95, perRound: ratios };
}
await ctx.dispose();
await hookCtx.dispose();
model.dispose();

console.log(`| arm | tg tok/s (median) | ratio to plain, median of ${ROUNDS} paired rounds [95% CI] |`);
console.log('|---|--:|--:|');
for (const n of names) {
  const r = result.ratios[n];
  console.log(`| ${n} | ${result.tokensPerSecond[n].toFixed(1)} | ${r ? `${r.median.toFixed(3)} [${r.ci95[0].toFixed(3)}, ${r.ci95[1].toFixed(3)}]` : '1'} |`);
}
console.log(`\n${result.model}, ${threads} threads, tg ${TG}, ${ROUNDS} rounds, ${seconds.toFixed(0)} s`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
