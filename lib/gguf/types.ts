/**
 * GGUF format constants and TypeScript types.
 *
 * GGUF is the single-file model format of ggml / llama.cpp. A file is
 * `magic "GGUF" | u32 version | u64 tensor count | u64 kv count | kv pairs | tensor infos |
 * padding | tensor data`, little-endian throughout. See llama.cpp's `ggml/include/gguf.h`.
 *
 * @module
 */

/** The GGUF version this package writes (and the newest it reads). */
export const GGUF_VERSION = 3;

/** Alignment of the tensor data section and of every tensor in it, unless `general.alignment` says otherwise. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Key whose UINT32 value overrides {@link GGUF_DEFAULT_ALIGNMENT}. */
export const GGUF_KEY_ALIGNMENT = 'general.alignment';

/** Longest tensor name ggml accepts, in bytes, excluding the terminating NUL (GGML_MAX_NAME - 1). */
export const GGML_MAX_NAME_BYTES = 63;

/** Most dimensions a ggml tensor can have. */
export const GGML_MAX_DIMS = 4;

/**
 * GGUF metadata value types (`enum gguf_type`), stored as int32 in the file.
 *
 * @example
 * writer.setArray('tokenizer.ggml.scores', GgufValueType.FLOAT32, scores);
 */
export const GgufValueType = {
  /** Unsigned 8-bit integer. */
  UINT8: 0,
  /** Signed 8-bit integer. */
  INT8: 1,
  /** Unsigned 16-bit integer. */
  UINT16: 2,
  /** Signed 16-bit integer. */
  INT16: 3,
  /** Unsigned 32-bit integer. */
  UINT32: 4,
  /** Signed 32-bit integer. */
  INT32: 5,
  /** 32-bit float. */
  FLOAT32: 6,
  /** Boolean (one byte, 0 or 1). */
  BOOL: 7,
  /** UTF-8 string (uint64 length, then the bytes). */
  STRING: 8,
  /** Array (item type, uint64 count, then the items; no nested arrays). */
  ARRAY: 9,
  /** Unsigned 64-bit integer (a number when it is a safe integer, else a bigint). */
  UINT64: 10,
  /** Signed 64-bit integer (a number when it is a safe integer, else a bigint). */
  INT64: 11,
  /** 64-bit float. */
  FLOAT64: 12,
} as const;

/** One of the numeric ids in {@link GgufValueType}. */
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/** The value types that may appear as array items (everything but ARRAY: GGUF has no nested arrays). */
export type GgufItemType = Exclude<GgufValueType, typeof GgufValueType.ARRAY>;

/** Value types stored as a JS `number` (8/16/32-bit integers and floats). */
export type GgufNumberType =
  | typeof GgufValueType.UINT8
  | typeof GgufValueType.INT8
  | typeof GgufValueType.UINT16
  | typeof GgufValueType.INT16
  | typeof GgufValueType.UINT32
  | typeof GgufValueType.INT32
  | typeof GgufValueType.FLOAT32
  | typeof GgufValueType.FLOAT64;

/** 64-bit integer value types; read as `number` when within ±2^53, else as `bigint`. */
export type GgufBigIntType = typeof GgufValueType.UINT64 | typeof GgufValueType.INT64;

const VALUE_TYPE_NAMES: Record<number, string> = {
  0: 'UINT8', 1: 'INT8', 2: 'UINT16', 3: 'INT16', 4: 'UINT32', 5: 'INT32', 6: 'FLOAT32',
  7: 'BOOL', 8: 'STRING', 9: 'ARRAY', 10: 'UINT64', 11: 'INT64', 12: 'FLOAT64',
};

/** Size in bytes of one value of a fixed-size type; 0 for STRING and ARRAY. */
export const GGUF_VALUE_TYPE_SIZE: Readonly<Record<GgufValueType, number>> = {
  0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 0, 9: 0, 10: 8, 11: 8, 12: 8,
};

/**
 * Name of a GGUF value type id, e.g. `ggufValueTypeName(4) === 'UINT32'`.
 * @param type a value-type id (any number is accepted)
 * @returns the name, or `unknown(<id>)` for ids outside the enum
 */
export function ggufValueTypeName(type: number): string {
  return VALUE_TYPE_NAMES[type] ?? `unknown(${type})`;
}

/**
 * True when `type` is one of the ids in {@link GgufValueType}.
 * @param type any number read from a file
 */
export function isGgufValueType(type: number): type is GgufValueType {
  return Number.isInteger(type) && type >= 0 && type <= 12;
}

/** A scalar GGUF metadata value of a numeric type (8–32 bit ints, float32, float64). */
export interface GgufNumberValue {
  /** The stored value type. */
  type: GgufNumberType;
  /** The value. */
  value: number;
}

/** A scalar UINT64 / INT64 value: a `number` when it is a safe integer, otherwise a `bigint`. */
export interface GgufBigIntValue {
  /** The stored value type. */
  type: GgufBigIntType;
  /** The value. */
  value: number | bigint;
}

/** A scalar BOOL value. */
export interface GgufBoolValue {
  /** Always {@link GgufValueType.BOOL}. */
  type: typeof GgufValueType.BOOL;
  /** The value. */
  value: boolean;
}

/** A scalar STRING value (UTF-8 in the file). */
export interface GgufStringValue {
  /** Always {@link GgufValueType.STRING}. */
  type: typeof GgufValueType.STRING;
  /** The value. */
  value: string;
}

/** The JS type used for one item of a GGUF array, by item type. */
export type GgufArrayItems =
  | number[]
  | (number | bigint)[]
  | boolean[]
  | string[];

/** An ARRAY value: all items share `itemType`; arrays never nest. */
export interface GgufArrayValue {
  /** Always {@link GgufValueType.ARRAY}. */
  type: typeof GgufValueType.ARRAY;
  /** Type of every item. */
  itemType: GgufItemType;
  /** The items: `number[]` for numeric types, `(number|bigint)[]` for 64-bit ints, `boolean[]`, `string[]`. */
  value: GgufArrayItems;
}

/** Any GGUF metadata value together with its stored type. */
export type GgufValue =
  | GgufNumberValue
  | GgufBigIntValue
  | GgufBoolValue
  | GgufStringValue
  | GgufArrayValue;

/**
 * ggml tensor type ids (`enum ggml_type`) as stored in GGUF tensor infos.
 * Ids 4, 5 and 31–33, 36–38 were removed from ggml and are not valid in files.
 */
export const GgmlType = {
  /** 32-bit IEEE float: 4 bytes per element. */
  F32: 0,
  /** 16-bit IEEE half float: 2 bytes per element. */
  F16: 1,
  /** 4-bit quantization with one f16 scale per block: blocks of 32 elements in 18 bytes, 4.5 bits per weight. */
  Q4_0: 2,
  /** 4-bit quantization with an f16 scale and minimum per block: blocks of 32 elements in 20 bytes, 5 bits per weight. */
  Q4_1: 3,
  /** 5-bit quantization with one f16 scale per block: blocks of 32 elements in 22 bytes, 5.5 bits per weight. */
  Q5_0: 6,
  /** 5-bit quantization with an f16 scale and minimum per block: blocks of 32 elements in 24 bytes, 6 bits per weight. */
  Q5_1: 7,
  /** 8-bit quantization with one f16 scale per block: blocks of 32 elements in 34 bytes, 8.5 bits per weight. */
  Q8_0: 8,
  /** 8-bit quantization with an f16 scale and sum per block (an intermediate of dot products): blocks of 32 elements in 36 bytes, 9 bits per weight. */
  Q8_1: 9,
  /** 2-bit k-quant: blocks of 256 elements in 84 bytes, 2.625 bits per weight. */
  Q2_K: 10,
  /** 3-bit k-quant: blocks of 256 elements in 110 bytes, 3.4375 bits per weight. */
  Q3_K: 11,
  /** 4-bit k-quant: blocks of 256 elements in 144 bytes, 4.5 bits per weight. */
  Q4_K: 12,
  /** 5-bit k-quant: blocks of 256 elements in 176 bytes, 5.5 bits per weight. */
  Q5_K: 13,
  /** 6-bit k-quant: blocks of 256 elements in 210 bytes, 6.5625 bits per weight. */
  Q6_K: 14,
  /** 8-bit k-quant (an intermediate of dot products): blocks of 256 elements in 292 bytes, 9.125 bits per weight. */
  Q8_K: 15,
  /** 2-bit i-quant: blocks of 256 elements in 66 bytes, 2.0625 bits per weight. */
  IQ2_XXS: 16,
  /** 2-bit i-quant: blocks of 256 elements in 74 bytes, 2.3125 bits per weight. */
  IQ2_XS: 17,
  /** 3-bit i-quant: blocks of 256 elements in 98 bytes, 3.0625 bits per weight. */
  IQ3_XXS: 18,
  /** 1-bit i-quant: blocks of 256 elements in 50 bytes, 1.5625 bits per weight. */
  IQ1_S: 19,
  /** 4-bit i-quant with a non-linear grid: blocks of 32 elements in 18 bytes, 4.5 bits per weight. */
  IQ4_NL: 20,
  /** 3-bit i-quant: blocks of 256 elements in 110 bytes, 3.4375 bits per weight. */
  IQ3_S: 21,
  /** 2-bit i-quant: blocks of 256 elements in 82 bytes, 2.5625 bits per weight. */
  IQ2_S: 22,
  /** 4-bit i-quant: blocks of 256 elements in 136 bytes, 4.25 bits per weight. */
  IQ4_XS: 23,
  /** 8-bit signed integer: 1 byte per element. */
  I8: 24,
  /** 16-bit signed integer: 2 bytes per element. */
  I16: 25,
  /** 32-bit signed integer: 4 bytes per element. */
  I32: 26,
  /** 64-bit signed integer: 8 bytes per element. */
  I64: 27,
  /** 64-bit IEEE float: 8 bytes per element. */
  F64: 28,
  /** 1-bit i-quant: blocks of 256 elements in 56 bytes, 1.75 bits per weight. */
  IQ1_M: 29,
  /** Bfloat16 (8-bit exponent, 7-bit mantissa): 2 bytes per element. */
  BF16: 30,
  /** Ternary quantization: blocks of 256 elements in 54 bytes, 1.6875 bits per weight. */
  TQ1_0: 34,
  /** Ternary quantization: blocks of 256 elements in 66 bytes, 2.0625 bits per weight. */
  TQ2_0: 35,
  /** 4-bit float (MXFP4, E2M1) with a shared E8M0 scale per block: blocks of 32 elements in 17 bytes, 4.25 bits per weight. */
  MXFP4: 39,
  /** 4-bit float (NVFP4) with block scales: blocks of 64 elements in 36 bytes, 4.5 bits per weight. */
  NVFP4: 40,
  /** 1-bit quantization with one f16 scale per block: blocks of 128 elements in 18 bytes, 1.125 bits per weight. */
  Q1_0: 41,
  /** 2-bit quantization with one f16 scale per block: blocks of 64 elements in 18 bytes, 2.25 bits per weight. */
  Q2_0: 42,
} as const;

/** One of the numeric ids in {@link GgmlType}. */
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** Storage layout of one ggml tensor type. */
export interface GgmlTypeTraits {
  /** Name as ggml prints it (`F32`, `Q4_0`, ...). */
  name: string;
  /** Elements per block (1 for plain types, 32 for Q4_0/Q8_0, 256 for K-quants). */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

const QK_K = 256;

/** Block size and bytes per block of each ggml type known to this package (mirrors ggml's type_traits). */
export const GGML_TYPE_TRAITS: Readonly<Record<GgmlType, GgmlTypeTraits>> = {
  0: { name: 'F32', blockSize: 1, typeSize: 4 },
  1: { name: 'F16', blockSize: 1, typeSize: 2 },
  2: { name: 'Q4_0', blockSize: 32, typeSize: 2 + 16 },
  3: { name: 'Q4_1', blockSize: 32, typeSize: 2 + 2 + 16 },
  6: { name: 'Q5_0', blockSize: 32, typeSize: 2 + 4 + 16 },
  7: { name: 'Q5_1', blockSize: 32, typeSize: 2 + 2 + 4 + 16 },
  8: { name: 'Q8_0', blockSize: 32, typeSize: 2 + 32 },
  9: { name: 'Q8_1', blockSize: 32, typeSize: 2 + 2 + 32 }, // ggml_half d, s; int8 qs[32] (36 bytes)
  10: { name: 'Q2_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 16 + QK_K / 4 },
  11: { name: 'Q3_K', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 + 12 },
  12: { name: 'Q4_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + 12 },
  13: { name: 'Q5_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + QK_K / 8 + 12 },
  14: { name: 'Q6_K', blockSize: QK_K, typeSize: 2 + QK_K / 2 + QK_K / 4 + QK_K / 16 },
  15: { name: 'Q8_K', blockSize: QK_K, typeSize: 4 + QK_K + QK_K / 8 },
  16: { name: 'IQ2_XXS', blockSize: QK_K, typeSize: 2 + QK_K / 4 },
  17: { name: 'IQ2_XS', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 32 },
  18: { name: 'IQ3_XXS', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 },
  19: { name: 'IQ1_S', blockSize: QK_K, typeSize: 2 + QK_K / 8 + QK_K / 16 },
  20: { name: 'IQ4_NL', blockSize: 32, typeSize: 2 + 16 },
  21: { name: 'IQ3_S', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4 },
  22: { name: 'IQ2_S', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 16 },
  23: { name: 'IQ4_XS', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + QK_K / 64 },
  24: { name: 'I8', blockSize: 1, typeSize: 1 },
  25: { name: 'I16', blockSize: 1, typeSize: 2 },
  26: { name: 'I32', blockSize: 1, typeSize: 4 },
  27: { name: 'I64', blockSize: 1, typeSize: 8 },
  28: { name: 'F64', blockSize: 1, typeSize: 8 },
  29: { name: 'IQ1_M', blockSize: QK_K, typeSize: QK_K / 8 + QK_K / 16 + QK_K / 32 },
  30: { name: 'BF16', blockSize: 1, typeSize: 2 },
  34: { name: 'TQ1_0', blockSize: QK_K, typeSize: 2 + 4 * 13 },
  35: { name: 'TQ2_0', blockSize: QK_K, typeSize: 2 + 64 },
  39: { name: 'MXFP4', blockSize: 32, typeSize: 1 + 16 },
  40: { name: 'NVFP4', blockSize: 64, typeSize: 4 + 32 },
  41: { name: 'Q1_0', blockSize: 128, typeSize: 2 + 16 },
  42: { name: 'Q2_0', blockSize: 64, typeSize: 2 + 16 },
};

/**
 * True when `type` is a ggml type id this package knows the layout of.
 * @param type any number read from a file
 */
export function isGgmlType(type: number): type is GgmlType {
  return Number.isInteger(type) && Object.prototype.hasOwnProperty.call(GGML_TYPE_TRAITS, type);
}

/**
 * Name of a ggml tensor type id, e.g. `ggmlTypeName(8) === 'Q8_0'`.
 * @param type a ggml type id (any number is accepted)
 * @returns the name, or `unknown(<id>)`
 */
export function ggmlTypeName(type: number): string {
  return isGgmlType(type) ? GGML_TYPE_TRAITS[type].name : `unknown(${type})`;
}

/**
 * `general.file_type` values (`enum llama_ftype`) for the types this package writes.
 * Other values exist (K-quants, IQ types); see llama.h.
 */
export const LlamaFileType = {
  ALL_F32: 0,
  MOSTLY_F16: 1,
  MOSTLY_Q4_0: 2,
  MOSTLY_Q4_1: 3,
  MOSTLY_Q8_0: 7,
  MOSTLY_Q5_0: 8,
  MOSTLY_Q5_1: 9,
  MOSTLY_BF16: 32,
} as const;

/** One of the numeric ids in {@link LlamaFileType}. */
export type LlamaFileType = (typeof LlamaFileType)[keyof typeof LlamaFileType];

/** Tokenizer token types (`tokenizer.ggml.token_type`, `enum llama_token_type`). */
export const LlamaTokenType = {
  UNDEFINED: 0,
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/** One of the numeric ids in {@link LlamaTokenType}. */
export type LlamaTokenType = (typeof LlamaTokenType)[keyof typeof LlamaTokenType];

/** Description of one tensor in a GGUF file (its data is not loaded). */
export interface GgufTensorInfo {
  /** Tensor name, e.g. `blk.0.attn_q.weight`. */
  name: string;
  /** Shape in ggml order: `dims[0]` is ne[0], the contiguous (row) dimension. */
  dims: number[];
  /** ggml type id. */
  type: GgmlType;
  /** Offset of the data relative to {@link GgufFile.dataOffset}. */
  offset: number;
  /** Size of the data in bytes, without alignment padding. */
  byteSize: number;
}

/** Header, metadata and tensor directory of a GGUF file, as returned by `readGguf`. */
export interface GgufFile {
  /** Path the file was read from. */
  path: string;
  /** GGUF version (2 or 3). */
  version: number;
  /** Metadata key/value pairs in file order. */
  kv: Map<string, GgufValue>;
  /** Tensor infos in file order. */
  tensors: GgufTensorInfo[];
  /** Absolute file offset of the tensor data section. */
  dataOffset: number;
  /** Alignment of the data section (from `general.alignment`, default 32). */
  alignment: number;
  /** Size of the file in bytes. */
  fileSize: number;
}
