import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runDoctor, type DoctorReport } from '../../lib/runtime/doctor.js';
import { gemmaModel, smollm2Model, syntheticModel, tempPath } from '../helpers/models.js';

const exec = promisify(execFile);

/** `emosteer doctor` through the CLI entry (dist/): exit code, stdout, stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [resolve('dist/cli/main.js'), 'doctor', ...args], { env: { ...process.env, EMOSTEER_THREADS: '1' }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const byId = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id)!;

function expectHealthy(r: DoctorReport, chat: 'pass' | 'absent'): void {
  expect(r.checks.filter((c) => c.status === 'fail'), JSON.stringify(r.checks, null, 1)).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.checks.map((c) => c.id)).toEqual(['load', 'capture', 'steering', 'steering-clear', 'sequence-steering', 'chat-template']);
  expect(byId(r, 'capture').values!.blocks).toBe(r.model!.nLayer);
  expect(byId(r, 'steering').values!.relativeError as number).toBeLessThan(1e-3);
  expect(byId(r, 'steering').values!.blockBeforeMaxChange).toBe(0);
  expect(byId(r, 'steering').values!.logitsMaxChange as number).toBeGreaterThan(0);
  expect(byId(r, 'steering-clear').values!.logitsMaxChange).toBe(0);
  expect(byId(r, 'sequence-steering').values!.blockRelativeError as number).toBeLessThan(1e-3);
  expect(byId(r, 'sequence-steering').values!.logitsRelativeError as number).toBeLessThan(1e-3);
  expect(byId(r, 'chat-template').status).toBe(chat);
}

describe('emosteer doctor', () => {
  it('passes every check on a synthetic model, steering the middle block', async () => {
    const r = await runDoctor(await syntheticModel({ layers: 4, embd: 64, seed: 7 }), { threads: 1 });
    expectHealthy(r, 'pass');
    expect(r.layer).toBe(2);
  });

  it('reports a missing chat template as absent, not as a failure', async () => {
    const r = await runDoctor(await syntheticModel({ layers: 2, embd: 32, seed: 2, chatTemplate: false }), { threads: 1 });
    expectHealthy(r, 'absent');
  });

  it('fails (and says why) when a check cannot pass: block 0 cannot be steered', async () => {
    const r = await runDoctor(await syntheticModel({ layers: 4, embd: 64, seed: 7 }), { threads: 1, layer: 0 });
    expect(r.ok).toBe(false);
    expect(byId(r, 'steering')).toMatchObject({ status: 'fail', code: 'LAYER_OUT_OF_RANGE' });
    expect(byId(r, 'capture').status).toBe('pass');
  });

  it('CLI: table and exit 0, --json, exit 1 with [CODE] for a bad model or a failed check, exit 2 for bad arguments', async () => {
    const model = await syntheticModel({ layers: 4, embd: 64, seed: 7 });
    const table = await cli('--model', model);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/sequence-steering\s+pass/);
    expect(table.stdout).toContain('all checks passed');
    const json = await cli('--model', model, '--json');
    expect(json.code).toBe(0);
    expectHealthy(JSON.parse(json.stdout) as DoctorReport, 'pass');
    const failed = await cli('--model', model, '--layer', '0');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/steering\s+fail.*\[LAYER_OUT_OF_RANGE\]/);
    const garbage = tempPath('x.gguf');
    writeFileSync(garbage, 'not a model');
    const bad = await cli('--model', garbage, '--json');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[NOT_GGUF]');
    expect((JSON.parse(bad.stdout) as DoctorReport).checks).toEqual([expect.objectContaining({ id: 'load', status: 'fail', code: 'NOT_GGUF' })]);
    expect((await cli()).code).toBe(2);
    expect((await cli('--model', model, '--layer', 'x')).code).toBe(2);
    expect((await cli('--model', model, '--bogus')).code).toBe(2);
  }, 60_000);
});

const smol = smollm2Model();
const gemma = gemmaModel();
if (!smol.path) console.warn(`[doctor.test] SmolLM2 skipped: ${smol.reason}`);
if (!gemma.path) console.warn(`[doctor.test] Gemma skipped: ${gemma.reason}`);

describe.skipIf(!smol.path)('emosteer doctor on SmolLM2-135M-Instruct', () => {
  it('passes every check, chat template included', async () => {
    expectHealthy(await runDoctor(smol.path!, { threads: 1 }), 'pass');
  }, 60_000);
});

describe.skipIf(!gemma.path)('emosteer doctor on Gemma 3 270M (base model, no chat template)', () => {
  it('passes every check; the chat template is reported absent', async () => {
    const r = await runDoctor(gemma.path!, { threads: 1 });
    expectHealthy(r, r.model!.hasChatTemplate ? 'pass' : 'absent');
    expect(r.model!.arch).toBe('gemma3');
  }, 60_000);
});
