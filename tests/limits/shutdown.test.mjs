// Graceful stop under load (make limits, release build): slow readers of large answers get them
// whole after SIGTERM, readiness fails during the lame duck, connections waiting in the accept
// queue are answered rather than reset, exit status 0. Real redis-server, real thamdo, loopback
// only, every wait bounded; the figures are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startRedis, startThamdo, makePoll, rawRequest, assertNoSanitizer, sleep,
} from '../blackbox/lib/harness.mjs';
import { get, until, ready } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOKEN = 'limits-admin-token-0123456789';
// 50 options: an hourly series of 5000 buckets is a JSON answer of about 5 MB, more than the
// socket buffers of both ends hold, so most of it waits in the server while a reader is slow.
const BIG = makePoll('lon', {
  options: Array.from({ length: 50 }, (_, i) => ({ id: `phuong-an-so-${String(i).padStart(2, '0')}`, label: `Phương án ${i}` })),
});
const SERIES = '/admin/v1/polls/lon/series?bucket=hour&from=2026-01-01&to=2026-07-27';
const SERIES_LINE = /GET \/admin\/v1\/polls\/lon\/series 200 /g;

let redis;
before(async () => { redis = await startRedis(); });
after(async () => { await redis?.stop(); });

/** count slow readers (python3: an 8 KiB receive buffer each) of the large answer at rate bytes/s. */
function slowReaders(t, count, rate) {
  const p = spawn('/usr/bin/python3', [path.join(here, 'slow_reader.py'), '127.0.0.1', String(t.port), SERIES, TOKEN, String(count), String(rate)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), 120000);
    p.on('exit', () => {
      clearTimeout(timer);
      resolve(out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)));
    });
  });
  return { sent: () => out.includes(`sent ${count}`), done, stderr: () => err, kill: () => p.kill('SIGKILL') };
}

function assertWhole(results, count, what) {
  assert.equal(results.length, count, `${what}: one result per reader`);
  for (const r of results) {
    assert.equal(r.error, null, `${what}: ${JSON.stringify(r)}`);
    assert.equal(r.status, 200, `${what}: ${JSON.stringify(r)}`);
    assert.ok(r.length > 4000000, `${what}: the answer is large (${r.length} bytes)`);
    assert.equal(r.got, r.length, `${what}: every byte of the answer arrived: ${JSON.stringify(r)}`);
    assert.ok(r.json, `${what}: the body is whole JSON`);
  }
}

test('SIGTERM under load with slow readers of 5 MB answers: readiness fails first, every accepted request is answered whole, exit 0', async () => {
  const t = await startThamdo({
    redis, polls: [BIG], waitReady: false,
    env: { THAMDO_THREADS: '2', THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_LAME_DUCK_MS: '1500', THAMDO_DRAIN_MS: '30000' },
  });
  await ready(t);
  const slow = slowReaders(t, 8, 2000000); // ~2.6 s each
  try {
    await until(slow.sent, 10000, 'the slow readers to send their requests');
    await until(() => [...t.stderr().matchAll(SERIES_LINE)].length >= 8, 30000, 'the 8 large answers to be queued')
      .catch((e) => { throw new Error(`${e.message}\n${t.stderr().slice(-3000)}\n${slow.stderr()}`); });
    // Then fast readers on fresh connections, 8 at a time, until the stop signal (a second later).
    let stopAsked = false;
    const fast = [];
    const loops = Array.from({ length: 8 }, async (_, k) => {
      while (!stopAsked) {
        const r = rawRequest(t.url, get(k % 2 ? '/api/v1/polls/lon' : '/api/v1/polls/lon/results'), { timeout: 20000 });
        fast.push(r);
        await r;
      }
    });
    await sleep(1000);
    const before = fast.length;
    stopAsked = true;
    t.proc.kill('SIGTERM');
    const t0 = Date.now();
    // Readiness fails first, while the listener still accepts (the lame duck).
    let readyz;
    while (Date.now() - t0 < 1200) {
      readyz = await rawRequest(t.url, get('/readyz'), { timeout: 2000 });
      if (readyz.status === 503) break;
      await sleep(20);
    }
    assert.equal(readyz.status, 503, `readyz during the lame duck: ${readyz.why} ${readyz.raw.slice(0, 200)}`);
    assert.match(readyz.raw, /"code":"shutting_down"/);
    await Promise.all(loops);
    const r = await Promise.race([t.exited, sleep(40000).then(() => null)]);
    assert.ok(r, `no exit within 40 s:\n${t.stderr().slice(-2000)}`);
    const elapsed = Date.now() - t0;
    const results = await slow.done;
    const fastDone = await Promise.all(fast);
    const answered = fastDone.filter((a) => a.status === 200).length;
    const reset = fastDone.filter((a) => a.status === null).length;
    console.log(`# stop under load: ${results.length} slow readers, ${results.filter((x) => x.got === x.length && x.status === 200).length} answered whole `
      + `(${results.map((x) => x.got).join(', ')} bytes); ${fastDone.length} fast requests accepted (${before} before the signal), `
      + `${answered} answered, ${reset} reset or unanswered; exit ${r.code} after ${elapsed} ms`);
    assert.deepEqual(r, { code: 0, signal: null }, t.stderr().slice(-2000));
    assertWhole(results, 8, 'slow reader');
    assert.equal(reset, 0, 'no accepted request is reset or left unanswered');
    assert.equal(answered, fastDone.length);
    for (const a of fastDone.slice(before)) assert.match(a.raw, /\r\nConnection: close\r\n/i);
    assert.ok(elapsed >= 1500, 'the listener closed after the lame duck');
    await sleep(20);
    assert.match(t.stderr(), / info stopped$/m);
    assertNoSanitizer(t.stderr() + t.stdout());
  } finally {
    slow.kill();
    if (t.alive()) t.proc.kill('SIGKILL');
  }
});

test('SIGTERM with connections waiting in the accept queue (the connection cap reached): each is answered, none reset, exit 0', async () => {
  const t = await startThamdo({
    redis, polls: [BIG], waitReady: false,
    env: { THAMDO_THREADS: '1', THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_MAX_CONNECTIONS: '4', THAMDO_DRAIN_MS: '30000' },
  });
  await ready(t); // on connections closed at once: none holds a place under the cap
  const slow = slowReaders(t, 4, 2000000);
  try {
    await until(slow.sent, 10000, 'the slow readers to send their requests');
    await until(() => [...t.stderr().matchAll(SERIES_LINE)].length >= 4, 30000, 'the 4 large answers to be queued');
    // The 4 slow readers hold the cap: these wait in the kernel's accept queue, not accepted.
    const N = 40;
    let settled = 0;
    const queued = Array.from({ length: N }, () => rawRequest(t.url, get('/healthz'), { timeout: 30000 }).then((a) => { settled++; return a; }));
    await sleep(500);
    assert.equal(settled, 0, 'at the cap, new connections wait in the accept queue');
    t.proc.kill('SIGTERM');
    const got = await Promise.all(queued);
    const r = await Promise.race([t.exited, sleep(40000).then(() => null)]);
    assert.ok(r, `no exit within 40 s:\n${t.stderr().slice(-2000)}`);
    const results = await slow.done;
    const answered = got.filter((a) => a.status === 200).length;
    const reset = got.filter((a) => a.status === null);
    console.log(`# stop with a full accept queue: ${N} queued connections, ${answered} answered, ${reset.length} reset `
      + `(${[...new Set(reset.map((a) => a.why))].join(', ') || 'none'}); ${results.filter((x) => x.got === x.length).length} of 4 slow readers whole; exit ${r.code}`);
    assert.deepEqual(r, { code: 0, signal: null }, t.stderr().slice(-2000));
    assert.equal(reset.length, 0, 'no connection of the accept queue is reset');
    for (const a of got) assert.match(a.raw, /\r\nConnection: close\r\n/i);
    assertWhole(results, 4, 'slow reader');
    assertNoSanitizer(t.stderr() + t.stdout());
  } finally {
    slow.kill();
    if (t.alive()) t.proc.kill('SIGKILL');
  }
});
