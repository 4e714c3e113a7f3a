#!/usr/bin/env node
/**
 * Import time of the package's public entry points.
 *
 * For each entry in package.json "exports" (or the entries named on the command line), spawns N
 * fresh `node` processes that do nothing but `await import(<entry's dist file>)`, and prints the
 * median and minimum of two numbers: the time the `import()` itself took inside the process
 * (what an application pays on top of Node's start-up) and the wall time of the whole process
 * (spawn to exit, Node's start-up included). A first row, "(node)", is an empty process: the
 * start-up every row contains.
 *
 * Nothing is cached between runs except by the OS's file cache; the first run of each entry is
 * a warm-up and not counted.
 *
 * Usage:
 *   node bench/import-time.mjs                 # every entry in package.json "exports", 15 runs each
 *   node bench/import-time.mjs --runs 25 . ./extract
 *   node bench/import-time.mjs --json          # one JSON object instead of the table
 *
 * Needs `npm run build:ts` first (it imports dist/).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const args = process.argv.slice(2);
let runs = 15;
let json = false;
const wanted = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--json') json = true;
  else if (args[i] === '--help' || args[i] === '-h') {
    console.log('usage: node bench/import-time.mjs [--runs N] [--json] [entry ...]   (entries as in package.json "exports", e.g. . ./extract)');
    process.exit(0);
  } else wanted.push(args[i]);
}
if (!Number.isInteger(runs) || runs < 1) {
  console.error('--runs must be a positive integer');
  process.exit(2);
}

/** package.json "exports" as [subpath, dist file] pairs. */
function entries() {
  const ex = pkg.exports;
  const out = [];
  for (const [sub, target] of Object.entries(ex)) {
    const file = typeof target === 'string' ? target : target.import ?? target.default;
    out.push([sub, resolve(root, file)]);
  }
  return out;
}

const all = entries();
const selected = wanted.length === 0 ? all : wanted.map((w) => {
  const hit = all.find(([sub]) => sub === w || sub === `./${w}` || (w === 'emosteer' && sub === '.') || sub === w.replace(/^emosteer/, '.'));
  if (!hit) {
    console.error(`no entry '${w}' in package.json "exports" (have: ${all.map(([s]) => s).join(', ')})`);
    process.exit(2);
  }
  return hit;
});
for (const [sub, file] of selected) {
  if (!existsSync(file)) {
    console.error(`${sub}: ${file} does not exist; run \`npm run build:ts\` first`);
    process.exit(2);
  }
}

/** One fresh process; returns { importMs, wallMs }. */
function once(file) {
  const code = file === null
    ? 'process.stdout.write("0")'
    : `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t0));`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`importing ${file} failed (exit ${r.status}):\n${r.stderr}`);
  return { importMs: Number(r.stdout), wallMs };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const rows = [];
for (const [sub, file] of [['(node)', null], ...selected]) {
  once(file); // warm-up: file cache
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(once(file));
  const imp = samples.map((s) => s.importMs);
  const wall = samples.map((s) => s.wallMs);
  rows.push({
    entry: sub === '.' ? 'emosteer' : sub === '(node)' ? sub : `emosteer/${sub.replace(/^\.\//, '')}`,
    runs,
    importMedianMs: median(imp),
    importMinMs: Math.min(...imp),
    wallMedianMs: median(wall),
    wallMinMs: Math.min(...wall),
  });
}

if (json) {
  console.log(JSON.stringify({ node: process.version, platform: `${process.platform}-${process.arch}`, runs, rows }, null, 2));
} else {
  const f = (x) => x.toFixed(1).padStart(8);
  console.log(`node ${process.version}, ${runs} fresh processes per entry (ms)`);
  console.log(`${'entry'.padEnd(22)} ${'import med'.padStart(10)} ${'import min'.padStart(10)} ${'wall med'.padStart(10)} ${'wall min'.padStart(10)}`);
  for (const r of rows) {
    console.log(`${r.entry.padEnd(22)} ${f(r.importMedianMs).padStart(10)} ${f(r.importMinMs).padStart(10)} ${f(r.wallMedianMs).padStart(10)} ${f(r.wallMinMs).padStart(10)}`);
  }
}
