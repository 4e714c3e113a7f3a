/**
 * Baking: a GGUF whose weights carry a steering, for runtimes that cannot load control vectors
 * (Ollama, node-llama-cpp, any llama.cpp build without `--control-vector`).
 *
 * Where it is exact: in llama.cpp's graph for the `llama` architecture (SmolLM2 and every
 * Llama-family model) a block ends with `l_out = ffn_inp + (W_down · h + b_down)`, and the
 * optional per-block bias `blk.N.ffn_down.bias` is added right before the residual sum, with no
 * norm after it. A vector added to that bias is therefore added to the block's output: the
 * control vector, exactly (up to the order of two float additions). Architectures whose FFN
 * output is normalised after the bias (Gemma's post-FFN norm), that never read the bias (Qwen2)
 * or whose FFN is a mixture of experts get a clear refusal that names the architecture.
 * Unlike llama.cpp's control vectors, block 0 can be baked too.
 *
 * @example
 * const { vectors, layers } = steeringVectors(set, { emotion: 'calm', strength: 0.02 });
 * await bakeSteering('smollm2.gguf', 'smollm2-calm.gguf', { vectors, layers });
 */
import { open } from 'node:fs/promises';
import { EmosteerError } from '../errors.js';
import { readGguf, readTensorF32 } from '../gguf/reader.js';
import { GgmlType, GgufValueType, type GgufFile } from '../gguf/types.js';
import { GgufWriter, type GgufWriteResult } from '../gguf/writer.js';

/** Architectures whose block output is `ffn_inp + ffn_down(…) + ffn_down.bias` (checked in the pinned llama.cpp). */
export const BAKEABLE_ARCHITECTURES: readonly string[] = Object.freeze(['llama']);

/** What to bake: per-block vectors, as {@link steeringVectors} returns them. */
export interface BakeSteering {
  /** nLayer x nEmbd floats, row i = block i (zero rows are not written). */
  vectors: Float32Array;
  /** Inclusive block range to bake (0..nLayer-1). */
  layers: [start: number, end: number];
  /** What the steering is, recorded in the file's metadata (`emosteer.baked.description`). */
  description?: string;
}

/** Result of {@link bakeSteering}. */
export interface BakeResult extends GgufWriteResult {
  /** Blocks whose bias was written. */
  blocks: number[];
  /** Blocks whose existing `ffn_down.bias` was added to (the others got a new tensor). */
  addedToExisting: number[];
}

function kvNumber(file: GgufFile, key: string): number {
  const v = file.kv.get(key)?.value;
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new EmosteerError('INVALID_ARGUMENT', `${file.path} has no ${key}`);
  return Number(v);
}

/**
 * Writes `output`: a copy of `input` (every tensor and metadata value as is) whose
 * `blk.N.ffn_down.bias` carries block N's steering vector.
 * @throws EmosteerError ARCH_UNSUPPORTED (not a bakeable architecture, or a mixture-of-experts
 *   block), VECTOR_WIDTH_MISMATCH, LAYER_OUT_OF_RANGE, NON_FINITE_VECTOR, INVALID_ARGUMENT
 *   (output = input, an existing bias that is not F32/F16), NOT_GGUF / FILE_NOT_FOUND
 */
export async function bakeSteering(input: string, output: string, steering: BakeSteering): Promise<BakeResult> {
  if (input === output) throw new EmosteerError('INVALID_ARGUMENT', 'the baked model must be written to another file than its input');
  const file = await readGguf(input);
  const arch = file.kv.get('general.architecture')?.value;
  if (typeof arch !== 'string' || !BAKEABLE_ARCHITECTURES.includes(arch)) {
    throw new EmosteerError('ARCH_UNSUPPORTED', `cannot bake steering into architecture '${String(arch)}': only ${BAKEABLE_ARCHITECTURES.join(', ')} adds an ffn_down bias right before the block output (use a control vector with this model instead)`);
  }
  const nLayer = kvNumber(file, `${arch}.block_count`);
  const nEmbd = kvNumber(file, `${arch}.embedding_length`);
  const { vectors, layers } = steering;
  if (!(vectors instanceof Float32Array) || vectors.length !== nLayer * nEmbd) {
    throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `steering data has ${vectors?.length} values; this model needs ${nLayer} blocks x ${nEmbd} = ${nLayer * nEmbd}`);
  }
  const [start, end] = layers;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end >= nLayer || start > end) {
    throw new EmosteerError('LAYER_OUT_OF_RANGE', `block range [${start}, ${end}] must lie in 0..${nLayer - 1}`);
  }
  for (let i = start * nEmbd; i < (end + 1) * nEmbd; i++) {
    if (!Number.isFinite(vectors[i]!)) throw new EmosteerError('NON_FINITE_VECTOR', `the steering of block ${Math.floor(i / nEmbd)} holds a non-finite value`);
  }
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const blocks: number[] = [];
  for (let b = start; b <= end; b++) {
    if (vectors.subarray(b * nEmbd, (b + 1) * nEmbd).some((x) => x !== 0)) blocks.push(b);
  }
  for (const b of blocks) {
    if (byName.has(`blk.${b}.ffn_gate_inp.weight`)) {
      throw new EmosteerError('ARCH_UNSUPPORTED', `block ${b} of ${input} is a mixture of experts, whose FFN has no output bias in llama.cpp's graph: it cannot be baked`);
    }
    if (!byName.has(`blk.${b}.ffn_down.weight`)) throw new EmosteerError('INVALID_ARGUMENT', `${input} has no blk.${b}.ffn_down.weight`);
  }

  const w = new GgufWriter();
  for (const [key, value] of file.kv) if (key !== 'general.alignment') w.set(key, value);
  if (file.alignment !== 32) w.setU32('general.alignment', file.alignment);
  w.setString('emosteer.baked.description', steering.description ?? 'steering vectors');
  w.setArray('emosteer.baked.blocks', GgufValueType.INT32, blocks);

  const fh = await open(input, 'r');
  try {
    const addedToExisting: number[] = [];
    const biases = new Map<string, Float32Array>();
    for (const b of blocks) {
      const name = `blk.${b}.ffn_down.bias`;
      const existing = byName.get(name);
      const v = vectors.slice(b * nEmbd, (b + 1) * nEmbd);
      if (existing) {
        if (existing.type !== GgmlType.F32 && existing.type !== GgmlType.F16) {
          throw new EmosteerError('INVALID_ARGUMENT', `${name} of ${input} is not F32/F16; cannot add to it`);
        }
        const old = await readTensorF32(file, input, name);
        for (let j = 0; j < nEmbd; j++) v[j]! += old[j]!;
        addedToExisting.push(b);
      }
      biases.set(name, v);
    }
    for (const t of file.tensors) {
      const baked = biases.get(t.name);
      if (baked) {
        w.addTensor(t.name, t.dims, GgmlType.F32, baked);
        continue;
      }
      w.addTensor(t.name, t.dims, t.type, async () => {
        const buf = new Uint8Array(t.byteSize);
        const { bytesRead } = await fh.read(buf, 0, t.byteSize, file.dataOffset + t.offset);
        if (bytesRead !== t.byteSize) throw new EmosteerError('GGUF_TRUNCATED', `${input} is truncated at tensor '${t.name}'`);
        return buf;
      });
    }
    for (const [name, v] of biases) if (!byName.has(name)) w.addTensor(name, [nEmbd], GgmlType.F32, v);
    const written = await w.write(output);
    return { ...written, blocks, addedToExisting };
  } finally {
    await fh.close();
  }
}
