// Admin API, results: with the test clock (THAMDO_MODE=test, THAMDO_TEST_CLOCK=true, the
// X-Thamdo-Test-Now header), a known set of ballots from distinct readers spread over several hours
// across a local midnight in Asia/Ho_Chi_Minh; totals, percentages, first/last vote, hourly and daily
// series (dense, local starts, the split at local midnight, from/to, sums), refused duplicates, bad
// parameters and too long ranges; changing a vote (allow_change) moves the tallies and the series;
// CSV exports (byte-order mark, CRLF, Vietnamese or English headers, RFC 4180 quoting, formula guard,
// the total row, file names) of the results and of the series.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, request, Voter, assertError, assertJsonHeaders, assertResults, expectedPercents,
} from './lib/harness.mjs';

const TOKEN = 'results-token-3f9a1c7e5b2d8064';
const ZONE = 'Asia/Ho_Chi_Minh';
const HOUR = 3600e3;

let redis;
let svc;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true' },
  });
});

after(async () => {
  if (svc && svc.alive()) await svc.stop();
});

function admin(method, urlPath, opts = {}) {
  const { headers = {}, ...rest } = opts;
  return request(svc.url, method, urlPath, { ...rest, headers: { Authorization: `Bearer ${TOKEN}`, ...headers } });
}

/** A query string, every value encoded ('+' of an offset must not become a space). */
function qs(params) {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

async function createPoll(def) {
  const r = await admin('POST', '/admin/v1/polls', { json: def });
  assert.equal(r.status, 201, `create ${def.id}: ${r.text}`);
  return r.json;
}

/** A ballot at `when` (RFC 3339) from a new reader (no cookie), or from `voter` (a Voter). */
async function voteAt(id, options, when, voter = null) {
  const opts = { json: { options }, headers: { 'X-Thamdo-Test-Now': when } };
  return voter
    ? voter.req('POST', `/api/v1/polls/${id}/votes`, opts)
    : request(svc.url, 'POST', `/api/v1/polls/${id}/votes`, opts);
}

async function results(id, params = {}, route = 'results') {
  const r = await admin('GET', `/admin/v1/polls/${id}/${route}${qs(params)}`);
  assert.equal(r.status, 200, `${route} ${JSON.stringify(params)}: ${r.text}`);
  assertJsonHeaders(r, route);
  return r.json;
}

/** Checks the series object's shape; returns its points as [start, {votes}, total]. */
function assertSeries(series, optionIds, bucket, what) {
  assert.deepEqual(Object.keys(series).sort(), ['bucket', 'from', 'points', 'time_zone', 'to'], `${what}: ${JSON.stringify(series)}`);
  assert.equal(series.bucket, bucket, what);
  assert.equal(series.time_zone, ZONE, what);
  assert.ok(Array.isArray(series.points), what);
  let prev = null;
  for (const p of series.points) {
    assert.deepEqual(Object.keys(p).sort(), ['start', 'total', 'votes'], `${what}: ${JSON.stringify(p)}`);
    assert.match(p.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/, `${what}: start ${p.start}`);
    assert.deepEqual(Object.keys(p.votes).sort(), [...optionIds].sort(), `${what}: votes keys ${JSON.stringify(p)}`);
    const sum = Object.values(p.votes).reduce((x, y) => x + y, 0);
    assert.equal(p.total, sum, `${what}: point total ${JSON.stringify(p)}`);
    if (prev !== null) {
      const step = Date.parse(p.start) - prev;
      if (bucket === 'hour') assert.equal(step, HOUR, `${what}: hourly points not dense at ${p.start}`);
      else assert.equal(step, 24 * HOUR, `${what}: daily points not dense at ${p.start}`); // no DST in +07:00
    }
    prev = Date.parse(p.start);
  }
  if (series.points.length) {
    assert.match(series.from, /\+07:00$/, `${what}: from ${series.from}`);
    assert.match(series.to, /\+07:00$/, `${what}: to ${series.to}`);
    assert.ok(Date.parse(series.from) <= Date.parse(series.points[0].start), `${what}: from after the first point`);
    assert.ok(Date.parse(series.to) > Date.parse(series.points.at(-1).start), `${what}: to not after the last point`);
  }
  return series.points.map((p) => [p.start, p.votes, p.total]);
}

const sumTotals = (series) => series.points.reduce((n, p) => n + p.total, 0);
function sumOption(series, id) {
  return series.points.reduce((n, p) => n + p.votes[id], 0);
}

// ------------------------------------------------------------------ a known set of ballots

const MAIN = {
  id: 'gio-doc-tin',
  question: 'Bạn đọc tin vào giờ nào?',
  options: [
    { id: 'thoi-su', label: 'Thời sự' },
    { id: 'the-thao', label: 'Thể thao' },
    { id: 'giai-tri', label: 'Giải trí' },
  ],
  results_visibility: 'never',
};
const MAIN_IDS = MAIN.options.map((o) => o.id);
// Seven readers, 1 March 22:30 to 2 March 02:10, local time (+07:00); one given in UTC.
const BALLOTS = [
  ['2026-03-01T22:30:00+07:00', 'thoi-su'],
  ['2026-03-01T22:45:10+07:00', 'the-thao'],
  ['2026-03-01T23:30:00+07:00', 'thoi-su'],
  ['2026-03-01T23:59:59+07:00', 'giai-tri'], // the last second of 1 March
  ['2026-03-02T00:00:00+07:00', 'thoi-su'], // the first second of 2 March
  ['2026-03-01T17:30:00Z', 'the-thao'], // = 2026-03-02T00:30:00+07:00
  ['2026-03-02T02:10:00+07:00', 'thoi-su'],
];
const v = (ts, tt, gt) => ({ 'thoi-su': ts, 'the-thao': tt, 'giai-tri': gt });
const HOURLY = [
  ['2026-03-01T22:00:00+07:00', v(1, 1, 0), 2],
  ['2026-03-01T23:00:00+07:00', v(1, 0, 1), 2],
  ['2026-03-02T00:00:00+07:00', v(1, 1, 0), 2],
  ['2026-03-02T01:00:00+07:00', v(0, 0, 0), 0],
  ['2026-03-02T02:00:00+07:00', v(1, 0, 0), 1],
];
const DAILY = [
  ['2026-03-01T00:00:00+07:00', v(2, 1, 1), 4],
  ['2026-03-02T00:00:00+07:00', v(2, 1, 0), 3],
];
let repeater; // a reader who voted and tries again

test('setup: seven ballots at known times, two refused duplicates', async () => {
  await createPoll(MAIN);
  const empty = await results(MAIN.id, { bucket: 'hour' });
  assert.equal(empty.total, 0);
  assert.equal(empty.voters, 0);
  assert.equal(empty.first_vote_at, null);
  assert.equal(empty.last_vote_at, null);
  assert.equal(sumTotals(empty.series), 0);
  for (const [when, option] of BALLOTS) {
    const r = await voteAt(MAIN.id, [option], when);
    assert.equal(r.status, 201, `${when} ${option}: ${r.text}`);
    assert.equal(r.json.results, null, 'visibility never: no results for the reader');
  }
  repeater = new Voter(svc.url);
  const r0 = await repeater.req('POST', `/api/v1/polls/${MAIN.id}/votes`, { json: { options: ['the-thao'] }, headers: { 'X-Thamdo-Test-Now': '2026-03-01T22:50:00+07:00' } });
  assert.equal(r0.status, 201, r0.text);
  for (const when of ['2026-03-01T23:10:00+07:00', '2026-03-02T01:30:00+07:00']) {
    const r = await repeater.req('POST', `/api/v1/polls/${MAIN.id}/votes`, { json: { options: ['giai-tri'] }, headers: { 'X-Thamdo-Test-Now': when } });
    assertError(r, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  }
});

// The repeater's ballot (the-thao at 22:50 on 1 March) is in the figures below.
const HOURLY_ALL = HOURLY.map(([s, votes, t], i) => (i === 0 ? [s, { ...votes, 'the-thao': votes['the-thao'] + 1 }, t + 1] : [s, votes, t]));
const DAILY_ALL = DAILY.map(([s, votes, t], i) => (i === 0 ? [s, { ...votes, 'the-thao': votes['the-thao'] + 1 }, t + 1] : [s, votes, t]));

test('results: totals, percentages, first and last vote, duplicates refused, whatever the public visibility', async () => {
  const res = await results(MAIN.id, { bucket: 'hour' });
  assert.deepEqual(Object.keys(res).sort(), [
    'changes', 'duplicates_refused', 'first_vote_at', 'last_vote_at', 'options', 'poll_id', 'question',
    'series', 'state', 'total', 'voters',
  ]);
  assert.equal(res.poll_id, MAIN.id);
  assert.equal(res.question, MAIN.question);
  assert.equal(res.state, 'open');
  assert.equal(res.total, 8);
  assert.equal(res.voters, 8);
  assertResults({ poll_id: res.poll_id, total: res.total, voters: res.voters, options: res.options }, MAIN, 'admin results');
  // thoi-su 4, the-thao 3, giai-tri 1 of 8: 50, 37.5, 12.5, exactly, with one decimal.
  assert.deepEqual(res.options.map((o) => [o.id, o.label, o.votes, o.percent]), [
    ['thoi-su', 'Thời sự', 4, 50], ['the-thao', 'Thể thao', 3, 37.5], ['giai-tri', 'Giải trí', 1, 12.5],
  ]);
  assert.equal(res.first_vote_at, '2026-03-01T22:30:00+07:00');
  assert.equal(res.last_vote_at, '2026-03-02T02:10:00+07:00');
  assert.equal(res.duplicates_refused, 2);
  assert.equal(res.changes, 0);
  // The public does not see them (visibility never), the editor does.
  assert.equal((await request(svc.url, 'GET', `/api/v1/polls/${MAIN.id}/results`)).status, 403);
});

test('percentages: one decimal, each rounded half up on its own (4/2/1 of 7 → 57.1/28.6/14.3)', async () => {
  await createPoll({ id: 'ty-le', question: 'Tỷ lệ?', options: MAIN.options });
  const plan = ['thoi-su', 'thoi-su', 'thoi-su', 'thoi-su', 'the-thao', 'the-thao', 'giai-tri'];
  for (let i = 0; i < plan.length; i++) {
    assert.equal((await voteAt('ty-le', [plan[i]], `2026-03-05T0${i}:00:00+07:00`)).status, 201);
  }
  const res = await results('ty-le');
  assert.deepEqual(res.options.map((o) => [o.votes, o.percent]), [[4, 57.1], [2, 28.6], [1, 14.3]]);
  assert.deepEqual(res.options.map((o) => o.percent), expectedPercents([4, 2, 1]));
  assert.equal(sumTotals(res.series), 7);
});

test('hourly series: dense, local starts, the right counts, adds up to the totals', async () => {
  const res = await results(MAIN.id, { bucket: 'hour' });
  const pts = assertSeries(res.series, MAIN_IDS, 'hour', 'hourly');
  assert.deepEqual(pts, HOURLY_ALL);
  assert.equal(sumTotals(res.series), res.total, 'the series adds up to total');
  for (const o of res.options) assert.equal(sumOption(res.series, o.id), o.votes, `series of ${o.id}`);
  // The series route gives the same series.
  const s = await results(MAIN.id, { bucket: 'hour' }, 'series');
  assert.deepEqual(Object.keys(s).sort(), ['poll_id', 'series']);
  assert.equal(s.poll_id, MAIN.id);
  assert.deepEqual(s.series, res.series);
});

test('daily series: local days; 23:59:59 belongs to 1 March, 00:00:00 and 00:30 to 2 March', async () => {
  const res = await results(MAIN.id, { bucket: 'day' });
  const pts = assertSeries(res.series, MAIN_IDS, 'day', 'daily');
  assert.deepEqual(pts, DAILY_ALL);
  assert.equal(sumTotals(res.series), res.total);
  const s = await results(MAIN.id, { bucket: 'day' }, 'series');
  assert.deepEqual(s.series, res.series);
});

test('from / to: dates (local midnight) and RFC 3339 times, in +07:00 or Z; empty days are listed', async () => {
  const cases = [
    [{ bucket: 'hour', from: '2026-03-01T23:00:00+07:00', to: '2026-03-02T01:00:00+07:00' }, HOURLY_ALL.slice(1, 3)],
    [{ bucket: 'hour', from: '2026-03-01T16:00:00Z', to: '2026-03-01T18:00:00Z' }, HOURLY_ALL.slice(1, 3)],
    [{ bucket: 'hour', from: '2026-03-02T00:00:00+07:00' }, HOURLY_ALL.slice(2)],
    [{ bucket: 'hour', to: '2026-03-02T00:00:00+07:00' }, HOURLY_ALL.slice(0, 2)],
    [{ bucket: 'day', from: '2026-03-02' }, DAILY_ALL.slice(1)],
    [{ bucket: 'day', to: '2026-03-02' }, DAILY_ALL.slice(0, 1)],
    [{ bucket: 'day', from: '2026-03-01', to: '2026-03-03' }, DAILY_ALL],
    [{ bucket: 'day', from: '2026-02-27', to: '2026-03-04' }, [
      ['2026-02-27T00:00:00+07:00', v(0, 0, 0), 0],
      ['2026-02-28T00:00:00+07:00', v(0, 0, 0), 0],
      ...DAILY_ALL,
      ['2026-03-03T00:00:00+07:00', v(0, 0, 0), 0],
    ]],
    [{ bucket: 'hour', from: '2026-03-01T20:00:00+07:00', to: '2026-03-01T22:00:00+07:00' }, [
      ['2026-03-01T20:00:00+07:00', v(0, 0, 0), 0],
      ['2026-03-01T21:00:00+07:00', v(0, 0, 0), 0],
    ]],
  ];
  for (const [params, expected] of cases) {
    for (const route of ['results', 'series']) {
      const res = await results(MAIN.id, params, route);
      const pts = assertSeries(res.series, MAIN_IDS, params.bucket, `${route} ${JSON.stringify(params)}`);
      assert.deepEqual(pts, expected, `${route} ${JSON.stringify(params)}`);
    }
  }
  // The totals are those of the whole poll whatever the range.
  const part = await results(MAIN.id, { bucket: 'day', from: '2026-03-02' });
  assert.equal(part.total, 8);
});

test('bad parameters: 400 invalid_parameter (bucket, from/to, from after to, format)', async () => {
  const bad = [
    { bucket: 'week' },
    { bucket: 'minute' },
    { bucket: '' },
    { from: 'yesterday' },
    { from: '2026-13-01' },
    { to: '2026-03-01T25:00:00+07:00' },
    { from: '2026-03-02', to: '2026-03-01' },
    { bucket: 'hour', from: '2026-03-02T01:00:00+07:00', to: '2026-03-02T00:00:00+07:00' },
    { format: 'xml' },
  ];
  for (const params of bad) {
    for (const route of ['results', 'series']) {
      const r = await admin('GET', `/admin/v1/polls/${MAIN.id}/${route}${qs(params)}`);
      assertError(r, 400, 'invalid_parameter');
    }
  }
});

test('too many buckets: 400 range_too_large above 5000; 5000 hourly buckets are fine', async () => {
  const start = Date.parse('2026-01-01T00:00:00+07:00');
  const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
  for (const route of ['results', 'series']) {
    assertError(await admin('GET', `/admin/v1/polls/${MAIN.id}/${route}${qs({ bucket: 'hour', from: '2020-01-01', to: '2026-01-01' })}`), 400, 'range_too_large');
    assertError(await admin('GET', `/admin/v1/polls/${MAIN.id}/${route}${qs({ bucket: 'day', from: '2000-01-01', to: '2026-01-01' })}`), 400, 'range_too_large');
    assertError(await admin('GET', `/admin/v1/polls/${MAIN.id}/${route}${qs({ bucket: 'hour', from: iso(start), to: iso(start + 5001 * HOUR) })}`), 400, 'range_too_large');
  }
  const ok = await results(MAIN.id, { bucket: 'hour', from: iso(start), to: iso(start + 5000 * HOUR) }, 'series');
  assert.equal(ok.series.points.length, 5000);
  assert.equal(ok.series.points[0].start, '2026-01-01T00:00:00+07:00');
  assert.equal(sumTotals(ok.series), 8, 'every ballot falls in those 5000 hours');
  const days = await results(MAIN.id, { bucket: 'day', from: '2020-01-01', to: '2026-01-01' }, 'series');
  assert.equal(days.series.points.length, 2192, 'six years of days (2020 and 2024 are leap years)');
  assert.equal(sumTotals(days.series), 0);
});

test('the test clock decides opening and closing to the second, for votes and for the state editors and readers see', async () => {
  const def = {
    id: 'khung-gio', question: 'Trong khung giờ?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }],
    opens_at: '2026-03-10T08:00:00+07:00', closes_at: '2026-03-10T12:00:00Z', // = 19:00+07:00
  };
  const created = await createPoll(def);
  assert.equal(created.opens_at, '2026-03-10T08:00:00+07:00');
  assert.equal(created.closes_at, '2026-03-10T19:00:00+07:00');
  const at = (when) => ({ headers: { 'X-Thamdo-Test-Now': when } });
  const steps = [
    ['2026-03-10T07:59:59+07:00', 'upcoming', 403, 'poll_not_open'],
    ['2026-03-10T08:00:00+07:00', 'open', 201, null],
    ['2026-03-10T18:59:59+07:00', 'open', 201, null],
    ['2026-03-10T19:00:00+07:00', 'closed', 403, 'poll_closed'],
  ];
  for (const [when, state, status, code] of steps) {
    const g = await admin('GET', '/admin/v1/polls/khung-gio', at(when));
    assert.equal(g.json.state, state, `admin state at ${when}`);
    assert.equal(g.json.status, 'open', `stored status at ${when}`);
    const pub = await request(svc.url, 'GET', '/api/v1/polls/khung-gio', at(when));
    assert.equal(pub.json.status, state, `public status at ${when}`);
    const listed = (await request(svc.url, 'GET', '/api/v1/polls', at(when))).json.polls.some((p) => p.id === 'khung-gio');
    assert.equal(listed, state === 'open', `listed at ${when}`);
    const r = await voteAt('khung-gio', ['a'], when);
    if (code) assertError(r, status, code);
    else assert.equal(r.status, status, `${when}: ${r.text}`);
    const res = await admin('GET', '/admin/v1/polls/khung-gio/results', at(when));
    assert.equal(res.json.state, state, `results state at ${when}`);
  }
  const res = await results('khung-gio', { bucket: 'day' });
  assert.equal(res.total, 2);
  assert.equal(res.first_vote_at, '2026-03-10T08:00:00+07:00');
  assert.equal(res.last_vote_at, '2026-03-10T18:59:59+07:00');
});

// ------------------------------------------------------------------ changing a vote

test('allow_change: a → b is 200 changed:true, tallies a0 b1, the series moves from the old hour to the new, total stays 1', async () => {
  const def = { id: 'doi-y', question: 'Đổi ý được không?', allow_change: true, options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] };
  await createPoll(def);
  const pub = await request(svc.url, 'GET', '/api/v1/polls/doi-y');
  assert.equal(pub.json.allow_change, true, 'the public view has allow_change');
  const reader = new Voter(svc.url);
  const first = await voteAt('doi-y', ['a'], '2026-03-01T10:15:00+07:00', reader);
  assert.equal(first.status, 201, first.text);
  const before_ = await results('doi-y', { bucket: 'hour' });
  assert.deepEqual(before_.series.points.map((p) => [p.start, p.votes.a, p.votes.b]), [['2026-03-01T10:00:00+07:00', 1, 0]]);

  const change = await voteAt('doi-y', ['b'], '2026-03-01T12:40:00+07:00', reader);
  assert.equal(change.status, 200, change.text);
  assertJsonHeaders(change, 'changed vote');
  assert.deepEqual(Object.keys(change.json).sort(), ['changed', 'choice', 'poll_id', 'results']);
  assert.equal(change.json.changed, true);
  assert.equal(change.json.poll_id, 'doi-y');
  assert.deepEqual(change.json.choice, ['b']);
  const counts = assertResults(change.json.results, def, 'results after the change');
  assert.deepEqual(counts, { a: 0, b: 1 });
  assert.equal(change.json.results.voters, 1);

  const res = await results('doi-y', { bucket: 'hour' });
  assert.equal(res.total, 1);
  assert.equal(res.voters, 1);
  assert.deepEqual(res.options.map((o) => [o.id, o.votes, o.percent]), [['a', 0, 0], ['b', 1, 100]]);
  assert.equal(res.changes, 1);
  assert.equal(res.duplicates_refused, 0);
  assert.equal(res.last_vote_at, '2026-03-01T12:40:00+07:00');
  const window = { bucket: 'hour', from: '2026-03-01T10:00:00+07:00', to: '2026-03-01T13:00:00+07:00' };
  const s = await results('doi-y', window, 'series');
  assertSeries(s.series, ['a', 'b'], 'hour', 'after the change');
  assert.deepEqual(s.series.points.map((p) => [p.start, p.votes.a, p.votes.b, p.total]), [
    ['2026-03-01T10:00:00+07:00', 0, 0, 0], // the old hour lost its vote
    ['2026-03-01T11:00:00+07:00', 0, 0, 0],
    ['2026-03-01T12:00:00+07:00', 0, 1, 1], // the new hour has it
  ]);
  assert.equal(sumTotals(res.series), 1, 'the default series adds up to total');

  // And back to a an hour later.
  const back = await voteAt('doi-y', ['a'], '2026-03-01T13:05:00+07:00', reader);
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.changed, true);
  const res2 = await results('doi-y', { bucket: 'hour' });
  assert.deepEqual(res2.options.map((o) => o.votes), [1, 0]);
  assert.equal(res2.total, 1);
  assert.equal(res2.changes, 2);
  const s2 = await results('doi-y', { ...window, to: '2026-03-01T14:00:00+07:00' }, 'series');
  assert.deepEqual(s2.series.points.map((p) => p.total), [0, 0, 0, 1]);
  assert.equal(s2.series.points[3].votes.a, 1);
  const pubRes = await request(svc.url, 'GET', '/api/v1/polls/doi-y/results');
  assert.deepEqual(assertResults(pubRes.json, def), { a: 1, b: 0 });
});

test('without allow_change a second ballot is 409 already_voted, counted in duplicates_refused, nothing moves', async () => {
  const def = { id: 'khong-doi-y', question: 'Không đổi được?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] };
  await createPoll(def);
  assert.equal((await request(svc.url, 'GET', '/api/v1/polls/khong-doi-y')).json.allow_change, false);
  const reader = new Voter(svc.url);
  assert.equal((await voteAt('khong-doi-y', ['a'], '2026-03-01T10:15:00+07:00', reader)).status, 201);
  const again = await voteAt('khong-doi-y', ['b'], '2026-03-01T12:40:00+07:00', reader);
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(again.json.choice, ['a']);
  const res = await results('khong-doi-y', { bucket: 'hour' });
  assert.deepEqual(res.options.map((o) => o.votes), [1, 0]);
  assert.equal(res.total, 1);
  assert.equal(res.duplicates_refused, 1);
  assert.equal(res.changes, 0);
  assert.equal(res.last_vote_at, '2026-03-01T10:15:00+07:00');
  assert.deepEqual(res.series.points.map((p) => [p.start, p.total]), [['2026-03-01T10:00:00+07:00', 1]]);
});

// ------------------------------------------------------------------ CSV

const CSV_POLL = {
  id: 'xuat-csv',
  question: 'Xuất CSV?',
  options: [
    { id: 'co', label: 'Có, nhưng "ít"' },
    { id: 'cong-thuc', label: '=SUM(A1:A2)' },
    { id: 'khong', label: 'Không' },
  ],
};
const BOM = [0xef, 0xbb, 0xbf];

/** Parses RFC 4180 CSV (CRLF records; quoted fields may hold commas, quotes, line breaks). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    assert.notEqual(c, '\n', `a bare LF at ${i}`);
    assert.notEqual(c, '"', `a quote inside an unquoted field at ${i}`);
    field += c; i++;
  }
  assert.equal(field, '', 'the last record must end with CRLF');
  assert.equal(row.length, 0, 'the last record must end with CRLF');
  return rows;
}

/** A CSV answer: 200, text/csv; charset=utf-8, BOM, CRLF only; returns {text (after the BOM), rows}. */
function assertCsv(r, filename, what) {
  assert.equal(r.status, 200, `${what}: ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^text\/csv;\s*charset=utf-8$/i, `${what}: ${r.headers.get('content-type')}`);
  assert.equal(r.headers.get('content-disposition'), `attachment; filename="${filename}"`, what);
  assert.deepEqual([...r.bytes.subarray(0, 3)], BOM, `${what}: starts with the UTF-8 byte-order mark`);
  const text = r.bytes.subarray(3).toString('utf8');
  assert.ok(text.endsWith('\r\n'), `${what}: ends with CRLF`);
  assert.doesNotMatch(text.replace(/\r\n/g, ''), /[\r\n]/, `${what}: only CRLF line ends`);
  assert.notEqual(text.charCodeAt(0), 0xfeff, `${what}: one byte-order mark only`);
  return { text, rows: parseCsv(text) };
}

const csvGet = (urlPath, headers = {}) => admin('GET', urlPath, { headers });

test('CSV setup: four ballots over two local days', async () => {
  await createPoll(CSV_POLL);
  for (const [when, o] of [
    ['2026-03-01T09:00:00+07:00', 'co'], ['2026-03-01T20:00:00+07:00', 'cong-thuc'],
    ['2026-03-02T08:30:00+07:00', 'khong'], ['2026-03-02T10:00:00+07:00', 'co'],
  ]) {
    assert.equal((await voteAt(CSV_POLL.id, [o], when)).status, 201);
  }
});

test('results CSV: BOM, CRLF, Vietnamese header, RFC 4180 quoting, the formula guard, the total row, the file name', async () => {
  const expected = [
    'Mã phương án,Phương án,Số phiếu,Tỷ lệ (%)',
    'co,"Có, nhưng ""ít""",2,50.0',
    'cong-thuc,"\'=SUM(A1:A2)",1,25.0',
    'khong,Không,1,25.0',
    ',Tổng cộng,4,100.0',
  ].join('\r\n') + '\r\n';
  const byFormat = await csvGet(`/admin/v1/polls/${CSV_POLL.id}/results?format=csv`);
  const a = assertCsv(byFormat, 'xuat-csv-results.csv', 'format=csv');
  assert.equal(a.text, expected);
  assert.deepEqual(a.rows[1], ['co', 'Có, nhưng "ít"', '2', '50.0']);
  assert.deepEqual(a.rows[2], ['cong-thuc', "'=SUM(A1:A2)", '1', '25.0'], 'a label starting with = is neutralised');

  const byAccept = await csvGet(`/admin/v1/polls/${CSV_POLL.id}/results`, { Accept: 'text/csv' });
  const b = assertCsv(byAccept, 'xuat-csv-results.csv', 'Accept: text/csv');
  assert.deepEqual(byAccept.bytes, byFormat.bytes, 'the same file either way');
  assert.equal(b.text, expected);

  const en = await csvGet(`/admin/v1/polls/${CSV_POLL.id}/results?format=csv&lang=en`);
  const e = assertCsv(en, 'xuat-csv-results.csv', 'lang=en');
  assert.equal(e.text.split('\r\n')[0], 'Option id,Option,Votes,Percent');
  assert.deepEqual(e.rows.slice(1, 4), a.rows.slice(1, 4), 'the same data rows in English');
  assert.deepEqual([e.rows[4][0], e.rows[4][2], e.rows[4][3]], ['', '4', '100.0'], 'the total row');

  // JSON is still the default.
  const json = await admin('GET', `/admin/v1/polls/${CSV_POLL.id}/results`);
  assert.equal(json.status, 200);
  assertJsonHeaders(json, 'results JSON');
});

test('results CSV: the percent of the JSON with one decimal (1/1/1 → 33.3); a label stored with a leading TAB or CR is neutralised', async () => {
  await createPoll({ id: 'mot-phan-ba', question: 'Ba phần?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }, { id: 'c', label: 'C' }] });
  for (const [i, o] of ['a', 'b', 'c'].entries()) assert.equal((await voteAt('mot-phan-ba', [o], `2026-03-06T0${i}:00:00+07:00`)).status, 201);
  const json = await results('mot-phan-ba');
  assert.deepEqual(json.options.map((o) => o.percent), [33.3, 33.3, 33.3]);
  // Labels are checked when written (no tab, no CR), but a label stored by an older version, or by
  // hand, is exported as it is: a TAB or CR in front of = would let a spreadsheet run it.
  const key = 'thamdo:{poll:mot-phan-ba}:def';
  const def = JSON.parse(await redis.cli('GET', key));
  def.options[0].label = '\t=1+2';
  def.options[1].label = '\r=cmd';
  await redis.cli('SET', key, JSON.stringify(def));
  const r = await csvGet('/admin/v1/polls/mot-phan-ba/results?format=csv');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(parseCsv(r.bytes.subarray(3).toString('utf8')).slice(1), [
    ['a', "'\t=1+2", '1', '33.3'], ['b', "'\r=cmd", '1', '33.3'], ['c', 'C', '1', '33.3'], ['', 'Tổng cộng', '3', '100.0'],
  ]);
});

test('series CSV: Thời điểm, one column per label, Tổng; the counts of the JSON series; file names by bucket', async () => {
  for (const bucket of ['day', 'hour']) {
    const json = await results(CSV_POLL.id, { bucket }, 'series');
    const r = await csvGet(`/admin/v1/polls/${CSV_POLL.id}/series${qs({ bucket, format: 'csv' })}`);
    const { rows, text } = assertCsv(r, `xuat-csv-series-${bucket}.csv`, `series ${bucket}`);
    assert.deepEqual(rows[0], ['Thời điểm', 'Có, nhưng "ít"', "'=SUM(A1:A2)", 'Không', 'Tổng'], `header ${bucket}`);
    assert.equal(text.split('\r\n')[0], 'Thời điểm,"Có, nhưng ""ít""","\'=SUM(A1:A2)",Không,Tổng');
    assert.equal(rows.length, json.series.points.length + 1, `one row per point (${bucket})`);
    json.series.points.forEach((p, i) => {
      const ids = CSV_POLL.options.map((o) => o.id);
      assert.deepEqual(rows[i + 1], [p.start, ...ids.map((id) => String(p.votes[id])), String(p.total)], `row ${i + 1} (${bucket})`);
    });
    const total = rows.slice(1).reduce((n, row) => n + Number(row.at(-1)), 0);
    assert.equal(total, 4, `the series CSV adds up to the total (${bucket})`);
    const byAccept = await csvGet(`/admin/v1/polls/${CSV_POLL.id}/series${qs({ bucket })}`, { Accept: 'text/csv' });
    assertCsv(byAccept, `xuat-csv-series-${bucket}.csv`, `series ${bucket} by Accept`);
    assert.deepEqual(byAccept.bytes, r.bytes);
  }
  const day = assertCsv(await csvGet(`/admin/v1/polls/${CSV_POLL.id}/series?bucket=day&format=csv`), 'xuat-csv-series-day.csv', 'day');
  assert.deepEqual(day.rows.slice(1), [
    ['2026-03-01T00:00:00+07:00', '1', '1', '0', '2'],
    ['2026-03-02T00:00:00+07:00', '1', '0', '1', '2'],
  ]);
  const en = await csvGet(`/admin/v1/polls/${CSV_POLL.id}/series?bucket=day&format=csv&lang=en`);
  const e = assertCsv(en, 'xuat-csv-series-day.csv', 'series lang=en');
  assert.deepEqual(e.rows[0], ['Start', 'Có, nhưng "ít"', "'=SUM(A1:A2)", 'Không', 'Total']);
  assert.deepEqual(e.rows.slice(1), day.rows.slice(1));
});
