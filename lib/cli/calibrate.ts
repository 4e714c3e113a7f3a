/**
 * `emosteer calibrate <set-dir> --model <gguf|name>`: per emotion, the largest strength of a grid
 * whose damage on neutral text stays within a bound and whose effect beats a random direction of
 * the same norm (lib/steer/calibrate.ts); stored in the set's manifest, so that `strength: 'auto'`
 * works in process, in the scheduler and over HTTP.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { EmosteerError } from '../errors.js';
import { loadModel, type Model } from '../runtime/model.js';
import { assertSetFromModel } from '../protocol/run-folder.js';
import { calibrateStrengths, DEFAULT_CALIBRATION_STRENGTHS, DEFAULT_DAMAGE_BOUND } from '../steer/calibrate.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import type { StrengthCalibration } from '../vectors/strength-calibration.js';
import { defaultIo, intFlag, interruptSignal, listFlag, numberFlag, numberListFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';

/** Usage text of `emosteer calibrate`. */
export const CALIBRATE_USAGE = `Usage: emosteer calibrate <set-dir> --model <gguf|name> [options]

Picks, per emotion of the set, the strength to use: the largest of a grid whose damage on neutral
text stays within a bound (mean KL divergence from the unsteered model and the share of unchanged
top-1 predictions, 95% intervals) and whose effect (judge score, emotion minus a random direction
of the same norm, paired over neutral prompts) has a 95% interval above 0. Stores the strengths,
the bound and every measurement in the set's manifest.json; then strength 'auto' (or { auto: f })
steers with them.

Options:
  -m, --model <gguf|name>  the model the set was extracted from (required)
      --emotions <a,b,..>  emotions to calibrate (default: all of the set; others keep their calibration)
      --strengths <list>   grid of strengths (default ${DEFAULT_CALIBRATION_STRENGTHS.join(',')})
      --max-kl <x>         damage bound: mean KL, nats per token (default ${DEFAULT_DAMAGE_BOUND.maxKl})
      --min-top1 <x>       damage bound: share of unchanged top-1 predictions, 0..1 (default ${DEFAULT_DAMAGE_BOUND.minSameTop1})
      --tokens <n>         greedy tokens per prompt and arm (default 40)
      --chunks <n>         chunks of neutral text for the damage (default 4)
      --ctx <n>            tokens per chunk (default 256)
      --threads <n>        CPU threads
      --seed <n>           seed of the random directions and bootstraps (default 0)
      --json <file>        also write the calibration to this file
      --dry-run            measure and print, do not write the manifest
  -h, --help               show this help`;

/** Runs `emosteer calibrate`. @returns 0 ok, 1 failure, 2 bad arguments, 130 interrupted */
export async function runCalibrate(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('calibrate', argv, {
    model: { type: 'string', short: 'm' },
    emotions: { type: 'string' },
    strengths: { type: 'string' },
    'max-kl': { type: 'string' },
    'min-top1': { type: 'string' },
    tokens: { type: 'string' },
    chunks: { type: 'string' },
    ctx: { type: 'string' },
    threads: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'string' },
    'dry-run': { type: 'boolean' },
  }, CALIBRATE_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.model) {
    io.err(`emosteer calibrate: one set folder and --model are required\n\n${CALIBRATE_USAGE}`);
    return 2;
  }
  const dir = positionals[0]!;
  const stop = interruptSignal('calibrate', io, 'stopping after the current measurement');
  let model: Model | undefined;
  try {
    const strengths = numberListFlag('strengths', values.strengths, { above: 0 });
    const maxKl = numberFlag('max-kl', values['max-kl'], { above: 0 });
    const minSameTop1 = numberFlag('min-top1', values['min-top1'], { min: 0, max: 1 });
    const maxTokens = intFlag('tokens', values.tokens, { min: 1 });
    const chunks = intFlag('chunks', values.chunks, { min: 1 });
    const contextSize = intFlag('ctx', values.ctx, { min: 16 });
    const threads = intFlag('threads', values.threads, { min: 1 });
    const seed = intFlag('seed', values.seed, { min: 0 });
    const emotions = listFlag('emotions', values.emotions);
    if (contextSize !== undefined && contextSize % 2 !== 0) throw new EmosteerError('INVALID_ARGUMENT', `--ctx must be even (got ${contextSize})`);
    const set = await EmotionVectorSet.load(dir, { activations: false });
    const modelPath = await resolveModelArg(values.model, io);
    if (set.meta.model.sha256) await assertSetFromModel(set, modelPath);
    model = await loadModel(modelPath);
    const cal = await calibrateStrengths(model, set, {
      ...(emotions ? { emotions } : {}),
      ...(strengths ? { strengths } : {}),
      bound: { ...(maxKl !== undefined ? { maxKl } : {}), ...(minSameTop1 !== undefined ? { minSameTop1 } : {}) },
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(chunks !== undefined ? { chunks } : {}),
      ...(contextSize !== undefined ? { contextSize } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(seed !== undefined ? { seed } : {}),
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === 'done') io.err(`[calibrate] ${p.emotion} (${p.index}/${p.emotions}) done at ${p.seconds.toFixed(0)} s`);
      },
    });
    // Emotions not calibrated this time keep their earlier calibration, if it was made the same way.
    const old = set.meta.calibration;
    const merged: StrengthCalibration = old && emotions && sameSettings(old, cal) ? { ...cal, emotions: { ...old.emotions, ...cal.emotions }, seconds: old.seconds + cal.seconds } : cal;
    for (const line of calibrationLines(merged)) io.out(line);
    if (values.json) await writeFile(values.json, `${JSON.stringify(merged, null, 2)}\n`);
    if (!values['dry-run']) {
      await EmotionVectorSet.saveCalibration(dir, merged);
      io.err(`[calibrate] stored in ${dir}/manifest.json (${cal.seconds.toFixed(0)} s)`);
    }
    return 0;
  } catch (e) {
    return reportError('calibrate', e, io);
  } finally {
    stop.done();
    model?.dispose();
  }
}

/** Whether two calibrations were measured the same way (so their emotions can be merged). */
function sameSettings(a: StrengthCalibration, b: StrengthCalibration): boolean {
  return a.version === b.version && a.model.sha256 === b.model.sha256 && a.judge === b.judge && JSON.stringify(a.bound) === JSON.stringify(b.bound) && JSON.stringify(a.params) === JSON.stringify(b.params);
}

/** The lines `emosteer calibrate` prints: one per emotion, its strength and why. */
export function calibrationLines(cal: StrengthCalibration): string[] {
  const lines = [`bound: KL <= ${cal.bound.maxKl}, same top-1 >= ${cal.bound.minSameTop1} (95% intervals); judge: ${cal.judge}`];
  for (const [e, c] of Object.entries(cal.emotions)) {
    const curve = c.points.map((p) => `${p.strength}:${p.kl.value.toFixed(2)}/${Math.round(p.sameTop1.value * 100)}%${p.effect ? `/${p.effect.value >= 0 ? '+' : ''}${p.effect.value.toFixed(2)}` : ''}`).join(' ');
    lines.push(`${e.padEnd(12)} ${c.strength === null ? 'none' : String(c.strength)}   [strength:KL/top-1/effect ${curve}]`);
  }
  return lines;
}
