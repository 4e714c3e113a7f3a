/**
 * Quality of models against a reference on the same text, in lockstep: every chunk is decoded
 * by the reference, whose next-token distributions stay in native memory
 * ({@link NextTokenDistributions}), then by each candidate, whose distributions are compared
 * with them position by position in C++ (KL divergence over the whole vocabulary, top-1
 * agreement, delta-p). No logits file is written and no full-vocabulary array crosses into
 * JavaScript. Candidates are other files of the same model (quantizations: {@link compareQuality})
 * or the same model steered ({@link compareSteering}).
 *
 * The text is cut and scored as llama.cpp's `llama-perplexity` does (see {@link chunkTokens}):
 * chunks of `contextSize` tokens, BOS first when the model adds one, only each chunk's second
 * half scored.
 */
import { performance } from 'node:perf_hooks';
import { EmosteerError } from '../errors.js';
import type { Context } from '../runtime/context.js';
import { NextTokenDistributions } from '../runtime/distributions.js';
import type { Model } from '../runtime/model.js';
import type { Steering } from '../runtime/steering.js';
import { chunkTokens, DEFAULT_CORPUS, readDefaultCorpus, textSha256 } from './corpus.js';
import { modelFileFacts, type ModelFileFacts } from './model-file.js';
import { perplexityEstimate, summarizeCandidate, type CandidateSummary, type ComparisonSeries, type Estimate } from './summary.js';

/** How the text is scored; stated in every report. */
export const SCORING_CONVENTION =
  "llama-perplexity's: the text's tokens (BOS added when the model adds one) cut into consecutive chunks of contextSize tokens, " +
  'the first token of each chunk replaced by BOS when the model adds one, and only the second half of each chunk scored ' +
  '(positions contextSize/2 .. contextSize-2 predicting the next token), so every scored token has at least contextSize/2 tokens of context';

/** Options of {@link compareQuality} and {@link compareSteering}. */
export interface QualityOptions {
  /** The text (default: the shipped corpus, {@link DEFAULT_CORPUS}). */
  text?: string;
  /** A name for the text in the report (default: `DEFAULT_CORPUS.name`, or 'custom text'). */
  textName?: string;
  /** Tokens per chunk (default 512, llama-perplexity's default); even, >= 8. */
  contextSize?: number;
  /** Use at most this many chunks (default: all the text gives). */
  chunks?: number;
  /** CPU threads of the contexts (default: `$EMOSTEER_THREADS` or every core). */
  threads?: number;
  /**
   * Measure prompt-processing and generation speed of every model (default true): pp = one
   * chunk decoded in one batch (median of `ppReps`), tg = `tgTokens` greedy tokens after an
   * 8-token prompt.
   */
  speed?: boolean | {
    /** Prompt-processing repetitions whose median is reported (default 3). */
    ppReps?: number;
    /** Greedy tokens generated for the tg figure (default 32). */
    tgTokens?: number;
  };
  /** Bootstrap resamples of the intervals (default 1000). */
  resamples?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Called after every chunk and speed measurement. */
  onProgress?: (p: QualityProgress) => void;
  /** Cancels between and inside chunks. */
  signal?: AbortSignal;
}

/** Options of {@link compareSteering}. */
export interface SteeringQualityOptions extends QualityOptions {
  /** How the steering is described in the report (default 'steered'), e.g. 'calm x 0.05'. */
  label?: string;
}

/** Progress of a comparison. */
export interface QualityProgress {
  /** 'chunks' while the text is scored, 'speed' while speed is measured. */
  phase: 'chunks' | 'speed';
  /** Chunks done (phase 'chunks'). */
  chunk: number;
  /** Chunks in all. */
  chunks: number;
  /** The model measured (phase 'speed'). */
  model?: string;
  /** Seconds since the comparison started. */
  seconds: number;
}

/** Speed of a model on this machine, measured in the same run. */
export interface SpeedFigures {
  /** Prompt processing: tokens/s of one chunk decoded in one batch (median of the repetitions). */
  ppTokensPerSecond: number;
  /** Tokens in that batch. */
  ppTokens: number;
  /** Generation: tokens/s of greedy single-token steps (after an 8-token prompt). */
  tgTokensPerSecond: number;
  /** Tokens generated. */
  tgTokens: number;
}

/** One model (or run) of a quality table. */
export interface ModelQuality {
  /** Its label in the table (a file name, or 'steered'/'unsteered'). */
  label: string;
  /** llama.cpp's name of the file type, e.g. 'Q4_K - Medium'. */
  quantization: string;
  /** What the file holds (size, bits per weight). */
  file: ModelFileFacts;
  /** Speed, when measured. */
  speed?: SpeedFigures;
  /** exp(mean negative log-likelihood of the scored tokens). */
  perplexity: Estimate;
  /** The steering of this run, described, if any. */
  steering?: string;
}

/** A candidate: its own figures and how far it is from the reference. */
export interface CandidateQuality extends ModelQuality, Omit<CandidateSummary, 'perplexity'> {}

/** The result of {@link compareQuality} / {@link compareSteering}. */
export interface QualityReport {
  /** The reference. */
  reference: ModelQuality;
  /** Each candidate, in the order given. */
  candidates: CandidateQuality[];
  /** The text. */
  text: {
    /** Its name. */
    name: string;
    /** Where it comes from and its licence (the default corpus), or null for a custom text. */
    source: string | null;
    /** sha256 of its UTF-8 bytes. */
    sha256: string;
    /** Its tokens under the reference's tokenizer. */
    tokens: number;
  };
  /** Tokens per chunk. */
  contextSize: number;
  /** Chunks scored. */
  chunks: number;
  /** Scored tokens per chunk (contextSize/2 - 1). */
  scoredPerChunk: number;
  /** Scored tokens in all. */
  scoredTokens: number;
  /** How the text was cut and scored ({@link SCORING_CONVENTION}). */
  convention: string;
  /** The intervals: 95% percentile bootstrap over chunks. */
  intervals: {
    /** Confidence level of every interval. */
    level: 0.95;
    /** Bootstrap resamples. */
    resamples: number;
    /** Bootstrap seed. */
    seed: number;
    /** What is resampled: whole chunks of the text. */
    unit: 'chunk';
  };
  /** Wall time in seconds. */
  seconds: number;
}

/** One run of the comparison: a model on a context, steered or not. */
interface Run {
  label: string;
  model: Model;
  ctx: Context;
  steering: Steering | null;
  steeringLabel?: string;
}

/**
 * Checks that two models share a vocabulary: the same size and the same piece for every token.
 * @throws EmosteerError VOCAB_MISMATCH naming the first difference
 */
export function assertSameVocabulary(reference: Model, candidate: Model, labels: [string, string] = ['the reference', 'the candidate']): void {
  const a = reference.info;
  const b = candidate.info;
  if (a.nVocab !== b.nVocab) {
    throw new EmosteerError('VOCAB_MISMATCH', `${labels[1]} has a vocabulary of ${b.nVocab} tokens, ${labels[0]} ${a.nVocab}: next-token distributions can only be compared between models with the same vocabulary (quantizations of one model)`);
  }
  for (let t = 0; t < a.nVocab; t++) {
    const x = reference.tokenToPiece(t, { renderSpecial: true });
    const y = candidate.tokenToPiece(t, { renderSpecial: true });
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) {
      throw new EmosteerError('VOCAB_MISMATCH', `token ${t} is ${JSON.stringify(Buffer.from(x).toString('utf8'))} in ${labels[0]} but ${JSON.stringify(Buffer.from(y).toString('utf8'))} in ${labels[1]}: the vocabularies differ`);
    }
  }
}

function fileLabel(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** pp and tg speed of a context's model (greedy, no steering). */
async function measureSpeed(ctx: Context, chunk: Int32Array, reps: number, tgTokens: number, signal?: AbortSignal): Promise<SpeedFigures> {
  const pp: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await ctx.evaluate(chunk, { signal });
    pp.push(chunk.length / ((performance.now() - t0) / 1000));
  }
  let first = 0;
  let last = 0;
  let n = 0;
  for await (const _ of ctx.generate(chunk.subarray(0, 8), { maxTokens: tgTokens + 1, temperature: 0, stopOnEog: false, signal })) {
    if (n === 0) first = performance.now();
    last = performance.now();
    n++;
  }
  // The first token comes with the prompt's decode: time the n - 1 single-token steps after it.
  return { ppTokensPerSecond: median(pp), ppTokens: chunk.length, tgTokensPerSecond: n > 1 ? (n - 1) / ((last - first) / 1000) : 0, tgTokens: n - 1 };
}

/** The shared engine: runs[0] is the reference. */
async function compareRuns(runs: Run[], text: string, textName: string, options: QualityOptions, measure: boolean): Promise<QualityReport> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const ctxSize = options.contextSize ?? 512;
  const ref = runs[0]!;
  const tokens = ref.model.tokenize(text, { addSpecial: true, parseSpecial: false });
  const bos = ref.model.info.addBos && ref.model.info.bos >= 0 ? ref.model.info.bos : null;
  const { chunks, scoreFrom } = chunkTokens(tokens, ctxSize, bos, options.chunks);
  const scored = ctxSize - scoreFrom;
  const refSeries: Float32Array[] = [];
  const series: ComparisonSeries[] = runs.slice(1).map(() => ({ logProbs: [], referenceLogProbs: [], kld: [], deltaP: [], deltaPTop: [], sameTop: [] }));
  const record = new NextTokenDistributions();
  try {
    for (let c = 0; c < chunks.length; c++) {
      if (options.signal?.aborted) throw new EmosteerError('ABORTED', 'the quality comparison was aborted', { cause: options.signal.reason });
      const prefix = chunks[c]!.subarray(0, scoreFrom);
      const rest = chunks[c]!.subarray(scoreFrom);
      const r = await ref.ctx.logProbs(prefix, rest, { record, steering: ref.steering, signal: options.signal });
      refSeries.push(r.logProbs);
      for (let k = 1; k < runs.length; k++) {
        const run = runs[k]!;
        const x = await run.ctx.logProbs(prefix, rest, { compareTo: record, steering: run.steering, signal: options.signal });
        const s = series[k - 1]!;
        const cmp = x.comparison!;
        s.logProbs.push(x.logProbs);
        s.referenceLogProbs.push(cmp.referenceLogProbs);
        s.kld.push(cmp.kld);
        s.deltaP.push(cmp.deltaP);
        s.deltaPTop.push(cmp.deltaPTop);
        s.sameTop.push(cmp.sameTop);
      }
      options.onProgress?.({ phase: 'chunks', chunk: c + 1, chunks: chunks.length, seconds: seconds() });
    }
  } finally {
    record.dispose();
  }

  const speedOpt = typeof options.speed === 'object' ? options.speed : {};
  const speeds = new Map<Model, SpeedFigures>();
  if (measure && options.speed !== false) {
    for (const run of runs) {
      if (speeds.has(run.model)) continue;
      options.onProgress?.({ phase: 'speed', chunk: chunks.length, chunks: chunks.length, model: run.label, seconds: seconds() });
      speeds.set(run.model, await measureSpeed(run.ctx, chunks[0]!, speedOpt.ppReps ?? 3, speedOpt.tgTokens ?? 32, options.signal));
    }
  }

  const boot = { resamples: options.resamples ?? 1000, seed: options.seed ?? 0 };
  const files = new Map<Model, ModelFileFacts>();
  for (const run of runs) if (!files.has(run.model)) files.set(run.model, await modelFileFacts(run.model.info.path));
  const base = (run: Run): Omit<ModelQuality, 'perplexity'> => ({
    label: run.label,
    quantization: run.model.info.quantization,
    file: files.get(run.model)!,
    ...(speeds.has(run.model) ? { speed: speeds.get(run.model)! } : {}),
    ...(run.steeringLabel !== undefined ? { steering: run.steeringLabel } : {}),
  });
  const isDefault = options.text === undefined;
  return {
    reference: { ...base(ref), perplexity: perplexityEstimate({ logProbs: refSeries }, boot) },
    candidates: runs.slice(1).map((run, k) => ({ ...base(run), ...summarizeCandidate(series[k]!, boot) })),
    text: { name: textName, source: isDefault ? `${DEFAULT_CORPUS.source}; ${DEFAULT_CORPUS.license}` : null, sha256: textSha256(text), tokens: tokens.length },
    contextSize: ctxSize,
    chunks: chunks.length,
    scoredPerChunk: scored,
    scoredTokens: scored * chunks.length,
    convention: SCORING_CONVENTION,
    intervals: { level: 0.95, resamples: boot.resamples, seed: boot.seed, unit: 'chunk' },
    seconds: seconds(),
  };
}

async function resolveText(options: QualityOptions): Promise<[string, string]> {
  if (options.text !== undefined) {
    if (typeof options.text !== 'string' || options.text.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'text must be a non-empty string');
    return [options.text, options.textName ?? 'custom text'];
  }
  return [await readDefaultCorpus(), options.textName ?? DEFAULT_CORPUS.name];
}

function contextOptions(options: QualityOptions): { contextSize: number; batchSize: number; threads?: number } {
  const size = options.contextSize ?? 512;
  return { contextSize: size, batchSize: size, ...(options.threads !== undefined ? { threads: options.threads } : {}) };
}

/**
 * Compares models with a reference on the same text: per model its file size, bits per
 * weight, speed (same run) and perplexity; per candidate the KL divergence of its next-token
 * distributions from the reference's (mean, median, p99, p99.9, max), the perplexity ratio,
 * the RMS of delta-p and the share of tokens whose most probable next token is the
 * reference's, each with a 95% bootstrap interval over chunks. Runs the reference and every
 * candidate in lockstep, chunk by chunk, on one context each, and reduces per token in native
 * code (see the module comment). Candidates must share the reference's vocabulary (quantizations
 * of one model).
 *
 * With a 4-bit reference (the registry's files), the table measures the loss *below* that
 * precision; give an F16/BF16 file as the reference to measure the real loss of quantizing.
 *
 * @example
 * ```ts
 * const ref = await loadModel('gemma-3-270m-f16.gguf');
 * const q4 = await loadModel('gemma-3-270m-q4_0.gguf');
 * const report = await compareQuality(ref, [q4], { contextSize: 512 });
 * console.log(report.candidates[0].kld.mean.value, report.candidates[0].sameTopPercent.value);
 * ```
 * @throws EmosteerError VOCAB_MISMATCH, INVALID_ARGUMENT (text shorter than one chunk, bad options), ABORTED, and what decoding throws
 */
export async function compareQuality(reference: Model, candidates: readonly Model[], options: QualityOptions = {}): Promise<QualityReport> {
  if (!Array.isArray(candidates) || candidates.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'compareQuality needs at least one candidate model');
  const labels = [reference, ...candidates].map((m) => fileLabel(m.info.path));
  candidates.forEach((m, i) => assertSameVocabulary(reference, m, [labels[0]!, labels[i + 1]!]));
  const [text, textName] = await resolveText(options);
  const opts = contextOptions(options);
  const contexts = new Map<Model, Context>();
  try {
    for (const m of [reference, ...candidates]) if (!contexts.has(m)) contexts.set(m, await m.createContext(opts));
    const runs: Run[] = [reference, ...candidates].map((m, i) => ({ label: labels[i]!, model: m, ctx: contexts.get(m)!, steering: null }));
    return await compareRuns(runs, text, textName, options, true);
  } finally {
    for (const c of contexts.values()) await c.dispose();
  }
}

/**
 * Steering damage on neutral text: the same model steered against unsteered, by the same
 * measures as {@link compareQuality} (KL divergence of the steered next-token distributions
 * from the unsteered ones, top-1 agreement, perplexity ratio). Every token of the text is
 * steered (the steering's `positions` apply as in {@link Context.logProbs}: all tokens count as
 * prompt). The number a user needs to choose a strength: how much a steering changes the
 * model's predictions of ordinary text.
 *
 * @throws EmosteerError steering errors, INVALID_ARGUMENT, ABORTED
 */
export async function compareSteering(model: Model, steering: Steering, options: SteeringQualityOptions = {}): Promise<QualityReport> {
  if (steering === null || typeof steering !== 'object') throw new EmosteerError('INVALID_ARGUMENT', 'compareSteering needs a steering');
  return compareSteerings(model, [{ steering, label: options.label ?? 'steered' }], options);
}

/**
 * Several steerings of one model against it unsteered, on one context and one pass of the
 * unsteered reference per chunk: one candidate per steering, in the order given (what
 * `emosteer calibrate` measures a grid of strengths with). Otherwise as {@link compareSteering}.
 *
 * @throws EmosteerError steering errors, INVALID_ARGUMENT, ABORTED
 */
export async function compareSteerings(model: Model, steerings: readonly { steering: Steering; label: string }[], options: QualityOptions = {}): Promise<QualityReport> {
  if (!Array.isArray(steerings) || steerings.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'compareSteerings needs at least one steering');
  for (const s of steerings) if (s?.steering === null || typeof s?.steering !== 'object') throw new EmosteerError('INVALID_ARGUMENT', 'every entry needs a steering');
  const [text, textName] = await resolveText(options);
  const ctx = await model.createContext(contextOptions(options));
  try {
    const name = fileLabel(model.info.path);
    const runs: Run[] = [
      { label: `${name} unsteered`, model, ctx, steering: null },
      ...steerings.map((s) => ({ label: `${name} ${s.label}`, model, ctx, steering: s.steering, steeringLabel: s.label })),
    ];
    return await compareRuns(runs, text, textName, { ...options, speed: false }, false);
  } finally {
    await ctx.dispose();
  }
}
