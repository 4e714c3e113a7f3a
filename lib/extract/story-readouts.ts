/**
 * The second half of generation-based extraction: the activations of stories the model wrote
 * (lib/extract/stories.ts), read by one prefill pass over prompt + story at every block and
 * reduced at several positions of the generated span from that same pass:
 *
 * - `middle`: the generated token in the middle of the span (the paper's read-out);
 * - `mean`: the mean over every generated token;
 * - `last`: the last generated token;
 * - `punctuation`: the punctuation token (. ! ? , ; :) nearest the middle (the middle token when
 *   the story has none), which matches the comprehension read-out, whose last token is mostly
 *   a full stop.
 *
 * Position k is the residual stream with generated token k as the input token (row
 * promptTokens + k of the prefill). Reading from a prefill instead of during generation costs
 * one pass and makes the activations a cheap function of the committed texts.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import type { Story } from './stories.js';
import { ReadoutCheckpoint } from './readout-checkpoint.js';

/** The positions of a story's generated span that activations are read at. */
export const STORY_READOUTS = ['middle', 'mean', 'last', 'punctuation'] as const;

/** One of {@link STORY_READOUTS}. */
export type StoryReadout = (typeof STORY_READOUTS)[number];

/** Options of {@link readStoryActivations}. */
export interface StoryReadoutOptions {
  /** Blocks to read, ascending. */
  layers: readonly number[];
  /** Read-outs to compute (default all of {@link STORY_READOUTS}). */
  readouts?: readonly StoryReadout[];
  /** Stories prefilled together (default 4). */
  batch?: number;
  /** CPU threads. */
  threads?: number;
  /** Called after every batch with stories done, total and how many of them came from the checkpoint. */
  onProgress?: (done: number, total: number, restored: number) => void;
  /** Stops between batches. */
  signal?: AbortSignal;
  /**
   * A file (and its `.json` sidecar) that keeps every finished batch, so a read-out stopped part
   * way resumes from its last batch instead of from the first story; deleted when the read-out
   * is done. A checkpoint of other stories, blocks, read-outs or batch size is discarded.
   */
  checkpointFile?: string;
}

/** Where a story is read, for each read-out: token index into the generated span, or 'mean'. */
export interface StoryPositions {
  /** Index of the middle generated token. */
  middle: number;
  /** Index of the last generated token. */
  last: number;
  /** Index of the punctuation token nearest the middle (the middle when there is none). */
  punctuation: number;
}

const PUNCTUATION = /[.!?,;:]\s*$/;

/**
 * The positions of the read-outs in a generated span, given the text piece of every generated
 * token. Ties between two punctuation tokens equally far from the middle go to the earlier.
 */
export function storyPositions(pieces: readonly string[]): StoryPositions {
  const n = pieces.length;
  if (n === 0) throw new EmosteerError('INVALID_ARGUMENT', 'a story with no generated token has no read-out position');
  const middle = Math.floor(n / 2);
  let punctuation = -1;
  for (let d = 0; d < n && punctuation < 0; d++) {
    for (const k of [middle - d, middle + d]) {
      if (k >= 0 && k < n && PUNCTUATION.test(pieces[k]!)) { punctuation = k; break; }
    }
  }
  return { middle, last: n - 1, punctuation: punctuation < 0 ? middle : punctuation };
}

/** What {@link readStoryActivations} reads. */
export interface StoryActivations {
  /** Per read-out, one activation per story (`layers.length x nEmbd`, block-major), in story order. */
  activations: Map<StoryReadout, Float32Array[]>;
  /** Where each story was read (null for a story with no generated token). */
  positions: (StoryPositions | null)[];
}

/**
 * Prefills every story (its recorded prompt tokens, then its generated tokens) and returns, per
 * read-out, one activation per story (`layers.length x nEmbd`, block-major), plus the positions
 * read. A story with no generated token is read at its prompt's last token for every read-out
 * (its position is -1), as the extraction always did.
 */
export async function readStoryActivations(model: Model, stories: readonly Story[], options: StoryReadoutOptions): Promise<StoryActivations> {
  const readouts = [...(options.readouts ?? STORY_READOUTS)];
  for (const r of readouts) if (!(STORY_READOUTS as readonly string[]).includes(r)) throw new EmosteerError('INVALID_ARGUMENT', `unknown read-out '${String(r)}'; expected one of ${STORY_READOUTS.join(', ')}`);
  const layers = [...options.layers];
  const nEmbd = model.info.nEmbd;
  const L = layers.length;
  const out = new Map<StoryReadout, Float32Array[]>(readouts.map((r) => [r, []]));
  const positions: (StoryPositions | null)[] = [];
  const batch = Math.max(1, Math.min(options.batch ?? 4, stories.length || 1));
  const longest = Math.max(16, ...stories.map((s) => s.promptTokens.length + s.tokens.length));
  const checkpoint = options.checkpointFile
    ? await ReadoutCheckpoint.open(options.checkpointFile, { stories, layers, readouts, batch, nEmbd })
    : undefined;
  const first = checkpoint ? checkpoint.restore(out, positions) : 0;
  if (first > 0) options.onProgress?.(first, stories.length, first);
  const ctx = await model.createContext({ sequences: batch, contextSize: batch * (longest + 8), threads: options.threads });
  try {
    for (let start = first; start < stories.length; start += batch) {
      if (options.signal?.aborted) throw new EmosteerError('ABORTED', `reading story activations stopped after ${start} of ${stories.length} stories`);
      const chunk = stories.slice(start, start + batch);
      const res = await ctx.evaluateBatch(chunk.map((s) => Int32Array.from([...s.promptTokens, ...s.tokens])), { capture: { layers, pooling: 'all' }, signal: options.signal });
      for (const [j, story] of chunk.entries()) {
        const acts = res[j]!.activations!;
        const P = story.promptTokens.length;
        const n = story.tokens.length;
        const row = (layer: number, t: number) => acts.get(layer).subarray(t * nEmbd, (t + 1) * nEmbd);
        const at = (t: number) => {
          const a = new Float32Array(L * nEmbd);
          layers.forEach((l, li) => a.set(row(l, t), li * nEmbd));
          return a;
        };
        if (n === 0) {
          positions.push(null);
          for (const r of readouts) out.get(r)!.push(at(P - 1));
          continue;
        }
        const pos = storyPositions(story.tokens.map((t) => new TextDecoder().decode(model.tokenToPiece(t))));
        positions.push(pos);
        for (const r of readouts) {
          if (r !== 'mean') { out.get(r)!.push(at(P + pos[r])); continue; }
          const a = new Float32Array(L * nEmbd);
          layers.forEach((l, li) => {
            const all = acts.get(l);
            for (let t = P; t < P + n; t++) for (let x = 0; x < nEmbd; x++) a[li * nEmbd + x]! += all[t * nEmbd + x]!;
            for (let x = 0; x < nEmbd; x++) a[li * nEmbd + x]! /= n;
          });
          out.get(r)!.push(a);
        }
      }
      await checkpoint?.append(out, positions);
      options.onProgress?.(Math.min(stories.length, start + batch), stories.length, first);
    }
  } finally {
    await ctx.dispose();
  }
  await checkpoint?.remove();
  return { activations: out, positions };
}
