/**
 * The text a quality comparison is measured on, and its cut into chunks the way llama.cpp's
 * `llama-perplexity` cuts it.
 *
 * The default corpus is Lewis Carroll's *Alice's Adventures in Wonderland* (1865, public
 * domain), the file `alice29.txt` of the Canterbury corpus (the Millennium Fulcrum Edition 2.9
 * etext of Project Gutenberg, without its header), as shipped in the source distribution of the
 * `brotli` package on PyPI (`brotli==1.2.1`, `tests/testdata/alice29.txt`). It is shipped
 * unchanged (CRLF line ends included) in `lib/quality/corpus/` and checked by its sha256 when
 * read. docs/quality.md says more.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { packageRoot } from '../runtime/native.js';

/** Where a corpus comes from. */
export interface CorpusInfo {
  /** Short name, e.g. `alice29`. */
  name: string;
  /** What the text is and where it was taken from. */
  source: string;
  /** Its licence. */
  license: string;
  /** sha256 (hex) of the file's bytes. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
}

/** The default corpus: *Alice's Adventures in Wonderland*, see the module comment. */
export const DEFAULT_CORPUS: Readonly<CorpusInfo> = Object.freeze({
  name: 'alice29',
  source: "Lewis Carroll, Alice's Adventures in Wonderland (1865): alice29.txt of the Canterbury corpus (Project Gutenberg's Millennium Fulcrum Edition 2.9), " +
    'as shipped in the PyPI source distribution brotli==1.2.1 (tests/testdata/alice29.txt; sdist sha256 02b2f7b5a83485efe448a44ddf7983def05c3bb1dcf917d4f7154070260e13de)',
  license: 'public domain (published 1865; the author died in 1898)',
  sha256: '7467306ee0feed4971260f3c87421154a05be571d944e9cb021a5713700c38f0',
  bytes: 152089,
});

/** Absolute path of the default corpus file. */
export function defaultCorpusPath(): string {
  return join(packageRoot, 'lib', 'quality', 'corpus', 'alice29.txt');
}

/**
 * The default corpus's text, checked against its pinned sha256.
 * @throws EmosteerError CHECKSUM_MISMATCH when the shipped file was altered, FILE_NOT_FOUND when it is missing
 */
export async function readDefaultCorpus(): Promise<string> {
  const path = defaultCorpusPath();
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new EmosteerError('FILE_NOT_FOUND', `the default quality corpus ${path} is missing (a broken install?): pass your own text`, { cause: err });
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== DEFAULT_CORPUS.sha256) {
    throw new EmosteerError('CHECKSUM_MISMATCH', `the default quality corpus ${path} has sha256 ${sha}, not the pinned ${DEFAULT_CORPUS.sha256}: reinstall the package`);
  }
  return bytes.toString('utf8');
}

/** sha256 (hex) of a text's UTF-8 bytes. */
export function textSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Token chunks of a text, as `llama-perplexity` forms them. */
export interface Chunks {
  /** Each chunk's tokens (contextSize of them; the first is BOS when the model adds one). */
  chunks: Int32Array[];
  /** Tokens of the whole text (BOS included when the model adds one). */
  textTokens: number;
  /** First scored position: tokens `scoreFrom..contextSize-1` of each chunk are scored. */
  scoreFrom: number;
}

/**
 * Cuts the tokens of a text into chunks the way `llama-perplexity` does: `floor(n / ctx)`
 * consecutive chunks of `ctx` tokens (the rest is dropped), the first token of each chunk
 * replaced by BOS when the model adds BOS; only the second half of each chunk is scored (the
 * positions `ctx/2 .. ctx-2` predict tokens `ctx/2 + 1 .. ctx - 1`), so every scored token has
 * at least `ctx/2` tokens of context.
 *
 * @param tokens the whole text's tokens, as the model's tokenizer gives them with special tokens added
 * @param bos the BOS token id when the model adds BOS, else null
 * @throws EmosteerError INVALID_ARGUMENT when `ctx` is not an even number >= 8 or the text has fewer than `ctx` tokens
 */
export function chunkTokens(tokens: Int32Array, ctx: number, bos: number | null, maxChunks?: number): Chunks {
  if (!Number.isInteger(ctx) || ctx < 8 || ctx % 2 !== 0) throw new EmosteerError('INVALID_ARGUMENT', `the context size must be an even integer >= 8 (got ${ctx})`);
  const available = Math.floor(tokens.length / ctx);
  if (available < 1) {
    throw new EmosteerError('INVALID_ARGUMENT', `the text has ${tokens.length} tokens, fewer than one chunk of ${ctx}: give a longer text or a smaller context size`);
  }
  if (maxChunks !== undefined && (!Number.isInteger(maxChunks) || maxChunks < 1)) throw new EmosteerError('INVALID_ARGUMENT', `chunks must be a positive integer (got ${maxChunks})`);
  const n = Math.min(available, maxChunks ?? available);
  const chunks: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const c = tokens.slice(i * ctx, (i + 1) * ctx);
    if (bos !== null) c[0] = bos;
    chunks.push(c);
  }
  return { chunks, textTokens: tokens.length, scoreFrom: ctx / 2 + 1 };
}
