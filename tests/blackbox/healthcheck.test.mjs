// `thamdo --healthcheck` (the container image's HEALTHCHECK): one GET of /readyz (or /healthz with
// =live) on the configured THAMDO_LISTEN, 0.0.0.0 meaning loopback; exit 0 on 200, else 1, always
// within its 2 s bound: against a ready service, a closed port, a listener that never answers, a
// service whose Redis is away (/readyz 503, /healthz 200), and a bad configuration.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, freePort, assertNoSanitizer,
} from './lib/harness.mjs';

let redis;
let ready;
before(async () => {
  redis = await startRedis();
  ready = await startThamdo({ redis });
});


/** Runs the probe with this THAMDO_LISTEN; the bound is the probe's 2 s plus start-up slack. */
async function probe(listen, args = ['--healthcheck'], env = {}) {
  const t0 = Date.now();
  const r = await runThamdo({ env: thamdoEnv({ redis, env: { THAMDO_LISTEN: listen, ...env } }), args, timeout: 8000 });
  r.elapsed = Date.now() - t0;
  assert.equal(r.timedOut, false, `the probe did not exit: ${r.stderr}`);
  assertNoSanitizer(r.stderr + r.stdout, 'healthcheck output');
  return r;
}

test('a ready service: exit 0 with one line naming /readyz; 0.0.0.0 and --healthcheck=live too', async () => {
  const r = await probe(`127.0.0.1:${ready.port}`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `thamdo: healthcheck: http://127.0.0.1:${ready.port}/readyz answered 200\n`);
  // The address a container listens on is probed on loopback.
  const wild = await probe(`0.0.0.0:${ready.port}`);
  assert.equal(wild.code, 0, wild.stderr);
  assert.match(wild.stdout, new RegExp(`http://127\\.0\\.0\\.1:${ready.port}/readyz answered 200`));
  const live = await probe(`127.0.0.1:${ready.port}`, ['--healthcheck=live']);
  assert.equal(live.code, 0, live.stderr);
  assert.match(live.stdout, /\/healthz answered 200/);
  // The flag wins over THAMDO_LISTEN, as for the service.
  const flag = await probe('127.0.0.1:1', ['--healthcheck', `--listen=127.0.0.1:${ready.port}`]);
  assert.equal(flag.code, 0, flag.stderr);
});

test('a closed port: exit 1 at once, saying why on stderr', async () => {
  const port = await freePort();
  const r = await probe(`127.0.0.1:${port}`);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^thamdo: healthcheck: http://127\\.0\\.0\\.1:${port}/readyz: connection refused`));
  assert.ok(r.elapsed < 3000, `took ${r.elapsed} ms`);
});

test('a listener that never answers: exit 1 once the 2 s bound has passed, not later', async () => {
  const sockets = [];
  const srv = net.createServer((s) => { sockets.push(s); s.on('error', () => {}); });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const r = await probe(`127.0.0.1:${srv.address().port}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /readyz: no answer within the time bound|readyz: connection refused, closed or timed out/);
    assert.ok(sockets.length >= 1, 'the probe connected');
    assert.ok(r.elapsed >= 1900, `gave up after ${r.elapsed} ms, before its bound`);
    assert.ok(r.elapsed < 5000, `took ${r.elapsed} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    srv.close();
  }
});

test('Redis away: /readyz 503 makes exit 1, while --healthcheck=live (/healthz) is 0', async () => {
  const deadPort = await freePort();
  const t = await startThamdo({ redisUrl: `redis://127.0.0.1:${deadPort}`, waitReady: false });
  try {
    const r = await probe(`127.0.0.1:${t.port}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`http://127\\.0\\.0\\.1:${t.port}/readyz answered 503`));
    const live = await probe(`127.0.0.1:${t.port}`, ['--healthcheck=live']);
    assert.equal(live.code, 0, live.stderr);
  } finally {
    await t.stop();
  }
});

test('a configuration it cannot read or a bad mode: exit 1 (unhealthy), never 2', async () => {
  const bad = await probe('nonsense');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^thamdo: THAMDO_LISTEN: /);
  const mode = await probe(`127.0.0.1:${ready.port}`, ['--healthcheck=sometimes']);
  assert.equal(mode.code, 1);
  assert.match(mode.stderr, /^thamdo: --healthcheck: expected ready or live/);
  const zero = await probe('127.0.0.1:0');
  assert.equal(zero.code, 1);
  assert.match(zero.stderr, /port 0/);
});
