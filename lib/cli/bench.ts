/**
 * `emosteer bench`: the benchmark suite of `npm run bench` (bench/run.mjs, shipped with the
 * package) from the command line: pp/tg tokens/s plain, with capture, steered and with the
 * emotion meter, llama.cpp's llama-bench from the same source, batched generation, extraction,
 * memory bandwidth and peak RSS, as a ratio table with the targets, or JSON.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultIo, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';

/** Usage text of `emosteer bench`. */
export const BENCH_USAGE = `Usage: emosteer bench [--model <file.gguf>] [options]

Measures emosteer on one model in one run (each part in its own process) and prints the
numbers, the ratios and the targets (met / missed). Default model: Gemma 3 270M (npm run
model:gemma). docs/benchmarks.md explains every row.

Options:
  -m, --model <file|name>   GGUF file or registry name (emosteer models list)
      --threads <n>         CPU threads (default: all cores)
      --pp <n> --tg <n>     prompt and generation lengths (default 128, 64)
      --reps <n>            repetitions per configuration and round (default 5)
      --rounds <n>          rounds, parts interleaved (default 3)
      --batch <n>           batch size (default 512)
      --sequences <list>    batched generation sizes (default 1,4,8,16)
      --gpu-layers <n|max>  layers offloaded on a GPU build (default max)
      --build-llama-bench   build llama.cpp's llama-bench from the pinned source first
      --llama-bench <bin>   use this llama-bench binary
      --no-llama-bench      skip llama-bench even where it is built
      --no-extraction       skip the end-to-end extraction parts
      --no-bandwidth        skip the memory-bandwidth part
      --parts <list>        only these parts: core, llama-bench, batched,
                            extraction-comprehension, extraction-generation, bandwidth
      --pytorch             also run the comprehension extraction in PyTorch (own venv)
      --json                print the result as JSON
      --save                write bench/results/latest.json
      --out <file>          write the JSON result to a file
      --from-json <file>    print the table of a saved result without measuring
  -h, --help                show this help`;

/** bench/run.mjs of this package (dist/cli/bench.js -> ../../bench/run.mjs). */
export function benchScript(): string {
  return fileURLToPath(new URL('../../bench/run.mjs', import.meta.url));
}

/**
 * `argv` with the value of `--model`/`-m` (every form: `--model x`, `--model=x`, `-m x`,
 * `-mx`) replaced by the file the CLI's model resolver gives for it.
 */
async function withResolvedModel(argv: readonly string[], io: CliIo): Promise<string[]> {
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    const a = out[i]!;
    if (a === '--') break;
    if ((a === '--model' || a === '-m') && i + 1 < out.length) {
      out[i + 1] = await resolveModelArg(out[i + 1]!, io);
      i++;
    } else if (a.startsWith('--model=')) {
      out[i] = `--model=${await resolveModelArg(a.slice('--model='.length), io)}`;
    } else if (/^-m[^-]/.test(a)) {
      out[i] = `-m${await resolveModelArg(a.slice(2), io)}`;
    }
  }
  return out;
}

/**
 * Runs `emosteer bench`: resolves `--model` (a registry name or a GGUF path, like every
 * command) and hands every argument to bench/run.mjs, whose output goes straight to this
 * process's stdout and stderr; bench/run.mjs validates the rest.
 *
 * @returns the bench script's exit code (0 ok, 1 failed, 2 bad arguments)
 */
export async function runBench(argv: string[], io: CliIo = defaultIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(BENCH_USAGE);
    return 0;
  }
  const script = benchScript();
  if (!existsSync(script)) {
    io.err(`emosteer bench: ${script} is missing (the package was installed without bench/)`);
    return 1;
  }
  let args: string[];
  try {
    args = await withResolvedModel(argv, io);
  } catch (e) {
    return reportError('bench', e, io);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
    child.on('error', (e) => {
      io.err(`emosteer bench: could not start ${script}: ${e.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
