// Redis killed -9 under a load of new voters, then restarted on the same port. Redis runs with
// appendonly yes and appendfsync always: a write it acknowledged is on disk before the answer, so
// every vote the service answered 201 must be in the tally after the restart. While Redis is
// down every vote gets 503 within the command timeout; once it is back, votes are acknowledged
// again within 2 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startThamdo, makePoll, sleep } from '../blackbox/lib/harness.mjs';
import { startNode, voteLoad, countLost, total, statusCounts, until } from './lib.mjs';

const POLL = makePoll('redis-kill');
const TIMEOUT_MS = 1000;

test('redis kill -9 under load: 503 while down, back within 2 s, every 201 in the tally', async () => {
  let redis = await startNode({ fsyncAlways: true });
  const svc = await startThamdo({
    polls: [POLL], redisUrl: `redis://127.0.0.1:${redis.port}`,
    env: { THAMDO_REDIS_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
  const load = voteLoad({ urls: [svc.url], pollId: POLL.id, option: 'opt-b', concurrency: 8 });
  await until(() => load.log.filter((e) => e.status === 201).length >= 50, { timeout: 15000, what: 'votes flow' });
  const killedAt = Date.now();
  await redis.kill9();
  await sleep(2000);
  const downLog = load.log.filter((e) => e.t0 > killedAt + 50);
  const backStart = Date.now();
  redis = await startNode({ port: redis.port, dir: redis.dir, fsyncAlways: true });
  const backAt = Date.now();
  const firstOk = await until(() => load.log.find((e) => e.status === 201 && e.t0 >= backAt), {
    timeout: 10000, step: 20, what: 'a vote acknowledged after the restart',
  });
  // Every worker's link must be back: votes sent 2 s after the restart all succeed.
  await until(() => load.log.filter((e) => e.t0 >= backAt + 2000).length >= 50, {
    timeout: 15000, what: 'votes after the restart',
  });
  const log = await load.stop();
  const down = downLog.filter((e) => e.t1 <= backStart);
  const lateFail = log.filter((e) => e.t0 >= backAt && e.status !== 201);
  const recovered = lateFail.length ? Math.max(...lateFail.map((e) => e.t1)) - backAt : firstOk.t1 - backAt;
  let counted;
  try {
    counted = await countLost(log, svc.url, POLL.id);
  } catch (e) {
    throw new Error(`${e.message}\nthamdo stderr:\n${svc.stderr()}`);
  }
  const { acked, lost } = counted;
  const tally = await total(svc.url, POLL.id);
  const slowest = Math.max(...down.map((e) => e.t1 - e.t0));
  console.log(`# redis kill -9: ${down.length} votes while down, answers ${JSON.stringify(statusCounts(down))}, ` +
    `slowest ${slowest} ms; first vote counted ${firstOk.t1 - backAt} ms and last 503 ${recovered} ms after redis was back; ` +
    `all answers ${JSON.stringify(statusCounts(log))}; acknowledged ${acked}, lost ${lost}, tally ${tally}`);
  assert.ok(down.length > 0, 'votes were sent while redis was down');
  assert.deepEqual(Object.keys(statusCounts(down)), ['503'], 'every vote while down: 503');
  assert.ok(slowest <= TIMEOUT_MS + 1000, `a 503 took ${slowest} ms (timeout ${TIMEOUT_MS} ms)`);
  assert.ok(recovered <= 2000, `a vote failed ${recovered} ms after redis was back`);
  assert.equal(lost, 0, `${lost} of ${acked} acknowledged votes missing after the restart`);
  const unsure = log.filter((e) => e.status !== 201).length;
  assert.ok(tally >= acked && tally <= acked + unsure, `tally ${tally}: ${acked} acknowledged, ${unsure} unsure`);
  await svc.stop();
});
