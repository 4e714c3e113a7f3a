/**
 * The routes of `emosteer serve --ui`: GET /ui serves the playground page (lib/server/playground/page.ts)
 * and GET / redirects to it. Both are served without the API key: the page holds no data, and
 * it asks the user for the key, which it then sends to the API endpoints.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { PLAYGROUND_HTML, PLAYGROUND_SCRIPT } from './page.js';

/** Where the playground is served. */
export const PLAYGROUND_PATH = '/ui';

/**
 * The page's Content-Security-Policy: its one inline script (by hash) and inline style, data:
 * images (the empty favicon), and connections to its own server only; no frames, no forms
 * posted elsewhere.
 */
export const PLAYGROUND_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(PLAYGROUND_SCRIPT, 'utf8').digest('base64')}'`,
  "style-src 'unsafe-inline'",
  "img-src data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Whether a request is for one of the playground's routes (GET or HEAD of `/ui` or `/`, any
 * query string), which the API-key check lets through.
 */
export function isPlaygroundRequest(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path === PLAYGROUND_PATH || path === '/';
}

/** Registers GET /ui (the page; HEAD too) and GET / (a 302 redirect to it) on `app`. */
export function registerPlayground(app: FastifyInstance): void {
  app.get(PLAYGROUND_PATH, async (req, reply) => reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PLAYGROUND_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .send(PLAYGROUND_HTML));
  // Relative, so that it also works behind a reverse proxy that serves the server under a prefix.
  app.get('/', async (req, reply) => reply.redirect(PLAYGROUND_PATH.slice(1), 302));
}
