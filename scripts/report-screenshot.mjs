#!/usr/bin/env node
/**
 * Full-page PNG screenshot of an emosteer HTML report, taken with the system's Chromium
 * (Debian package `chromium`) through playwright-core; never downloads a browser.
 *
 *   node scripts/report-screenshot.mjs <report.html> <out.png>
 *
 * Environment: CHROMIUM_PATH overrides the browser (default /usr/bin/chromium);
 * REPORT_WIDTH sets the viewport width in CSS pixels (default 1280).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Chromium flags that work as root, offline, with no GPU (playwright adds --headless and a temp profile). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium binary to use: CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
function chromiumPath() {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

async function main() {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node scripts/report-screenshot.mjs <report.html> <out.png>');
    process.exit(2);
  }
  const htmlPath = resolve(input);
  if (!existsSync(htmlPath)) {
    console.error(`report-screenshot: no such file: ${htmlPath}`);
    process.exit(2);
  }
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    console.error(
      `report-screenshot: Chromium not found at ${executablePath}. Install Debian's chromium package (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
    process.exit(1);
  }
  // Never let playwright fetch a browser of its own.
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  try {
    const width = Number(process.env.REPORT_WIDTH) || 1280;
    const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`console error: ${m.text()}`);
    });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    await mkdir(dirname(resolve(output)), { recursive: true });
    await page.screenshot({ path: resolve(output), fullPage: true });
    console.log(`wrote ${resolve(output)}`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`report-screenshot: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
