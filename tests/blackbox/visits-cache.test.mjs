// The visitor counter at scale, black-box: one request per counter (the view's answer carries the
// figures, this view included), figures computed at most once a second per worker and site (the
// requests of that second share one fetch: counted on Redis's own command statistics), a view
// recorded on one instance seen on another within about a second (two instances on one Redis),
// and the distinct counts ("online", distinct visitors per day) merged at most once a minute per
// site, with their meaning: online is the readers of the whole minutes before the current one.
// Real redis-server, real thamdo; the test clock (X-Thamdo-Test-Now) where time matters, the
// real clock for the staleness case.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request, redisCli, Voter, sleep } from './lib/harness.mjs';

const TOKEN = 'visits-cache-admin-token-0123456789a';
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0';
const SITES = ['one', 'fresh', 'herd', 'live', 'distinct', 'stable'];

let redis;
let a; // two instances on one Redis
let b;

before(async () => {
  redis = await startRedis();
  const env = {
    THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true', THAMDO_TIMEZONE: 'Asia/Ho_Chi_Minh',
    THAMDO_SITES: SITES.join(','), THAMDO_ADMIN_TOKENS: TOKEN,
  };
  [a, b] = await Promise.all([startThamdo({ redis, polls: [], env }), startThamdo({ redis, polls: [], env })]);
});

const T = (hms) => ({ 'x-thamdo-test-now': `2026-10-20T${hms}+07:00`, 'user-agent': BROWSER });

// A reader without a cookie is known by a daily-salted hash of address, User-Agent and site (one
// visit per session): every reader here comes from 127.0.0.1, so each has a browser of its own
// (a Voter keeps its User-Agent), and each cookie-less view is a new reader's.
let browsers = 0;
const newBrowser = () => `${BROWSER} reader/${++browsers}`;

async function view(svc, site, given, voter) {
  if (voter) voter.ua ??= newBrowser();
  const headers = { ...given, 'user-agent': voter ? voter.ua : newBrowser() };
  const p = `/api/v1/visits?site=${site}`;
  const r = voter ? await voter.req('POST', p, { headers, base: svc.url }) : await request(svc.url, 'POST', p, { headers });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function read(svc, site, headers) {
  const r = await request(svc.url, 'GET', `/api/v1/visits?site=${site}`, { headers });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** Calls of a Redis command so far (scripts' calls included), from INFO commandstats. */
async function calls(cmd) {
  const info = await redisCli(redis.port, 'INFO', 'commandstats');
  const m = info.match(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`));
  return m ? Number(m[1]) : 0;
}

test('one request per counter: the view answers the figures, this view included, even from a cache filled this very second', async () => {
  const site = 'one';
  const at = T('09:00:05');
  const before0 = await read(b, site, at); // b's figures of this second are in memory now
  assert.equal(before0.today, 0);
  const x = await view(a, site, at, new Voter(a.url)); // counted on the other instance
  assert.equal(x.today, 1, `the answer includes the view: ${JSON.stringify(x)}`);
  const y = new Voter(b.url);
  const got = await view(b, site, at, y);
  // b's memory (today 0) did not know x's view; y's own view answers the counts it made: both.
  assert.deepEqual([got.today, got.this_week, got.this_month, got.total], [2, 2, 2, 2], JSON.stringify(got));
  assert.equal(got.online, 1, 'the reader on the page is online in its own answer');
  assert.equal((await read(b, site, T('09:00:06'))).today, 2, 'the next second, b fetches both');
  const again = await view(b, site, T('09:10:00'), y); // same session: the same visit
  assert.equal(again.today, 2, JSON.stringify(again));
});

test('the figures of one second are fetched once per worker: 200 concurrent reads share one fetch per worker', async () => {
  const site = 'herd';
  await view(a, site, T('10:00:00'));
  const at = T('10:00:07');
  const gets0 = await calls('get');
  const t0 = Date.now();
  const reads = await Promise.all(Array.from({ length: 200 }, () => read(a, site, at)));
  for (const r of reads) assert.equal(r.today, 1, JSON.stringify(r));
  await Promise.all(Array.from({ length: 50 }, () => read(a, site, at))); // later in the same second
  const fetched = (await calls('get')) - gets0;
  // The read script GETs 4 counters: 250 reads of one second are one fetch per worker (the test
  // suite runs 1 or 2 workers), not 250 fetches (1,000 GETs). A worker keeps the figures for a
  // second of real time too: on a loaded machine (or under valgrind) the reads may take longer,
  // and each worker then fetches once more per real second they took.
  const realSeconds = Math.floor((Date.now() - t0) / 1000) + 1;
  const most = 4 * a.workers * realSeconds;
  assert.ok(fetched >= 4 && fetched <= most && fetched % 4 === 0, `${fetched} GETs for 250 reads of one second (at most ${most} in ${Date.now() - t0} ms)`);
  await read(a, site, T('10:00:08'));
  assert.equal((await calls('get')) - gets0, fetched + 4, 'the next second fetches again');
});

test('a view recorded on one instance shows on another within about a second (real clock)', async () => {
  const site = 'fresh';
  const real = { 'user-agent': BROWSER };
  const start = (await read(b, site, real)).today; // b keeps this in memory for up to a second
  const mine = await view(a, site, real);
  assert.equal(mine.today, start + 1);
  const t0 = Date.now();
  let seen = start;
  while (seen < start + 1 && Date.now() - t0 < 5000) {
    seen = (await read(b, site, real)).today;
    if (seen < start + 1) await sleep(50);
  }
  assert.equal(seen, start + 1, 'the other instance shows the view');
  assert.ok(Date.now() - t0 <= 2500, `shown after ${Date.now() - t0} ms (at most a second stale, plus slack)`);
});

test('online: the readers of the 5 whole minutes before this one, merged at most once a minute per site whatever the reads and instances', async () => {
  const site = 'live';
  const pf0 = await calls('pfcount');
  await view(a, site, T('11:00:10'));
  await view(b, site, T('11:00:20'));
  // A new minute's first read merges the window (one PFCOUNT); the others of the minute reuse it.
  for (const [svc, hms] of [[a, '11:01:00'], [b, '11:01:01'], [a, '11:01:30'], [b, '11:01:59']]) {
    assert.equal((await read(svc, site, T(hms))).online, 2, hms);
  }
  await view(a, site, T('11:01:40')); // a third reader, seen in minute 11:01: counted from 11:02
  assert.equal((await read(b, site, T('11:01:50'))).online, 2, 'the count of a minute does not move during it');
  assert.equal((await read(a, site, T('11:02:00'))).online, 3);
  assert.equal((await read(b, site, T('11:06:00'))).online, 1, 'the readers of 11:00 left after 11:05');
  assert.equal((await read(a, site, T('11:07:00'))).online, 0);
  // PFCOUNTs: the day's distinct readers at the first new reader of 11:00 and of 11:01 (2), and
  // "online" once in each minute read: 11:00, 11:01, 11:02, 11:06, 11:07 (5).
  assert.equal((await calls('pfcount')) - pf0, 7, 'PFCOUNT at most once a minute per figure');
});

test('distinct visitors per day: brought to the HyperLogLog once a minute, new readers added in between', async () => {
  const site = 'distinct';
  const pf0 = await calls('pfcount');
  const readers = [new Voter(a.url), new Voter(a.url), new Voter(a.url)];
  for (const [i, v] of readers.entries()) await view(a, site, T(`12:00:1${i}`), v);
  await view(a, site, T('12:00:40'), readers[0]); // the same reader again: no new distinct reader
  const day = `thamdo:{site:${site}}:hist:visitors`;
  assert.equal(await redisCli(redis.port, 'HGET', day, '2026-10-20'), '3');
  await view(b, site, T('12:03:00'));
  assert.equal(await redisCli(redis.port, 'HGET', day, '2026-10-20'), '4');
  // 2 for the day (12:00 and 12:03), 1 for "online" per minute with figures fetched (12:00, 12:03).
  assert.equal((await calls('pfcount')) - pf0, 4);
  const h = await request(a.url, 'GET', `/admin/v1/visits?site=${site}&from=2026-10-20&to=2026-10-21`,
    { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(h.status, 200, h.text);
  assert.deepEqual(h.json.days, [{ date: '2026-10-20', visits: 4, visitors: 4, bots: 0 }]);
});

test('the calendar of a minute: a view at 23:59:59 and one at 00:00:00 are two days, on the same worker', async () => {
  const site = 'stable';
  const first = await view(a, site, T('23:59:59'));
  assert.deepEqual([first.today, first.yesterday], [1, 0]);
  const next = await request(a.url, 'POST', `/api/v1/visits?site=${site}`,
    { headers: { 'x-thamdo-test-now': '2026-10-21T00:00:00+07:00', 'user-agent': BROWSER } });
  assert.equal(next.status, 200, next.text);
  assert.deepEqual([next.json.today, next.json.yesterday, next.json.this_month], [1, 1, 2], next.text);
});

test('graceful stop: both instances exit 0', async () => {
  await a.stop();
  await b.stop();
  await redis.stop();
});
