/**
 * `emosteer steer <run-dir> [--json]`: the steering experiment on the model of a run: the
 * scenario suite x strengths x greedy/seeded sampling, judged by external judges, with
 * regimes, cross-lingual flags, the logit lens and emotion-meter traces; saved to
 * `<run-dir>/steering.json` (and shown by `emosteer report`).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { EmosteerError } from '../errors.js';
import { findSets } from '../evaluate/evaluate.js';
import { fileSha256 } from '../extract/common.js';
import { loadModel, type Model } from '../runtime/model.js';
import type { SteeringReportData } from '../report/steering-section.js';
import { EmotionMeter } from '../steer/emotion-meter.js';
import { DEFAULT_SAMPLING_MODES, DEFAULT_STRENGTHS, rescoreRuns, runSteeringExperiment, summarize, type JudgeSpec } from '../steer/experiment.js';
import { LexiconJudge } from '../steer/judges/lexicon.js';
import { LlmJudge } from '../steer/judges/llm-judge.js';
import { ValenceJudge } from '../steer/judges/valence.js';
import { logitLens } from '../steer/logit-lens.js';
import { SCENARIOS, selectScenarios } from '../steer/scenarios.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';

/** Usage text of `emosteer steer`. */
export const STEER_USAGE = `Usage: emosteer steer <run-dir> [options]

Runs the steering scenario suite with the vectors of a run and saves <run-dir>/steering.json.

Options:
      --method <m>          which set to steer with (default: comprehension if present)
      --model <gguf>        the model (default: the one recorded in the set)
      --scenarios <n|ids>   the first n scenarios, or a comma list of ids (default: all ${SCENARIOS.length})
      --strengths <a,b,..>  default ${DEFAULT_STRENGTHS.join(',')}
      --sampling <m,..>     greedy,sampled (default both)
      --max-tokens <n>      new tokens per continuation (default 48)
      --llm-judge <gguf>    add a zero-shot LLM judge using this second model (never the steered model)
      --llm-judge-strengths <a,..>  strengths the LLM judge judges (default all; it is slow: 21 passes per text)
      --llm-judge-sampling <m,..>   sampling modes it judges (default greedy)
      --llm-judge-arms <a,..>       arms it judges: emotion,random,other-emotion (default all)
      --random-seeds <n>    random-direction control arms of the same per-block norm (default 2)
      --no-other-emotion    no control arm steering with another emotion's vector
      --control-sampling <m,..>  sampling modes the controls run under (default: the first mode)
      --no-controls         no control arms at all
      --batch <n>           continuations decoded together (default 8)
      --steering-path <p>   per-sequence (default: any runs share a batch, each with its own
                            steering) or context-wide (llama.cpp's control vector, one per batch;
                            faster on GPUs)
      --rescore             re-judge the saved steering.json (judges, regimes, flags) without generating;
                            with --llm-judge, adds the LLM judge to the saved runs
      --json                print a JSON summary
  -h, --help                show this help`;

/** Runs `emosteer steer`. @returns 0 ok, 1 failure, 2 bad arguments */
export async function runSteer(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('steer', argv, {
    method: { type: 'string' },
    model: { type: 'string' },
    scenarios: { type: 'string' },
    strengths: { type: 'string' },
    sampling: { type: 'string' },
    'max-tokens': { type: 'string' },
    'llm-judge': { type: 'string' },
    'llm-judge-strengths': { type: 'string' },
    'llm-judge-sampling': { type: 'string' },
    'llm-judge-arms': { type: 'string' },
    'random-seeds': { type: 'string' },
    'no-other-emotion': { type: 'boolean' },
    'control-sampling': { type: 'string' },
    'no-controls': { type: 'boolean' },
    batch: { type: 'string' },
    'steering-path': { type: 'string' },
    rescore: { type: 'boolean' },
    json: { type: 'boolean' },
  }, STEER_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    io.err(`emosteer steer: one run folder is required\n\n${STEER_USAGE}`);
    return 2;
  }
  const runDir = positionals[0]!;
  let model: Model | undefined;
  let judgeModel: Model | undefined;
  const lines = progressLines(io);
  const bar = values.json || !process.stderr.isTTY ? null : new cliProgress.SingleBar({ format: 'steer |{bar}| {value}/{total} runs | {scenario} | ETA {eta}s', hideCursor: true }, cliProgress.Presets.shades_classic);
  try {
    const sets = await findSets(runDir);
    const method = (values.method as string | undefined) ?? (sets.has('comprehension') ? 'comprehension' : [...sets.keys()][0]!);
    const dir = sets.get(method);
    if (!dir) throw new EmosteerError('INVALID_ARGUMENT', `no '${method}' set in ${runDir} (have: ${[...sets.keys()].join(', ')})`);
    const set = await EmotionVectorSet.load(dir);
    const path = (values.model as string | undefined) ?? set.meta.model.path;
    if (!path || !existsSync(path)) throw new EmosteerError('FILE_NOT_FOUND', 'the model of the set is not at its recorded path; pass --model <gguf>');
    if ((await fileSha256(path)) !== set.meta.model.sha256) throw new EmosteerError('INVALID_ARGUMENT', `${path} is not the model the set was extracted from`);
    model = await loadModel(path);
    const judges = judgesFor();
    let judgeCtx;
    let llmJudge: SteeringReportData['llmJudge'];
    if (values['llm-judge']) {
      const judgePath = values['llm-judge'] as string;
      if (!existsSync(judgePath)) throw new EmosteerError('FILE_NOT_FOUND', `--llm-judge ${judgePath}: no such file`);
      const judgeSha = await fileSha256(judgePath);
      if (judgeSha === set.meta.model.sha256) {
        throw new EmosteerError('INVALID_ARGUMENT', '--llm-judge is the steered model itself: a model never judges its own outputs; pass a different GGUF');
      }
      judgeModel = await loadModel(judgePath);
      judgeCtx = await judgeModel.createContext({ contextSize: 2048 });
      const strengths = values['llm-judge-strengths'] ? (values['llm-judge-strengths'] as string).split(',').map(Number) : undefined;
      const modes = ((values['llm-judge-sampling'] as string | undefined) ?? 'greedy').split(',');
      const arms = ((values['llm-judge-arms'] as string | undefined) ?? 'emotion,random,other-emotion').split(',');
      judges.push({ judge: new LlmJudge(judgeCtx), margin: 0.02, applies: (r) => modes.includes(r.sampling) && arms.includes(r.arm) && (!strengths || strengths.includes(r.strength)) });
      llmJudge = { model: judgeModel.info.description, file: basename(judgePath), sha256: judgeSha, sampling: modes, arms, ...(strengths ? { strengths } : {}) };
    }
    if (values.rescore) {
      const saved = JSON.parse(await readFile(join(runDir, 'steering.json'), 'utf8')) as SteeringReportData;
      const all = [...saved.runs, ...(saved.controlRuns ?? [])];
      let judged = 0;
      const onProgress = () => { judged++; if (bar) { if (!bar.isActive) bar.start(all.length, judged, { scenario: 'rescore' }); bar.update(judged); } };
      const runs = await rescoreRuns(saved.runs, judges, onProgress);
      const scenarioIds = [...new Set(runs.map((r) => r.scenario))];
      const controlRuns = await rescoreRuns(saved.controlRuns ?? [], judges, onProgress);
      bar?.stop();
      const rescored = summarize({ info: { description: saved.model } }, { meta: { method: saved.method } }, SCENARIOS.filter((x) => scenarioIds.includes(x.id)), saved.strengths, DEFAULT_SAMPLING_MODES.filter((m) => saved.sampling.includes(m.name)), runs, judges.map((j) => j.judge.name), { controlRuns, ...(saved.controls ? { controls: saved.controls } : {}) });
      return await finish({ ...rescored, logitLens: saved.logitLens, meterLayer: saved.meterLayer, ...(llmJudge ? { llmJudge } : {}) }, saved.method, saved.strengths);
    }
    const sc = values.scenarios as string | undefined;
    // Only scenarios whose target emotion the set has a vector for.
    const usable = SCENARIOS.filter((x) => set.emotions.includes(x.target));
    const scenarios = sc === undefined ? usable : /^\d+$/.test(sc) ? usable.slice(0, Number(sc)) : selectScenarios({ ids: sc.split(',') });
    if (scenarios.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `no scenario targets an emotion of this set (${set.emotions.join(', ')})`);
    const strengths = values.strengths ? (values.strengths as string).split(',').map(Number) : [...DEFAULT_STRENGTHS];
    if (strengths.some((x) => !(x > 0))) throw new EmosteerError('INVALID_ARGUMENT', '--strengths must be positive numbers (direction comes from the scenario)');
    const modeNames = values.sampling ? (values.sampling as string).split(',') : DEFAULT_SAMPLING_MODES.map((m) => m.name);
    const sampling = DEFAULT_SAMPLING_MODES.filter((m) => modeNames.includes(m.name));
    if (sampling.length === 0) throw new EmosteerError('INVALID_ARGUMENT', '--sampling must list greedy and/or sampled');
    const meter = new EmotionMeter(set);
    const randomSeeds = values['random-seeds'] === undefined ? 2 : Number(values['random-seeds']);
    if (!Number.isInteger(randomSeeds) || randomSeeds < 0) throw new EmosteerError('INVALID_ARGUMENT', '--random-seeds must be a non-negative integer');
    const batch = values.batch === undefined ? 8 : Number(values.batch);
    if (!Number.isInteger(batch) || batch < 1) throw new EmosteerError('INVALID_ARGUMENT', '--batch must be a positive integer');
    const controlSampling = values['control-sampling'] ? (values['control-sampling'] as string).split(',') : [sampling[0]!.name];
    const result = await runSteeringExperiment(model, set, {
      scenarios,
      strengths,
      sampling,
      maxTokens: values['max-tokens'] ? Number(values['max-tokens']) : 48,
      judges,
      meter,
      batch,
      ...(values['steering-path'] !== undefined ? { steeringPath: values['steering-path'] as 'per-sequence' | 'context-wide' } : {}),
      controls: values['no-controls'] ? false : { randomSeeds, otherEmotion: !values['no-other-emotion'], sampling: controlSampling },
      checkpoint: join(runDir, 'steering.partial.jsonl'),
      onProgress: (done, total, scenario) => {
        if (bar) { if (!bar.isActive) bar.start(total, done, { scenario }); bar.update(done, { scenario }); }
        else if (!values.json) lines.update(done, total, scenario);
      },
    });
    bar?.stop();
    const lensCtx = await model.createContext({ contextSize: 256 });
    const lens = await logitLens(lensCtx, set);
    await lensCtx.dispose();
    await judgeCtx?.dispose();
    return await finish({ ...result, logitLens: lens, meterLayer: meter.layer, ...(llmJudge ? { llmJudge } : {}) }, method, strengths);
  } catch (e) {
    bar?.stop();
    return reportError('steer', e, io);
  } finally {
    model?.dispose();
    judgeModel?.dispose();
  }

  async function finish(data: SteeringReportData, method: string, strengths: number[]): Promise<number> {
    const result = data;
    const lens = data.logitLens ?? [];
    // Atomic: a kill while writing never leaves a steering.json that looks complete.
    const tmp = join(runDir, `steering.json.partial-${process.pid}`);
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`);
    await rename(tmp, join(runDir, 'steering.json'));
    await rm(join(runDir, 'steering.partial.jsonl'), { force: true });
    const judgesOut = Object.fromEntries(Object.entries(result.judges).map(([k, j]) => [k, { successRate: j.perScenario.successRate, ci95: j.perScenario.ci95, successes: j.perScenario.successes, trials: j.perScenario.trials, perRun: j.perRun }]));
    const lensFlags = lens.filter((l) => Object.entries(l.scripts).some(([k, v]) => k !== 'Latin' && k !== 'none' && v > 0)).map((l) => ({ emotion: l.emotion, scripts: l.scripts }));
    const contrasts = (result.contrasts ?? []).map((c) => ({ judge: c.judge, control: c.control, strength: c.strength, steered: c.steeredRate, controlRate: c.controlRate, difference: c.difference.value, ci95: c.difference.ci95 }));
    const summary = { scenarios: result.scenarios, method, strengths, sampling: result.sampling, judges: judgesOut, contrasts, regimes: result.regimes, crossLingualFlags: result.crossLingualFlags, logitLensNonLatin: lensFlags };
    if (values.json) io.out(JSON.stringify(summary, null, 2));
    else {
      for (const [k, j] of Object.entries(judgesOut)) io.out(`${k}: ${j.successes}/${j.trials} scenarios (${(100 * j.successRate).toFixed(1)}%, 95% CI ${j.ci95.map((x) => (100 * x).toFixed(1)).join('-')}%)`);
      for (const c of contrasts.filter((x) => x.strength === 'any')) io.out(`${c.judge}, steered - ${c.control} control (any strength): ${(100 * c.difference).toFixed(1)} points (95% CI ${c.ci95.map((x) => (100 * x).toFixed(1)).join(' to ')})`);
      io.out(`regimes: ${JSON.stringify(result.regimes)}; cross-lingual flags: ${result.crossLingualFlags.length}; logit lens with non-Latin tokens: ${lensFlags.length} emotions`);
      io.out(`saved ${join(runDir, 'steering.json')}`);
    }
    return 0;
  }
}

/** The default judges and their margins: VADER's neutral band, and half a lexicon hit per 100 words. */
function judgesFor(): JudgeSpec[] {
  return [
    { judge: new ValenceJudge(), margin: 0.05 },
    { judge: new LexiconJudge(), margin: 0.5 },
  ];
}

/**
 * Progress for logs (no TTY): a line at most every 30 s, with the rate and the time left, so a
 * long run in the background shows where it is.
 */
function progressLines(io: CliIo, everyMs = 30_000): { update(done: number, total: number, scenario: string): void } {
  let start = 0;
  let first = 0;
  let last = 0;
  return {
    update(done, total, scenario) {
      const now = performance.now();
      if (start === 0) { start = now; first = done; last = now; return; }
      if (now - last < everyMs && done < total) return;
      last = now;
      const rate = (done - first) / ((now - start) / 1000);
      const eta = rate > 0 ? (total - done) / rate : Number.NaN;
      io.err(`[steer] ${done}/${total} continuations, ${rate.toFixed(2)}/s, ETA ${Number.isFinite(eta) ? `${Math.round(eta)} s` : '?'} (${scenario})`);
    },
  };
}
