/**
 * Generation-based extraction: the model *writes* stories about a character feeling an
 * emotion; activations are captured while it generates (no second pass) and read at the
 * middle token of the generated span (or the last token, or the mean over the span) at every
 * block. Defaults follow the paper: chat template on, greedy decoding, 256 new tokens, 10
 * stories per emotion (each from its own template: the paper's five kinds in two wordings, so
 * no greedy story is a copy of another), 10 neutral everyday stories,
 * vector = emotion mean - neutral mean. Several stories are generated together in one batch.
 */
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import type { Baseline, EmotionVectorSet, SampleInfo } from '../vectors/emotion-vector-set.js';
import { pendingBatches } from '../util/batches.js';
import { buildSet, Checkpoint, modelIdentity, ProgressMeter, resolveLayers, type CommonExtractionOptions } from './common.js';
import { stack } from './comprehension.js';
import { defaultStimuli, generationPrompt, neutralPrompt, type StimulusSet } from '../stimuli/index.js';

/** Options of {@link extractGeneration}; every one is recorded in the set. */
export interface GenerationOptions extends CommonExtractionOptions {
  /** Stories per emotion (default 10). */
  samples?: number;
  /** Neutral stories (default = samples). */
  neutralSamples?: number;
  /** Most new tokens per story (default 256). */
  maxTokens?: number;
  /** Format prompts with the chat template (default true). */
  chatTemplate?: boolean;
  /** 0 = greedy (default); otherwise sampling temperature. */
  temperature?: number;
  /** Base seed; story k uses seed + k (default 0). Only matters when temperature > 0. */
  seed?: number;
  /** Nucleus sampling threshold of the stories (default 1 = off). */
  topP?: number;
  /** Repetition penalty of the stories (default 1 = off). */
  repeatPenalty?: number;
  /** Which generated token to read (default 'middle'). */
  position?: 'middle' | 'last' | 'mean';
  /** Baseline subtracted from each emotion mean (default 'neutral'). */
  baseline?: Baseline;
  /** Stimuli (default: emosteer's English set). */
  stimuli?: StimulusSet;
}

/**
 * Runs generation-based extraction on a model: for every emotion (and neutral), the model
 * writes stories from prompts naming the emotion; the activation at the chosen generated token
 * is read at every block; each emotion's vector is its mean minus the baseline's mean.
 *
 * @returns the set, with every sample's activations and every parameter recorded
 *
 * @example
 * ```ts
 * import { extractGeneration, loadModel } from 'emosteer';
 * const model = await loadModel('gemma-3-270m-q4_k_m.gguf');
 * const set = await extractGeneration(model, {
 *   emotions: ['calm', 'angry'],
 *   samples: 4,
 *   maxTokens: 64,
 *   onProgress: (p) => console.log(`${p.done}/${p.total}`),
 * });
 * await set.save('runs/gemma/generation');
 * ```
 */
export async function extractGeneration(model: Model, options: GenerationOptions = {}): Promise<EmotionVectorSet> {
  const stimuli = options.stimuli ?? defaultStimuli();
  const emotions = [...(options.emotions ?? stimuli.emotions)];
  if (stimuli.generationTemplates.length === 0 || stimuli.neutralPrompts.length === 0) {
    throw new EmosteerError('INVALID_ARGUMENT', 'generation extraction needs generation templates and neutral prompts');
  }
  const samples = options.samples ?? 10;
  const neutralSamples = options.neutralSamples ?? samples;
  for (const [k, v] of Object.entries({ samples, neutralSamples, maxTokens: options.maxTokens ?? 256 })) {
    if (!Number.isInteger(v) || v < 1) throw new EmosteerError('INVALID_ARGUMENT', `${k} must be a positive integer`);
  }
  const layers = resolveLayers(model, options.layers);
  const params = {
    method: 'generation',
    emotions,
    samples,
    neutralSamples,
    maxTokens: options.maxTokens ?? 256,
    chatTemplate: options.chatTemplate ?? true,
    temperature: options.temperature ?? 0,
    seed: options.seed ?? 0,
    topP: options.topP ?? 1,
    repeatPenalty: options.repeatPenalty ?? 1,
    position: options.position ?? 'middle',
    baseline: options.baseline ?? 'neutral',
    layers,
    batch: options.batch ?? 4,
    stimuliVersion: stimuli.version,
  };
  // Under greedy decoding a prompt that comes back gives the same story token for token: it
  // costs a generation and counts one story twice in every statistic. Every story must then
  // have its own prompt; with sampling each story has its own recorded seed instead.
  if (params.temperature === 0) {
    const short = [
      samples > stimuli.generationTemplates.length ? `${samples} stories per emotion but ${stimuli.generationTemplates.length} templates` : '',
      neutralSamples > stimuli.neutralPrompts.length ? `${neutralSamples} neutral stories but ${stimuli.neutralPrompts.length} neutral prompts` : '',
    ].filter(Boolean);
    if (short.length > 0) {
      throw new EmosteerError('INVALID_ARGUMENT', `greedy decoding would repeat stories (${short.join('; ')}): ask for fewer samples, give more templates/prompts, or sample with temperature > 0 (each story then gets its own seed)`);
    }
  }
  const tasks: { key: string; category: string; index: number; prompt: string; seed: number }[] = [];
  for (const e of emotions) {
    for (let i = 0; i < samples; i++) tasks.push({ key: `${e}#${i}`, category: e, index: i, prompt: generationPrompt(e, i, stimuli.generationTemplates), seed: 0 });
  }
  for (let i = 0; i < neutralSamples; i++) {
    tasks.push({ key: `neutral#${i}`, category: 'neutral', index: i, prompt: neutralPrompt(i, stimuli.neutralPrompts), seed: 0 });
  }
  tasks.forEach((t, k) => { t.seed = params.seed + k; });

  const identity = await modelIdentity(model);
  const checkpoint = await Checkpoint.open(options.checkpointDir, { params, model: identity.sha256 });
  const meter = new ProgressMeter('generation', tasks.length, checkpoint.restored);
  const input = (prompt: string) => (params.chatTemplate ? { messages: [{ role: 'user' as const, content: prompt }] } : prompt);
  // Batch size, context size and batch boundaries come from all tasks, not from what is left, so
  // that a resumed run decodes exactly as the uninterrupted one (pendingBatches).
  const batch = Math.max(1, Math.min(params.batch, tasks.length || 1));
  const batches = pendingBatches(tasks, batch, (t) => checkpoint.has(t.key));
  const longest = Math.max(16, ...tasks.map((t) => (params.chatTemplate ? model.tokenize(model.applyChatTemplate([{ role: 'user', content: t.prompt }]), { parseSpecial: true }) : model.tokenize(t.prompt)).length));
  const ctx = await model.createContext({ sequences: batch, contextSize: batch * (longest + params.maxTokens + 8), threads: options.threads });
  const { nEmbd } = model.info;
  try {
    let done = checkpoint.restored;
    for (const chunk of batches) {
      if (options.signal?.aborted) throw new EmosteerError('ABORTED', `generation extraction stopped after ${done} of ${tasks.length} stories; rerun with the same checkpoint folder to resume`);
      let stepTokens = 0;
      let lastReport = performance.now();
      const results = await ctx.generateBatch(chunk.map((t) => input(t.prompt)), {
        maxTokens: params.maxTokens,
        temperature: params.temperature,
        topP: params.topP,
        repeatPenalty: params.repeatPenalty,
        seeds: chunk.map((t) => t.seed),
        capture: { layers, prompt: 'last' },
        signal: options.signal,
        onToken: () => {
          stepTokens++;
          const now = performance.now();
          if (now - lastReport > 250) {
            lastReport = now;
            const p = meter.update(done, chunk[0]!.category, stepTokens);
            options.onProgress?.(p);
            stepTokens = 0;
          }
        },
      });
      for (let j = 0; j < chunk.length; j++) {
        const t = chunk[j]!;
        const r = results[j]!;
        const acts = r.tokenActivations ?? [];
        let activation: Float32Array;
        let position: number | 'mean';
        if (acts.length === 0) {
          // The model ended at once: fall back to the prompt's last token, and say so.
          activation = stack(layers, (l) => r.promptActivations!.get(l), nEmbd);
          position = -1;
        } else if (params.position === 'mean') {
          activation = new Float32Array(layers.length * nEmbd);
          for (const a of acts) layers.forEach((l, li) => { const row = a.get(l); for (let x = 0; x < nEmbd; x++) activation[li * nEmbd + x]! += row[x]! / acts.length; });
          position = 'mean';
        } else {
          position = params.position === 'last' ? acts.length - 1 : Math.floor(acts.length / 2);
          const a = acts[position]!;
          activation = stack(layers, (l) => a.get(l), nEmbd);
        }
        const info: SampleInfo = { category: t.category, index: t.index, prompt: t.prompt, text: r.text, nTokens: r.tokens.length, position };
        if (checkpoint.has(t.key)) continue; // redone with its batch; the checkpoint already holds it
        await checkpoint.add({ key: t.key, info, activation, tokens: r.tokens.length + r.promptTokens });
        done++;
      }
      const progress = meter.update(done, chunk.at(-1)!.category, stepTokens + chunk.reduce((s, _, j) => s + results[j]!.promptTokens, 0));
      options.onProgress?.(progress);
    }
  } finally {
    await ctx.dispose();
  }
  return buildSet({
    method: 'generation',
    keys: tasks.map((t) => t.key),
    checkpoint,
    meter,
    emotions,
    layers,
    nEmbd: nEmbd,
    baseline: params.baseline,
    identity,
    params,
    stimuliVersion: stimuli.version,
  });
}
