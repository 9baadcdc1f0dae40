// The widget embedded in another site's page: a host page on http://localhost:A loads
// http://127.0.0.1:B/widget.js. With A on THAMDO_ALLOWED_ORIGINS and the cross-site cookie
// settings (SameSite=None, Partitioned) the reader votes and is remembered on reload; a page on
// an origin that is not on the list is answered 403 origin_not_allowed (readable, with CORS
// headers): the widget says calmly that it cannot be shown there, tells the page's developer
// once on the console, does not retry, and no vote from that page is counted.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, poll, liveRegion, startHostServer, hostPage, voteRecorded } from './lib.mjs';

const P = makePoll('nhung-trang-khac', {
  question: 'Bạn biết đến trang này qua đâu?',
  options: [
    { id: 'bao-chi', label: 'Báo chí' },
    { id: 'ban-be', label: 'Bạn bè giới thiệu' },
    { id: 'mang-xa-hoi', label: 'Mạng xã hội' },
  ],
});

let url;
let browser;
let allowed; // host page server whose origin is on THAMDO_ALLOWED_ORIGINS
let stranger; // host page server whose origin is not

before(async () => {
  const allowedPages = {};
  const strangerPages = {};
  allowed = await startHostServer(allowedPages);
  stranger = await startHostServer(strangerPages);
  const redis = await startRedis();
  const svc = await startThamdo({
    redis,
    polls: [P],
    env: {
      THAMDO_ALLOWED_ORIGINS: allowed.origin,
      THAMDO_COOKIE_SAMESITE: 'None',
      THAMDO_COOKIE_PARTITIONED: 'true',
    },
  });
  url = svc.url;
  allowedPages['/'] = hostPage(url, [{ id: P.id }]);
  strangerPages['/'] = hostPage(url, [{ id: P.id, lang: 'vi' }, { id: P.id, lang: 'en' }], '<div data-thamdo-visits></div>');
  browser = await launchBrowser();
});

const total = async () => (await request(url, 'GET', `/api/v1/polls/${P.id}/results`)).json.total;

test('an allowed host page on another site: the vote is sent with the cookie and remembered on reload', async () => {
  assert.notEqual(new URL(allowed.origin).hostname, new URL(url).hostname, 'host page and service on different sites');
  const { context, page } = await newPage(browser);
  await page.goto(`${allowed.origin}/`);
  const w = poll(page, P.id);
  await w.getByRole('radio', { name: 'Mạng xã hội' }).check();
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(w);
  assert.equal(await total(), 1);

  const cookies = (await context.cookies(url)).filter((c) => c.name === 'thamdo_vid');
  assert.equal(cookies.length, 1, 'the service set its cookie in the embedded context');
  assert.equal(cookies[0].sameSite, 'None');
  assert.equal(cookies[0].secure, true);

  await page.reload();
  await w.getByText('Cảm ơn bạn đã tham gia bình chọn!').waitFor();
  await w.getByRole('img', { name: 'Mạng xã hội: 1 phiếu (100%) - Bạn đã chọn' }).waitFor();
  assert.equal(await w.getByRole('radio').count(), 0, 'no form: the reader is remembered');
  assert.equal(await total(), 1);
  await context.close();
});

test('a host page on an origin not on the list: a calm message, no Retry, no retry loop, one console error, no vote', async () => {
  const before = await total();
  const { context, page } = await newPage(browser);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error' && m.text().startsWith('thamdo:')) errors.push(m.text()); });
  const sent = [];
  page.on('request', (r) => { if (r.url().startsWith(`${url}/api/`) && r.method() !== 'OPTIONS') sent.push(`${r.method()} ${r.url()}`); });
  await page.clock.install();
  await page.goto(`${stranger.origin}/`);
  // The service answers 403 origin_not_allowed with CORS headers, so the widget can read why.
  const vi = poll(page, P.id, 'vi');
  const en = poll(page, P.id, 'en');
  await liveRegion(vi).filter({ hasText: 'Cuộc thăm dò không hiển thị được trên trang này.' }).waitFor();
  await liveRegion(en).filter({ hasText: 'This poll cannot be shown on this page.' }).waitFor();
  await page.locator('[data-thamdo-visits]').getByText('Bộ đếm truy cập không hiển thị được trên trang này.').waitFor();
  for (const w of [vi, en]) {
    assert.equal(await w.getByRole('button').count(), 0, 'no Retry: trying again cannot help');
    assert.equal(await w.getByRole('radio').count(), 0);
    assert.equal(await w.getByRole('img').count(), 0, 'no results rendered');
    assert.equal(await w.locator('.err').count(), 0, 'calm, not an error in red');
  }
  await screenshot(page.locator('main'), 'origin-not-allowed');

  // Ten minutes later (on the page's clock) nothing more has been asked: no retry loop.
  const settled = sent.length;
  assert.ok(settled <= 3, `requests: ${sent.join(', ')}`); // each poll once, the counter's view (its one request)
  for (let i = 0; i < 10; i++) {
    await page.clock.runFor(60_000);
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  }
  await page.evaluate(() => fetch('/').then((r) => r.text())); // a request after any the widget made
  assert.equal(sent.length, settled, `requests: ${sent.join(', ')}`);

  // The page's developer is told, once for the page, what to change.
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /THAMDO_ALLOWED_ORIGINS/);
  assert.ok(errors[0].includes(stranger.origin), errors[0]);

  // A script of that page tries anyway: a JSON vote passes the preflight and is refused (readably),
  // and a "simple" form post, which also reaches the service, is refused by it.
  const attempts = await page.evaluate(async (target) => {
    const out = [];
    try {
      const r = await fetch(target, {
        method: 'POST', credentials: 'include',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ options: ['bao-chi'] }),
      });
      out.push(`json:${r.status}`);
    } catch (e) {
      out.push('json:blocked');
    }
    try {
      await fetch(target, {
        method: 'POST', mode: 'no-cors', credentials: 'include',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'option=bao-chi',
      });
      out.push('form:sent');
    } catch (e) {
      out.push('form:failed');
    }
    return out;
  }, `${url}/api/v1/polls/${P.id}/votes`);
  assert.deepEqual(attempts, ['json:403', 'form:sent']);
  assert.equal(await total(), before, 'the vote from the unlisted origin was not counted');

  // The same form post with that Origin, seen from outside the browser: refused with 403.
  const r = await request(url, 'POST', `/api/v1/polls/${P.id}/votes`, {
    form: 'option=bao-chi', headers: { origin: stranger.origin },
  });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'origin_not_allowed');
  assert.equal(await total(), before);
  await context.close();
});
