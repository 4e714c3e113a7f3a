// The API reference is complete: typedoc (typedoc.json: every public entry point, warnings as
// errors, notDocumented / notExported / invalidLink validation) finds nothing to complain about.
// This is how CI enforces that every export has documentation. Writes nothing (--emit none).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

/** typedoc's command-line script, from its own package.json (no npx: no network, no shell). */
function typedocBin(): string {
  const pkgPath = require.resolve('typedoc/package.json');
  const pkg = require(pkgPath) as { bin: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['typedoc']!;
  return join(dirname(pkgPath), bin);
}

describe('API reference (typedoc)', () => {
  it('builds with no warning and no error: every export is documented, every link resolves', async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((done) => {
      execFile(process.execPath, [typedocBin(), '--emit', 'none'], { cwd: ROOT, timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, '') });
      });
    });
    const problems = output.split('\n').filter((l) => /\[(warning|error)\]/.test(l));
    expect(problems, output).toEqual([]);
    expect(code, output).toBe(0);
  }, 300_000);
});
