/**
 * Writes GGUF v3 files: metadata, tensor directory and tensor data, streaming one tensor
 * at a time so that multi-gigabyte files never sit in memory.
 *
 * @module
 */

import { createHash, type Hash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { EmosteerError } from '../errors.js';
import { floatsToHalves, quantizeQ4_0, quantizeQ8_0 } from './quantize.js';
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME_BYTES,
  GGML_TYPE_TRAITS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_KEY_ALIGNMENT,
  GGUF_VERSION,
  GgmlType,
  GgufValueType,
  ggmlTypeName,
  ggufValueTypeName,
  isGgmlType,
  isGgufValueType,
  type GgufItemType,
  type GgufValue,
} from './types.js';

/** Tensor contents: raw bytes in the tensor's ggml type, or float32 values to be converted. */
export type TensorData = Uint8Array | Float32Array;

/**
 * Tensor contents given directly, or a function called once at write time (so that a
 * writer with many large tensors holds only one in memory).
 */
export type TensorSource = TensorData | (() => TensorData | Promise<TensorData>);

/** A tensor registered with {@link GgufWriter.addTensor}. */
export interface PendingTensor {
  /** Tensor name. */
  name: string;
  /** Shape in ggml order (ne[0] first). */
  dims: number[];
  /** ggml type id of the stored data. */
  type: GgmlType;
  /** Bytes of data (no padding). */
  byteSize: number;
  /** The data or its producer. */
  source: TensorSource;
}

/** Result of {@link GgufWriter.write}. */
export interface GgufWriteResult {
  /** Path written. */
  path: string;
  /** File size in bytes. */
  bytes: number;
  /** Hex SHA-256 of the file contents. */
  sha256: string;
}

const encoder = new TextEncoder();
let tmpCounter = 0;

/** Little-endian byte builder with amortised growth. */
class ByteBuilder {
  private buf = Buffer.alloc(4096);
  length = 0;

  private reserve(n: number): number {
    const need = this.length + n;
    if (need > this.buf.length) {
      const next = Buffer.alloc(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    const o = this.length;
    this.length = need;
    return o;
  }

  // note: reserve() may replace this.buf, so it must run before this.buf is read
  u8(v: number): void { const o = this.reserve(1); this.buf.writeUInt8(v, o); }
  i8(v: number): void { const o = this.reserve(1); this.buf.writeInt8(v, o); }
  u16(v: number): void { const o = this.reserve(2); this.buf.writeUInt16LE(v, o); }
  i16(v: number): void { const o = this.reserve(2); this.buf.writeInt16LE(v, o); }
  u32(v: number): void { const o = this.reserve(4); this.buf.writeUInt32LE(v, o); }
  i32(v: number): void { const o = this.reserve(4); this.buf.writeInt32LE(v, o); }
  f32(v: number): void { const o = this.reserve(4); this.buf.writeFloatLE(v, o); }
  f64(v: number): void { const o = this.reserve(8); this.buf.writeDoubleLE(v, o); }
  u64(v: number | bigint): void { const o = this.reserve(8); this.buf.writeBigUInt64LE(BigInt(v), o); }
  i64(v: number | bigint): void { const o = this.reserve(8); this.buf.writeBigInt64LE(BigInt(v), o); }
  bytes(b: Uint8Array): void { const o = this.reserve(b.length); this.buf.set(b, o); }
  string(s: string): void {
    const b = encoder.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  zeros(n: number): void { this.reserve(n); /* Buffer.alloc is zero-filled; grown regions too */ }
  result(): Buffer { return this.buf.subarray(0, this.length); }
}

function invalid(message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', `GgufWriter: ${message}`);
}

const INT_RANGES: Partial<Record<GgufValueType, [number, number]>> = {
  [GgufValueType.UINT8]: [0, 0xff],
  [GgufValueType.INT8]: [-0x80, 0x7f],
  [GgufValueType.UINT16]: [0, 0xffff],
  [GgufValueType.INT16]: [-0x8000, 0x7fff],
  [GgufValueType.UINT32]: [0, 0xffffffff],
  [GgufValueType.INT32]: [-0x80000000, 0x7fffffff],
};

function checkItem(key: string, type: GgufItemType, v: unknown): void {
  const bad = (want: string): never => {
    throw invalid(`value ${String(v)} of '${key}' is not ${want} (${ggufValueTypeName(type)})`);
  };
  switch (type) {
    case GgufValueType.STRING:
      if (typeof v !== 'string') bad('a string');
      return;
    case GgufValueType.BOOL:
      if (typeof v !== 'boolean') bad('a boolean');
      return;
    case GgufValueType.FLOAT32:
    case GgufValueType.FLOAT64:
      if (typeof v !== 'number') bad('a number');
      return;
    case GgufValueType.UINT64:
    case GgufValueType.INT64: {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isSafeInteger(v))) bad('a safe integer or bigint');
      const b = BigInt(v as number | bigint);
      const [lo, hi] = type === GgufValueType.UINT64 ? [0n, (1n << 64n) - 1n] : [-(1n << 63n), (1n << 63n) - 1n];
      if (b < lo || b > hi) bad('in range');
      return;
    }
    default: {
      const r = INT_RANGES[type]!;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < r[0] || v > r[1]) bad(`an integer in ${r[0]}..${r[1]}`);
    }
  }
}

function writeItem(b: ByteBuilder, type: GgufItemType, v: unknown): void {
  switch (type) {
    case GgufValueType.UINT8: b.u8(v as number); break;
    case GgufValueType.INT8: b.i8(v as number); break;
    case GgufValueType.UINT16: b.u16(v as number); break;
    case GgufValueType.INT16: b.i16(v as number); break;
    case GgufValueType.UINT32: b.u32(v as number); break;
    case GgufValueType.INT32: b.i32(v as number); break;
    case GgufValueType.FLOAT32: b.f32(v as number); break;
    case GgufValueType.BOOL: b.i8(v ? 1 : 0); break;
    case GgufValueType.STRING: b.string(v as string); break;
    case GgufValueType.UINT64: b.u64(v as number | bigint); break;
    case GgufValueType.INT64: b.i64(v as number | bigint); break;
    case GgufValueType.FLOAT64: b.f64(v as number); break;
  }
}

function toBytes(u: Uint8Array | Uint16Array | Float32Array): Uint8Array {
  return new Uint8Array(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * Builds a GGUF v3 file.
 *
 * Metadata keys keep insertion order; setting a key again replaces its value in place.
 * Tensor data starts at a multiple of the alignment (32, or the UINT32 `general.alignment`
 * if set) and every tensor is padded to it, as llama.cpp's `gguf_write_to_file` does.
 *
 * @example
 * const w = new GgufWriter();
 * w.setString('general.architecture', 'controlvector');
 * w.addTensor('direction.1', [4096], GgmlType.F32, new Float32Array(4096));
 * await w.write('/tmp/cv.gguf');
 */
export class GgufWriter {
  private readonly kv = new Map<string, GgufValue>();
  private readonly tensors: PendingTensor[] = [];
  private readonly tensorNames = new Set<string>();

  /** Sets a metadata value with an explicit type; the value is validated against the type. */
  set(key: string, value: GgufValue): this {
    if (typeof key !== 'string' || key.length === 0) throw invalid('metadata key must be a non-empty string');
    if (value.type === GgufValueType.ARRAY) {
      if (value.itemType === (GgufValueType.ARRAY as number)) throw invalid(`array '${key}' cannot contain arrays`);
      if (!isGgufValueType(value.itemType)) throw invalid(`array '${key}' has unknown item type ${String(value.itemType)}`);
      if (!Array.isArray(value.value)) throw invalid(`array '${key}' needs an array of values`);
      for (const v of value.value) checkItem(key, value.itemType, v);
      this.kv.set(key, { type: value.type, itemType: value.itemType, value: [...value.value] as GgufValue['value'] } as GgufValue);
      return this;
    }
    if (!isGgufValueType(value.type)) throw invalid(`unknown value type ${String(value.type)} for '${key}'`);
    checkItem(key, value.type, value.value);
    if (key === GGUF_KEY_ALIGNMENT) {
      if (value.type !== GgufValueType.UINT32) throw invalid(`'${GGUF_KEY_ALIGNMENT}' must be UINT32`);
      const a = value.value as number;
      if (a === 0 || (a & (a - 1)) !== 0) throw invalid(`'${GGUF_KEY_ALIGNMENT}' must be a power of two, got ${a}`);
    }
    this.kv.set(key, { ...value });
    return this;
  }

  /** Sets a STRING value. */
  setString(key: string, value: string): this { return this.set(key, { type: GgufValueType.STRING, value }); }
  /** Sets a UINT8 value. */
  setU8(key: string, value: number): this { return this.set(key, { type: GgufValueType.UINT8, value }); }
  /** Sets an INT8 value. */
  setI8(key: string, value: number): this { return this.set(key, { type: GgufValueType.INT8, value }); }
  /** Sets a UINT16 value. */
  setU16(key: string, value: number): this { return this.set(key, { type: GgufValueType.UINT16, value }); }
  /** Sets an INT16 value. */
  setI16(key: string, value: number): this { return this.set(key, { type: GgufValueType.INT16, value }); }
  /** Sets a UINT32 value (`general.alignment` must be a power of two). */
  setU32(key: string, value: number): this { return this.set(key, { type: GgufValueType.UINT32, value }); }
  /** Sets an INT32 value. */
  setI32(key: string, value: number): this { return this.set(key, { type: GgufValueType.INT32, value }); }
  /** Sets a UINT64 value. */
  setU64(key: string, value: number | bigint): this { return this.set(key, { type: GgufValueType.UINT64, value }); }
  /** Sets an INT64 value. */
  setI64(key: string, value: number | bigint): this { return this.set(key, { type: GgufValueType.INT64, value }); }
  /** Sets a FLOAT32 value (rounded to float32 when written). */
  setF32(key: string, value: number): this { return this.set(key, { type: GgufValueType.FLOAT32, value }); }
  /** Sets a FLOAT64 value. */
  setF64(key: string, value: number): this { return this.set(key, { type: GgufValueType.FLOAT64, value }); }
  /** Sets a BOOL value. */
  setBool(key: string, value: boolean): this { return this.set(key, { type: GgufValueType.BOOL, value }); }

  /**
   * Sets an ARRAY value whose items all have `valueType`.
   * @param key metadata key
   * @param valueType item type (not ARRAY: GGUF arrays do not nest)
   * @param values the items (strings, booleans, numbers, or number/bigint for 64-bit ints)
   */
  setArray(key: string, valueType: GgufItemType, values: ArrayLike<string | number | bigint | boolean>): this {
    return this.set(key, { type: GgufValueType.ARRAY, itemType: valueType, value: Array.from(values) as GgufValue['value'] } as GgufValue);
  }

  /** Current value of a metadata key, or undefined. */
  get(key: string): GgufValue | undefined {
    return this.kv.get(key);
  }

  /** Tensors registered so far, in order. */
  get pendingTensors(): readonly PendingTensor[] {
    return this.tensors;
  }

  /** Alignment the file will use. */
  get alignment(): number {
    const a = this.kv.get(GGUF_KEY_ALIGNMENT);
    return a !== undefined && a.type === GgufValueType.UINT32 ? a.value : GGUF_DEFAULT_ALIGNMENT;
  }

  /**
   * Registers a tensor. Data is converted at write time: a `Float32Array` is stored as is
   * for F32, converted for F16, quantized for Q8_0 / Q4_0; a `Uint8Array` must already be
   * in the target type and exactly the right size.
   *
   * @param name unique name, at most 63 bytes of UTF-8
   * @param dims shape in ggml order (ne[0] first), 1–4 positive integers; ne[0] must be a
   *   multiple of the type's block size
   * @param type ggml type of the stored data
   * @param data contents, or a function producing them at write time
   */
  addTensor(name: string, dims: readonly number[], type: GgmlType, data: TensorSource): this {
    if (typeof name !== 'string' || name.length === 0) throw invalid('tensor name must be a non-empty string');
    if (encoder.encode(name).length > GGML_MAX_NAME_BYTES) throw invalid(`tensor name '${name}' is longer than ${GGML_MAX_NAME_BYTES} bytes`);
    if (this.tensorNames.has(name)) throw invalid(`tensor '${name}' added twice`);
    if (!Array.isArray(dims) || dims.length < 1 || dims.length > GGML_MAX_DIMS) throw invalid(`tensor '${name}' needs 1..${GGML_MAX_DIMS} dimensions`);
    for (const d of dims) {
      if (!Number.isSafeInteger(d) || d < 1) throw invalid(`tensor '${name}' has invalid dimension ${d}`);
    }
    if (!isGgmlType(type)) throw invalid(`tensor '${name}' has unknown ggml type ${String(type)}`);
    const traits = GGML_TYPE_TRAITS[type];
    if (dims[0]! % traits.blockSize !== 0) {
      throw invalid(`tensor '${name}': ne[0]=${dims[0]} is not a multiple of the ${traits.name} block size ${traits.blockSize}`);
    }
    const n = dims.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n)) throw invalid(`tensor '${name}' is too large`);
    const byteSize = (n / traits.blockSize) * traits.typeSize;
    if (typeof data !== 'function') this.checkData(name, type, dims, byteSize, data);
    this.tensors.push({ name, dims: [...dims], type, byteSize, source: data });
    this.tensorNames.add(name);
    return this;
  }

  private checkData(name: string, type: GgmlType, dims: readonly number[], byteSize: number, data: TensorData): void {
    if (data instanceof Float32Array) {
      const convertible: number[] = [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0];
      if (!convertible.includes(type)) {
        throw invalid(`tensor '${name}': float32 data can be stored as F32, F16, Q8_0 or Q4_0, not ${ggmlTypeName(type)}; pass raw bytes`);
      }
      const n = dims.reduce((a, b) => a * b, 1);
      if (data.length !== n) throw invalid(`tensor '${name}': ${data.length} values given, shape ${dims.join('x')} needs ${n}`);
    } else if (data instanceof Uint8Array) {
      if (data.length !== byteSize) throw invalid(`tensor '${name}': ${data.length} bytes given, ${ggmlTypeName(type)} ${dims.join('x')} needs ${byteSize}`);
    } else {
      throw invalid(`tensor '${name}': data must be a Uint8Array, a Float32Array or a function returning one`);
    }
  }

  private async encodeTensor(t: PendingTensor): Promise<Uint8Array> {
    const data = typeof t.source === 'function' ? await t.source() : t.source;
    this.checkData(t.name, t.type, t.dims, t.byteSize, data);
    if (data instanceof Uint8Array) return data;
    switch (t.type) {
      case GgmlType.F32: {
        // copy when the host is big-endian would be needed; all supported Node hosts are little-endian
        return toBytes(data);
      }
      case GgmlType.F16:
        return toBytes(floatsToHalves(data));
      case GgmlType.Q8_0:
        return quantizeQ8_0(data, t.dims[0]);
      default:
        return quantizeQ4_0(data, t.dims[0]);
    }
  }

  /** Encodes header, metadata and tensor infos, padded to the alignment when there are tensors. */
  private encodeHeader(): Buffer {
    const b = new ByteBuilder();
    b.bytes(encoder.encode('GGUF'));
    b.u32(GGUF_VERSION);
    b.u64(this.tensors.length);
    b.u64(this.kv.size);
    for (const [key, v] of this.kv) {
      b.string(key);
      b.i32(v.type);
      if (v.type === GgufValueType.ARRAY) {
        b.i32(v.itemType);
        b.u64(v.value.length);
        for (const item of v.value) writeItem(b, v.itemType, item);
      } else {
        writeItem(b, v.type, v.value);
      }
    }
    const align = this.alignment;
    let offset = 0;
    for (const t of this.tensors) {
      b.string(t.name);
      b.u32(t.dims.length);
      for (const d of t.dims) b.u64(d);
      b.i32(t.type);
      b.u64(offset);
      offset += padTo(t.byteSize, align);
    }
    if (this.tensors.length > 0) b.zeros(padTo(b.length, align) - b.length);
    return b.result();
  }

  /** Streams the file through `sink`, one tensor at a time. */
  private async emit(sink: (chunk: Uint8Array) => Promise<void> | void): Promise<number> {
    const header = this.encodeHeader();
    await sink(header);
    let total = header.length;
    const align = this.alignment;
    for (const t of this.tensors) {
      const bytes = await this.encodeTensor(t);
      await sink(bytes);
      const pad = padTo(bytes.length, align) - bytes.length;
      if (pad > 0) await sink(new Uint8Array(pad));
      total += bytes.length + pad;
    }
    return total;
  }

  /**
   * Builds the whole file in memory (for tests and small files).
   * @returns the file contents
   */
  async toBuffer(): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    await this.emit((c) => { parts.push(Buffer.from(c)); });
    return Buffer.concat(parts);
  }

  /**
   * Writes the file to `path`, streaming tensor by tensor. The data goes to a temporary
   * file next to `path` that is renamed into place when complete, so a crash never leaves
   * a truncated model under the final name.
   *
   * @param path destination
   * @returns size and SHA-256 of what was written
   * @throws EmosteerError INVALID_ARGUMENT for bad tensor data; Node errors for I/O failures
   */
  async write(path: string): Promise<GgufWriteResult> {
    if (typeof path !== 'string' || path.length === 0) throw invalid('write: path must be a non-empty string');
    const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}-${(tmpCounter++).toString(36)}`;
    const hash: Hash = createHash('sha256');
    const fh = await open(tmp, 'w');
    let bytes = 0;
    try {
      bytes = await this.emit(async (chunk) => {
        hash.update(chunk);
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, done, chunk.length - done);
          done += bytesWritten;
        }
      });
      await fh.close();
      await rename(tmp, path);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    return { path, bytes, sha256: hash.digest('hex') };
  }
}

function padTo(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}
