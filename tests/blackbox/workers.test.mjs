// Workers (THAMDO_THREADS): several event loops on one port, each with its own Redis link. Every
// worker accepts connections; SIGTERM drains the requests in flight on every worker before the exit;
// a bad THAMDO_THREADS stops the start; a port another instance listens on is still refused.
// Real redis-server (behind a pass-through TCP relay where a test must hold Redis's answers), real
// thamdo, loopback only, every wait bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, rawRequest, assertNoSanitizer, sleep,
} from './lib/harness.mjs';

const P = makePoll('loops', { options: ['a', 'b'] });

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
});

/** The generated X-Request-Id "<process>-<worker>-<sequence>" names the worker that answered. */
function workerOf(raw) {
  const m = raw.match(/\r\nX-Request-Id: [a-z2-9]{6}-(\d+)-[0-9a-f]+\r\n/i);
  assert.ok(m, `no generated request id in:\n${raw.slice(0, 500)}`);
  return Number(m[1]);
}

const get = (path) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
/** A vote by a new reader: one script call of its own (a poll read may come from the cache). */
const vote = (path) => {
  const body = '{"options":["a"]}';
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n`
    + `Content-Length: ${body.length}\r\n\r\n${body}`;
};

/** Resolves once check() holds (polled every 20 ms); fails after `ms`. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

/**
 * A pass-through TCP relay in front of the real redis-server that can hold what the service sends
 * (so that its requests stay in flight) and counts the script calls it has seen.
 */
async function startRelay(port) {
  const relay = { holding: false, evalsha: 0, links: 0, held: [] };
  const server = net.createServer((client) => {
    relay.links++;
    const upstream = net.connect(port, '127.0.0.1');
    upstream.on('data', (d) => client.write(d));
    const close = () => { client.destroy(); upstream.destroy(); };
    upstream.on('error', close);
    client.on('error', close);
    upstream.on('close', close);
    client.on('close', close);
    client.on('data', (d) => {
      relay.evalsha += d.toString('latin1').split('\r\nEVALSHA\r\n').length - 1;
      if (relay.holding) relay.held.push([upstream, d]);
      else upstream.write(d);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `redis://127.0.0.1:${server.address().port}`;
  relay.release = () => {
    relay.holding = false;
    for (const [up, d] of relay.held.splice(0)) up.write(d);
  };
  relay.close = () => new Promise((resolve) => { server.close(resolve); });
  return relay;
}

test('THAMDO_THREADS=2: one "listening on" line, two workers serving, and connections answered by both', async () => {
  const svc = await startThamdo({ redis, polls: [P], env: { THAMDO_THREADS: '2' } });
  try {
    assert.equal(svc.workers, 2);
    const log = svc.stderr();
    assert.equal(log.split('\n').filter((l) => l.includes('listening on')).length, 1, log);
    await until(() => /worker 0 of 2 serving/.test(svc.stderr()) && /worker 1 of 2 serving/.test(svc.stderr()),
      2000, 'both workers say they serve');
    // 120 connections at once, each its own: the kernel spreads them over both listeners.
    const answers = await Promise.all(Array.from({ length: 120 }, (_, i) => rawRequest(svc.url,
      get(i % 2 ? '/healthz' : '/api/v1/polls/loops/results'), { timeout: 10000 })));
    const seen = new Set();
    for (const a of answers) {
      assert.equal(a.status, 200, `${a.why}: ${a.raw.slice(0, 300)}`);
      seen.add(workerOf(a.raw));
    }
    assert.deepEqual([...seen].sort(), [0, 1], 'both workers answered some of the connections');
  } finally {
    await svc.stop();
  }
});

test('THAMDO_THREADS=1: one worker', async () => {
  const svc = await startThamdo({ redis, polls: [P], env: { THAMDO_THREADS: '1' } });
  try {
    assert.equal(svc.workers, 1);
    const a = await rawRequest(svc.url, get('/healthz'));
    assert.equal(a.status, 200);
    assert.equal(workerOf(a.raw), 0);
  } finally {
    await svc.stop();
  }
  assert.match(svc.stderr(), /worker 0 of 1 serving/);
  assert.doesNotMatch(svc.stderr(), /worker 1 /);
});

test('SIGTERM with requests in flight on both workers: every one is answered, new connections are refused, exit 0', async () => {
  const relay = await startRelay(redis.port);
  const svc = await startThamdo({
    redisUrl: relay.url,
    polls: [P],
    env: { THAMDO_THREADS: '2', THAMDO_REDIS_TIMEOUT_MS: '8000', THAMDO_LOG_LEVEL: 'debug' },
  });
  try {
    // Each worker has its own two Redis links: its commands, and the published changes it listens to.
    await until(() => relay.links === 4, 5000, 'four Redis links');
    relay.holding = true;
    const before0 = relay.evalsha;
    const N = 24;
    const answers = Array.from({ length: N }, () => rawRequest(svc.url, vote('/api/v1/polls/loops/votes'), { timeout: 15000 }));
    // Every request has reached a worker once its script call has reached the relay.
    await until(() => relay.evalsha - before0 >= N, 5000, `${N} script calls held`);
    svc.proc.kill('SIGTERM');
    // Each worker says how many of its requests it finishes before stopping.
    const counts = new Map();
    await until(() => {
      for (const m of svc.stderr().matchAll(/worker (\d+): finishing (\d+) request\(s\) in flight/g)) counts.set(Number(m[1]), Number(m[2]));
      return counts.size === 2;
    }, 3000, 'both workers start their drain');
    assert.ok(counts.get(0) > 0 && counts.get(1) > 0, `requests in flight on both workers: ${JSON.stringify([...counts])}`);
    assert.equal(counts.get(0) + counts.get(1), N, 'every request is in flight on one of them');
    const late = await rawRequest(svc.url, get('/healthz'), { timeout: 3000 });
    assert.equal(late.status, null, `a new connection during the drain is not served: ${late.why}`);
    assert.ok(svc.alive(), 'still draining');
    relay.release();
    const got = await Promise.all(answers);
    const seen = new Set();
    for (const a of got) {
      assert.equal(a.status, 201, `${a.why}: ${a.raw.slice(0, 300)}`);
      assert.match(a.raw, /\r\nConnection: close\r\n/i);
      seen.add(workerOf(a.raw));
    }
    assert.deepEqual([...seen].sort(), [0, 1]);
    const r = await Promise.race([svc.exited, sleep(10000).then(() => null)]);
    assert.ok(r, `no exit after the drain:\n${svc.stderr().slice(-2000)}`);
    assert.deepEqual(r, { code: 0, signal: null });
    await sleep(20);
    assert.match(svc.stderr(), / info stopped$/m);
    assert.doesNotMatch(svc.stderr(), /unanswered/);
    assertNoSanitizer(svc.stderr() + svc.stdout());
  } finally {
    relay.release();
    if (svc.alive()) svc.proc.kill('SIGKILL');
    await relay.close();
  }
});

for (const value of ['0', '65', 'x', '2x', '']) {
  test(`THAMDO_THREADS=${JSON.stringify(value)} is refused at start: exit 2, one line naming it`, async () => {
    const r = await runThamdo({ env: thamdoEnv({ redis, env: { THAMDO_THREADS: value } }) });
    assert.equal(r.timedOut, false, `it started: ${r.stderr}`);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^thamdo: THAMDO_THREADS: expected a number of event loops from 1 to 64$/);
  });
}

test('--threads=65 is refused naming the flag; --threads=3 starts 3 workers', async () => {
  const r = await runThamdo({ env: thamdoEnv({ redis }), args: ['--threads=65'] });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^thamdo: --threads: expected a number of event loops from 1 to 64\n$/);
  const svc = await startThamdo({ redis, polls: [P], args: ['--threads=3'] });
  try {
    assert.equal(svc.workers, 3);
    assert.equal((await rawRequest(svc.url, get('/readyz'), { timeout: 10000 })).status, 200);
  } finally {
    await svc.stop();
  }
});

test('a port another instance listens on is refused (SO_REUSEPORT does not share it): exit 1, THAMDO_LISTEN', async () => {
  const a = await startThamdo({ redis, polls: [P], env: { THAMDO_THREADS: '2' } });
  try {
    const r = await runThamdo({ env: thamdoEnv({ redis, env: { THAMDO_LISTEN: `127.0.0.1:${a.port}`, THAMDO_THREADS: '2' } }) });
    assert.equal(r.timedOut, false, `the second instance started on the same port:\n${r.stderr}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`thamdo: THAMDO_LISTEN: cannot listen on 127\\.0\\.0\\.1:${a.port} \\(in use`));
    assert.equal((await rawRequest(a.url, get('/healthz'))).status, 200, 'the first is untouched');
  } finally {
    await a.stop();
  }
});
