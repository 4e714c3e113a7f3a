#!/usr/bin/env node
/**
 * The bad-input corpus (test/bad-input/cases.mjs), run against dist/: every case in its own
 * child process, at most `--parallel` (default 2) at once, with EMOSTEER_THREADS=1.
 *
 * For every case it asserts the typed failure the case names (API: an EmosteerError with the
 * expected code, printed by the child as JSON; CLI: the exit code and `[CODE]` in stderr, no stack
 * trace; HTTP: the status and an OpenAI-shaped `{ error: { message, type, code, param } }`), that
 * the child exited by itself (no signal, no timeout), that no fixture file and no file of the
 * case changed (sha256 before and after), and that any output the case may write is absent or
 * complete.
 *
 *   node scripts/bad-input-corpus.mjs [--json] [--markdown] [--only id,id] [--parallel 2]
 *
 * `--json` prints the results as JSON; `--markdown` writes the table into docs/reliability.md
 * (between the bad-input markers). Exit code 0 when every case passed, 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const CASES_URL = pathToFileURL(join(ROOT, 'test/bad-input/cases.mjs')).href;
const SELF = fileURLToPath(import.meta.url);
const CHILD_TIMEOUT_MS = 60_000;

const lib = () => import(pathToFileURL(join(DIST, 'index.js')).href);

/** What the cases use of the API, from its own modules (dist/index.js takes ~1 s to import). */
async function childLib() {
  const load = (p) => import(pathToFileURL(join(DIST, p)).href);
  const [errors, model, set, cv, reader, writer, stimuli] = await Promise.all(
    ['errors.js', 'runtime/model.js', 'vectors/emotion-vector-set.js', 'vectors/control-vector-gguf.js', 'gguf/reader.js', 'gguf/writer.js', 'stimuli/index.js'].map(load));
  return { ...errors, ...model, ...set, ...cv, ...reader, ...writer, ...stimuli };
}

// ------------------------------------------------------------------ child side

async function childMain(kind, id) {
  const { CASES } = await import(CASES_URL);
  const c = CASES.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  const fx = JSON.parse(process.env.EMOSTEER_CORPUS_FX);
  const dir = process.env.EMOSTEER_CORPUS_DIR;
  const L = await childLib();
  let result;
  if (kind === 'api') {
    try {
      const value = await c.api(L, fx, dir);
      result = { threw: false, value: typeof value };
    } catch (e) {
      result = { threw: true, name: e?.name, isEmosteerError: e instanceof L.EmosteerError, code: e?.code ?? null, message: String(e?.message ?? e).slice(0, 300) };
    }
  } else {
    result = await runHttp(L, c, fx);
  }
  process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
}

/** Sends one request with node:http; the response's status and parsed JSON body. */
function send(port, { method, path, headers = {}, body }) {
  return new Promise((res, rej) => {
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(data ? { 'content-length': data.length } : {}) } }, (r) => {
      const chunks = [];
      r.on('data', (d) => chunks.push(d));
      r.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        res({ status: r.statusCode, body: json, text: json ? undefined : text.slice(0, 200) });
      });
    });
    req.on('error', rej);
    req.setTimeout(20_000, () => req.destroy(new Error('request timed out')));
    if (data) req.end(data); else req.end();
  });
}

async function runHttp(L, c, fx) {
  const { createServer } = await import(pathToFileURL(join(DIST, 'server/server.js')).href);
  const model = await L.loadModel(fx.model);
  const server = await createServer(model, { vectors: [`emo=${fx.set}`], parallel: 2, contextPerRequest: 256, threads: 1, bodyLimit: 64 * 1024 });
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const port = Number(new URL(url).port);
  try {
    if (c.http.custom === 'slow-client') return await slowClient(port);
    const r = await send(port, c.http);
    const health = await send(port, { method: 'GET', path: '/health' });
    return { ...r, healthAfter: health.status };
  } finally {
    await server.close();
    model.dispose();
  }
}

/** Half a body, then silence: the server must go on serving others and survive the hang-up. */
async function slowClient(port) {
  const sock = connect(port, '127.0.0.1');
  let answered = '';
  sock.on('data', (d) => { answered += d.toString('utf8'); });
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'hello there' }], max_tokens: 2 });
  sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, body.length >> 1)}`);
  await new Promise((r) => setTimeout(r, 500));
  const during = await send(port, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body });
  await new Promise((r) => setTimeout(r, 1000));
  const stalledAnswer = answered.split('\r\n')[0] || null;
  sock.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const after = await send(port, { method: 'GET', path: '/health' });
  return {
    status: during.status === 200 && after.status === 200 ? 200 : during.status === 200 ? after.status : during.status,
    body: after.body,
    note: `other request ${during.status} while stalled; stalled request answered after 1.5 s: ${stalledAnswer ?? 'no (the server sets no request timeout)'}; /health after hang-up ${after.status}`,
  };
}

// ------------------------------------------------------------------ parent side

function sha(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** path -> sha256 of every file below `dir`, skipping `skip` (absolute paths and their children). */
function hashTree(dir, skip = []) {
  const out = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (skip.some((s) => p === s || p.startsWith(`${s}/`))) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(p, sha(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function diffTrees(before, after) {
  const changed = [];
  for (const [p, h] of before) if (after.get(p) !== h) changed.push(after.has(p) ? `changed ${p}` : `removed ${p}`);
  for (const p of after.keys()) if (!before.has(p)) changed.push(`added ${p}`);
  return changed;
}

/** An output left by a failed command must be absent or complete. */
async function outputProblem(L, path) {
  if (!existsSync(path)) return null;
  const st = statSync(path);
  try {
    if (st.isDirectory()) {
      const entries = readdirSync(path);
      if (entries.length === 0) return null;
      if (entries.includes('manifest.json')) { await L.EmotionVectorSet.load(path); return null; }
      return `left a folder with ${entries.join(', ')}`;
    }
    if (path.endsWith('.gguf')) { await L.readGguf(path); return null; }
    if (path.endsWith('.json')) { JSON.parse(readFileSync(path, 'utf8')); return null; }
    if (path.endsWith('.html')) return readFileSync(path, 'utf8').trimEnd().endsWith('</html>') ? null : 'left a partial HTML file';
    return `left ${path}`;
  } catch (e) {
    return `left an incomplete ${path} (${e.code ?? e.message})`;
  }
}

async function writeFixtures(L, root) {
  const fx = { root, model: join(root, 'model.gguf'), nochat: join(root, 'nochat.gguf'), narrow: join(root, 'narrow.gguf'), set: join(root, 'set'), narrowSet: join(root, 'narrow-set'), cv: join(root, 'cv.gguf') };
  await L.writeSyntheticModel({ out: fx.model, layers: 4, embd: 64, seed: 7 });
  await L.writeSyntheticModel({ out: fx.nochat, layers: 2, embd: 32, seed: 2, chatTemplate: false });
  await L.writeSyntheticModel({ out: fx.narrow, layers: 4, embd: 32, seed: 3 });
  const emotions = ['calm', 'angry', 'happy', 'sad'];
  for (const [path, dir, width] of [[fx.model, fx.set, 64], [fx.narrow, fx.narrowSet, 32]]) {
    const model = await L.loadModel(path);
    const { arch, description, nLayer, nEmbd, quantization, nParams } = model.info;
    const block = (i, l) => Float32Array.from({ length: width }, (_, k) => Math.sin(1 + i * 31 + l * 7 + k));
    const vectors = new Map(emotions.map((e, i) => [e, new Map(Array.from({ length: nLayer }, (_, l) => [l, block(i, l)]))]));
    const set = L.EmotionVectorSet.fromVectors({ method: 'synthetic', model: { path, sha256: sha(path), arch, description, nLayer, nEmbd, quantization, nParams }, params: {} }, vectors);
    await set.save(dir);
    if (path === fx.model) await L.writeControlVector(fx.cv, new Map([[1, vectors.get('calm').get(1)], [2, vectors.get('calm').get(2)]]), { modelHint: arch, nLayer });
    model.dispose();
  }
  return fx;
}

function runChild(args, env, timeoutMs = CHILD_TIMEOUT_MS) {
  return new Promise((res) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, EMOSTEER_THREADS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let timedOut = false;
    // The child leads its own process group: a timeout kills it and anything it started (bench).
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); } }, timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(timer); res({ code, signal, stdout, stderr, timedOut, ms: Date.now() - t0 }); });
  });
}

const STACK = /\n\s+at .+:\d+:\d+\)?/;

function describeExpect(e) {
  if (e.noError) return 'no error (gap)';
  if (e.untyped) return `untyped ${e.untyped} (gap)`;
  if (e.code && e.exit === undefined) return `EmosteerError ${e.code}`;
  if (e.exit !== undefined) return `exit ${e.exit}${e.code ? ` [${e.code}]` : ''}`;
  return `HTTP ${e.status}${e.error ? ` ${e.error}` : ''}${e.ok ? ' (accepted)' : ''}`;
}

function judge(c, run) {
  const problems = [];
  let got;
  if (run.timedOut) problems.push(`timed out after ${CHILD_TIMEOUT_MS} ms`);
  if (run.signal) problems.push(`child killed by ${run.signal}`);
  if (c.cli) {
    const m = /\[([A-Z_]+)\]/.exec(run.stderr);
    got = `exit ${run.code}${m ? ` [${m[1]}]` : ''}`;
    if (run.code !== c.expect.exit) problems.push(`exit ${run.code}, expected ${c.expect.exit}`);
    if (c.expect.code && !run.stderr.includes(`[${c.expect.code}]`)) problems.push(`stderr lacks [${c.expect.code}]: ${run.stderr.trim().split('\n')[0]}`);
    if (c.expect.stderr && !run.stderr.includes(c.expect.stderr)) problems.push(`stderr lacks '${c.expect.stderr}': ${run.stderr.trim().split('\n')[0]}`);
    if (c.expect.stdout && !run.stdout.includes(c.expect.stdout)) problems.push(`stdout lacks '${c.expect.stdout}'`);
    if (!c.expect.stackTrace && STACK.test(run.stderr)) problems.push('stderr holds a stack trace (an unhandled error)');
  } else {
    const line = run.stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
    const r = line ? JSON.parse(line.slice(7)) : null;
    if (!r) {
      problems.push(`no result from the child (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      got = `no result (exit ${run.code}${run.signal ? `, ${run.signal}` : ''})`;
    } else if (c.api) {
      got = r.threw ? (r.isEmosteerError ? `EmosteerError ${r.code}` : `${r.name} (untyped): ${r.message}`) : `no error (returned ${r.value})`;
      if (c.expect.noError) { if (r.threw) problems.push(`now throws ${got}: the gap is closed, update the case`); }
      else if (c.expect.untyped) { if (!r.threw || r.isEmosteerError || r.name !== c.expect.untyped) problems.push(`now ${got}: the gap changed, update the case`); }
      else if (!r.threw) problems.push('did not throw');
      else if (!r.isEmosteerError) problems.push(`threw an untyped ${r.name}: ${r.message}`);
      else if (r.code !== c.expect.code) problems.push(`code ${r.code}, expected ${c.expect.code}: ${r.message}`);
      else if (c.expect.message && !r.message.includes(c.expect.message)) problems.push(`message lacks '${c.expect.message}': ${r.message}`);
      if (run.code !== 0) problems.push(`child exited ${run.code}`);
    } else {
      const err = r.body?.error;
      got = `HTTP ${r.status}${err?.code ? ` ${err.code}` : ''}${r.note ? ` (${r.note})` : ''}`;
      if (r.status !== c.expect.status) problems.push(`status ${r.status}, expected ${c.expect.status}: ${JSON.stringify(r.body ?? r.text).slice(0, 200)}`);
      if (!c.expect.ok) {
        if (!err || typeof err.message !== 'string' || typeof err.type !== 'string' || !('code' in err) || !('param' in err)) problems.push(`body is not an OpenAI error: ${JSON.stringify(r.body ?? r.text).slice(0, 200)}`);
        if (c.expect.error && err?.code !== c.expect.error) problems.push(`error.code ${err?.code}, expected ${c.expect.error}`);
      }
      if (r.healthAfter !== undefined && r.healthAfter !== 200) problems.push(`/health answered ${r.healthAfter} afterwards`);
      if (run.code !== 0) problems.push(`child exited ${run.code}`);
    }
  }
  return { got, problems };
}

async function parentMain(opts) {
  const L = await lib();
  const { CASES } = await import(CASES_URL);
  const only = opts.only ? new Set(opts.only.split(',')) : null;
  const cases = CASES.filter((c) => !only || only.has(c.id));
  const root = mkdtempSync(join(tmpdir(), 'emosteer-bad-input-'));
  const t0 = Date.now();
  try {
    const fixRoot = join(root, 'fixtures');
    mkdirSync(fixRoot);
    const fx = await writeFixtures(L, fixRoot);
    const fixtureHashes = hashTree(fixRoot);
    const prepared = [];
    for (const c of cases) {
      const dir = join(root, 'cases', c.id);
      mkdirSync(dir, { recursive: true });
      if (c.setup) await c.setup(fx, dir, L);
      const outputs = c.outputs ? c.outputs(fx, dir) : [];
      prepared.push({ c, dir, outputs, before: hashTree(dir, outputs) });
    }
    const results = new Array(prepared.length);
    let next = 0;
    const worker = async () => {
      while (next < prepared.length) {
        const i = next++;
        const { c, dir, outputs, before } = prepared[i];
        const env = { EMOSTEER_CORPUS_FX: JSON.stringify(fx), EMOSTEER_CORPUS_DIR: dir };
        const args = c.cli ? [join(DIST, 'cli/main.js'), ...c.cli(fx, dir)] : [SELF, c.api ? '--child-api' : '--child-http', c.id];
        const run = await runChild(args, env);
        const { got, problems } = judge(c, run);
        for (const d of diffTrees(before, hashTree(dir, outputs))) problems.push(`case file ${d}`);
        for (const o of outputs) { const p = await outputProblem(L, o); if (p) problems.push(p); }
        results[i] = { id: c.id, surface: c.surface, what: c.what, expected: describeExpect(c.expect), got, ok: problems.length === 0, problems, gap: c.gap ?? null, ms: run.ms };
        if (!opts.json) process.stderr.write(`${results[i].ok ? 'ok  ' : 'FAIL'} ${c.id} (${run.ms} ms)${problems.length ? `\n     ${problems.join('\n     ')}` : ''}\n`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(2, opts.parallel)) }, worker));
    const fixtureChanges = diffTrees(fixtureHashes, hashTree(fixRoot));
    const summary = {
      cases: results.length,
      passed: results.filter((r) => r.ok).length,
      failed: results.filter((r) => !r.ok).map((r) => r.id),
      gaps: results.filter((r) => r.gap).map((r) => ({ id: r.id, gap: r.gap })),
      fixtureChanges,
      bySurface: Object.fromEntries(['api', 'file', 'cli', 'http'].map((s) => [s, results.filter((r) => r.surface === s).length])),
      codes: [...new Set(results.map((r) => /(?:EmosteerError |\[)([A-Z_]+)/.exec(r.got)?.[1]).filter(Boolean))].sort(),
      seconds: Math.round((Date.now() - t0) / 100) / 10,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify({ summary, results }, null, 1)}\n`);
    else process.stderr.write(`\n${summary.passed}/${summary.cases} cases passed in ${summary.seconds} s; codes seen: ${summary.codes.join(', ')}${fixtureChanges.length ? `\nFIXTURES CHANGED: ${fixtureChanges.join(', ')}` : ''}\n`);
    if (opts.markdown) writeMarkdown(summary, results);
    return summary.failed.length === 0 && fixtureChanges.length === 0 ? 0 : 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const BEGIN = '<!-- bad-input:begin (generated by node scripts/bad-input-corpus.mjs --markdown) -->';
const END = '<!-- bad-input:end -->';

function writeMarkdown(summary, results) {
  const path = join(ROOT, 'docs/reliability.md');
  const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    BEGIN,
    '',
    `${summary.passed} of ${summary.cases} cases passed (${Object.entries(summary.bySurface).map(([s, n]) => `${n} ${s}`).join(', ')}), ` +
      `each in its own child process, in ${summary.seconds} s. Codes seen: ${summary.codes.map((c) => `\`${c}\``).join(', ')}.`,
    '',
    '| case | surface | input | expected | got | ok |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| \`${r.id}\` | ${r.surface} | ${esc(r.what)} | ${esc(r.expected)} | ${esc(r.got)} | ${r.ok ? (r.gap ? 'gap' : 'yes') : `**no**: ${esc(r.problems.join('; '))}`} |`),
    '',
    ...(summary.gaps.length ? ['Known gaps (the case records what happens today and fails once it changes):', '', ...summary.gaps.map((g) => `- \`${g.id}\`: ${esc(g.gap)}`), ''] : []),
    END,
  ];
  const block = lines.join('\n');
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Reliability\n\n## Bad input\n\n';
  const a = text.indexOf(BEGIN.slice(0, 24));
  const b = text.indexOf(END);
  text = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, text);
}

// ------------------------------------------------------------------ entry

const argv = process.argv.slice(2);
if (argv[0] === '--child-api' || argv[0] === '--child-http') {
  childMain(argv[0] === '--child-api' ? 'api' : 'http', argv[1]).catch((e) => {
    process.stderr.write(`child failed: ${e?.stack ?? e}\n`);
    process.exitCode = 3;
  });
} else {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, markdown: { type: 'boolean' }, only: { type: 'string' }, parallel: { type: 'string', default: '2' } } });
  parentMain({ json: values.json, markdown: values.markdown, only: values.only, parallel: Number(values.parallel) }).then((code) => { process.exitCode = code; });
}
