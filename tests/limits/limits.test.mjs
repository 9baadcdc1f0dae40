// Limits against slow and greedy clients (make limits, release build): 1,000 connections
// trickling header bytes are cut by THAMDO_HEADER_TIMEOUT_MS while normal readers are served; at
// the descriptor limit (prlimit 256) the service neither spins nor floods its log, and serves again
// once the connections leave; clients pipelining without reading do not grow its memory. Real
// redis-server, real thamdo, loopback only, every wait bounded; the figures are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {
  startRedis, startThamdo, makePoll, rawRequest, assertNoSanitizer, sleep,
} from '../blackbox/lib/harness.mjs';
import { get, ready } from './lib.mjs';

const P = makePoll('gioi-han', { options: ['a', 'b'] });
let redis;
before(async () => { redis = await startRedis(); });
after(async () => { await redis?.stop(); });

/** CPU time (user + system) of pid, in seconds. */
function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime: fields 14 and 15, in 1/100 s
}

/** Resident memory of pid, in MB. */
function rssMB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(m[1]) / 1024;
}

function connect(t) {
  const s = net.connect({ host: '127.0.0.1', port: t.port });
  s.on('error', () => {});
  return s;
}

test('1,000 connections trickling header bytes are cut by the header deadline; normal readers are served meanwhile', async () => {
  const DEADLINE = 2000;
  const t = await startThamdo({ redis, polls: [P], waitReady: false, env: { THAMDO_THREADS: '2', THAMDO_HEADER_TIMEOUT_MS: String(DEADLINE) } });
  await ready(t);
  const N = 1000;
  const first = new Array(N).fill(null);
  const cut = new Array(N).fill(null);
  const socks = Array.from({ length: N }, (_, i) => {
    const s = connect(t);
    s.on('connect', () => { first[i] = Date.now(); s.write('GET /api/v1/polls/gioi-han HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '); });
    s.on('close', () => { cut[i] = Date.now(); });
    return s;
  });
  // One more header byte every 300 ms on each: far within evhttp's 30 s of inactivity.
  const drip = setInterval(() => { for (const s of socks) if (!s.destroyed && first[socks.indexOf(s)] !== null) s.write('a'); }, 300);
  const normal = [];
  const t0 = Date.now();
  try {
    while (cut.some((c) => c === null) && Date.now() - t0 < 20000) {
      const a0 = Date.now();
      const r = await rawRequest(t.url, get('/api/v1/polls/gioi-han'), { timeout: 5000 });
      normal.push({ ms: Date.now() - a0, status: r.status });
      await sleep(100);
    }
  } finally {
    clearInterval(drip);
    for (const s of socks) s.destroy();
  }
  const connected = first.filter((x) => x !== null).length;
  const cutAfter = cut.map((c, i) => (c !== null && first[i] !== null ? c - first[i] : null)).filter((x) => x !== null);
  const served = normal.filter((r) => r.status === 200).length;
  console.log(`# trickle: ${connected} connections trickling, ${cutAfter.length} cut by the ${DEADLINE} ms deadline `
    + `(${Math.min(...cutAfter)}..${Math.max(...cutAfter)} ms after their first byte); ${normal.length} normal requests meanwhile, `
    + `${served} answered, slowest ${Math.max(...normal.map((r) => r.ms))} ms`);
  assert.equal(connected, N, 'every trickling connection was accepted');
  assert.equal(cutAfter.length, N, 'every trickling connection was cut');
  assert.ok(Math.min(...cutAfter) >= DEADLINE - 50, 'none was cut before its deadline');
  assert.ok(normal.length >= 5, 'normal readers came meanwhile');
  assert.equal(served, normal.length, `every normal reader was answered (each within 5 s): ${JSON.stringify(normal.filter((r) => r.status !== 200))}`);
  await t.stop();
});

for (const mode of ['cap', 'emfile']) {
  const what = mode === 'cap' ? 'the connection cap below the descriptor limit' : 'THAMDO_MAX_CONNECTIONS above it (accept fails: EMFILE)';
  test(`descriptor limit 256 and 400 connections, ${what}: no spin, no log flood, service back when they leave`, async () => {
    const t = await startThamdo({
      redis, polls: [P], waitReady: false, wrap: ['prlimit', '--nofile=256:256', '--'],
      env: { THAMDO_THREADS: '1', ...(mode === 'emfile' ? { THAMDO_MAX_CONNECTIONS: '5000' } : {}) },
    });
    const socks = [];
    try {
      await ready(t);
      let connected = 0;
      for (let i = 0; i < 400; i++) {
        const s = connect(t);
        s.on('connect', () => { connected++; });
        socks.push(s);
      }
      await sleep(1000);
      const cpu0 = cpuSeconds(t.pid);
      const log0 = t.stderr().length;
      await sleep(2000);
      const cpu = cpuSeconds(t.pid) - cpu0;
      const logBytes = t.stderr().length - log0;
      const waiting = await Promise.race([rawRequest(t.url, get('/healthz'), { timeout: 1500 }), sleep(1600).then(() => ({ status: null }))]);
      for (const s of socks) s.destroy();
      const back0 = Date.now();
      let back = null;
      while (!back && Date.now() - back0 < 15000) {
        const r = await rawRequest(t.url, get('/healthz'), { timeout: 2000 });
        if (r.status === 200) back = Date.now() - back0;
        else await sleep(100);
      }
      console.log(`# descriptor limit 256 (${mode}): ${connected} of 400 connections connected; over 2 s: ${cpu.toFixed(2)} s of CPU, `
        + `${logBytes} bytes of log; a reader meanwhile: ${waiting.status ?? 'waiting'}; served again ${back} ms after they left`);
      assert.ok(cpu < 0.4, `the process does not spin: ${cpu} s of CPU in 2 s`);
      assert.ok(logBytes < 2048, `the log is not flooded: ${logBytes} bytes in 2 s:\n${t.stderr().slice(-1000)}`);
      assert.ok(back !== null, 'service back once the connections left');
      assert.match(t.stderr(), mode === 'cap' ? /connections open, its share of THAMDO_MAX_CONNECTIONS/ : /cannot accept connections: Too many open files/);
      await t.stop();
    } finally {
      for (const s of socks) s.destroy();
      if (t.alive()) t.proc.kill('SIGKILL');
    }
  });
}

test('4 clients pipelining requests without reading the answers: the memory of the service stays bounded', async () => {
  const t = await startThamdo({ redis, polls: [P], waitReady: false, env: { THAMDO_THREADS: '2' } });
  await ready(t);
  const rss0 = rssMB(t.pid);
  const chunk = Buffer.from('GET /api/v1/polls/gioi-han HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(10000));
  let stop = false;
  const pushed = [0, 0, 0, 0];
  const clients = pushed.map((_, k) => {
    const s = connect(t);
    s.on('connect', () => {
      s.pause(); // never reads an answer
      const pump = () => {
        while (!stop) {
          pushed[k] += chunk.length;
          if (!s.write(chunk)) { s.once('drain', pump); return; }
        }
      };
      pump();
    });
    return s;
  });
  let max = rss0;
  const t0 = Date.now();
  while (Date.now() - t0 < 5000) {
    await sleep(200);
    max = Math.max(max, rssMB(t.pid));
  }
  stop = true;
  const inKernel = clients.map((s, k) => pushed[k] - s.writableLength);
  for (const s of clients) s.destroy();
  const requests = inKernel.reduce((a, b) => a + b, 0) / (chunk.length / 10000);
  console.log(`# pipelining without reading: 4 clients sent ${(inKernel.reduce((a, b) => a + b, 0) / 1e6).toFixed(1)} MB `
    + `(${Math.round(requests)} requests) in 5 s; RSS ${rss0.toFixed(1)} MB before, at most ${max.toFixed(1)} MB (+${(max - rss0).toFixed(1)} MB)`);
  assert.ok(max - rss0 < 64, `memory bounded: +${(max - rss0).toFixed(1)} MB`);
  await t.stop();
  assertNoSanitizer(t.stderr());
});
