import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStudy } from '../../lib/cli/study.js';
import { generatedBlockNames, generatedBlocks, replaceGeneratedBlocks } from '../../lib/study/results-markdown.js';

describe('generated blocks of docs/results.md', () => {
  it('replaces every block by name and leaves the prose alone', () => {
    const md = 'intro\n<!-- emosteer:generated claims -->\nold\n<!-- /emosteer:generated claims -->\nmiddle\n<!-- emosteer:generated runs -->\n<!-- /emosteer:generated runs -->\nend\n';
    expect(generatedBlockNames(md)).toEqual(['claims', 'runs']);
    const out = replaceGeneratedBlocks(md, { claims: '| a |\n| b |', runs: 'r', unused: 'x' });
    expect(out).toBe('intro\n<!-- emosteer:generated claims -->\n| a |\n| b |\n<!-- /emosteer:generated claims -->\nmiddle\n<!-- emosteer:generated runs -->\nr\n<!-- /emosteer:generated runs -->\nend\n');
    expect(generatedBlocks(out)).toEqual({ claims: '| a |\n| b |', runs: 'r' });
    expect(replaceGeneratedBlocks(out, { claims: '| a |\n| b |', runs: 'r' })).toBe(out); // idempotent
    expect(() => replaceGeneratedBlocks('no blocks', {})).toThrow(/no <!-- emosteer:generated/);
    expect(() => replaceGeneratedBlocks(md, { claims: '' })).toThrow(/unknown generated block\(s\) runs/);
  });

  it("the committed tables are what `emosteer study --report-only --from results/study --results-md` writes from the committed state", async () => {
    // A fresh clone's view: only the files git tracks under results/study.
    const root = join(tmpdir(), `emosteer-results-md-${process.pid}-${Date.now()}`);
    const files = execFileSync('git', ['ls-files', 'results/study'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(files.some((f) => f.endsWith('steering.json'))).toBe(true);
    for (const f of files) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(f, join(root, f));
    }
    const md = join(root, 'results.md');
    copyFileSync('docs/results.md', md);
    const err: string[] = [];
    const code = await runStudy(['--report-only', '--from', join(root, 'results', 'study'), '--results-md', md], { out: () => {}, err: (s: string) => err.push(s) });
    expect(code, err.join('\n')).toBe(0);
    const written = generatedBlocks(readFileSync(md, 'utf8'));
    const committed = generatedBlocks(readFileSync('docs/results.md', 'utf8'));
    expect(Object.keys(committed).sort()).toEqual(['claims', 'decodability', 'rsa', 'runs', 'steering']);
    for (const name of Object.keys(committed)) expect(committed[name], `block ${name} of docs/results.md is stale: rerun the command`).toBe(written[name]);
  }, 300_000); // the study aggregate with its RSA (10,000 permutations and 2,000 resamples per comparison): 58 s beside a running study
});
