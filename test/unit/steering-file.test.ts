// The saved steering experiment on disk (lib/steer/steering-file.ts): compact JSON while small,
// gzipped above STEERING_GZIP_ABOVE so a study's committed files stay under 4 MiB, and every
// reader (run folder, study aggregate, "is this step done") reads either form the same.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { llmJudgeDone, readSteering, RUN_FILES, steeringDone, writeSteering } from '../../lib/protocol/run-folder.js';
import { encodeSteering, readSteeringFileSync, STEERING_GZIP_ABOVE } from '../../lib/steer/steering-file.js';
import type { SavedSteeringResult } from '../../lib/steer/steering-result.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'steering-file-')); dirs.push(d); return d; };

/** A steering result with `n` runs of ~`textLength` characters each (varied text, as real continuations are). */
function result(n: number, textLength: number, extra: Partial<SavedSteeringResult> = {}): SavedSteeringResult {
  const words = ['calm', 'storm', 'joy', 'grief', 'river', 'stone', 'light', 'fear', 'hope', 'anger', 'table', 'song'];
  const text = (i: number) => Array.from({ length: Math.ceil(textLength / 6) }, (_, k) => words[(i * 7 + k * k) % words.length]).join(' ').slice(0, textLength);
  const runs = Array.from({ length: n }, (_, i) => ({ scenario: `s${i % 47}`, target: 'joy', direction: 'toward', arm: 'emotion', strength: 0.02, sampling: 'greedy', text: text(i), baselineText: text(i + 1), scores: { vader: { baseline: 0.1, steered: (i % 13) / 13 } } }));
  return { model: 'planted', method: 'comprehension', strengths: [0.02], sampling: ['greedy'], scenarios: 47, runs, judges: {}, ...extra } as unknown as SavedSteeringResult;
}

describe('steering file', () => {
  it('stays compact JSON while small: steering.json, the checkpoint removed', async () => {
    const dir = tmp();
    writeFileSync(join(dir, RUN_FILES.steeringCheckpoint), '{}\n');
    const data = result(20, 200);
    const path = await writeSteering(dir, data);
    expect(path).toBe(join(dir, 'steering.json'));
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(data)}\n`);
    expect(existsSync(join(dir, RUN_FILES.steeringCheckpoint))).toBe(false);
    expect(await readSteering(dir)).toEqual(data);
    expect(steeringDone(dir)).toBe(true);
  });

  it('gzips above the limit, removes the plain file, and every reader sees the same data', async () => {
    const dir = tmp();
    const small = result(5, 100);
    await writeSteering(dir, small);
    expect(existsSync(join(dir, 'steering.json'))).toBe(true);
    const big = result(9000, 400, { llmJudge: { model: 'judge', sha256: 'ab', sampling: ['greedy'] } });
    expect(JSON.stringify(big).length).toBeGreaterThan(STEERING_GZIP_ABOVE);
    const path = await writeSteering(dir, big);
    expect(path).toBe(join(dir, 'steering.json.gz'));
    expect(existsSync(join(dir, 'steering.json'))).toBe(false);
    const bytes = readFileSync(path);
    expect(bytes.length).toBeLessThan(4 * 1024 * 1024);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(await readSteering(dir)).toEqual(big);
    expect(readSteeringFileSync(dir)).toEqual(big);
    expect(steeringDone(dir)).toBe(true);
    expect(llmJudgeDone(dir)).toBe(true);
    // Back under the limit (a rescore that drops runs): the plain file again, the gzip gone.
    await writeSteering(dir, small);
    expect(existsSync(join(dir, 'steering.json.gz'))).toBe(false);
    expect(await readSteering(dir)).toEqual(small);
    expect(llmJudgeDone(dir)).toBe(false);
  });

  it('encodes the same data to the same bytes (no time in the gzip header)', () => {
    const big = result(9000, 400);
    const a = encodeSteering(big);
    const b = encodeSteering(JSON.parse(JSON.stringify(big)) as SavedSteeringResult);
    expect(a.name).toBe('steering.json.gz');
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
  });

  it('reads nothing from a folder without one', async () => {
    const dir = tmp();
    expect(await readSteering(dir)).toBeUndefined();
    expect(steeringDone(dir)).toBe(false);
    expect(llmJudgeDone(dir)).toBe(false);
  });
});
