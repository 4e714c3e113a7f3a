/**
 * Reads the header, metadata and tensor directory of a GGUF file without reading the
 * tensor data (files are often gigabytes), plus single tensors on demand.
 *
 * @module
 */

import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { EmosteerError } from '../errors.js';
import { bf16ToFloat, dequantizeQ4_0, dequantizeQ8_0, halfToFloat } from './quantize.js';
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME_BYTES,
  GGML_TYPE_TRAITS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_KEY_ALIGNMENT,
  GGUF_VALUE_TYPE_SIZE,
  GGUF_VERSION,
  GgmlType,
  GgufValueType,
  ggmlTypeName,
  ggufValueTypeName,
  isGgmlType,
  isGgufValueType,
  type GgufArrayItems,
  type GgufFile,
  type GgufItemType,
  type GgufTensorInfo,
  type GgufValue,
} from './types.js';

/** Re-exported from `./types.js` for convenience: the shapes {@link readGguf} returns. */
export type { GgufFile, GgufTensorInfo, GgufValue } from './types.js';

/** Longest string accepted in metadata or names (1 GiB, as gguf.cpp). Longer means a corrupt length field. */
export const GGUF_MAX_STRING_LENGTH = 1024 * 1024 * 1024;

/** Most items accepted in one metadata array (2^30, as gguf.cpp). More means a corrupt count. */
export const GGUF_MAX_ARRAY_ELEMENTS = 1024 * 1024 * 1024;

/** Most metadata pairs or tensors accepted; more means a corrupt header count. */
export const GGUF_MAX_COUNT = 1 << 24;

const CHUNK = 1 << 20;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';
// ignoreBOM: keep a leading U+FEFF (Gemma has tokens that start with one; stripping it made them collide).
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Formats bytes the way a C string literal would: printable ASCII as is, the rest as \xNN. */
function showBytes(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x27) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

function magicHint(head: Uint8Array): string {
  if (head[0] === 0x50 && head[1] === 0x4b) return ' It looks like a zip archive (a PyTorch checkpoint or a zipped download?).';
  if (head.length >= 9 && head[8] === 0x7b) return ' It looks like a safetensors file; convert it with llama.cpp\'s convert_hf_to_gguf.py.';
  const text = textDecoder.decode(head.subarray(0, 16)).trimStart().toLowerCase();
  if (text.startsWith('<!do') || text.startsWith('<htm')) return ' It looks like an HTML page (a failed download?).';
  if (text.startsWith('version https://git-lfs')) return ' It is a Git LFS pointer, not the model itself; fetch the real file (git lfs pull).';
  if (head[0] === 0x46 && head[1] === 0x55 && head[2] === 0x47 && head[3] === 0x47) return ' The magic is byte-swapped: a big-endian GGUF file, which is not supported.';
  return '';
}

/** Sequential little-endian reader over a file handle with a sliding window. */
class Cursor {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0; // file offset of buf[0]
  private pos = 0; // absolute file offset of the next byte
  section = 'header';

  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    readonly fileSize: number,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.fileSize - this.pos;
  }

  truncated(need: number): EmosteerError {
    return new EmosteerError(
      'GGUF_TRUNCATED',
      `GGUF file ${this.path} is truncated: it ends inside the ${this.section} ` +
        `(needed ${need} more bytes at offset ${this.pos}, file is ${this.fileSize} bytes). ` +
        'The download or copy is probably incomplete; fetch the file again.',
    );
  }

  /** Makes at least n bytes available at pos; throws GGUF_TRUNCATED at end of file. */
  private async ensure(n: number): Promise<void> {
    const have = this.bufStart + this.buf.length - this.pos;
    if (have >= n) return;
    if (this.pos + n > this.fileSize) throw this.truncated(n);
    const want = Math.min(Math.max(n, CHUNK), this.fileSize - this.pos);
    const next = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(next, got, want - got, this.pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.buf = got === want ? next : next.subarray(0, got);
    this.bufStart = this.pos;
    if (got < n) throw this.truncated(n);
  }

  private at(): number {
    return this.pos - this.bufStart;
  }

  async bytes(n: number): Promise<Buffer> {
    await this.ensure(n);
    const o = this.at();
    this.pos += n;
    return this.buf.subarray(o, o + n);
  }

  async u8(): Promise<number> {
    await this.ensure(1);
    const v = this.buf.readUInt8(this.at());
    this.pos += 1;
    return v;
  }

  async u32(): Promise<number> {
    await this.ensure(4);
    const v = this.buf.readUInt32LE(this.at());
    this.pos += 4;
    return v;
  }

  async i32(): Promise<number> {
    await this.ensure(4);
    const v = this.buf.readInt32LE(this.at());
    this.pos += 4;
    return v;
  }

  async u64(): Promise<bigint> {
    await this.ensure(8);
    const v = this.buf.readBigUInt64LE(this.at());
    this.pos += 8;
    return v;
  }

  async i64(): Promise<bigint> {
    await this.ensure(8);
    const v = this.buf.readBigInt64LE(this.at());
    this.pos += 8;
    return v;
  }

  /** Reads a u64 string length and the UTF-8 bytes. */
  async string(what: string): Promise<string> {
    const len = await this.u64();
    if (len > BigInt(GGUF_MAX_STRING_LENGTH)) {
      throw new EmosteerError('GGUF_CORRUPT', `GGUF file ${this.path} is corrupt: ${what} has length ${len} (over 1 GiB) at offset ${this.pos - 8}.`);
    }
    const n = Number(len);
    if (n > this.remaining) throw this.truncated(n);
    if (n === 0) return '';
    return textDecoder.decode(await this.bytes(n));
  }

  /**
   * Reads a string entirely from the current window without awaiting, or returns
   * undefined (nothing consumed) when it is not fully buffered or its length is suspicious.
   */
  stringSync(): string | undefined {
    const o = this.at();
    if (o < 0 || o + 8 > this.buf.length) return undefined;
    const len = this.buf.readBigUInt64LE(o);
    if (len > BigInt(this.buf.length)) return undefined;
    const n = Number(len);
    if (o + 8 + n > this.buf.length) return undefined;
    this.pos += 8 + n;
    return n === 0 ? '' : textDecoder.decode(this.buf.subarray(o + 8, o + 8 + n));
  }

  /** Reads `count` fixed-size items of the same type in one pass. */
  async fixedArray(itemType: GgufItemType, count: number): Promise<GgufArrayItems> {
    const size = GGUF_VALUE_TYPE_SIZE[itemType];
    const out: (number | bigint | boolean)[] = new Array(count);
    let i = 0;
    while (i < count) {
      const batch = Math.min(count - i, Math.max(1, Math.floor(CHUNK / size)));
      await this.ensure(batch * size);
      const b = this.buf;
      let o = this.at();
      for (let k = 0; k < batch; k++, i++, o += size) out[i] = decodeFixed(b, o, itemType);
      this.pos += batch * size;
    }
    return out as GgufArrayItems;
  }
}

function decodeFixed(b: Buffer, o: number, type: GgufItemType): number | bigint | boolean {
  switch (type) {
    case GgufValueType.UINT8: return b.readUInt8(o);
    case GgufValueType.INT8: return b.readInt8(o);
    case GgufValueType.UINT16: return b.readUInt16LE(o);
    case GgufValueType.INT16: return b.readInt16LE(o);
    case GgufValueType.UINT32: return b.readUInt32LE(o);
    case GgufValueType.INT32: return b.readInt32LE(o);
    case GgufValueType.FLOAT32: return b.readFloatLE(o);
    case GgufValueType.BOOL: return b.readInt8(o) !== 0;
    case GgufValueType.UINT64: return toSafe(b.readBigUInt64LE(o));
    case GgufValueType.INT64: return toSafe(b.readBigInt64LE(o));
    case GgufValueType.FLOAT64: return b.readDoubleLE(o);
    default: throw new Error(`not a fixed-size type: ${type}`);
  }
}

/** A bigint as a number when it is within ±(2^53 − 1), else unchanged. */
function toSafe(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

function corrupt(path: string, what: string): EmosteerError {
  return new EmosteerError('GGUF_CORRUPT', `GGUF file ${path} is corrupt: ${what}. Re-download or re-convert the model.`);
}

async function openForRead(path: string): Promise<FileHandle> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new EmosteerError('INVALID_ARGUMENT', 'readGguf: path must be a non-empty string');
  }
  try {
    return await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)' : `cannot be opened (${code ?? String(err)})`;
    throw new EmosteerError('FILE_NOT_FOUND', `GGUF file ${path} ${why}.`, { cause: err });
  }
}

async function readValue(c: Cursor, path: string, key: string, type: number): Promise<GgufValue> {
  if (!isGgufValueType(type)) {
    throw corrupt(path, `key '${key}' has unknown value type ${type}`);
  }
  switch (type) {
    case GgufValueType.STRING:
      return { type, value: await c.string(`value of '${key}'`) };
    case GgufValueType.BOOL:
      return { type, value: (await c.u8()) !== 0 };
    case GgufValueType.UINT64:
      return { type, value: toSafe(await c.u64()) };
    case GgufValueType.INT64:
      return { type, value: toSafe(await c.i64()) };
    case GgufValueType.ARRAY: {
      const itemType = await c.i32();
      if (!isGgufValueType(itemType)) throw corrupt(path, `array '${key}' has unknown item type ${itemType}`);
      if (itemType === GgufValueType.ARRAY) throw corrupt(path, `array '${key}' contains arrays (GGUF arrays do not nest)`);
      const n64 = await c.u64();
      if (n64 > BigInt(GGUF_MAX_ARRAY_ELEMENTS)) throw corrupt(path, `array '${key}' claims ${n64} items`);
      const n = Number(n64);
      if (itemType === GgufValueType.STRING) {
        if (n * 8 > c.remaining) throw c.truncated(n * 8);
        const items: string[] = new Array(n);
        for (let i = 0; i < n; i++) items[i] = c.stringSync() ?? (await c.string(`item ${i} of '${key}'`));
        return { type, itemType, value: items };
      }
      const size = GGUF_VALUE_TYPE_SIZE[itemType];
      if (n * size > c.remaining) throw c.truncated(n * size);
      return { type, itemType, value: await c.fixedArray(itemType, n) };
    }
    default: {
      const [v] = (await c.fixedArray(type, 1)) as number[];
      return { type, value: v! } as GgufValue;
    }
  }
}

/** Most blocks llama.cpp accepts (`LLAMA_MAX_LAYERS`). */
const LLAMA_MAX_LAYERS = 512;
/** Most experts llama.cpp accepts (`LLAMA_MAX_EXPERTS`). */
const LLAMA_MAX_EXPERTS = 1024;

/**
 * Metadata values that llama.cpp does not reject but asserts on (GGML_ASSERT aborts the whole
 * process) while loading or decoding: found by scripts/fuzz-gguf-load.mjs. Checked here, before
 * llama.cpp sees the file, so they give GGUF_CORRUPT instead of a crash:
 * - `<arch>.block_count` outside 1..512, `<arch>.nextn_predict_layers` above it;
 * - `<arch>.expert_count` above 1024, `<arch>.expert_used_count` above `expert_count`;
 * - more key/value heads (`attention.head_count_kv`) than attention heads;
 * - a layer-norm epsilon that is negative or not finite (asserted at the first decode);
 * - two equal strings in `tokenizer.ggml.tokens` (llama.cpp's vocabulary map needs them unique);
 * - a `*.weight` tensor of an integer type (I8..I64) or of Q8_1/Q8_K in a model file: llama.cpp
 *   loads it and then crashes in the first matrix product or row lookup (no model stores them).
 */
function checkLlamaLimits(path: string, kv: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensorInfo[]): void {
  const archValue = kv.get('general.architecture');
  const arch = archValue?.type === GgufValueType.STRING ? archValue.value : undefined;
  const num = (key: string): number | bigint | undefined => {
    const v = kv.get(key);
    return v && (typeof v.value === 'number' || typeof v.value === 'bigint') ? v.value : undefined;
  };
  const maxOf = (key: string): number | bigint | undefined => {
    const v = kv.get(key);
    if (v?.type !== GgufValueType.ARRAY || v.itemType === GgufValueType.STRING) return num(key);
    let m: number | bigint | undefined;
    for (const x of v.value as readonly unknown[]) if ((typeof x === 'number' || typeof x === 'bigint') && (m === undefined || x > m)) m = x;
    return m;
  };
  if (arch !== undefined) {
    const blocks = num(`${arch}.block_count`);
    if (blocks !== undefined && !(blocks >= 1 && blocks <= LLAMA_MAX_LAYERS)) {
      throw corrupt(path, `'${arch}.block_count' is ${blocks} (llama.cpp allows 1..${LLAMA_MAX_LAYERS})`);
    }
    const nextn = num(`${arch}.nextn_predict_layers`);
    if (nextn !== undefined && blocks !== undefined && nextn > blocks) throw corrupt(path, `'${arch}.nextn_predict_layers' is ${nextn}, more than the ${blocks} blocks`);
    const experts = num(`${arch}.expert_count`);
    if (experts !== undefined && !(experts >= 0 && experts <= LLAMA_MAX_EXPERTS)) throw corrupt(path, `'${arch}.expert_count' is ${experts} (llama.cpp allows 0..${LLAMA_MAX_EXPERTS})`);
    const used = maxOf(`${arch}.expert_used_count`);
    if (used !== undefined && used > (experts ?? 0)) throw corrupt(path, `'${arch}.expert_used_count' is ${used}, more than the ${experts ?? 0} experts`);
    const heads = maxOf(`${arch}.attention.head_count`);
    const kvHeads = maxOf(`${arch}.attention.head_count_kv`);
    if (heads !== undefined && kvHeads !== undefined && kvHeads > heads) throw corrupt(path, `'${arch}.attention.head_count_kv' is ${kvHeads}, more than the ${heads} attention heads`);
    if (arch !== 'controlvector') {
      // integer types, and Q8_1/Q8_K (ggml's intermediate types for dot products, never stored weights)
      const unusable: number[] = [GgmlType.I8, GgmlType.I16, GgmlType.I32, GgmlType.I64, GgmlType.Q8_1, GgmlType.Q8_K];
      const t = tensors.find((x) => x.name.endsWith('.weight') && unusable.includes(x.type));
      if (t) throw corrupt(path, `weight tensor '${t.name}' has the type ${ggmlTypeName(t.type)}, which llama.cpp cannot compute with`);
    }
  }
  for (const [key, v] of kv) {
    if (!/\.layer_norm(?:_rms)?_epsilon$/.test(key)) continue;
    if (typeof v.value === 'number' && !(Number.isFinite(v.value) && v.value >= 0)) throw corrupt(path, `'${key}' is ${v.value} (a norm epsilon must be finite and >= 0)`);
  }
  const tokens = kv.get('tokenizer.ggml.tokens');
  if (tokens?.type === GgufValueType.ARRAY && tokens.itemType === GgufValueType.STRING) {
    const list = tokens.value as readonly string[];
    const seen = new Set<string>();
    for (let i = 0; i < list.length; i++) {
      const t = list[i] || `[EMPTY_${i}]`; // llama.cpp names empty tokens so
      // Invalid UTF-8 decodes to U+FFFD, so distinct byte strings can meet here (Gemma's do): skip them.
      if (t.includes('\uFFFD')) continue;
      if (seen.has(t)) throw corrupt(path, `token ${i} of 'tokenizer.ggml.tokens' (${JSON.stringify(t.slice(0, 40))}) appears twice`);
      seen.add(t);
    }
  }
}

/**
 * Reads the header, metadata and tensor directory of a GGUF file. Tensor data is not
 * read (only its bounds are checked against the file size), so this is fast on
 * multi-gigabyte models.
 *
 * @param path path of a `.gguf` file
 * @returns the parsed header; 64-bit integers are `number` when safe, else `bigint`
 * @throws EmosteerError FILE_NOT_FOUND when the file is missing or unreadable;
 *   NOT_GGUF when it does not start with `GGUF`; GGUF_TRUNCATED when it ends inside the
 *   header, metadata or tensor infos, or tensor data extends past its end; GGUF_CORRUPT
 *   for an unsupported version, unknown value or tensor type, absurd lengths/counts,
 *   bad alignment or misaligned tensor offsets, and for metadata llama.cpp would abort on
 *   (block count outside 1..512, a negative or non-finite norm epsilon, duplicate vocabulary
 *   tokens, more experts used than exist)
 * @example
 * const f = await readGguf('model.gguf');
 * const arch = f.kv.get('general.architecture')?.value; // 'llama'
 */
export async function readGguf(path: string): Promise<GgufFile> {
  const fh = await openForRead(path);
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw new EmosteerError('FILE_NOT_FOUND', `GGUF path ${path} is not a regular file.`);
    }
    const c = new Cursor(fh, path, st.size);

    // magic
    const headLen = Math.min(16, st.size);
    const head = Buffer.alloc(headLen);
    if (headLen > 0) await fh.read(head, 0, headLen, 0);
    const magic = head.subarray(0, 4);
    const isPrefix = magic.length < 4 && magic.length > 0 && Buffer.from('GGUF').subarray(0, magic.length).equals(magic);
    if (isPrefix) throw c.truncated(4 - magic.length);
    if (magic.length < 4 || magic.toString('latin1') !== 'GGUF') {
      const seen = st.size === 0 ? 'is empty' : `starts with '${showBytes(magic)}'`;
      throw new EmosteerError(
        'NOT_GGUF',
        `${path} is not a GGUF file: it ${seen}, expected 'GGUF'.${magicHint(head)} Pass a .gguf model file (llama.cpp format).`,
      );
    }
    await c.bytes(4);

    // header
    const version = await c.u32();
    if (version === 0 || (version & 0xffff) === 0) {
      throw corrupt(path, `version field is ${version} (0x${version.toString(16)}); a big-endian file or garbage header`);
    }
    if (version === 1) throw corrupt(path, 'it is GGUF version 1, which llama.cpp no longer supports; re-convert the model');
    if (version > GGUF_VERSION) throw corrupt(path, `it is GGUF version ${version}, newer than the supported version ${GGUF_VERSION}`);
    const nTensors64 = await c.i64();
    if (nTensors64 < 0n || nTensors64 > BigInt(GGUF_MAX_COUNT)) throw corrupt(path, `tensor count is ${nTensors64}`);
    const nKv64 = await c.i64();
    if (nKv64 < 0n || nKv64 > BigInt(GGUF_MAX_COUNT)) throw corrupt(path, `metadata count is ${nKv64}`);
    const nTensors = Number(nTensors64);
    const nKv = Number(nKv64);

    // metadata
    c.section = 'metadata';
    const kv = new Map<string, GgufValue>();
    for (let i = 0; i < nKv; i++) {
      const key = await c.string(`key ${i}`);
      if (key.length === 0) throw corrupt(path, `metadata key ${i} is empty`);
      if (kv.has(key)) throw corrupt(path, `metadata key '${key}' appears twice`);
      const type = await c.i32();
      kv.set(key, await readValue(c, path, key, type));
    }

    let alignment = GGUF_DEFAULT_ALIGNMENT;
    const al = kv.get(GGUF_KEY_ALIGNMENT);
    if (al !== undefined) {
      if (al.type !== GgufValueType.UINT32) {
        throw corrupt(path, `'${GGUF_KEY_ALIGNMENT}' must be UINT32 but is ${ggufValueTypeName(al.type)}`);
      }
      alignment = al.value;
      if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
        throw corrupt(path, `'${GGUF_KEY_ALIGNMENT}' is ${alignment}, not a power of two`);
      }
    }

    // tensor infos
    c.section = 'tensor infos';
    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    for (let i = 0; i < nTensors; i++) {
      const name = await c.string(`name of tensor ${i}`);
      if (Buffer.byteLength(name) > GGML_MAX_NAME_BYTES) {
        throw corrupt(path, `tensor ${i} name is ${Buffer.byteLength(name)} bytes (ggml allows ${GGML_MAX_NAME_BYTES})`);
      }
      if (names.has(name)) throw corrupt(path, `tensor name '${name}' appears twice`);
      names.add(name);
      const nDims = await c.u32();
      if (nDims > GGML_MAX_DIMS) throw corrupt(path, `tensor '${name}' has ${nDims} dimensions (max ${GGML_MAX_DIMS})`);
      const dims: number[] = [];
      let nElements = 1;
      for (let j = 0; j < nDims; j++) {
        const ne = await c.i64();
        if (ne < 0n || ne > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(path, `tensor '${name}' dimension ${j} is ${ne}`);
        dims.push(Number(ne));
        nElements *= Number(ne);
      }
      if (!Number.isSafeInteger(nElements)) throw corrupt(path, `tensor '${name}' has too many elements (${dims.join('x')})`);
      const type = await c.i32();
      if (!isGgmlType(type)) throw corrupt(path, `tensor '${name}' has unknown ggml type ${type}`);
      const traits = GGML_TYPE_TRAITS[type];
      const ne0 = dims[0] ?? 1;
      if (ne0 % traits.blockSize !== 0) {
        throw corrupt(path, `tensor '${name}' of type ${traits.name} has rows of ${ne0}, not a multiple of the block size ${traits.blockSize}`);
      }
      const byteSize = (nElements / traits.blockSize) * traits.typeSize;
      const off64 = await c.u64();
      if (off64 > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(path, `tensor '${name}' has offset ${off64}`);
      const offset = Number(off64);
      if (offset % alignment !== 0) {
        throw corrupt(path, `tensor '${name}' has offset ${offset}, not a multiple of the alignment ${alignment}`);
      }
      tensors.push({ name, dims, type, offset, byteSize });
    }

    const end = c.offset;
    const dataOffset = nTensors > 0 ? Math.ceil(end / alignment) * alignment : end;
    for (const t of tensors) {
      const tEnd = dataOffset + t.offset + t.byteSize;
      if (tEnd > st.size) {
        throw new EmosteerError(
          'GGUF_TRUNCATED',
          `GGUF file ${path} is truncated: tensor '${t.name}' (${ggmlTypeName(t.type)} ${t.dims.join('x')}) ends at byte ${tEnd} ` +
            `but the file has only ${st.size} bytes. The download or copy is probably incomplete; fetch the file again.`,
        );
      }
    }

    checkLlamaLimits(path, kv, tensors);
    return { path, version, kv, tensors, dataOffset, alignment, fileSize: st.size };
  } finally {
    await fh.close();
  }
}

/**
 * Value of a metadata key without its type tag, or `undefined` when absent.
 * @param file a file from {@link readGguf}
 * @param key metadata key, e.g. `llama.embedding_length`
 */
export function ggufKvValue(file: GgufFile, key: string): GgufValue['value'] | undefined {
  return file.kv.get(key)?.value;
}

/**
 * Reads one tensor and converts it to float32. Supports F32, F16, BF16, Q8_0 and Q4_0
 * (llama.cpp control-vector files store `direction.N` tensors as F32).
 *
 * @param file the directory of `path`, from {@link readGguf}
 * @param path the same file
 * @param name tensor name, e.g. `direction.12`
 * @returns the values in ggml order (ne[0] fastest)
 * @throws EmosteerError INVALID_ARGUMENT when the tensor is missing or of another type;
 *   FILE_NOT_FOUND when the file cannot be opened; GGUF_TRUNCATED when it shrank
 */
export async function readTensorF32(file: GgufFile, path: string, name: string): Promise<Float32Array> {
  const t = file.tensors.find((x) => x.name === name);
  if (t === undefined) {
    throw new EmosteerError('INVALID_ARGUMENT', `tensor '${name}' is not in ${path}`);
  }
  const supported: number[] = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0];
  if (!supported.includes(t.type)) {
    throw new EmosteerError('INVALID_ARGUMENT', `tensor '${name}' in ${path} is ${ggmlTypeName(t.type)}; only F32, F16, BF16, Q8_0 and Q4_0 can be read as float32`);
  }
  const fh = await openForRead(path);
  let raw: Buffer;
  try {
    raw = Buffer.alloc(t.byteSize);
    let got = 0;
    while (got < t.byteSize) {
      const { bytesRead } = await fh.read(raw, got, t.byteSize - got, file.dataOffset + t.offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < t.byteSize) {
      throw new EmosteerError('GGUF_TRUNCATED', `GGUF file ${path} is truncated: tensor '${name}' needs ${t.byteSize} bytes at ${file.dataOffset + t.offset}, got ${got}.`);
    }
  } finally {
    await fh.close();
  }
  const n = t.dims.reduce((a, b) => a * b, 1);
  switch (t.type) {
    case GgmlType.F32: {
      if (LITTLE_ENDIAN_HOST && raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = raw.readFloatLE(i * 4);
      return out;
    }
    case GgmlType.F16: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(raw.readUInt16LE(i * 2));
      return out;
    }
    case GgmlType.BF16: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = bf16ToFloat(raw.readUInt16LE(i * 2));
      return out;
    }
    case GgmlType.Q8_0:
      return dequantizeQ8_0(raw);
    default:
      return dequantizeQ4_0(raw);
  }
}
