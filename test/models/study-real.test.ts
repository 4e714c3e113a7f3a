import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStudy } from '../../lib/cli/study.js';
import type { StudyResult } from '../../lib/study/types.js';
import { gemmaModel, smollm2Model, tempPath } from '../helpers/models.js';

const gemma = gemmaModel();
const smol = smollm2Model();
const have = Boolean(gemma.path && smol.path);
if (!have) console.warn(`[study-real.test] skipped: ${gemma.reason || smol.reason}`);

describe.skipIf(!have)('emosteer study --quick on the real SmolLM2-135M-Instruct and Gemma 3 270M', () => {
  it('runs both through the protocol, judges Gemma with SmolLM2 and writes the claims', async () => {
    const out = tempPath('study-real');
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const code = await runStudy(['--models', 'smollm2-135m-instruct,gemma-3-270m', '--out', out, '--quick'], io);
    expect(code, lines.slice(-20).join('\n')).toBe(0);
    const study = JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')) as StudyResult;
    const [s, g] = study.rows;
    expect(s!.model).toMatchObject({ arch: 'llama', kind: 'instruct', blocks: 30 });
    expect(g!.model).toMatchObject({ arch: 'gemma3', kind: 'base', blocks: 18 });
    for (const r of study.rows) {
      expect(r.error).toBeUndefined();
      expect(r.methods.generation!.curve).toHaveLength(r.model!.blocks);
      expect(r.methods.comprehension!.heldOutAccuracy.value).toBeGreaterThanOrEqual(0);
      expect(r.steering!.contrasts.length).toBeGreaterThan(0);
    }
    // The instruction-tuned model judges the base model; nothing judges SmolLM2 (no other instruct model here).
    expect(g!.steering!.llmJudge).toMatch(/smollm2/i);
    expect(s!.steering!.llmJudge).toBeUndefined();
    expect(study.claims).toHaveLength(7);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('data-table="claims"');
  }, 1_800_000);
});
