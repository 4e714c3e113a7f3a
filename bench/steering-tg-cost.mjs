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
// The rounds and their statistics: bench/parts/paired-rounds.mjs (ratios to plain).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModel, resolveModel } from '../dist/index.js';
import { pairedRounds, pairedTable } from './parts/paired-rounds.mjs';

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

const arms = {
  plain: { run: (o) => o(ctx) },
  controlVec: { before: () => ctx.setSteering(vectors, { layers }), run: (o) => o(ctx), after: () => ctx.clearSteering() },
  perCall: { run: (o) => o(ctx, { steering }) },
  perCallHook: { run: (o) => o(hookCtx, { steering }) },
};
const measured = await pairedRounds(arms, { prompt, tg: TG, rounds: ROUNDS });
const result = {
  bench: 'steering-tg-cost',
  command: `node bench/steering-tg-cost.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  model: model.info.description, modelPath, nLayer, nEmbd, threads, tg: TG, rounds: ROUNDS, strength,
  steeredBlocks: layers, ...measured,
};
await ctx.dispose();
await hookCtx.dispose();
model.dispose();

console.log(pairedTable(result, ROUNDS));
console.log(`\n${result.model}, ${threads} threads, tg ${TG}, ${ROUNDS} rounds, ${result.seconds.toFixed(0)} s`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
