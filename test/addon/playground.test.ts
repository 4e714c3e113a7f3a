/**
 * `emosteer serve --ui` (the browser playground at /ui) and `--cors-origin`: the page driven in
 * headless Chromium (Debian's `chromium`, through playwright-core; CI installs it) against a
 * server over a synthetic model and a vector set, and CORS checked header by header and from
 * real browser pages of an allowed and of another origin.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServe } from '../../lib/cli/serve.js';
import { EmotionVectorSet, loadModel, type Model } from '../../lib/index.js';
import { createServer, type EmosteerServer } from '../../lib/server/server.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
// Only a machine without Chromium skips the browser checks; CI installs it (.ci/run), and there
// a missing browser fails them.
const SKIP_BROWSER = !HAS_CHROMIUM && !process.env.CI;
if (SKIP_BROWSER) {
  console.warn(`playground.test: skipping the headless-Chromium checks: no browser at ${CHROMIUM} (install Debian's chromium package: apt-get install -y chromium, or set CHROMIUM_PATH)`);
}

const EMBD = 64;
const LAYERS = 4;
const EMOTIONS = ['calm', 'angry', 'happy', 'sad', 'afraid', 'proud', 'guilty', 'hopeful'];
const KEY = 'playground-test-key';
const ALLOWED = 'http://allowed.test';

/** A vector set for the synthetic model: one random direction per emotion and block. */
async function writeSet(model: Model, dir: string): Promise<void> {
  const vectors = new Map(EMOTIONS.map((e, i) => [e, new Map(Array.from({ length: LAYERS }, (_, l) => [l, randomVector(EMBD, 1000 + 10 * i + l, 3)] as [number, Float32Array]))]));
  const { path, arch, description, nLayer, nEmbd, quantization, nParams } = model.info;
  const set = EmotionVectorSet.fromVectors({ method: 'synthetic', model: { path, sha256: '', arch, description, nLayer, nEmbd, quantization, nParams }, params: {} }, vectors);
  await set.save(dir);
}

interface ChatBody { messages: { role: string; content: string }[]; stream?: boolean; seed?: number; steering?: { emotion: string; strength: number | 'auto' }[]; meter?: string | boolean; max_tokens?: number }

let model: Model;
let modelPath: string;
let dir: string;
/** --ui and --api-key. */
let uiServer: EmosteerServer;
let uiUrl: string;
/** Neither --ui nor --cors-origin. */
let plainServer: EmosteerServer;
let plainUrl: string;
/** --cors-origin <plain server's origin> --cors-origin http://allowed.test, and --api-key. */
let corsServer: EmosteerServer;
let corsUrl: string;

beforeAll(async () => {
  modelPath = await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 5 });
  model = await loadModel(modelPath);
  dir = mkdtempSync(join(tmpdir(), 'emosteer-playground-'));
  await writeSet(model, join(dir, 'set'));
  const common = { vectors: [`emo=${join(dir, 'set')}`], parallel: 2, contextPerRequest: 256, threads: 1 };
  uiServer = await createServer(model, { ...common, ui: true, apiKey: KEY });
  uiUrl = await uiServer.app.listen({ host: '127.0.0.1', port: 0 });
  plainServer = await createServer(model, common);
  plainUrl = await plainServer.app.listen({ host: '127.0.0.1', port: 0 });
  corsServer = await createServer(model, { ...common, apiKey: KEY, corsOrigin: [new URL(plainUrl).origin, ALLOWED] });
  corsUrl = await corsServer.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await uiServer?.close();
  await plainServer?.close();
  await corsServer?.close();
  model?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * The server's own stream for a body, read here: its text (the deltas joined) and how many
 * tokens carried a meter reading. What the page shows must be exactly this.
 */
async function streamed(url: string, body: ChatBody): Promise<{ text: string; metered: number }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ ...body, stream: true }),
  });
  expect(res.status).toBe(200);
  const events = (await res.text()).split('\n\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)) as { choices: { delta?: { content?: string } }[]; meter?: object });
  return { text: events.map((e) => e.choices[0]?.delta?.content ?? '').join(''), metered: events.filter((e) => e.meter).length };
}

describe('emosteer serve --ui: the page and its routes', () => {
  it('serves /ui without the key, self-contained, with a CSP that allows only its own script and server; / redirects to it; the API still needs the key', async () => {
    const page = await fetch(`${uiUrl}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<title>emosteer playground</title>');
    // Nothing loaded from elsewhere: no src/href to another host, no external script.
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect((await fetch(`${uiUrl}/ui?x=1`, { method: 'HEAD' })).status).toBe(200);

    const root = await fetch(`${uiUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(new URL(root.headers.get('location')!, `${uiUrl}/`).href).toBe(`${uiUrl}/ui`);

    expect((await fetch(`${uiUrl}/v1/steering`)).status).toBe(401);
    expect((await fetch(`${uiUrl}/v1/steering`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    // Only GET/HEAD of the page are let through.
    expect((await fetch(`${uiUrl}/ui`, { method: 'POST' })).status).toBe(401);
  });

  it('without --ui, /ui and / are 404', async () => {
    expect((await fetch(`${plainUrl}/ui`)).status).toBe(404);
    expect((await fetch(`${plainUrl}/`, { redirect: 'manual' })).status).toBe(404);
    const body = await (await fetch(`${plainUrl}/ui`)).json() as { error: { code: string } };
    expect(body.error.code).toBe('not_found');
  });
});

describe('CORS (--cors-origin)', () => {
  const preflight = (url: string, origin: string) => fetch(`${url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

  it('is closed by default: no Access-Control-Allow-Origin on a preflight or a request', async () => {
    const pre = await preflight(plainUrl, ALLOWED);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBeNull();
    expect(pre.status).toBe(404);
    for (const path of ['/health', '/v1/models', '/v1/steering']) {
      const r = await fetch(`${plainUrl}${path}`, { headers: { origin: ALLOWED } });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin'), path).toBeNull();
    }
  });

  it('answers an allowed origin\'s preflight before the key check, and only that origin', async () => {
    const ok = await preflight(corsUrl, ALLOWED);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(ok.headers.get('vary')).toMatch(/origin/i);
    const other = await preflight(corsUrl, 'http://other.test');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the allowed origin gets the header on answers, streamed answers and 401s; another origin never', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const models = await fetch(`${corsUrl}/v1/models`, { headers: { origin: ALLOWED, ...auth } });
    expect(models.status).toBe(200);
    expect(models.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const denied = await fetch(`${corsUrl}/v1/models`, { headers: { origin: ALLOWED } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const other = await fetch(`${corsUrl}/v1/models`, { headers: { origin: 'http://other.test', ...auth } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    // A streamed answer is written by hand (a hijacked reply): it keeps the header too.
    const streamed = await fetch(`${corsUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, stream: true }),
    });
    expect(streamed.headers.get('content-type')).toBe('text/event-stream');
    expect(streamed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(await streamed.text()).toContain('data: [DONE]');
  });
});

describe.skipIf(SKIP_BROWSER)('in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!HAS_CHROMIUM) throw new Error(`Chromium not found at ${CHROMIUM}: on CI, install Debian's chromium package (apt-get install -y chromium) or set CHROMIUM_PATH`);
    process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** A page of the playground that records its chat requests, console errors and every URL it asks for. */
  async function openPlayground(path = '/') {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const chats: { body: ChatBody; auth: string | undefined }[] = [];
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const urls: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => {
      urls.push(r.url());
      if (r.method() === 'POST' && r.url().endsWith('/v1/chat/completions')) chats.push({ body: r.postDataJSON() as ChatBody, auth: r.headers().authorization });
    });
    await page.goto(`${uiUrl}${path}`, { waitUntil: 'load' });
    return { page, chats, consoleErrors, pageErrors, urls };
  }

  async function connectWithKey(page: Page): Promise<void> {
    await page.fill('#key', KEY);
    await page.click('#connect');
    await page.waitForFunction((n) => document.querySelectorAll('input[type=range][data-emotion]').length === n, EMOTIONS.length);
  }

  /** Waits until a reply has finished and returns its state and text. */
  async function finished(page: Page, selector: string): Promise<{ state: string; text: string; error: string }> {
    await page.waitForSelector(`${selector}[data-state=done], ${selector}[data-state=error]`, { timeout: 90_000 });
    return page.$eval(selector, (el) => ({ state: el.getAttribute('data-state') ?? '', text: el.querySelector('.text')?.textContent ?? '', error: el.querySelector('.error')?.textContent ?? '' }));
  }

  /** The meter traces of a reply: emotion, point count, and the number of points in its path. */
  function traces(page: Page, selector: string) {
    return page.$$eval(`${selector} svg.meter path.trace`, (paths) => paths.map((p) => ({
      emotion: p.getAttribute('data-emotion') ?? '',
      points: Number(p.getAttribute('data-points')),
      segments: (p.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean).length,
    })));
  }

  it('asks for the key, then a slider steers a streamed reply whose meter is plotted per token', async () => {
    const { page, chats, consoleErrors, pageErrors, urls } = await openPlayground('/');
    try {
      expect(page.url()).toBe(`${uiUrl}/ui`);
      // Without the key the API refuses, and the page says what to do.
      await page.waitForFunction(() => /API key/.test(document.getElementById('status')?.textContent ?? ''));
      expect(await page.$$('input[type=range][data-emotion]')).toHaveLength(0);
      await connectWithKey(page);
      expect(await page.$$eval('input[type=range][data-emotion]', (xs) => xs.map((x) => x.getAttribute('data-emotion')))).toEqual(EMOTIONS);
      // "auto" boxes only for the emotions the server lists as calibrated (none, null or absent here).
      const listed = await (await fetch(`${uiUrl}/v1/steering`, { headers: { authorization: `Bearer ${KEY}` } })).json() as { sets: { calibrated?: Record<string, number> | null }[] };
      const calibrated = Object.values(listed.sets[0]!.calibrated ?? {}).filter((v) => typeof v === 'number').length;
      expect(await page.$$('input[data-auto]')).toHaveLength(calibrated);

      // Move the "angry" slider with the mouse, to about 85% of its width.
      const slider = page.locator('input[type=range][data-emotion=angry]');
      const box = (await slider.boundingBox())!;
      await page.mouse.click(box.x + box.width * 0.85, box.y + box.height / 2);
      const value = Number(await slider.inputValue());
      expect(value).toBeGreaterThan(1);
      expect(await page.textContent('.emo[data-emotion=angry] output')).toBe(`+${value.toFixed(2)}`);
      expect(await page.textContent('#wire')).toContain('"emotion":"angry"');

      await page.fill('#maxTokens', '12');
      await page.fill('#seed', '11');
      await page.fill('#prompt', 'Tell me about the sea.');
      await page.click('#send');
      const reply = await finished(page, '.turn:nth-child(1) .reply[data-side=main]');
      expect(reply.error).toBe('');
      expect(reply.state).toBe('done');

      // What the page sent: the key, the stream, the meter, the slider's steering.
      expect(chats).toHaveLength(1);
      const sent = chats[0]!;
      expect(sent.auth).toBe(`Bearer ${KEY}`);
      expect(sent.body).toMatchObject({ stream: true, meter: 'emo', seed: 11, max_tokens: 12, messages: [{ role: 'user', content: 'Tell me about the sea.' }] });
      expect(sent.body.steering).toEqual([{ emotion: 'angry', strength: value }]);

      // The streamed text adds up to the server's own answer, and the plot has a point per token.
      const server = await streamed(uiUrl, sent.body);
      expect(reply.text.length).toBeGreaterThan(0);
      expect(reply.text).toBe(server.text);
      const lines = await traces(page, '.turn:nth-child(1) .reply[data-side=main]');
      expect(lines.length).toBeGreaterThanOrEqual(5);
      expect(lines.map((l) => l.emotion)).toContain('angry'); // the steered emotion is always plotted
      expect(server.metered).toBeGreaterThan(1);
      for (const l of lines) {
        expect(l.points).toBe(server.metered);
        expect(l.segments).toBe(l.points);
      }
      expect(await page.$$('.turn:nth-child(1) .legend .item')).toHaveLength(lines.length);

      // Every request went to the server itself; nothing failed but the keyless first try.
      expect(urls.filter((u) => !u.startsWith(`${uiUrl}/`) && !u.startsWith('data:'))).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(consoleErrors.filter((e) => !/\b401\b/.test(e))).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('compare: the same message streamed with and without steering, side by side, each with its history and meter', async () => {
    const { page, chats, pageErrors } = await openPlayground('/ui');
    try {
      await connectWithKey(page);
      const slider = page.locator('input[type=range][data-emotion=sad]');
      await slider.fill('3');
      expect(await page.textContent('#wire')).toContain('"emotion":"sad","strength":3');
      await page.fill('#maxTokens', '10');
      await page.fill('#seed', '5');
      await page.fill('#prompt', 'Write a line.');
      await page.press('#prompt', 'Enter');
      const first = await finished(page, '.turn:nth-child(1) .reply[data-side=main]');
      expect(first.state).toBe('done');

      await page.check('#compare');
      await page.fill('#prompt', 'And another one.');
      await page.click('#send');
      const main = await finished(page, '.turn:nth-child(2) .reply[data-side=main]');
      const plain = await finished(page, '.turn:nth-child(2) .reply[data-side=plain]');
      expect([main.state, plain.state, main.error, plain.error]).toEqual(['done', 'done', '', '']);
      expect(await page.$$('.turn:nth-child(2) .reply')).toHaveLength(2);

      // Two requests for the second message, one seed, one with the steering and one without,
      // each with the conversation so far.
      expect(chats).toHaveLength(3);
      const [steered, unsteered] = [chats[1]!.body, chats[2]!.body].sort((a, b) => Number(!a.steering) - Number(!b.steering));
      expect(steered!.steering).toEqual([{ emotion: 'sad', strength: 3 }]);
      expect(unsteered!.steering).toBeUndefined();
      expect(steered!.seed).toBe(5);
      expect(unsteered!.seed).toBe(5);
      const history = [{ role: 'user', content: 'Write a line.' }, { role: 'assistant', content: first.text }, { role: 'user', content: 'And another one.' }];
      expect(steered!.messages).toEqual(history);
      expect(unsteered!.messages).toEqual(history);

      // Each column shows its own stream, and steering made a difference.
      expect(main.text).toBe((await streamed(uiUrl, steered!)).text);
      expect(plain.text).toBe((await streamed(uiUrl, unsteered!)).text);
      expect(main.text).not.toBe(plain.text);
      for (const side of ['main', 'plain']) {
        const lines = await traces(page, `.turn:nth-child(2) .reply[data-side=${side}]`);
        expect(lines.map((l) => l.emotion), side).toContain('sad');
        for (const l of lines) expect(l.points, side).toBeGreaterThan(1);
      }
      expect(await page.textContent('.turn:nth-child(2) .reply[data-side=plain] .label')).toBe('without steering');
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('an "auto" box for each calibrated emotion sends strength "auto"; a null or absent calibration shows none', async () => {
    const { page, chats } = await openPlayground('/ui');
    try {
      let calibrated: Record<string, number> | null = { calm: 0.07, sad: 0.05 };
      await page.route('**/v1/steering', async (route) => {
        const res = await route.fetch();
        const json = await res.json() as { sets: Record<string, unknown>[] };
        json.sets[0]!.calibrated = calibrated;
        await route.fulfill({ response: res, json });
      });
      await connectWithKey(page);
      expect(await page.$$eval('input[data-auto]', (xs) => xs.map((x) => x.getAttribute('data-auto')))).toEqual(['calm', 'sad']);
      await page.check('input[data-auto=calm]');
      expect(await page.isDisabled('input[type=range][data-emotion=calm]')).toBe(true);
      expect(await page.textContent('.emo[data-emotion=calm] output')).toBe('auto');
      await page.locator('input[type=range][data-emotion=happy]').fill('1');
      await page.fill('#maxTokens', '4');
      await page.fill('#prompt', 'Hello');
      const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/v1/chat/completions'));
      await page.click('#send');
      await sent;
      expect(chats[0]!.body.steering).toEqual([{ emotion: 'calm', strength: 'auto' }, { emotion: 'happy', strength: 1 }]);
      // (Whether this server already takes 'auto' is the server's business; the page sent it.)
      await finished(page, '.turn:nth-child(1) .reply[data-side=main]');

      calibrated = null;
      await page.click('#connect');
      await page.waitForFunction(() => document.querySelectorAll('input[data-auto]').length === 0);
      expect(await page.$$('input[type=range][data-emotion]')).toHaveLength(EMOTIONS.length);
    } finally {
      await page.close();
    }
  });

  it('CORS from real pages: an allowed origin streams a chat completion; another origin cannot read the server', async () => {
    const page = await browser.newPage();
    try {
      const call = (target: string, body: object | null) => page.evaluate(async ({ target, body, key }) => {
        try {
          const r = await fetch(target, body === null ? {} : { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
          return { ok: true, status: r.status, text: await r.text() };
        } catch (e) {
          return { ok: false, status: 0, text: String(e) };
        }
      }, { target, body, key: KEY });
      const chat = { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4, stream: true, meter: true };

      // A page of the plain server's origin, which the CORS server allows.
      await page.goto(`${plainUrl}/health`);
      const allowed = await call(`${corsUrl}/v1/chat/completions`, chat);
      expect(allowed).toMatchObject({ ok: true, status: 200 });
      expect(allowed.text).toContain('"meter"');
      expect(allowed.text).toContain('data: [DONE]');
      // ...and a server without --cors-origin is closed to it.
      const closed = await call(`${uiUrl}/health`, null);
      expect(closed.ok).toBe(false);
      expect(closed.text).toContain('TypeError');

      // A page of an origin the CORS server does not list.
      await page.goto(`${uiUrl}/health`);
      const other = await call(`${corsUrl}/v1/chat/completions`, chat);
      expect(other.ok).toBe(false);
      expect(other.text).toContain('TypeError');
    } finally {
      await page.close();
    }
  });
});

describe('emosteer serve --ui --cors-origin (the command line)', () => {
  it('serves the page and allows each origin given, repeated or comma-separated', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => { out.push(l); }, err: (l: string) => { err.push(l); } };
    const ac = new AbortController();
    const done = runServe(['--model', modelPath, '--port', '0', '--threads', '1', '--parallel', '1', '--ctx-per-request', '128', '--ui', '--cors-origin', 'http://a.test, http://b.test', '--cors-origin', 'http://c.test'], io, ac.signal);
    try {
      const deadline = Date.now() + 60_000;
      while (!out.some((l) => l.includes('listening on')) && Date.now() < deadline) {
        if (await Promise.race([done.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))])) break;
      }
      const url = out.find((l) => l.includes('listening on'))?.split('listening on ')[1];
      expect(url, err.join('\n')).toBeDefined();
      expect(err.join('\n')).toContain(`playground at ${url}/ui`);
      expect((await fetch(`${url}/ui`)).status).toBe(200);
      for (const origin of ['http://a.test', 'http://b.test', 'http://c.test', 'http://d.test']) {
        const r = await fetch(`${url}/v1/models`, { headers: { origin } });
        expect(r.headers.get('access-control-allow-origin'), origin).toBe(origin === 'http://d.test' ? null : origin);
      }
    } finally {
      ac.abort();
    }
    expect(await done).toBe(0);
  });

  it('refuses an origin that is not one (a path or a trailing slash never matches a browser\'s Origin)', async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => { err.push(l); } };
    expect(await runServe(['--model', modelPath, '--cors-origin', 'http://a.test/'], io)).toBe(2);
    expect(err.join('\n')).toContain("got 'http://a.test/': give http://a.test");
    expect(await runServe(['--model', modelPath, '--cors-origin', 'localhost:5173'], io)).toBe(2);
  });
});
