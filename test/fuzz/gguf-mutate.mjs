/**
 * GGUF mutation for fuzzing: a map of the header's fields (where every count, string length,
 * value type, tensor dimension, tensor type and tensor offset of a well-formed file lies) and a
 * deterministic mutant generator over it. Used by test/addon/fuzz-gguf.test.ts (with fast-check) and
 * scripts/fuzz-gguf-load.mjs (mutants handed to loadModel in child processes).
 *
 * @module
 */

import { seededRandom } from '../../dist/evaluate/statistics.js';

const FIXED_SIZE = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;

/**
 * The fields of a well-formed GGUF's header, in file order: `{ at, size, kind, key? }` with
 * kind one of version, tensorCount, kvCount, strlen, valueType, arrayItemType, arrayCount,
 * value (a fixed-size metadata value; `key` names it), nDims, dim, ggmlType, tensorOffset.
 * `headerEnd` is the offset where the tensor infos end.
 * @param {Buffer} b
 */
export function ggufFields(b) {
  const fields = [];
  let o = 0;
  const field = (size, kind, key) => { fields.push({ at: o, size, kind, ...(key ? { key } : {}) }); o += size; };
  const str = (kind = 'strlen') => { const n = Number(b.readBigUInt64LE(o)); field(8, kind); const s = b.subarray(o, o + n).toString('utf8'); o += n; return s; };
  o = 4;
  field(4, 'version');
  const nTensors = Number(b.readBigInt64LE(o)); field(8, 'tensorCount');
  const nKv = Number(b.readBigInt64LE(o)); field(8, 'kvCount');
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = b.readInt32LE(o); field(4, 'valueType', key);
    if (type === STRING) str();
    else if (type === ARRAY) {
      const item = b.readInt32LE(o); field(4, 'arrayItemType', key);
      const n = Number(b.readBigUInt64LE(o)); field(8, 'arrayCount', key);
      if (item === STRING) for (let k = 0; k < n; k++) str('arrayStrlen');
      else o += n * FIXED_SIZE[item];
    } else field(FIXED_SIZE[type], 'value', key);
  }
  for (let i = 0; i < nTensors; i++) {
    str('tensorNameLen');
    const nDims = b.readUInt32LE(o); field(4, 'nDims');
    for (let d = 0; d < nDims; d++) field(8, 'dim');
    field(4, 'ggmlType');
    field(8, 'tensorOffset');
  }
  return { fields, headerEnd: o };
}


/** Values worth writing into a field of `size` bytes of a file of `fileSize` bytes. */
export function interestingValues(size, fileSize) {
  if (size === 8) return [0n, 1n, 2n, 255n, 1n << 31n, 1n << 32n, 1n << 40n, (1n << 53n) + 1n, 1n << 62n, (1n << 63n) - 1n, (1n << 64n) - 1n, BigInt(fileSize), BigInt(fileSize + 1), BigInt(fileSize * 2)];
  if (size === 4) return [0, 1, 2, 3, 7, 13, 31, 32, 99, 255, 0x7fffffff, 0x80000000, 0xffffffff, fileSize];
  if (size === 2) return [0, 1, 0x7fff, 0xffff];
  return [0, 1, 0x7f, 0xff];
}

/** Writes `v` (bigint or number) into `b` at `at` as a little-endian unsigned field of `size` bytes. */
export function writeField(b, at, size, v) {
  const big = BigInt.asUintN(size * 8, BigInt(v));
  for (let k = 0; k < size; k++) b[at + k] = Number((big >> BigInt(8 * k)) & 0xffn);
}

const STRATEGIES = ['truncate', 'truncateHeader', 'flipHeader', 'flipAnywhere', 'field', 'field', 'field', 'modelValue', 'dim', 'tensorOffset', 'valueType'];

/**
 * Mutant `index` of `base` (deterministic in `seed` and `index`): one of truncation, bit flips
 * in the header or anywhere, an interesting value written into a header field, a changed model
 * hyper-parameter, tensor dimension, tensor offset or value type.
 * @returns {{ bytes: Buffer, how: string }}
 */
export function mutant(base, map, seed, index) {
  const r = seededRandom((seed * 0x9e3779b1) ^ (index * 0x85ebca77) ^ 0x1234567);
  const int = (n) => Math.floor(r() * n);
  const pick = (xs) => xs[int(xs.length)];
  const strategy = pick(STRATEGIES);
  const b = Buffer.from(base);
  const ofKind = (...kinds) => map.fields.filter((f) => kinds.includes(f.kind));
  const setField = (f, v) => { writeField(b, f.at, f.size, v); return `${f.kind}${f.key ? ` '${f.key}'` : ''}@${f.at} = ${v}`; };
  const value = (f) => (r() < 0.75 ? pick(interestingValues(f.size, base.length)) : BigInt(int(2 ** 30)) * BigInt(int(2 ** 30)));
  switch (strategy) {
    case 'truncate': { const n = int(base.length); return { bytes: b.subarray(0, n), how: `truncate to ${n}` }; }
    case 'truncateHeader': { const n = int(map.headerEnd + 1); return { bytes: b.subarray(0, n), how: `truncate to ${n} (header)` }; }
    case 'flipHeader':
    case 'flipAnywhere': {
      const span = strategy === 'flipHeader' ? map.headerEnd : base.length;
      const flips = [];
      for (let k = 1 + int(8); k > 0; k--) { const at = int(span); const bit = int(8); b[at] ^= 1 << bit; flips.push(`${at}.${bit}`); }
      return { bytes: b, how: `flip bits ${flips.join(',')}` };
    }
    case 'field': {
      const kinds = [...new Set(map.fields.map((f) => f.kind))];
      const f = pick(ofKind(pick(kinds)));
      return { bytes: b, how: setField(f, value(f)) };
    }
    case 'modelValue': {
      const f = pick(ofKind('value'));
      const small = [0, 1, 2, 3, 5, 64, 1000, 0xffffffff];
      return { bytes: b, how: setField(f, r() < 0.6 ? pick(small) : value(f)) };
    }
    case 'dim': {
      const f = pick(ofKind('dim', 'nDims'));
      const v = f.kind === 'nDims' ? int(6) : pick([0, 1, 2, 31, 33, 64, 128, 4096, 1 << 20, 2 ** 40]);
      return { bytes: b, how: setField(f, v) };
    }
    case 'tensorOffset': {
      const f = pick(ofKind('tensorOffset'));
      return { bytes: b, how: setField(f, pick([BigInt(base.length), BigInt(base.length - 32), 32n, 0n, (1n << 63n) - 32n, (1n << 64n) - 32n, BigInt(Math.floor(base.length / 64) * 32)])) };
    }
    default: {
      const f = pick(ofKind('valueType', 'arrayItemType', 'ggmlType'));
      return { bytes: b, how: setField(f, pick([-1, 9, 13, 14, 40, 99, 0x7fffffff, int(40)])) };
    }
  }
}
