// What the store's scripts PUBLISH on <key_prefix>events, read by a subscriber (redis-cli
// SUBSCRIBE against the test's Redis): after every counted or changed ballot
// `t <poll id> <seq> <voters> <option>:<votes> ...` (every option, in the definition's order),
// after every write of a definition `d <poll id> <version>`; nothing for a refused ballot.
// Messages are checked in order, so "nothing" is seen as the next message being the next event's.
// Run against build/thamdo and build/asan/thamdo.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startRedis, startThamdo, makePoll, request, Voter, assertError, REDIS_CLI } from './lib/harness.mjs';

const TOKEN = 'publish-token-2b7d4f9e1a6c3058';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const PREFIX = 'tin:';

let redis;
let svc;
let sub;

/** redis-cli SUBSCRIBE in raw mode: lines "message", channel, payload. next() gives the next
 * payload (bounded wait). */
function subscribe(port, channel) {
  const p = spawn(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), '--raw', 'SUBSCRIBE', channel], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = [];
  let rest = '';
  p.stdout.on('data', (d) => {
    rest += d;
    const parts = rest.split('\n');
    rest = parts.pop();
    lines.push(...parts);
    while (waiters.length) waiters.shift()();
  });
  const take = async (n, ms) => {
    const deadline = Date.now() + ms;
    while (lines.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`subscriber: no message within ${ms} ms; got ${JSON.stringify(lines)}`);
      await new Promise((r) => { const t = setTimeout(r, left); waiters.push(() => { clearTimeout(t); r(); }); });
    }
    return lines.splice(0, n);
  };
  return {
    ready: async () => {
      const [kind, ch, count] = await take(3, 5000);
      assert.deepEqual([kind, ch, count], ['subscribe', channel, '1']);
    },
    next: async () => {
      const [kind, ch, payload] = await take(3, 5000);
      assert.deepEqual([kind, ch], ['message', channel]);
      return payload;
    },
    stop: () => p.kill('SIGTERM'),
  };
}

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    polls: [makePoll('su-kien', { options: ['a', 'b', 'c'], allow_change: true }), makePoll('co-dinh', { options: ['x', 'y'] })],
    env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_KEY_PREFIX: PREFIX },
  });
  sub = subscribe(redis.port, `${PREFIX}events`);
  await sub.ready();
});

test('a vote, a change of vote and a new voter: t <id> <seq> <voters> and every option\'s tally', async () => {
  const one = new Voter(svc.url);
  assert.equal((await one.vote('su-kien', ['b'])).status, 201);
  assert.equal(await sub.next(), 't su-kien 1 1 a:0 b:1 c:0');
  assert.equal((await one.vote('su-kien', ['c'])).status, 200);
  assert.equal(await sub.next(), 't su-kien 2 1 a:0 b:0 c:1', 'a change: seq +1, the same voters');
  const two = new Voter(svc.url);
  assert.equal((await two.voteForm('su-kien', ['a'])).status, 201);
  assert.equal(await sub.next(), 't su-kien 3 2 a:1 b:0 c:1');
  // Another poll has its own sequence.
  assert.equal((await two.vote('co-dinh', ['y'])).status, 201);
  assert.equal(await sub.next(), 't co-dinh 1 1 x:0 y:1');
  // A refused ballot (a duplicate, an invalid option) publishes nothing: the next message is the edit's.
  assertError(await two.vote('co-dinh', ['x']), 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assertError(await one.vote('su-kien', ['zz']), 400, 'invalid_option');
});

test('an edit, a close, an archive and a creation: d <id> <version>', async () => {
  const patch = await request(svc.url, 'PATCH', '/admin/v1/polls/co-dinh', { headers: AUTH, json: { question: 'Đã sửa?' } });
  assert.equal(patch.status, 200, patch.text);
  assert.equal(await sub.next(), 'd co-dinh 2');
  assert.equal((await request(svc.url, 'POST', '/admin/v1/polls/su-kien/close', { headers: AUTH })).status, 200);
  assert.equal(await sub.next(), 'd su-kien 2');
  assert.equal((await request(svc.url, 'DELETE', '/admin/v1/polls/su-kien', { headers: AUTH })).status, 200);
  assert.equal(await sub.next(), 'd su-kien 3');
  const created = await request(svc.url, 'POST', '/admin/v1/polls', {
    headers: AUTH, json: { id: 'moi-tao', question: 'Mới?', options: [{ id: 'p', label: 'P' }, { id: 'q', label: 'Q' }] },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(await sub.next(), 'd moi-tao 1');
  const v = new Voter(svc.url);
  assert.equal((await v.vote('moi-tao', ['q'])).status, 201);
  assert.equal(await sub.next(), 't moi-tao 1 1 p:0 q:1');
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  sub.stop();
  await svc.stop();
  await redis.stop();
});
