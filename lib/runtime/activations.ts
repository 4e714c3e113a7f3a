/**
 * Activations: residual-stream vectors captured from a set of blocks, in emosteer's block
 * numbering (block i = llama.cpp's `l_out-i`, the output of transformer block i; Hugging
 * Face's `hidden_states[i + 1]` for every block but the last, whose Hugging Face hidden state is
 * taken after the final norm while `l_out` is before it).
 */
import { EmosteerError } from '../errors.js';

/** How the captured rows of a prompt are reduced. */
export type Pooling =
  /** every token: `rows` = number of tokens */
  | 'all'
  /** the last token only */
  | 'last'
  /** mean over every token */
  | 'mean'
  /** mean over tokens [start, end) of the input */
  | {
      /** Token range [start, end) of the input to average. */
      mean: [start: number, end: number];
    }
  /** one token, by index into the input (negative counts from the end) */
  | {
      /** Token index into the input; negative counts from the end (-1 = last). */
      index: number;
    };

/** Captured vectors of several blocks for one input. */
export class Activations {
  /** Captured blocks, ascending. */
  readonly layers: readonly number[];
  /** Residual-stream width. */
  readonly nEmbd: number;
  /** Rows per block: 1 for pooled captures, the token count for 'all'. */
  readonly rows: number;
  readonly #byLayer: Map<number, Float32Array>;

  /** @internal */
  constructor(layers: readonly number[], nEmbd: number, rows: number, data: Float32Array[]) {
    this.layers = Object.freeze([...layers]);
    this.nEmbd = nEmbd;
    this.rows = rows;
    this.#byLayer = new Map(layers.map((l, i) => [l, data[i]!]));
  }

  /** All rows of `layer`, row-major (rows x nEmbd). */
  get(layer: number): Float32Array {
    const v = this.#byLayer.get(layer);
    if (!v) {
      throw new EmosteerError('LAYER_OUT_OF_RANGE', `block ${layer} was not captured (captured: ${this.layers.join(', ')})`);
    }
    return v;
  }

  /** Row `i` of `layer` (a view, not a copy). */
  row(layer: number, i = 0): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) throw new EmosteerError('INVALID_ARGUMENT', `row ${i} is outside 0..${this.rows - 1}`);
    return this.get(layer).subarray(i * this.nEmbd, (i + 1) * this.nEmbd);
  }

  /** `[layer, rows]` pairs, ascending by layer. */
  *entries(): IterableIterator<[number, Float32Array]> {
    for (const l of this.layers) yield [l, this.#byLayer.get(l)!];
  }
}
