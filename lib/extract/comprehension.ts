/**
 * Comprehension-based extraction: the model *reads* short passages that show an emotion;
 * the activation is read at the last token (or averaged over the passage) at every block in
 * one forward pass. Defaults follow the paper: no chat template, last token,
 * vector = emotion mean - mean over all category means (baseline 'all').
 */
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import type { Baseline, EmotionVectorSet, SampleInfo } from '../vectors/emotion-vector-set.js';
import { pendingBatches } from '../util/batches.js';
import { buildSet, Checkpoint, modelIdentity, ProgressMeter, resolveLayers, type CommonExtractionOptions } from './common.js';
import { defaultStimuli, type StimulusSet } from '../stimuli/index.js';

/** Options of {@link extractComprehension}; every one is recorded in the set. */
export interface ComprehensionOptions extends CommonExtractionOptions {
  /** Passages per category (default: every passage of the stimuli, at least 12 each by default). */
  samples?: number;
  /** Wrap each passage in the chat template as a user message (default false). */
  chatTemplate?: boolean;
  /** Where to read: the last token (default) or the mean over the passage. */
  position?: 'last' | 'mean';
  /** Baseline subtracted from each emotion mean (default 'all': mean of all 21 category means). */
  baseline?: Baseline;
  /** Stimuli (default: emosteer's English set). */
  stimuli?: StimulusSet;
}

/** Runs comprehension-based extraction on a model. */
export async function extractComprehension(model: Model, options: ComprehensionOptions = {}): Promise<EmotionVectorSet> {
  const stimuli = options.stimuli ?? defaultStimuli();
  const emotions = [...(options.emotions ?? stimuli.emotions)];
  for (const e of emotions) {
    if (!stimuli.passages[e]?.length) throw new EmosteerError('INVALID_ARGUMENT', `the stimuli have no passages for '${e}'`);
  }
  if (!stimuli.passages.neutral?.length) throw new EmosteerError('INVALID_ARGUMENT', "the stimuli have no 'neutral' passages");
  const categories = [...emotions, 'neutral'];
  const samples = options.samples ?? Math.min(...categories.map((c) => stimuli.passages[c]!.length));
  if (!Number.isInteger(samples) || samples < 1) throw new EmosteerError('INVALID_ARGUMENT', 'samples must be a positive integer');
  const layers = resolveLayers(model, options.layers);
  const params = {
    method: 'comprehension',
    emotions,
    samples,
    chatTemplate: options.chatTemplate ?? false,
    position: options.position ?? 'last',
    baseline: options.baseline ?? 'all',
    layers,
    batch: options.batch ?? 8,
    stimuliVersion: stimuli.version,
  };
  const tasks: { key: string; category: string; index: number; passage: string }[] = [];
  for (const c of categories) {
    const list = stimuli.passages[c]!;
    for (let i = 0; i < samples; i++) tasks.push({ key: `${c}#${i}`, category: c, index: i, passage: list[i % list.length]! });
  }
  const identity = await modelIdentity(model);
  const checkpoint = await Checkpoint.open(options.checkpointDir, { params, model: identity.sha256 });
  const meter = new ProgressMeter('comprehension', tasks.length, checkpoint.restored);
  // Batch size, context size and batch boundaries come from all tasks, not from what is left, so
  // that a resumed run decodes exactly as the uninterrupted one (pendingBatches).
  const longest = Math.max(16, ...tasks.map((t) => model.tokenize(t.passage).length));
  const batch = Math.max(1, Math.min(params.batch, tasks.length || 1));
  const batches = pendingBatches(tasks, batch, (t) => checkpoint.has(t.key));
  const ctx = await model.createContext({ sequences: batch, contextSize: batch * (longest + 64), threads: options.threads });
  try {
    let done = checkpoint.restored;
    for (const chunk of batches) {
      if (options.signal?.aborted) throw new EmosteerError('ABORTED', `comprehension extraction stopped after ${done} of ${tasks.length} samples; rerun with the same checkpoint folder to resume`);
      const inputs = chunk.map((t) => (params.chatTemplate ? { messages: [{ role: 'user', content: t.passage }] } : t.passage));
      const res = await ctx.evaluateBatch(inputs, { capture: { layers, pooling: params.position === 'mean' ? 'mean' : 'last' }, signal: options.signal });
      let tokens = 0;
      for (let j = 0; j < chunk.length; j++) {
        const t = chunk[j]!;
        const r = res[j]!;
        tokens += r.tokens.length;
        const info: SampleInfo = { category: t.category, index: t.index, prompt: t.passage, nTokens: r.tokens.length, position: params.position === 'mean' ? 'mean' : r.tokens.length - 1 };
        if (checkpoint.has(t.key)) continue; // redone with its batch; the checkpoint already holds it
        await checkpoint.add({ key: t.key, info, activation: stack(layers, r.activations!.get.bind(r.activations!), model.info.nEmbd), tokens: r.tokens.length });
        done++;
      }
      const progress = meter.update(done, chunk.at(-1)!.category, tokens);
      options.onProgress?.(progress);
    }
  } finally {
    await ctx.dispose();
  }
  return buildSet({
    method: 'comprehension',
    keys: tasks.map((t) => t.key),
    checkpoint,
    meter,
    emotions,
    layers,
    nEmbd: model.info.nEmbd,
    baseline: params.baseline,
    identity,
    params,
    stimuliVersion: stimuli.version,
  });
}

/** Packs per-layer rows into one layers x nEmbd array. @internal */
export function stack(layers: readonly number[], get: (layer: number) => Float32Array, nEmbd: number): Float32Array {
  const out = new Float32Array(layers.length * nEmbd);
  layers.forEach((l, i) => out.set(get(l).subarray(0, nEmbd), i * nEmbd));
  return out;
}
