#!/usr/bin/env node
// `node bench/context-speed.mjs [--model <gguf|name>] [--rounds 12] [--tg 64] [--threads 2]
//   [--sequences 8] [--json <out.json>]`: what the context options that change speed and not
// results are worth per generated token: flashAttention (off by default; `emosteer serve` uses
// 'auto', as llama-server) and threadPool (ggml's worker threads kept for the context's life,
// off by default).
//
// Contexts of --sequences sequences (8: as `emosteer serve --parallel 8`), one 8-token prompt,
// --tg greedy tokens on sequence 0; paired, interleaved rounds (bench/parts/paired-rounds.mjs):
//   plain           the defaults
//   flashAttention  flashAttention: true                  ratio to plain
//   threadPool      threadPool: true                      ratio to plain
//   hook            per-call steering of every block through the eval callback
//                   (steeringControlVector: false): ggml computes the graph in one piece per
//                   steered block                         ratio to plain
//   hookThreadPool  the same with threadPool: true        ratio to hook
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModel, resolveModel } from '../dist/index.js';
import { pairedRounds, pairedTable } from './parts/paired-rounds.mjs';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'smollm2-135m-instruct' },
    rounds: { type: 'string', default: '12' },
    tg: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    sequences: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const [ROUNDS, TG, threads, sequences] = ['rounds', 'tg', 'threads', 'sequences'].map((k) => {
  const v = Number(values[k]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
  return v;
});

const modelPath = await resolveModel(values.model);
const model = await loadModel(modelPath);
const base = { contextSize: 512 * sequences, sequences, threads };
const ctx = {
  plain: await model.createContext(base),
  flashAttention: await model.createContext({ ...base, flashAttention: true }),
  threadPool: await model.createContext({ ...base, threadPool: true }),
  hook: await model.createContext({ ...base, steeringControlVector: false }),
  hookThreadPool: await model.createContext({ ...base, threadPool: true, steeringControlVector: false }),
};
if (!ctx.threadPool.options.threadPool || !ctx.hookThreadPool.options.threadPool) throw new Error('a context could not make its thread pools');
const prompt = model.tokenize('The old lighthouse keeper walked along the shore every').slice(0, 8);
const { nLayer, nEmbd } = model.info;
// A small fixed direction on every steerable block (the cost does not depend on the values).
const steering = { vectors: new Float32Array(nLayer * nEmbd).map((_, i) => Math.sin(i * 12.9898) * 0.01), layers: [1, nLayer - 1] };

const measured = await pairedRounds({
  plain: { run: (o) => o(ctx.plain) },
  flashAttention: { run: (o) => o(ctx.flashAttention) },
  threadPool: { run: (o) => o(ctx.threadPool) },
  hook: { run: (o) => o(ctx.hook, { steering }) },
  hookThreadPool: { run: (o) => o(ctx.hookThreadPool, { steering }), baseline: 'hook' },
}, { prompt, tg: TG, rounds: ROUNDS });
const result = {
  bench: 'context-speed',
  command: `node bench/context-speed.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  model: model.info.description, modelPath, threads, sequences, tg: TG, rounds: ROUNDS, ...measured,
};
for (const c of Object.values(ctx)) await c.dispose();
model.dispose();

console.log(pairedTable(result, ROUNDS));
console.log(`\n${result.model}, ${threads} threads, ${sequences} sequences, tg ${TG}, ${ROUNDS} rounds, ${result.seconds.toFixed(0)} s`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
