/**
 * The specificity matrix of emotion steering: does steering toward emotion e move *e*, or does
 * any emotion vector move every judged emotion alike?
 *
 * Each emotion of a set steers every neutral scenario at one strength (greedy), and a judge
 * scores every emotion on every steered text and on the unsteered baseline of the same
 * scenario. Cell M[steered][judged] is the mean over scenarios of
 * `score(steered text, judged) - score(baseline text, judged)`.
 *
 * **Diagonal dominance.** Judged columns have different scales (a lexicon's cue lists differ in
 * size, an LLM judge's log-odds differ per label), so each judged column is first z-scored over
 * the steered rows: z[r][c] = (M[r][c] - mean_r' M[r'][c]) / sd_r'(M[.][c]) (sample sd; a
 * column that no steering moved differently, sd 0, is all zeros). The z-score asks of each
 * judged emotion "which steering raised it more than the other steerings did"; a shift that
 * every steering gives a judged emotion (any push makes text sadder) is removed. Then per row,
 * d_r = z[r][r] - mean_{c != r} z[r][c] (the diagonal against the rest of its row; a shift a
 * steering gives every judged emotion alike is removed too), and the statistic is mean_r d_r.
 * Under "no specificity" the row labels (which emotion was steered) are exchangeable, so the
 * permutation test shuffles them: p = (1 + #{permuted statistic >= observed}) / (1 + permutations).
 * A bootstrap over scenarios (the unit that varies independently within a model) gives the
 * statistic's 95% interval.
 *
 * Only emotions that are both steered and judged, with a finite cell everywhere, enter the test;
 * a judge that returns NaN for an emotion (a valence judge for an emotion without valence)
 * loses that column and that row, and the result lists them with the reason.
 *
 * @module
 */
import { setParamsHash } from '../vectors/emotion-vector-set.js';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EmosteerError } from '../errors.js';
import { bootstrapCI, quantile, seededRandom } from '../evaluate/statistics.js';
import type { Model } from '../runtime/model.js';
import { pendingBatches } from '../util/batches.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { steeringVectors } from '../vectors/steering-vectors.js';
import type { Judge } from './judges/judge.js';
import { scenariosByKind, type SteeringScenario } from './scenarios.js';

// ---------------------------------------------------------------------------------------------
// The statistics, on the numbers
// ---------------------------------------------------------------------------------------------

/** Per-scenario score changes, the input of {@link specificityFromScores}. */
export interface SpecificityScores {
  /** Row labels: the emotion each row steered toward. */
  steered: readonly string[];
  /** Column labels: the emotion each column was judged for. */
  judged: readonly string[];
  /** Scenario ids (the middle index of `deltas`). */
  scenarios: readonly string[];
  /**
   * deltas[r][s][c] = score(text steered toward steered[r] on scenario s, judged[c]) -
   * score(unsteered text of scenario s, judged[c]); NaN where the judge could not say.
   */
  deltas: readonly (readonly (readonly number[])[])[];
}

/** Options of {@link specificityFromScores}. */
export interface SpecificityOptions {
  /** Row-label permutations of the test (default 2000). */
  permutations?: number;
  /** Seed of the permutations and of the bootstrap (default 0). */
  seed?: number;
  /** Scenario-bootstrap resamples of the statistic's interval (default 1000; 0 = none, interval NaN). */
  resamples?: number;
}

/** The diagonal cell of one emotion in the analysed matrix. */
export interface SpecificityDiagonal {
  /** The emotion (steered and judged). */
  emotion: string;
  /** Raw mean score change of the emotion when steered toward it. */
  value: number;
  /** Its z-score within the judged column. */
  z: number;
  /** d_r: the diagonal's z minus the mean z of the rest of its row. */
  dominance: number;
  /** Rank of the diagonal within its row of z-scores (1 = highest; ties share the best rank). */
  rowRank: number;
  /** Rank of the diagonal within its column of z-scores (1 = this steering raised the emotion most). */
  columnRank: number;
  /** Whether the diagonal is the (possibly tied) maximum of its row. */
  isRowMax: boolean;
}

/** The specificity matrix of one judge, and its diagonal-dominance test. */
export interface SpecificityMatrix {
  /** Row labels as given (steered emotions). */
  steered: string[];
  /** Column labels as given (judged emotions). */
  judged: string[];
  /** Number of scenarios. */
  scenarios: number;
  /** Mean score change over scenarios, steered x judged (finite deltas only; NaN where none). */
  matrix: number[][];
  /** Deltas that were not finite (left out of the means). */
  nonFiniteDeltas: number;
  /** Emotions in the test: steered and judged, finite in every analysed cell, in `steered` order. */
  emotions: string[];
  /** Emotions left out of the test, with the reason. */
  leftOut: {
    /** The emotion. */
    emotion: string;
    /** Why it is not in the test. */
    reason: string;
  }[];
  /** The analysed matrix, z-scored per judged column over the steered rows (emotions x emotions). */
  z: number[][];
  /** Whether the test could run (at least 3 emotions in it). */
  testable: boolean;
  /** Why it could not, when `testable` is false. */
  note?: string;
  /** The statistic: mean over rows of d_r, with a scenario-bootstrap 95% interval. */
  dominance: {
    /** mean_r d_r (NaN when not testable). */
    value: number;
    /** Percentile interval over scenario resamples ([NaN, NaN] when not computed). */
    ci95: [number, number];
  };
  /** The row-label permutation test. */
  permutation: {
    /** Permutations drawn. */
    permutations: number;
    /** Seed of the permutations. */
    seed: number;
    /** (1 + #{permuted >= observed}) / (1 + permutations); NaN when not testable. */
    p: number;
    /** Mean of the permuted statistics. */
    nullMean: number;
    /** 95th percentile of the permuted statistics. */
    null95: number;
  };
  /** Per analysed emotion: its diagonal cell, ranks and dominance. */
  diagonal: SpecificityDiagonal[];
  /** Rows whose diagonal is the row's maximum (ties count). */
  rowMaxCount: number;
}

const MIN_EMOTIONS = 3;

function invalid(message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', message);
}

function checkScores(input: SpecificityScores): void {
  const { steered, judged, scenarios, deltas } = input;
  if (!Array.isArray(steered) || !Array.isArray(judged) || !Array.isArray(scenarios) || !Array.isArray(deltas)) {
    throw invalid('specificity needs steered, judged and scenarios labels and a deltas array');
  }
  if (steered.length === 0 || judged.length === 0 || scenarios.length === 0) throw invalid('specificity needs at least one steered emotion, one judged emotion and one scenario');
  if (new Set(steered).size !== steered.length || new Set(judged).size !== judged.length) throw invalid('steered and judged labels must be unique');
  if (deltas.length !== steered.length) throw invalid(`deltas has ${deltas.length} rows for ${steered.length} steered emotions`);
  input.deltas.forEach((row, r) => {
    if (!Array.isArray(row)) throw invalid(`deltas[${r}] must be an array (one entry per scenario)`);
    if (row.length !== scenarios.length) throw invalid(`deltas[${r}] has ${row.length} scenarios, expected ${scenarios.length}`);
    row.forEach((cells: readonly number[], s: number) => {
      if (!Array.isArray(cells)) throw invalid(`deltas[${r}][${s}] must be an array (one entry per judged emotion)`);
      if (cells.length !== judged.length) throw invalid(`deltas[${r}][${s}] has ${cells.length} judged emotions, expected ${judged.length}`);
      for (const v of cells) if (typeof v !== 'number') throw invalid(`deltas[${r}][${s}] holds a ${typeof v}; every delta must be a number (NaN for "cannot say")`);
    });
  });
}

function intOption(v: number | undefined, fallback: number, name: string, min: number): number {
  const x = v ?? fallback;
  if (!Number.isInteger(x) || x < min) throw invalid(`${name} must be an integer >= ${min}, got ${String(v)}`);
  return x;
}

/** Mean of the finite deltas of each cell over the scenarios in `idx` (NaN where none). */
function cellMeans(deltas: SpecificityScores['deltas'], rows: readonly number[], cols: readonly number[], idx: ArrayLike<number>): number[][] {
  return rows.map((r) => cols.map((c) => {
    let s = 0;
    let n = 0;
    for (let k = 0; k < idx.length; k++) {
      const v = deltas[r]![idx[k]!]![c]!;
      if (Number.isFinite(v)) { s += v; n++; }
    }
    return n ? s / n : NaN;
  }));
}

/** Z-scores every column of a square matrix over its rows (sample sd; a constant column is all zeros). */
function zColumns(m: number[][]): number[][] {
  const n = m.length;
  const z = m.map((row) => row.slice());
  for (let c = 0; c < n; c++) {
    let mu = 0;
    for (let r = 0; r < n; r++) mu += m[r]![c]!;
    mu /= n;
    let ss = 0;
    for (let r = 0; r < n; r++) ss += (m[r]![c]! - mu) ** 2;
    const sd = Math.sqrt(ss / (n - 1));
    // A column all steerings moved alike carries no information about which was steered.
    for (let r = 0; r < n; r++) z[r]![c] = sd > 1e-12 * (Math.abs(mu) + 1) ? (m[r]![c]! - mu) / sd : 0;
  }
  return z;
}

/** V[i][j] = z[i][j] - mean_{c != j} z[i][c]: row i's data read as if it were labelled j. */
function labelValues(z: number[][]): number[][] {
  const n = z.length;
  return z.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v - (sum - v) / (n - 1));
  });
}

function dominanceOf(deltas: SpecificityScores['deltas'], rows: readonly number[], cols: readonly number[], idx: ArrayLike<number>): number {
  const m = cellMeans(deltas, rows, cols, idx);
  if (m.some((row) => row.some((v) => !Number.isFinite(v)))) return NaN;
  const v = labelValues(zColumns(m));
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]![i]!;
  return s / v.length;
}

/** 1 + the number of values strictly above `v` (within a relative tolerance). */
function rankOf(values: readonly number[], v: number): number {
  const eps = 1e-12 * (Math.abs(v) + 1);
  return 1 + values.filter((x) => x > v + eps).length;
}

/**
 * The specificity matrix of one judge from per-scenario score changes, and the permutation
 * test of its diagonal dominance (see the module description for the statistic). Pure and
 * deterministic for a given seed.
 *
 * @example
 * ```ts
 * const m = specificityFromScores({ steered: ['happy', 'sad', 'calm'], judged: ['happy', 'sad', 'calm'], scenarios: ['a', 'b'], deltas });
 * console.log(m.dominance.value, m.permutation.p, m.rowMaxCount);
 * ```
 * @throws EmosteerError INVALID_ARGUMENT for ragged or mislabelled input, or bad options
 */
export function specificityFromScores(input: SpecificityScores, options: SpecificityOptions = {}): SpecificityMatrix {
  checkScores(input);
  const permutations = intOption(options.permutations, 2000, 'permutations', 1);
  const resamples = intOption(options.resamples, 1000, 'resamples', 0);
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw invalid(`seed must be a finite number, got ${String(seed)}`);
  const { steered, judged, scenarios, deltas } = input;
  const allScenarios = Int32Array.from(scenarios.keys());
  const matrix = cellMeans(deltas, [...steered.keys()], [...judged.keys()], allScenarios);
  let nonFiniteDeltas = 0;
  for (const row of deltas) for (const cells of row) for (const v of cells) if (!Number.isFinite(v)) nonFiniteDeltas++;

  // Which emotions enter the test: steered and judged; rows with no finite cell go first (a
  // judge that cannot score those texts at all), then judged columns with a missing cell.
  const leftOut: SpecificityMatrix['leftOut'] = [];
  const candidates: string[] = [];
  for (const e of steered) {
    if (!judged.includes(e)) leftOut.push({ emotion: e, reason: 'steered but not judged' });
    else candidates.push(e);
  }
  for (const e of judged) if (!steered.includes(e)) leftOut.push({ emotion: e, reason: 'judged but not steered' });
  const rowOf = (e: string) => steered.indexOf(e);
  const colOf = (e: string) => judged.indexOf(e);
  const withRows = candidates.filter((e) => {
    const ok = matrix[rowOf(e)]!.some((v) => Number.isFinite(v));
    if (!ok) leftOut.push({ emotion: e, reason: 'the judge gave no finite score change on any text steered toward it' });
    return ok;
  });
  const emotions = withRows.filter((e) => {
    const bad = withRows.filter((r) => !Number.isFinite(matrix[rowOf(r)]![colOf(e)]!));
    if (bad.length === withRows.length) leftOut.push({ emotion: e, reason: 'the judge cannot score it (no finite score change on any text)' });
    else if (bad.length) leftOut.push({ emotion: e, reason: `the judge cannot score it on every row (no finite change when steering toward ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', ...' : ''})` });
    return bad.length === 0;
  });

  const base = { steered: [...steered], judged: [...judged], scenarios: scenarios.length, matrix, nonFiniteDeltas, emotions, leftOut };
  if (emotions.length < MIN_EMOTIONS) {
    return {
      ...base,
      z: [],
      testable: false,
      note: `${emotions.length} emotion${emotions.length === 1 ? '' : 's'} left for the test; it needs at least ${MIN_EMOTIONS}`,
      dominance: { value: NaN, ci95: [NaN, NaN] },
      permutation: { permutations: 0, seed, p: NaN, nullMean: NaN, null95: NaN },
      diagonal: [],
      rowMaxCount: 0,
    };
  }

  const rows = emotions.map(rowOf);
  const cols = emotions.map(colOf);
  const n = emotions.length;
  const z = zColumns(cellMeans(deltas, rows, cols, allScenarios));
  const v = labelValues(z);
  let observed = 0;
  for (let i = 0; i < n; i++) observed += v[i]![i]!;
  observed /= n;

  // Permutation of the row labels: the row with data i is read as if it had steered toward perm[i].
  const rand = seededRandom(seed);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const eps = 1e-12 * (Math.abs(observed) + 1);
  const nullStats = new Float64Array(permutations);
  let atLeast = 0;
  for (let b = 0; b < permutations; b++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i]![perm[i]!]!;
    s /= n;
    nullStats[b] = s;
    if (s >= observed - eps) atLeast++;
  }
  const ci95: [number, number] = resamples > 0
    ? bootstrapCI(scenarios.length, (idx) => dominanceOf(deltas, rows, cols, idx), { resamples, seed }).ci95
    : [NaN, NaN];

  const diagonal = emotions.map((emotion, i): SpecificityDiagonal => {
    const row = z[i]!;
    const column = z.map((r) => r[i]!);
    const rowRank = rankOf(row, row[i]!);
    return {
      emotion,
      value: matrix[rows[i]!]![cols[i]!]!,
      z: row[i]!,
      dominance: v[i]![i]!,
      rowRank,
      columnRank: rankOf(column, row[i]!),
      isRowMax: rowRank === 1,
    };
  });
  let nullMean = 0;
  for (const s of nullStats) nullMean += s;
  return {
    ...base,
    z,
    testable: true,
    dominance: { value: observed, ci95 },
    permutation: { permutations, seed, p: (1 + atLeast) / (1 + permutations), nullMean: nullMean / permutations, null95: quantile(nullStats, 0.95) },
    diagonal,
    rowMaxCount: diagonal.filter((d) => d.isRowMax).length,
  };
}

// ---------------------------------------------------------------------------------------------
// The run: generate, judge, analyse
// ---------------------------------------------------------------------------------------------

/** Options of {@link runSpecificity}. */
export interface SpecificityRunOptions {
  /** Strength of every steering, as a fraction of each block's mean residual norm (toward the emotion). */
  strength: number;
  /** Judges; each scores every emotion of `emotions` on every text. */
  judges: readonly Judge[];
  /** Scenarios to steer (default: the built-in `neutral` ones). */
  scenarios?: readonly SteeringScenario[];
  /** Emotions to steer toward and to judge (default: every emotion of the set). */
  emotions?: readonly string[];
  /** New tokens per continuation (default 48). */
  maxTokens?: number;
  /** Continuations decoded together, each with its own steering (default 8). */
  batch?: number;
  /** CPU threads of the context (default: as createContext). */
  threads?: number;
  /** Steered block range (default: every steerable block of the set). */
  layers?: [number, number];
  /** Permutations of the test (default 2000). */
  permutations?: number;
  /** Scenario-bootstrap resamples of the statistic's interval (default 1000). */
  resamples?: number;
  /** Seed of the permutations and the bootstrap (default 0). */
  seed?: number;
  /**
   * JSONL file to which every finished continuation and its judge scores are appended; a rerun
   * with the same file and parameters skips those and gives the same result.
   */
  checkpoint?: string;
  /** Called after every continuation (baselines included) with the count done, the total and the scenario id. */
  onProgress?: (done: number, total: number, scenario: string) => void;
  /** Cancels the run (finished continuations stay in the checkpoint). */
  signal?: AbortSignal;
}

/** One continuation of the specificity run and every judge's score of every emotion on it. */
export interface SpecificityText {
  /** Scenario id. */
  scenario: string;
  /** The emotion steered toward; null for the unsteered baseline. */
  steered: string | null;
  /** The continuation. */
  text: string;
  /** Per judge name, the score of every judged emotion (NaN where the judge cannot say). */
  scores: Record<string, Record<string, number>>;
}

/** Outcome of {@link runSpecificity}. */
export interface SpecificityRunResult {
  /** llama.cpp's description of the model steered. */
  model: string;
  /** Extraction method of the vector set. */
  method: string;
  /** Strength of every steering. */
  strength: number;
  /** New tokens per continuation. */
  maxTokens: number;
  /** Steered block range. */
  layers: [number, number];
  /** Emotions steered and judged, in order. */
  emotions: string[];
  /** Scenario ids, in order. */
  scenarios: string[];
  /** Every continuation: the baselines first (one per scenario), then emotion by emotion. */
  texts: SpecificityText[];
  /** The matrix and its test, per judge name. */
  judges: Record<string, SpecificityMatrix>;
  /** What the run cost (this invocation; a resumed run counts only what it did itself). */
  timing: {
    /** Wall time of the call, seconds. */
    wallSeconds: number;
    /** Of which decoding the continuations. */
    generationSeconds: number;
    /** Of which the judges' scoring. */
    judgingSeconds: number;
    /** Continuations in the run (baselines included). */
    continuations: number;
    /** Of those, restored from the checkpoint. */
    restored: number;
    /** Sequences decoded together. */
    batch: number;
    /** Threads requested (undefined = the context's default). */
    threads?: number;
  };
}

interface SpecJob {
  key: string;
  scenario: SteeringScenario;
  emotion: string | null;
}

interface SpecRecord {
  key: string;
  text: string;
  /** NaN is written as null in JSON. */
  scores: Record<string, Record<string, number | null>>;
}

async function openCheckpoint(file: string | undefined, header: Record<string, unknown>): Promise<Map<string, SpecRecord>> {
  const done = new Map<string, SpecRecord>();
  if (!file) return done;
  const want = JSON.stringify(header);
  if (existsSync(file)) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    if (lines[0] !== want) throw invalid(`${file} is the checkpoint of a specificity run with other parameters; delete it to start over`);
    const kept: string[] = [];
    for (const line of lines.slice(1)) {
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line) as SpecRecord;
        done.set(rec.key, rec);
        kept.push(line);
      } catch {
        // a line cut by a kill: redone
      }
    }
    await writeFile(file, `${[want, ...kept].join('\n')}\n`);
  } else {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${want}\n`);
  }
  return done;
}

const fromJson = (scores: SpecRecord['scores']): Record<string, Record<string, number>> =>
  Object.fromEntries(Object.entries(scores).map(([j, s]) => [j, Object.fromEntries(Object.entries(s).map(([e, v]) => [e, v === null ? NaN : v]))]));

/**
 * Steers every scenario toward every emotion at one strength (greedy), judges every emotion on
 * every steered text and on each scenario's unsteered baseline, and returns the texts with the
 * specificity matrix and its permutation test per judge ({@link specificityFromScores}).
 * Continuations are decoded `batch` at a time, each sequence with its own steering; batch
 * boundaries come from the whole job list, so a resumed run decodes as an uninterrupted one.
 *
 * Cost: (emotions + 1) x scenarios continuations (20 emotions x 15 neutral scenarios = 315 of
 * `maxTokens` tokens), plus emotions x continuations judge scores per judge.
 *
 * @example
 * ```ts
 * import { EmotionVectorSet, loadModel } from 'emosteer';
 * import { LexiconJudge, runSpecificity } from 'emosteer/steer';
 * const model = await loadModel('smollm2-135m-instruct-q4_1.gguf');
 * const set = await EmotionVectorSet.load('runs/smollm2/generation');
 * const r = await runSpecificity(model, set, { strength: 0.02, judges: [new LexiconJudge()], checkpoint: 'runs/smollm2/specificity.jsonl' });
 * console.log(r.judges.lexicon?.permutation.p, r.timing.wallSeconds);
 * ```
 * @throws EmosteerError INVALID_ARGUMENT for a bad option or an emotion the set lacks; ABORTED when `signal` fires
 */
export async function runSpecificity(model: Model, set: EmotionVectorSet, options: SpecificityRunOptions): Promise<SpecificityRunResult> {
  const t0 = performance.now();
  const { strength, judges } = options;
  if (typeof strength !== 'number' || !Number.isFinite(strength) || strength <= 0) throw invalid(`strength must be a positive finite number, got ${String(strength)}`);
  if (!Array.isArray(judges) || judges.length === 0) throw invalid('runSpecificity needs at least one judge');
  const names = judges.map((j) => j.name);
  if (new Set(names).size !== names.length) throw invalid(`judge names must be unique, got ${names.join(', ')}`);
  const scenarios = options.scenarios ?? scenariosByKind('neutral');
  if (scenarios.length === 0) throw invalid('runSpecificity needs at least one scenario');
  if (new Set(scenarios.map((s) => s.id)).size !== scenarios.length) throw invalid('scenario ids must be unique');
  const emotions = [...(options.emotions ?? set.emotions)];
  if (emotions.length === 0) throw invalid('runSpecificity needs at least one emotion');
  if (new Set(emotions).size !== emotions.length) throw invalid('emotions must be unique');
  for (const e of emotions) if (!set.emotions.includes(e)) throw invalid(`the set has no vector for '${e}'`);
  const maxTokens = intOption(options.maxTokens, 48, 'maxTokens', 1);
  const batch = intOption(options.batch, 8, 'batch', 1);
  const range = options.layers ? { layers: options.layers } : {};
  const layers = steeringVectors(set, { emotion: emotions[0]!, strength }, range).layers;

  const jobs: SpecJob[] = [
    ...scenarios.map((scenario) => ({ key: `baseline|${scenario.id}`, scenario, emotion: null })),
    ...emotions.flatMap((emotion) => scenarios.map((scenario) => ({ key: `${emotion}|${scenario.id}`, scenario, emotion }))),
  ];
  const header = {
    kind: 'specificity',
    version: 1,
    // The set by what made it (model file, method, parameters), not by when: a set extracted again
    // from the committed stories on another machine resumes the same checkpoint.
    set: { sha256: set.meta.model.sha256, method: set.meta.method, params: setParamsHash(set) },
    strength,
    maxTokens,
    layers,
    batch,
    emotions,
    scenarios: scenarios.map((s) => [s.id, s.prompt]),
    judges: names,
  };
  const done = await openCheckpoint(options.checkpoint, header);
  const restored = jobs.filter((j) => done.has(j.key)).length;
  let count = restored;
  let generationMs = 0;
  let judgingMs = 0;

  const pending = pendingBatches(jobs, Math.min(batch, jobs.length), (j) => done.has(j.key));
  if (pending.length > 0) {
    const width = Math.min(batch, jobs.length);
    const longest = Math.max(8, ...scenarios.map((sc) => model.tokenize(sc.prompt).length));
    const ctx = await model.createContext({ contextSize: width * (longest + maxTokens + 8), sequences: width, threads: options.threads });
    try {
      for (const chunk of pending) {
        if (options.signal?.aborted) throw new EmosteerError('ABORTED', `the specificity run was aborted after ${count} of ${jobs.length} continuations; rerun with the same checkpoint to resume`);
        const g0 = performance.now();
        const outs = await ctx.generateBatch(chunk.map((j) => j.scenario.prompt), {
          steerings: chunk.map((j) => (j.emotion === null ? null : steeringVectors(set, { emotion: j.emotion, strength }, range))),
          maxTokens,
          temperature: 0,
          seeds: chunk.map(() => 0),
          signal: options.signal,
        });
        generationMs += performance.now() - g0;
        for (const [i, job] of chunk.entries()) {
          if (done.has(job.key)) continue; // redone with its batch; the checkpoint holds it
          const text = outs[i]!.text;
          const j0 = performance.now();
          const scores: SpecRecord['scores'] = {};
          for (const judge of judges) {
            const s: Record<string, number | null> = {};
            // One after the other: LLM judges share one context.
            for (const e of emotions) {
              const v = await judge.score(text, e);
              s[e] = Number.isFinite(v) ? v : null;
            }
            scores[judge.name] = s;
          }
          judgingMs += performance.now() - j0;
          const rec: SpecRecord = { key: job.key, text, scores };
          done.set(job.key, rec);
          if (options.checkpoint) await appendFile(options.checkpoint, `${JSON.stringify(rec)}\n`);
          options.onProgress?.(++count, jobs.length, job.scenario.id);
        }
      }
    } finally {
      await ctx.dispose();
    }
  }

  const texts: SpecificityText[] = jobs.map((j) => {
    const rec = done.get(j.key)!;
    return { scenario: j.scenario.id, steered: j.emotion, text: rec.text, scores: fromJson(rec.scores) };
  });
  const byKey = new Map(jobs.map((j, i) => [j.key, texts[i]!]));
  const matrices: Record<string, SpecificityMatrix> = {};
  for (const name of names) {
    const deltas = emotions.map((e) => scenarios.map((sc) => {
      const steeredScores = byKey.get(`${e}|${sc.id}`)!.scores[name]!;
      const baseScores = byKey.get(`baseline|${sc.id}`)!.scores[name]!;
      return emotions.map((c) => steeredScores[c]! - baseScores[c]!);
    }));
    matrices[name] = specificityFromScores(
      { steered: emotions, judged: emotions, scenarios: scenarios.map((s) => s.id), deltas },
      { permutations: options.permutations, resamples: options.resamples, seed: options.seed },
    );
  }
  return {
    model: model.info.description,
    method: set.meta.method,
    strength,
    maxTokens,
    layers,
    emotions,
    scenarios: scenarios.map((s) => s.id),
    texts,
    judges: matrices,
    timing: {
      wallSeconds: (performance.now() - t0) / 1000,
      generationSeconds: generationMs / 1000,
      judgingSeconds: judgingMs / 1000,
      continuations: jobs.length,
      restored,
      batch,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    },
  };
}
