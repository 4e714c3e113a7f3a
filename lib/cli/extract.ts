/**
 * `emosteer extract`: runs generation- or comprehension-based extraction on a model and saves
 * the EmotionVectorSet to a folder, with a progress bar; Ctrl-C stops cleanly and a rerun
 * with the same options resumes from the checkpoint in that folder. One call of
 * {@link "emosteer/protocol"!extractToFolder | extractToFolder}.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { extractToFolder, type ExtractToFolderOptions } from '../protocol/steps.js';
import { loadStimuli } from '../stimuli/index.js';
import { choiceFlag, defaultIo, interruptSignal, intFlag, listFlag, numberFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';
import { protocolPrinter } from './progress.js';
import { extractLines, extractSummary } from './summaries.js';

export { extractSummary } from './summaries.js';

/** Usage text of `emosteer extract`. */
export const EXTRACT_USAGE = `Usage: emosteer extract --model <gguf> --method generation|comprehension --out <dir> [options]

Extracts emotion vectors at every block and saves them (with per-sample activations and every
parameter) to <dir>. Interrupt with Ctrl-C; rerunning the same command resumes.

Options:
  -m, --model <gguf|name>   GGUF file or registry name (emosteer models list) (required)
      --method <m>          generation | comprehension (required)
  -o, --out <dir>           output folder (required)
      --emotions <a,b,c>    subset of emotions (default: all 20)
      --samples <n>         stories (generation, default 10) or passages (comprehension, default all) per category
      --max-tokens <n>      generation: new tokens per story (default 256)
      --seed <n>            generation: base seed (default 0)
      --temperature <t>     generation: 0 = greedy (default)
      --position <p>        generation: middle|last|mean (default middle); comprehension: last|mean (default last)
      --baseline <b>        neutral | all (default: neutral for generation, all for comprehension)
      --chat-template <on|off>  default: on for generation, off for comprehension
      --batch <n>           sequences decoded together (default 4 / 8)
      --threads <n>         CPU threads
      --stimuli <file>      your own stimuli (JSON or JSONL)
      --json                print a JSON summary
  -h, --help                show this help`;

/**
 * Runs `emosteer extract`: one call of {@link "emosteer/protocol"!extractToFolder | extractToFolder}.
 * @returns 0 ok, 1 failure, 2 bad arguments, 130 interrupted (resumable)
 */
export async function runExtract(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('extract', argv, {
    model: { type: 'string', short: 'm' },
    method: { type: 'string' },
    out: { type: 'string', short: 'o' },
    emotions: { type: 'string' },
    samples: { type: 'string' },
    'max-tokens': { type: 'string' },
    seed: { type: 'string' },
    temperature: { type: 'string' },
    position: { type: 'string' },
    baseline: { type: 'string' },
    'chat-template': { type: 'string' },
    batch: { type: 'string' },
    threads: { type: 'string' },
    stimuli: { type: 'string' },
    json: { type: 'boolean' },
  }, EXTRACT_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const method = values.method;
  if (!values.model || !values.out || (method !== 'generation' && method !== 'comprehension')) {
    io.err(`emosteer extract: --model, --out and --method generation|comprehension are required\n\n${EXTRACT_USAGE}`);
    return 2;
  }
  const out = values.out;
  const printer = protocolPrinter(io, { json: values.json });
  const interrupt = interruptSignal('extract', io);
  try {
    const chat = choiceFlag('chat-template', values['chat-template'], ['on', 'off'] as const);
    const common = {
      emotions: listFlag('emotions', values.emotions),
      samples: intFlag('samples', values.samples, { min: 0 }),
      batch: intFlag('batch', values.batch, { min: 1 }),
      threads: intFlag('threads', values.threads, { min: 1 }),
      baseline: choiceFlag('baseline', values.baseline, ['neutral', 'all'] as const),
      ...(chat !== undefined ? { chatTemplate: chat === 'on' } : {}),
    };
    if (method === 'comprehension' && (values['max-tokens'] !== undefined || values.seed !== undefined || values.temperature !== undefined)) {
      throw new EmosteerError('INVALID_ARGUMENT', '--max-tokens, --seed and --temperature are options of --method generation');
    }
    const options: ExtractToFolderOptions = method === 'generation'
      ? {
        method,
        ...common,
        maxTokens: intFlag('max-tokens', values['max-tokens'], { min: 1 }),
        seed: intFlag('seed', values.seed, { min: 0 }),
        temperature: numberFlag('temperature', values.temperature, { min: 0 }),
        position: choiceFlag('position', values.position, ['middle', 'last', 'mean'] as const),
      }
      : { method, ...common, position: choiceFlag('position', values.position, ['last', 'mean'] as const) };
    const stimuli = values.stimuli !== undefined ? await loadStimuli(values.stimuli) : undefined;
    const model = await resolveModelArg(values.model, io);
    const set = await extractToFolder(model, out, { ...options, ...(stimuli ? { stimuli } : {}), signal: interrupt.signal, onProgress: printer.onProgress });
    printer.stop();
    if (values.json) io.out(JSON.stringify(extractSummary(set), null, 2));
    else for (const line of extractLines(set, out)) io.out(line);
    return 0;
  } catch (e) {
    printer.stop();
    return reportError('extract', e, io);
  } finally {
    interrupt.done();
  }
}
