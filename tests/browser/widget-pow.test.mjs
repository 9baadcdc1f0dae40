// The widget's proof of work (429 challenge_required) and the hard limit (429 rate_limited).
// Its solver, in Chromium, against the service's own pow.c (build/widget-pow-tool): the answer is
// the smallest one, as pow_check wants it, in a Worker made from a blob URL and, when the page's
// CSP forbids such Workers, on the page's thread, for tokens of every length around SHA-256's
// 64-byte blocks; a page that is not a secure context (no Web Crypto) solves the same (the
// solver's SHA-256 is @noble/hashes, web/vendor/sha256.js). Then readers voting through the real
// service with the limits on (THAMDO_RATE_FREE 1, THAMDO_RATE_MAX 3, base difficulty 8), all from
// 127.0.0.1: one bucket.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, SECRET } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, startHostServer, hostPage, seedPolls, poll, liveRegion, voteRecorded } from './lib.mjs';
import { powMint, powCheck, powSolve } from './widget-pow-tool.mjs';

const BUCKET = '0123456789abcdef';
const EXPIRES = 4000000000;
const NOW = Math.floor(Date.now() / 1000);

const POLLS = ['xac-minh', 'gioi-han', 'khong-https'].map((id) => makePoll(id, {
  question: 'Bạn muốn thư viện mở cửa vào giờ nào?', options: [{ id: 'sang', label: 'Sáng' }, { id: 'chieu', label: 'Chiều' }],
}));
const LABEL = 'Sáng'; // the first option's label

let url;
let limited; // the service with the limits on
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
  const svc2 = await startThamdo({
    redis,
    polls: POLLS,
    env: {
      THAMDO_ALLOWED_ORIGINS: `${host.origin} http://thamdo-pow.test:${host.port}`,
      THAMDO_RATE_LIMITS: 'on',
      THAMDO_RATE_FREE: '1',
      THAMDO_RATE_MAX: '3',
      THAMDO_POW_DIFFICULTY: '8',
    },
  });
  limited = svc2.url;
  for (const p of POLLS) {
    pages[`/${p.id}`] = hostPage(limited, [{ id: p.id }]);
    pages[`/${p.id}/en`] = hostPage(limited, [{ id: p.id, lang: 'en' }]);
  }
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

/** The widget's solver in page, given a minute at most. */
const solveIn = (page, token, bits, ms = 60000) => page.evaluate(([t, b, m]) => window.__thamdo.pow(t, b, Date.now() + m), [token, bits, ms]);

test('the solver finds the smallest answer, and the service\'s pow_check accepts it', async () => {
  const { context, page } = await widgetPage(browser, `${host.origin}/`);
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  assert.equal(await page.evaluate(() => window.isSecureContext), true);
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

test('tokens of every length around the 64-byte blocks (poll ids of 1 to 64 characters): the smallest answer, as OpenSSL finds it', async () => {
  const { context, page } = await widgetPage(browser, `${host.origin}/`);
  const tokens = [];
  for (let n = 1; n <= 64; n++) tokens.push(powMint(SECRET, 'a'.repeat(n), BUCKET, 7, EXPIRES));
  const lengths = new Set(tokens.map((t) => (t.length + 1) % 64)); // token ":" in its last block
  assert.equal(lengths.size, 64, 'every offset in the last block is tried');
  const answers = await page.evaluate(async (list) => {
    const found = [];
    for (const t of list) found.push(await window.__thamdo.pow(t, 7, Date.now() + 60000));
    return found;
  }, tokens);
  assert.deepEqual(answers, tokens.map((t) => powSolve(t, 7)));
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

test('the solver gives up once its deadline (the challenge\'s expiry) has passed: it answers an empty string', async () => {
  const { context, page } = await widgetPage(browser, `${host.origin}/`);
  const token = powMint(SECRET, 'bao-chi', BUCKET, 32, EXPIRES); // 2^32 hashes: never in 300 ms
  const started = Date.now();
  assert.equal(await solveIn(page, token, 32, 300), '');
  assert.ok(Date.now() - started < 5000, 'it stopped soon after its deadline');
  await context.close();
});

test('on a page that is not a secure context (no Web Crypto) the solver finds the same smallest answer, in a Worker', async () => {
  const { context, page } = await widgetPage(insecureBrowser, `http://thamdo-pow.test:${host.port}/`);
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  assert.deepEqual(await page.evaluate(() => [window.isSecureContext, !!(window.crypto && crypto.subtle)]), [false, false]);
  for (const bits of [4, 12, 14]) {
    const token = powMint(SECRET, 'bao-chi', BUCKET, bits, EXPIRES);
    const answer = await solveIn(page, token, bits);
    assert.equal(answer, powSolve(token, bits), `difficulty ${bits}`);
    assert.equal(powCheck(SECRET, `${token}:${answer}`, 'bao-chi', BUCKET, NOW).result, 'ok');
  }
  assert.equal(workers.length, 3, 'one Worker per challenge');
  await context.close();
});

/** The votes of a poll as every reader sees them. */
async function total(pollId) {
  const r = await request(limited, 'GET', `/api/v1/polls/${pollId}/results`, { headers: { 'x-thamdo-test': '1' } });
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

/**
 * A new reader (no cookie) votes for the first option on the host page pagePath. Records the vote
 * answers; onProof(widget, request) runs while the request with X-Thamdo-Proof is held (so the
 * widget is seen as it is while that request is on its way), then the request goes on.
 */
async function readerVotes(b, pagePath, pollId, { lang, onProof } = {}) {
  const { context, page } = await newPage(b);
  const answers = [];
  page.on('response', async (res) => {
    if (res.url().endsWith(`/api/v1/polls/${pollId}/votes`) && res.request().method() === 'POST') {
      answers.push({ status: res.status(), retryAfter: res.headers()['retry-after'], body: await res.json().catch(() => null) });
    }
  });
  const proofs = [];
  await page.route((u) => u.pathname === `/api/v1/polls/${pollId}/votes`, async (route) => {
    const proof = route.request().headers()['x-thamdo-proof'];
    if (proof && route.request().method() === 'POST') {
      proofs.push(proof);
      if (onProof) await onProof(poll(page, pollId), route.request());
    }
    await route.continue();
  });
  await page.goto(pagePath);
  const w = poll(page, pollId, lang);
  await w.getByLabel(LABEL).click();
  await w.getByRole('button', { name: lang === 'en' ? 'Vote' : 'Bình chọn' }).click();
  return { context, page, widget: w, answers, proofs };
}

test('a challenged vote: the widget shows "Đang xác minh…", solves the challenge, sends the vote again with its proof, and it counts', async () => {
  const first = await readerVotes(browser, `${host.origin}/xac-minh`, 'xac-minh');
  await voteRecorded(first.widget);
  assert.deepEqual(first.answers.map((a) => a.status), [201], 'the first ballot of the bucket is free');
  await first.context.close();

  const seen = [];
  const second = await readerVotes(browser, `${host.origin}/xac-minh`, 'xac-minh', {
    onProof: async (w) => {
      await liveRegion(w).filter({ hasText: 'Đang xác minh…' }).waitFor();
      seen.push(await w.getByRole('button', { name: 'Đang xác minh…' }).count());
    },
  });
  await voteRecorded(second.widget);
  assert.deepEqual(seen, [1], 'while the proof is on its way the button says "Đang xác minh…"');
  assert.deepEqual(second.answers.map((a) => a.status), [429, 201]);
  const { challenge } = second.answers[0].body;
  assert.equal(second.answers[0].body.error.code, 'challenge_required');
  assert.equal(challenge.difficulty, 10, 'base 8 + floor(2 log2(2/1))');
  // The proof is the challenge's token with the smallest answer, which the service's pow.c accepts.
  assert.equal(second.proofs.length, 1);
  assert.equal(second.proofs[0], `${challenge.token}:${powSolve(challenge.token, challenge.difficulty)}`);
  assert.equal(await total('xac-minh'), 2);
  await second.context.close();

  // In English, the same (and the third reader's challenge is harder).
  const third = await readerVotes(browser, `${host.origin}/xac-minh/en`, 'xac-minh', {
    lang: 'en',
    onProof: (w) => liveRegion(w).filter({ hasText: 'Verifying…' }).waitFor(),
  });
  await voteRecorded(third.widget, 'en');
  assert.deepEqual(third.answers.map((a) => a.status), [429, 201]);
  assert.equal(third.answers[0].body.challenge.difficulty, 11);
  assert.equal(await total('xac-minh'), 3);
  await third.context.close();
});

test('past the hard limit: "Có quá nhiều phiếu bình chọn từ mạng của bạn. Vui lòng thử lại sau N phút." (Retry-After), nothing counted', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await readerVotes(browser, `${host.origin}/gioi-han`, 'gioi-han');
    await voteRecorded(r.widget);
    await r.context.close();
  }
  assert.equal(await total('gioi-han'), 3);
  for (const lang of ['vi', 'en']) {
    const r = await readerVotes(browser, `${host.origin}/gioi-han${lang === 'en' ? '/en' : ''}`, 'gioi-han', { lang: lang === 'en' ? 'en' : undefined });
    const text = lang === 'en' ? 'Too many votes came from your network.' : 'Có quá nhiều phiếu bình chọn từ mạng của bạn.';
    await liveRegion(r.widget).filter({ hasText: text }).waitFor();
    assert.equal(r.answers.length, 1);
    assert.equal(r.answers[0].status, 429);
    assert.equal(r.answers[0].body.error.code, 'rate_limited');
    const wait = Number(r.answers[0].retryAfter);
    assert.ok(wait >= 1 && wait <= 600, `Retry-After ${r.answers[0].retryAfter}`);
    const n = Math.ceil(wait / 60);
    const expected = lang === 'en'
      ? `Too many votes came from your network. Please try again in ${n} minute${n === 1 ? '' : 's'}.`
      : `Có quá nhiều phiếu bình chọn từ mạng của bạn. Vui lòng thử lại sau ${n} phút.`;
    assert.equal(await liveRegion(r.widget).innerText(), expected);
    await r.widget.getByRole('button', { name: lang === 'en' ? 'Try again' : 'Thử lại' }).waitFor();
    assert.deepEqual(r.proofs, []);
    await r.context.close();
  }
  assert.equal(await total('gioi-han'), 3);
});

test('a challenged vote on a page without HTTPS (no Web Crypto): the widget verifies it as on any page, and it counts', async () => {
  const first = await readerVotes(browser, `${host.origin}/khong-https`, 'khong-https');
  await voteRecorded(first.widget);
  await first.context.close();
  const r = await readerVotes(insecureBrowser, `http://thamdo-pow.test:${host.port}/khong-https`, 'khong-https', {
    onProof: (w) => liveRegion(w).filter({ hasText: 'Đang xác minh…' }).waitFor(),
  });
  await voteRecorded(r.widget);
  assert.equal(await r.page.evaluate(() => window.isSecureContext), false);
  assert.deepEqual(r.answers.map((a) => a.status), [429, 201]);
  const { challenge } = r.answers[0].body;
  assert.equal(r.answers[0].body.error.code, 'challenge_required');
  assert.deepEqual(r.proofs, [`${challenge.token}:${powSolve(challenge.token, challenge.difficulty)}`]);
  assert.equal(await total('khong-https'), 2);
  await r.context.close();
});
