// Failover under Redis Sentinel: a primary, two replicas and three Sentinels (down-after 1 s),
// two thamdo instances (THAMDO_SENTINELS) with new voters voting through both; the primary is
// killed -9. Both instances must follow the new primary (writes succeed again through each), and
// every vote answered 201 is read back. With THAMDO_REDIS_WAIT_REPLICAS=1 no acknowledged vote
// may be lost; without it, the count is printed only (asynchronous replication may lose some).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startThamdo, makePoll, sleep, redisCli } from '../blackbox/lib/harness.mjs';
import { startReplicated, voteLoad, countLost, total, statusCounts, until } from './lib.mjs';

const POLL = makePoll('failover');
const BOUND_MS = 30000;

async function failover(waitReplicas) {
  const set = await startReplicated();
  const env = {
    THAMDO_SENTINELS: set.env,
    THAMDO_SENTINEL_MASTER: 'mymaster',
    THAMDO_REDIS_TIMEOUT_MS: '1000',
    THAMDO_REDIS_WAIT_REPLICAS: String(waitReplicas),
  };
  const a = await startThamdo({ polls: [POLL], redisUrl: '', env });
  const b = await startThamdo({ polls: [POLL], redisUrl: '', env });
  await until(async () => (await total(a.url, POLL.id)) === 0 && (await total(b.url, POLL.id)) === 0, {
    timeout: 10000, what: 'both instances serve the poll',
  });
  const load = voteLoad({ urls: [a.url, b.url], pollId: POLL.id, option: 'opt-a', concurrency: 8 });
  await sleep(1500);
  const before = load.log.filter((e) => e.status === 201).length;
  assert.ok(before > 0, 'votes flow before the failover');
  const killedAt = Date.now();
  const oldPort = set.primary.port;
  await set.primary.kill9();
  // Both instances must have acknowledged a vote sent after the new primary was named.
  const moved = await until(async () => {
    const p = await set.primaryPort();
    return p !== oldPort ? p : null;
  }, { timeout: BOUND_MS, step: 100, what: 'the Sentinels name a new primary' });
  const namedAt = Date.now();
  await until(() => [a.url, b.url].every((u) => load.log.some((e) => e.url === u && e.status === 201 && e.t0 > namedAt)),
    { timeout: BOUND_MS, step: 100, what: 'both instances write through the new primary' });
  await sleep(500);
  const log = await load.stop();
  const after = log.filter((e) => e.t0 > killedAt);
  const failed = after.filter((e) => e.status !== 201);
  const firstOk = Math.max(...[a.url, b.url].map((u) => Math.min(...after.filter((e) => e.url === u && e.status === 201).map((e) => e.t1))));
  const lastFail = failed.length ? Math.max(...failed.map((e) => e.t1)) : killedAt;
  const { acked, lost, lostVoters } = await countLost(log, a.url, POLL.id);
  if (lost) {
    const lb = lostVoters.filter((e) => e.t1 < killedAt).length;
    console.log(`# lost: ${lb} answered before the kill, ${lost - lb} after; via a ${lostVoters.filter((e) => e.url === a.url).length}`);
  }
  const tally = await total(b.url, POLL.id);
  console.log(`# failover WAIT_REPLICAS=${waitReplicas}: primary :${oldPort} killed, new primary :${moved} named after ${namedAt - killedAt} ms; ` +
    `writes failed for ${lastFail - killedAt} ms (both instances writing again after ${firstOk - killedAt} ms); ` +
    `answers ${JSON.stringify(statusCounts(log))}; acknowledged ${acked}, lost ${lost}, tally ${tally}`);
  for (const st of Object.keys(statusCounts(log))) {
    assert.ok(['201', '503'].includes(st), `only 201 and 503 answers, got ${st}`);
  }
  assert.ok(tally >= acked - lost, `tally ${tally} holds every acknowledged vote read back`);
  // The votes are on the set the Sentinels manage: the new primary holds the tally, and writes
  // failed while the old primary was down (the instances were using it).
  assert.equal(Number(await redisCli(moved, 'hget', `thamdo:{poll:${POLL.id}}:counts`, 'opt-a')), tally);
  for (const u of [a.url, b.url]) {
    assert.ok(failed.some((e) => e.url === u), 'writes failed through each instance while no primary was up');
  }
  await a.stop();
  await b.stop();
  return { acked, lost };
}

test('failover with THAMDO_REDIS_WAIT_REPLICAS=1: both instances follow, no acknowledged vote lost', async () => {
  const { acked, lost } = await failover(1);
  assert.ok(acked > 0);
  assert.equal(lost, 0, `${lost} of ${acked} acknowledged votes lost`);
});

test('failover without WAIT: both instances follow (lost votes printed only)', async () => {
  const { acked } = await failover(0);
  assert.ok(acked > 0);
});
