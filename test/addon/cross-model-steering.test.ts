// Cross-model (cross-precision) steering: `emosteer steer <run> --model <other file> --cross-model
// --out <dir>` steers another file of the same architecture and shape with the run's vectors
// (the quantization ladder's "vectors of one rung steering another", issue 20), writes
// steering.json and its checkpoint to --out, and records both files; without --cross-model the
// other file is refused, and a file of another shape is refused even with it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticModel, tempPath } from '../helpers/models.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const STEER = ['--scenarios', '1', '--strengths', '2', '--sampling', 'greedy', '--max-tokens', '6', '--random-seeds', '1', '--no-other-emotion'];

describe('cross-model steering (emosteer steer --cross-model --out)', () => {
  let own: string;
  let other: string;
  let wide: string;
  let set: string;
  beforeAll(async () => {
    own = await syntheticModel({ layers: 3, embd: 64, seed: 31 });
    other = await syntheticModel({ layers: 3, embd: 64, seed: 32 });
    wide = await syntheticModel({ layers: 3, embd: 128, seed: 33 });
    set = tempPath('cross-set');
    await cli('extract', '--model', own, '--method', 'comprehension', '--out', set, '--emotions', 'happy,sad', '--samples', '2', '--threads', '2');
  }, 300_000);

  it('steers the other file, writes to --out only, and records both files', async () => {
    const out = tempPath('cross-out');
    const st = JSON.parse((await cli('steer', set, '--model', other, '--cross-model', '--out', out, ...STEER, '--json')).stdout);
    expect(st).toMatchObject({ scenarios: 1 });
    expect(existsSync(`${set}/steering.json`)).toBe(false);
    expect(existsSync(`${out}/steering.partial.jsonl`)).toBe(false);
    const saved = JSON.parse(readFileSync(`${out}/steering.json`, 'utf8'));
    expect(saved.crossModel.steered).toMatchObject({ path: other, sha256: sha(other) });
    expect(saved.crossModel.vectorsFrom.sha256).toBe(sha(own));
    expect(saved.crossModel.steered.sha256).not.toBe(saved.crossModel.vectorsFrom.sha256);

    // The same vectors on their own model: another folder, other baseline text (other weights).
    const selfOut = tempPath('self-out');
    await cli('steer', set, ...STEER, '--out', selfOut);
    const self = JSON.parse(readFileSync(`${selfOut}/steering.json`, 'utf8'));
    expect(self.crossModel).toBeUndefined();
    const baseline = (r: { runs: { baselineText: string }[] }) => r.runs[0]?.baselineText;
    expect(baseline(saved)).toBeDefined();
    expect(baseline(saved)).not.toBe(baseline(self));
  }, 300_000);

  it('refuses another file without --cross-model, another shape with it, and flags that do not apply', async () => {
    await expect(cli('steer', set, '--model', other, ...STEER, '--out', tempPath('x'))).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('is not the model the set was extracted from') });
    await expect(cli('steer', set, '--model', wide, '--cross-model', ...STEER, '--out', tempPath('y'))).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('is not shaped like the set\'s model') });
    await expect(cli('steer', set, '--cross-model', ...STEER)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--cross-model needs --model') });
    await expect(cli('steer', set, '--rescore', '--out', tempPath('z'))).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--rescore re-judges') });
  }, 300_000);
});
