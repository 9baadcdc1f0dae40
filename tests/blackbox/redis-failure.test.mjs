// Redis failures with the service running (THAMDO_REDIS_TIMEOUT_MS=500): a hung (SIGSTOP) and
// a dead (SIGTERM) redis give 503 store_unavailable + Retry-After within bounded time; after
// SIGCONT / restart on the same port (AOF keeps the data) the service recovers; SCRIPT FLUSH
// (NOSCRIPT) does not break voting.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, makePoll, request, Voter, assertError, assertResults, waitForStatus,
  tmpDir, sleep, readFresh,
} from './lib/harness.mjs';

const BOUND_MS = 5000;
const P = {
  main: makePoll('main'),
  hang: makePoll('hang'),
  flush: makePoll('flush'),
};

let redis;
let redisDir;
let svc;
let url;

before(async () => {
  redisDir = tmpDir('thamdo-redis-aof-');
  redis = await startRedis({ persistDir: redisDir });
  svc = await startThamdo({ redis, polls: Object.values(P), env: { THAMDO_REDIS_TIMEOUT_MS: '500' } });
  url = svc.url;
});

function assertUnavailable(r, what) {
  assertError(r, 503, 'store_unavailable');
  assert.equal(r.headers.get('retry-after'), '1', `${what}: Retry-After`);
  assert.ok(r.elapsed < BOUND_MS, `${what}: answered after ${r.elapsed} ms (bound ${BOUND_MS} ms)`);
}

/**
 * readyz may report from a probe rather than per request: poll it until 503, every request
 * bounded, the whole wait bounded by BOUND_MS since the failure started at `since`.
 */
async function readyzUnavailableWithin(since, what) {
  let last;
  for (let i = 0; i < 100; i++) {
    last = await request(url, 'GET', '/readyz', { timeout: 10000 });
    assert.ok(last.elapsed < BOUND_MS, `${what}: a readyz request took ${last.elapsed} ms`);
    if (last.status === 503) break;
    assert.equal(last.status, 200, `${what}: readyz ${last.status} ${last.text}`);
    assert.ok(Date.now() - since < BOUND_MS, `${what}: readyz still 200 ${Date.now() - since} ms after the failure`);
    await sleep(100);
  }
  assertError(last, 503, 'store_unavailable');
  assert.equal(last.headers.get('retry-after'), '1', `${what}: Retry-After`);
  assert.ok(Date.now() - since < BOUND_MS, `${what}: readyz 503 only after ${Date.now() - since} ms`);
}

test('baseline: ready, votes work', async () => {
  const r = await request(url, 'GET', '/readyz');
  assert.equal(r.status, 200);
  const v = new Voter(url);
  assert.equal((await v.vote('main', ['opt-a'])).status, 201);
  assert.equal((await v.vote('hang', ['opt-a'])).status, 201);
});

test('SCRIPT FLUSH on redis: the next vote still works (NOSCRIPT fallback)', async () => {
  const v1 = new Voter(url);
  assert.equal((await v1.vote('flush', ['opt-a'])).status, 201);
  assert.equal(await redis.cli('script', 'flush'), 'OK');
  const v2 = new Voter(url);
  const r = await v2.vote('flush', ['opt-b']);
  assert.equal(r.status, 201, `vote after SCRIPT FLUSH: ${r.status} ${r.text}`);
  // and the already-voted path still works after a second flush
  assert.equal(await redis.cli('script', 'flush'), 'OK');
  const again = await v2.vote('flush', ['opt-c']);
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(again.json.choice, ['opt-b']);
  const res = await request(url, 'GET', '/api/v1/polls/flush/results');
  assert.deepEqual(assertResults(res.json, P.flush), { 'opt-a': 1, 'opt-b': 1, 'opt-c': 0 });
});

test('hung redis (SIGSTOP): 503 store_unavailable within bounded time, recovers after SIGCONT', async () => {
  const before = await readFresh(url, '/api/v1/polls/main/results');
  assert.equal(before.status, 200);
  redis.pause();
  const since = Date.now();
  try {
    const vote = await request(url, 'POST', '/api/v1/polls/hang/votes', { json: { options: ['opt-b'] }, timeout: 10000 });
    assertUnavailable(vote, 'vote with hung redis');
    // A poll read may still come from the cache for up to a second after Redis last answered
    // (and then says exactly what Redis said); after that it is 503 like everything else.
    const cachedOr503 = (r, what) => {
      if (r.status === 200) assert.deepEqual(r.json.results ?? r.json, before.json.results ?? before.json, `${what}: only what redis said`);
      else assertUnavailable(r, what);
    };
    let get;
    for (let i = 0; i < 50; i++) {
      get = await request(url, 'GET', '/api/v1/polls/main/results', { timeout: 10000 });
      cachedOr503(get, 'results with hung redis');
      if (get.status === 503) break;
      await sleep(100);
    }
    assertUnavailable(get, 'results with hung redis, once the cache has expired');
    assertUnavailable(await request(url, 'GET', '/api/v1/polls/main', { timeout: 10000 }), 'GET poll with hung redis');
    // several requests in parallel: none hangs beyond the bound
    const many = await Promise.all(Array.from({ length: 10 }, () => request(url, 'GET', '/api/v1/polls/main/results', { timeout: 10000 })));
    for (const r of many) assertUnavailable(r, 'parallel results with hung redis');
    const h = await request(url, 'GET', '/healthz', { timeout: 10000 });
    assert.equal(h.status, 200, 'liveness does not depend on redis');
    await readyzUnavailableWithin(since, 'readyz with hung redis');
  } finally {
    redis.resume();
  }
  await waitForStatus(url, '/readyz', 200, { timeout: 15000 });
  const v = new Voter(url);
  const r = await v.vote('main', ['opt-c']);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.results.total, before.json.total + 1);
});

test('dead redis (SIGTERM): 503 within bounded time; restart on the same port: ready again, data kept', async () => {
  const a = new Voter(url);
  assert.equal((await a.vote('main', ['opt-b'])).status, 201);
  const before = await readFresh(url, '/api/v1/polls/main/results');
  assert.equal(before.status, 200);
  const port = redis.port;

  await redis.stop();
  const since = Date.now();
  await readyzUnavailableWithin(since, 'readyz with dead redis');
  const vote = await request(url, 'POST', '/api/v1/polls/main/votes', { json: { options: ['opt-a'] }, timeout: 10000 });
  assertUnavailable(vote, 'vote with dead redis');
  const voteA = await a.vote('main', ['opt-a'], { timeout: 10000 });
  assertUnavailable(voteA, 'vote of an existing voter with dead redis');
  const list = await request(url, 'GET', '/api/v1/polls', { timeout: 10000 });
  assertUnavailable(list, 'list with dead redis');
  const res = await request(url, 'GET', '/api/v1/polls/main/results', { timeout: 10000 });
  assertUnavailable(res, 'results with dead redis');
  // still unavailable a second later (no stale "ready")
  await sleep(1000);
  assertUnavailable(await request(url, 'GET', '/readyz', { timeout: 10000 }), 'readyz 1 s later');
  assert.equal((await request(url, 'GET', '/healthz')).status, 200);
  assert.ok(svc.alive(), 'thamdo survives a dead redis');

  redis = await startRedis({ port, persistDir: redisDir });
  await waitForStatus(url, '/readyz', 200, { timeout: 15000 });

  const after = await request(url, 'GET', '/api/v1/polls/main/results');
  assert.equal(after.status, 200, after.text);
  assert.equal(after.json.total, before.json.total, 'data survived the redis restart, no vote counted while down');
  const g = await a.get('main');
  assert.equal(g.json.voted, true);
  assert.deepEqual(g.json.choice, ['opt-b']);
  const b = new Voter(url);
  const r = await b.vote('main', ['opt-a']);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.results.total, before.json.total + 1);
  // scripts were lost with the restart: the NOSCRIPT path again
  const c = new Voter(url);
  assert.equal((await c.vote('flush', ['opt-c'])).status, 201);
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
