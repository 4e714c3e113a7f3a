/**
 * Content identity by SHA-256: of bytes in memory, of a file streamed from disk, and of a file
 * remembered for as long as its path, size and modification time stay the same (a model is
 * hashed once per process, however many sets and runs name it).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/** SHA-256 (lower-case hex) of bytes, or of a string's UTF-8 encoding. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * SHA-256 (lower-case hex) of a whole file, streamed (never held in memory).
 * @param signal aborts the read
 */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h, { signal });
  return h.digest('hex');
}

const memo = new Map<string, string>();

/**
 * {@link sha256File}, remembered in this process by path, size and modification time: a file
 * is read again only after it changed (or was replaced).
 */
export async function fileSha256(path: string): Promise<string> {
  const st = await stat(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const digest = await sha256File(path);
  memo.set(key, digest);
  return digest;
}
