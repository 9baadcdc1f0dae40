// Redis Sentinel, host names and WAIT, quickly: the settings' checks; a Redis URL naming
// `localhost` (resolved with evdns from /etc/hosts); one Sentinel (quorum 1) named `localhost:PORT`
// giving the primary, then a forced failover (SENTINEL FAILOVER) that the instance follows; and
// THAMDO_REDIS_WAIT_REPLICAS: 201 when the replica acknowledges, 503 when fewer replicas exist.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, runThamdo, makePoll, Voter, assertError, request, SECRET, sleep, TIMEOUT_SCALE,
} from './lib/harness.mjs';
import { startNode, startSentinel, until } from '../reliability/lib.mjs';

const POLL = makePoll('sentinel-poll');
const stops = [];
after(async () => { for (const s of stops.reverse()) await s(); });

test('settings: bad Sentinel lists, replica counts and a socket URL with Sentinels are refused', async () => {
  const cases = [
    [{ THAMDO_SENTINELS: 'localhost' }, 'THAMDO_SENTINELS: expected HOST:PORT'],
    [{ THAMDO_SENTINELS: '127.0.0.1:26379,' }, 'THAMDO_SENTINELS: expected HOST:PORT'],
    [{ THAMDO_SENTINELS: '127.0.0.1:0' }, 'THAMDO_SENTINELS: expected HOST:PORT'],
    [{ THAMDO_REDIS_WAIT_REPLICAS: '65' }, 'THAMDO_REDIS_WAIT_REPLICAS: expected a number of replicas from 0 to 64'],
    [{ THAMDO_SENTINEL_MASTER: 'my master' }, 'THAMDO_SENTINEL_MASTER: must not hold spaces'],
    [{ THAMDO_SENTINELS: '127.0.0.1:26379', THAMDO_REDIS_URL: 'unix:///tmp/x.sock' }, 'THAMDO_SENTINELS: the primary is reached over TCP'],
  ];
  for (const [env, line] of cases) {
    const r = await runThamdo({ env: { THAMDO_SECRET: SECRET, THAMDO_LISTEN: '127.0.0.1:0', ...env } });
    assert.equal(r.code, 2, `${JSON.stringify(env)}: exit ${r.code}\n${r.stderr}`);
    assert.ok(r.stderr.includes(line), `${JSON.stringify(env)}: ${r.stderr}`);
  }
});

test('a Redis URL naming localhost works (evdns reads /etc/hosts)', async () => {
  const redis = await startRedis();
  const svc = await startThamdo({ polls: [POLL], redisUrl: `redis://localhost:${redis.port}` });
  assert.equal((await new Voter(svc.url).vote(POLL.id, ['opt-a'])).status, 201);
  assert.equal(await redis.cli('hget', `thamdo:{poll:${POLL.id}}:counts`, 'opt-a'), '1');
  await svc.stop();
  await redis.stop();
});

test('one Sentinel gives the primary; a forced failover is followed; WAIT counts replicas', async () => {
  const primary = await startNode();
  const replica = await startNode({ replicaof: primary.port });
  await until(async () => /state=online/.test(await primary.cli('info', 'replication')), { timeout: 10000, what: 'replica in sync' });
  const sentinel = await startSentinel({ masterPort: primary.port, quorum: 1 });
  await until(async () => /slaves=1/.test(await sentinel.cli('info', 'sentinel')), { timeout: 10000, what: 'sentinel sees the replica' });
  // Under valgrind (make valgrind) a vote and its WAIT may need more than 1 s.
  const slow = Math.min(TIMEOUT_SCALE, 3);
  const env = { THAMDO_SENTINELS: `localhost:${sentinel.port}`, THAMDO_REDIS_TIMEOUT_MS: String(1000 * slow), THAMDO_REDIS_WAIT_REPLICAS: '1' };
  const svc = await startThamdo({ polls: [POLL], redisUrl: '', env });
  stops.push(() => primary.kill9(), () => replica.kill9(), () => sentinel.proc.kill('SIGKILL'));
  const voter = new Voter(svc.url);
  const first = await voter.vote(POLL.id, ['opt-b']);
  assert.equal(first.status, 201, `a vote acknowledged by the replica: ${first.text}`);
  assert.equal(await primary.cli('hget', `thamdo:{poll:${POLL.id}}:counts`, 'opt-b'), '1');

  assert.equal(await sentinel.cli('sentinel', 'failover', 'mymaster'), 'OK');
  await until(async () => (await sentinel.cli('sentinel', 'get-master-addr-by-name', 'mymaster')).endsWith(`\n${replica.port}`), {
    timeout: 15000, step: 100, what: 'the replica promoted',
  });
  // Votes reach the new primary, acknowledged once the old one, now its replica, has them (until
  // then they are counted but answered 503).
  let tries = 0;
  await until(async () => {
    tries++;
    return (await new Voter(svc.url).vote(POLL.id, ['opt-c'])).status === 201;
  }, { timeout: 15000, step: 100, what: 'a vote through the new primary' });
  const onNew = Number(await replica.cli('hget', `thamdo:{poll:${POLL.id}}:counts`, 'opt-c'));
  assert.ok(onNew >= 1 && onNew <= tries, `${onNew} votes on the new primary after ${tries} tries`);
  assert.equal(await replica.cli('hget', `thamdo:{poll:${POLL.id}}:counts`, 'opt-b'), '1', 'the acknowledged vote survived');
  assert.ok(svc.stderr().includes('redis sentinel: primary mymaster is at 127.0.0.1:'), svc.stderr());
  // Every worker followed the move once, and says so in /metrics.
  const metrics = (await request(svc.url, 'GET', '/metrics')).text;
  const followed = Number((/^thamdo_redis_failovers_total (\d+)$/m.exec(metrics) || [])[1]);
  assert.equal(followed, svc.workers, `failovers followed: ${followed}\n${metrics}`);
  assert.match(metrics, /^thamdo_redis_link_up\{worker="0",link="sentinel"\} 1$/m);
  await svc.stop();

  // Two replicas wanted, one there: the vote is answered 503 within the timeout; meanwhile a read
  // that needs Redis (a voter's ballot) is answered at once: WAIT holds up only the votes' link.
  // A budget of 3 s leaves WAIT 2.7 s and its answer 300 ms to arrive before the request's own
  // timeout, even on a loaded machine (with 1 s, the 100 ms between them was sometimes not enough,
  // and the 503 came from the timeout instead).
  // Under valgrind the answer needs more than 300 ms: 9 s, WAIT 8.1 s.
  const budget = 3000 * slow;
  const strict = await startThamdo({
    polls: [POLL], redisUrl: '',
    env: { ...env, THAMDO_REDIS_TIMEOUT_MS: String(budget), THAMDO_REDIS_WAIT_REPLICAS: '2', THAMDO_THREADS: '1' },
  });
  const order = [];
  const voting = new Voter(strict.url).vote(POLL.id, ['opt-a']).then((x) => { order.push('vote'); return x; });
  await sleep(100);
  const read = await voter.get(POLL.id, { base: strict.url });
  order.push('read');
  assert.equal(read.status, 200, read.text);
  assert.deepEqual(read.json.choice, ['opt-b']);
  const r = await voting;
  assert.deepEqual(order, ['read', 'vote'], 'the read did not wait behind the WAIT');
  assertError(r, 503, 'store_unavailable');
  assert.ok(r.elapsed < budget + 2000, `answered after ${r.elapsed} ms`);
  assert.ok(strict.stderr().includes('1 of 2 replicas acknowledged it'), strict.stderr());
  assert.equal((await request(strict.url, 'GET', `/api/v1/polls/${POLL.id}/results`)).status, 200, 'reads still work');
  await strict.stop();
});
