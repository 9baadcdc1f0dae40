// The widget's proof of work (429 challenge_required). Its solver, in Chromium, against the
// service's own pow.c (build/widget-pow-tool): the answer is the smallest one, as pow_check wants
// it, in a Worker made from a blob URL and, when the page's CSP forbids such Workers, on the
// page's thread; a page that is not a secure context has no Web Crypto, and the solver says so.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, SECRET } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, startHostServer, hostPage, seedPolls } from './lib.mjs';
import { powMint, powCheck, powSolve } from './widget-pow-tool.mjs';

const BUCKET = '0123456789abcdef';
const EXPIRES = 4000000000;
const NOW = Math.floor(Date.now() / 1000);

let url;
let browser;
let insecureBrowser; // resolves thamdo-pow.test to 127.0.0.1: a page there is not a secure context
let host;

before(async () => {
  const pages = {};
  host = await startHostServer(pages);
  const redis = await startRedis();
  const svc = await startThamdo({ redis, polls: seedPolls(), env: { THAMDO_ALLOWED_ORIGINS: host.origin } });
  url = svc.url;
  pages['/'] = hostPage(url, []);
  pages['/no-workers'] = hostPage(url, []).replace('<head>',
    `<head><meta http-equiv="Content-Security-Policy" content="worker-src 'none'">`);
  browser = await launchBrowser();
  insecureBrowser = await launchBrowser({ extraArgs: ['--host-resolver-rules=MAP thamdo-pow.test 127.0.0.1'] });
});

/** A page of the host site that has loaded widget.js. */
async function widgetPage(b, pageUrl) {
  const { context, page } = await newPage(b);
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.__thamdo && typeof window.__thamdo.pow === 'function');
  return { context, page };
}

const solveIn = (page, token, bits) => page.evaluate(([t, b]) => window.__thamdo.pow(t, b), [token, bits]);

test('the solver finds the smallest answer, and the service\'s pow_check accepts it', async () => {
  const { context, page } = await widgetPage(browser, `${host.origin}/`);
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  assert.equal(await page.evaluate(() => window.isSecureContext && !!crypto.subtle), true);
  for (const bits of [1, 8, 12, 14]) {
    const token = powMint(SECRET, 'bao-chi', BUCKET, bits, EXPIRES);
    const answer = await solveIn(page, token, bits);
    assert.equal(answer, powSolve(token, bits), `difficulty ${bits}: the smallest answer`);
    const verdict = powCheck(SECRET, `${token}:${answer}`, 'bao-chi', BUCKET, NOW);
    assert.equal(verdict.result, 'ok', `difficulty ${bits}`);
    assert.equal(verdict.difficulty, bits);
  }
  assert.equal(workers.length, 4, 'one Worker per challenge');
  assert.ok(workers.every((u) => u.startsWith('blob:')), workers.join(' '));
  await context.close();
});

test('when the page forbids blob: Workers, the solver runs on the page\'s thread and finds the same answer', async () => {
  const { context, page } = await widgetPage(browser, `${host.origin}/no-workers`);
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  const blocked = await page.evaluate(() => new Promise((resolve) => {
    try {
      const w = new Worker(URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' })));
      w.onmessage = () => resolve(false);
      w.onerror = () => resolve(true);
    } catch (e) {
      resolve(true);
    }
  }));
  assert.equal(blocked, true, 'the CSP worker-src \'none\' forbids a Worker from a blob URL');
  const token = powMint(SECRET, 'bao-chi', BUCKET, 12, EXPIRES);
  const answer = await solveIn(page, token, 12);
  assert.equal(answer, powSolve(token, 12));
  assert.equal(powCheck(SECRET, `${token}:${answer}`, 'bao-chi', BUCKET, NOW).result, 'ok');
  assert.deepEqual(workers, [], 'no Worker ran');
  await context.close();
});

test('on a page that is not a secure context (no Web Crypto) the solver answers null', async () => {
  const { context, page } = await widgetPage(insecureBrowser, `http://thamdo-pow.test:${host.port}/`);
  assert.equal(await page.evaluate(() => window.isSecureContext), false);
  const token = powMint(SECRET, 'bao-chi', BUCKET, 4, EXPIRES);
  assert.equal(await solveIn(page, token, 4), null);
  await context.close();
});
