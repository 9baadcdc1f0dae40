// bench/memory.mjs - the memory targets of `make bench`: anonymous memory of an idle server,
// what 10,000 idle keep-alive connections cost (against the bare server), what 10,000
// live-results subscribers cost, and Redis bytes per voter (bench/voters.mjs, when the
// store's measurement is there). Everything from /proc/PID/status (RssAnon) of processes
// bench.mjs started; loopback only; every connection opened here is closed before returning.
// Must not judge throughput, and must not fail the run when a piece is missing: a target it
// cannot measure is reported "not measured" with the reason.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, THAMDO_BIN, capture, sleep } from './lib.mjs';

export const MIB = 1024 * 1024;

/** RssAnon of pid, in bytes (anonymous resident memory: heap, stacks, private mappings). */
export function rssAnon(pid) {
  const m = /^RssAnon:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status: no RssAnon line`);
  return Number(m[1]) * 1024;
}

/** The soft and hard RLIMIT_NOFILE of this process (the servers it starts inherit them). */
export function fdLimits() {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  const n = (x) => (x === 'unlimited' ? Infinity : Number(x));
  return m ? { soft: n(m[1]), hard: n(m[2]) } : { soft: 1024, hard: 1024 };
}

/** How many connections a test may open: want, or fewer when the file-descriptor limit
 * (shared by this client and each server) is lower; note says why. */
export function connectionCount(want) {
  const { soft, hard } = fdLimits();
  const room = soft - 256; // the driver's own files, Redis links, logs
  if (room >= want) return { n: want, note: null };
  const n = Math.max(0, room);
  return { n, note: `${n} connections instead of ${want}: RLIMIT_NOFILE is ${soft} (hard ${hard}); ` +
    'make bench raises the soft limit to the hard one (ulimit -n)' };
}

/** Opens n connections to 127.0.0.1:port, at most `parallel` being set up at once; on each it
 * sends head (one HTTP request) and waits until ready(text so far) is true; all within ms.
 * Resolves with the open sockets (the caller closes them with closeAll) or rejects. */
export function openConnections(port, n, head, ready, { parallel = 200, ms = 25000 } = {}) {
  return new Promise((resolve, reject) => {
    const socks = [];
    let started = 0;
    let done = 0;
    let failed = false;
    const timer = setTimeout(() => fail(new Error(`${done} of ${n} connections ready within ${ms} ms`)), ms);
    function fail(e) {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      closeAll(socks);
      reject(e);
    }
    function next() {
      if (failed || started >= n) return;
      started++;
      let text = '';
      let ok = false;
      const s = net.createConnection({ host: '127.0.0.1', port }, () => s.write(head));
      socks.push(s);
      s.setNoDelay(true);
      s.on('data', (d) => {
        if (ok) return; // later data (a keep-alive comment, an event) is read and dropped
        text += d.toString('latin1');
        try {
          if (!ready(text)) return;
        } catch (e) {
          fail(e);
          return;
        }
        ok = true;
        text = '';
        if (++done === n) {
          clearTimeout(timer);
          resolve(socks);
        } else next();
      });
      s.on('error', (e) => fail(new Error(`connection ${socks.indexOf(s) + 1}: ${e.message}`)));
      s.on('close', () => { if (!ok) fail(new Error(`connection ${socks.indexOf(s) + 1} closed before its answer`)); });
    }
    if (n === 0) {
      clearTimeout(timer);
      resolve(socks);
      return;
    }
    for (let i = 0; i < Math.min(parallel, n); i++) next();
  });
}

export function closeAll(socks) {
  for (const s of socks) {
    s.removeAllListeners('close');
    s.on('error', () => {});
    s.destroy();
  }
}

/** One whole HTTP/1.1 answer with a Content-Length body has arrived in text. */
export function wholeAnswer(text) {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
  return !m || text.length >= end + 4 + Number(m[1]);
}

/** The head of an event stream (200, text/event-stream) has arrived in text. */
export function streamStarted(text) {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  if (!/^HTTP\/1\.1 200/.test(text) || !/\r\ncontent-type:\s*text\/event-stream/i.test(text.slice(0, end))) {
    throw new Error(`not an event stream: ${text.slice(0, text.indexOf('\r\n'))}`);
  }
  return true;
}

export const get = (p, extra = '') => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

/** RssAnon growth of srv (a started server) while n connections, each after one request
 * (head, answered when ready says so), are open; a short pause lets the server settle. */
export async function connectionCost(srv, n, head, ready) {
  const before = rssAnon(srv.child.pid);
  const socks = await openConnections(srv.port, n, head, ready);
  try {
    await sleep(500);
    const after = rssAnon(srv.child.pid);
    return { connections: socks.length, rss_anon_before: before, rss_anon_after: after, delta: after - before };
  } finally {
    closeAll(socks);
    await sleep(300);
  }
}

/** Whether path on srv answers an event stream: {ok} or {ok: false, why}. */
export async function probeStream(port, p) {
  try {
    const socks = await openConnections(port, 1, get(p, 'Accept: text/event-stream\r\n'), streamStarted, { ms: 5000 });
    closeAll(socks);
    return { ok: true };
  } catch (e) {
    return { ok: false, why: e.message.replace(/^connection 1: /, '') };
  }
}

/** Redis bytes per voter from the store's own measurement, bench/voters.mjs --json (the last
 * line of its output that is a JSON object, with bytes_per_voter); null with a reason when
 * the script is not there or gives no figure. */
export async function voterBytes(ms) {
  const script = path.join(ROOT, 'bench/voters.mjs');
  if (!fs.existsSync(script)) return { value: null, why: 'bench/voters.mjs is missing' };
  let out;
  try {
    out = await capture('node', [script, '--json'], ms, { ...process.env, THAMDO_BIN });
  } catch (e) {
    return { value: null, why: `bench/voters.mjs failed: ${e.message.split('\n').slice(0, 3).join(' ')}` };
  }
  const line = out.trim().split('\n').reverse().find((l) => l.trim().startsWith('{'));
  let json = null;
  try {
    json = line ? JSON.parse(line) : null;
  } catch { /* reported below */ }
  const v = json && Number(json.bytes_per_voter);
  if (!Number.isFinite(v)) return { value: null, why: 'bench/voters.mjs --json printed no bytes_per_voter' };
  return { value: v, report: json };
}
