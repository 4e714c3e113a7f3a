#!/usr/bin/env node
// Bench part: end-to-end extraction on one model.
//   --method comprehension: the default comprehension protocol (every passage of the default
//     stimuli, every block, last token, baseline 'all', batch 8), as `extractComprehension`.
//   --method generation: a generation subset (--emotions happy,sad,angry, --samples 2 stories
//     each plus as many neutral ones, --max-tokens 64, default batch 4).
// Reports the extraction's own timings (model already loaded) and the process's wall time
// (start-up, model load and extraction).
// --out <dir> (comprehension): saves the EmotionVectorSet there and writes passages.json (the
// passages in sample order, with category and token count) for the PyTorch comparison.
//
//   node bench/parts/extraction.mjs --method comprehension|generation [--model <gguf>] [--threads N] [--out <dir>]
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractComprehension, extractGeneration, loadModel } from '../../dist/index.js';
import { emit, MODEL_OPTIONS, resolveGpuLayers, resolveModel, resolveThreads } from './util.mjs';

const t0 = performance.now();
const { values } = parseArgs({
  options: {
    method: { type: 'string', default: 'comprehension' },
    ...MODEL_OPTIONS,
    emotions: { type: 'string', default: 'happy,sad,angry' },
    samples: { type: 'string', default: '2' },
    'max-tokens': { type: 'string', default: '64' },
    out: { type: 'string' },
  },
});
const modelPath = resolveModel(values.model);
const threads = resolveThreads(values.threads);
const model = await loadModel(modelPath, { gpuLayers: resolveGpuLayers(values['gpu-layers']) });
const loadSeconds = (performance.now() - t0) / 1000;

let set;
if (values.method === 'comprehension') {
  set = await extractComprehension(model, { threads });
} else if (values.method === 'generation') {
  set = await extractGeneration(model, { threads, emotions: values.emotions.split(','), samples: Number(values.samples), maxTokens: Number(values['max-tokens']) });
} else {
  throw new Error(`--method must be comprehension or generation (got ${values.method})`);
}
const { seconds, tokens, tokensPerSecond } = set.meta.timings;
if (values.out) {
  await set.save(values.out);
  await writeFile(join(values.out, 'passages.json'), JSON.stringify({
    model: model.info.description,
    modelPath,
    emotions: set.meta.emotions,
    categories: set.meta.categories,
    layers: set.meta.layers,
    nEmbd: set.meta.nEmbd,
    baseline: set.meta.baseline,
    params: set.meta.params,
    addBos: model.info.addBos,
    samples: set.meta.samples.map((s) => ({ category: s.category, index: s.index, prompt: s.prompt, nTokens: s.nTokens })),
  }, null, 1));
}
model.dispose();
emit({
  part: `extraction-${values.method}`,
  method: values.method,
  model: model.info.description,
  threads,
  params: set.meta.params,
  samples: set.meta.samples.length,
  loadSeconds,
  seconds,
  tokens,
  tokensPerSecond,
  // the whole process: node start-up, imports (the addon), model load, extraction
  wallSeconds: process.uptime(),
});
