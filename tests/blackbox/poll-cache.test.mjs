// Poll reads from each worker's cache: what a reader without a ballot gets carries an ETag and is
// revalidated with 304; a reader who voted is answered by Redis (their ballot) and carries the
// "voted polls" cookie; a reader whose id predates that cookie is answered by Redis too; the
// cookie can only hide one's own ballot, never let one vote twice; a vote or an edit made through
// one instance is seen by another one well within a second (the change is published).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, makePoll, request, Voter, assertError, assertCachedJsonHeaders, sleep,
} from './lib/harness.mjs';

const TOKEN = 'cache-test-token-3e8a61f0b9d2c754';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const P = {
  open: makePoll('bo-nho', { options: ['a', 'b'] }),
  afterVote: makePoll('sau-khi-bau', { options: ['a', 'b'], results_visibility: 'after_vote' }),
  twice: makePoll('hai-noi', { options: ['a', 'b'] }),
  edited: makePoll('duoc-sua', { options: ['a', 'b'] }),
};

let redis;
let a;
let b;

before(async () => {
  redis = await startRedis();
  const env = { THAMDO_ADMIN_TOKENS: TOKEN };
  a = await startThamdo({ redis, polls: Object.values(P), env });
  b = await startThamdo({ redis, polls: Object.values(P), env });
});

after(async () => {
  for (const t of [a, b]) if (t && t.alive()) await t.stop();
  if (redis) await redis.stop();
});

/** Polls fn until check(result) holds, at most `ms`; returns the last result. */
async function within(ms, fn, check) {
  const until = Date.now() + ms;
  let r = await fn();
  while (!check(r) && Date.now() < until) {
    await sleep(25);
    r = await fn();
  }
  return r;
}

test('ETag and 304: the same answer is not sent twice; a vote changes the ETag', async () => {
  const r1 = await request(a.url, 'GET', `/api/v1/polls/${P.open.id}/results`);
  assert.equal(r1.status, 200, r1.text);
  assertCachedJsonHeaders(r1, 'results');
  const tag = r1.headers.get('etag');
  const r2 = await request(a.url, 'GET', `/api/v1/polls/${P.open.id}/results`, { headers: { 'If-None-Match': `W/"0000000000000000", ${tag}` } });
  assert.equal(r2.status, 304, r2.text);
  assert.equal(r2.text, '', '304 has no body');
  assert.equal(r2.headers.get('etag'), tag);
  const other = await request(a.url, 'GET', `/api/v1/polls/${P.open.id}/results`, { headers: { 'If-None-Match': '"0000000000000000"' } });
  assert.equal(other.status, 200, 'another tag: the answer');

  const v = new Voter(a.url);
  assert.equal((await v.vote(P.open.id, ['a'])).status, 201);
  // The read may reach the other worker, whose cache hears of the vote when it is published.
  const r3 = await within(2500, () => request(a.url, 'GET', `/api/v1/polls/${P.open.id}/results`, { headers: { 'If-None-Match': tag } }),
    (x) => x.status === 200);
  assert.equal(r3.status, 200, 'the tallies changed: a new answer');
  assert.notEqual(r3.headers.get('etag'), tag);
  assert.equal(r3.json.options.find((o) => o.id === 'a').votes, r1.json.options.find((o) => o.id === 'a').votes + 1);
});

test('a reader who voted is answered with their ballot and keeps the "voted polls" cookie', async () => {
  const v = new Voter(a.url);
  const g = await v.get(P.open.id);
  assert.equal(g.status, 200);
  assert.ok(g.votedCookie, 'the voted-polls cookie comes with a new voter id');
  assert.match(g.votedCookie.value, /^s1\.[0-9a-f]{32}$/);
  assert.equal(g.votedCookie.attrs.httponly, true);
  const before0 = v.voted;
  const vote = await v.vote(P.open.id, ['b']);
  assert.equal(vote.status, 201, vote.text);
  assert.ok(vote.votedCookie, 'the vote sets this poll\'s bit');
  assert.notEqual(v.voted, before0);
  for (const on of [a, b]) {
    const again = await v.get(P.open.id, { base: on.url });
    assert.equal(again.status, 200);
    assert.equal(again.json.voted, true, 'the ballot is shown');
    assert.deepEqual(again.json.choice, ['b']);
    assert.equal(again.headers.get('cache-control'), 'no-store', 'a reader\'s own ballot is not kept by caches');
    assert.equal(again.headers.get('etag'), null);
  }
});

test('a reader whose id predates the voted-polls cookie: Redis is asked, their ballot is shown', async () => {
  const v = new Voter(a.url, { voted: false });
  assert.equal((await v.vote(P.open.id, ['a'])).status, 201);
  assert.equal(v.voted, null);
  const g = await v.get(P.open.id, { base: b.url });
  assert.equal(g.json.voted, true);
  assert.deepEqual(g.json.choice, ['a']);
});

test('the voted-polls cookie cannot let a reader vote twice, or see after_vote results without voting', async () => {
  const v = new Voter(a.url);
  await v.get(P.afterVote.id);
  assertError(await v.results(P.afterVote.id), 403, 'results_hidden');
  v.voted = `s1.${'f'.repeat(32)}`; // every bit set: Redis is asked, and says no ballot
  assertError(await v.results(P.afterVote.id), 403, 'results_hidden');
  assert.equal((await v.get(P.afterVote.id)).json.results, null);
  v.voted = `s1.${'0'.repeat(32)}`;
  assert.equal((await v.vote(P.afterVote.id, ['a'])).status, 201);
  assert.equal((await v.results(P.afterVote.id)).status, 200, 'a voter sees after_vote results');
  v.voted = `s1.${'0'.repeat(32)}`; // the bit cleared by hand: the reader's own ballot is hidden from them
  const g = await v.get(P.afterVote.id);
  assert.equal(g.json.voted, false);
  const again = await v.vote(P.afterVote.id, ['b']);
  assert.equal(again.status, 409, 'Redis still knows the ballot');
  assert.deepEqual(again.json.choice, ['a']);
  assert.ok(again.votedCookie, 'and the bit is set again');
  assert.equal((await v.get(P.afterVote.id)).json.voted, true);
  const res = await request(a.url, 'GET', `/api/v1/polls/${P.afterVote.id}/results`);
  assertError(res, 403, 'results_hidden');
});

test('a vote through one instance is in the other one\'s cached results within a second (published, or fetched again)', async () => {
  const read = () => request(b.url, 'GET', `/api/v1/polls/${P.twice.id}/results`);
  const first = await read();
  assert.equal(first.json.total, 0);
  const v = new Voter(a.url);
  const sent = Date.now();
  assert.equal((await v.vote(P.twice.id, ['b'])).status, 201);
  const seen = await within(3000, read, (r) => r.json.total === 1);
  assert.equal(seen.json.total, 1, 'seen on the other instance');
  assert.ok(Date.now() - sent < 3000);
  assert.equal(seen.json.options.find((o) => o.id === 'b').votes, 1);
});

test('an edit through one instance is in the other one\'s cached poll within a second', async () => {
  const read = () => request(b.url, 'GET', `/api/v1/polls/${P.edited.id}`);
  assert.equal((await read()).json.question, P.edited.question);
  const edit = await request(a.url, 'PATCH', `/admin/v1/polls/${P.edited.id}`, { headers: AUTH, json: { question: 'Câu hỏi mới?' } });
  assert.equal(edit.status, 200, edit.text);
  const seen = await within(3000, read, (r) => r.json.question === 'Câu hỏi mới?');
  assert.equal(seen.json.question, 'Câu hỏi mới?');
  const archive = await request(a.url, 'DELETE', `/admin/v1/polls/${P.edited.id}`, { headers: AUTH });
  assert.equal(archive.status, 200, archive.text);
  const gone = await within(3000, read, (r) => r.status === 404);
  assertError(gone, 404, 'poll_not_found');
});

test('more polls asked for than a worker keeps (4096): the least recently used go, answers stay right', async () => {
  const ids = Array.from({ length: 4300 }, (_, i) => `khong-co-${i}`);
  for (let i = 0; i < ids.length; i += 50) {
    const rs = await Promise.all(ids.slice(i, i + 50).map((id) => request(a.url, 'GET', `/api/v1/polls/${id}/results`, { timeout: 10000 })));
    for (const r of rs) assertError(r, 404, 'poll_not_found');
  }
  const r = await request(a.url, 'GET', `/api/v1/polls/${P.open.id}/results`);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.total >= 3, 'the tallies of earlier tests');
  assert.ok(a.alive());
});
