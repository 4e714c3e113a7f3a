// `emosteer quality` (lib/cli/quality.ts) on synthetic models: the table, the JSON file, the
// --steering form and bad arguments.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuality } from '../../lib/cli/quality.js';
import { readDefaultCorpus, type QualityReport } from '../../lib/quality/index.js';
import { syntheticModel } from '../helpers/models.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('emosteer quality', () => {
  let dir = '';
  let a = '';
  let b = '';
  let text = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'emosteer-quality-cli-'));
    a = await syntheticModel({ layers: 2, embd: 64, seed: 7 });
    b = await syntheticModel({ layers: 2, embd: 64, seed: 7, type: 'q8_0' });
    text = join(dir, 'text.txt');
    writeFileSync(text, (await readDefaultCorpus()).slice(0, 3000));
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('prints the table and writes the JSON report', async () => {
    const c = capture();
    const json = join(dir, 'out', 'q.json');
    const code = await runQuality(['--ref', a, '--models', `${b},${a}`, '--text', text, '--ctx', '64', '--threads', '1', '--no-speed', '--resamples', '50', '--json', json], c.io);
    expect(c.err.join('\n')).not.toMatch(/emosteer quality:/);
    expect(code).toBe(0);
    const table = c.out.join('\n');
    expect(table).toContain('KLD mean');
    expect(table).toContain('second half of each scored');
    const report = JSON.parse(readFileSync(json, 'utf8')) as QualityReport;
    expect(report.candidates).toHaveLength(2);
    expect(report.candidates[0]!.kld.mean.value).toBeGreaterThan(0);
    expect(report.candidates[1]!.kld.mean.value).toBe(0);
    expect(report.contextSize).toBe(64);
    expect(report.text.name).toBe(text);
  });

  it('refuses bad arguments with exit code 2', async () => {
    expect(await runQuality(['--ref', a], capture().io)).toBe(2);
    expect(await runQuality(['--ref', a, '--models', b, '--steering', 'x:calm:1'], capture().io)).toBe(2);
    const c = capture();
    expect(await runQuality(['--ref', a, '--steering', 'calm-only', '--text', text], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/<set-dir>:<emotion>:<strength>/);
    expect(await runQuality(['--ref', a, '--models', b, '--ctx', '63', '--text', text, '--threads', '1'], capture().io)).toBe(2);
  });
});
