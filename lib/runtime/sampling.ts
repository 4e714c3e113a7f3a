import { EmosteerError, fromNativeError } from '../errors.js';
import type { Model } from './model.js';
import { addon, type NativeSampler } from './native.js';

/** Sampling options shared by every generation call. */
export interface SamplingOptions {
  /** 0 (default) = greedy; otherwise softmax temperature. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = off, default). */
  topK?: number;
  /** Nucleus sampling threshold (1 = off, default). */
  topP?: number;
  /** Drop tokens below minP x p(best) (0 = off, default). */
  minP?: number;
  /** Repetition penalty (1 = off, default). */
  repeatPenalty?: number;
  /** Tokens the repetition penalty looks back over (default 64). */
  repeatLastN?: number;
  /** OpenAI-style frequency penalty (default 0). */
  frequencyPenalty?: number;
  /** OpenAI-style presence penalty (default 0). */
  presencePenalty?: number;
  /** Seed of the random draw (default 0): the same seed gives the same text. */
  seed?: number;
  /**
   * DRY ("don't repeat yourself") repetition penalty: a token that would extend a sequence
   * already seen in the context past `dryAllowedLength` tokens has its logit lowered by
   * `dryMultiplier * dryBase^(length - dryAllowedLength)` (llama.cpp's `llama_sampler_init_dry`).
   * 0 (default) = off; 0.8 is a usual value.
   */
  dryMultiplier?: number;
  /** Growth of the DRY penalty with the repeated length (default 1.75; >= 1). */
  dryBase?: number;
  /** Repeated sequences up to this many tokens go unpenalised by DRY (default 2). */
  dryAllowedLength?: number;
  /**
   * Tokens DRY looks back over, prompt included (default -1 = the whole context; 0 = DRY off).
   * Values above the context size mean the whole context.
   */
  dryPenaltyLastN?: number;
  /**
   * Strings that end a repeated sequence for DRY: a match never reaches across them (default
   * `['\n', ':', '"', '*']`; each 1..40 bytes, at most 64; `[]` = none).
   */
  drySequenceBreakers?: readonly string[];
  /**
   * A GBNF grammar (llama.cpp's format, start rule `root`) the generated text must follow;
   * '' (default) = none. Every sampled token keeps the text a prefix of the grammar's language,
   * and end-of-generation is allowed only once the text is complete (a finished grammar allows
   * only end-of-generation). The grammar applies to the generated text only, never to the
   * prompt. `logProbs` stay those of the model's own distribution, before the grammar. A
   * grammar that does not parse throws INVALID_ARGUMENT; one that admits no token of the
   * vocabulary at some point ends that generation with INVALID_ARGUMENT. See
   * {@link jsonSchemaToGrammar} for JSON output.
   */
  grammar?: string;
}

/** The numeric options of {@link SamplingOptions}. */
const NUMERIC_KEYS = ['temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'repeatLastN', 'frequencyPenalty', 'presencePenalty', 'seed', 'dryMultiplier', 'dryBase', 'dryAllowedLength', 'dryPenaltyLastN'] as const;

/**
 * Checks that every numeric sampling option given is a finite number (NaN and Infinity would
 * reach llama.cpp's sampler chain unchecked), the DRY options' ranges, and the types of
 * `drySequenceBreakers` and `grammar`; the other ranges are checked by the native sampler.
 * @throws EmosteerError INVALID_ARGUMENT
 */
export function checkSampling(options: SamplingOptions): void {
  for (const key of NUMERIC_KEYS) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw new EmosteerError('INVALID_ARGUMENT', `sampling option ${key} must be a finite number (got ${String(v)})`, { field: key });
    }
  }
  const bad = (field: string, message: string) => new EmosteerError('INVALID_ARGUMENT', message, { field });
  if (options.dryMultiplier !== undefined && options.dryMultiplier < 0) throw bad('dryMultiplier', `dryMultiplier must be >= 0 (0 = DRY off; got ${options.dryMultiplier})`);
  if (options.dryBase !== undefined && options.dryBase < 1) throw bad('dryBase', `dryBase must be >= 1 (got ${options.dryBase})`);
  const allowed = options.dryAllowedLength;
  if (allowed !== undefined && (!Number.isInteger(allowed) || allowed < 0 || allowed > 1_000_000)) throw bad('dryAllowedLength', `dryAllowedLength must be an integer in 0..1000000 (got ${allowed})`);
  const lastN = options.dryPenaltyLastN;
  if (lastN !== undefined && (!Number.isInteger(lastN) || lastN < -1)) throw bad('dryPenaltyLastN', `dryPenaltyLastN must be an integer >= -1 (-1 = the whole context, 0 = DRY off; got ${lastN})`);
  const breakers = options.drySequenceBreakers;
  if (breakers !== undefined) {
    if (!Array.isArray(breakers)) throw bad('drySequenceBreakers', 'drySequenceBreakers must be an array of strings');
    if (breakers.length > 64) throw bad('drySequenceBreakers', `drySequenceBreakers takes at most 64 strings (got ${breakers.length})`);
    breakers.forEach((b: unknown, i) => {
      if (typeof b !== 'string' || b.length === 0 || Buffer.byteLength(b) > 40 || b.includes('\0')) {
        throw bad(`drySequenceBreakers[${i}]`, `drySequenceBreakers[${i}] must be a string of 1..40 bytes of UTF-8 without NUL (got ${JSON.stringify(b)})`);
      }
    });
  }
  const grammar = options.grammar;
  if (grammar !== undefined && (typeof grammar !== 'string' || grammar.includes('\0'))) throw bad('grammar', 'grammar must be a GBNF string without NUL characters');
}

/** The defaults of {@link SamplingOptions}, resolved. */
export const DEFAULT_SAMPLING: Required<SamplingOptions> = Object.freeze({
  temperature: 0,
  topK: 0,
  topP: 1,
  minP: 0,
  repeatPenalty: 1,
  repeatLastN: 64,
  frequencyPenalty: 0,
  presencePenalty: 0,
  seed: 0,
  dryMultiplier: 0,
  dryBase: 1.75,
  dryAllowedLength: 2,
  dryPenaltyLastN: -1,
  drySequenceBreakers: Object.freeze(['\n', ':', '"', '*']),
  grammar: '',
});

/**
 * The native sampler of one generated sequence: `options` over {@link DEFAULT_SAMPLING}, with
 * `fallbackSeed` (the context's seed) when no seed is given, and `dryPenaltyLastN` -1 (or more
 * than `contextSize`) resolved to `contextSize` (a sequence never holds more tokens). @internal
 * @throws EmosteerError INVALID_ARGUMENT (an option out of range, a grammar that does not parse)
 */
export function createSampler(model: Model, options: SamplingOptions, fallbackSeed: number, contextSize: number): NativeSampler {
  checkSampling(options);
  const given = Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k in DEFAULT_SAMPLING)) as Partial<SamplingOptions>;
  const sampling = { ...DEFAULT_SAMPLING, ...given };
  const lastN = sampling.dryPenaltyLastN === -1 ? contextSize : Math.min(sampling.dryPenaltyLastN, contextSize);
  try {
    return new (addon().NativeSampler)(model.checkNative(), { ...sampling, dryPenaltyLastN: lastN, seed: options.seed ?? fallbackSeed });
  } catch (err) {
    const e = fromNativeError(err);
    if (e instanceof EmosteerError && e.code === 'INVALID_ARGUMENT' && e.field === undefined && /grammar/.test(e.message)) {
      throw new EmosteerError('INVALID_ARGUMENT', e.message, { cause: err, field: 'grammar' });
    }
    throw e;
  }
}
