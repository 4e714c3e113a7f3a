/**
 * The LLM judge step of docs/PREREG.md (prereg-2) on a run folder: validate the pairwise
 * judge (pairs of labelled passages, and of the steered model's stories when the folder has
 * them), and, only when it passes both, ask it about the chosen steering runs. The state lives
 * in `<dir>/llm-pairwise.json`, rewritten after every verdict, so a stop loses one comparison
 * and a rerun resumes; a rerun with another judge file or other runs is refused.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { readStories } from '../extract/stories.js';
import { MODELS } from '../models/registry.js';
import type { Context } from '../runtime/context.js';
import type { LoadModelOptions } from '../runtime/model.js';
import { passageTexts, storyTexts } from '../steer/judges/labelled-texts.js';
import type { LabelledText } from '../steer/judges/judge-validation.js';
import { PairwiseJudge } from '../steer/judges/pairwise-judge.js';
import { validatePairwise, validationPairs } from '../steer/judges/pairwise-validation.js';
import { assertDifferentFamily } from '../steer/judges/probe-judge.js';
import { judgeRunPairwise, PAIRWISE_ARMS, PAIRWISE_FILE, pairwiseEffects, pairwiseRunKey, pairwiseRuns, type PairwiseJudgeRecord } from '../steer/pairwise-steering.js';
import { readSteeringFile } from '../steer/steering-file.js';
import { primaryStrength } from '../study/steering-endpoints.js';
import { RULES_VERSION } from '../study/verdict-rules.js';
import { fileSha256 } from '../util/file-identity.js';
import { resolveModel } from '../models/fetch.js';
import { modelHandle } from './model-source.js';

/** Options of {@link pairwiseJudgeFolder}. */
export interface PairwiseJudgeFolderOptions {
  /** The judge model: a GGUF path or a registry name (e.g. 'qwen2.5-coder-1.5b-instruct'). */
  judgeModel: string;
  /** Strength of the judged runs (default: the primary strength of the steered model, docs/PREREG.md). */
  strength?: number;
  /** Arms judged (default emotion, random, other-emotion). */
  arms?: readonly string[];
  /** Validation pairs per emotion (default 2: 40 pairs per data set). */
  pairsPerEmotion?: number;
  /**
   * Judge the runs even when the judge fails validation (default false, the rule of
   * docs/PREREG.md). The record still says it does not vote, and the study ignores its effects.
   */
  judgeWhenNotVoting?: boolean;
  /** CPU threads of the judge. */
  threads?: number;
  /** How the judge model is loaded. */
  loadOptions?: LoadModelOptions;
  /** Progress: a phase and its counts. */
  onProgress?: (e: { phase: 'validation' | 'judging'; data?: string; done: number; total: number }) => void;
}

/**
 * The steered model of a run folder: from a vector set's manifest when the folder has one, else
 * from the committed stories' header (its sha256) and the model registry.
 */
async function steeredModel(dir: string): Promise<{ sha256: string; arch: string; path?: string }> {
  for (const set of ['comprehension', 'generation']) {
    const f = join(dir, set, 'manifest.json');
    if (existsSync(f)) return (JSON.parse(await readFile(f, 'utf8')) as { model: { sha256: string; arch: string; path?: string } }).model;
  }
  const stories = join(dir, 'generation', 'stories.jsonl');
  if (existsSync(stories)) {
    const sha256 = (await readStories(stories)).header.model;
    const entry = MODELS.find((m) => m.sha256 === sha256);
    if (entry) return { sha256, arch: entry.arch, path: entry.file };
  }
  throw new EmosteerError('INVALID_ARGUMENT', `${dir}: no vector set manifest and no stories of a registry model, so the steered model's family is unknown (a judge may not read its own family)`);
}

async function save(file: string, rec: PairwiseJudgeRecord): Promise<void> {
  const tmp = `${file}.next`;
  await writeFile(tmp, `${JSON.stringify(rec)}\n`);
  await rename(tmp, file);
}

/**
 * Runs (or resumes) the LLM judge step on a run folder with a steering.json.
 * @throws EmosteerError FILE_NOT_FOUND without steering.json; INVALID_ARGUMENT when the judge is
 *   of the steered model's family or no run matches; STATE_MISMATCH when the folder holds a
 *   record of another judge file, steered model or selection
 */
export async function pairwiseJudgeFolder(dir: string, options: PairwiseJudgeFolderOptions): Promise<PairwiseJudgeRecord> {
  const saved = await readSteeringFile(dir);
  if (!saved) throw new EmosteerError('FILE_NOT_FOUND', `${join(dir, 'steering.json')}: run the steering step first`);
  const steeredMeta = { model: await steeredModel(dir) };
  const steeredEntry = MODELS.find((m) => m.sha256 === steeredMeta.model.sha256);
  // A registry name is fetched (and checked by sha256) like any registry model.
  const handle = modelHandle(await resolveModel(options.judgeModel), options.loadOptions);
  const judgeSha = await fileSha256(handle.path);
  const judgeEntry = MODELS.find((m) => m.sha256 === judgeSha || m.file === basename(handle.path));
  const steered = { arch: steeredMeta.model.arch, ...(steeredEntry ? { family: steeredEntry.family } : {}), ...(steeredMeta.model.path ? { path: steeredMeta.model.path } : {}) };
  // A judge never reads its own family: a registry judge is checked before it is loaded, any other once loaded (its architecture).
  if (judgeEntry) assertDifferentFamily(steered, { arch: judgeEntry.arch, family: judgeEntry.family, path: handle.path });
  const strength = options.strength ?? primaryStrength(steeredEntry?.params ?? null, saved.strengths);
  const arms = [...(options.arms ?? PAIRWISE_ARMS)];
  const runs = pairwiseRuns(saved, { strength, arms });
  const selection = { strength, arms, kinds: ['neutral', 'toward'] };
  const file = join(dir, PAIRWISE_FILE);

  let rec: PairwiseJudgeRecord | undefined;
  if (existsSync(file)) {
    const old = JSON.parse(await readFile(file, 'utf8')) as PairwiseJudgeRecord;
    const diff = [
      old.judge?.sha256 !== judgeSha ? 'judge model' : '',
      old.steeredSha256 !== steeredMeta.model.sha256 ? 'steered model' : '',
      JSON.stringify(old.selection) !== JSON.stringify(selection) ? 'selection of runs' : '',
    ].filter(Boolean);
    if (diff.length) throw new EmosteerError('STATE_MISMATCH', `${file} was made with another ${diff.join(', ')}; use the same, or delete the file to start over`);
    if (old.complete) return old;
    rec = old;
  }
  rec ??= {
    format: 'emosteer-llm-pairwise', version: 1, rules: RULES_VERSION, judge: { file: basename(handle.path), sha256: judgeSha }, steeredSha256: steeredMeta.model.sha256,
    selection, validation: [], votes: false, verdicts: [], total: 0, complete: false, seconds: { validation: 0, judging: 0 },
  };

  let ctx: Context | undefined;
  try {
    const model = await handle.get();
    assertDifferentFamily(steered, model);
    ctx = await model.createContext({ contextSize: 2048, ...(options.threads !== undefined ? { threads: options.threads } : {}) });
    const judge = new PairwiseJudge(ctx, { name: `llm-pairwise-${judgeEntry?.name ?? basename(handle.path)}` });
    const per = options.pairsPerEmotion ?? 2;
    const data: [string, LabelledText[]][] = [['passages', passageTexts(undefined, per).map((t) => ({ ...t, source: 'passages' }))]];
    const storiesFile = join(dir, 'generation', 'stories.jsonl');
    if (existsSync(storiesFile)) {
      const seen = new Map<string, number>();
      const stories = storyTexts([...(await readStories(storiesFile)).stories.values()].sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true })))
        .filter((t) => { const n = seen.get(t.category) ?? 0; seen.set(t.category, n + 1); return n < per; });
      data.push(['stories', stories]);
    }
    for (const [name, texts] of data) {
      if (rec.validation.some((v) => v.data === name)) continue;
      const t0 = performance.now();
      const { comparisons: _c, ...v } = await validatePairwise(judge, validationPairs(texts, { perEmotion: per }), { data: name, onProgress: (done, total) => options.onProgress?.({ phase: 'validation', data: name, done, total }) });
      rec.validation.push(v);
      rec.seconds.validation += (performance.now() - t0) / 1000;
      await save(file, rec);
    }
    rec.votes = rec.validation.length === data.length && rec.validation.every((v) => v.votes);
    const judging = rec.votes || options.judgeWhenNotVoting === true;
    rec.total = judging ? runs.length : 0;
    if (judging) {
      const done = new Set(rec.verdicts.map((v) => pairwiseRunKey(v)));
      for (const run of runs) {
        if (done.has(pairwiseRunKey(run))) continue;
        const t0 = performance.now();
        rec.verdicts.push(await judgeRunPairwise(judge, run));
        rec.seconds.judging += (performance.now() - t0) / 1000;
        await save(file, rec);
        options.onProgress?.({ phase: 'judging', done: rec.verdicts.length, total: runs.length });
      }
      rec.effects = pairwiseEffects(rec.verdicts);
    }
    rec.complete = true;
    await save(file, rec);
    return rec;
  } finally {
    await ctx?.dispose();
    await handle.dispose();
  }
}
