/**
 * llama.cpp control-vector GGUF files: export an emotion's vectors so llama.cpp's
 * `--control-vector` / `--control-vector-scaled` load them, and import such files (written by
 * emosteer, by llama.cpp's cvector-generator, or by repeng).
 *
 * Format: `general.architecture = "controlvector"`, `controlvector.model_hint` (string),
 * `controlvector.layer_count` (u32), F32 1-D tensors `direction.N` ([n_embd]) for N >= 1.
 *
 * Block numbering: llama.cpp adds `direction.N` at the end of block N, exactly where
 * emosteer's steering of block N goes, so an emosteer vector for block N is written as
 * `direction.N` (block 0 cannot be written: llama.cpp has no slot for it).
 * Conventions when importing:
 *  - 'block' (emosteer, repeng): direction.N was computed from block N's output.
 *  - 'cvector-generator': llama.cpp's tool computes direction.{i+1} from l_out-i, i.e. the
 *    direction was *read* one block earlier than where llama.cpp *applies* it.
 * Import returns the vectors keyed by the block llama.cpp applies them at (N) and, separately,
 * by the block they were read from (N, or N-1 for cvector-generator files).
 */
import { EmosteerError } from '../errors.js';
import { readGguf, readTensorF32 } from '../gguf/reader.js';
import { GgmlType } from '../gguf/types.js';
import { GgufWriter } from '../gguf/writer.js';

/** Where a control-vector file's directions were read from. */
export type ControlVectorConvention = 'block' | 'cvector-generator';

/** An imported control-vector file. */
export interface ControlVectorFile {
  /** `controlvector.model_hint`. */
  modelHint: string;
  /** `controlvector.layer_count`. */
  layerCount: number;
  /** Width of every vector (the model's residual stream). */
  nEmbd: number;
  /** Vectors keyed by the block llama.cpp adds them to (direction.N -> N). */
  appliedAt: Map<number, Float32Array>;
  /** Vectors keyed by the block whose output they were computed from. */
  readFrom: Map<number, Float32Array>;
  /** The convention used to derive readFrom (recorded by emosteer, else as asked). */
  convention: ControlVectorConvention;
}

/** Options of {@link writeControlVector}. */
export interface WriteControlVectorOptions {
  /** `controlvector.model_hint` (conventionally the architecture, e.g. 'gemma3'). */
  modelHint: string;
  /** Total blocks of the model; `controlvector.layer_count` is written as nLayer - 1 like llama.cpp's tools. */
  nLayer: number;
  /** Multiplies every vector (default 1). */
  scale?: number;
  /** Extra string metadata written under `emosteer.*`. */
  metadata?: Record<string, string>;
}

/**
 * Writes vectors (block -> Float32Array(nEmbd)) as a llama.cpp control-vector GGUF. Block 0 is
 * rejected (llama.cpp cannot apply it).
 */
export async function writeControlVector(path: string, vectors: ReadonlyMap<number, Float32Array>, options: WriteControlVectorOptions): Promise<void> {
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new EmosteerError('NON_FINITE_VECTOR', 'scale must be finite');
  const blocks = [...vectors.keys()].sort((a, b) => a - b);
  if (blocks.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no vectors to write');
  let width = -1;
  const w = new GgufWriter();
  w.setString('general.architecture', 'controlvector');
  w.setString('controlvector.model_hint', options.modelHint);
  w.setU32('controlvector.layer_count', options.nLayer - 1);
  w.setString('emosteer.layer_convention', 'block');
  for (const [k, v] of Object.entries(options.metadata ?? {})) w.setString(`emosteer.${k}`, v);
  for (const b of blocks) {
    if (!Number.isInteger(b) || b < 1 || b >= options.nLayer) {
      throw new EmosteerError('LAYER_OUT_OF_RANGE', b === 0 ? 'block 0 cannot be written: llama.cpp control vectors start at block 1' : `block ${b} is outside 1..${options.nLayer - 1}`);
    }
    const v = vectors.get(b)!;
    if (width < 0) width = v.length;
    if (v.length !== width) throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `block ${b} has ${v.length} values, block ${blocks[0]} has ${width}`);
    const scaled = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      scaled[i] = v[i]! * scale;
      if (!Number.isFinite(scaled[i]!)) throw new EmosteerError('NON_FINITE_VECTOR', `block ${b} holds a non-finite value at ${i}`);
    }
    w.addTensor(`direction.${b}`, [v.length], GgmlType.F32, scaled);
  }
  await w.write(path);
}

/**
 * Reads a llama.cpp control-vector GGUF.
 * @param options.convention how the file's directions were computed when the file does not say
 *   (default 'block'; use 'cvector-generator' for files from llama.cpp's cvector-generator)
 */
export async function readControlVector(path: string, options: { convention?: ControlVectorConvention } = {}): Promise<ControlVectorFile> {
  const file = await readGguf(path);
  const str = (k: string) => { const v = file.kv.get(k); return v && v.type === 8 ? String(v.value) : undefined; };
  const arch = str('general.architecture');
  if (arch !== 'controlvector') throw new EmosteerError('INVALID_ARGUMENT', `${path} is not a control-vector file (general.architecture = ${arch ?? 'missing'})`);
  const recorded = str('emosteer.layer_convention');
  const convention: ControlVectorConvention = recorded === 'block' ? 'block' : options.convention ?? 'block';
  const lc = file.kv.get('controlvector.layer_count');
  const appliedAt = new Map<number, Float32Array>();
  let nEmbd = -1;
  for (const t of file.tensors) {
    const m = /^direction\.(\d+)$/.exec(t.name);
    if (!m) continue;
    const block = Number(m[1]);
    if (t.dims.length !== 1) throw new EmosteerError('INVALID_ARGUMENT', `${t.name} is not one-dimensional`);
    const v = await readTensorF32(file, path, t.name);
    if (nEmbd < 0) nEmbd = v.length;
    if (v.length !== nEmbd) throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `${t.name} has ${v.length} values, others ${nEmbd}`);
    appliedAt.set(block, v);
  }
  if (appliedAt.size === 0) throw new EmosteerError('INVALID_ARGUMENT', `${path} holds no direction.N tensors`);
  const readFrom = new Map<number, Float32Array>();
  for (const [b, v] of appliedAt) readFrom.set(convention === 'cvector-generator' ? b - 1 : b, v);
  return {
    modelHint: str('controlvector.model_hint') ?? '',
    layerCount: lc && typeof lc.value === 'number' ? lc.value : appliedAt.size,
    nEmbd,
    appliedAt: new Map([...appliedAt].sort((a, b) => a[0] - b[0])),
    readFrom: new Map([...readFrom].sort((a, b) => a[0] - b[0])),
    convention,
  };
}
