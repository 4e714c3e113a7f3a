/**
 * `emosteer doctor --model <gguf> [--json]`: checks in seconds that capture, context-wide and
 * per-sequence steering and chat formatting work on a model (lib/doctor.ts), prints a table and
 * exits non-zero when a check fails.
 *
 * @module
 */
import { runDoctor, type DoctorReport } from '../runtime/doctor.js';
import { isGpuRequest, type GpuRequest } from '../runtime/backend-select.js';
import { EmosteerError } from '../errors.js';
import { defaultIo, intFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';

/** Usage text of `emosteer doctor`. */
export const DOCTOR_USAGE = `Usage: emosteer doctor --model <file.gguf|name> [--json] [options]

Loads a model and checks, in seconds, that emosteer works on it: every block can be captured;
steering at a middle block with setSteering moves that block's output by exactly the vector
(relative error < 1e-3), leaves the block before it alone, changes the logits and is undone by
clearSteering; per-sequence steering (the steering option) agrees with it; the chat template
formats a conversation (or is reported absent).

Options:
  -m, --model <m>      GGUF file or registry name (emosteer models list) (required)
      --layer <n>      block to steer (default: the middle block)
      --threads <n>    CPU threads (default: as createContext)
      --gpu <b>        compute backend: auto, cpu, vulkan, cuda, metal (default: EMOSTEER_GPU, else auto)
      --json           print the report as JSON
  -h, --help           show this help

Exit code: 0 every check passed (or is absent/warned), 1 a check failed, 2 bad arguments.`;

/** The report as a table. */
export function formatDoctor(r: DoctorReport): string[] {
  const lines = [`emosteer doctor: ${r.path}`];
  if (r.model) lines.push(`  ${r.model.arch} '${r.model.name || 'unnamed'}', ${r.model.nLayer} blocks x ${r.model.nEmbd}, vocabulary ${r.model.nVocab}; steering at block ${r.layer}`);
  if (r.backend) lines.push(`  backend: ${r.backend.backend} (asked: ${r.backend.requested}) — ${r.backend.reason}`);
  const w = Math.max(...r.checks.map((c) => c.id.length), 5);
  lines.push('', `  ${'check'.padEnd(w)}  result  ${'ms'.padStart(6)}  detail`);
  for (const c of r.checks) lines.push(`  ${c.id.padEnd(w)}  ${c.status.padEnd(6)}  ${String(c.ms).padStart(6)}  ${c.detail}${c.code ? ` [${c.code}]` : ''}`);
  const failed = r.checks.filter((c) => c.status === 'fail').length;
  lines.push('', failed ? `${failed} check(s) FAILED in ${r.seconds.toFixed(1)} s` : `all checks passed in ${r.seconds.toFixed(1)} s`);
  return lines;
}

/**
 * Runs `emosteer doctor`.
 * @returns exit code: 0 ok, 1 a check failed (or the model did not load), 2 bad arguments
 */
export async function runDoctorCommand(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('doctor', argv, { model: { type: 'string', short: 'm' }, json: { type: 'boolean' }, layer: { type: 'string' }, threads: { type: 'string' }, gpu: { type: 'string' } }, DOCTOR_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.model) { io.err(`emosteer doctor: --model is required\n\n${DOCTOR_USAGE}`); return 2; }
  let report: DoctorReport;
  try {
    const layer = intFlag('layer', values.layer);
    const threads = intFlag('threads', values.threads, { min: 1 });
    if (values.gpu !== undefined && !isGpuRequest(values.gpu)) throw new EmosteerError('INVALID_ARGUMENT', `--gpu must be one of auto, cpu, vulkan, cuda, metal (got '${values.gpu}')`);
    const gpu = values.gpu as GpuRequest | undefined;
    report = await runDoctor(await resolveModelArg(values.model, io), { ...(layer !== undefined ? { layer } : {}), ...(threads !== undefined ? { threads } : {}), ...(gpu !== undefined ? { gpu } : {}) });
  } catch (e) {
    return reportError('doctor', e, io);
  }
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else for (const l of formatDoctor(report)) io.out(l);
  const load = report.checks.find((c) => c.id === 'load');
  if (load?.status === 'fail') io.err(`emosteer doctor: ${load.detail}${load.code ? ` [${load.code}]` : ''}`);
  return report.ok ? 0 : 1;
}
