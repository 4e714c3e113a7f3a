#!/usr/bin/env node
// `T=<threads> node bench/sequence-steering-cost.mjs <model gguf|name> <vector set dir>`: what
// steering every block costs in generateBatch (8 sequences x 32 tokens), three ways, medians of
// 3 interleaved rounds: plain, per-sequence steering (the `steering` option: one graph split per
// steered block per decode) and context-wide steering (setSteering: part of llama.cpp's graph).
import { EmotionVectorSet, loadModel, resolveModel, steeringVectors } from '../dist/index.js';
const [modelArg = 'smollm2-135m-instruct', setDir] = process.argv.slice(2);
if (!setDir) { console.error('usage: node bench/sequence-steering-cost.mjs <model> <vector set dir>'); process.exit(2); }
const model = await loadModel(await resolveModel(modelArg));
const set = await EmotionVectorSet.load(setDir, { activations: false });
const sv = steeringVectors(set, { emotion: 'happy', strength: 0.02 });
const threads = Number(process.env.T ?? 2);
const ctx = await model.createContext({ contextSize: 1024, sequences: 8, threads });
const prompts = Array.from({ length: 8 }, (_, i) => `Story number ${i}: the weather today is`);
const opts = { maxTokens: 32, stopOnEog: false };
const steer = { vectors: sv.vectors, layers: sv.layers };
const res = { plain: [], perSeq: [], wide: [] };
for (let r = 0; r < 3; r++) {
  let t = performance.now(); await ctx.generateBatch(prompts, opts); res.plain.push(performance.now() - t);
  t = performance.now(); await ctx.generateBatch(prompts, { ...opts, steering: steer }); res.perSeq.push(performance.now() - t);
  await ctx.setSteering(sv.vectors, { layers: sv.layers });
  t = performance.now(); await ctx.generateBatch(prompts, opts); res.wide.push(performance.now() - t);
  await ctx.clearSteering();
}
const med = (a) => a.sort((x, y) => x - y)[1];
console.log(`threads ${threads}, 8 seqs x 32 tokens, steered blocks ${sv.layers}: plain ${med(res.plain).toFixed(0)} ms, per-sequence ${med(res.perSeq).toFixed(0)} ms (${(med(res.perSeq)/med(res.plain)).toFixed(2)}x), context-wide ${med(res.wide).toFixed(0)} ms (${(med(res.wide)/med(res.plain)).toFixed(2)}x)`);
