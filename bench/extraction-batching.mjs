#!/usr/bin/env node
// Speed-up that batching gives extraction: the same generation subset and the full
// comprehension protocol run with 1 sequence at a time and with N sequences per batch,
// in one run, on one model (default Gemma 3 270M).
//
//   npm run bench:batching -- [--model <gguf>] [--stories-per-emotion 2] [--max-tokens 64] [--batch 8] [--json]
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { extractComprehension, extractGeneration, loadModel } from '../dist/index.js';
import { resolveModel } from './parts/util.mjs';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'stories-per-emotion': { type: 'string', default: '2' },
    'max-tokens': { type: 'string', default: '64' },
    batch: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
});
const modelPath = resolveModel(values.model);
const model = await loadModel(modelPath);
const N = Number(values.batch);
const genOpts = { emotions: ['happy', 'sad', 'angry'], samples: Number(values['stories-per-emotion']), maxTokens: Number(values['max-tokens']) };

const runs = [];
for (const batch of [1, N]) {
  const g = await extractGeneration(model, { ...genOpts, batch });
  runs.push({ method: 'generation', batch, stories: g.meta.samples.length, seconds: g.meta.timings.seconds, tokens: g.meta.timings.tokens, tokensPerSecond: g.meta.timings.tokensPerSecond });
}
for (const batch of [1, N]) {
  const c = await extractComprehension(model, { batch });
  runs.push({ method: 'comprehension', batch, passages: c.meta.samples.length, seconds: c.meta.timings.seconds, tokens: c.meta.timings.tokens, tokensPerSecond: c.meta.timings.tokensPerSecond });
}
model.dispose();
const speedup = (m) => { const [a, b] = runs.filter((r) => r.method === m); return +(a.seconds / b.seconds).toFixed(2); };
const result = {
  model: model.info.description,
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism() },
  runs: runs.map((r) => ({ ...r, seconds: +r.seconds.toFixed(2), tokensPerSecond: +r.tokensPerSecond.toFixed(1) })),
  speedup: { generation: speedup('generation'), comprehension: speedup('comprehension') },
};
if (values.json) console.log(JSON.stringify(result, null, 2));
else {
  for (const r of result.runs) console.log(`${r.method.padEnd(14)} batch ${String(r.batch).padStart(2)}: ${r.seconds}s, ${r.tokensPerSecond} tok/s`);
  console.log(`speed-up from batching: generation ${result.speedup.generation}x, comprehension ${result.speedup.comprehension}x`);
}
