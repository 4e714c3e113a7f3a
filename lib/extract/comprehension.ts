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

/** The positions of a passage that comprehension activations are read at. */
export const PASSAGE_READOUTS = ['last', 'mean'] as const;

/** One of {@link PASSAGE_READOUTS}. */
export type PassageReadout = (typeof PASSAGE_READOUTS)[number];

/** Runs comprehension-based extraction on a model (read at `options.position`, default the last token). */
export async function extractComprehension(model: Model, options: ComprehensionOptions = {}): Promise<EmotionVectorSet> {
  const position = options.position ?? 'last';
  return (await extractComprehensionReadouts(model, { ...options, readouts: [position] })).get(position)!;
}

/**
 * Comprehension-based extraction read at several positions of each passage from one forward
 * pass: one set per read-out (`position` in each set's parameters says which).
 */
export async function extractComprehensionReadouts(model: Model, options: Omit<ComprehensionOptions, 'position'> & { readouts: readonly PassageReadout[] }): Promise<Map<PassageReadout, EmotionVectorSet>> {
  const readouts = [...new Set(options.readouts)];
  if (readouts.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'at least one read-out is needed');
  for (const r of readouts) if (!(PASSAGE_READOUTS as readonly string[]).includes(r)) throw new EmosteerError('INVALID_ARGUMENT', `unknown passage read-out '${String(r)}'; expected one of ${PASSAGE_READOUTS.join(', ')}`);
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
    position: readouts.length === 1 ? readouts[0]! : readouts,
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
      const pooling = readouts.length > 1 ? 'all' as const : readouts[0] === 'mean' ? 'mean' as const : 'last' as const;
      const res = await ctx.evaluateBatch(inputs, { capture: { layers, pooling }, signal: options.signal });
      let tokens = 0;
      const nEmbd = model.info.nEmbd;
      for (let j = 0; j < chunk.length; j++) {
        const t = chunk[j]!;
        const r = res[j]!;
        tokens += r.tokens.length;
        if (checkpoint.has(t.key)) continue; // redone with its batch; the checkpoint already holds it
        const n = r.tokens.length;
        // One activation per read-out, concatenated in `readouts` order.
        const activation = new Float32Array(readouts.length * layers.length * nEmbd);
        readouts.forEach((ro, k) => {
          const part = stack(layers, (l) => {
            const a = r.activations!.get(l);
            if (pooling !== 'all') return a;
            if (ro === 'last') return a.subarray((n - 1) * nEmbd, n * nEmbd);
            const m = new Float32Array(nEmbd);
            for (let x = 0; x < n; x++) for (let y = 0; y < nEmbd; y++) m[y]! += a[x * nEmbd + y]! / n;
            return m;
          }, nEmbd);
          activation.set(part, k * part.length);
        });
        const info: SampleInfo = { category: t.category, index: t.index, prompt: t.passage, nTokens: n, position: 'mean' };
        await checkpoint.add({ key: t.key, info, activation, tokens: n });
        done++;
      }
      const progress = meter.update(done, chunk.at(-1)!.category, tokens);
      options.onProgress?.(progress);
    }
  } finally {
    await ctx.dispose();
  }
  const size = layers.length * model.info.nEmbd;
  const finished = tasks.map((t) => checkpoint.get(t.key)!);
  const sets = new Map<PassageReadout, EmotionVectorSet>();
  readouts.forEach((ro, k) => {
    sets.set(ro, buildSet({
      method: 'comprehension',
      samples: finished.map((f) => ({ info: { ...f.info, position: ro === 'mean' ? 'mean' : f.info.nTokens - 1 }, activation: f.activation.subarray(k * size, (k + 1) * size) })),
      timings: { seconds: meter.seconds, tokens: meter.tokens },
      emotions,
      layers,
      nEmbd: model.info.nEmbd,
      baseline: params.baseline,
      identity,
      params: { ...params, position: ro },
      stimuliVersion: stimuli.version,
    }));
  });
  return sets;
}

/** Packs per-layer rows into one layers x nEmbd array. @internal */
export function stack(layers: readonly number[], get: (layer: number) => Float32Array, nEmbd: number): Float32Array {
  const out = new Float32Array(layers.length * nEmbd);
  layers.forEach((l, i) => out.set(get(l).subarray(0, nEmbd), i * nEmbd));
  return out;
}
