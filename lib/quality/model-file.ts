/**
 * What a GGUF file really holds, read from its tensor table: size, parameters, bits per
 * weight, and the bytes per ggml type (a "q3_k_m" file can be mostly Q4_0 after fallbacks).
 */
import { stat } from 'node:fs/promises';
import { readGguf } from '../gguf/reader.js';
import { ggmlTypeName } from '../gguf/types.js';

/** Facts of one GGUF file. */
export interface ModelFileFacts {
  /** Absolute path. */
  path: string;
  /** File size in bytes. */
  fileBytes: number;
  /** Bytes of tensor data. */
  tensorBytes: number;
  /** Elements of all tensors (parameters, embeddings and norms included). */
  parameters: number;
  /** Tensor bytes x 8 / parameters: what the file really spends per weight. */
  bitsPerWeight: number;
  /** Bytes of tensor data per ggml type name ('Q4_K', 'F32', ...). */
  bytesByType: Record<string, number>;
}

/**
 * Reads a GGUF file's tensor table (not its data).
 * @throws EmosteerError FILE_NOT_FOUND, NOT_GGUF, GGUF_TRUNCATED, GGUF_CORRUPT
 */
export async function modelFileFacts(path: string): Promise<ModelFileFacts> {
  const file = await readGguf(path);
  const fileBytes = (await stat(path)).size;
  let tensorBytes = 0;
  let parameters = 0;
  const bytesByType: Record<string, number> = {};
  for (const t of file.tensors) {
    tensorBytes += t.byteSize;
    parameters += t.dims.reduce((a, b) => a * b, 1);
    const name = ggmlTypeName(t.type);
    bytesByType[name] = (bytesByType[name] ?? 0) + t.byteSize;
  }
  return { path, fileBytes, tensorBytes, parameters, bitsPerWeight: parameters > 0 ? (tensorBytes * 8) / parameters : 0, bytesByType };
}
