/**
 * Generation-based extraction: the model *writes* stories about a character feeling an
 * emotion (lib/extract/stories.ts); one prefill pass over each story then reads the residual
 * stream at every block (lib/extract/story-readouts.ts) at the middle generated token (the
 * paper's read-out), the mean over the generated span, the last token or the punctuation token
 * nearest the middle. Defaults follow the paper: chat template on, greedy decoding, 256 new
 * tokens, 10 stories per emotion (each from its own template: the paper's five kinds in two
 * wordings, so no greedy story is a copy of another), 10 neutral everyday stories,
 * vector = emotion mean - neutral mean. Several stories are generated together in one batch.
 */
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import type { Baseline, EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { buildSet, modelIdentity, ProgressMeter, resolveLayers, type CommonExtractionOptions, type ExtractionProgress } from './common.js';
import { generateStories, type StoryOptions, type StoryRun } from './stories.js';
import { readStoryActivations, STORY_READOUTS, type StoryReadout } from './story-readouts.js';
import { defaultStimuli } from '../stimuli/index.js';

/** The file of a generation run's stories inside its checkpoint folder. */
export const STORIES_FILE = 'stories.jsonl';

/** The read-out prefill's checkpoint inside a generation run's checkpoint folder (removed when it finishes). */
export const READOUT_CHECKPOINT_FILE = 'readouts.partial';

/**
 * Options of {@link extractGeneration}; every one is recorded in the set. The story options are
 * those of {@link generateStories} (samples, tokens, decoding, stimuli).
 */
export interface GenerationOptions extends CommonExtractionOptions, Pick<StoryOptions, 'samples' | 'neutralSamples' | 'maxTokens' | 'chatTemplate' | 'temperature' | 'seed' | 'topP' | 'repeatPenalty' | 'stimuli'> {
  /** Which generated token to read (default 'middle', the paper's); see {@link STORY_READOUTS}. */
  position?: StoryReadout;
  /** Baseline subtracted from each emotion mean (default 'neutral'). */
  baseline?: Baseline;
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
  const position = options.position ?? 'middle';
  return (await extractGenerationReadouts(model, { ...options, readouts: [position] })).get(position)!;
}

/**
 * Generation-based extraction read at several positions of each story from the same prefill
 * pass: one set per read-out. With `checkpointDir`, the stories are kept in
 * `<checkpointDir>/stories.jsonl` (see {@link generateStories}) and a rerun resumes from them;
 * the read-out prefill keeps `<checkpointDir>/readouts.partial` while it runs, so a stop inside
 * it resumes from its last batch.
 */
export async function extractGenerationReadouts(model: Model, options: Omit<GenerationOptions, 'position'> & { readouts?: readonly StoryReadout[] } = {}): Promise<Map<StoryReadout, EmotionVectorSet>> {
  const stimuli = options.stimuli ?? defaultStimuli();
  const readouts = [...new Set(options.readouts ?? STORY_READOUTS)];
  if (readouts.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'at least one read-out is needed');
  const layers = resolveLayers(model, options.layers);
  const run: StoryRun = await generateStories(model, {
    ...options,
    stimuli,
    file: options.checkpointDir ? join(options.checkpointDir, STORIES_FILE) : undefined,
    onProgress: options.onProgress ? (p) => options.onProgress!({ ...p, phase: 'stories' }) : undefined,
  });
  const baseline: Baseline = options.baseline ?? 'neutral';
  const read = await readStoryActivations(model, run.stories, { layers, readouts, batch: run.params.batch, threads: options.threads, signal: options.signal,
    onProgress: options.onProgress ? readoutProgress(run, options.onProgress) : undefined,
    checkpointFile: options.checkpointDir ? join(options.checkpointDir, READOUT_CHECKPOINT_FILE) : undefined,
  });
  const identity = await modelIdentity(model);
  const sets = new Map<StoryReadout, EmotionVectorSet>();
  for (const ro of readouts) {
    const acts = read.activations.get(ro)!;
    sets.set(ro, buildSet({
      method: 'generation',
      samples: run.stories.map((s, k) => {
        const pos = read.positions[k];
        return {
          info: { category: s.category, index: s.index, prompt: s.prompt, text: s.text, nTokens: s.tokens.length, position: pos === null ? -1 : ro === 'mean' ? 'mean' : pos[ro] },
          activation: acts[k]!,
        };
      }),
      timings: run.timings,
      emotions: run.params.emotions,
      layers,
      nEmbd: model.info.nEmbd,
      baseline,
      identity,
      params: { method: 'generation', ...run.params, position: ro, readFrom: 'prefill', baseline, layers },
      stimuliVersion: stimuli.version,
    }));
  }
  return sets;
}

/** Reports the read-out prefill's batches as extraction progress (tokens = prompt + story tokens prefilled). */
function readoutProgress(run: StoryRun, report: (p: ExtractionProgress) => void): (done: number, total: number, restored: number) => void {
  let meter: ProgressMeter | undefined;
  let last = 0;
  return (done, total, restored) => {
    meter ??= new ProgressMeter('generation', total, restored);
    const fresh = run.stories.slice(Math.max(last, restored), done);
    last = done;
    const tokens = fresh.reduce((s, st) => s + st.promptTokens.length + st.tokens.length, 0);
    report({ ...meter.update(done, run.stories[done - 1]?.category ?? '', tokens), phase: 'read-out' });
  };
}
