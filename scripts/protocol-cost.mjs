#!/usr/bin/env node
// Estimates what the full default protocol costs on a model before running it: measures
// batched generation (4 stories at once, as generation extraction decodes them; 8
// continuations, as the steering experiment does) and prompt processing on this machine, then
// multiplies by the protocol's token counts (210 stories x up to 256 tokens; 47 scenarios x
// baselines, 5 strengths x 2 samplings and the greedy controls x 48 tokens; scoring passes).
// Usage: node scripts/protocol-cost.mjs --model <name|gguf> [--threads N] [--json]
// Needs dist/ (npm run build:ts). Prints seconds per step and in all.
import { parseArgs } from 'node:util';
import { loadModel, resolveModel } from '../dist/index.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' } } });
if (!values.model) {
  console.error('usage: node scripts/protocol-cost.mjs --model <name|gguf> [--threads N] [--json]');
  process.exit(2);
}
const threads = values.threads ? Number(values.threads) : undefined;
const path = await resolveModel(values.model);
const model = await loadModel(path);
const prompt = model.applyChatTemplate([{ role: 'user', content: 'Write a short story of three to five paragraphs about a character who is feeling calm. Do not name the emotion directly.' }]);

async function generationRate(sequences, tokens) {
  const ctx = await model.createContext({ sequences, contextSize: sequences * (tokens + 96), threads });
  try {
    await ctx.generateBatch(Array(sequences).fill(prompt), { maxTokens: 4, parseSpecial: true, stopOnEog: false });
    const t0 = performance.now();
    const r = await ctx.generateBatch(Array(sequences).fill(prompt), { maxTokens: tokens, parseSpecial: true, stopOnEog: false, temperature: 0.8, seeds: [...Array(sequences).keys()] });
    const n = r.reduce((s, x) => s + x.tokens.length, 0);
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await ctx.dispose();
  }
}

async function promptRate(length) {
  const ctx = await model.createContext({ contextSize: length + 8, threads });
  try {
    const tokens = Array.from({ length }, (_, i) => model.tokenize(' the')[0] + (i % 7));
    await ctx.evaluate(tokens.slice(0, 16));
    const t0 = performance.now();
    const reps = 5;
    for (let i = 0; i < reps; i++) await ctx.evaluate(tokens);
    return (reps * length) / ((performance.now() - t0) / 1000);
  } finally {
    await ctx.dispose();
  }
}

const gen4 = await generationRate(4, 64);
const gen8 = await generationRate(8, 48);
const pp = await promptRate(64);
// Token counts of the default protocol (docs/results.md explains them).
const stories = 210 * 256; // upper bound: stories stop at end of turn
const scenarios = 47;
const continuations = scenarios * (2 + 5 * 2 + 5 * 3); // baselines (2 samplings), emotion arm, greedy controls (2 random + other emotion)
const steerTokens = continuations * 48;
const scoring = continuations * (48 + 30); // perplexity pass per continuation
const comprehension = 252 * 40;
const seconds = {
  comprehension: comprehension / pp,
  generation: stories / gen4,
  steering: steerTokens / gen8 + scoring / pp,
};
const total = Object.values(seconds).reduce((a, b) => a + b, 0);
const out = { model: model.info.description, path, threads: threads ?? 'all', rates: { generation4: gen4, generation8: gen8, prompt: pp }, tokens: { comprehension, stories, steerTokens, scoring }, seconds, totalSeconds: total };
if (values.json) console.log(JSON.stringify(out, null, 2));
else {
  console.log(`${out.model} (${threads ?? 'all'} threads): generation ${gen4.toFixed(1)} tok/s (4 seq), ${gen8.toFixed(1)} tok/s (8 seq); prompt ${pp.toFixed(0)} tok/s`);
  for (const [k, v] of Object.entries(seconds)) console.log(`  ${k}: ~${(v / 60).toFixed(1)} min`);
  console.log(`  full protocol without the LLM judge: ~${(total / 60).toFixed(0)} min (an upper bound for generation: stories that end early cost less)`);
}
model.dispose();
