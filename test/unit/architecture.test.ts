// The layers of lib/ import one way: the runtime (lib/runtime/) knows no research layer, so
// that an application, the server and the protocol all sit on the same runtime API. Reads the
// import specifiers of every runtime file and fails on one that reaches a research layer.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib');
/** Folders of lib/ the runtime must not import. */
const RESEARCH = ['extract', 'evaluate', 'steer', 'study', 'report', 'protocol', 'server', 'cli', 'stimuli'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative import specifiers of a TypeScript file (static imports, re-exports and import()). */
function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('.'));
}

/** The lib/ folder (first path segment) a specifier of `file` lands in. */
function folderOf(file: string, spec: string): string {
  return relative(LIB, resolve(dirname(file), spec)).split(/[\\/]/)[0]!;
}

describe('architecture', () => {
  it('the import reader sees every form of import (so the check below can fail)', () => {
    const src = "import { a } from '../steer/x.js';\nimport type { B } from \"../report/y.js\";\nexport { c } from './z.js';\nimport '../cli/side.js';\nconst m = await import('../study/q.js');";
    expect(importsOf(src)).toEqual(['../steer/x.js', '../report/y.js', './z.js', '../cli/side.js', '../study/q.js']);
    expect(folderOf(join(LIB, 'runtime', 'context.ts'), '../steer/x.js')).toBe('steer');
  });

  it('every test file sits in the folder of what it needs: unit/ (pure), addon/ (synthetic models), models/ (real models)', () => {
    const TEST = resolve(LIB, '..', 'test');
    const loose = readdirSync(TEST).filter((f) => f.endsWith('.test.ts'));
    expect(loose).toEqual([]);
    // a unit test loads no model: it would make the parallel unit project depend on the addon
    for (const f of tsFiles(join(TEST, 'unit'))) {
      const src = readFileSync(f, 'utf8');
      expect(/\bloadModel\(|syntheticModel\(|createContext\(/.test(src), relative(TEST, f)).toBe(false);
    }
  });

  it('no file of lib/runtime imports a research layer', () => {
    const files = tsFiles(join(LIB, 'runtime'));
    expect(files.length).toBeGreaterThan(10);
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(readFileSync(f, 'utf8'))) {
        if (RESEARCH.includes(folderOf(f, spec))) bad.push(`${relative(LIB, f)} -> ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
