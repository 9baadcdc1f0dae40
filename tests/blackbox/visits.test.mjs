// The visitor counter ("Truy cập"), black-box: POST/GET /api/v1/visits and the admin history and
// bases, against a real redis-server and a real thamdo. Every time-dependent case runs on the
// test clock (THAMDO_MODE=test THAMDO_TEST_CLOCK=true, header X-Thamdo-Test-Now) in the zone
// Asia/Ho_Chi_Minh (+07:00, no daylight saving time):
// - local day boundary (a UTC date that differs from the local date), ISO week (Monday first),
//   a month that starts mid-week, the year's end inside ISO week 2026-W53, yesterday after an
//   empty day;
// - the session window (30 minutes, sliding; THAMDO_VISIT_SESSION_MINUTES=5), hits mode, a
//   reader without cookies;
// - online readers by minute buckets: the whole minutes before the current one (THAMDO_ONLINE_MINUTES,
//   default 5 and 2);
// - bases (total, today, this week, this month: stored, replaced, cleared, period-bound; 400s, 401);
// - two sites apart, unknown site; robots; the per-day history (JSON, CSV); 1,000 concurrent
//   visits counted exactly; the Origin check.
// Each case counts on its own site key so that the cases do not see each other's visits.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, request, rawRequest, Voter, assertError, assertJsonHeaders,
  COOKIE_NAME, COOKIE_RE,
} from './lib/harness.mjs';
import { validateResponse } from './lib/openapi.mjs';

const TOKEN = 'visits-blackbox-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0';
const ALLOWED = 'https://bao.example';
const EVIL = 'https://evil.example';
const ZONE = 'Asia/Ho_Chi_Minh';

// Sites of the main instance (default session mode, 30 minutes, online 5 minutes).
const MAIN_SITES = ['mid', 'utc', 'wk', 'mo', 'ye', 'gap', 'sess', 'slide', 'nc', 'on', 'base',
  'bot', 'hist', 'load', 'org'];

let redis;
let main; // session mode, 30 minutes, online 5 minutes
let short; // THAMDO_VISIT_SESSION_MINUTES=5, THAMDO_ONLINE_MINUTES=2 (sites s5, o2)
let hits; // THAMDO_VISIT_MODE=hits (sites h1, h2)
let two; // THAMDO_SITES=xa-a,xa-b

const COMMON = {
  THAMDO_MODE: 'test',
  THAMDO_TEST_CLOCK: 'true',
  THAMDO_ADMIN_TOKENS: TOKEN,
  THAMDO_ALLOWED_ORIGINS: ALLOWED,
  THAMDO_TIMEZONE: ZONE,
};

before(async () => {
  redis = await startRedis();
  [main, short, hits, two] = await Promise.all([
    startThamdo({ redis, polls: [], env: { ...COMMON, THAMDO_SITES: MAIN_SITES.join(',') } }),
    startThamdo({ redis, polls: [], env: { ...COMMON, THAMDO_SITES: 's5,o2', THAMDO_VISIT_SESSION_MINUTES: '5', THAMDO_ONLINE_MINUTES: '2' } }),
    startThamdo({ redis, polls: [], env: { ...COMMON, THAMDO_SITES: 'h1,h2', THAMDO_VISIT_MODE: 'hits' } }),
    startThamdo({ redis, polls: [], env: { ...COMMON, THAMDO_SITES: 'xa-a,xa-b' } }),
  ]);
});

// ---------------------------------------------------------------- helpers
const at = (when) => ({ 'x-thamdo-test-now': when });
const q = (site) => (site === undefined ? '' : `?site=${encodeURIComponent(site)}`);

// A reader without a cookie is known by a daily-salted hash of address, User-Agent and site (one
// visit per session): every reader of these cases comes from 127.0.0.1, so each has a browser
// of its own (a Voter keeps its User-Agent), and each cookie-less view without a `ua` is a new
// reader's.
let browsers = 0;
const newBrowser = () => `${BROWSER} reader/${++browsers}`;

/**
 * One page view. voter: a Voter (its cookie is sent and kept); without one, no cookie is sent
 * (a new reader). Asserts 200 with the figures; returns the response.
 */
async function view(svc, site, when, { voter, ua, headers = {} } = {}) {
  if (voter) voter.ua ??= newBrowser();
  ua ??= voter ? voter.ua : newBrowser();
  const p = `/api/v1/visits${q(site)}`;
  const opts = { headers: { 'user-agent': ua, ...at(when), ...headers } };
  const r = voter ? await voter.req('POST', p, { ...opts, base: svc.url }) : await request(svc.url, 'POST', p, opts);
  assert.equal(r.status, 200, `POST ${p} at ${when}: ${r.status} ${r.text}`);
  assertJsonHeaders(r, 'POST visits');
  assert.deepEqual(Object.keys(r.json).sort(),
    ['online', 'site', 'this_month', 'this_week', 'today', 'total', 'yesterday'], r.text);
  assert.match(r.headers.get('cache-control') || '', /\bno-store\b/, 'POST visits: Cache-Control');
  return r;
}

/** A new reader (no cookie) viewing `n` times at `when`, each a new reader. */
async function newReaders(svc, site, when, n) {
  for (let i = 0; i < n; i++) await view(svc, site, when);
}

/** GET /api/v1/visits at `when`; asserts 200, JSON headers and the exact key set; returns the body. */
async function counter(svc, site, when) {
  const r = await request(svc.url, 'GET', `/api/v1/visits${q(site)}`, { headers: at(when) });
  assert.equal(r.status, 200, `GET visits${q(site)} at ${when}: ${r.text}`);
  assertJsonHeaders(r, 'GET visits');
  assert.deepEqual(Object.keys(r.json).sort(),
    ['online', 'site', 'this_month', 'this_week', 'today', 'total', 'yesterday'], r.text);
  for (const k of ['today', 'yesterday', 'this_week', 'this_month', 'total', 'online']) {
    assert.ok(Number.isInteger(r.json[k]) && r.json[k] >= 0, `${k} is not a whole number: ${r.text}`);
  }
  return r.json;
}

/** Asserts the counter at `when` equals `expected` (every field given; `site` is added). */
async function expectCounter(svc, site, when, expected, what = '') {
  const got = await counter(svc, site, when);
  const want = { site: expected.site ?? site, ...expected };
  const pick = Object.fromEntries(Object.keys(want).map((k) => [k, got[k]]));
  assert.deepEqual(pick, want, `${what} counter of ${site ?? '(default)'} at ${when}: got ${JSON.stringify(got)}`);
  return got;
}

const admin = (svc, method, p, opts = {}) => request(svc.url, method, p, { ...opts, headers: { ...AUTH, ...(opts.headers || {}) } });

/** GET /admin/v1/visits (JSON); asserts 200 and the shape; returns the body. */
async function history(svc, query, when) {
  const r = await admin(svc, 'GET', `/admin/v1/visits${query}`, { headers: when ? at(when) : {} });
  assert.equal(r.status, 200, `GET /admin/v1/visits${query}: ${r.text}`);
  assertJsonHeaders(r, 'history');
  assert.deepEqual(Object.keys(r.json).sort(), ['bases', 'days', 'site', 'sites', 'time_zone'], r.text);
  assert.equal(r.json.time_zone, ZONE);
  for (const d of r.json.days) assert.deepEqual(Object.keys(d).sort(), ['bots', 'date', 'visitors', 'visits'], JSON.stringify(d));
  return r.json;
}

const day = (date, visits, visitors, bots) => ({ date, visits, visitors, bots });

async function putBase(svc, site, body, when, headers = {}) {
  return admin(svc, 'PUT', `/admin/v1/visits/base${q(site)}`, { json: body, headers: { ...at(when), ...headers } });
}

/** Sends a raw HTTP/1.1 request (for a missing or empty User-Agent, which fetch cannot send). */
async function rawPost(svc, urlPath, headerLines) {
  const lines = [`POST ${urlPath} HTTP/1.1`, `Host: ${svc.host}:${svc.port}`, 'Connection: close',
    'Content-Length: 0', ...headerLines, '', ''];
  return rawRequest(svc.url, lines.join('\r\n'), { timeout: 5000 });
}

// ---------------------------------------------------------------- calendar
test('local midnight: 23:50+07:00 and 00:10+07:00 the next day are two days (both are the same UTC date)', async () => {
  const site = 'mid';
  // 2026-03-10T23:50:00+07:00 = 16:50Z and 2026-03-11T00:10:00+07:00 = 17:10Z: one UTC date
  // (March 10), two local days.
  await view(main, site, '2026-03-10T23:50:00+07:00');
  await expectCounter(main, site, '2026-03-10T23:59:59+07:00',
    { today: 1, yesterday: 0, this_week: 1, this_month: 1, total: 1, online: 0 }, 'before midnight');
  await view(main, site, '2026-03-11T00:10:00+07:00'); // another reader (no cookie)
  await expectCounter(main, site, '2026-03-11T00:10:30+07:00',
    { today: 1, yesterday: 1, this_week: 2, this_month: 2, total: 2, online: 0 }, 'after midnight');
  // The same instant written in UTC.
  await expectCounter(main, site, '2026-03-10T17:10:30Z',
    { today: 1, yesterday: 1, this_week: 2, this_month: 2, total: 2, online: 0 }, 'after midnight, UTC spelling');
  const h = await history(main, `?site=${site}&from=2026-03-10&to=2026-03-12`, '2026-03-11T00:11:00+07:00');
  assert.deepEqual(h.days, [day('2026-03-10', 1, 1, 0), day('2026-03-11', 1, 1, 0)]);
});

test('the local day, not the UTC date: 00:30+07:00 (17:30Z the day before) and 06:59:59+07:00 are today', async () => {
  const site = 'utc';
  await view(main, site, '2026-03-10T16:59:59Z'); // 23:59:59 local, March 10
  await view(main, site, '2026-03-10T17:30:00Z'); // 00:30 local, March 11 (UTC date March 10)
  await view(main, site, '2026-03-11T06:59:59+07:00'); // 23:59:59Z March 10, local March 11
  await view(main, site, '2026-03-11T07:00:00+07:00'); // 00:00Z March 11
  await expectCounter(main, site, '2026-03-11T00:00:30Z',
    { today: 3, yesterday: 1, this_week: 4, this_month: 4, total: 4, online: 1 }, '07:00:30 local (the reader of 06:59:59)');
  const h = await history(main, `?site=${site}&from=2026-03-10&to=2026-03-12`, '2026-03-11T00:01:00Z');
  assert.deepEqual(h.days, [day('2026-03-10', 1, 1, 0), day('2026-03-11', 3, 3, 0)]);
});

test('ISO week, Monday first: Sunday 23:59+07:00 and Monday 00:01+07:00 are two weeks', async () => {
  const site = 'wk';
  await view(main, site, '2026-03-08T23:59:59+07:00'); // Sunday, 2026-W10
  await view(main, site, '2026-03-09T00:00:00+07:00'); // Monday, 2026-W11 (a Sunday in UTC)
  await expectCounter(main, site, '2026-03-09T00:00:30+07:00',
    { today: 1, yesterday: 1, this_week: 1, this_month: 2, total: 2, online: 1 }, 'Monday of W11');
  await view(main, site, '2026-03-15T23:59:00+07:00'); // Sunday, last day of W11
  await expectCounter(main, site, '2026-03-15T23:59:30+07:00',
    { today: 1, yesterday: 0, this_week: 2, this_month: 3, total: 3, online: 0 }, 'Sunday of W11');
  await view(main, site, '2026-03-16T00:01:00+07:00'); // Monday, W12
  await expectCounter(main, site, '2026-03-16T00:01:30+07:00',
    { today: 1, yesterday: 1, this_week: 1, this_month: 4, total: 4, online: 1 }, 'Monday of W12');
});

test('a month that starts mid-week: Sep 30 and Oct 1 2026 (a Thursday) share the week, not the month', async () => {
  const site = 'mo';
  await view(main, site, '2026-09-27T12:00:00+07:00'); // Sunday, 2026-W39
  await view(main, site, '2026-09-28T00:00:00+07:00'); // Monday, 2026-W40
  await view(main, site, '2026-09-30T23:59:59+07:00'); // Wednesday
  await expectCounter(main, site, '2026-09-30T23:59:59+07:00',
    { today: 1, yesterday: 0, this_week: 2, this_month: 3, total: 3, online: 0 }, 'September 30');
  await view(main, site, '2026-10-01T00:00:00+07:00'); // Thursday (17:00Z September 30)
  await expectCounter(main, site, '2026-10-01T10:00:00+07:00',
    { today: 1, yesterday: 1, this_week: 3, this_month: 1, total: 4, online: 0 }, 'October 1');
});

test('the year\'s end: Dec 31 2026 → Jan 1 2027 stays in ISO week 2026-W53; Monday Jan 4 starts 2027-W01', async () => {
  const site = 'ye';
  await view(main, site, '2026-12-28T09:00:00+07:00'); // Monday, 2026-W53
  await view(main, site, '2026-12-31T23:59:00+07:00'); // Thursday
  await view(main, site, '2027-01-01T00:00:30+07:00'); // Friday (17:00:30Z December 31), still 2026-W53
  await expectCounter(main, site, '2027-01-01T00:01:00+07:00',
    { today: 1, yesterday: 1, this_week: 3, this_month: 1, total: 3, online: 2 }, 'January 1');
  await view(main, site, '2027-01-03T23:59:59+07:00'); // Sunday, last day of 2026-W53
  await expectCounter(main, site, '2027-01-03T23:59:59+07:00',
    { today: 1, yesterday: 0, this_week: 4, this_month: 2, total: 4, online: 0 }, 'January 3');
  await expectCounter(main, site, '2027-01-04T00:00:00+07:00',
    { today: 0, yesterday: 1, this_week: 0, this_month: 2, total: 4, online: 1 }, 'January 4 (2027-W01)');
  const h = await history(main, `?site=${site}&from=2026-12-30&to=2027-01-05`, '2027-01-04T00:00:00+07:00');
  assert.deepEqual(h.days, [day('2026-12-30', 0, 0, 0), day('2026-12-31', 1, 1, 0), day('2027-01-01', 1, 1, 0),
    day('2027-01-02', 0, 0, 0), day('2027-01-03', 1, 1, 0), day('2027-01-04', 0, 0, 0)]);
});

test('yesterday: the previous local day only (day 1 visits, day 2 none: read on day 2 and day 3)', async () => {
  const site = 'gap';
  await view(main, site, '2026-05-04T10:00:00+07:00');
  await view(main, site, '2026-05-04T11:00:00+07:00');
  await view(main, site, '2026-05-04T12:00:00+07:00');
  await expectCounter(main, site, '2026-05-04T12:00:30+07:00',
    { today: 3, yesterday: 0, this_week: 3, this_month: 3, total: 3, online: 0 }, 'day 1');
  await expectCounter(main, site, '2026-05-05T12:00:00+07:00',
    { today: 0, yesterday: 3, this_week: 3, this_month: 3, total: 3, online: 0 }, 'day 2');
  await expectCounter(main, site, '2026-05-06T12:00:00+07:00',
    { today: 0, yesterday: 0, this_week: 3, this_month: 3, total: 3, online: 0 }, 'day 3');
});

// ---------------------------------------------------------------- sessions
test('session window (30 min): the same cookie at t, t+10, t+29 is one visit; 31 min idle (t+60) is a new visit', async () => {
  const site = 'sess';
  const v = new Voter(main.url);
  const first = await view(main, site, '2026-06-01T10:00:00+07:00', { voter: v });
  assert.ok(first.issued, 'the first view sets the voter cookie');
  assert.match(first.issued.value, COOKIE_RE);
  for (const t of ['2026-06-01T10:10:00+07:00', '2026-06-01T10:29:00+07:00']) {
    const r = await view(main, site, t, { voter: v });
    assert.equal(r.issued, null, `no new cookie at ${t}`);
  }
  await expectCounter(main, site, '2026-06-01T10:29:30+07:00',
    { today: 1, yesterday: 0, this_week: 1, this_month: 1, total: 1, online: 0 }, 'within the session');
  // 31 minutes after the last view (60 after the first): the session is over.
  await view(main, site, '2026-06-01T11:00:00+07:00', { voter: v });
  await expectCounter(main, site, '2026-06-01T11:00:30+07:00',
    { today: 2, yesterday: 0, this_week: 2, this_month: 2, total: 2, online: 0 }, 'after 31 idle minutes');
  await view(main, site, '2026-06-01T11:01:00+07:00', { voter: v });
  await expectCounter(main, site, '2026-06-01T11:01:30+07:00',
    { today: 2, yesterday: 0, this_week: 2, this_month: 2, total: 2, online: 1 }, 'the new session goes on');
  const h = await history(main, `?site=${site}&from=2026-06-01&to=2026-06-02`, '2026-06-01T12:00:00+07:00');
  assert.deepEqual(h.days, [day('2026-06-01', 2, 1, 0)]);
});

test('session window slides: views 25 min apart for 75 min are one visit (30 min default)', async () => {
  const site = 'slide';
  const v = new Voter(main.url);
  for (const t of ['13:00', '13:25', '13:50', '14:15']) await view(main, site, `2026-06-01T${t}:00+07:00`, { voter: v });
  await expectCounter(main, site, '2026-06-01T14:15:30+07:00',
    { today: 1, yesterday: 0, this_week: 1, this_month: 1, total: 1, online: 0 }, 'sliding session');
  // 6 minutes idle: still the same visit with the default 30-minute window.
  const w = new Voter(main.url);
  for (const t of ['15:00', '15:06', '15:20']) await view(main, site, `2026-06-01T${t}:00+07:00`, { voter: w });
  await expectCounter(main, site, '2026-06-01T15:20:30+07:00',
    { today: 2, yesterday: 0, this_week: 2, this_month: 2, total: 2, online: 0 }, 'second reader, one visit');
});

test('THAMDO_VISIT_SESSION_MINUTES=5: 4 min later the same visit, 6 min idle a new one', async () => {
  const site = 's5';
  const v = new Voter(short.url);
  await view(short, site, '2026-06-02T10:00:00+07:00', { voter: v });
  await view(short, site, '2026-06-02T10:04:00+07:00', { voter: v });
  await view(short, site, '2026-06-02T10:08:00+07:00', { voter: v }); // 4 min after the last: slides
  await expectCounter(short, site, '2026-06-02T10:08:30+07:00',
    { today: 1, yesterday: 0, this_week: 1, this_month: 1, total: 1, online: 0 }, '5-minute window, sliding');
  await view(short, site, '2026-06-02T10:14:00+07:00', { voter: v }); // 6 idle minutes
  await expectCounter(short, site, '2026-06-02T10:14:30+07:00',
    { today: 2, yesterday: 0, this_week: 2, this_month: 2, total: 2, online: 0 }, 'after 6 idle minutes');
});

test('THAMDO_ONLINE_MINUTES=2: a reader counts in the two whole minutes after its own only', async () => {
  const site = 'o2';
  const v = new Voter(short.url);
  await view(short, site, '2026-06-03T09:00:10+07:00', { voter: v });
  const c = { today: 1, yesterday: 0, this_week: 1, this_month: 1, total: 1 };
  await expectCounter(short, site, '2026-06-03T09:00:50+07:00', { ...c, online: 0 }, 'minute m');
  await expectCounter(short, site, '2026-06-03T09:01:00+07:00', { ...c, online: 1 }, 'minute m+1');
  await expectCounter(short, site, '2026-06-03T09:02:59+07:00', { ...c, online: 1 }, 'minute m+2');
  await expectCounter(short, site, '2026-06-03T09:03:00+07:00', { ...c, online: 0 }, 'minute m+3');
});

test('hits mode: every view counts, the same cookie too; visitors stay distinct readers', async () => {
  const site = 'h1';
  const v = new Voter(hits.url);
  await view(hits, site, '2026-06-03T10:00:00+07:00', { voter: v });
  await view(hits, site, '2026-06-03T10:00:10+07:00', { voter: v });
  await view(hits, site, '2026-06-03T10:01:00+07:00', { voter: v });
  await view(hits, site, '2026-06-03T10:01:30+07:00'); // another reader
  await expectCounter(hits, site, '2026-06-03T10:02:00+07:00',
    { today: 4, yesterday: 0, this_week: 4, this_month: 4, total: 4, online: 2 }, 'hits');
  const h = await history(hits, `?site=${site}&from=2026-06-03&to=2026-06-04`, '2026-06-03T10:02:00+07:00');
  assert.deepEqual(h.days, [day('2026-06-03', 4, 2, 0)]);
});

test('a reader without cookie: one visit per session (its cookie-less id), a Set-Cookie on every view; the first cookie is the same visit', async () => {
  const site = 'nc';
  const ua = newBrowser();
  const issued = [];
  for (let i = 0; i < 3; i++) {
    const r = await view(main, site, `2026-06-05T10:00:0${i}+07:00`, { ua });
    const c = r.setCookies.filter((x) => x.name === COOKIE_NAME);
    assert.equal(c.length, 1, `view ${i}: one ${COOKIE_NAME} Set-Cookie: ${JSON.stringify(r.setCookies)}`);
    assert.match(c[0].value, COOKIE_RE);
    issued.push(c[0].value);
  }
  assert.equal(new Set(issued).size, 3, 'three different voter ids');
  await expectCounter(main, site, '2026-06-05T10:01:00+07:00',
    { today: 1, yesterday: 0, this_week: 1, this_month: 1, total: 1, online: 1 }, 'three cookie-less views');
  const v0 = new Voter(main.url, { cookie: issued[0] });
  v0.ua = ua;
  const again = await view(main, site, '2026-06-05T10:05:00+07:00', { voter: v0 });
  assert.equal(again.issued, null, 'a valid cookie is not replaced');
  await expectCounter(main, site, '2026-06-05T10:05:30+07:00',
    { today: 1, yesterday: 0, this_week: 1, this_month: 1, total: 1, online: 1 }, 'the first cookie came back');
  // 30 minutes after its last view, the cookie-less reader starts a new visit.
  await view(main, site, '2026-06-05T10:40:00+07:00', { ua });
  await expectCounter(main, site, '2026-06-05T10:40:30+07:00',
    { today: 2, yesterday: 0, this_week: 2, this_month: 2, total: 2, online: 0 }, 'a new session');
  const h = await history(main, `?site=${site}&from=2026-06-05&to=2026-06-06`, '2026-06-05T10:41:00+07:00');
  assert.deepEqual(h.days, [day('2026-06-05', 2, 2, 0)]);
});

// ---------------------------------------------------------------- online
test('online: the distinct readers of the 5 whole minutes before the current one (a reader of minute m counts from m+1 to m+5)', async () => {
  const site = 'on';
  const r = [new Voter(main.url), new Voter(main.url), new Voter(main.url), new Voter(main.url)];
  await view(main, site, '2026-07-01T10:00:10+07:00', { voter: r[0] });
  await view(main, site, '2026-07-01T10:00:20+07:00', { voter: r[1] });
  await view(main, site, '2026-07-01T10:00:30+07:00', { voter: r[2] });
  const c = (today) => ({ today, yesterday: 0, this_week: today, this_month: today, total: today });
  await expectCounter(main, site, '2026-07-01T10:00:40+07:00', { ...c(3), online: 0 }, 'm (counted from m+1)');
  await expectCounter(main, site, '2026-07-01T10:01:00+07:00', { ...c(3), online: 3 }, 'm+1');
  await view(main, site, '2026-07-01T10:02:05+07:00', { voter: r[3] });
  await expectCounter(main, site, '2026-07-01T10:02:10+07:00', { ...c(4), online: 3 }, 'm+2 (the reader of m+2 not yet)');
  await view(main, site, '2026-07-01T10:03:00+07:00', { voter: r[0] }); // seen again: same visit, same reader
  await expectCounter(main, site, '2026-07-01T10:03:10+07:00', { ...c(4), online: 4 }, 'm+3');
  await expectCounter(main, site, '2026-07-01T10:05:59+07:00', { ...c(4), online: 4 }, 'm+5 (last minute of m)');
  await expectCounter(main, site, '2026-07-01T10:06:00+07:00', { ...c(4), online: 2 }, 'm+6 (m+2 and m+3 remain)');
  await expectCounter(main, site, '2026-07-01T10:07:59+07:00', { ...c(4), online: 2 }, 'm+7');
  await expectCounter(main, site, '2026-07-01T10:08:00+07:00', { ...c(4), online: 1 }, 'm+8 (m+3 remains)');
  await expectCounter(main, site, '2026-07-01T10:09:00+07:00', { ...c(4), online: 0 }, 'm+9');
});

// ---------------------------------------------------------------- bases
test('bases: total replaced not added, today/week/month bases for their period only, null clears', async () => {
  const site = 'base';
  const D1 = '2026-08-12T09:00:00+07:00'; // Wednesday, 2026-W33
  // The reads after a PUT ask for another second than the reads before it: a worker that did not
  // take the PUT may keep the figures of a second it already fetched (for at most a second).
  const D1b = '2026-08-12T09:00:01+07:00';
  const D1c = '2026-08-12T09:00:02+07:00';
  await view(main, site, '2026-08-12T08:00:00+07:00');
  await view(main, site, '2026-08-12T08:30:00+07:00');
  const c0 = { today: 2, yesterday: 0, this_week: 2, this_month: 2, total: 2, online: 0 };
  await expectCounter(main, site, D1, c0, 'before any base');

  // No token, a wrong token: 401, nothing stored.
  for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token-wrong' }]) {
    const r = await request(main.url, 'PUT', `/admin/v1/visits/base?site=${site}`, { json: { total: 5 }, headers: { ...headers, ...at(D1) } });
    assertError(r, 401, 'unauthorized');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="thamdo admin"');
  }
  assertError(await request(main.url, 'GET', `/admin/v1/visits?site=${site}`), 401, 'unauthorized');
  await expectCounter(main, site, D1, c0, 'after refused PUTs');

  let r = await putBase(main, site, { total: 1777782 }, D1);
  assert.equal(r.status, 200, r.text);
  assertJsonHeaders(r, 'PUT base');
  assert.deepEqual(r.json, { site, ...c0, total: 1777784 }, 'PUT answers the counter');
  r = await putBase(main, site, { total: 1777800 }, D1);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { site, ...c0, total: 1777802 }, 'the second total base replaces the first');
  await expectCounter(main, site, D1b, { ...c0, total: 1777802 }, 'GET after the total base');

  r = await putBase(main, site, { today: 923, this_week: 6811, this_month: 33199 }, D1);
  assert.equal(r.status, 200, r.text);
  const c1 = { today: 925, yesterday: 0, this_week: 6813, this_month: 33201, total: 1777802, online: 0 };
  assert.deepEqual(r.json, { site, ...c1 });
  r = await putBase(main, site, { today: 900 }, D1);
  assert.deepEqual(r.json, { site, ...c1, today: 902 }, 'today base replaced');
  r = await putBase(main, site, { today: 923 }, D1);
  assert.deepEqual(r.json, { site, ...c1 });

  // Refused bodies: 400 and nothing stored (not even the valid part).
  const bad = [{ total: -1 }, { total: 1.5 }, { total: '100' }, { total: true }, { total: [1] }, { yesterday: 5 },
    { online: 1 }, { total: 5, today: -1 }, { total: 5, hom_nay: 1 }];
  for (const b of bad) assertError(await putBase(main, site, b, D1), 400, 'invalid_base');
  for (const raw of ['{', '[1,2]', '"total"', '{}']) assertError(await putBase(main, site, raw, D1), 400, 'invalid_json');
  await expectCounter(main, site, D1c, c1, 'after refused bodies');

  const h = await history(main, `?site=${site}&from=2026-08-12&to=2026-08-13`, D1);
  assert.deepEqual(h.bases, { total: 1777800, 'day:2026-08-12': 923, 'week:2026-W33': 6811, 'month:2026-08': 33199 });
  assert.deepEqual(h.days, [day('2026-08-12', 2, 2, 0)], 'bases are not in the per-day history');

  // Next day: the day base is gone, the week and month bases remain.
  await view(main, site, '2026-08-13T10:00:00+07:00');
  const next = await counter(main, site, '2026-08-13T10:00:30+07:00');
  assert.deepEqual({ today: next.today, this_week: next.this_week, this_month: next.this_month, total: next.total, online: next.online },
    { today: 1, this_week: 6814, this_month: 33202, total: 1777803, online: 0 }, `next day: ${JSON.stringify(next)}`);
  // Sunday: still the week of the base; Monday: a new week.
  const sun = await counter(main, site, '2026-08-16T23:59:59+07:00');
  assert.deepEqual([sun.today, sun.this_week, sun.this_month, sun.total], [0, 6814, 33202, 1777803], `Sunday: ${JSON.stringify(sun)}`);
  await expectCounter(main, site, '2026-08-17T00:00:00+07:00',
    { today: 0, yesterday: 0, this_week: 0, this_month: 33202, total: 1777803, online: 0 }, 'Monday 2026-W34');
  await expectCounter(main, site, '2026-09-01T00:00:00+07:00',
    { today: 0, yesterday: 0, this_week: 0, this_month: 0, total: 1777803, online: 0 }, 'September');

  // null clears the total base.
  r = await putBase(main, site, { total: null }, '2026-09-01T00:00:00+07:00');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { site, today: 0, yesterday: 0, this_week: 0, this_month: 0, total: 3, online: 0 });
  const h2 = await history(main, `?site=${site}&from=2026-08-12&to=2026-08-14`, '2026-09-01T00:00:00+07:00');
  assert.equal(h2.bases.total, undefined, `total base cleared: ${JSON.stringify(h2.bases)}`);
  assert.deepEqual(h2.days, [day('2026-08-12', 2, 2, 0), day('2026-08-13', 1, 1, 0)]);
});

// ---------------------------------------------------------------- sites
test('two sites (THAMDO_SITES=xa-a,xa-b) are counted apart; the first is the default; unknown site → 400', async () => {
  const T = '2026-07-10T10:00:00+07:00';
  await newReaders(two, 'xa-b', T, 3);
  await view(two, undefined, T); // the default site: xa-a
  await view(two, 'xa-a', T);
  const a = { today: 2, yesterday: 0, this_week: 2, this_month: 2, total: 2, online: 2 };
  await expectCounter(two, 'xa-a', '2026-07-10T10:01:00+07:00', a, 'xa-a');
  await expectCounter(two, undefined, '2026-07-10T10:01:00+07:00', { site: 'xa-a', ...a }, 'default site');
  await expectCounter(two, 'xa-b', '2026-07-10T10:01:00+07:00',
    { today: 3, yesterday: 0, this_week: 3, this_month: 3, total: 3, online: 3 }, 'xa-b');

  for (const s of ['xa-c', 'default', 'XA-A', '', 'xa-a,xa-b']) {
    assertError(await request(two.url, 'POST', `/api/v1/visits?site=${encodeURIComponent(s)}`,
      { headers: { 'user-agent': BROWSER, ...at(T) } }), 400, 'unknown_site');
    assertError(await request(two.url, 'GET', `/api/v1/visits?site=${encodeURIComponent(s)}`, { headers: at(T) }), 400, 'unknown_site');
  }
  assertError(await admin(two, 'GET', '/admin/v1/visits?site=xa-c'), 400, 'unknown_site');
  assertError(await putBase(two, 'xa-c', { total: 1 }, T), 400, 'unknown_site');
  await expectCounter(two, 'xa-a', '2026-07-10T10:01:40+07:00', a, 'xa-a after refused POSTs');

  // A base of xa-b stays on xa-b.
  const r = await putBase(two, 'xa-b', { total: 100, today: 10 }, T);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.site, 'xa-b');
  assert.equal(r.json.total, 103);
  assert.equal(r.json.today, 13);
  await expectCounter(two, 'xa-a', '2026-07-10T10:01:40+07:00', a, 'xa-a after a base on xa-b');
  const ha = await history(two, '?site=xa-a&from=2026-07-10&to=2026-07-11', T);
  const hb = await history(two, '?site=xa-b&from=2026-07-10&to=2026-07-11', T);
  const hd = await history(two, '?from=2026-07-10&to=2026-07-11', T);
  assert.equal(ha.site, 'xa-a');
  assert.equal(hd.site, 'xa-a');
  assert.deepEqual(hd.sites, ['xa-a', 'xa-b'], 'the history lists every site, the default first');
  assert.deepEqual(ha.days, [day('2026-07-10', 2, 2, 0)]);
  assert.deepEqual(hd.days, ha.days);
  assert.deepEqual(ha.bases, {});
  assert.deepEqual(hb.days, [day('2026-07-10', 3, 3, 0)]);
  assert.deepEqual(hb.bases, { total: 100, 'day:2026-07-10': 10 });
});

// ---------------------------------------------------------------- robots
test('robots (Googlebot, curl, wget, python-requests, empty and missing User-Agent): the figures, not visits, counted as bots', async () => {
  const site = 'bot';
  const T = '2026-07-20T10:00:00+07:00';
  const uas = [
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'curl/8.5.0',
    'Wget/1.21.4',
    'python-requests/2.31.0',
  ];
  for (const ua of uas) {
    const r = await view(main, site, T, { ua });
    assert.deepEqual(r.setCookies.filter((c) => c.name === COOKIE_NAME), [], `a robot (${ua}) gets no voter cookie`);
  }
  for (const uaLine of [[], ['User-Agent: ']]) {
    const r = await rawPost(main, `/api/v1/visits?site=${site}`, [`X-Thamdo-Test-Now: ${T}`, ...uaLine]);
    assert.equal(r.status, 200, `User-Agent ${uaLine.length ? 'empty' : 'missing'}: ${r.raw}`);
    assert.doesNotMatch(r.raw, /set-cookie:\s*thamdo_vid=/i, 'no voter cookie for a robot');
  }
  await expectCounter(main, site, '2026-07-20T10:00:30+07:00',
    { today: 0, yesterday: 0, this_week: 0, this_month: 0, total: 0, online: 0 }, 'robots only');
  await view(main, site, '2026-07-20T10:01:00+07:00');
  await expectCounter(main, site, '2026-07-20T10:02:00+07:00',
    { today: 1, yesterday: 0, this_week: 1, this_month: 1, total: 1, online: 1 }, 'one reader');
  const h = await history(main, `?site=${site}&from=2026-07-20&to=2026-07-21`, '2026-07-20T10:02:00+07:00');
  assert.deepEqual(h.days, [day('2026-07-20', 1, 1, 6)]);
});

// ---------------------------------------------------------------- history
test('history: dense days with visits, visitors and bots; default range; CSV (BOM, header, rows; lang=en)', async () => {
  const site = 'hist';
  const A = new Voter(main.url);
  const B = new Voter(main.url);
  const D = new Voter(main.url);
  // 2026-02-02: A (twice, one visit), B, a cookie-less reader, one robot → 3 visits, 3 visitors, 1 bot.
  await view(main, site, '2026-02-02T10:00:00+07:00', { voter: A });
  await view(main, site, '2026-02-02T10:05:00+07:00', { voter: A });
  await view(main, site, '2026-02-02T11:00:00+07:00', { voter: B });
  await view(main, site, '2026-02-02T12:00:00+07:00');
  await view(main, site, '2026-02-02T12:30:00+07:00', { ua: 'Mozilla/5.0 (compatible; bingbot/2.0)' });
  // 2026-02-03: nothing.
  // 2026-02-04: E at 09:00, D at 23:50, two robots → 2 visits, 2 visitors, 2 bots.
  await view(main, site, '2026-02-04T09:00:00+07:00');
  await view(main, site, '2026-02-04T23:50:00+07:00', { voter: D });
  await view(main, site, '2026-02-04T23:51:00+07:00', { ua: 'UptimeRobot/2.0' });
  await view(main, site, '2026-02-04T23:52:00+07:00', { ua: 'Go-http-client/1.1' });
  // 2026-02-05: D at 00:05 (15 min later: the visit of the day before goes on), F → 1 visit, 2 visitors.
  await view(main, site, '2026-02-05T00:05:00+07:00', { voter: D });
  await view(main, site, '2026-02-05T08:00:00+07:00');

  const NOW = '2026-02-05T12:00:00+07:00';
  const expected = [day('2026-02-02', 3, 3, 1), day('2026-02-03', 0, 0, 0), day('2026-02-04', 2, 2, 2), day('2026-02-05', 1, 2, 0)];
  let h = await history(main, `?site=${site}&from=2026-02-01&to=2026-02-06`, NOW);
  assert.equal(h.site, site);
  assert.deepEqual(h.bases, {});
  assert.deepEqual(h.days, [day('2026-02-01', 0, 0, 0), ...expected]);
  h = await history(main, `?site=${site}`, NOW); // default: the first recorded day to the end of today
  assert.deepEqual(h.days, expected);
  h = await history(main, `?site=${site}&from=2026-02-03`, NOW);
  assert.deepEqual(h.days, expected.slice(1));
  h = await history(main, `?site=${site}&from=2026-02-04&to=2026-02-08`, NOW);
  assert.deepEqual(h.days, [...expected.slice(2), day('2026-02-06', 0, 0, 0), day('2026-02-07', 0, 0, 0)]);
  h = await history(main, `?site=${site}&from=2026-02-03T17:00:00Z&to=2026-02-05T00:00:00%2B07:00`, NOW); // RFC 3339 bounds
  assert.deepEqual(h.days, expected.slice(2, 3));
  await expectCounter(main, site, NOW, { today: 1, yesterday: 2, this_week: 6, this_month: 6, total: 6, online: 0 }, 'counter');

  assertError(await admin(main, 'GET', `/admin/v1/visits?site=${site}&from=2026-02-05&to=2026-02-01`), 400, 'invalid_parameter');
  assertError(await admin(main, 'GET', `/admin/v1/visits?site=${site}&from=hom-qua`), 400, 'invalid_parameter');

  // CSV, read as bytes (fetch's text() drops the BOM); validated against the description by hand.
  const rows = expected.map((d) => `${d.date},${d.visits},${d.visitors},${d.bots}\r\n`).join('');
  const cases = [
    [`?site=${site}&from=2026-02-02&to=2026-02-06&format=csv`, {}, 'Ngày,Lượt truy cập,Người truy cập,Truy cập của máy (bot)'],
    [`?site=${site}&from=2026-02-02&to=2026-02-06&format=csv&lang=en`, {}, 'Date,Visits,Distinct visitors,Robot requests'],
    [`?site=${site}&from=2026-02-02&to=2026-02-06&lang=en`, { accept: 'text/csv' }, 'Date,Visits,Distinct visitors,Robot requests'],
  ];
  for (const [query, headers, header] of cases) {
    const p = `/admin/v1/visits${query}`;
    const res = await fetch(main.url + p, { headers: { ...AUTH, ...at(NOW), ...headers }, signal: AbortSignal.timeout(10000) });
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200, `${p}: ${bytes.toString('utf8')}`);
    validateResponse({ method: 'GET', path: p, status: res.status, headers: res.headers, body: bytes.toString('utf8') });
    assert.match(res.headers.get('content-type') || '', /^text\/csv;\s*charset=utf-8$/i);
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="visits-${site}.csv"`);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${p}: starts with the UTF-8 BOM`);
    assert.equal(bytes.subarray(3).toString('utf8'), `${header}\r\n${rows}`, p);
  }
});

// ---------------------------------------------------------------- load
test('1,000 concurrent cookie-less visits (100 at a time, each its own browser) are counted exactly', async () => {
  const site = 'load';
  const T = '2026-08-20T10:00:00+07:00';
  const t0 = Date.now();
  const cookies = new Set();
  for (let batch = 0; batch < 10; batch++) {
    const rs = await Promise.all(Array.from({ length: 100 }, () => request(main.url, 'POST', `/api/v1/visits?site=${site}`,
      { headers: { 'user-agent': newBrowser(), ...at(T) }, timeout: 20000 })));
    for (const r of rs) {
      assert.equal(r.status, 200, r.text);
      // Every answer includes its own view and all the views answered before its batch.
      assert.ok(r.json.today >= batch * 100 + 1 && r.json.today <= (batch + 1) * 100, `batch ${batch}: ${r.text}`);
      const c = r.setCookies.find((x) => x.name === COOKIE_NAME);
      assert.ok(c, 'each cookie-less view gets a cookie');
      cookies.add(c.value);
    }
    assert.ok(Date.now() - t0 < 60000, `1,000 visits took more than 60 s (batch ${batch})`);
  }
  assert.equal(cookies.size, 1000, 'a different voter id each time');
  const c = await counter(main, site, '2026-08-20T10:01:00+07:00');
  assert.deepEqual([c.today, c.yesterday, c.this_week, c.this_month, c.total], [1000, 0, 1000, 1000, 1000], JSON.stringify(c));
  // online and visitors are HyperLogLog estimates: near 1,000, not necessarily exact.
  assert.ok(Math.abs(c.online - 1000) <= 50, `online ${c.online} not near 1000`);
  const h = await history(main, `?site=${site}&from=2026-08-20&to=2026-08-21`, T);
  assert.equal(h.days.length, 1);
  assert.equal(h.days[0].visits, 1000);
  assert.equal(h.days[0].bots, 0);
  assert.ok(Math.abs(h.days[0].visitors - 1000) <= 50, `visitors ${h.days[0].visitors} not near 1000`);
});

test('hits mode: 300 concurrent views with one cookie are 300 visits, one visitor', async () => {
  const site = 'h2';
  const v = new Voter(hits.url);
  await view(hits, site, '2026-06-10T10:00:00+07:00', { voter: v });
  const cookie = `${COOKIE_NAME}=${v.cookie}`;
  for (let batch = 0; batch < 3; batch++) {
    const rs = await Promise.all(Array.from({ length: 100 }, () => request(hits.url, 'POST', `/api/v1/visits?site=${site}`,
      { headers: { 'user-agent': BROWSER, ...at('2026-06-10T10:00:30+07:00') }, cookie, timeout: 20000 })));
    for (const r of rs) assert.equal(r.status, 200, r.text);
  }
  await expectCounter(hits, site, '2026-06-10T10:01:00+07:00',
    { today: 301, yesterday: 0, this_week: 301, this_month: 301, total: 301, online: 1 }, 'hits');
  const h = await history(hits, `?site=${site}&from=2026-06-10&to=2026-06-11`, '2026-06-10T10:01:00+07:00');
  assert.deepEqual(h.days, [day('2026-06-10', 301, 1, 0)]);
});

// ---------------------------------------------------------------- origin
test('Origin check: a POST from https://evil.example (Origin, Referer, "null") → 403 origin_not_allowed, not counted', async () => {
  const site = 'org';
  const T = '2026-08-25T10:00:00+07:00';
  const refused = [
    { origin: EVIL },
    { referer: `${EVIL}/bai-viet/1.html` },
    { origin: 'null' },
    { origin: EVIL, 'user-agent': 'Googlebot/2.1' },
  ];
  for (const h of refused) {
    const r = await request(main.url, 'POST', `/api/v1/visits?site=${site}`, { headers: { 'user-agent': BROWSER, ...at(T), ...h } });
    assertError(r, 403, 'origin_not_allowed');
  }
  await expectCounter(main, site, '2026-08-25T10:00:30+07:00',
    { today: 0, yesterday: 0, this_week: 0, this_month: 0, total: 0, online: 0 }, 'after refused POSTs');
  let h = await history(main, `?site=${site}&from=2026-08-25&to=2026-08-26`, T);
  assert.deepEqual(h.days, [day('2026-08-25', 0, 0, 0)]);

  await view(main, site, T, { headers: { origin: ALLOWED } });
  await view(main, site, T, { headers: { origin: main.url } });
  await view(main, site, T, { headers: { referer: `${ALLOWED}/tin-tuc/bai-1.html` } });
  await expectCounter(main, site, '2026-08-25T10:01:00+07:00',
    { today: 3, yesterday: 0, this_week: 3, this_month: 3, total: 3, online: 3 }, 'allowed origins');
  h = await history(main, `?site=${site}&from=2026-08-25&to=2026-08-26`, T);
  assert.deepEqual(h.days, [day('2026-08-25', 3, 3, 0)]);
});

// ---------------------------------------------------------------- stop
test('graceful stop: every instance exits 0 without sanitizer output', async () => {
  await main.stop();
  await short.stop();
  await hits.stop();
  await two.stop();
  await redis.stop();
});
