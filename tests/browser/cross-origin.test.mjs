// The widget embedded in another site's page: a host page on http://localhost:A loads
// http://127.0.0.1:B/widget.js. With A on THAMDO_ALLOWED_ORIGINS and the cross-site cookie
// settings (SameSite=None, Partitioned) the reader votes and is remembered on reload; a page on
// an origin that is not on the list gets nothing rendered and cannot add a vote.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, poll, liveRegion, startHostServer, hostPage, voteRecorded } from './lib.mjs';

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
  strangerPages['/'] = hostPage(url, [{ id: P.id }]);
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

test('a host page on an origin not on the list: nothing rendered but an error, and no vote counted', async () => {
  const before = await total();
  const { context, page } = await newPage(browser);
  await page.goto(`${stranger.origin}/`);
  const w = poll(page, P.id);
  // The browser withholds the answer (no Access-Control-Allow-Origin): to the widget it is a failure.
  await liveRegion(w).filter({ hasText: 'Hệ thống đang bận, vui lòng thử lại sau ít phút.' }).waitFor();
  assert.equal(await w.getByRole('radio').count(), 0);
  assert.equal(await w.getByRole('img').count(), 0, 'no results rendered');

  // A script of that page tries anyway: a JSON vote is stopped by the browser's preflight, and a
  // "simple" form post, which does reach the service, is refused by it (Origin not allowed).
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
  assert.deepEqual(attempts, ['json:blocked', 'form:sent']);
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
