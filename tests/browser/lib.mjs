// Shared by the browser tests: Debian's chromium through playwright-core, a tiny host-page
// server for cross-origin embedding, the screenshots folder, and the polls the tests use.
// The service and Redis come from tests/blackbox/lib/harness.mjs. Everything started here is
// stopped in an after() hook; every wait is bounded.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from '../blackbox/lib/harness.mjs';

export const SCREENSHOTS = path.join(REPO_ROOT, 'tests', 'screenshots');
// The served widget.js: web/widget.js with web/vendor/sha256.js in place of its include line,
// built by make (build/gen/widget.js).
export const WIDGET_JS = path.join(REPO_ROOT, 'build', 'gen', 'widget.js');
export const WAIT_MS = 10000; // the longest any single browser wait may take

const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  timeout: 30000,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

// Registered when this module is imported (top level of a test file): an after() called later,
// inside a before() hook, would run as soon as that hook's first test ends.
const browsers = new Set();
const servers = new Set();
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  for (const s of servers) await s();
});

/**
 * Launches chromium; closed in after(). Its pages are a reader's: navigator.webdriver is false
 * (the widget reports a browser driven by a program, and the counter counts it as a robot);
 * with { webdriver: true } it stays true, as Playwright leaves it. extraArgs: more command-line
 * switches (e.g. --host-resolver-rules, for a page that is not a secure context).
 */
export async function launchBrowser({ webdriver = false, extraArgs = [] } = {}) {
  const args = [...LAUNCH.args, ...(webdriver ? [] : ['--disable-blink-features=AutomationControlled']), ...extraArgs];
  const browser = await chromium.launch({ ...LAUNCH, args });
  browsers.add(browser);
  return browser;
}

/**
 * A new context (a new reader: empty cookie jar) with bounded waits. Its User-Agent is that of
 * the same Chrome with a window: headless Chromium says "HeadlessChrome", which the counter
 * rightly counts as a robot.
 */
// Each context is a reader of its own, with a browser of its own: the visitor counter knows a
// reader without a cookie by a hash of address and User-Agent, and every context comes from
// 127.0.0.1.
let contexts = 0;
export async function newPage(browser, options = {}) {
  const userAgent = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36 reader/${++contexts}`;
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, userAgent, ...options });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  return { context, page };
}

export async function screenshot(pageOrLocator, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await pageOrLocator.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), timeout: WAIT_MS });
}

/** The element of one poll on the page (Playwright's locators reach into its open shadow root). */
export function poll(page, id, lang) {
  return page.locator(lang ? `[data-thamdo-poll="${id}"][data-lang="${lang}"]` : `[data-thamdo-poll="${id}"]`);
}

/** The widget's aria-live region inside a poll element. */
export function liveRegion(widget) {
  return widget.locator('[aria-live="polite"]');
}

export const THANKS = { vi: 'Cảm ơn bạn đã tham gia bình chọn!', en: 'Thank you for voting!' };
export const RECORDED = { vi: 'Đã ghi nhận bình chọn của bạn.', en: 'Your vote has been recorded.' };

/**
 * Waits until a widget confirms the vote just cast: "Đã ghi nhận bình chọn của bạn." in its live
 * region, and only that (the view's thank-you line is for a reader coming back).
 */
export async function voteRecorded(widget, lang = 'vi') {
  await liveRegion(widget).filter({ hasText: RECORDED[lang] }).waitFor();
  assert.equal(await widget.getByText(THANKS[lang]).count(), 0, 'one confirmation, not a second thank-you line');
}

/** Adds poll elements to a page that has already loaded widget.js (rendered by its MutationObserver). */
export async function addPolls(page, polls) {
  await page.evaluate((list) => {
    for (const p of list) {
      const el = document.createElement('div');
      el.setAttribute('data-thamdo-poll', p.id);
      if (p.lang) el.setAttribute('data-lang', p.lang);
      document.querySelector('main').append(el);
    }
  }, polls);
}

/** gzip -9 size of the served widget.js in bytes. */
export function widgetGzipSize() {
  return zlib.gzipSync(fs.readFileSync(WIDGET_JS), { level: 9 }).length;
}

/** What the served widget.js must be, from web/ as it is now (the Makefile's splice, in JS). */
export function widgetFromSources() {
  const line = '  /* @include web/vendor/sha256.js */\n';
  const src = fs.readFileSync(path.join(REPO_ROOT, 'web', 'widget.js'), 'utf8');
  assert.equal(src.split(line).length, 2, `web/widget.js must have the line ${line.trim()} once`);
  return src.replace(line, () => fs.readFileSync(path.join(REPO_ROOT, 'web', 'vendor', 'sha256.js'), 'utf8'));
}

/**
 * A host page server on 127.0.0.1 (addressed as http://localhost:PORT, so another site than the
 * service on 127.0.0.1): pages is {'/path': html}. Closed in after().
 */
export async function startHostServer(pages) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const html = pages[new URL(req.url, 'http://localhost').pathname];
    res.writeHead(html ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(html || 'not found');
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  servers.add(() => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  const { port } = server.address();
  return { port, origin: `http://localhost:${port}` };
}

/** A host page embedding the widget from `serviceUrl` with the given poll elements, then `extra` HTML. */
export function hostPage(serviceUrl, polls, extra = '') {
  const divs = polls.map((p) => `<div data-thamdo-poll="${p.id}"${p.lang ? ` data-lang="${p.lang}"` : ''}></div>`).join('\n');
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Trang nhúng thử</title>
<script src="${serviceUrl}/widget.js" async></script></head>
<body><main><h1>Trang của một đơn vị khác</h1>
${divs}
${extra}
</main></body></html>`;
}

/** The seed poll of deploy/polls.json (the demo page's "chuyen-muc"). */
export function seedPolls() {
  const file = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'polls.json'), 'utf8'));
  return file.polls;
}

/** Votes through the API as `n` different new readers (no cookie each), a few at a time. */
export async function castVotes(base, pollId, option, n) {
  let next = 0;
  async function worker() {
    while (next < n) {
      next++;
      const res = await fetch(`${base}/api/v1/polls/${pollId}/votes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ options: [option] }),
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      assert.equal(res.status, 201, `seeding vote: ${res.status} ${text}`);
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** The results of a poll as the service answers a reader without cookie. */
export async function publicResults(base, pollId) {
  const res = await fetch(`${base}/api/v1/polls/${pollId}/results`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, `results of ${pollId}`);
  return res.json();
}
