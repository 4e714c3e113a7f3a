// The study's committed state (results/, issue 20): text and JSON only (a large steering
// experiment gzipped: steering.json.gz), no file over 4 MiB and about 30 MiB in all, so that a
// clone stays small and no file needs Git LFS. Checked on what git tracks, as a fresh clone sees
// it; a study step that writes a larger file fails here before the commit lands.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const MiB = 1024 * 1024;
const tracked = () => execFileSync('git', ['ls-files', '-z', 'results'], { encoding: 'utf8' }).split('\0').filter(Boolean);

describe('results/ as committed', () => {
  it('holds text and JSON only, each file under 4 MiB, under 30 MiB in all', () => {
    const files = tracked();
    expect(files.length).toBeGreaterThan(0);
    const sizes = files.map((f) => ({ f, bytes: statSync(f).size }));
    expect(sizes.filter((s) => s.bytes >= 4 * MiB).map((s) => `${s.f}: ${(s.bytes / MiB).toFixed(2)} MiB`)).toEqual([]);
    expect(files.filter((f) => !/\.(json|jsonl|md|txt|csv|tsv)(\.gz)?$|(^|\/)\.gitignore$/.test(f))).toEqual([]);
    expect(sizes.reduce((a, s) => a + s.bytes, 0)).toBeLessThan(30 * MiB);
  });
});
