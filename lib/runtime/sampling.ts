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
}

/**
 * Checks that every sampling option given is a finite number (NaN and Infinity would reach
 * llama.cpp's sampler chain unchecked); ranges are checked by the native sampler.
 * @throws EmosteerError INVALID_ARGUMENT
 */
export function checkSampling(options: SamplingOptions): void {
  for (const key of ['temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'repeatLastN', 'frequencyPenalty', 'presencePenalty', 'seed'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw new EmosteerError('INVALID_ARGUMENT', `sampling option ${key} must be a finite number (got ${String(v)})`);
    }
  }
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
});

/**
 * The native sampler chain of one generated sequence: `options` over {@link DEFAULT_SAMPLING},
 * with `fallbackSeed` (the context's seed) when no seed is given. @internal
 * @throws EmosteerError INVALID_ARGUMENT (a non-finite option; ranges are checked natively)
 */
export function createSampler(model: Model, options: SamplingOptions, fallbackSeed: number): NativeSampler {
  checkSampling(options);
  const given = Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k in DEFAULT_SAMPLING)) as Partial<SamplingOptions>;
  const sampling = { ...DEFAULT_SAMPLING, ...given };
  try {
    return new (addon().NativeSampler)(model.checkNative(), { ...sampling, seed: options.seed ?? fallbackSeed });
  } catch (err) {
    throw fromNativeError(err);
  }
}
