/**
 * `emosteer extract`: runs generation- or comprehension-based extraction on a model and saves
 * the EmotionVectorSet to a folder, with a progress bar; Ctrl-C stops cleanly and a rerun
 * with the same options resumes from the checkpoint in that folder.
 *
 * @module
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { EmosteerError } from '../errors.js';
import type { ExtractionProgress } from '../extract/common.js';
import { extractComprehension } from '../extract/comprehension.js';
import { extractGeneration } from '../extract/generation.js';
import { loadStimuli } from '../stimuli/index.js';
import { loadModel } from '../runtime/model.js';
import { meanPairwiseCosine } from '../util/vec.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';

/** Usage text of `emosteer extract`. */
export const EXTRACT_USAGE = `Usage: emosteer extract --model <gguf> --method generation|comprehension --out <dir> [options]

Extracts emotion vectors at every block and saves them (with per-sample activations and every
parameter) to <dir>. Interrupt with Ctrl-C; rerunning the same command resumes.

Options:
  -m, --model <file>        GGUF model (required)
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

/** The JSON summary `extract --json` prints. */
export function extractSummary(set: EmotionVectorSet): Record<string, unknown> {
  return {
    method: set.meta.method,
    nEmotions: set.emotions.length,
    nLayer: set.meta.model.nLayer,
    layers: set.layers.map((layer) => ({ layer, meanPairwiseCosine: +meanPairwiseCosine(set.vectorsAt(layer)).toFixed(6) })),
    seconds: +set.meta.timings.seconds.toFixed(2),
    tokensPerSecond: +set.meta.timings.tokensPerSecond.toFixed(1),
  };
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new EmosteerError('INVALID_ARGUMENT', `--${name} must be a non-negative integer (got '${v}')`);
  return Number(v);
}

/**
 * Runs `emosteer extract`.
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
  const method = values.method as string | undefined;
  if (!values.model || !values.out || (method !== 'generation' && method !== 'comprehension')) {
    io.err(`emosteer extract: --model, --out and --method generation|comprehension are required\n\n${EXTRACT_USAGE}`);
    return 2;
  }
  const out = values.out as string;
  const ac = new AbortController();
  const onSigint = () => { io.err('\nemosteer extract: stopping after the current step (Ctrl-C again to kill)...'); ac.abort(); process.off('SIGINT', onSigint); };
  process.on('SIGINT', onSigint);
  const bar = values.json || !process.stderr.isTTY
    ? null
    : new cliProgress.SingleBar({
      format: '{method} |{bar}| {value}/{total} samples | {category} | {tps} tok/s | ETA {etaText}',
      hideCursor: true,
    }, cliProgress.Presets.shades_classic);
  let lastLine = 0;
  const onProgress = (p: ExtractionProgress) => {
    const payload = { method: p.method, category: p.category, tps: p.tokensPerSecond.toFixed(1), etaText: Number.isFinite(p.etaSeconds) ? `${Math.round(p.etaSeconds)}s` : '?' };
    if (bar) {
      if (!bar.isActive) bar.start(p.total, p.done, payload);
      bar.update(p.done, payload);
    } else if (!values.json && performance.now() - lastLine > 5000) {
      lastLine = performance.now();
      io.err(`[extract] ${p.method} ${p.done}/${p.total} samples, ${p.category}, ${payload.tps} tok/s, ETA ${payload.etaText}`);
    }
  };
  let model;
  try {
    const emotions = typeof values.emotions === 'string' ? values.emotions.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const stimuli = typeof values.stimuli === 'string' ? await loadStimuli(values.stimuli) : undefined;
    const chat = values['chat-template'];
    if (chat !== undefined && chat !== 'on' && chat !== 'off') throw new EmosteerError('INVALID_ARGUMENT', '--chat-template must be on or off');
    model = await loadModel(values.model as string);
    const common = {
      emotions,
      stimuli,
      samples: int('samples', values.samples as string | undefined),
      batch: int('batch', values.batch as string | undefined),
      threads: int('threads', values.threads as string | undefined),
      checkpointDir: out,
      onProgress,
      signal: ac.signal,
      ...(chat !== undefined ? { chatTemplate: chat === 'on' } : {}),
      ...(values.baseline !== undefined ? { baseline: values.baseline as 'neutral' | 'all' } : {}),
    };
    if (common.baseline !== undefined && common.baseline !== 'neutral' && common.baseline !== 'all') throw new EmosteerError('INVALID_ARGUMENT', '--baseline must be neutral or all');
    let set: EmotionVectorSet;
    if (method === 'generation') {
      const position = values.position as 'middle' | 'last' | 'mean' | undefined;
      if (position !== undefined && !['middle', 'last', 'mean'].includes(position)) throw new EmosteerError('INVALID_ARGUMENT', '--position must be middle, last or mean for generation');
      const temperature = values.temperature !== undefined ? Number(values.temperature) : undefined;
      if (temperature !== undefined && !(temperature >= 0)) throw new EmosteerError('INVALID_ARGUMENT', '--temperature must be >= 0');
      set = await extractGeneration(model, { ...common, maxTokens: int('max-tokens', values['max-tokens'] as string | undefined), seed: int('seed', values.seed as string | undefined), temperature, position });
    } else {
      const position = values.position as 'last' | 'mean' | undefined;
      if (position !== undefined && !['last', 'mean'].includes(position)) throw new EmosteerError('INVALID_ARGUMENT', '--position must be last or mean for comprehension');
      set = await extractComprehension(model, { ...common, position });
    }
    bar?.stop();
    await set.save(out);
    await rm(join(out, 'checkpoint.jsonl'), { force: true });
    const summary = extractSummary(set);
    if (values.json) {
      io.out(JSON.stringify(summary, null, 2));
    } else {
      io.out(`saved ${set.emotions.length} emotion vectors x ${set.layers.length} blocks (${set.meta.samples.length} samples) to ${out}`);
      io.out(`${summary.seconds} s, ${summary.tokensPerSecond} tokens/s`);
      const layers = summary.layers as { layer: number; meanPairwiseCosine: number }[];
      const best = layers.reduce((a, b) => (b.meanPairwiseCosine < a.meanPairwiseCosine ? b : a));
      io.out(`lowest mean pairwise cosine: block ${best.layer} (${best.meanPairwiseCosine.toFixed(4)})`);
    }
    return 0;
  } catch (e) {
    bar?.stop();
    if (e instanceof EmosteerError && e.code === 'ABORTED') {
      io.err(`emosteer extract: ${e.message}`);
      return 130;
    }
    return reportError('extract', e, io);
  } finally {
    process.off('SIGINT', onSigint);
    model?.dispose();
  }
}
