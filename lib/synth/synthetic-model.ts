/**
 * Writes tiny (or benchmark-sized) random llama-architecture GGUF models that llama.cpp
 * loads and runs, so tests never need to download a real model.
 *
 * The file has the KVs and tensors llama.cpp's `llama` loader requires, a SentencePiece
 * ("llama") vocabulary of byte tokens plus single printable-ASCII characters, and
 * optionally the ChatML control tokens with a ChatML chat template. Weights come from a
 * seeded PRNG, so the same options always give byte-identical files.
 *
 * @module
 */

import { EmosteerError } from '../errors.js';
import { GgufWriter } from '../gguf/writer.js';
import { floatsToHalves, quantizeQ4_0, quantizeQ8_0 } from '../gguf/quantize.js';
import { GgmlType, GgufValueType, LlamaFileType, LlamaTokenType } from '../gguf/types.js';

/** Tensor storage types the synthetic model can use for its matrices (norms are always F32). */
export type SyntheticWeightType = 'f32' | 'f16' | 'q8_0' | 'q4_0';

/** Options of {@link writeSyntheticModel}. */
export interface SyntheticModelOptions {
  /** Output path (conventionally ending in `.gguf`). */
  out: string;
  /** Transformer blocks, 1..32 (default 2). */
  layers?: number;
  /** Embedding width, a multiple of 32 up to 4096 (default 64). */
  embd?: number;
  /** Attention heads; `embd / heads` must be a power of two ≥ 4 (default: head size 16 for embd ≤ 128, else 64, or 32 if embd is not a multiple of 64). */
  heads?: number;
  /** Key/value heads (GQA); must divide `heads` (default `heads`). */
  kvHeads?: number;
  /** Feed-forward width, a multiple of 32 (default `2 * embd`). */
  ff?: number;
  /** Training context length written as `llama.context_length` (default 512). */
  ctx?: number;
  /** PRNG seed, an unsigned 32-bit integer (default 0). */
  seed?: number;
  /** Storage type of the weight matrices (default `'f32'`). */
  type?: SyntheticWeightType;
  /** `general.name` (default `emosteer-synthetic`). */
  name?: string;
  /**
   * Chat template written as `tokenizer.chat_template`; `false` writes none and leaves the
   * ChatML tokens out of the vocabulary. Default: {@link CHATML_TEMPLATE}.
   */
  chatTemplate?: string | false;
  /**
   * Vocabulary size: the built-in vocabulary (about 360 tokens) padded with unused tokens
   * `<unused_N>` up to this size, so that the embedding and output matrices have a real
   * model's shape (default: no padding). Up to 1,048,576.
   */
  vocabSize?: number;
  /** Write no `output.weight`: llama.cpp then reuses `token_embd.weight` (tied embeddings, as in Qwen2.5 0.5B/1.5B). Default false. */
  tiedEmbeddings?: boolean;
  /**
   * Every block stores the same weights as block 0 (generated and encoded once). For
   * benchmark-sized models: speed does not depend on the values, and a 1.5B-parameter file
   * is written in seconds instead of minutes. Default false.
   */
  shareBlockWeights?: boolean;
}

/** A model shape of a real model family, for benchmarks that need real sizes (random weights). */
export type SyntheticShape = Required<Pick<SyntheticModelOptions, 'layers' | 'embd' | 'heads' | 'kvHeads' | 'ff' | 'vocabSize' | 'tiedEmbeddings'>>;

/**
 * Real model shapes on the llama architecture, for benchmarks: the block count, widths, head
 * counts, feed-forward width and vocabulary of Qwen2.5 0.5B and 1.5B (0.49B and 1.54B
 * parameters with tied embeddings), without their attention biases.
 */
export const SYNTHETIC_SHAPES: Readonly<Record<'llama-0.5b' | 'llama-1.5b', SyntheticShape>> = {
  'llama-0.5b': { layers: 24, embd: 896, heads: 14, kvHeads: 2, ff: 4864, vocabSize: 151936, tiedEmbeddings: true },
  'llama-1.5b': { layers: 28, embd: 1536, heads: 12, kvHeads: 2, ff: 8960, vocabSize: 151936, tiedEmbeddings: true },
};

/** What {@link writeSyntheticModel} wrote. */
export interface SyntheticModelInfo {
  /** Path of the file. */
  path: string;
  /** Transformer blocks. */
  layers: number;
  /** Embedding width. */
  embd: number;
  /** Attention heads. */
  heads: number;
  /** Key/value heads. */
  kvHeads: number;
  /** Head size (`embd / heads`). */
  headDim: number;
  /** Feed-forward width. */
  ff: number;
  /** Training context length. */
  ctx: number;
  /** Tokens in the vocabulary. */
  vocabSize: number;
  /** The seed used. */
  seed: number;
  /** Storage type of the weight matrices. */
  type: SyntheticWeightType;
  /** Whether a chat template and the ChatML tokens were written. */
  chat: boolean;
  /** Whether `output.weight` was left out (tied to `token_embd.weight`). */
  tiedEmbeddings: boolean;
  /** Whether every block stores block 0's weights. */
  shareBlockWeights: boolean;
  /** File size in bytes. */
  bytes: number;
  /** Hex SHA-256 of the file. */
  sha256?: string;
}

/**
 * ChatML chat template (Jinja). llama.cpp's `llama_chat_apply_template` recognises it as
 * `chatml` because it contains `<|im_start|>`.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Token ids of the synthetic vocabulary's fixed tokens. */
export const SYNTHETIC_TOKEN_IDS = {
  /** `<unk>` */
  unk: 0,
  /** `<s>` (BOS) */
  bos: 1,
  /** `</s>` (EOS) */
  eos: 2,
  /** `<0x00>`; byte b has id `firstByte + b`. */
  firstByte: 3,
  /** First single-character token (`!`); printable ASCII 0x21..0x7E follow in order, then `▁`. */
  firstChar: 259,
} as const;

/** The synthetic vocabulary as written to `tokenizer.ggml.*`. */
export interface SyntheticVocab {
  /** Token texts, index = id. */
  tokens: string[];
  /** SentencePiece scores (float32). */
  scores: number[];
  /** Token types ({@link LlamaTokenType}). */
  types: number[];
}

/**
 * Builds the synthetic SentencePiece vocabulary: `<unk>`, `<s>`, `</s>`, the 256 byte tokens
 * `<0x00>`..`<0xFF>`, the printable ASCII characters `!`..`~`, `▁` (U+2581, the
 * SentencePiece space), and with `chat` also `<|im_start|>` and `<|im_end|>` (CONTROL).
 * llama.cpp tokenizes text into one token per ASCII character (spaces become `▁`, and a
 * leading `▁` is added), falling back to byte tokens for everything else.
 *
 * @param chat include the ChatML control tokens
 */
export function buildSyntheticVocab(chat: boolean): SyntheticVocab {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [LlamaTokenType.UNKNOWN, LlamaTokenType.CONTROL, LlamaTokenType.CONTROL];
  const scores: number[] = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(LlamaTokenType.BYTE);
    scores.push(0);
  }
  const normal: string[] = [];
  for (let c = 0x21; c <= 0x7e; c++) normal.push(String.fromCharCode(c));
  normal.push('\u2581');
  normal.forEach((t, i) => {
    tokens.push(t);
    types.push(LlamaTokenType.NORMAL);
    scores.push(-(i + 1));
  });
  if (chat) {
    for (const t of ['<|im_start|>', '<|im_end|>']) {
      tokens.push(t);
      types.push(LlamaTokenType.CONTROL);
      scores.push(0);
    }
  }
  return { tokens, scores, types };
}

const WEIGHT_TYPES: Record<SyntheticWeightType, { ggml: GgmlType; fileType: number }> = {
  f32: { ggml: GgmlType.F32, fileType: LlamaFileType.ALL_F32 },
  f16: { ggml: GgmlType.F16, fileType: LlamaFileType.MOSTLY_F16 },
  q8_0: { ggml: GgmlType.Q8_0, fileType: LlamaFileType.MOSTLY_Q8_0 },
  q4_0: { ggml: GgmlType.Q4_0, fileType: LlamaFileType.MOSTLY_Q4_0 },
};

/**
 * Writes the tokenizer metadata of a synthetic vocabulary (llama SPM model, BOS added, EOS not)
 * into `w`. Shared by the synthetic llama models and the test models of other architectures.
 * @internal
 */
export function writeSyntheticTokenizer(w: GgufWriter, vocab: SyntheticVocab): void {
  w.setString('tokenizer.ggml.model', 'llama');
  w.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, vocab.tokens);
  w.setArray('tokenizer.ggml.scores', GgufValueType.FLOAT32, vocab.scores);
  w.setArray('tokenizer.ggml.token_type', GgufValueType.INT32, vocab.types);
  w.setU32('tokenizer.ggml.bos_token_id', SYNTHETIC_TOKEN_IDS.bos);
  w.setU32('tokenizer.ggml.eos_token_id', SYNTHETIC_TOKEN_IDS.eos);
  w.setU32('tokenizer.ggml.unknown_token_id', SYNTHETIC_TOKEN_IDS.unk);
  w.setBool('tokenizer.ggml.add_bos_token', true);
  w.setBool('tokenizer.ggml.add_eos_token', false);
}

/** Weight storage types accepted by {@link writeSyntheticModel}. */
export const SYNTHETIC_WEIGHT_TYPES: readonly SyntheticWeightType[] = ['f32', 'f16', 'q8_0', 'q4_0'];

function bad(message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', `writeSyntheticModel: ${message}`);
}

function intOption(name: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** Resolved, validated shape of a synthetic model. */
interface Shape {
  layers: number;
  embd: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ff: number;
  ctx: number;
  seed: number;
  type: SyntheticWeightType;
}

function resolveShape(o: SyntheticModelOptions): Shape {
  const layers = intOption('layers', o.layers, 2, 1, 32);
  const embd = intOption('embd', o.embd, 64, 32, 4096);
  if (embd % 32 !== 0) throw bad(`embd must be a multiple of 32, got ${embd}`);
  const defaultHeadDim = embd <= 128 ? 16 : embd % 64 === 0 ? 64 : 32;
  const heads = intOption('heads', o.heads, embd / defaultHeadDim, 1, embd);
  if (embd % heads !== 0) throw bad(`heads (${heads}) must divide embd (${embd})`);
  const headDim = embd / heads;
  if (!isPow2(headDim) || headDim < 4) throw bad(`head size embd/heads = ${headDim} must be a power of two >= 4`);
  const kvHeads = intOption('kvHeads', o.kvHeads, heads, 1, heads);
  if (heads % kvHeads !== 0) throw bad(`kvHeads (${kvHeads}) must divide heads (${heads})`);
  const ff = intOption('ff', o.ff, 2 * embd, 32, 4 * 16384);
  if (ff % 32 !== 0) throw bad(`ff must be a multiple of 32, got ${ff}`);
  const ctx = intOption('ctx', o.ctx, 512, 1, 1 << 20);
  const seed = intOption('seed', o.seed, 0, 0, 0xffffffff);
  const type = o.type ?? 'f32';
  if (!SYNTHETIC_WEIGHT_TYPES.includes(type)) throw bad(`type must be one of ${SYNTHETIC_WEIGHT_TYPES.join(', ')}, got ${String(type)}`);
  return { layers, embd, heads, kvHeads, headDim, ff, ctx, seed, type };
}

/** 32-bit FNV-1a of a string (ASCII tensor names). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Fills `n` floats with deterministic noise of standard deviation `std`: mulberry32 draws,
 * each split into two 16-bit uniforms whose sum is triangular on (-1, 1) (variance 1/6).
 * The stream depends only on `(seed, name)`, so tensors can be generated in any order.
 */
function noise(seed: number, name: string, n: number, std: number): Float32Array {
  let state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ fnv1a(name)) >>> 0;
  const out = new Float32Array(n);
  const scale = (std * Math.sqrt(6)) / 65536;
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t = (t ^ (t >>> 14)) >>> 0;
    out[i] = ((t & 0xffff) + (t >>> 16) - 65535) * scale;
  }
  return out;
}

/**
 * Writes a random llama-architecture GGUF model that llama.cpp can load. Matrices are
 * generated one at a time while writing, so even 4096-wide models need only one tensor's
 * floats in memory.
 *
 * Weight scales keep activations O(1): token embeddings have standard deviation 1, every
 * projection 1/sqrt(fan_in), norm weights are 1.
 *
 * @param options shape, seed and storage type; only `out` is required
 * @returns the resolved shape, size and SHA-256 of the file
 * @throws EmosteerError INVALID_ARGUMENT for options out of range
 * @example
 * const info = await writeSyntheticModel({ out: '/tmp/tiny.gguf', layers: 2, embd: 64, seed: 1 });
 */
export async function writeSyntheticModel(options: SyntheticModelOptions): Promise<SyntheticModelInfo> {
  if (options === null || typeof options !== 'object') throw bad('options must be an object');
  if (typeof options.out !== 'string' || options.out.length === 0) throw bad('out must be a non-empty path');
  const s = resolveShape(options);
  const name = options.name ?? 'emosteer-synthetic';
  if (typeof name !== 'string') throw bad('name must be a string');
  const template = options.chatTemplate === undefined ? CHATML_TEMPLATE : options.chatTemplate;
  if (template !== false && (typeof template !== 'string' || template.length === 0)) {
    throw bad('chatTemplate must be a non-empty string or false');
  }
  const chat = template !== false;
  const vocab = buildSyntheticVocab(chat);
  if (options.vocabSize !== undefined) {
    const target = intOption('vocabSize', options.vocabSize, vocab.tokens.length, vocab.tokens.length, 1 << 20);
    for (let i = vocab.tokens.length; i < target; i++) {
      vocab.tokens.push(`<unused_${i}>`);
      vocab.types.push(LlamaTokenType.UNUSED);
      vocab.scores.push(0);
    }
  }
  const nVocab = vocab.tokens.length;
  const tied = options.tiedEmbeddings === true;
  const share = options.shareBlockWeights === true;
  const wt = WEIGHT_TYPES[s.type];

  const w = new GgufWriter();
  w.setString('general.architecture', 'llama');
  w.setString('general.name', name);
  w.setU32('general.file_type', wt.fileType);
  if (s.type === 'q8_0' || s.type === 'q4_0') w.setU32('general.quantization_version', 2);
  w.setU32('llama.vocab_size', nVocab);
  w.setU32('llama.context_length', s.ctx);
  w.setU32('llama.embedding_length', s.embd);
  w.setU32('llama.block_count', s.layers);
  w.setU32('llama.feed_forward_length', s.ff);
  w.setU32('llama.attention.head_count', s.heads);
  w.setU32('llama.attention.head_count_kv', s.kvHeads);
  w.setF32('llama.attention.layer_norm_rms_epsilon', 1e-5);
  w.setU32('llama.rope.dimension_count', s.headDim);
  w.setF32('llama.rope.freq_base', 10000);

  writeSyntheticTokenizer(w, vocab);
  if (chat) w.setString('tokenizer.chat_template', template);

  const seed = s.seed;
  // With shareBlockWeights, block i's tensors are block 0's bytes, encoded once.
  const shared = new Map<string, Promise<Uint8Array>>();
  const encode = async (f: Float32Array, ne0: number): Promise<Uint8Array> => {
    switch (s.type) {
      case 'f32': return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      case 'f16': { const h = floatsToHalves(f); return new Uint8Array(h.buffer, h.byteOffset, h.byteLength); }
      case 'q8_0': return quantizeQ8_0(f, ne0);
      default: return quantizeQ4_0(f, ne0);
    }
  };
  const matrix = (tname: string, ne0: number, ne1: number, std: number): void => {
    const role = tname.replace(/^blk\.\d+\./, 'blk.0.');
    if (share && role !== tname) {
      w.addTensor(tname, [ne0, ne1], wt.ggml, () => {
        let bytes = shared.get(role);
        if (!bytes) {
          bytes = encode(noise(seed, role, ne0 * ne1, std), ne0);
          shared.set(role, bytes);
        }
        return bytes;
      });
      return;
    }
    w.addTensor(tname, [ne0, ne1], wt.ggml, () => noise(seed, tname, ne0 * ne1, std));
  };
  const norm = (tname: string): void => {
    w.addTensor(tname, [s.embd], GgmlType.F32, () => new Float32Array(s.embd).fill(1));
  };

  const kvDim = s.kvHeads * s.headDim;
  const inv = (fanIn: number): number => 1 / Math.sqrt(fanIn);
  matrix('token_embd.weight', s.embd, nVocab, 1);
  norm('output_norm.weight');
  if (!tied) matrix('output.weight', s.embd, nVocab, inv(s.embd));
  for (let i = 0; i < s.layers; i++) {
    const p = `blk.${i}.`;
    norm(`${p}attn_norm.weight`);
    matrix(`${p}attn_q.weight`, s.embd, s.embd, inv(s.embd));
    matrix(`${p}attn_k.weight`, s.embd, kvDim, inv(s.embd));
    matrix(`${p}attn_v.weight`, s.embd, kvDim, inv(s.embd));
    matrix(`${p}attn_output.weight`, s.embd, s.embd, inv(s.embd));
    norm(`${p}ffn_norm.weight`);
    matrix(`${p}ffn_gate.weight`, s.embd, s.ff, inv(s.embd));
    matrix(`${p}ffn_up.weight`, s.embd, s.ff, inv(s.embd));
    matrix(`${p}ffn_down.weight`, s.ff, s.embd, inv(s.ff));
  }

  const res = await w.write(options.out);
  return {
    path: res.path,
    layers: s.layers,
    embd: s.embd,
    heads: s.heads,
    kvHeads: s.kvHeads,
    headDim: s.headDim,
    ff: s.ff,
    ctx: s.ctx,
    vocabSize: nVocab,
    seed: s.seed,
    type: s.type,
    chat,
    tiedEmbeddings: tied,
    shareBlockWeights: share,
    bytes: res.bytes,
    sha256: res.sha256,
  };
}
