// The visitor counter without JavaScript, black-box: GET /embed/visits?site=KEY&lang=vi|en, the
// page a portal puts in <noscript><iframe>. It records the view like POST /api/v1/visits (one visit
// per reader per session by the cookie, which it may issue; robots apart), shows the same six
// figures and labels as the widget with the widget's number format, is never cached, may be framed
// only by the allowed origins, refuses a Referer from any other page, reads nothing of the Referer
// but its origin, answers HEAD without recording, and a 404 page for an unknown site. Test clock
// (THAMDO_MODE=test THAMDO_TEST_CLOCK=true, X-Thamdo-Test-Now) in Asia/Ho_Chi_Minh; each case on its
// own site key.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, request, Voter, COOKIE_NAME, COOKIE_RE, sleep,
} from './lib/harness.mjs';

const TOKEN = 'visits-embed-admin-token-0123456789a';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const BROWSER = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Zalo iOS/473 ZaloTheme/light ZaloLanguage/vi';
const ALLOWED = 'https://bao.example';
const ZONE = 'Asia/Ho_Chi_Minh';
const SITES = ['nojs', 'nojs-fmt', 'nojs-en', 'nojs-ref', 'nojs-head', 'nojs-bot'];
const LABELS_VI = ['Hôm nay', 'Hôm qua', 'Tuần này', 'Tháng này', 'Tất cả', 'Đang truy cập'];
const LABELS_EN = ['Today', 'Yesterday', 'This week', 'This month', 'Total', 'Online now'];

let redis;
let svc;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    polls: [],
    env: {
      THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true', THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_TIMEZONE: ZONE,
      THAMDO_SITES: SITES.join(','), THAMDO_ALLOWED_ORIGINS: ALLOWED, THAMDO_LOG_LEVEL: 'debug',
    },
  });
});

const at = (when) => ({ 'x-thamdo-test-now': when });
const T = (hms) => `2026-10-05T${hms}+07:00`; // a Monday

// A reader without a cookie is known by a daily-salted hash of address, User-Agent and site (one
// visit per session): every reader here comes from 127.0.0.1, so each has a browser of its own
// (a Voter keeps its User-Agent), and each cookie-less view without a `ua` is a new reader's.
let browsers = 0;
const newBrowser = () => `${BROWSER} reader/${++browsers}`;

/** GET (or HEAD) /embed/visits; asserts the headers every answer of the page carries. */
async function page(query, when, { voter, ua, headers = {}, method = 'GET' } = {}) {
  if (voter) voter.ua ??= newBrowser();
  ua ??= voter ? voter.ua : newBrowser();
  const p = `/embed/visits${query}`;
  const opts = { headers: { 'user-agent': ua, ...at(when), ...headers } };
  const r = voter ? await voter.req(method, p, opts) : await request(svc.url, method, p, opts);
  assert.match(r.headers.get('content-type') || '', /^text\/html; charset=utf-8$/, `${p}: Content-Type`);
  assert.equal(r.headers.get('cache-control'), 'no-store', `${p}: Cache-Control`);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('content-security-policy'),
    `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'self' ${ALLOWED}`);
  assert.equal(r.headers.get('access-control-allow-origin'), null, 'no CORS headers outside /api/');
  if (method === 'GET') {
    assert.match(r.text, /^<!doctype html>\n<html lang="(vi|en)">/);
    assert.doesNotMatch(r.text, /<script|<form|<a /i, 'no script, form or link');
  }
  return r;
}

/** The figures of the page as {label: text}, in order. */
function figuresOf(html) {
  return [...html.matchAll(/<dt>([^<]*)<\/dt><dd>([^<]*)<\/dd>/g)].map((m) => [m[1], m[2]]);
}

async function counter(site, when) {
  const r = await request(svc.url, 'GET', `/api/v1/visits?site=${site}`, { headers: at(when) });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function historyDays(site) {
  const r = await request(svc.url, 'GET', `/admin/v1/visits?site=${site}&from=2026-10-05&to=2026-10-06`, { headers: AUTH });
  assert.equal(r.status, 200, r.text);
  return r.json.days;
}

test('the page records the view (a cookie for a new reader; the same cookie later is the same visit) and shows the six figures of the widget, this view included', async () => {
  const site = 'nojs';
  const v = new Voter(svc.url);
  let r = await page(`?site=${site}`, T('10:00:00'), { voter: v });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.issued, 'a reader without a cookie gets one');
  assert.match(r.issued.value, COOKIE_RE);
  assert.match(r.text, /<html lang="vi">/);
  assert.deepEqual(figuresOf(r.text), [['Hôm nay', '1'], ['Hôm qua', '0'], ['Tuần này', '1'], ['Tháng này', '1'], ['Tất cả', '1'], ['Đang truy cập', '1']]);
  r = await page(`?site=${site}&lang=vi`, T('10:05:00'), { voter: v });
  assert.equal(r.status, 200);
  assert.equal(r.issued, null, 'a valid cookie is kept');
  assert.deepEqual(figuresOf(r.text).map((f) => f[1]), ['1', '0', '1', '1', '1', '1'], 'the same session: the same visit');
  const c = await counter(site, T('10:05:30'));
  assert.deepEqual([c.today, c.total, c.online], [1, 1, 1]);
  // A reader of the widget and of the page is one reader: the cookie is the same.
  const w = await v.req('POST', `/api/v1/visits?site=${site}`, { headers: { 'user-agent': BROWSER, ...at(T('10:06:00')) } });
  assert.equal(w.status, 200);
  assert.equal(w.json.today, 1, 'the same visit');
  assert.equal((await counter(site, T('10:06:30'))).today, 1);
  assert.deepEqual(await historyDays(site), [{ date: '2026-10-05', visits: 1, visitors: 1, bots: 0 }]);
});

test('numbers as the widget writes them: 1.777.783 in Vietnamese, 1,777,783 in English', async () => {
  const site = 'nojs-fmt';
  const b = await request(svc.url, 'PUT', `/admin/v1/visits/base?site=${site}`,
    { json: { total: 1777782, today: 922, this_week: 6810, this_month: 33198 }, headers: { ...AUTH, ...at(T('09:00:00')) } });
  assert.equal(b.status, 200, b.text);
  let r = await page(`?site=${site}`, T('09:00:10'));
  assert.deepEqual(figuresOf(r.text), [['Hôm nay', '923'], ['Hôm qua', '0'], ['Tuần này', '6.811'],
    ['Tháng này', '33.199'], ['Tất cả', '1.777.783'], ['Đang truy cập', '1']]);
  r = await page(`?site=${site}&lang=en`, T('09:00:20'));
  assert.match(r.text, /<html lang="en">/);
  assert.deepEqual(figuresOf(r.text), [['Today', '924'], ['Yesterday', '0'], ['This week', '6,812'],
    ['This month', '33,200'], ['Total', '1,777,784'], ['Online now', '1']]); // this minute's readers count from the next (a reader sees at least themself)
});

test('lang: en is English; vi, nothing, or anything else (fr, EN, en-US) is Vietnamese', async () => {
  const site = 'nojs-en';
  const cases = [['&lang=en', LABELS_EN, 'en'], ['&lang=vi', LABELS_VI, 'vi'], ['', LABELS_VI, 'vi'],
    ['&lang=fr', LABELS_VI, 'vi'], ['&lang=EN', LABELS_VI, 'vi'], ['&lang=en-US', LABELS_VI, 'vi'], ['&lang=%3Cx%3E', LABELS_VI, 'vi']];
  for (const [q, labels, lang] of cases) {
    const r = await page(`?site=${site}${q}`, T('11:00:00'));
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    assert.match(r.text, new RegExp(`<html lang="${lang}">`), q);
    assert.deepEqual(figuresOf(r.text).map((f) => f[0]), labels, q);
  }
});

test('unknown site: a 404 page naming it, escaped (Vietnamese and English); a query that cannot be read: 400 page', async () => {
  let r = await page('?site=xa-c', T('12:00:00'));
  assert.equal(r.status, 404);
  assert.match(r.text, /Không tìm thấy trang 'xa-c' trong cấu hình bộ đếm\./);
  r = await page('?site=xa-c&lang=en', T('12:00:00'));
  assert.equal(r.status, 404);
  assert.match(r.text, /Unknown counter site 'xa-c'\./);
  r = await page(`?site=${encodeURIComponent('<img src=x onerror=alert(1)>')}`, T('12:00:00'));
  assert.equal(r.status, 404);
  assert.doesNotMatch(r.text, /<img/);
  assert.match(r.text, /'&lt;img src=x onerror=alert\(1\)&gt;'/);
  r = await page('?site=nojs&from=hom-qua', T('12:00:00'));
  assert.equal(r.status, 400);
  assert.match(r.text, /Địa chỉ của bộ đếm không hợp lệ\./);
});

test('Referer: a page of an allowed origin or of the service counts, its query never stored or logged; any other page gets a 403 page and nothing is recorded', async () => {
  const site = 'nojs-ref';
  const secret = 'token=s3cr3t-value';
  let n = 0;
  const rid = () => `nojs-ref-page-${n++}`; // each page's access-log line, by its request id
  let r = await page(`?site=${site}`, T('13:00:00'), { headers: { referer: `${ALLOWED}/tin-tuc/bai-viet-42.html?${secret}`, 'x-request-id': rid() } });
  assert.equal(r.status, 200);
  r = await page(`?site=${site}`, T('13:00:01'), { headers: { referer: `${svc.url}/?${secret}`, 'x-request-id': rid() } });
  assert.equal(r.status, 200);
  for (const referer of ['https://evil.example/bai-viet.html', 'https://bao.example.evil.example/', 'null']) { // "null": no page
    r = await page(`?site=${site}`, T('13:00:02'), { headers: { referer, 'x-request-id': rid() } });
    assert.equal(r.status, 403, referer);
    assert.match(r.text, /Bộ đếm không hiển thị được trên trang này\./);
    assert.deepEqual(r.setCookies.filter((c) => c.name === COOKIE_NAME), [], 'no cookie on a refused page');
  }
  const c = await counter(site, T('13:00:30'));
  assert.equal(c.today, 2, `the two allowed pages only: ${JSON.stringify(c)}`);
  // The access log is buffered per worker (written within 50 ms): wait, bounded, for the 5 pages' lines.
  const logged = () => Array.from({ length: n }, (_, i) => `nojs-ref-page-${i}`)
    .filter((id) => svc.stderr().split('\n').some((l) => / GET \/embed\/visits /.test(l) && l.endsWith(` id=${id}`))).length;
  for (let i = 0; i < 100 && logged() < n; i++) await sleep(20);
  assert.equal(logged(), 5, 'the access log has the 5 pages (debug level)');
  const log = svc.stderr();
  assert.ok(!log.includes('s3cr3t') && !log.includes('bai-viet-42'), 'nothing of the Referer is logged');
  const keys = await redis.cli('KEYS', '*');
  assert.ok(!keys.includes('bai-viet') && !keys.includes('s3cr3t'), `nothing of the Referer is stored: ${keys}`);
});

test('HEAD: the headers of the page, no body, no cookie, no view recorded', async () => {
  const site = 'nojs-head';
  const r = await page(`?site=${site}`, T('14:00:00'), { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.text, '');
  assert.deepEqual(r.setCookies, []);
  const n = await page(`?site=xa-c`, T('14:00:00'), { method: 'HEAD' });
  assert.equal(n.status, 404);
  const c = await counter(site, T('14:00:30'));
  assert.deepEqual([c.today, c.online], [0, 0]);
  assert.deepEqual(await historyDays(site), [{ date: '2026-10-05', visits: 0, visitors: 0, bots: 0 }]);
});

test('robots (curl, Googlebot, HeadlessChrome): the page, no cookie, counted per day apart, not visits', async () => {
  const site = 'nojs-bot';
  for (const ua of ['curl/8.5.0', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36']) {
    const r = await page(`?site=${site}`, T('15:00:00'), { ua });
    assert.equal(r.status, 200, ua);
    assert.deepEqual(r.setCookies, [], `no cookie for ${ua}`);
    assert.deepEqual(figuresOf(r.text).map((f) => f[1]), ['0', '0', '0', '0', '0', '0']);
  }
  assert.deepEqual(await historyDays(site), [{ date: '2026-10-05', visits: 0, visitors: 0, bots: 3 }]);
});

test('Redis down: a 503 page (Vietnamese and English), Retry-After: 1; back to the figures when Redis is back', async () => {
  await redis.stop();
  try {
    for (const [q, text] of [['', 'Chưa tải được số lượt truy cập.'], ['&lang=en', 'The visitor counter could not be loaded.']]) {
      const r = await page(`?site=nojs${q}`, T('16:00:00'));
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '1');
      assert.ok(r.text.includes(text), r.text);
    }
  } finally {
    redis = await startRedis({ port: redis.port });
  }
  let r;
  for (let i = 0; i < 100; i++) {
    r = await page('?site=nojs', T('16:01:00'));
    if (r.status === 200) break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.equal(r.status, 200, 'the page comes back with Redis (bounded: 10 s)');
});

test('graceful stop: exits 0 without sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
