/**
 * Run folders, in one place: the names of what a run folder and a study folder hold, the
 * vector sets in a run folder, the anisotropy cache, the check that a set comes from a given
 * model file, and the "is this step done" tests the main job resumes by.
 *
 * A run folder (`emosteer run --out <dir>`, or one model of a study, `<study>/<model id>/`):
 *
 * ```
 * comprehension/  generation/   vector sets (manifest.json, ...; checkpoint.jsonl while extracting)
 * anisotropy.json               the anisotropy baseline of the model (a cache, keyed by the model's sha256)
 * evaluation.json               the evaluation of every set
 * geometry.json                 every set's emotion dissimilarity matrix at every block (for RSA)
 * steering.json                 the steering experiment ({@link SavedSteeringResult}; steering.json.gz when large); steering.partial.jsonl while it runs
 * report.html                   the report
 * ```
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { measureAnisotropy, readCachedAnisotropy, writeCachedAnisotropy, type AnisotropyProfile } from '../evaluate/anisotropy.js';
import { GEOMETRY_FILE } from '../evaluate/block-geometry.js';
import { findSets } from '../evaluate/evaluate.js';
import type { EvaluationResult } from '../evaluate/types.js';
import { fileSha256 } from '../extract/common.js';
import type { Model } from '../runtime/model.js';
import { encodeSteering, readSteeringFile, readSteeringFileSync, steeringFile, STEERING_FILES } from '../steer/steering-file.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';

/** The two extraction methods, and the names of their set folders in a run folder. */
export type ExtractionMethod = 'comprehension' | 'generation';

/** What a run folder holds, by name (relative to the run folder, or to a set folder for `extractionCheckpoint`). */
export const RUN_FILES = Object.freeze({
  /** The comprehension set's folder. */
  comprehension: 'comprehension',
  /** The generation set's folder. */
  generation: 'generation',
  /** Inside a set folder while it is extracted: the finished samples (removed once the set is saved). */
  extractionCheckpoint: 'checkpoint.jsonl',
  /** A set folder's manifest: the set is complete when it exists. */
  manifest: 'manifest.json',
  /** The anisotropy baseline of the model the sets come from (reused only for the same file). */
  anisotropy: 'anisotropy.json',
  /** The evaluation of every set. */
  evaluation: 'evaluation.json',
  /** Every set's emotion geometry at every block (lib/evaluate/block-geometry.ts): what the study's RSA reads. */
  geometry: GEOMETRY_FILE,
  /** The steering experiment. */
  steering: STEERING_FILES.json,
  /** The steering experiment when its JSON is large: the same JSON, gzipped (one or the other exists; lib/steer/steering-file.ts). */
  steeringGzip: STEERING_FILES.gzip,
  /** While the steering experiment runs: every finished continuation (a rerun resumes from it). */
  steeringCheckpoint: 'steering.partial.jsonl',
  /** The specificity matrix (docs/PREREG.md). */
  specificity: 'specificity.json',
  /** While the specificity run runs: every finished continuation with its scores. */
  specificityCheckpoint: 'specificity.partial.jsonl',
  /** The report. */
  report: 'report.html',
} as const);

/** What a study folder holds (`study`, `claims`, `report`) and what each model's run folder in it holds besides {@link RUN_FILES}. */
export const STUDY_FILES = Object.freeze({
  /** The study ({@link "emosteer/study"!StudyResult | StudyResult}). */
  study: 'study.json',
  /** The claims table in Markdown. */
  claims: 'claims.md',
  /** The cross-model report. */
  report: 'report.html',
  /** In a model's folder: seconds per step, summed over resumed sessions. */
  times: 'study-times.json',
  /** In a model's folder: the error that stopped the model, kept for reports written later. */
  error: 'study-error.json',
  /** In a quantized variant's folder: what the quantized file holds. */
  quantization: 'quantization.json',
} as const);

/** True when `<dir>/<method>/manifest.json` exists: that set has been extracted and saved. */
export function extractionDone(dir: string, method: ExtractionMethod): boolean {
  return existsSync(join(dir, method, RUN_FILES.manifest));
}

/** True when every read-out variant `<dir>/<method>.<read-out>/` of a method has been saved. */
export function readoutsDone(dir: string, method: ExtractionMethod, readouts: readonly string[]): boolean {
  return readouts.every((r) => existsSync(join(dir, `${method}.${r}`, RUN_FILES.manifest)));
}

/**
 * True when `<dir>/evaluation.json` exists and covers every method asked for (a set
 * extracted after it makes it stale).
 */
export function evaluationDone(dir: string, methods: readonly ExtractionMethod[]): boolean {
  const p = join(dir, RUN_FILES.evaluation);
  if (!existsSync(p)) return false;
  try {
    const e = JSON.parse(readFileSync(p, 'utf8')) as { methods?: Record<string, unknown> };
    return methods.every((m) => e.methods?.[m] !== undefined);
  } catch {
    return false;
  }
}

/** True when `<dir>` holds its steering experiment (`steering.json` or `steering.json.gz`). */
export function steeringDone(dir: string): boolean {
  return steeringFile(dir) !== undefined;
}

/** True when the steering runs of `<dir>` have been re-judged by an LLM judge. */
export function llmJudgeDone(dir: string): boolean {
  try {
    return Boolean(readSteeringFileSync(dir)?.llmJudge);
  } catch {
    return false;
  }
}

/**
 * Loads one set of a run folder: `method`, or comprehension when there is one, else the first.
 * @throws EmosteerError `INVALID_ARGUMENT` when there is no such set (the message lists those there are)
 */
export async function loadRunSet(dir: string, method?: string, options: { activations?: boolean } = {}): Promise<EmotionVectorSet> {
  const sets = await findSets(dir);
  const chosen = method ?? (sets.has('comprehension') ? 'comprehension' : [...sets.keys()][0]!);
  const setDir = sets.get(chosen);
  if (!setDir) throw new EmosteerError('INVALID_ARGUMENT', `no '${chosen}' set in ${dir} (have: ${[...sets.keys()].join(', ')})`);
  return EmotionVectorSet.load(setDir, options);
}

/**
 * The model file recorded in a set, when it is still there.
 * @throws EmosteerError `FILE_NOT_FOUND` when it is not at its recorded path
 */
export function recordedModelPath(set: EmotionVectorSet): string {
  const path = set.meta.model.path;
  if (!path || !existsSync(path)) {
    throw new EmosteerError('FILE_NOT_FOUND', `the model of the set (${set.meta.model.description}) is not at its recorded path${path ? ` ${path}` : ''}; pass the model (--model <gguf>)`);
  }
  return path;
}

/**
 * Checks that a set was extracted from the model file at `modelPath` (same sha256; the hash
 * of a file is computed once per process and modification time).
 * @throws EmosteerError `FILE_NOT_FOUND` when there is no such file, `INVALID_ARGUMENT` when it was not
 */
export async function assertSetFromModel(set: EmotionVectorSet, modelPath: string): Promise<void> {
  if (!existsSync(modelPath)) throw new EmosteerError('FILE_NOT_FOUND', `${modelPath}: no such model file`);
  if ((await fileSha256(modelPath)) !== set.meta.model.sha256) {
    throw new EmosteerError('INVALID_ARGUMENT', `${modelPath} is not the model the set was extracted from (sha256 differs); pass the right model (--model <gguf>)`);
  }
}

/** The anisotropy profile cached in `<dir>/anisotropy.json` for the model file with this sha256, or null. */
export async function cachedAnisotropy(dir: string, modelSha256: string): Promise<AnisotropyProfile | null> {
  return readCachedAnisotropy(dir, modelSha256);
}

/**
 * The anisotropy profile of `model` for run folder `dir`: the cached one when it belongs to
 * the same file, else measured on the model and cached (the evaluation then reads it from
 * there instead of loading the model again).
 */
export async function ensureAnisotropy(dir: string, model: Model): Promise<AnisotropyProfile> {
  const cached = await readCachedAnisotropy(dir, await fileSha256(model.info.path));
  if (cached) return cached;
  const profile = await measureAnisotropy(model);
  await writeCachedAnisotropy(dir, profile);
  return profile;
}

/**
 * `<dir>/evaluation.json` when it is newer than every set it evaluates (a set extracted again
 * after it makes it stale), else null.
 */
export async function readFreshEvaluation(dir: string): Promise<EvaluationResult | null> {
  try {
    const file = join(dir, RUN_FILES.evaluation);
    const st = await stat(file);
    const result = JSON.parse(await readFile(file, 'utf8')) as EvaluationResult;
    for (const m of Object.keys(result.methods)) {
      for (const setDir of [join(dir, m), dir]) {
        const manifest = await stat(join(setDir, RUN_FILES.manifest)).catch(() => null);
        if (manifest && manifest.mtimeMs > st.mtimeMs) return null;
      }
    }
    return result;
  } catch {
    return null;
  }
}

/** The steering experiment of `<dir>` (`steering.json` or `steering.json.gz`), or undefined when there is none. */
export const readSteering: (dir: string) => Promise<SavedSteeringResult | undefined> = readSteeringFile;

/**
 * Writes the steering experiment of `<dir>` atomically (a kill while writing never leaves one
 * that looks complete) and removes the steering checkpoint: compact JSON as `steering.json`, or
 * gzipped as `steering.json.gz` when large ({@link encodeSteering}); whichever of the two it does
 * not write is removed.
 * @returns the path written
 */
export async function writeSteering(dir: string, data: SavedSteeringResult): Promise<string> {
  const { name, bytes } = encodeSteering(data);
  await writeAtomic(join(dir, name), bytes);
  for (const f of [STEERING_FILES.json, STEERING_FILES.gzip, RUN_FILES.steeringCheckpoint]) if (f !== name) await rm(join(dir, f), { force: true });
  return join(dir, name);
}

/** Writes a file through `<path>.partial-<pid>` and a rename. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.partial-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
