/**
 * The first half of generation-based extraction: the model writes the stories. A story keeps
 * its text, the token ids of its prompt (as the context tokenized it) and of what the model
 * generated, so that activations can be read from it later by one prefill pass
 * (lib/extract/story-readouts.ts) at any position, without generating again.
 *
 * Stories are the expensive part of the protocol (minutes to hours on a CPU) and they are text:
 * they are written to a JSONL file as they finish, one line per story after a header that
 * names the model file (sha256) and every parameter. Reopening the file with another model or
 * other parameters is refused with `STATE_MISMATCH` instead of mixing two runs; a line cut by
 * an interruption is simply generated again.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import { defaultStimuli, generationPrompt, neutralPrompt, type StimulusSet } from '../stimuli/index.js';
import { pendingBatches } from '../util/batches.js';
import { fileSha256 } from '../util/file-identity.js';
import { ProgressMeter, type ExtractionProgress } from './common.js';

/** One story the model wrote. */
export interface Story {
  /** `<category>#<index>`, unique in a run. */
  key: string;
  /** Emotion name or 'neutral'. */
  category: string;
  /** Index within its category: story i of every emotion comes from template i. */
  index: number;
  /** The prompt as written (before the chat template). */
  prompt: string;
  /** Sampling seed of the story (only matters when temperature > 0). */
  seed: number;
  /** Token ids of the prompt as the context decoded them (chat template and BOS included). */
  promptTokens: number[];
  /** Token ids the model generated (the end-of-generation token excluded). */
  tokens: number[];
  /** The generated text. */
  text: string;
}

/** The parameters that make a set of stories; every one is recorded in the file's header. */
export interface StoryParams {
  /** Emotions with stories. */
  emotions: string[];
  /** Stories per emotion. */
  samples: number;
  /** Neutral stories. */
  neutralSamples: number;
  /** Most new tokens per story. */
  maxTokens: number;
  /** Prompts formatted with the chat template. */
  chatTemplate: boolean;
  /** 0 = greedy. */
  temperature: number;
  /** Base seed; story k uses seed + k. */
  seed: number;
  /** Nucleus sampling threshold. */
  topP: number;
  /** Repetition penalty. */
  repeatPenalty: number;
  /** Stories decoded together. */
  batch: number;
  /** Version of the stimuli the prompts come from. */
  stimuliVersion: string;
}

/** Options of {@link generateStories}. */
export interface StoryOptions {
  /** Emotions (default: those of the stimuli, the paper's 20). */
  emotions?: readonly string[];
  /** Stories per emotion (default 10). */
  samples?: number;
  /** Neutral stories (default = samples). */
  neutralSamples?: number;
  /** Most new tokens per story (default 256). */
  maxTokens?: number;
  /** Format prompts with the chat template (default true). */
  chatTemplate?: boolean;
  /** 0 = greedy (default); otherwise the sampling temperature. */
  temperature?: number;
  /** Base seed; story k uses seed + k (default 0). */
  seed?: number;
  /** Nucleus sampling threshold (default 1 = off). */
  topP?: number;
  /** Repetition penalty (default 1 = off). */
  repeatPenalty?: number;
  /** Stories decoded together (default 4). */
  batch?: number;
  /** CPU threads. */
  threads?: number;
  /** Stimuli (default: emosteer's English set). */
  stimuli?: StimulusSet;
  /** JSONL file the stories are appended to as they finish, and resumed from. */
  file?: string;
  /** Progress after every batch (and during long batches). */
  onProgress?: (p: ExtractionProgress) => void;
  /** Stops cleanly between batches (finished stories stay in the file). */
  signal?: AbortSignal;
}

/** What {@link generateStories} returns. */
export interface StoryRun {
  /** The parameters, as recorded in the file's header. */
  params: StoryParams;
  /** sha256 of the model file that wrote them. */
  modelSha256: string;
  /** Every story, in task order (emotions in order, then neutral). */
  stories: Story[];
  /** Stories restored from the file rather than generated in this call. */
  restored: number;
  /** Seconds and tokens of this call's generation. */
  timings: {
    /** Wall seconds of this call. */
    seconds: number;
    /** Tokens decoded in this call (prompts and stories). */
    tokens: number;
  };
}

/** Resolves the options into the recorded parameters (and checks them). */
export function storyParams(options: StoryOptions, stimuli: StimulusSet): StoryParams {
  const samples = options.samples ?? 10;
  const params: StoryParams = {
    emotions: [...(options.emotions ?? stimuli.emotions)],
    samples,
    neutralSamples: options.neutralSamples ?? samples,
    maxTokens: options.maxTokens ?? 256,
    chatTemplate: options.chatTemplate ?? true,
    temperature: options.temperature ?? 0,
    seed: options.seed ?? 0,
    topP: options.topP ?? 1,
    repeatPenalty: options.repeatPenalty ?? 1,
    batch: options.batch ?? 4,
    stimuliVersion: stimuli.version,
  };
  for (const k of ['samples', 'neutralSamples', 'maxTokens', 'batch'] as const) {
    if (!Number.isInteger(params[k]) || params[k] < 1) throw new EmosteerError('INVALID_ARGUMENT', `${k} must be a positive integer, got ${String(params[k])}`);
  }
  if (stimuli.generationTemplates.length === 0 || stimuli.neutralPrompts.length === 0) {
    throw new EmosteerError('INVALID_ARGUMENT', 'generation extraction needs generation templates and neutral prompts');
  }
  // Under greedy decoding a prompt that comes back gives the same story token for token: it
  // costs a generation and counts one story twice in every statistic.
  if (params.temperature === 0) {
    const short = [
      params.samples > stimuli.generationTemplates.length ? `${params.samples} stories per emotion but ${stimuli.generationTemplates.length} templates` : '',
      params.neutralSamples > stimuli.neutralPrompts.length ? `${params.neutralSamples} neutral stories but ${stimuli.neutralPrompts.length} neutral prompts` : '',
    ].filter(Boolean);
    if (short.length > 0) {
      throw new EmosteerError('INVALID_ARGUMENT', `greedy decoding would repeat stories (${short.join('; ')}): ask for fewer samples, give more templates/prompts, or sample with temperature > 0 (each story then gets its own seed)`);
    }
  }
  return params;
}

interface StoryTask {
  key: string;
  category: string;
  index: number;
  prompt: string;
  seed: number;
}

function storyTasks(params: StoryParams, stimuli: StimulusSet): StoryTask[] {
  const tasks: StoryTask[] = [];
  for (const e of params.emotions) {
    for (let i = 0; i < params.samples; i++) tasks.push({ key: `${e}#${i}`, category: e, index: i, prompt: generationPrompt(e, i, stimuli.generationTemplates), seed: 0 });
  }
  for (let i = 0; i < params.neutralSamples; i++) tasks.push({ key: `neutral#${i}`, category: 'neutral', index: i, prompt: neutralPrompt(i, stimuli.neutralPrompts), seed: 0 });
  tasks.forEach((t, k) => { t.seed = params.seed + k; });
  return tasks;
}

/** The header line of a stories file. */
export interface StoriesHeader {
  /** Always 'emosteer-stories'. */
  format: 'emosteer-stories';
  /** Format version. */
  version: 1;
  /** sha256 of the model file that wrote the stories. */
  model: string;
  /** Every parameter of the stories. */
  params: StoryParams;
}

/** What {@link readStories} reads. */
export interface StoriesFile {
  /** The header. */
  header: StoriesHeader;
  /** The stories, by key. */
  stories: Map<string, Story>;
}

/** Reads a stories file: its header and the stories it holds (a cut last line is left out). */
export async function readStories(file: string): Promise<StoriesFile> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  let header: StoriesHeader;
  try {
    header = JSON.parse(lines[0] ?? '') as StoriesHeader;
  } catch {
    throw new EmosteerError('INVALID_ARGUMENT', `${file} does not start with a stories header`);
  }
  if (header?.format !== 'emosteer-stories') throw new EmosteerError('INVALID_ARGUMENT', `${file} is not an emosteer stories file`);
  const stories = new Map<string, Story>();
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    let s: Story;
    try { s = JSON.parse(line) as Story; } catch { continue; }
    if (typeof s?.key === 'string' && Array.isArray(s.tokens)) stories.set(s.key, s);
  }
  return { header, stories };
}

/**
 * Has the model write stories for every emotion (and neutral) from the stimuli's templates,
 * several at a time, appending each to `options.file` as it finishes; a rerun with the same
 * file resumes, decoding every remaining story in the same batch as an uninterrupted run would.
 *
 * @throws EmosteerError `STATE_MISMATCH` when `file` holds stories of another model file or
 *   other parameters; `ABORTED` when `signal` fires (finished stories stay in the file)
 *
 * @example
 * ```ts
 * import { loadModel } from 'emosteer';
 * import { generateStories } from 'emosteer/protocol';
 * const model = await loadModel('smollm2-135m-instruct-q4_1.gguf');
 * const run = await generateStories(model, { emotions: ['calm', 'afraid'], samples: 2, maxTokens: 64, file: 'results/x/stories.jsonl' });
 * console.log(run.stories[0]!.text);
 * ```
 */
export async function generateStories(model: Model, options: StoryOptions = {}): Promise<StoryRun> {
  const stimuli = options.stimuli ?? defaultStimuli();
  const params = storyParams(options, stimuli);
  const tasks = storyTasks(params, stimuli);
  const modelSha256 = await fileSha256(model.info.path);
  const header: StoriesHeader = { format: 'emosteer-stories', version: 1, model: modelSha256, params };
  const done = new Map<string, Story>();
  const file = options.file;
  if (file && existsSync(file)) {
    const old = await readStories(file);
    if (old.header.model !== modelSha256) {
      throw new EmosteerError('STATE_MISMATCH', `${file} holds stories written by another model file (sha256 ${old.header.model.slice(0, 12)}..., this one is ${modelSha256.slice(0, 12)}...); use another folder, or delete the file to start over`);
    }
    if (JSON.stringify(old.header.params) !== JSON.stringify(params)) {
      const diff = (Object.keys(params) as (keyof StoryParams)[]).filter((k) => JSON.stringify(old.header.params[k]) !== JSON.stringify(params[k]));
      throw new EmosteerError('STATE_MISMATCH', `${file} holds stories made with other parameters (${diff.join(', ') || 'header'} differ); use another folder, or delete the file to start over`);
    }
    for (const [k, s] of old.stories) if (tasks.some((t) => t.key === k)) done.set(k, s);
    // Rewrite without a cut last line, so appends stay one story per line.
    await writeFile(file, `${[JSON.stringify(header), ...tasks.filter((t) => done.has(t.key)).map((t) => JSON.stringify(done.get(t.key)))].join('\n')}\n`);
  } else if (file) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(header)}\n`);
  }
  const restored = done.size;
  const meter = new ProgressMeter('generation', tasks.length, restored);
  const input = (prompt: string) => (params.chatTemplate ? { messages: [{ role: 'user' as const, content: prompt }] } : prompt);
  // Width, context size and batch boundaries come from all tasks, not from what is left, so a
  // resumed run decodes exactly as an uninterrupted one (pendingBatches).
  const batch = Math.max(1, Math.min(params.batch, tasks.length));
  const batches = pendingBatches(tasks, batch, (t) => done.has(t.key));
  const t0 = performance.now();
  let tokens = 0;
  if (batches.length > 0) {
    const longest = Math.max(16, ...tasks.map((t) => (params.chatTemplate ? model.tokenize(model.applyChatTemplate([{ role: 'user', content: t.prompt }]), { parseSpecial: true }) : model.tokenize(t.prompt)).length));
    const ctx = await model.createContext({ sequences: batch, contextSize: batch * (longest + params.maxTokens + 8), threads: options.threads });
    try {
      let count = restored;
      for (const chunk of batches) {
        if (options.signal?.aborted) throw new EmosteerError('ABORTED', `story generation stopped after ${count} of ${tasks.length} stories; rerun with the same file to resume`);
        let stepTokens = 0;
        let lastReport = performance.now();
        const results = await ctx.generateBatch(chunk.map((t) => input(t.prompt)), {
          maxTokens: params.maxTokens,
          temperature: params.temperature,
          topP: params.topP,
          repeatPenalty: params.repeatPenalty,
          seeds: chunk.map((t) => t.seed),
          signal: options.signal,
          onToken: () => {
            stepTokens++;
            const now = performance.now();
            if (now - lastReport > 250) {
              lastReport = now;
              options.onProgress?.(meter.update(count, chunk[0]!.category, stepTokens));
              stepTokens = 0;
            }
          },
        });
        for (const [j, t] of chunk.entries()) {
          const r = results[j]!;
          tokens += r.tokens.length + r.promptTokens;
          if (done.has(t.key)) continue; // redone with its batch; the file already holds it
          const story: Story = { key: t.key, category: t.category, index: t.index, prompt: t.prompt, seed: t.seed, promptTokens: Array.from(ctx.tokenizePrompt(input(t.prompt))), tokens: Array.from(r.tokens), text: r.text };
          if (story.promptTokens.length !== r.promptTokens) {
            throw new EmosteerError('INTERNAL_ERROR', `the prompt of ${t.key} tokenized to ${story.promptTokens.length} tokens but generation decoded ${r.promptTokens}`);
          }
          done.set(t.key, story);
          if (file) await appendFile(file, `${JSON.stringify(story)}\n`);
          count++;
        }
        options.onProgress?.(meter.update(count, chunk.at(-1)!.category, stepTokens + chunk.reduce((s, _, j) => s + results[j]!.promptTokens, 0)));
      }
    } finally {
      await ctx.dispose();
    }
  }
  return { params, modelSha256, stories: tasks.map((t) => done.get(t.key)!), restored, timings: { seconds: (performance.now() - t0) / 1000, tokens } };
}
