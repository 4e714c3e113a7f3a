/**
 * `emosteer steer <run-dir> [--json]`: the steering experiment on the model of a run: the
 * scenario suite x strengths x greedy/seeded sampling, judged by external judges, with
 * regimes, cross-lingual flags, the logit lens and emotion-meter traces; saved to
 * `<run-dir>/steering.json` (and shown by `emosteer report`). One call of
 * {@link "emosteer/protocol"!steerFolder | steerFolder} (or, with `--rescore`, of
 * {@link "emosteer/protocol"!rescoreFolder | rescoreFolder}).
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { rescoreFolder, steerFolder, type SteerFolderOptions } from '../protocol/steps.js';
import { DEFAULT_SAMPLING_MODES, DEFAULT_STRENGTHS } from '../steer/experiment.js';
import { SCENARIOS } from '../steer/scenarios.js';
import { choiceFlag, choiceListFlag, defaultIo, interruptSignal, intFlag, listFlag, numberListFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';
import { protocolPrinter } from './progress.js';
import { steeringLines, steeringSummary } from './summaries.js';

/** Usage text of `emosteer steer`. */
export const STEER_USAGE = `Usage: emosteer steer <run-dir> [options]

Runs the steering scenario suite with the vectors of a run and saves <run-dir>/steering.json.

Options:
      --method <m>          which set to steer with (default: comprehension if present)
      --model <gguf|name>   the model (default: the one recorded in the set)
      --scenarios <n|ids>   the first n scenarios, or a comma list of ids (default: all ${SCENARIOS.length})
      --strengths <a,b,..>  default ${DEFAULT_STRENGTHS.join(',')}
      --sampling <m,..>     greedy,sampled (default both): steered runs use the first only; a
                            sampled mode draws the noise floor's 2 unsteered baselines per scenario
      --max-tokens <n>      new tokens per continuation (default 48)
      --llm-judge <gguf|name>  add a zero-shot LLM judge using this second model (never the steered model)
      --llm-judge-strengths <a,..>  strengths the LLM judge judges (default all; it is slow: 21 passes per text)
      --llm-judge-sampling <m,..>   sampling modes it judges (default greedy)
      --llm-judge-arms <a,..>       arms it judges: emotion,random,random-per-block,shuffled-label,other-emotion (default all)
      --random-seeds <n>    random directions per scenario, one direction at every block with the
                            emotion steering's norm there (default 2)
      --no-other-emotion    no control arm steering with another emotion's vector
      --control-sampling <m,..>  sampling modes the controls run under (default: the first mode)
      --no-controls         no control arms at all
      --batch <n>           continuations decoded together (default 8)
      --steering-path <p>   per-sequence (default: any runs share a batch, each with its own
                            steering) or context-wide (llama.cpp's control vector, one per batch;
                            faster on GPUs)
      --out <dir>           write steering.json and its checkpoint there (default: the run folder)
      --cross-model         steer --model, another file of the same architecture and shape (e.g.
                            another quantization of the same weights), with this folder's vectors;
                            steering.json records both files (crossModel)
      --rescore             re-judge the saved steering.json (judges, regimes, flags) without generating
                            (the model is not loaded; --model, if given, is checked against the set);
                            with --llm-judge, adds the LLM judge to the saved runs
      --json                print a JSON summary
  -h, --help                show this help`;

/** Flags of the experiment, which `--rescore` (re-judging saved runs) does not take. */
const EXPERIMENT_FLAGS = ['method', 'scenarios', 'strengths', 'sampling', 'max-tokens', 'random-seeds', 'no-other-emotion', 'control-sampling', 'no-controls', 'batch', 'steering-path'] as const;

/**
 * Runs `emosteer steer`: one call of {@link "emosteer/protocol"!steerFolder | steerFolder}, or
 * with `--rescore` of {@link "emosteer/protocol"!rescoreFolder | rescoreFolder}.
 * @returns 0 ok, 1 failure, 2 bad arguments, 130 interrupted (resumable)
 */
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
    out: { type: 'string' },
    'cross-model': { type: 'boolean' },
    json: { type: 'boolean' },
  }, STEER_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    io.err(`emosteer steer: one run folder is required\n\n${STEER_USAGE}`);
    return 2;
  }
  const runDir = positionals[0]!;
  const printer = protocolPrinter(io, { json: values.json });
  const interrupt = interruptSignal('steer', io, 'stopping; finished continuations are kept');
  try {
    const judgeFlags = (['llm-judge-strengths', 'llm-judge-sampling', 'llm-judge-arms'] as const).filter((k) => values[k] !== undefined);
    if (!values['llm-judge'] && judgeFlags.length > 0) throw new EmosteerError('INVALID_ARGUMENT', `--${judgeFlags[0]} needs --llm-judge <gguf>`);
    const llmJudgeArg = values['llm-judge'];
    const judgeOptions = {
      strengths: numberListFlag('llm-judge-strengths', values['llm-judge-strengths'], { above: 0 }),
      sampling: choiceListFlag('llm-judge-sampling', values['llm-judge-sampling'], SAMPLING_NAMES),
      arms: choiceListFlag('llm-judge-arms', values['llm-judge-arms'], ARMS),
    };
    let data;
    if (values.rescore && (values.out !== undefined || values['cross-model'])) {
      throw new EmosteerError('INVALID_ARGUMENT', `--rescore re-judges the run folder's own steering.json: --${values.out !== undefined ? 'out' : 'cross-model'} applies to a new steering run`);
    }
    if (values['cross-model'] && values.model === undefined) throw new EmosteerError('INVALID_ARGUMENT', '--cross-model needs --model <the other model file>');
    if (values.rescore) {
      const extra = EXPERIMENT_FLAGS.filter((k) => values[k] !== undefined);
      if (extra.length > 0) throw new EmosteerError('INVALID_ARGUMENT', `--rescore re-judges the saved runs: --${extra.join(', --')} ${extra.length > 1 ? 'do' : 'does'} not apply`);
      const model = values.model !== undefined ? await resolveModelArg(values.model, io) : undefined;
      const llmJudge = llmJudgeArg !== undefined ? { model: await resolveModelArg(llmJudgeArg, io, '--llm-judge'), ...defined(judgeOptions) } : undefined;
      data = await rescoreFolder(runDir, { ...(model ? { model } : {}), ...(llmJudge ? { llmJudge } : {}), onProgress: printer.onProgress });
    } else {
      const sc = values.scenarios;
      const scenarios = sc === undefined ? undefined : /^\s*\d+\s*$/.test(sc) ? intFlag('scenarios', sc, { min: 0 }) : listFlag('scenarios', sc);
      const noControls = values['no-controls'];
      if (noControls && (values['random-seeds'] !== undefined || values['no-other-emotion'] || values['control-sampling'] !== undefined)) {
        throw new EmosteerError('INVALID_ARGUMENT', '--no-controls leaves out every control arm: --random-seeds, --no-other-emotion and --control-sampling do not apply');
      }
      const randomSeeds = intFlag('random-seeds', values['random-seeds'], { min: 0 });
      const controlSampling = choiceListFlag('control-sampling', values['control-sampling'], SAMPLING_NAMES);
      const options: SteerFolderOptions = defined({
        method: values.method,
        scenarios,
        strengths: numberListFlag('strengths', values.strengths, { above: 0 }),
        sampling: choiceListFlag('sampling', values.sampling, SAMPLING_NAMES),
        maxTokens: intFlag('max-tokens', values['max-tokens'], { min: 1 }),
        batch: intFlag('batch', values.batch, { min: 1 }),
        steeringPath: choiceFlag('steering-path', values['steering-path'], ['per-sequence', 'context-wide'] as const),
        controls: noControls ? false : defined({ randomSeeds, otherEmotion: values['no-other-emotion'] ? false : undefined, sampling: controlSampling }),
      });
      const model = values.model !== undefined ? await resolveModelArg(values.model, io) : undefined;
      const llmJudge = llmJudgeArg !== undefined ? { model: await resolveModelArg(llmJudgeArg, io, '--llm-judge'), ...defined(judgeOptions) } : undefined;
      data = await steerFolder(runDir, { ...options, ...(model ? { model } : {}), ...(llmJudge ? { llmJudge } : {}), ...(values.out !== undefined ? { out: values.out } : {}), ...(values['cross-model'] ? { crossModel: true } : {}), signal: interrupt.signal, onProgress: printer.onProgress });
    }
    printer.stop();
    if (values.json) io.out(JSON.stringify(steeringSummary(data), null, 2));
    else for (const line of steeringLines(data, values.rescore ? runDir : values.out ?? runDir)) io.out(line);
    return 0;
  } catch (e) {
    printer.stop();
    return reportError('steer', e, io);
  } finally {
    interrupt.done();
  }
}

const SAMPLING_NAMES = DEFAULT_SAMPLING_MODES.map((m) => m.name);
const ARMS = ['emotion', 'random', 'random-per-block', 'shuffled-label', 'other-emotion'] as const;

/** A copy without the keys whose value is undefined. */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
