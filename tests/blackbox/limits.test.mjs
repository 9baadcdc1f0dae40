// Deadlines and the stop, quickly (the heavy versions are in tests/limits/): a request head or body
// that does not arrive whole within THAMDO_HEADER_TIMEOUT_MS / THAMDO_BODY_TIMEOUT_MS closes its
// connection without an answer; during THAMDO_LAME_DUCK_MS readiness fails and a kept-alive
// connection's next answer says Connection: close, then idle kept-alive connections close;
// requests waiting on a frozen Redis get a whole 503 at the end of THAMDO_DRAIN_MS, or at a second
// signal. Real redis-server and thamdo, loopback only, every wait bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startRedis, startThamdo, makePoll, rawRequest, assertNoSanitizer, sleep,
} from './lib/harness.mjs';

const P = makePoll('han-chot', { options: ['a', 'b'] });
let redis;
before(async () => { redis = await startRedis(); });
after(async () => { await redis?.stop(); });

const get = (p, close = true) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
const VOTE_BODY = '{"options":["a"]}';
const vote = `POST /api/v1/polls/han-chot/votes HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`
  + `Content-Type: application/json\r\nContent-Length: ${VOTE_BODY.length}\r\n\r\n${VOTE_BODY}`;

/** A raw connection: what it received, and when the server closed it. */
function open(t) {
  const s = net.connect({ host: '127.0.0.1', port: t.port });
  const c = { s, data: '', closedAt: null, connected: new Promise((r) => s.once('connect', r)) };
  s.on('data', (d) => { c.data += d.toString('latin1'); });
  s.on('close', () => { c.closedAt = Date.now(); });
  s.on('error', () => {});
  return c;
}

async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
    await sleep(20);
  }
}

test('a head trickled past THAMDO_HEADER_TIMEOUT_MS, or a body past THAMDO_BODY_TIMEOUT_MS: the connection is closed without an answer; others are served', async () => {
  const t = await startThamdo({ redis, polls: [P], env: { THAMDO_HEADER_TIMEOUT_MS: '300', THAMDO_BODY_TIMEOUT_MS: '400' } });
  const head = open(t);
  const body = open(t);
  await Promise.all([head.connected, body.connected]);
  const t0 = Date.now();
  head.s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  body.s.write(vote.slice(0, vote.length - 8)); // the whole head, part of the body
  const drip = setInterval(() => { if (head.closedAt === null) head.s.write('a'); }, 50);
  try {
    // Meanwhile an ordinary request is answered.
    assert.equal((await rawRequest(t.url, get('/healthz'))).status, 200);
    await until(() => head.closedAt !== null && body.closedAt !== null, 8000, 'both connections to be closed');
  } finally {
    clearInterval(drip);
  }
  assert.ok(head.closedAt - t0 >= 250, `the head had its ${head.closedAt - t0} ms`);
  assert.ok(body.closedAt - t0 >= 350, `the body had its ${body.closedAt - t0} ms`);
  assert.equal(head.data, '', 'no answer to a head that never ended');
  assert.equal(body.data, '', 'no answer to a body that never ended');
  await t.stop();
});

test('SIGTERM with THAMDO_LAME_DUCK_MS: /readyz 503 at once, a kept-alive connection\'s next answer says Connection: close, idle ones close after it, exit 0', async () => {
  const t = await startThamdo({ redis, polls: [P], env: { THAMDO_LAME_DUCK_MS: '3000' } });
  const busy = open(t);
  const idle = open(t);
  await Promise.all([busy.connected, idle.connected]);
  for (const c of [busy, idle]) c.s.write(get('/healthz', false));
  await until(() => /\r\n\r\n\{[^}]*\}/.test(busy.data) && /\r\n\r\n\{[^}]*\}/.test(idle.data), 5000, 'the first answers');
  assert.doesNotMatch(busy.data, /Connection: close/i, 'kept alive before the stop');
  busy.data = '';
  t.proc.kill('SIGTERM');
  const t0 = Date.now();
  let readyz;
  await until(() => /info SIGTERM received/.test(t.stderr()), 3000, 'the signal');
  for (let i = 0; i < 20; i++) {
    readyz = await rawRequest(t.url, get('/readyz'));
    if (readyz.status === 503) break;
    await sleep(20);
  }
  assert.equal(readyz.status, 503, `readyz while stopping: ${readyz.why}`);
  assert.match(readyz.raw, /"code":"shutting_down"/);
  busy.s.write(get('/healthz', false));
  await until(() => /\r\n\r\n\{[^}]*\}/.test(busy.data), 3000, 'the answer on the kept-alive connection');
  assert.match(busy.data, /^HTTP\/1\.1 200 /);
  assert.match(busy.data, /\r\nConnection: close\r\n/i);
  await until(() => idle.closedAt !== null, 8000, 'the idle connection to be closed');
  assert.ok(idle.closedAt - t0 >= 2800, `idle connections close after the lame duck (${idle.closedAt - t0} ms)`);
  const r = await Promise.race([t.exited, sleep(8000).then(() => null)]);
  assert.deepEqual(r, { code: 0, signal: null }, t.stderr().slice(-1500));
  assertNoSanitizer(t.stderr());
});

for (const second of [false, true]) {
  test(`requests waiting on a frozen Redis get a whole 503 at ${second ? 'a second signal' : 'the end of THAMDO_DRAIN_MS'}, exit 0`, async () => {
    const r2 = await startRedis();
    const t = await startThamdo({
      redis: r2, polls: [P],
      env: { THAMDO_DRAIN_MS: second ? '60000' : '800', THAMDO_REDIS_TIMEOUT_MS: '30000' },
    });
    try {
      r2.pause();
      const N = 6;
      const answers = Array.from({ length: N }, () => rawRequest(t.url, vote, { timeout: 20000 }));
      await sleep(1000); // received and waiting on Redis (a request not yet whole would just be closed)
      t.proc.kill('SIGTERM');
      if (second) {
        await until(() => /info SIGTERM received/.test(t.stderr()), 3000, 'the first signal');
        await sleep(200);
        t.proc.kill('SIGTERM');
      }
      const t0 = Date.now();
      const got = await Promise.all(answers);
      const r = await Promise.race([t.exited, sleep(10000).then(() => null)]);
      assert.deepEqual(r, { code: 0, signal: null }, t.stderr().slice(-1500));
      for (const a of got) {
        assert.equal(a.status, 503, `${a.why}: ${a.raw.slice(0, 200)}`);
        const bodyText = a.raw.slice(a.raw.indexOf('\r\n\r\n') + 4);
        assert.equal(JSON.parse(bodyText).error.code, 'store_unavailable');
        assert.match(a.raw, /\r\nConnection: close\r\n/i);
      }
      if (second) assert.ok(Date.now() - t0 < 8000, 'the second signal shortened the wait');
      assertNoSanitizer(t.stderr());
    } finally {
      r2.resume();
      if (t.alive()) t.proc.kill('SIGKILL');
      await r2.stop();
    }
  });
}
