/**
 * `emosteer quantize <in.gguf> --type <t> --out <file.gguf>`: one rung of the quantization
 * ladder, through llama.cpp's own llama_model_quantize, with a progress bar (plain lines
 * when stderr is not a terminal). Ctrl-C stops at the next tensor and leaves no output.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { EmosteerError } from '../errors.js';
import { QUANTIZATION_TYPES, quantizeModel, type QuantizeProgress } from '../models/quantize-model.js';
import { defaultIo, intFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';

const TYPE_LINES = Object.entries(QUANTIZATION_TYPES).map(([t, d]) => `      ${t.padEnd(8)} ${d}`).join('\n');

/** Usage text of `emosteer quantize`. */
export const QUANTIZE_USAGE = `Usage: emosteer quantize <in.gguf|name> --type <t> --out <file.gguf> [--threads <n>] [--json]

Re-encodes a GGUF model (a file, or a registry model: emosteer models list) at another precision with llama.cpp's llama_model_quantize (the code
of llama-quantize, built into emosteer). The output appears only when complete: it is written
to <file.gguf>.partial-<pid> and renamed at the end; a failure or Ctrl-C removes it.

Requantizing is allowed: the models emosteer fetches are 4-bit already (Q4_K_M, Q4_1), so
the ladder goes down from the shipped precision. q8_0 or q6_k made from a 4-bit file hold the
same 4-bit weights in more bytes (no precision comes back); q3_k_m and q2_k add their error
to the one already there.

Options:
  -t, --type <t>       target type, case-insensitive (required):
${TYPE_LINES}
                       (aliases: q3_k, q4_k, q5_k = the _m variants)
  -o, --out <file>     output GGUF (required; folders are created, an existing file is replaced)
      --threads <n>    CPU threads (default: all cores)
      --json           print the result as JSON
  -h, --help           show this help

Exit codes: 0 written, 1 failed, 2 bad arguments, 130 interrupted.`;

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Runs `emosteer quantize`.
 * @returns 0 ok, 1 failure, 2 bad arguments, 130 interrupted
 */
export async function runQuantize(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('quantize', argv, {
    type: { type: 'string', short: 't' },
    out: { type: 'string', short: 'o' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  }, QUANTIZE_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.type || !values.out) {
    io.err(`emosteer quantize: one input file, --type and --out are required\n\n${QUANTIZE_USAGE}`);
    return 2;
  }
  let threads: number | undefined;
  try {
    threads = intFlag('threads', values.threads, { min: 1 });
  } catch (e) {
    return reportError('quantize', e, io);
  }
  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nemosteer quantize: stopping at the next tensor (Ctrl-C again to kill)...');
    ac.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  const type = values.type;
  const out = values.out;
  const bar = values.json || !process.stderr.isTTY
    ? null
    : new cliProgress.SingleBar({
      format: `quantize ${type.toLowerCase()} |{bar}| {percentage}% | tensor {done}/{total} {tensor} | {seconds}s`,
      hideCursor: true,
      stream: process.stderr,
    }, cliProgress.Presets.shades_classic);
  let nextLine = 0; // plain output: one line per 10%
  const onProgress = (p: QuantizeProgress) => {
    const percent = Math.floor(p.fraction * 100);
    const payload = { done: p.tensorsDone, total: p.tensorsTotal, tensor: p.tensor, seconds: p.seconds.toFixed(1) };
    if (bar) {
      if (!bar.isActive) bar.start(100, 0, payload);
      bar.update(percent, payload);
    } else if (!values.json && (percent >= nextLine || p.fraction === 1)) {
      nextLine = Math.floor(percent / 10) * 10 + 10;
      io.err(`[quantize] ${percent}% (${p.tensorsDone}/${p.tensorsTotal} tensors${p.tensor ? `, ${p.tensor}` : ''}) ${payload.seconds}s`);
    }
  };
  try {
    const input = await resolveModelArg(positionals[0]!, io, 'input');
    const r = await quantizeModel(input, {
      type,
      out,
      threads,
      onProgress,
      signal: ac.signal,
    });
    bar?.stop();
    if (values.json) {
      io.out(JSON.stringify(r, null, 2));
    } else {
      io.out(`${r.out}`);
      io.out(`  ${r.quantization}: ${mib(r.bytesIn)} -> ${mib(r.bytesOut)} (${(r.bytesOut / r.bytesIn).toFixed(2)}x, ${r.bitsPerWeight.toFixed(2)} bits/weight) in ${r.seconds.toFixed(1)} s, ${r.tensors} tensors`);
      const types = Object.entries(r.tensorTypes).sort((a, b) => b[1].bytes - a[1].bytes).map(([t, v]) => `${t} ${v.tensors} (${mib(v.bytes)})`);
      io.out(`  tensor types: ${types.join(', ')}`);
      if (r.fallbackTensors > 0) io.out(`  ${r.fallbackTensors} tensor(s) stored in a fallback type: their rows are not a multiple of the ${r.type} block (256 for k-quants)`);
      if (r.requantized) io.out('  note: the input was already quantized; this re-encodes those weights (the ladder goes down from the shipped precision)');
    }
    return 0;
  } catch (e) {
    bar?.stop();
    if (e instanceof EmosteerError && e.code === 'ABORTED') {
      io.err(`emosteer quantize: interrupted; nothing was written to ${out}`);
      return 130;
    }
    return reportError('quantize', e, io);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
