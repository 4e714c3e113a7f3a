/**
 * Next-token distributions compared where they are computed. A {@link NextTokenDistributions}
 * holds, natively, a reference's log-softmax over the whole vocabulary at every scored position
 * of one {@link Context.logProbs} call (`record`); a later `logProbs` call of another context or
 * model on the same tokens (`compareTo`) compares its own distributions with them position by
 * position in C++, and only per-position numbers (KL divergence, top-1 agreement, delta-p)
 * come back to JavaScript. For Gemma 3 (262,144 tokens) that is 1 MiB of logits per position
 * that never crosses into JS. lib/quality builds perplexity / KL tables on it.
 */
import { EmosteerError } from '../errors.js';
import { addon, type NativeComparison, type NativeDistributions } from './native.js';

/**
 * Per scored position, how a distribution differs from a recorded reference's (see
 * {@link NextTokenDistributions}). Index j is the position that predicts continuation token j.
 */
export interface DistributionComparison {
  /** KL(reference || this) over the full vocabulary, in nats (0 where the rows are equal). */
  kld: Float32Array;
  /** The reference's log-probability of the continuation token. */
  referenceLogProbs: Float32Array;
  /**
   * p(token) - p_reference(token) of the continuation token: llama.cpp's `llama-perplexity`
   * "delta-p".
   */
  deltaP: Float32Array;
  /** p(t) - p_reference(t) of the reference's most probable token t. */
  deltaPTop: Float32Array;
  /** 1 where this distribution's most probable token is the reference's, else 0. */
  sameTop: Uint8Array;
}

/**
 * A reference's next-token distributions over one call's scored positions, kept in native
 * memory (positions x vocabulary floats: 255 x 262,144 x 4 bytes = 255 MiB for a Gemma chunk of
 * 512; reused by the next `record`). Pass it as `record` to one {@link Context.logProbs} call
 * and as `compareTo` to others on the same tokens, on models with the same vocabulary.
 *
 * @example
 * ```ts
 * const ref = new NextTokenDistributions();
 * await refCtx.logProbs(prefix, rest, { record: ref });
 * const { comparison } = await candCtx.logProbs(prefix, rest, { compareTo: ref });
 * // comparison.kld[j]: KL(reference || candidate) at the position predicting rest[j]
 * ref.dispose();
 * ```
 */
export class NextTokenDistributions {
  constructor() {
    handles.set(this, new (addon().NativeDistributions)());
  }

  /** True once disposed. */
  get disposed(): boolean { return !handles.has(this); }

  /** Frees the native memory (a call still using it keeps it until it ends). */
  dispose(): void {
    handles.get(this)?.release();
    handles.delete(this);
  }

  /** `using d = new NextTokenDistributions()` support. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** The native handle of each live {@link NextTokenDistributions} (kept off the public class). */
const handles = new WeakMap<NextTokenDistributions, NativeDistributions>();

/**
 * The native handle a step item carries. @internal
 * @throws EmosteerError DISPOSED
 */
export function nativeDistributions(d: NextTokenDistributions): NativeDistributions {
  const h = handles.get(d);
  if (!h) throw new EmosteerError('DISPOSED', 'these next-token distributions were disposed; create new ones');
  return h;
}

/** The public shape of a native comparison. @internal */
export function toComparison(c: NativeComparison): DistributionComparison {
  return { kld: c.kld, referenceLogProbs: c.referenceLogProbs, deltaP: c.deltaP, deltaPTop: c.deltaPTop, sameTop: c.sameTop };
}
