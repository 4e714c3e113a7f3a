/**
 * `emosteer study --models <names or paths> --out <dir> [--quantizations q3_k_m,q2_k]`: the
 * whole protocol on many models (and quantizations of them), then one cross-model report,
 * `study.json` and the claims table. Each model runs the main job's steps in
 * `<dir>/<model id>/` (so every step resumes), an LLM judge that is a different
 * instruction-tuned model of the study re-judges its steering runs, and a model that fails
 * gets its error in the report instead of stopping the study. One call of
 * {@link "emosteer/protocol"!runStudy | runStudy}.
 *
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { readRunManifests, studyModelFolders } from '../protocol/run-manifest.js';
import { replaceGeneratedBlocks, resultsBlocks } from '../study/results-markdown.js';
import { EmosteerError } from '../errors.js';
import { runStudy as runStudyProtocol } from '../protocol/study.js';
import { DEFAULT_SAMPLING_MODES } from '../steer/experiment.js';
import { choiceListFlag, defaultIo, interruptSignal, intFlag, listFlag, numberListFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';
import { studyPrinter } from './progress.js';

/** Usage text of `emosteer study`. */
export const STUDY_USAGE = `Usage: emosteer study --models <a,b,..> --out <dir> [options]

Runs the protocol (both extraction methods, evaluation, steering with controls) on every model,
then writes <dir>/study.json, <dir>/report.html and <dir>/claims.md: one row per model, layer
curves on relative depth, generation vs comprehension with models as the unit, quantization
curves, and the paper's claims checked one by one. Every step resumes; rerun the same command.

Options:
      --models <a,b,..>         registry names (emosteer models list) or GGUF paths (required)
  -o, --out <dir>               study folder (required)
      --quantizations <t,..>    also re-encode every model to these types (emosteer quantize)
                                and run the protocol on each, e.g. q8_0,q3_k_m,q2_k; each
                                variant also gets quality.json (KL divergence, same top-1, PPL
                                ratio against its parent: docs/quality.md)
      --quantize-models <a,..>  quantize only these of the models (default: all)
      --llm-judge <auto|none|name|path>
                                LLM judge of the steering runs (default auto: the smallest other
                                instruction-tuned model of the study; never the steered model)
      --llm-judge-strengths <a,..>  strengths it judges (default: the middle strength of the run)
      --llm-judge-arms <a,..>   arms it judges (default emotion,random; also other-emotion)
      --quick                   the small protocol (4 emotions, 2 samples, 10 scenarios, ...)
      --no-prereg               without the pre-registered protocol of docs/PREREG.md (its
                                read-outs, arms, validated judges, specificity matrix; on by
                                default unless --quick)
      --methods <m,..>          extraction methods (default comprehension,generation)
      --scenarios <n>           steer with the first n usable scenarios only
      --strengths <a,..>        steering strengths (default those of emosteer steer)
      --sampling <m,..>         greedy,sampled (default both)
      --no-steer                extraction and evaluation only
      --report-only             run nothing: write study.json, the report and the claims from
                                what the model folders hold now (e.g. while a long study runs)
      --from <dir>              with --report-only: the study folder to read (and write to);
                                --models defaults to every model folder in it
      --results-md <file>       also rewrite the generated tables of this Markdown file (the
                                <!-- emosteer:generated NAME --> blocks of docs/results.md)
  -h, --help                    show this help`;

/**
 * Runs `emosteer study`: one call of {@link "emosteer/protocol"!runStudy | runStudy}.
 * @returns 0 when every model ran, 1 when some failed (the study is still written), 2 for bad arguments, 130 interrupted
 */
export async function runStudy(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('study', argv, {
    models: { type: 'string' },
    out: { type: 'string', short: 'o' },
    quantizations: { type: 'string' },
    'quantize-models': { type: 'string' },
    'llm-judge': { type: 'string' },
    'llm-judge-strengths': { type: 'string' },
    'llm-judge-arms': { type: 'string' },
    quick: { type: 'boolean' },
    'no-prereg': { type: 'boolean' },
    scenarios: { type: 'string' },
    methods: { type: 'string' },
    strengths: { type: 'string' },
    sampling: { type: 'string' },
    'no-steer': { type: 'boolean' },
    'report-only': { type: 'boolean' },
    from: { type: 'string' },
    'results-md': { type: 'string' },
  }, STUDY_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (values.from !== undefined && !values['report-only']) {
    io.err(`emosteer study: --from reads a study folder, so it needs --report-only\n\n${STUDY_USAGE}`);
    return 2;
  }
  if (values.from !== undefined && values.out !== undefined && values.out !== values.from) {
    io.err('emosteer study: --from and --out name two folders; give one');
    return 2;
  }
  const out = values.from ?? values.out;
  if (values.from !== undefined && !values.models) {
    const found = studyModelFolders(values.from);
    if (found.length === 0) {
      io.err(`emosteer study: ${values.from} has no model folder (one with run.json, evaluation.json or steering.json)`);
      return 2;
    }
    values.models = found.join(',');
  }
  if (!values.models || !out) {
    io.err(`emosteer study: --models and --out are required\n\n${STUDY_USAGE}`);
    return 2;
  }
  const printer = studyPrinter(io, out);
  const interrupt = interruptSignal('study', io);
  try {
    const models = listFlag('models', values.models)!;
    const sc = values.scenarios;
    const steering = {
      ...(sc !== undefined ? { scenarios: /^\s*\d+\s*$/.test(sc) ? intFlag('scenarios', sc, { min: 1 })! : listFlag('scenarios', sc)! } : {}),
      ...(values.strengths !== undefined ? { strengths: numberListFlag('strengths', values.strengths, { above: 0 })! } : {}),
      ...(values.sampling !== undefined ? { sampling: choiceListFlag('sampling', values.sampling, DEFAULT_SAMPLING_MODES.map((m) => m.name))! } : {}),
    };
    const llmJudge = values['llm-judge'];
    if ((values['llm-judge-strengths'] !== undefined || values['llm-judge-arms'] !== undefined) && (llmJudge === 'none' || values['no-steer'])) {
      throw new EmosteerError('INVALID_ARGUMENT', '--llm-judge-strengths and --llm-judge-arms need an LLM judge (not --llm-judge none or --no-steer)');
    }
    const result = await runStudyProtocol({
      models,
      out,
      quantizations: listFlag('quantizations', values.quantizations) ?? [],
      ...(values['quantize-models'] !== undefined ? { quantizeModels: listFlag('quantize-models', values['quantize-models'])! } : {}),
      ...(llmJudge !== undefined ? { llmJudge: llmJudge === 'auto' || llmJudge === 'none' ? llmJudge : await resolveJudge(llmJudge, models, io) } : {}),
      ...(values['llm-judge-strengths'] !== undefined ? { llmJudgeStrengths: numberListFlag('llm-judge-strengths', values['llm-judge-strengths'], { above: 0 })! } : {}),
      ...(values['llm-judge-arms'] !== undefined ? { llmJudgeArms: choiceListFlag('llm-judge-arms', values['llm-judge-arms'], ['emotion', 'random', 'other-emotion'] as const)! } : {}),
      quick: Boolean(values.quick),
      ...(values['no-prereg'] ? { prereg: false } : {}),
      methods: choiceListFlag('methods', values.methods, ['comprehension', 'generation'] as const) ?? ['comprehension', 'generation'],
      steer: !values['no-steer'],
      ...(Object.keys(steering).length ? { steering } : {}),
      reportOnly: Boolean(values['report-only']),
      signal: interrupt.signal,
      onProgress: printer.onStudy,
    });
    printer.stop();
    if (values['results-md'] !== undefined) {
      const file = values['results-md'];
      const md = await readFile(file, 'utf8').catch(() => { throw new EmosteerError('FILE_NOT_FOUND', `--results-md ${file}: no such file`); });
      const runs = await readRunManifests(out, result.study.rows.map((r) => r.variant.id));
      await writeFile(file, replaceGeneratedBlocks(md, resultsBlocks(result.study, runs)));
      io.err(`[study] wrote the generated tables of ${file}`);
    }
    io.err(`[study] done: ${result.study.rows.length - result.failed.length} of ${result.study.rows.length} models; open ${result.report}`);
    io.out(result.report);
    return result.failed.length > 0 ? 1 : 0;
  } catch (e) {
    printer.stop();
    return reportError('study', e, io);
  } finally {
    interrupt.done();
  }
}

/**
 * The LLM judge named on the command line, checked (and fetched, for a registry name) by the
 * CLI's model resolver before the study starts; a model of the study is the study's to fetch.
 * The study is given the name as it was typed (study.json records it).
 */
async function resolveJudge(judge: string, models: readonly string[], io: CliIo): Promise<string> {
  if (!models.includes(judge)) await resolveModelArg(judge, io, '--llm-judge');
  return judge;
}
