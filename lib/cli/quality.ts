/**
 * `emosteer quality --ref <gguf|name> --models <a,b,...> [--text file] [--ctx 512] [--json out] [--html out]`:
 * the quality table of quantizations against a reference (perplexity, KL divergence, delta-p,
 * top-1 agreement, with intervals over chunks, beside size, bits per weight and speed), and
 * `--steering <set>:<emotion>:<strength>` for the damage a steering does to neutral text.
 * One call of {@link compareQuality} / {@link compareSteering} (lib/quality); `--html` writes
 * a standalone page with the section of lib/report/quality-section.ts.
 *
 * @module
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EmosteerError } from '../errors.js';
import { EMOSTEER_VERSION } from '../extract/common.js';
import { compareQuality, compareSteering, formatQualityTable, type QualityOptions, type QualityProgress, type QualityReport } from '../quality/index.js';
import { loadModel, type Model } from '../runtime/model.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { defaultIo, intFlag, interruptSignal, listFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';

/** Usage text of `emosteer quality`. */
export const QUALITY_USAGE = `Usage: emosteer quality --ref <gguf|name> --models <a.gguf,b.gguf,...|names> [options]
       emosteer quality --ref <gguf|name> --steering <set-dir>:<emotion>:<strength> [options]

How far each model's next-token distributions are from the reference's on the same text:
perplexity, KL divergence (mean, median, p99, p99.9, max), perplexity ratio, RMS delta-p and
same-top-1 %, each with a 95% bootstrap interval over chunks, beside file size, bits per
weight and pp/tg speed measured in the same run. The reference and the candidates decode
every chunk in lockstep; the per-token reduction over the full vocabulary happens in native
code (no logits file). Candidates must share the reference's vocabulary (quantizations of one
model: make them with emosteer quantize).

The text is cut and scored as llama.cpp's llama-perplexity does: chunks of --ctx tokens,
BOS first when the model adds one, only the second half of each chunk scored.

The registry's files are 4-bit: with one as --ref, the table measures the loss below that
precision. Give an F16/BF16 file as --ref to measure the real loss of quantizing.

With --steering, the reference model steered (every token, norm-scaled as the paper does) is
compared with itself unsteered: the damage a strength does to ordinary text.

Options:
      --ref <gguf|name>     the reference model (a file or a registry name)
      --models <list>       candidates, comma-separated files or registry names
      --steering <s:e:x>    instead of --models: a vector set folder, an emotion and a strength
      --text <file>         the text (default: Alice's Adventures in Wonderland, shipped; public domain)
      --ctx <n>             tokens per chunk (default 512)
      --chunks <n>          use at most n chunks (default: all)
      --threads <n>         CPU threads (default: $EMOSTEER_THREADS or all cores)
      --no-speed            skip the pp/tg speed measurement
      --resamples <n>       bootstrap resamples (default 1000)
      --json <file>         also write the report as JSON ('-' for stdout, then no table)
      --html <file>         also write a standalone HTML page: mean KL divergence against bits
                            per weight (log scale, one point per candidate with its interval)
                            and the table
  -h, --help                show this help

Exit codes: 0 done, 1 failed, 2 bad arguments, 130 interrupted.`;

/** Parses `<set-dir>:<emotion>:<strength>` (the folder may itself contain ':'). */
function parseSteeringFlag(text: string): { dir: string; emotion: string; strength: number } {
  const parts = text.split(':');
  if (parts.length < 3) throw new EmosteerError('INVALID_ARGUMENT', `--steering must be <set-dir>:<emotion>:<strength> (got '${text}')`);
  const strength = Number(parts.pop());
  const emotion = parts.pop()!;
  const dir = parts.join(':');
  if (!Number.isFinite(strength) || dir === '' || emotion === '') throw new EmosteerError('INVALID_ARGUMENT', `--steering must be <set-dir>:<emotion>:<strength> with a finite strength (got '${text}')`);
  return { dir, emotion, strength };
}

function progressPrinter(io: CliIo, quiet: boolean): (p: QualityProgress) => void {
  let next = 0;
  return (p) => {
    if (quiet) return;
    if (p.phase === 'speed') io.err(`[quality] speed of ${p.model} (${p.seconds.toFixed(1)} s)`);
    else if (p.chunk >= next || p.chunk === p.chunks) {
      next = p.chunk + Math.max(1, Math.ceil(p.chunks / 10));
      io.err(`[quality] chunk ${p.chunk}/${p.chunks} (${p.seconds.toFixed(1)} s)`);
    }
  };
}

/** A standalone report page of a quality comparison (the plotting libraries load only here). */
async function qualityPage(report: QualityReport): Promise<string> {
  const { renderQualitySection } = await import('../report/quality-section.js');
  const { escapeHtml, htmlPage } = await import('../report/html-report.js');
  const section = await renderQualitySection(report);
  return htmlPage({
    title: `emosteer quality: ${report.reference.label}`,
    subtitle: `${report.candidates.length} candidate(s) · ${report.text.name} · ${report.chunks} chunks of ${report.contextSize} · ${new Date().toISOString()}`,
    version: EMOSTEER_VERSION,
    body: `<section id="quality"><h2>${escapeHtml(section.title)}</h2>\n${section.html}\n</section>`,
    footer: `Generated by emosteer ${escapeHtml(EMOSTEER_VERSION)} (emosteer quality; docs/quality.md). Self-contained: no scripts, no network.`,
  });
}

/**
 * Runs `emosteer quality`.
 * @returns 0 ok, 1 failure, 2 bad arguments, 130 interrupted
 */
export async function runQuality(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('quality', argv, {
    ref: { type: 'string' },
    models: { type: 'string' },
    steering: { type: 'string' },
    text: { type: 'string' },
    ctx: { type: 'string' },
    chunks: { type: 'string' },
    threads: { type: 'string' },
    'no-speed': { type: 'boolean' },
    resamples: { type: 'string' },
    json: { type: 'string' },
    html: { type: 'string' },
  }, QUALITY_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.ref || (!values.models && !values.steering) || (values.models && values.steering)) {
    io.err(`emosteer quality: --ref and one of --models or --steering are required\n\n${QUALITY_USAGE}`);
    return 2;
  }
  const stop = interruptSignal('quality', io, 'stopping after the current chunk');
  const models: Model[] = [];
  try {
    const options: QualityOptions = {
      contextSize: intFlag('ctx', values.ctx, { min: 8 }),
      chunks: intFlag('chunks', values.chunks, { min: 1 }),
      threads: intFlag('threads', values.threads, { min: 1 }),
      resamples: intFlag('resamples', values.resamples, { min: 1 }),
      speed: !values['no-speed'],
      signal: stop.signal,
      onProgress: progressPrinter(io, values.json === '-'),
    };
    for (const k of Object.keys(options) as (keyof QualityOptions)[]) if (options[k] === undefined) delete options[k];
    if (values.text !== undefined) {
      options.text = await readFile(values.text, 'utf8').catch((e: unknown) => {
        throw new EmosteerError('FILE_NOT_FOUND', `--text ${values.text}: ${(e as Error).message}`, { cause: e });
      });
      options.textName = values.text;
    }
    const steering = values.steering !== undefined ? parseSteeringFlag(values.steering) : null;
    const candidates = listFlag('models', values.models) ?? [];
    const refPath = await resolveModelArg(values.ref, io, '--ref');
    const candPaths: string[] = [];
    for (const c of candidates) candPaths.push(await resolveModelArg(c, io, '--models'));
    const ref = await loadModel(refPath);
    models.push(ref);
    let report: QualityReport;
    if (steering) {
      const set = await EmotionVectorSet.load(steering.dir);
      report = await compareSteering(ref, { set, emotion: steering.emotion, strength: steering.strength }, { ...options, label: `${steering.emotion} x ${steering.strength}` });
    } else {
      const loaded: Model[] = [];
      for (const p of candPaths) {
        const m = p === refPath ? ref : await loadModel(p);
        if (m !== ref) models.push(m);
        loaded.push(m);
      }
      report = await compareQuality(ref, loaded, options);
    }
    if (values.json === '-') {
      io.out(JSON.stringify(report, null, 2));
    } else {
      io.out(formatQualityTable(report));
      if (values.json !== undefined) {
        const out = resolve(values.json);
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
        io.err(`[quality] wrote ${out}`);
      }
    }
    if (values.html !== undefined) {
      const out = resolve(values.html);
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, await qualityPage(report));
      io.err(`[quality] wrote ${out}`);
    }
    return 0;
  } catch (e) {
    return reportError('quality', e, io);
  } finally {
    stop.done();
    for (const m of models) m.dispose();
  }
}
