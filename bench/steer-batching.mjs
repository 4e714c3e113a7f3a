#!/usr/bin/env node
// `node bench/steer-batching.mjs --set <vector set dir> [--model <gguf|name>] [--scenarios 12]
//   [--strengths 0.02,0.05] [--max-tokens 24] [--batch 8] [--threads N] [--json]`:
// the steering experiment's two batching paths on one model, one after the other:
//   per-sequence   any runs of a sampling mode share a batch, each with its own steering
//   context-wide   only runs that steer with the same vector share a batch (llama.cpp's
//                  control vector, set once per group), as before per-sequence steering existed
// Prints wall time of each, the speed-up, and how many continuations differ (on quantized
// models, batches of other compositions round differently, and greedy decoding can diverge).
// Greedy decoding, the lexicon judge, controls as the experiment's defaults (2 random
// directions + another emotion). Default model: the set's own model path.
import { parseArgs } from 'node:util';
import { EmotionVectorSet, loadModel, resolveModel } from '../dist/index.js';
import { LexiconJudge, runSteeringExperiment, selectScenarios } from '../dist/steer/index.js';

const { values } = parseArgs({ options: {
  set: { type: 'string' }, model: { type: 'string' }, scenarios: { type: 'string', default: '12' },
  strengths: { type: 'string', default: '0.02,0.05' }, 'max-tokens': { type: 'string', default: '24' },
  batch: { type: 'string', default: '8' }, threads: { type: 'string' }, json: { type: 'boolean', default: false },
} });
if (!values.set) { console.error('--set <vector set dir> is required'); process.exit(2); }
const set = await EmotionVectorSet.load(values.set, { activations: false });
const model = await loadModel(await resolveModel(values.model ?? set.meta.model.path));
const opts = {
  scenarios: selectScenarios({ limit: Number(values.scenarios) }).filter((s) => set.emotions.includes(s.target)),
  strengths: values.strengths.split(',').map(Number),
  sampling: [{ name: 'greedy', temperature: 0, seed: 0 }],
  maxTokens: Number(values['max-tokens']),
  judges: [{ judge: new LexiconJudge(), margin: 0.5 }],
  batch: Number(values.batch),
  ...(values.threads ? { threads: Number(values.threads) } : {}),
};
const out = {};
for (const steeringPath of ['per-sequence', 'context-wide']) {
  const t0 = performance.now();
  const r = await runSteeringExperiment(model, set, { ...opts, steeringPath });
  out[steeringPath] = { seconds: (performance.now() - t0) / 1000, runs: r.runs.length + (r.controlRuns?.length ?? 0), texts: [...r.runs, ...(r.controlRuns ?? [])].map((x) => x.text) };
}
const a = out['per-sequence'].texts;
const b = out['context-wide'].texts;
const differing = a.filter((t, i) => t !== b[i]).length;
const same = differing === 0;
const result = {
  model: model.info.description, scenarios: opts.scenarios.length, strengths: opts.strengths, continuations: out['per-sequence'].runs,
  perSequenceSeconds: out['per-sequence'].seconds, contextWideSeconds: out['context-wide'].seconds,
  speedup: out['context-wide'].seconds / out['per-sequence'].seconds, identicalContinuations: same, differingContinuations: differing,
};
if (values.json) console.log(JSON.stringify(result, null, 2));
else console.log(`${result.model}: ${result.continuations} steered continuations (+ baselines) of ${opts.maxTokens} tokens, ${result.scenarios} scenarios\n  per-sequence ${result.perSequenceSeconds.toFixed(1)} s, context-wide ${result.contextWideSeconds.toFixed(1)} s: ${result.speedup.toFixed(2)} x; ${differing} of ${a.length} continuations differ between the paths`);
model.dispose();
