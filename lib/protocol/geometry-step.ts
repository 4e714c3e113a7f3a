/**
 * The geometry step of a run folder: every vector set's emotion dissimilarity matrix at every
 * block, saved as `geometry.json` (lib/evaluate/block-geometry.ts), which the study's RSA reads
 * (lib/study/study-rsa.ts). Seconds of work: it reads the sets' vectors, not their activations.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { GEOMETRY_VERSION, setGeometry, type GeometryFile } from '../evaluate/block-geometry.js';
import { findSets } from '../evaluate/evaluate.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { RUN_FILES, writeAtomic } from './run-folder.js';

/**
 * True when `<dir>/geometry.json` is of this version and holds every set its evaluation.json evaluated (so a fresh
 * clone, which has the committed files but not the vector sets, does not redo it).
 */
export function geometryDone(dir: string): boolean {
  const g = join(dir, RUN_FILES.geometry);
  const e = join(dir, RUN_FILES.evaluation);
  if (!existsSync(g) || !existsSync(e)) return false;
  try {
    const file = JSON.parse(readFileSync(g, 'utf8')) as GeometryFile;
    const sets = file.sets;
    return file.version === GEOMETRY_VERSION && Object.keys((JSON.parse(readFileSync(e, 'utf8')) as { methods: Record<string, unknown> }).methods).every((k) => sets[k] !== undefined);
  } catch {
    return false;
  }
}

/**
 * Computes and saves `<dir>/geometry.json` from every vector set of the run folder.
 * @throws EmosteerError INVALID_ARGUMENT when the folder holds no set, STATE_MISMATCH when its sets come from different model files
 */
export async function geometryFolder(dir: string): Promise<GeometryFile> {
  const sets = await findSets(dir);
  const out: GeometryFile = { version: GEOMETRY_VERSION, modelSha256: '', sets: {} };
  for (const [key, setDir] of sets) {
    const set = await EmotionVectorSet.load(setDir, { activations: false });
    if (out.modelSha256 && set.meta.model.sha256 !== out.modelSha256) {
      throw new EmosteerError('STATE_MISMATCH', `${setDir} comes from another model file (${set.meta.model.sha256.slice(0, 12)}) than the other sets of ${dir} (${out.modelSha256.slice(0, 12)})`);
    }
    out.modelSha256 = set.meta.model.sha256;
    out.sets[key] = setGeometry(set);
  }
  await writeAtomic(join(dir, RUN_FILES.geometry), `${JSON.stringify(out)}\n`);
  return out;
}
