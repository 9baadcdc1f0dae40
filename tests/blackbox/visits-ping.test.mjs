// The visitor counter, black-box, part two: the body of POST /api/v1/visits ("ping": true keeps a
// reader online without counting a view; "webdriver": true makes the view a robot's), robots by
// the crawler-user-agents list (HeadlessChrome, PhantomJS), bounded bases added exactly (no
// negative figure from a base of 2^63-1), the unknown site named in its error, and the Lua
// scripts refusing bad arguments before their first write. Every case runs on the test clock
// (THAMDO_MODE=test THAMDO_TEST_CLOCK=true, header X-Thamdo-Test-Now) in Asia/Ho_Chi_Minh, each on
// its own site key.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startRedis, startThamdo, request, Voter, assertError, assertJsonHeaders, COOKIE_NAME, REPO_ROOT,
} from './lib/harness.mjs';

const TOKEN = 'visits-ping-admin-token-0123456789ab';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const BROWSER = 'Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36';
const ZONE = 'Asia/Ho_Chi_Minh';
const SITES = ['ping', 'ping-nc', 'ping-sess', 'ping-bot', 'wd', 'wd-bad', 'head', 'big', 'old-base', 'exact', 'named', 'lua'];

let redis;
let svc; // session mode, 30 minutes, online 5 minutes (the defaults)

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    polls: [],
    env: {
      THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true', THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_TIMEZONE: ZONE,
      THAMDO_SITES: SITES.join(','),
    },
  });
});

// ---------------------------------------------------------------- helpers
const at = (when) => ({ 'x-thamdo-test-now': when });
/** 2026-09-14 (a Monday) at hh:mm:ss, +07:00. */
const T = (hms) => `2026-09-14T${hms}+07:00`;
/** hh:mm:ss of 10:00:10 plus `minutes`. */
const plus = (minutes) => {
  const s = 10 * 3600 + 10 + minutes * 60;
  const p = (n) => String(n).padStart(2, '0');
  return T(`${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`);
};

// A reader without a cookie is known by a daily-salted hash of address, User-Agent and site (one
// visit per session): every reader here comes from 127.0.0.1, so each has a browser of its own
// (a Voter keeps its User-Agent), and each cookie-less view without a `ua` is a new reader's.
let browsers = 0;
const newBrowser = () => `${BROWSER} reader/${++browsers}`;

async function post(site, when, { voter, ua, json, body, headers = {} } = {}) {
  if (voter) voter.ua ??= newBrowser();
  ua ??= voter ? voter.ua : newBrowser();
  const p = `/api/v1/visits?site=${site}`;
  const opts = { headers: { 'user-agent': ua, ...at(when), ...headers }, json, body };
  return voter ? voter.req('POST', p, opts) : request(svc.url, 'POST', p, opts);
}

/** A page view: 200 with the figures. */
async function view(site, when, opts = {}) {
  const r = await post(site, when, opts);
  assert.equal(r.status, 200, `view of ${site} at ${when}: ${r.status} ${r.text}`);
  assertJsonHeaders(r, 'view');
  assert.equal(r.json.site, site);
  return r;
}

/** A ping: 200 with the figures, never a cookie. */
async function ping(site, when, opts = {}) {
  const r = await post(site, when, { json: { ping: true }, ...opts });
  assert.equal(r.status, 200, `ping of ${site} at ${when}: ${r.status} ${r.text}`);
  assertJsonHeaders(r, 'ping');
  assert.deepEqual(r.setCookies.filter((c) => c.name === COOKIE_NAME), [], 'a ping never sets the voter cookie');
  assert.equal(r.json.site, site);
  return r.json;
}

async function counter(site, when) {
  const r = await request(svc.url, 'GET', `/api/v1/visits?site=${site}`, { headers: at(when) });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const figures = (c) => ({ today: c.today, this_week: c.this_week, this_month: c.this_month, total: c.total, online: c.online });

async function historyDays(site, from, to) {
  const r = await request(svc.url, 'GET', `/admin/v1/visits?site=${site}&from=${from}&to=${to}`, { headers: AUTH });
  assert.equal(r.status, 200, r.text);
  return r.json.days;
}

const putBase = (site, json, when = T('12:00:00')) => request(svc.url, 'PUT', `/admin/v1/visits/base?site=${site}`,
  { json, headers: { ...AUTH, ...at(when) } });

// ---------------------------------------------------------------- ping: online
test('ping: a reader who visited at t0 and pinged each minute is still online at t0 + 10 min (twice the 5-minute window); one who did not ping is not', async () => {
  const site = 'ping';
  const a = new Voter(svc.url);
  const b = new Voter(svc.url);
  await view(site, plus(0), { voter: a });
  await view(site, plus(0), { voter: b });
  assert.ok(a.cookie && b.cookie, 'both readers got a cookie from their view');
  let c = await counter(site, plus(0.5));
  assert.deepEqual(figures(c), { today: 2, this_week: 2, this_month: 2, total: 2, online: 0 },
    'at t0 nobody yet: the readers of a minute count from the next one');
  for (let m = 1; m <= 10; m++) {
    const answer = await ping(site, plus(m), { voter: a });
    // The ping's answer holds the figures of the 5 minutes before: A (seen in each), B until t0 + 5.
    assert.deepEqual(figures(answer), { today: 2, this_week: 2, this_month: 2, total: 2, online: m <= 5 ? 2 : 1 },
      `ping answer at t0+${m} min: ${JSON.stringify(answer)}`);
  }
  c = await counter(site, plus(10.5));
  assert.deepEqual(figures(c), { today: 2, this_week: 2, this_month: 2, total: 2, online: 1 },
    'at t0 + 10 min: the reader who pinged is online, the other is not, and no ping counted a view');
  // Pings stop: the reader leaves "online" after the window, like any reader.
  c = await counter(site, plus(15));
  assert.equal(c.online, 1, `the fifth minute after the last ping: ${JSON.stringify(c)}`);
  c = await counter(site, plus(16));
  assert.equal(c.online, 0, `six minutes after the last ping: ${JSON.stringify(c)}`);
  const days = await historyDays(site, '2026-09-14', '2026-09-15');
  assert.deepEqual(days, [{ date: '2026-09-14', visits: 2, visitors: 2, bots: 0 }], 'pings are neither visits nor robot requests');
});

test('ping without a cookie: the figures, no cookie, nobody marked online, no view', async () => {
  const site = 'ping-nc';
  await view(site, T('09:00:00')); // one cookie-less reader
  const answer = await ping(site, T('09:01:00'));
  assert.deepEqual(figures(answer), { today: 1, this_week: 1, this_month: 1, total: 1, online: 1 });
  const later = await ping(site, T('09:06:00'));
  assert.deepEqual(figures(later), { today: 1, this_week: 1, this_month: 1, total: 1, online: 0 },
    'a cookie-less ping marks nobody online');
  // A forged cookie is no reader either.
  const forged = new Voter(svc.url, { cookie: 'v1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  const f = await ping(site, T('09:06:10'), { voter: forged });
  assert.equal(f.online, 0);
});

test('ping leaves the session as it is: a view 31 minutes after the last view is a new visit, pings between or not', async () => {
  const site = 'ping-sess';
  const a = new Voter(svc.url);
  await view(site, T('11:00:00'), { voter: a });
  for (const t of ['11:10:00', '11:20:00', '11:30:00']) await ping(site, T(t), { voter: a });
  await view(site, T('11:31:00'), { voter: a });
  let c = await counter(site, T('11:31:30'));
  assert.deepEqual(figures(c), { today: 2, this_week: 2, this_month: 2, total: 2, online: 1 });
  // A reader whose first request is a ping: the ping opens no session, its first view is a visit.
  const b = new Voter(svc.url);
  await view('ping', T('11:00:00'), { voter: b }); // a cookie from another site's view
  await ping(site, T('11:40:00'), { voter: b });
  c = await counter(site, T('11:41:00'));
  assert.equal(c.today, 2, 'a ping is no view');
  assert.equal(c.online, 1, 'the ping of b marked b online (a was last seen at 11:31)');
  await view(site, T('11:41:10'), { voter: b });
  c = await counter(site, T('11:41:30'));
  assert.equal(c.today, 3, `b's first view after its ping is a visit: ${JSON.stringify(c)}`);
});

test('ping from a robot (curl, or "webdriver": true): the figures, never online', async () => {
  const site = 'ping-bot';
  const a = new Voter(svc.url);
  await view('ping', T('08:00:00'), { voter: a }); // a valid cookie
  const curl = await ping(site, T('08:10:00'), { voter: a, ua: 'curl/8.5.0' });
  assert.equal(curl.online, 0, 'a robot ping marks nobody online');
  const wd = await ping(site, T('08:10:10'), { voter: a, json: { ping: true, webdriver: true } });
  assert.equal(wd.online, 0, 'a WebDriver ping marks nobody online');
  const days = await historyDays(site, '2026-09-14', '2026-09-15');
  assert.deepEqual(days, [{ date: '2026-09-14', visits: 0, visitors: 0, bots: 0 }], 'robot pings are not robot views either');
});

// ---------------------------------------------------------------- webdriver and robots
test('"webdriver": true makes the view a robot\'s (no visit, no cookie, counted per day apart); HeadlessChrome and PhantomJS are robots', async () => {
  const site = 'wd';
  const wd = await view(site, T('14:00:00'), { json: { webdriver: true } });
  assert.deepEqual(wd.setCookies.filter((c) => c.name === COOKIE_NAME), [], 'no cookie for a WebDriver page');
  await view(site, T('14:00:01'), { json: { webdriver: false } }); // a reader
  await view(site, T('14:00:02'), { json: { webdriver: true, other: 'ignored' }, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
  for (const ua of [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33 Safari/537.36',
    'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
  ]) {
    const r = await view(site, T('14:00:03'), { ua });
    assert.deepEqual(r.setCookies.filter((c) => c.name === COOKIE_NAME), [], `no cookie for ${ua}`);
  }
  // Bodies that are not a JSON object are a beacon's: a reader's view, as before.
  await view(site, T('14:00:04'), { body: 'hello', headers: { 'content-type': 'text/plain' } });
  await view(site, T('14:00:05'), { json: [true] });
  // A body over THAMDO_MAX_BODY (4096) is not read either: a plain view, not a ping.
  await view(site, T('14:00:06'), { json: { ping: true, pad: 'z'.repeat(5000) } });
  const c = await counter(site, T('14:01:00'));
  assert.deepEqual(figures(c), { today: 4, this_week: 4, this_month: 4, total: 4, online: 4 }, JSON.stringify(c));
  const days = await historyDays(site, '2026-09-14', '2026-09-15');
  assert.deepEqual(days, [{ date: '2026-09-14', visits: 4, visitors: 4, bots: 4 }]);
});

test('webdriver or ping that is not a boolean: 400 invalid_json, nothing counted', async () => {
  const site = 'wd-bad';
  for (const json of [{ webdriver: 'true' }, { ping: 1 }, { ping: null }, { webdriver: {} }]) {
    assertError(await post(site, T('15:00:00'), { json }), 400, 'invalid_json');
  }
  const c = await counter(site, T('15:00:30'));
  assert.deepEqual(figures(c), { today: 0, this_week: 0, this_month: 0, total: 0, online: 0 });
});

// ---------------------------------------------------------------- bases
test('bases are bounded (0..10^15): 2^63-1, 10^15+1 and a 20-digit literal are 400 invalid_base naming the base and the site; nothing stored', async () => {
  const site = 'big';
  await view(site, T('09:00:00'));
  const cases = [
    [{ total: 9223372036854775807 }, null], // written 9223372036854776000: beyond 64 bits, no field to name
    ['{"total": 9223372036854775807}', 'total'],
    [{ this_week: 1000000000000001 }, 'this_week'],
    [{ total: 5, today: 1e16 }, 'today'],
    ['{"this_month": 99999999999999999999}', null],
  ];
  for (const [json, field] of cases) {
    const r = await putBase(site, json);
    assertError(r, 400, 'invalid_base');
    assert.match(r.json.error.message, new RegExp(`site '${site}'`), r.text);
    if (field) assert.match(r.json.error.message, new RegExp(`\\b${field}\\b`), r.text);
  }
  let c = await counter(site, T('12:00:00'));
  assert.deepEqual(figures(c), { today: 1, this_week: 1, this_month: 1, total: 1, online: 0 }, 'no base stored');
  const h = await request(svc.url, 'GET', `/admin/v1/visits?site=${site}&from=2026-09-14&to=2026-09-15`, { headers: AUTH });
  assert.deepEqual(h.json.bases, {});
  // The bound itself is a base.
  const r = await putBase(site, { total: 1000000000000000, this_month: 1000000000000000 });
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /"total":1000000000000001\b/);
  assert.match(r.text, /"this_month":1000000000000001\b/);
  c = await counter(site, T('12:00:00'));
  assert.equal(c.total, 1000000000000001);
});

test('a base of 2^63-1 stored by an older version gives no negative figure: the sum stops at 2^63-1', async () => {
  const site = 'old-base';
  await view(site, T('09:00:00'));
  await redis.cli('HSET', `thamdo:{site:${site}}:base`, 'total', '9223372036854775807', 'day:2026-09-14', '9223372036854775807');
  const r = await request(svc.url, 'GET', `/api/v1/visits?site=${site}`, { headers: at(T('12:00:00')) });
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /"total":9223372036854775807\b/, r.text);
  assert.match(r.text, /"today":9223372036854775807\b/, r.text);
  assert.match(r.text, /"this_week":1\b/, r.text);
});

test('a base of 10^15 - 1 plus three visits is exactly 1000000000000002', async () => {
  const site = 'exact';
  for (let i = 0; i < 3; i++) await view(site, T('09:00:00'));
  const r = await putBase(site, { total: 999999999999999 });
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /"total":1000000000000002\b/, r.text);
});

// ---------------------------------------------------------------- unknown site
test('unknown site: 400 unknown_site names the site asked for (printable ASCII only, shortened)', async () => {
  let r = await post('xa-c', T('10:00:00'));
  assertError(r, 400, 'unknown_site');
  assert.match(r.json.error.message, /'xa-c'/);
  assert.match(r.json.error.message, /THAMDO_SITES/);
  r = await request(svc.url, 'GET', `/api/v1/visits?site=${encodeURIComponent('bad"\u00e9\n<x>')}`);
  assertError(r, 400, 'unknown_site');
  assert.match(r.json.error.message, /'bad\?\?\?\?<x>'/, r.text);
  r = await request(svc.url, 'GET', `/api/v1/visits?site=${'x'.repeat(300)}`);
  assertError(r, 400, 'unknown_site');
  assert.match(r.json.error.message, new RegExp(`'${'x'.repeat(64)}\\.\\.\\.'`), r.text);
  r = await request(svc.url, 'GET', `/admin/v1/visits?site=nope`, { headers: AUTH });
  assertError(r, 400, 'unknown_site');
  assert.match(r.json.error.message, /'nope'/);
});

// ---------------------------------------------------------------- the scripts themselves
/** Runs src/store/lua/NAME.lua with EVAL; returns {ok, out} (redis-cli prints an error reply as "ERR ..."). */
async function evalScript(name, keys, args) {
  const body = fs.readFileSync(path.join(REPO_ROOT, 'src', 'store', 'lua', `${name}.lua`), 'utf8');
  const out = await redis.cli('EVAL', body, String(keys.length), ...keys, ...args);
  return { ok: !/^(ERR|WRONGTYPE)\b/.test(out), out };
}

test('every visit script checks all its arguments before its first write: a refused call leaves Redis as it was', async () => {
  const k = (s) => `thamdo:{site:lua}:${s}`;
  const before = await redis.cli('KEYS', 'thamdo:{site:lua}:*');
  // visit_base: a good pair then a bad one; an odd number of arguments; a field that is no base.
  for (const args of [['total', '5', 'day:2026-09-14', '-1'], ['total', '5', 'week:2026-W38'],
    ['total', '5', 'total2', '1'], ['total', '1000000000000001'], ['total', '5', 'month:2026-09', '1.5']]) {
    const r = await evalScript('visit_base', [k('base')], args);
    assert.equal(r.ok, false, `visit_base ${args.join(' ')} was accepted: ${r.out}`);
  }
  // visit_record: a mode it does not know, a missing date, a TTL that is not a number.
  const keys = ['sess:r', 'day:2026-09-14', 'week:2026-W38', 'month:2026-09', 'total', 'hist:visits',
    'readers:2026-09-14', 'hist:visitors', 'online:1', 'hist:bots', 'visitors:at'].map(k);
  const good = ['session', 'r', '2026-09-14', '1800', '172800', '691200', '2764800', '360', '1789000000', '29816666'];
  for (const [i, v] of [[0, 'robot'], [2, ''], [4, 'soon'], [8, ''], [9, 'x']]) {
    const args = [...good];
    args[i] = v;
    const r = await evalScript('visit_record', keys, args);
    assert.equal(r.ok, false, `visit_record with ARGV[${i + 1}]=${JSON.stringify(v)} was accepted: ${r.out}`);
  }
  // visit_read (which stores the minute's "online" count) with no usable TTL, or a window that is not its keys.
  const readKeys = ['day', 'hist', 'week', 'month', 'total', 'base', 'online', 'online:0'].map(k);
  const readArgs = ['2026-09-13', 'day:2026-09-14', 'week:2026-W38', 'month:2026-09', 'day:2026-09-13', '1', '1', '360'];
  for (const [i, v] of [[7, '0'], [6, '2']]) {
    const args = [...readArgs];
    args[i] = v;
    const r = await evalScript('visit_read', readKeys, args);
    assert.equal(r.ok, false, `visit_read with ARGV[${i + 1}]=${v} was accepted: ${r.out}`);
  }
  assert.deepEqual(await redis.cli('KEYS', 'thamdo:{site:lua}:*'), before, 'no key was written');
  // The same scripts with good arguments do write (so the refusals above are not vacuous).
  assert.equal((await evalScript('visit_base', [k('base')], ['total', '5'])).out, '1');
  assert.match((await evalScript('visit_record', keys, good)).out, /^1\n1\n1\n1\n1\n?$/, 'counted, and the four counts after it');
  assert.equal(await redis.cli('GET', k('total')), '1');
});

// ---------------------------------------------------------------- stop
test('graceful stop: exits 0 without sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
