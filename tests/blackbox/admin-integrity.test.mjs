// Admin API, the integrity summary GET /admin/v1/polls/:id/integrity, read from the keys the vote
// step writes (written here directly in their documented form: hash <prefix>{poll:ID}:integrity with
// fields "<hour>:<kind>", zset <prefix>{poll:ID}:buckets of hashed address buckets): per hour ballots,
// dup, limited, challenged and solved with the hour's local start; totals; the busiest buckets and
// the share of first ballots from the busiest 1, 5 and 10; hours of at least 5 times the median of the
// hours with ballots (mean of the middle two for an even number) and at least 20 flagged; fields of
// other forms ignored; a key of another type is 500 poll_damaged; an unknown poll 404; and, end to
// end with the rate limits on behind a trusted proxy, the counters the vote step itself writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, Voter, assertError, assertJsonHeaders } from './lib/harness.mjs';

const TOKEN = 'integrity-token-5c7e1a9b3d2f4068';
const HOUR0 = Math.floor(Date.parse('2026-11-29T08:00:00+07:00') / 3600e3);

let redis;
let svc;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_TIMEZONE: 'Asia/Ho_Chi_Minh' } });
});

after(async () => {
  if (svc && svc.alive()) await svc.stop();
});

const admin = (method, p, opts = {}) => request(svc.url, method, p, { ...opts, headers: { Authorization: `Bearer ${TOKEN}`, ...(opts.headers || {}) } });

async function createPoll(id) {
  const r = await admin('POST', '/admin/v1/polls', { json: makePoll(id) });
  assert.equal(r.status, 201, r.text);
}

/** Writes the counters: {hourOffset: {kind: n}}. */
async function writeCounters(id, hours, extra = []) {
  const args = [];
  for (const [h, kinds] of Object.entries(hours)) for (const [k, n] of Object.entries(kinds)) args.push(`${HOUR0 + Number(h)}:${k}`, String(n));
  await redis.cli('HSET', `thamdo:{poll:${id}}:integrity`, ...args, ...extra);
}

async function summary(id) {
  const r = await admin('GET', `/admin/v1/polls/${id}/integrity`);
  assert.equal(r.status, 200, r.text);
  assertJsonHeaders(r, 'integrity');
  return r.json;
}

const hex = (k) => k.toString(16).padStart(16, '0');

test('per hour counts with local starts, totals, busiest buckets and their shares, the burst hour flagged', async () => {
  const id = 'toan-ven';
  await createPoll(id);
  await writeCounters(id, {
    0: { ballots: 10, dup: 2 },
    1: { ballots: 12, limited: 1 },
    2: { ballots: 8 },
    3: { ballots: 11, challenged: 4, solved: 3 },
    4: { ballots: 100, dup: 30, limited: 55, challenged: 40, solved: 22 },
    6: { dup: 5 }, // no ballot: not part of the median
  }, ['not-an-hour:ballots', '7', `${HOUR0}:unknown_kind`, '9']);
  // 12 buckets: one with 60 first ballots, then 20, 15, 10, 9, ... (141 in all, the rest of the 141
  // ballots of the counters from buckets outside the zset's first ten).
  const scores = [60, 20, 15, 10, 9, 8, 7, 5, 3, 2, 1, 1];
  const zadd = [];
  scores.forEach((s, k) => zadd.push(String(s), hex(k + 1)));
  await redis.cli('ZADD', `thamdo:{poll:${id}}:buckets`, ...zadd);

  const s = await summary(id);
  assert.equal(s.poll_id, id);
  assert.equal(s.time_zone, 'Asia/Ho_Chi_Minh');
  assert.deepEqual(s.totals, { ballots: 141, dup: 37, limited: 56, challenged: 44, solved: 25 });
  assert.deepEqual(s.hours.map((h) => h.start), [
    '2026-11-29T08:00:00+07:00', '2026-11-29T09:00:00+07:00', '2026-11-29T10:00:00+07:00',
    '2026-11-29T11:00:00+07:00', '2026-11-29T12:00:00+07:00', '2026-11-29T14:00:00+07:00']);
  assert.deepEqual(s.hours[4], {
    start: '2026-11-29T12:00:00+07:00', ballots: 100, dup: 30, limited: 55, challenged: 40, solved: 22, flagged: true,
  });
  assert.deepEqual(s.hours[5], { start: '2026-11-29T14:00:00+07:00', ballots: 0, dup: 5, limited: 0, challenged: 0, solved: 0, flagged: false });
  // Median of 8, 10, 11, 12, 100: 11; 100 >= 55 and >= 20.
  assert.equal(s.median_hour_ballots, 11);
  assert.deepEqual(s.hours.map((h) => h.flagged), [false, false, false, false, true, false]);
  assert.deepEqual(s.flag_rule, { times_median: 5, at_least: 20 });
  assert.equal(s.buckets.count, 12);
  assert.deepEqual(s.buckets.busiest, scores.slice(0, 10).map((b, k) => ({ bucket: hex(k + 1), ballots: b })));
  // 60/141 = 42.55 -> 42.6; 114/141 = 80.85 -> 80.9; 139/141 = 98.58 -> 98.6
  assert.deepEqual(s.buckets.share_percent, { top1: 42.6, top5: 80.9, top10: 98.6 });
});

test('an even number of hours takes the mean of the middle two; fewer than 20 ballots are never flagged', async () => {
  await createPoll('chan-le');
  // 4, 6, 25, 30: median 15.5; 30 < 77.5: none flagged.
  await writeCounters('chan-le', { 0: { ballots: 4 }, 1: { ballots: 6 }, 2: { ballots: 25 }, 3: { ballots: 30 } });
  let s = await summary('chan-le');
  assert.equal(s.median_hour_ballots, 15.5);
  assert.ok(s.hours.every((h) => !h.flagged));

  await createPoll('it-phieu');
  // 1, 1, 1, 19: median 1; 19 is over 5 times that, but under 20.
  await writeCounters('it-phieu', { 0: { ballots: 1 }, 1: { ballots: 1 }, 2: { ballots: 1 }, 3: { ballots: 19 } });
  s = await summary('it-phieu');
  assert.equal(s.median_hour_ballots, 1);
  assert.ok(s.hours.every((h) => !h.flagged));
  await redis.cli('HINCRBY', 'thamdo:{poll:it-phieu}:integrity', `${HOUR0 + 3}:ballots`, '1');
  s = await summary('it-phieu');
  assert.deepEqual(s.hours.map((h) => h.flagged), [false, false, false, true], 'exactly 20 and 5 times: flagged');
  // Fewer buckets than the top: every share is that of all of them.
  await redis.cli('ZADD', 'thamdo:{poll:it-phieu}:buckets', '2', hex(1));
  s = await summary('it-phieu');
  assert.deepEqual(s.buckets.share_percent, { top1: 8.7, top5: 8.7, top10: 8.7 }, '2 of 23');
});

test('a poll without counters has zeros; an unknown poll is 404; a key of another type is 500 poll_damaged', async () => {
  await createPoll('chua-co');
  const s = await summary('chua-co');
  assert.deepEqual(s.totals, { ballots: 0, dup: 0, limited: 0, challenged: 0, solved: 0 });
  assert.deepEqual([s.hours, s.median_hour_ballots, s.buckets.count, s.buckets.busiest], [[], 0, 0, []]);
  assert.deepEqual(s.buckets.share_percent, { top1: 0, top5: 0, top10: 0 });
  assertError(await admin('GET', '/admin/v1/polls/khong-co/integrity'), 404, 'poll_not_found');
  assertError(await request(svc.url, 'GET', '/admin/v1/polls/chua-co/integrity'), 401, 'unauthorized');

  await createPoll('hong');
  await redis.cli('SET', 'thamdo:{poll:hong}:buckets', 'x');
  assertError(await admin('GET', '/admin/v1/polls/hong/integrity'), 500, 'poll_damaged');
  assert.match(svc.stderr(), /poll hong: the buckets are not a sorted set/);
});

test('end to end: votes through a trusted proxy with the rate limits on fill the summary the vote step writes', async () => {
  const limited = await startThamdo({
    redis,
    env: {
      THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_KEY_PREFIX: 'e2e:', THAMDO_RATE_LIMITS: 'on',
      THAMDO_TRUSTED_PROXIES: '127.0.0.1/32', THAMDO_RATE_FREE: '5', THAMDO_RATE_MAX: '8',
    },
  });
  try {
    const as = (method, p, opts = {}) => request(limited.url, method, p, { ...opts, headers: { Authorization: `Bearer ${TOKEN}`, ...(opts.headers || {}) } });
    assert.equal((await as('POST', '/admin/v1/polls', { json: makePoll('dau-cuoi') })).status, 201);
    const vote = (addr, voter = null) => {
      const opts = { json: { options: ['opt-a'] }, headers: { 'X-Forwarded-For': addr } };
      return voter ? voter.vote('dau-cuoi', ['opt-a'], opts) : request(limited.url, 'POST', '/api/v1/polls/dau-cuoi/votes', opts);
    };
    // Four readers at four addresses, one vote each; one of them tries again.
    const again = new Voter(limited.url);
    assert.equal((await vote('198.51.100.1', again)).status, 201);
    for (const k of [2, 3, 4]) assert.equal((await vote(`198.51.100.${k}`)).status, 201);
    assert.equal((await vote('198.51.100.1', again)).status, 409);
    // A script at one address without cookies: 5 free ballots, then challenges it does not solve.
    const statuses = [];
    for (let k = 0; k < 7; k++) statuses.push((await vote('203.0.113.9')).status);
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429, 429]);

    const r = await as('GET', '/admin/v1/polls/dau-cuoi/integrity');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.totals, { ballots: 9, dup: 1, limited: 0, challenged: 2, solved: 0 });
    assert.equal(r.json.hours.length, 1);
    assert.equal(r.json.buckets.count, 5);
    assert.deepEqual(r.json.buckets.busiest.map((b) => b.ballots), [5, 1, 1, 1, 1]);
    for (const b of r.json.buckets.busiest) assert.match(b.bucket, /^[0-9a-f]{16}$/, 'a hashed bucket, not an address');
    assert.deepEqual(r.json.buckets.share_percent, { top1: 55.6, top5: 100, top10: 100 });
    assert.ok(!JSON.stringify(r.json).includes('203.0.113'), 'no address in the summary');
    // A reset clears them with the results.
    assert.equal((await as('POST', '/admin/v1/polls/dau-cuoi/reset', { json: { confirm: 'dau-cuoi' } })).status, 200);
    const z = (await as('GET', '/admin/v1/polls/dau-cuoi/integrity')).json;
    assert.deepEqual([z.totals.ballots, z.totals.dup, z.totals.challenged, z.buckets.count], [0, 0, 0, 0]);
  } finally {
    await limited.stop();
  }
});
