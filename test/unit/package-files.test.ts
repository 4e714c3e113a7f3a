// The published tarball must hold every file its shipped scripts import. `npm install` runs
// scripts/build-native.mjs from the tarball, so a helper that the repository has but the
// package.json "files" list leaves out breaks every install (this happened with
// scripts/vulkan-sdk.mjs). Checked here with `npm pack --dry-run`, which applies "files"
// exactly as publishing does, without building or packing anything.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [report] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return report.files.map((f) => f.path);
}

/** Relative specifiers of static and dynamic imports in one ES module's source. */
function relativeImports(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) found.add(m[1]!);
  return [...found];
}

describe('package.json "files"', () => {
  const files = packedFiles();
  const shipped = new Set(files);

  it('the dry-run pack lists the install entry point and its helpers', () => {
    expect(shipped.has('scripts/build-native.mjs')).toBe(true);
    expect(shipped.has('scripts/addon-build.mjs')).toBe(true);
  });

  it('finds relative imports in static and dynamic form', () => {
    expect(relativeImports("import { a } from './a.mjs';\nconst b = await import('../b/c.mjs');\nimport './d.mjs';"))
      .toEqual(['./a.mjs', '../b/c.mjs', './d.mjs']);
  });

  it('every relative import of a shipped script is shipped too (dist/ is built at pack time)', () => {
    const missing: string[] = [];
    for (const file of files.filter((f) => /\.(mjs|cjs)$/.test(f) || (f.endsWith('.js') && !f.startsWith('dist/')))) {
      for (const spec of relativeImports(readFileSync(join(ROOT, file), 'utf8'))) {
        const target = posix.normalize(posix.join(posix.dirname(file), spec));
        if (target.startsWith('dist/')) continue;
        if (!shipped.has(target)) missing.push(`${file} imports ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
