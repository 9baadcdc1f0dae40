// Public API behaviour: poll listing (open or closed, newest first, never upcoming), poll
// definition, the voter cookie (format, attributes, reuse, forged / truncated / wrong version /
// other secret), voting (JSON and form bodies, with and without cookie, already_voted), results
// shape and percentages with one decimal, multiple choice, results visibility, HEAD.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, makePoll, rfc3339, request, Voter, assertError, assertResults,
  assertJsonHeaders, assertCachedJsonHeaders, expectedPercents, sleep, redisCli,
  COOKIE_NAME, COOKIE_RE, DEFAULT_MAX_AGE, OTHER_SECRET, readSettled, readFresh, TIMEOUT_SCALE,
} from './lib/harness.mjs';

// Times come back in the configured zone (Asia/Ho_Chi_Minh by default): the same
// instant as was written, spelled with its +07:00 offset.
function assertSameLocalTime(actual, expected) {
  assert.match(actual, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/, `not a local time: ${actual}`);
  assert.equal(Date.parse(actual), Date.parse(expected), `${actual} is not the instant ${expected}`);
}

const now = Date.now();
const DAY = 86400e3;

const P = {
  basic: makePoll('basic', {
    question: 'Bạn thích chuyên mục nào nhất?',
    options: [
      { id: 'tin-tuc', label: 'Tin tức - Sự kiện' },
      { id: 'the-thao', label: 'Thể thao' },
      { id: 'giai-tri', label: 'Giải trí' },
    ],
  }),
  cookies: makePoll('cookies'),
  formPoll: makePoll('form-poll', { options: ['tin-tuc', 'the-thao'] }),
  nocookie: makePoll('nocookie'),
  pct: makePoll('pct'),
  pct2: makePoll('pct2'),
  multi: makePoll('multi', { max_choices: 2, options: ['a', 'b', 'c', 'd'] }),
  dup: makePoll('dup'),
  visAfterVote: makePoll('vis-after-vote', { results_visibility: 'after_vote' }),
  visNever: makePoll('vis-never', { results_visibility: 'never' }),
  visAfterClose: makePoll('vis-after-close', { results_visibility: 'after_close' }),
  visAfterCloseClosed: makePoll('vis-after-close-closed', { results_visibility: 'after_close', status: 'closed' }),
  closed: makePoll('closed-status', { status: 'closed' }),
  upcoming: makePoll('upcoming', { opens_at: rfc3339(now + 30 * DAY), closes_at: rfc3339(now + 60 * DAY) }),
  expired: makePoll('expired', { opens_at: rfc3339(now - 60 * DAY), closes_at: rfc3339(now - 30 * DAY) }),
  window: makePoll('with-window', { opens_at: rfc3339(now - DAY), closes_at: rfc3339(now + 30 * DAY) }),
  tz: makePoll('tz-offset', { opens_at: '2020-01-01T07:00:00+07:00', closes_at: '2099-12-31T23:00:00+07:00' }),
  head: makePoll('head-poll'),
};
const ALL = Object.values(P);
const OPEN_IDS = ALL.filter((p) => !['closed-status', 'upcoming', 'expired', 'vis-after-close-closed'].includes(p.id))
  .map((p) => p.id).sort();

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, polls: ALL });
  url = svc.url;
});

const sortStr = (a) => [...a].sort();

test('GET /api/v1/polls lists the polls accepting votes, newest first, with status, times and a total', async () => {
  // The polls file is imported just after the start: read until every poll is there (bounded).
  const r = await readSettled(url, '/api/v1/polls', (x) => x.json && x.json.total === OPEN_IDS.length);
  assert.equal(r.status, 200, r.text);
  assertJsonHeaders(r, 'list');
  assert.deepEqual(Object.keys(r.json).sort(), ['limit', 'offset', 'polls', 'total']);
  assert.equal(r.json.limit, 20);
  assert.equal(r.json.offset, 0);
  assert.equal(r.json.total, OPEN_IDS.length);
  const ids = r.json.polls.map((p) => p.id);
  assert.deepEqual(sortStr(ids), OPEN_IDS, `listed ids: ${ids}`);
  // Newest first: the polls without opens_at count from their creation (this start), so they come
  // before the one that opened a day ago, which comes before the one that opened in 2020.
  assert.deepEqual(ids.slice(-2), ['with-window', 'tz-offset'], `order: ${ids}`);
  for (const p of r.json.polls) {
    assert.deepEqual(Object.keys(p).sort(), ['closes_at', 'id', 'opens_at', 'question', 'status'], JSON.stringify(p));
    const def = ALL.find((d) => d.id === p.id);
    assert.equal(p.question, def.question);
    assert.equal(p.status, 'open');
  }
  assert.equal(r.json.polls.find((p) => p.id === 'basic').closes_at, null);
  assert.equal(r.json.polls.find((p) => p.id === 'basic').opens_at, null);
  assertSameLocalTime(r.json.polls.find((p) => p.id === 'with-window').closes_at, P.window.closes_at);
  assertSameLocalTime(r.json.polls.find((p) => p.id === 'with-window').opens_at, P.window.opens_at);
  assert.equal(typeof r.json.polls.find((p) => p.id === 'tz-offset').closes_at, 'string');
});

test('GET /api/v1/polls?status=closed|all: closed polls, never upcoming ones', async () => {
  const closed = await request(url, 'GET', '/api/v1/polls?status=closed&limit=100');
  assert.equal(closed.status, 200, closed.text);
  assert.deepEqual(sortStr(closed.json.polls.map((p) => p.id)), ['closed-status', 'expired', 'vis-after-close-closed']);
  assert.ok(closed.json.polls.every((p) => p.status === 'closed'));
  assert.equal(closed.json.total, 3);
  assert.equal(closed.json.polls.at(-1).id, 'expired', 'expired opened 60 days ago: the oldest');
  const all = await request(url, 'GET', '/api/v1/polls?status=all&limit=100');
  assert.equal(all.json.total, OPEN_IDS.length + 3);
  assert.ok(!all.json.polls.some((p) => p.id === 'upcoming'), 'an upcoming poll is never listed');
});

test('GET poll: definition fields, voted=false, choice=null, cookie issued with attributes', async () => {
  const v = new Voter(url);
  const r = await v.get('basic');
  assert.equal(r.status, 200, r.text);
  assertCachedJsonHeaders(r, 'poll');
  assert.deepEqual(Object.keys(r.json).sort(), [
    'allow_change', 'choice', 'closes_at', 'id', 'max_choices', 'opens_at', 'options', 'question',
    'results', 'results_visibility', 'status', 'voted',
  ]);
  assert.equal(r.json.id, 'basic');
  assert.equal(r.json.question, P.basic.question);
  assert.deepEqual(r.json.options, P.basic.options);
  assert.equal(r.json.max_choices, 1);
  assert.equal(r.json.opens_at, null);
  assert.equal(r.json.closes_at, null);
  assert.equal(r.json.status, 'open');
  assert.equal(r.json.results_visibility, 'always');
  assert.equal(r.json.voted, false);
  assert.equal(r.json.choice, null);
  // visibility "always": results shown even to a non-voter
  const counts = assertResults(r.json.results, P.basic, 'GET basic results');
  assert.equal(r.json.results.total, 0);
  assert.deepEqual(Object.values(counts), [0, 0, 0]);

  assert.equal(r.issuedCount, 1, `exactly one Set-Cookie for ${COOKIE_NAME}: ${r.headers.get('set-cookie')}`);
  const c = r.issued;
  assert.match(c.value, COOKIE_RE, `cookie value ${c.value}`);
  assert.equal(c.attrs.httponly, true, c.raw);
  assert.equal(c.attrs.path, '/', c.raw);
  assert.equal(c.attrs.samesite, 'Lax', c.raw);
  assert.equal(c.attrs['max-age'], DEFAULT_MAX_AGE, c.raw);
  assert.equal(c.attrs.secure, undefined, `Secure must not be set by default: ${c.raw}`);
});

test('GET poll with dates: opens_at / closes_at echoed; effective status for upcoming / expired / closed', async () => {
  let r = await request(url, 'GET', '/api/v1/polls/with-window');
  assert.equal(r.status, 200, r.text);
  assertSameLocalTime(r.json.opens_at, P.window.opens_at);
  assertSameLocalTime(r.json.closes_at, P.window.closes_at);
  assert.equal(r.json.status, 'open');
  r = await request(url, 'GET', '/api/v1/polls/upcoming');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'upcoming');
  assertSameLocalTime(r.json.opens_at, P.upcoming.opens_at);
  r = await request(url, 'GET', '/api/v1/polls/expired');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'closed');
  r = await request(url, 'GET', '/api/v1/polls/closed-status');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'closed');
  r = await request(url, 'GET', '/api/v1/polls/tz-offset');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'open');
  assert.equal(r.json.closes_at, '2099-12-31T23:00:00+07:00', 'times are shown in the configured zone');
});

test('valid cookie is reused: no new Set-Cookie on GET or POST; found among other cookies', async () => {
  const v = new Voter(url);
  const first = await v.get('cookies');
  assert.ok(first.issued, 'first GET issues a cookie');
  const cookie = v.cookie;
  const again = await v.get('cookies');
  assert.equal(again.status, 200);
  assert.equal(again.issuedCount, 0, `valid cookie re-issued: ${again.headers.get('set-cookie')}`);
  const vote = await v.vote('cookies', ['opt-a']);
  assert.equal(vote.status, 201, vote.text);
  assert.equal(vote.issuedCount, 0, `valid cookie re-issued on vote: ${vote.headers.get('set-cookie')}`);
  assert.equal(v.cookie, cookie);
  // the cookie is found among other cookies in the Cookie header
  const r = await request(url, 'GET', '/api/v1/polls/cookies', {
    cookie: `foo=bar; ${COOKIE_NAME}=${cookie}; _ga=GA1.2.3`,
  });
  assert.equal(r.status, 200);
  assert.equal(r.json.voted, true);
  assert.deepEqual(r.json.choice, ['opt-a']);
  assert.equal(r.setCookies.filter((c) => c.name === COOKIE_NAME).length, 0);
});

/** A voter who voted on `cookies`; variants of its cookie must not be trusted. */
async function votedVoter() {
  const v = new Voter(url);
  await v.get('cookies');
  const r = await v.vote('cookies', ['opt-b']);
  assert.equal(r.status, 201, r.text);
  const check = await v.get('cookies');
  assert.equal(check.json.voted, true, 'sanity: the original cookie shows voted=true');
  return v.cookie;
}

function replaceAt(s, i) {
  const c = s[i] === 'A' ? 'B' : 'A';
  return s.slice(0, i) + c + s.slice(i + 1);
}

async function assertUntrusted(badValue, what) {
  const r = await request(url, 'GET', '/api/v1/polls/cookies', { cookie: `${COOKIE_NAME}=${badValue}` });
  assert.equal(r.status, 200, `${what}: ${r.text}`);
  assert.equal(r.json.voted, false, `${what}: untrusted cookie ${badValue} showed voted=true`);
  assert.equal(r.json.choice, null, what);
  const issued = r.setCookies.filter((c) => c.name === COOKIE_NAME);
  assert.equal(issued.length, 1, `${what}: a new cookie must be issued`);
  assert.match(issued[0].value, COOKIE_RE, what);
  assert.notEqual(issued[0].value, badValue, what);
}

test('forged cookie (one signature char changed) is not trusted', async () => {
  const good = await votedVoter();
  const sigStart = 3 + 22 + 1;
  await assertUntrusted(replaceAt(good, sigStart + 10), 'signature char changed');
  await assertUntrusted(replaceAt(good, sigStart), 'first signature char changed');
  await assertUntrusted(replaceAt(good, 3 + 5), 'id char changed, signature kept');
});

test('truncated cookie, v2 version, garbage are not trusted', async () => {
  const good = await votedVoter();
  await assertUntrusted(good.slice(0, -1), 'truncated by one char');
  await assertUntrusted(good.slice(0, 3 + 22 + 1 + 20), 'truncated signature');
  await assertUntrusted(good.slice(0, 3 + 22), 'no signature');
  await assertUntrusted(`v2.${good.slice(3)}`, 'v2 version');
  await assertUntrusted(`${good}A`, 'one char appended');
  await assertUntrusted('garbage', 'garbage');
  await assertUntrusted('', 'empty');
});

test('forged cookie on POST: the vote counts for a new voter, a new cookie is issued', async () => {
  const good = await votedVoter();
  const forged = replaceAt(good, 3 + 22 + 1 + 10);
  const r = await request(url, 'POST', '/api/v1/polls/cookies/votes', {
    cookie: `${COOKIE_NAME}=${forged}`, json: { options: ['opt-c'] },
  });
  assert.equal(r.status, 201, `forged cookie must not be treated as the original voter: ${r.status} ${r.text}`);
  const issued = r.setCookies.filter((c) => c.name === COOKIE_NAME);
  assert.equal(issued.length, 1);
  assert.match(issued[0].value, COOKIE_RE);
  assert.notEqual(issued[0].value, good);
});

test('cookie signed by another secret (second thamdo, same redis) is not trusted', async () => {
  const other = await startThamdo({ redis, polls: ALL, secret: OTHER_SECRET });
  try {
    const v = new Voter(other.url);
    const g = await v.get('cookies');
    assert.ok(g.issued, 'other instance issues a cookie');
    const vote = await v.vote('cookies', ['opt-a']);
    assert.equal(vote.status, 201, vote.text);
    const check = await v.get('cookies');
    assert.equal(check.json.voted, true, 'sanity: the other instance recognises its own cookie');
    await assertUntrusted(v.cookie, 'cookie signed by another secret');
  } finally {
    await other.stop();
  }
});

test('vote with JSON body → 201; again → 409 already_voted with earlier choice; GET shows voted', async () => {
  const v = new Voter(url);
  await v.get('basic');
  const before = await readFresh(url, '/api/v1/polls/basic/results');
  const total0 = before.json.total;
  const r = await v.vote('basic', ['tin-tuc']);
  assert.equal(r.status, 201, r.text);
  assertJsonHeaders(r, 'vote');
  assert.deepEqual(Object.keys(r.json).sort(), ['choice', 'poll_id', 'results']);
  assert.equal(r.json.poll_id, 'basic');
  assert.deepEqual(r.json.choice, ['tin-tuc']);
  const counts = assertResults(r.json.results, P.basic, '201 results');
  assert.equal(r.json.results.total, total0 + 1);
  assert.equal(counts['tin-tuc'], before.json.options.find((o) => o.id === 'tin-tuc').votes + 1);

  const again = await v.vote('basic', ['the-thao']);
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(again.json.choice, ['tin-tuc']);
  assertResults(again.json.results, P.basic, '409 results');
  assert.equal(again.json.results.total, total0 + 1, 'the second vote did not count');

  const g = await v.get('basic');
  assert.equal(g.json.voted, true);
  assert.deepEqual(g.json.choice, ['tin-tuc']);
  assert.equal(g.json.results.total, total0 + 1);
});

test('vote with Content-Type "application/json; charset=utf-8" is accepted', async () => {
  const v = new Voter(url);
  await v.get('basic');
  const r = await v.vote('basic', ['giai-tri'], { headers: { 'content-type': 'application/json; charset=utf-8' } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.choice, ['giai-tri']);
});

test('form body vote option=x with X-Thamdo: 1 → 201', async () => {
  const v = new Voter(url);
  await v.get('form-poll');
  const r = await v.req('POST', '/api/v1/polls/form-poll/votes', { form: 'option=the-thao', headers: { 'X-Thamdo': '1' } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.choice, ['the-thao']);
  assert.equal(r.json.results.options.find((o) => o.id === 'the-thao').votes, 1);
  const g = await v.get('form-poll');
  assert.equal(g.json.voted, true);
  assert.deepEqual(g.json.choice, ['the-thao']);
});

test('vote without any cookie → 201 with Set-Cookie; that cookie then shows voted=true', async () => {
  const r = await request(url, 'POST', '/api/v1/polls/nocookie/votes', { json: { options: ['opt-b'] } });
  assert.equal(r.status, 201, r.text);
  const issued = r.setCookies.filter((c) => c.name === COOKIE_NAME);
  assert.equal(issued.length, 1, `Set-Cookie: ${r.headers.get('set-cookie')}`);
  assert.match(issued[0].value, COOKIE_RE);
  assert.equal(issued[0].attrs.httponly, true);
  assert.equal(issued[0].attrs.path, '/');
  const v = new Voter(url, { cookie: issued[0].value });
  const g = await v.get('nocookie');
  assert.equal(g.status, 200);
  assert.equal(g.issuedCount, 0, 'cookie from the vote is valid, not re-issued');
  assert.equal(g.json.voted, true);
  assert.deepEqual(g.json.choice, ['opt-b']);
  const again = await v.vote('nocookie', ['opt-a']);
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(again.json.choice, ['opt-b']);
});

test('results endpoint shape', async () => {
  const r = await request(url, 'GET', '/api/v1/polls/basic/results');
  assert.equal(r.status, 200, r.text);
  assertCachedJsonHeaders(r, 'results');
  const counts = assertResults(r.json, P.basic, '/results');
  assert.ok(r.json.total >= 1, 'basic has votes from earlier tests');
  assert.equal(r.json.voters, r.json.total, 'single choice: voters == total');
  assert.ok(counts['tin-tuc'] >= 1);
});

test('percentages: 1/1/1 → 33.3 each (equal votes, equal shares); 1/2/4 → 14.3/28.6/57.1; written with one decimal', async () => {
  for (const o of ['opt-a', 'opt-b', 'opt-c']) {
    const v = new Voter(url);
    await v.get('pct');
    const r = await v.vote('pct', [o]);
    assert.equal(r.status, 201, r.text);
  }
  let r = await readSettled(url, '/api/v1/polls/pct/results', (x) => x.json?.total === 3);
  assert.equal(r.status, 200);
  assertResults(r.json, P.pct);
  assert.equal(r.json.total, 3);
  assert.equal(r.json.voters, 3);
  assert.deepEqual(r.json.options.map((o) => o.percent), [33.3, 33.3, 33.3]);
  assert.deepEqual(r.json.options.map((o) => o.votes), [1, 1, 1]);
  // The bytes: 33.3 as written, not a binary expansion like 33.299999999999997.
  assert.equal((r.text.match(/"percent":33\.3[,}]/g) || []).length, 3, r.text);

  const want = { 'opt-a': 1, 'opt-b': 2, 'opt-c': 4 };
  for (const [o, n] of Object.entries(want)) {
    for (let i = 0; i < n; i++) {
      const x = await request(url, 'POST', '/api/v1/polls/pct2/votes', { json: { options: [o] } });
      assert.equal(x.status, 201, x.text);
    }
  }
  r = await readSettled(url, '/api/v1/polls/pct2/results', (x) => x.json?.total === 7);
  assertResults(r.json, P.pct2);
  assert.equal(r.json.total, 7);
  const byId = Object.fromEntries(r.json.options.map((o) => [o.id, o]));
  const exp = expectedPercents([1, 2, 4]);
  assert.deepEqual(exp, [14.3, 28.6, 57.1]);
  assert.deepEqual([byId['opt-a'].percent, byId['opt-b'].percent, byId['opt-c'].percent], exp, JSON.stringify(r.json));
  // Before any vote: every percent is 0.
  const empty = await request(url, 'GET', '/api/v1/polls/head-poll/results');
  assert.ok(empty.json.options.every((o) => o.percent === 0), empty.text);
});

test('multiple choice (max_choices 2): two accepted, three → too_many_options, duplicates count once', async () => {
  const v1 = new Voter(url);
  await v1.get('multi');
  let r = await v1.vote('multi', ['a', 'b']);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(sortStr(r.json.choice), ['a', 'b']);
  assert.equal(r.json.results.total, 2);
  assert.equal(r.json.results.voters, 1);

  const v2 = new Voter(url);
  await v2.get('multi');
  r = await v2.vote('multi', ['a', 'b', 'c']);
  assertError(r, 400, 'too_many_options');
  const g2 = await v2.get('multi');
  assert.equal(g2.json.voted, false, 'a rejected ballot does not count');

  const v3 = new Voter(url);
  await v3.get('multi');
  r = await v3.vote('multi', ['c', 'c', 'd']);
  assert.equal(r.status, 201, `duplicates count once: ${r.text}`);
  assert.deepEqual(sortStr(r.json.choice), ['c', 'd']);

  const v4 = new Voter(url);
  await v4.get('multi');
  r = await v4.voteForm('multi', ['a', 'a', 'a']);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.choice, ['a']);

  const v5 = new Voter(url);
  await v5.get('multi');
  r = await v5.vote('multi', ['b', 'b', 'c', 'c', 'd']);
  assertError(r, 400, 'too_many_options');

  r = await readSettled(url, '/api/v1/polls/multi/results', (x) => x.json?.total === 5);
  const counts = assertResults(r.json, P.multi);
  assert.deepEqual(counts, { a: 2, b: 1, c: 1, d: 1 });
  assert.equal(r.json.total, 5);
  assert.equal(r.json.voters, 3);
  const g = await v1.get('multi');
  assert.deepEqual(sortStr(g.json.choice), ['a', 'b']);
  assert.equal(g.json.max_choices, 2);
});

test('single choice: duplicated option counts once', async () => {
  const v = new Voter(url);
  await v.get('dup');
  const r = await v.vote('dup', ['opt-a', 'opt-a']);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.choice, ['opt-a']);
  const res = await readSettled(url, '/api/v1/polls/dup/results', (x) => x.json?.total === 1);
  assert.deepEqual(assertResults(res.json, P.dup), { 'opt-a': 1, 'opt-b': 0, 'opt-c': 0 });
});

test('visibility after_vote: hidden before voting, shown after', async () => {
  const v = new Voter(url);
  let g = await v.get('vis-after-vote');
  assert.equal(g.status, 200);
  assert.equal(g.json.results_visibility, 'after_vote');
  assert.equal(g.json.results, null);
  let r = await v.results('vis-after-vote');
  assertError(r, 403, 'results_hidden');
  const anon = await request(url, 'GET', '/api/v1/polls/vis-after-vote/results');
  assertError(anon, 403, 'results_hidden');

  const vote = await v.vote('vis-after-vote', ['opt-c']);
  assert.equal(vote.status, 201, vote.text);
  assertResults(vote.json.results, P.visAfterVote, 'results in the 201 of an after_vote poll (reader has now voted)');
  assert.equal(vote.json.results.total, 1);

  g = await v.get('vis-after-vote');
  assertResults(g.json.results, P.visAfterVote, 'GET after vote');
  assert.equal(g.json.results.total, 1);
  r = await v.results('vis-after-vote');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.total, 1);
  assert.equal(r.json.options.find((o) => o.id === 'opt-c').votes, 1);

  // still hidden from someone else who has not voted
  const w = new Voter(url);
  g = await w.get('vis-after-vote');
  assert.equal(g.json.results, null);
  assertError(await w.results('vis-after-vote'), 403, 'results_hidden');
  // a 409 to the voter carries the results
  const again = await v.vote('vis-after-vote', ['opt-a']);
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assertResults(again.json.results, P.visAfterVote, '409 results');
});

test('visibility never: results always null, /results 403 even after voting', async () => {
  const v = new Voter(url);
  let g = await v.get('vis-never');
  assert.equal(g.json.results, null);
  assertError(await v.results('vis-never'), 403, 'results_hidden');
  const vote = await v.vote('vis-never', ['opt-a']);
  assert.equal(vote.status, 201, vote.text);
  assert.equal(vote.json.results, null);
  g = await v.get('vis-never');
  assert.equal(g.json.voted, true);
  assert.equal(g.json.results, null);
  assertError(await v.results('vis-never'), 403, 'results_hidden');
  const again = await v.vote('vis-never', ['opt-b']);
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.equal(again.json.results, null);
});

test('visibility after_close: null while open (also after voting); shown once closed', async () => {
  const v = new Voter(url);
  let g = await v.get('vis-after-close');
  assert.equal(g.json.results, null);
  assertError(await v.results('vis-after-close'), 403, 'results_hidden');
  const vote = await v.vote('vis-after-close', ['opt-a']);
  assert.equal(vote.status, 201, vote.text);
  assert.equal(vote.json.results, null);
  g = await v.get('vis-after-close');
  assert.equal(g.json.results, null);
  assertError(await v.results('vis-after-close'), 403, 'results_hidden');

  // closed by status: shown to everyone, total 0 → all percents 0
  g = await request(url, 'GET', '/api/v1/polls/vis-after-close-closed');
  assert.equal(g.json.status, 'closed');
  assertResults(g.json.results, P.visAfterCloseClosed, 'closed after_close poll');
  assert.equal(g.json.results.total, 0);
  assert.equal(g.json.results.voters, 0);
  assert.ok(g.json.results.options.every((o) => o.percent === 0 && o.votes === 0));
  const r = await request(url, 'GET', '/api/v1/polls/vis-after-close-closed/results');
  assert.equal(r.status, 200, r.text);
  assertResults(r.json, P.visAfterCloseClosed);
});

test('after_close poll whose closes_at passes: votes before, poll_closed and visible results after', async () => {
  // separate key prefix on the same redis, so the other polls are untouched
  // 5 s from now leaves the start and the first vote time enough; under valgrind (make valgrind) a
  // start alone can take that long: 15 s.
  const closesAt = Math.ceil((Date.now() + 5000 * Math.min(TIMEOUT_SCALE, 3)) / 1000) * 1000;
  const soon = makePoll('soon', { results_visibility: 'after_close', closes_at: rfc3339(closesAt) });
  const t = await startThamdo({ redis, polls: [soon], env: { THAMDO_KEY_PREFIX: 'soon-test:' } });
  try {
    const v = new Voter(t.url);
    const g = await v.get('soon');
    assert.equal(g.json.status, 'open');
    assert.equal(g.json.results, null);
    const vote = await v.vote('soon', ['opt-b']);
    assert.ok(Date.now() < closesAt, 'test setup too slow: vote sent after closes_at');
    assert.equal(vote.status, 201, vote.text);
    assert.equal(vote.json.results, null);
    await sleep(Math.max(0, closesAt - Date.now()) + 1100);
    const after = await v.get('soon');
    assert.equal(after.json.status, 'closed');
    assertResults(after.json.results, soon, 'after close');
    assert.equal(after.json.results.total, 1);
    const late = await new Voter(t.url).vote('soon', ['opt-a']);
    assertError(late, 403, 'poll_closed');
    const list = await request(t.url, 'GET', '/api/v1/polls');
    assert.deepEqual(list.json.polls, []);
    // keys really live under the other prefix
    assert.equal(await redisCli(redis.port, 'exists', 'soon-test:{poll:soon}:def'), '1');
    assert.equal(await redisCli(redis.port, 'exists', 'thamdo:{poll:soon}:def'), '0');
  } finally {
    await t.stop();
  }
});

test('HEAD works where GET does', async () => {
  for (const p of ['/api/v1/polls', '/api/v1/polls/head-poll', '/api/v1/polls/head-poll/results', '/healthz', '/readyz']) {
    const r = await request(url, 'HEAD', p);
    assert.equal(r.status, 200, `HEAD ${p}`);
    assert.equal(r.text, '', `HEAD ${p} has no body`);
    assert.match(r.headers.get('content-type') || '', /^application\/json/i, `HEAD ${p}`);
  }
  const h = await request(url, 'HEAD', '/api/v1/polls/no-such-poll');
  assert.equal(h.status, 404);
  assert.equal(h.text, '');
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
