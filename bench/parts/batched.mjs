#!/usr/bin/env node
// Bench part: multi-sequence generation. For each N in --sequences (default 1,4,8,16) a context
// with `sequences: N` generates --tg tokens for N different short prompts in one batch
// (generateBatch, greedy, no stop at end-of-generation). The N are interleaved, `--reps` times.
// tokens/s = N x tg / (time - time of the prompts alone), the prompts being decoded by the
// same call with maxTokens 0, measured in the same loop.
//
//   node bench/parts/batched.mjs [--model <gguf>] [--tg 64] [--reps 3] [--threads N] [--sequences 1,4,8,16] [--batch 512]
import { parseArgs } from 'node:util';
import { loadModel } from '../../dist/index.js';
import { emit, median, MODEL_OPTIONS, resolveGpuLayers, resolveModel, resolveThreads, timed } from './util.mjs';

const { values } = parseArgs({
  options: {
    ...MODEL_OPTIONS,
    tg: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    sequences: { type: 'string', default: '1,4,8,16' },
    batch: { type: 'string', default: '512' },
  },
});
const modelPath = resolveModel(values.model);
const TG = Number(values.tg);
const REPS = Number(values.reps);
const threads = resolveThreads(values.threads);
const batchSize = Number(values.batch);
const counts = values.sequences.split(',').map(Number);

const subjects = ['The old lighthouse keeper', 'A young baker', 'The tired nurse', 'Our new neighbour', 'The ship captain', 'A quiet student', 'The mayor of the town', 'My grandmother',
  'The night guard', 'A travelling musician', 'The village doctor', 'A lost tourist', 'The football coach', 'An old fisherman', 'The librarian', 'A small child'];
const prompts = (n) => Array.from({ length: n }, (_, i) => `${subjects[i % subjects.length]} opened the door and`);

const model = await loadModel(modelPath, { gpuLayers: resolveGpuLayers(values['gpu-layers']) });
const longest = Math.max(...prompts(Math.max(...counts)).map((p) => model.tokenize(p).length));
const contexts = new Map();
for (const n of counts) {
  contexts.set(n, await model.createContext({ sequences: n, contextSize: Math.max(512, n * (longest + TG + 8)), batchSize, threads }));
}
const run = (n, maxTokens) => contexts.get(n).generateBatch(prompts(n), { maxTokens, stopOnEog: false, seeds: Array.from({ length: n }, (_, i) => i) });

// warm-up, and a check that every sequence really generates tg tokens
for (const n of counts) {
  const res = await run(n, TG);
  if (res.length !== n || res.some((r) => r.tokens.length !== TG)) throw new Error(`generateBatch with ${n} sequences did not produce ${TG} tokens each`);
}
const gen = Object.fromEntries(counts.map((n) => [n, []]));
const promptOnly = Object.fromEntries(counts.map((n) => [n, []]));
for (let r = 0; r < REPS; r++) {
  for (const n of counts) {
    promptOnly[n].push(await timed(() => run(n, 0)));
    gen[n].push(await timed(() => run(n, TG)));
  }
}
for (const c of contexts.values()) await c.dispose();
model.dispose();
emit({
  part: 'batched',
  model: model.info.description,
  threads,
  tg: TG,
  reps: REPS,
  results: counts.map((n) => {
    const p = median(promptOnly[n]);
    const samples = gen[n].map((t) => (n * TG) / Math.max(1e-9, t - p));
    return { sequences: n, promptSeconds: p, samples, tokensPerSecond: median(samples) };
  }),
});
