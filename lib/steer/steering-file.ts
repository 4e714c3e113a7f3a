/**
 * The saved steering experiment on disk: `steering.json`, or `steering.json.gz` when its JSON
 * is large. A study commits these files (results/) with a limit of 4 MiB per file, and a full
 * run's 1081 continuations come close (SmolLM2-135M: 3.7 MB of compact JSON), so above
 * {@link STEERING_GZIP_ABOVE} bytes the same JSON is saved gzipped (about a fifth of the size).
 * Every reader goes through {@link steeringFile} and {@link parseSteeringFile}, so either form
 * reads the same.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { SavedSteeringResult } from './steering-result.js';

/** The two names of the saved steering experiment in a run folder (one or the other exists). */
export const STEERING_FILES = Object.freeze({
  /** Compact JSON, when it is at most {@link STEERING_GZIP_ABOVE} bytes. */
  json: 'steering.json',
  /** The same JSON, gzipped, when it is larger. */
  gzip: 'steering.json.gz',
} as const);

/** Bytes of compact JSON above which the steering experiment is saved gzipped. */
export const STEERING_GZIP_ABOVE = 3.5 * 1024 * 1024;

/** The saved steering experiment of `dir` (`steering.json` or `steering.json.gz`), or undefined when there is none. */
export function steeringFile(dir: string): string | undefined {
  return [STEERING_FILES.json, STEERING_FILES.gzip].map((f) => join(dir, f)).find((p) => existsSync(p));
}

/** Parses the bytes of a saved steering experiment file, gzipped (a name ending `.gz`) or not. */
export function parseSteeringFile(path: string, bytes: Uint8Array): SavedSteeringResult {
  return JSON.parse(Buffer.from(path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as SavedSteeringResult;
}

/** The steering experiment saved in `dir`, or undefined when there is none. */
export async function readSteeringFile(dir: string): Promise<SavedSteeringResult | undefined> {
  const p = steeringFile(dir);
  return p ? parseSteeringFile(p, await readFile(p)) : undefined;
}

/** {@link readSteeringFile}, synchronous (for "is this step done" tests). */
export function readSteeringFileSync(dir: string): SavedSteeringResult | undefined {
  const p = steeringFile(dir);
  return p ? parseSteeringFile(p, readFileSync(p)) : undefined;
}

/** A steering experiment ready to save: {@link encodeSteering}'s answer. */
export interface EncodedSteering {
  /** The file name in the run folder: one of {@link STEERING_FILES}. */
  name: string;
  /** The file's bytes: compact JSON, or that JSON gzipped. */
  bytes: Uint8Array;
}

/**
 * What to save for a steering experiment: its file name (in {@link STEERING_FILES}) and bytes.
 * The JSON is compact (indented it is half again as large); over {@link STEERING_GZIP_ABOVE}
 * bytes it is gzipped at level 9 with no name or time in the header, so the same data gives
 * the same bytes.
 */
export function encodeSteering(data: SavedSteeringResult): EncodedSteering {
  const json = Buffer.from(`${JSON.stringify(data)}\n`, 'utf8');
  return json.length > STEERING_GZIP_ABOVE ? { name: STEERING_FILES.gzip, bytes: gzipSync(json, { level: 9 }) } : { name: STEERING_FILES.json, bytes: json };
}
