/**
 * The manifest of one model's study run kept in the repo (`results/study/<model>/run.json`):
 * which model file (sha256) the run belongs to, and, per step, the rules version and code
 * commit it ran under, when it started and finished and how long it took. It ties the
 * committed texts to what is recomputed from them: a resume with another model file is
 * refused, and so is finishing a step that was started under other rules (a step started
 * afresh records the rules of its own run; finished steps are never rerun).
 *
 * @module
 */
import { STEERING_FILES } from '../steer/steering-file.js';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import type { RunStepRecord } from '../study/results-markdown.js';
import { RULES_VERSION } from '../study/verdict-rules.js';

export type { RunStepRecord };
import { codeCommit } from '../util/code-commit.js';

/** File name of the manifest in a model's run folder. */
export const RUN_MANIFEST_FILE = 'run.json';

/** The model a run belongs to. */
export interface RunModel {
  /** Registry name (or file name). */
  name: string;
  /** sha256 of its GGUF. */
  sha256: string;
}

/** `run.json`. */
export interface RunManifest {
  /** Format tag. */
  format: 'emosteer-study-run';
  /** Format version. */
  version: 1;
  /** The model of the run. */
  model: RunModel;
  /** Steps by name, in the order they first started. */
  steps: Record<string, RunStepRecord>;
}

/** An open run manifest: starts and finishes steps, saving after each change. */
export class RunManifestFile {
  /** Where the manifest is saved. */
  readonly file: string;
  /** The manifest as it stands. */
  readonly data: RunManifest;
  readonly #rules: string;

  private constructor(file: string, data: RunManifest, rules: string) {
    this.file = file;
    this.data = data;
    this.#rules = rules;
  }

  /**
   * Opens (or creates) the manifest of the run folder `dir` for a model file.
   * @param rules the rules version of this code (default {@link RULES_VERSION}; tests plant others)
   * @throws EmosteerError STATE_MISMATCH when the folder belongs to another model file
   */
  static async open(dir: string, model: RunModel, rules: string = RULES_VERSION): Promise<RunManifestFile> {
    const file = join(dir, RUN_MANIFEST_FILE);
    if (existsSync(file)) {
      const data = JSON.parse(await readFile(file, 'utf8')) as RunManifest;
      if (data.format !== 'emosteer-study-run') throw new EmosteerError('STATE_MISMATCH', `${file} is not a study run manifest`);
      if (data.model.sha256 !== model.sha256) {
        throw new EmosteerError('STATE_MISMATCH', `${dir} holds a run of another model file (sha256 ${data.model.sha256.slice(0, 12)}..., this one is ${model.sha256.slice(0, 12)}...); use another folder, or delete it to start over`);
      }
      return new RunManifestFile(file, data, rules);
    }
    await mkdir(dir, { recursive: true });
    const m = new RunManifestFile(file, { format: 'emosteer-study-run', version: 1, model: { ...model }, steps: {} }, rules);
    await m.save();
    return m;
  }

  /** True when `step` finished. */
  done(step: string): boolean {
    return this.data.steps[step]?.finishedAt !== undefined;
  }

  /**
   * Runs `step` unless the folder says it is done (`isDone`), recording its rules, commit and
   * wall time; a cut step resumes (its seconds add up over sittings). A step that finished but
   * whose output is gone (what a fresh clone lacks: the activations recomputed from the
   * committed texts) runs again and says so in its notes.
   * `options.isDone` says what the folder says (the step's output exists); without it the
   * manifest's word counts.
   * @throws EmosteerError STATE_MISMATCH when the step was started under other rules and did not finish
   */
  async step<T>(step: string, run: () => Promise<T>, options: { isDone?: () => boolean; threads?: number; notes?: string[] } = {}): Promise<T | undefined> {
    const rec = this.data.steps[step];
    const done = options.isDone ? options.isDone() : rec?.finishedAt !== undefined;
    if (done) {
      if (!rec?.finishedAt) {
        this.data.steps[step] = { ...(rec ?? { rules: this.#rules, startedAt: new Date().toISOString(), seconds: 0 }), finishedAt: new Date().toISOString(), notes: [...(rec?.notes ?? []), 'found finished in the folder before this manifest recorded it'] };
        await this.save();
      }
      return undefined;
    }
    if (rec && !rec.finishedAt && rec.rules !== this.#rules) {
      throw new EmosteerError('STATE_MISMATCH', `step '${step}' of ${this.file} was started under rules ${rec.rules} and this code applies ${this.#rules}: finishing it would mix two sets of rules; delete the step's partial output and its entry to start it over`);
    }
    const commit = codeCommit();
    const t0 = performance.now();
    if (rec?.finishedAt) {
      // Recomputed from the committed texts: the record of the original run stays.
      const out = await run();
      rec.notes = [...(rec.notes ?? []), `recomputed at ${new Date().toISOString()} in ${((performance.now() - t0) / 1000).toFixed(0)} s under ${this.#rules}${commit ? ` from ${commit}` : ''}`];
      await this.save();
      return out;
    }
    const entry: RunStepRecord = rec ?? { rules: this.#rules, startedAt: new Date().toISOString(), seconds: 0 };
    if (commit) entry.commit = commit;
    if (options.threads !== undefined) entry.threads = options.threads;
    if (options.notes) entry.notes = [...(entry.notes ?? []), ...options.notes];
    this.data.steps[step] = entry;
    await this.save();
    try {
      const out = await run();
      entry.finishedAt = new Date().toISOString();
      return out;
    } finally {
      entry.seconds += (performance.now() - t0) / 1000;
      await this.save();
    }
  }

  /** Writes the manifest (atomically). */
  async save(): Promise<void> {
    const tmp = `${this.file}.next`;
    await writeFile(tmp, `${JSON.stringify(this.data, null, 1)}\n`);
    await rename(tmp, this.file);
  }
}

/** The run manifests of the model folders `ids` under `out` (those that have one), by id. */
export async function readRunManifests(out: string, ids: readonly string[]): Promise<Record<string, RunManifest>> {
  const found: Record<string, RunManifest> = {};
  for (const id of ids) {
    const file = join(out, id, RUN_MANIFEST_FILE);
    if (existsSync(file)) found[id] = JSON.parse(await readFile(file, 'utf8')) as RunManifest;
  }
  return found;
}

/** The model folders of a study folder: sub-folders holding a run.json, evaluation.json or steering.json(.gz), sorted. */
export function studyModelFolders(out: string): string[] {
  if (!existsSync(out)) return [];
  return readdirSync(out, { withFileTypes: true })
    .filter((d) => d.isDirectory() && [RUN_MANIFEST_FILE, 'evaluation.json', STEERING_FILES.json, STEERING_FILES.gzip].some((f) => existsSync(join(out, d.name, f))))
    .map((d) => d.name)
    .sort();
}
