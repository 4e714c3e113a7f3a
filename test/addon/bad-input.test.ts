import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

interface CaseResult { id: string; surface: string; expected: string; got: string; ok: boolean; problems: string[]; gap: string | null }
interface Corpus {
  summary: { cases: number; passed: number; failed: string[]; fixtureChanges: string[]; bySurface: Record<string, number>; codes: string[]; gaps: { id: string }[] };
  results: CaseResult[];
}

/**
 * The whole bad-input corpus (test/bad-input/cases.mjs), each case in its own child process,
 * two at a time, by scripts/bad-input-corpus.mjs against dist/.
 */
describe('bad-input corpus: typed errors, no signal, files unchanged, on every surface', () => {
  it('every case fails the way its table says, and no child dies of a signal', async () => {
    let stdout: string;
    try {
      ({ stdout } = await run(process.execPath, [resolve('scripts/bad-input-corpus.mjs'), '--json', '--parallel', '2'], { env: { ...process.env, EMOSTEER_THREADS: '1' }, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 }));
    } catch (e) {
      // exit code 1: some case failed; its JSON is still on stdout
      stdout = (e as { stdout?: string }).stdout ?? '';
      if (!stdout) throw e;
    }
    const { summary, results } = JSON.parse(stdout) as Corpus;
    for (const r of results) expect.soft(r.problems, `${r.id}: expected ${r.expected}, got ${r.got}`).toEqual([]);
    expect(summary.failed).toEqual([]);
    expect(summary.fixtureChanges).toEqual([]);
    expect(summary.cases).toBeGreaterThanOrEqual(60);
    for (const s of ['api', 'file', 'cli', 'http']) expect(summary.bySurface[s], s).toBeGreaterThanOrEqual(15);
    for (const code of ['FILE_NOT_FOUND', 'NOT_GGUF', 'GGUF_TRUNCATED', 'GGUF_CORRUPT', 'MODEL_LOAD_FAILED', 'VECTOR_SET_CORRUPT', 'INVALID_ARGUMENT', 'LAYER_OUT_OF_RANGE', 'VECTOR_WIDTH_MISMATCH', 'NON_FINITE_VECTOR', 'PROMPT_TOO_LONG']) {
      expect(summary.codes).toContain(code);
    }
    // gaps are few and named: each records today's behaviour and fails once it changes
    expect(summary.gaps.length).toBeLessThanOrEqual(10);
  }, 180_000);
});
