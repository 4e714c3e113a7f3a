/**
 * The CLI's side of the protocol's progress events: progress bars on a terminal, throttled
 * lines in logs, the step lines of `run` and `study`, and each finished step's summary.
 *
 * @module
 */
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import type { ProtocolEvent, StepEvent, StudyEvent } from '../protocol/events.js';
import type { CliIo } from './io.js';
import { describeProgress } from './model-arg.js';
import { evaluationLines, extractLines, steeringLines } from './summaries.js';

/** How {@link protocolPrinter} prints. */
export interface PrinterOptions {
  /** No progress lines or bars (the command prints JSON). */
  json?: boolean;
  /** The run folder (for the summaries' "saved ..." lines). */
  dir?: string;
  /** `run`: step lines `[run] 2/5 generation extraction`; `study`: `[study 1/3 model] ...`, skipped steps not shown. */
  steps?: 'run' | 'study';
  /** Where the summaries of finished steps go (default stdout; `none`: not printed). */
  summaries?: 'out' | 'err' | 'none';
  /** Prefix of step lines (default `run`). */
  label?: string;
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

/** A printer of protocol events; `stop()` ends any progress bar. */
export interface ProtocolPrinter {
  /** Prints (or not) one event. */
  onProgress(e: ProtocolEvent): void;
  /** Stops an active progress bar. */
  stop(): void;
}

/** Prints protocol events as `emosteer` has always printed its steps. */
export function protocolPrinter(io: CliIo, options: PrinterOptions = {}): ProtocolPrinter {
  const tty = !options.json && process.stderr.isTTY;
  let bar: cliProgress.SingleBar | null = null;
  let barKind = '';
  const startBar = (kind: string, format: string) => {
    if (bar && barKind === kind) return bar;
    bar?.stop();
    barKind = kind;
    bar = new cliProgress.SingleBar({ format, hideCursor: true }, cliProgress.Presets.shades_classic);
    return bar;
  };
  const stop = () => { bar?.stop(); bar = null; barKind = ''; };
  let lastExtractLine = 0;
  let lastEvaluateLine = 0;
  const steerLines = progressLines(io);
  const label = options.label ?? 'run';
  const summary = (lines: string[]) => {
    if (options.summaries === 'none') return;
    for (const l of lines) (options.summaries === 'err' ? io.err : io.out)(l);
  };
  const step = (e: StepEvent) => {
    stop();
    const where = options.steps === 'study' ? `[${label}]` : `[${label}] ${e.index}/${e.total}`;
    if (e.status === 'skipped') {
      if (options.steps !== 'study') io.err(`${where} ${e.step}: already done, skipped`);
      return;
    }
    if (e.status === 'start') { io.err(`${where} ${e.step}`); return; }
    if (e.status === 'failed') {
      if (options.steps !== 'study') io.err(`[${label}] ${e.step} failed; fix the cause and rerun the same command to resume`);
      return;
    }
    const dir = options.dir ?? '.';
    const r = e.result ?? {};
    if (r.set) summary(extractLines(r.set, join(dir, r.set.meta.method)));
    if (r.evaluation) summary(evaluationLines(r.evaluation, dir));
    if (r.steering) summary(steeringLines(r.steering, dir));
    if (r.report) summary([r.report]);
    io.err(`[${label}] ${e.step} took ${(e.seconds ?? 0).toFixed(1)} s`);
  };
  return {
    stop,
    onProgress(e) {
      switch (e.type) {
        case 'step':
          if (options.steps) step(e);
          return;
        case 'extraction': {
          const p = e.progress;
          const payload = { method: p.method, category: p.category, tps: p.tokensPerSecond.toFixed(1), etaText: Number.isFinite(p.etaSeconds) ? `${Math.round(p.etaSeconds)}s` : '?' };
          if (tty) {
            const b = startBar(`extract ${p.method}`, '{method} |{bar}| {value}/{total} samples | {category} | {tps} tok/s | ETA {etaText}');
            if (!b.isActive) b.start(p.total, p.done, payload);
            b.update(p.done, payload);
          } else if (!options.json && performance.now() - lastExtractLine > 5000) {
            lastExtractLine = performance.now();
            io.err(`[extract] ${p.method} ${p.done}/${p.total} samples, ${p.category}, ${payload.tps} tok/s, ETA ${payload.etaText}`);
          }
          return;
        }
        case 'steering':
          if (tty) {
            const b = startBar('steer', 'steer |{bar}| {value}/{total} runs | {scenario} | ETA {eta}s');
            if (!b.isActive) b.start(e.total, e.done, { scenario: e.scenario });
            b.update(e.done, { scenario: e.scenario });
          } else if (!options.json) {
            steerLines.update(e.done, e.total, e.scenario);
          }
          return;
        case 'rescore':
          if (tty) {
            const b = startBar('rescore', 'steer |{bar}| {value}/{total} runs | {scenario} | ETA {eta}s');
            if (!b.isActive) b.start(e.total, e.done, { scenario: 'rescore' });
            b.update(e.done);
            if (e.done === e.total) stop();
          }
          return;
        case 'message':
          if (options.json) return;
          if (e.source === 'evaluate') {
            if (performance.now() - lastEvaluateLine > 2000) { lastEvaluateLine = performance.now(); io.err(`[evaluate] ${e.message}`); }
          } else {
            io.err(`[${e.source}] ${e.message}`);
          }
          return;
      }
    },
  };
}

/** A printer of study events (each model's steps, fetches, quantizations, failures), on stderr. */
export function studyPrinter(io: CliIo, out: string): { onStudy(e: StudyEvent): void; stop(): void } {
  const printers = new Map<string, ProtocolPrinter>();
  const printerOf = (e: StudyEvent & { type: 'model' }) => {
    const key = `${e.model}|${e.phase}`;
    let p = printers.get(key);
    if (!p) {
      for (const other of printers.values()) other.stop();
      p = protocolPrinter(io, { steps: 'study', label: `study ${e.index}/${e.total} ${e.model}`, summaries: 'err', dir: join(out, e.model) });
      printers.set(key, p);
    }
    return p;
  };
  const stop = () => { for (const p of printers.values()) p.stop(); };
  return {
    stop,
    onStudy(e) {
      switch (e.type) {
        case 'model': printerOf(e).onProgress(e.event); return;
        case 'fetch': io.err(describeProgress(e.progress)); return;
        case 'quantize': stop(); io.err(`[study] ${e.model}: quantizing ${basename(e.from)} to ${e.quantization}`); return;
        case 'model-failed':
          stop();
          io.err(`[study ${e.index}/${e.total} ${e.model}] ${e.step} failed: ${e.error.message} — recorded in the study, going on with the next model`);
          return;
      }
    },
  };
}
