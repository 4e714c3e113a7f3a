#!/usr/bin/env node
/**
 * A PNG of the `emosteer serve --ui` playground in use (docs/images/playground.png): starts
 * `emosteer serve --ui` (dist/cli/main.js: run `npm run build:ts` first), opens /ui in the
 * system's Chromium (Debian package `chromium`) through playwright-core, sets the sliders,
 * sends one message in compare mode (with and without steering, one seed), waits for both
 * streams and saves the page. Never downloads a browser; needs no network.
 *
 *   node scripts/playground-screenshot.mjs --model smollm2-135m-instruct \
 *     --vectors runs/smollm2/comprehension [--steer happy=0.12]... [--prompt "..."] \
 *     [--seed 1] [--max-tokens 48] [--out docs/images/playground.png]
 *
 * Without --model it uses a tiny synthetic model and a random vector set (a quick check that
 * the page works; its text is noise). Environment: CHROMIUM_PATH overrides the browser
 * (default /usr/bin/chromium); EMOSTEER_THREADS the server's threads.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/cli/main.js');

/** Chromium flags that work as root, offline, with no GPU (playwright adds --headless and a temp profile). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function usage(message) {
  if (message) console.error(`playground-screenshot: ${message}`);
  console.error('usage: node scripts/playground-screenshot.mjs [--model <gguf|name> --vectors <dir>] [--steer emotion=strength]... [--prompt text] [--seed n] [--max-tokens n] [--out file.png]');
  process.exit(2);
}

/** A synthetic model and a random vector set for it, in `dir` (through dist/). */
async function synthetic(dir) {
  const { writeSyntheticModel } = await import(join(root, 'dist/synth/synthetic-model.js'));
  const { EmotionVectorSet, loadModel } = await import(join(root, 'dist/index.js'));
  const out = join(dir, 'synthetic.gguf');
  await writeSyntheticModel({ layers: 4, embd: 64, seed: 5, type: 'f32', out });
  const model = await loadModel(out);
  try {
    const emotions = ['calm', 'angry', 'happy', 'sad', 'afraid', 'proud', 'guilty', 'hopeful'];
    let s = 12345;
    const rand = () => { s = (s * 1103515245 + 12345) % 2 ** 31; return (s / 2 ** 31) * 2 - 1; };
    const vectors = new Map(emotions.map((e) => [e, new Map(Array.from({ length: 4 }, (_, l) => [l, Float32Array.from({ length: 64 }, () => rand() * 3)]))]));
    const { path, arch, description, nLayer, nEmbd, quantization, nParams } = model.info;
    const set = EmotionVectorSet.fromVectors({ method: 'synthetic', model: { path, sha256: '', arch, description, nLayer, nEmbd, quantization, nParams }, params: {} }, vectors);
    await set.save(join(dir, 'set'));
  } finally {
    model.dispose();
  }
  return { model: out, vectors: join(dir, 'set'), steer: ['angry=2.5'] };
}

/** Starts `emosteer serve --ui` and resolves with its URL and the child process. */
function serve(args) {
  return new Promise((resolveUrl, reject) => {
    const child = spawn(process.execPath, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolveUrl({ url: m[1], child });
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => reject(new Error(`emosteer serve exited with ${code} before listening:\n${err}`)));
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      vectors: { type: 'string' },
      steer: { type: 'string', multiple: true },
      prompt: { type: 'string' },
      seed: { type: 'string' },
      'max-tokens': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) usage();
  if (!existsSync(cli)) usage(`${cli} is missing: run npm run build:ts first`);
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    console.error(`playground-screenshot: Chromium not found at ${executablePath}. Install Debian's chromium package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
    process.exit(1);
  }
  if (values.model && !values.vectors) usage('--model needs --vectors <dir> (a vector set made for that model)');
  const out = resolve(values.out ?? join(root, 'docs/images/playground.png'));
  const tmp = mkdtempSync(join(tmpdir(), 'emosteer-playground-shot-'));
  const setup = values.model ? { model: values.model, vectors: values.vectors, steer: [] } : await synthetic(tmp);
  const steer = (values.steer && values.steer.length > 0 ? values.steer : setup.steer.length > 0 ? setup.steer : ['happy=0.12']).map((s) => {
    const [emotion, strength] = s.split('=');
    if (!emotion || !Number.isFinite(Number(strength))) usage(`--steer takes emotion=strength, got '${s}'`);
    return { emotion, strength: Number(strength) };
  });

  const threads = process.env.EMOSTEER_THREADS ?? '2';
  const { url, child } = await serve(['--model', setup.model, '--vectors', `set=${setup.vectors}`, '--port', '0', '--ui', '--parallel', '2', '--ctx-per-request', '1024', '--threads', threads]);
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${url}/`, { waitUntil: 'load' });
    await page.waitForSelector('input[type=range][data-emotion]');
    for (const { emotion, strength } of steer) {
      const slider = page.locator(`input[type=range][data-emotion="${emotion}"]`);
      if ((await slider.count()) === 0) throw new Error(`the set has no emotion '${emotion}'`);
      await slider.fill(String(strength));
    }
    await page.fill('#maxTokens', values['max-tokens'] ?? '48');
    await page.fill('#seed', values.seed ?? '1');
    await page.check('#compare');
    await page.fill('#prompt', values.prompt ?? 'How was your day? Answer in two sentences.');
    await page.click('#send');
    for (const side of ['main', 'plain']) {
      await page.waitForSelector(`.reply[data-side=${side}][data-state=done], .reply[data-side=${side}][data-state=error]`, { timeout: 300_000 });
    }
    const errors = await page.$$eval('.reply .error', (xs) => xs.map((x) => x.textContent));
    if (errors.length > 0) throw new Error(`the page shows an error: ${errors.join('; ')}`);
    // Hover the steered plot, so that the picture shows the per-token readout too.
    const plot = await page.locator('.reply[data-side=main] svg.meter').boundingBox();
    if (plot) await page.mouse.move(plot.x + plot.width * 0.6, plot.y + plot.height / 2);
    await mkdir(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`playground-screenshot: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
