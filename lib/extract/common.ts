/**
 * Pieces both extraction methods share: options every method records, model identity,
 * progress reporting, and the checkpoint that lets an interrupted run resume.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import { versions } from '../runtime/native.js';
import { fileSha256, sha256Hex } from '../util/file-identity.js';
import { EmotionVectorSet, type Baseline, type ModelIdentity, type SampleInfo } from '../vectors/emotion-vector-set.js';

/** Progress of an extraction, reported after every step. */
export interface ExtractionProgress {
  /** The extraction method running. */
  method: 'generation' | 'comprehension';
  /**
   * What generation-based extraction is doing: writing its stories, or reading their
   * activations by one prefill pass (`done`/`total` count stories in both). Absent for
   * comprehension.
   */
  phase?: 'stories' | 'read-out';
  /** Samples finished (including ones restored from a checkpoint). */
  done: number;
  /** Samples in the whole run. */
  total: number;
  /** Category of the most recent sample(s). */
  category: string;
  /** Tokens decoded so far in this run. */
  tokens: number;
  /** Decoding speed so far in this run (tokens / elapsedSeconds). */
  tokensPerSecond: number;
  /** Seconds since this run started (not counting restored samples' time). */
  elapsedSeconds: number;
  /** Estimated seconds left (NaN until known). */
  etaSeconds: number;
}

/** Options both methods accept. */
export interface CommonExtractionOptions {
  /** Emotions to extract (default: the 20 of the paper, or those of `stimuli`). */
  emotions?: readonly string[];
  /** Blocks to read (default: all). */
  layers?: readonly number[] | 'all';
  /** Sequences decoded together (default 4 for generation, 8 for comprehension). */
  batch?: number;
  /** Threads (default: available parallelism). */
  threads?: number;
  /**
   * Folder for the checkpoint: finished samples are appended there as they complete, and a
   * rerun with the same parameters resumes from them.
   */
  checkpointDir?: string;
  /** Called after every step. */
  onProgress?: (p: ExtractionProgress) => void;
  /** Stops the run cleanly (finished samples stay in the checkpoint). */
  signal?: AbortSignal;
}

const require = createRequire(import.meta.url);
/** The emosteer package version. */
export const EMOSTEER_VERSION: string = (require('../../package.json') as { version: string }).version;

/** sha256 of a file, cached by path, size and modification time (kept here for lib/cli/steer.ts; new code imports lib/util/file-identity.ts). */
export { fileSha256 };

/** What identifies a model in a vector set. */
export async function modelIdentity(model: Model): Promise<ModelIdentity> {
  const i = model.info;
  return {
    path: i.path,
    sha256: await fileSha256(i.path),
    arch: i.arch,
    description: i.description,
    nLayer: i.nLayer,
    nEmbd: i.nEmbd,
    quantization: i.quantization,
    nParams: i.nParams,
  };
}

/** Library versions recorded in every set. */
export function libraryVersions(): { emosteer: string; llamaCppCommit: string } {
  return { emosteer: EMOSTEER_VERSION, llamaCppCommit: versions().llamaCppCommit };
}

/** Resolves a layer selection against a model. */
export function resolveLayers(model: Model, layers: readonly number[] | 'all' | undefined): number[] {
  if (layers === undefined || layers === 'all') return Array.from({ length: model.info.nLayer }, (_, i) => i);
  const sorted = [...new Set(layers)].sort((a, b) => a - b);
  for (const l of sorted) {
    if (!Number.isInteger(l) || l < 0 || l >= model.info.nLayer) {
      throw new EmosteerError('LAYER_OUT_OF_RANGE', `block ${l} does not exist: the model has blocks 0..${model.info.nLayer - 1}`);
    }
  }
  return sorted;
}

/** One finished sample: its description and its activation (layers x nEmbd). */
export interface FinishedSample {
  key: string;
  info: SampleInfo;
  activation: Float32Array;
  tokens: number;
}

/**
 * Append-only checkpoint (checkpoint.jsonl): a header line with the hash of the run's
 * parameters, then one line per finished sample. A rerun with other parameters starts over.
 */
export class Checkpoint {
  readonly #file: string | null;
  readonly #hash: string;
  readonly #done = new Map<string, FinishedSample>();

  private constructor(file: string | null, hash: string) {
    this.#file = file;
    this.#hash = hash;
  }

  /** Opens (or starts) the checkpoint of a run; `params` identify the run. */
  static async open(dir: string | undefined, params: unknown): Promise<Checkpoint> {
    const hash = sha256Hex(JSON.stringify(params)).slice(0, 16);
    if (!dir) return new Checkpoint(null, hash);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'checkpoint.jsonl');
    const cp = new Checkpoint(file, hash);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch {
      /* no checkpoint yet */
    }
    const lines = text.split('\n').filter((l) => l.trim().length > 0);
    const header = lines.length > 0 ? safeJson(lines[0]!) : null;
    if (header?.params === hash) {
      for (const line of lines.slice(1)) {
        const rec = safeJson(line);
        if (!rec || typeof rec.key !== 'string') continue; // a line cut by an interruption
        const buf = Buffer.from(rec.activation as string, 'base64');
        const activation = new Float32Array(buf.byteLength / 4);
        new Uint8Array(activation.buffer).set(buf);
        cp.#done.set(rec.key, { key: rec.key, info: rec.info as SampleInfo, activation, tokens: rec.tokens as number });
      }
    } else {
      await writeFile(file, `${JSON.stringify({ params: hash, createdAt: new Date().toISOString() })}\n`);
    }
    return cp;
  }

  /** Samples restored from disk. */
  get restored(): number { return this.#done.size; }

  has(key: string): boolean { return this.#done.has(key); }
  get(key: string): FinishedSample | undefined { return this.#done.get(key); }

  /** Records a finished sample (and appends it to the file). */
  async add(sample: FinishedSample): Promise<void> {
    this.#done.set(sample.key, sample);
    if (!this.#file) return;
    const activation = Buffer.from(sample.activation.buffer, sample.activation.byteOffset, sample.activation.byteLength).toString('base64');
    await appendFile(this.#file, `${JSON.stringify({ key: sample.key, info: sample.info, tokens: sample.tokens, activation })}\n`);
  }

  /** The parameter hash this checkpoint belongs to. */
  get paramsHash(): string { return this.#hash; }
}

function safeJson(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Tracks throughput and ETA. */
export class ProgressMeter {
  readonly #t0 = performance.now();
  #tokens = 0;
  constructor(readonly method: 'generation' | 'comprehension', readonly total: number, private readonly restored: number) {}

  /** Adds decoded tokens and returns the progress record. */
  update(done: number, category: string, tokens: number): ExtractionProgress {
    this.#tokens += tokens;
    const elapsed = (performance.now() - this.#t0) / 1000;
    const fresh = done - this.restored;
    const rate = fresh > 0 ? elapsed / fresh : Number.NaN;
    return {
      method: this.method,
      done,
      total: this.total,
      category,
      tokens: this.#tokens,
      tokensPerSecond: elapsed > 0 ? this.#tokens / elapsed : 0,
      elapsedSeconds: elapsed,
      etaSeconds: rate * (this.total - done),
    };
  }

  get tokens(): number { return this.#tokens; }
  get seconds(): number { return (performance.now() - this.#t0) / 1000; }
}

/**
 * Assembles finished samples, in task order, into an EmotionVectorSet with its provenance
 * (model, parameters, stimuli and library versions, timings).
 */
export function buildSet(run: {
  method: 'generation' | 'comprehension';
  samples: readonly { info: SampleInfo; activation: Float32Array }[];
  timings: { seconds: number; tokens: number };
  emotions: string[];
  layers: number[];
  nEmbd: number;
  baseline: Baseline;
  identity: ModelIdentity;
  params: Record<string, unknown>;
  stimuliVersion: string;
}): EmotionVectorSet {
  const { seconds, tokens } = run.timings;
  return EmotionVectorSet.fromSamples(
    {
      method: run.method,
      emotions: run.emotions,
      categories: [...run.emotions, 'neutral'],
      layers: run.layers,
      nEmbd: run.nEmbd,
      baseline: run.baseline,
      model: run.identity,
      params: run.params,
      stimuliVersion: run.stimuliVersion,
      versions: libraryVersions(),
      timings: { seconds, tokens, tokensPerSecond: seconds > 0 ? tokens / seconds : 0 },
      samples: run.samples.map((f) => f.info),
      createdAt: new Date().toISOString(),
    },
    run.samples.map((f) => f.activation),
  );
}
