// Black-box harness for thamdo: real redis-server, real thamdo binary, real HTTP.
// Every wait is bounded; every process started here is killed in an after() hook
// (and, as a last resort, synchronously on process exit).
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateResponse } from './openapi.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const THAMDO_BIN = path.resolve(REPO_ROOT, process.env.THAMDO_BIN || 'build/thamdo');
export const REDIS_SERVER = '/usr/bin/redis-server';
export const REDIS_CLI = '/usr/bin/redis-cli';

export const SECRET = 'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
export const OTHER_SECRET = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
export const COOKIE_NAME = 'thamdo_vid';
export const COOKIE_RE = /^v1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
export const DEFAULT_MAX_AGE = '34560000';

export const SANITIZER_MARKERS = [
  'AddressSanitizer',
  'LeakSanitizer',
  'runtime error:',
  'UndefinedBehaviorSanitizer',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A timer for Promise.race that does not keep the event loop alive. */
const later = (ms, value = null) => new Promise((r) => setTimeout(() => r(value), ms).unref());

// ---------------------------------------------------------------- cleanup
const live = new Set(); // {proc, group:boolean}
const tmpDirs = new Set();

function hardKill(entry) {
  const { proc, group } = entry;
  if (!proc.pid) return;
  try {
    if (group) process.kill(-proc.pid, 'SIGKILL');
    else if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  } catch { /* already gone */ }
}

async function cleanupAll() {
  const entries = [...live];
  // Polite first: SIGTERM everything still running, bounded wait, then SIGKILL.
  for (const e of entries) {
    if (e.proc.exitCode === null && e.proc.signalCode === null) {
      try { e.proc.kill(e.proc.__stopped ? 'SIGKILL' : 'SIGTERM'); } catch { /* gone */ }
    }
  }
  const deadline = Date.now() + scaled(3000); // a thamdo under THAMDO_WRAPPER ends slowly
  for (const e of entries) {
    while (e.proc.exitCode === null && e.proc.signalCode === null && Date.now() < deadline) await sleep(50);
  }
  for (const e of entries) { hardKill(e); live.delete(e); }
  for (const d of tmpDirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ } }
  tmpDirs.clear();
}
after(cleanupAll);
process.on('exit', () => { for (const e of live) hardKill(e); });

function track(proc, group) {
  const entry = { proc, group };
  live.add(entry);
  return entry;
}

// ---------------------------------------------------------------- temp files
export function tmpDir(tag = 'thamdo-bb-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), tag));
  tmpDirs.add(d);
  return d;
}

let pollsFileCounter = 0;
/** Writes a polls file. `polls` is an array; wrap=true → {"polls":[...]}, false → [...]. */
export function writePollsFile(polls, { dir, wrap = true, raw } = {}) {
  const d = dir || tmpDir('thamdo-polls-');
  const file = path.join(d, `polls-${process.pid}-${++pollsFileCounter}.json`);
  const text = raw !== undefined ? raw : JSON.stringify(wrap ? { polls } : polls, null, 2);
  fs.writeFileSync(file, text);
  return file;
}

/** A valid poll definition with defaults; `options` may be a list of ids. */
export function makePoll(id, over = {}) {
  const opts = over.options || ['opt-a', 'opt-b', 'opt-c'];
  const options = opts.map((o) => (typeof o === 'string' ? { id: o, label: `Label ${o}` } : o));
  return {
    id,
    question: over.question || `Question for ${id}?`,
    max_choices: 1,
    opens_at: null,
    closes_at: null,
    status: 'open',
    results_visibility: 'always',
    ...over,
    options,
  };
}

/** RFC 3339 UTC, whole seconds ("2026-11-28T10:00:00Z"). */
export function rfc3339(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------- ports
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- process output
function capture(proc) {
  const buf = { out: '', err: '' };
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (d) => { buf.out += d; });
  proc.stderr?.on('data', (d) => { buf.err += d; });
  return buf;
}

function exitPromise(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolve({ code: proc.exitCode, signal: proc.signalCode });
      return;
    }
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Resolves with the value of check() once truthy; rejects on timeout or when `exited` resolves first. */
async function waitUntil(check, { timeout, step = 25, exited, what }) {
  const deadline = Date.now() + timeout;
  let gone = null;
  exited?.then((x) => { gone = x; });
  for (let i = 0; i < Math.ceil(timeout / step) + 2; i++) {
    const v = check();
    if (v) return v;
    if (gone) throw new Error(`${what}: process exited early (code=${gone.code}, signal=${gone.signal})`);
    if (Date.now() > deadline) break;
    await sleep(step);
  }
  throw new Error(`${what}: timed out after ${timeout} ms`);
}

export function findSanitizerOutput(text) {
  return SANITIZER_MARKERS.filter((m) => text.includes(m));
}

export function assertNoSanitizer(text, label = 'stderr') {
  const found = findSanitizerOutput(text);
  assert.deepEqual(found, [], `sanitizer output in ${label}:\n${text}`);
}

// ---------------------------------------------------------------- redis
/**
 * Starts /usr/bin/redis-server on 127.0.0.1.
 * opts.port: reuse a given port (restart); opts.persistDir: AOF in that dir (data survives restart).
 */
export async function startRedis({ port, persistDir } = {}) {
  const p = port || (await freePort());
  const args = ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--logfile', ''];
  if (persistDir) args.push('--appendonly', 'yes', '--dir', persistDir);
  else args.push('--appendonly', 'no');
  const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = track(proc, false);
  const buf = capture(proc);
  const exited = exitPromise(proc);
  try {
    await waitUntil(() => buf.out.includes('Ready to accept connections'), {
      timeout: 10000, exited, what: `redis-server on port ${p}`,
    });
  } catch (e) {
    hardKill(entry);
    throw new Error(`${e.message}\nstdout:\n${buf.out}\nstderr:\n${buf.err}`);
  }
  const redis = {
    port: p,
    proc,
    url: `redis://127.0.0.1:${p}`,
    output: () => buf.out + buf.err,
    exited,
    /** SIGTERM and wait (bounded) for exit. */
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      if (proc.__stopped) { proc.kill('SIGCONT'); proc.__stopped = false; }
      proc.kill('SIGTERM');
      const r = await Promise.race([exited, later(10000)]);
      if (!r) { hardKill(entry); await exited; }
      live.delete(entry);
    },
    pause() { proc.kill('SIGSTOP'); proc.__stopped = true; },
    resume() { proc.kill('SIGCONT'); proc.__stopped = false; },
    cli: (...a) => redisCli(p, ...a),
  };
  return redis;
}

export function redisCli(port, ...args) {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), '--raw', ...args], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout.replace(/\n$/, ''));
    });
  });
}

// ---------------------------------------------------------------- wrapper (make valgrind)
// THAMDO_WRAPPER: a command line (split at white space) that every thamdo started here runs under,
// e.g. valgrind with its options (make valgrind); the pid stays thamdo's. Such a run is slow, so the
// harness's own waits for a thamdo (start, ready, stop, runThamdo) are multiplied by
// THAMDO_TIMEOUT_SCALE (default 1, or 10 under a wrapper). A test's own deadlines are left alone.
export const WRAPPER = (process.env.THAMDO_WRAPPER || '').split(/\s+/).filter(Boolean);
export const TIMEOUT_SCALE = Number(process.env.THAMDO_TIMEOUT_SCALE) || (WRAPPER.length ? 10 : 1);
const scaled = (ms) => ms * TIMEOUT_SCALE;
// Under a wrapper a Redis answer can wait seconds for its thread: the default Redis timeout (2 s)
// is scaled too (a test that sets THAMDO_REDIS_TIMEOUT_MS keeps its own).
const WRAPPER_ENV = WRAPPER.length ? { THAMDO_REDIS_TIMEOUT_MS: String(scaled(2000)) } : {};
/** [file, argv] of thamdo run as `...wrap THAMDO_WRAPPER... thamdo args...`. */
function thamdoCommand(wrap, args) {
  const cmd = [...wrap, ...WRAPPER, THAMDO_BIN, ...args];
  return [cmd[0], cmd.slice(1)];
}

// ---------------------------------------------------------------- thamdo
function childEnv(env) {
  const out = {
    PATH: process.env.PATH || '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME || '/tmp',
    LANG: 'C.UTF-8',
    ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=1',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    // The suites vote hundreds of times from 127.0.0.1: the rate limits are off unless a test
    // sets THAMDO_RATE_LIMITS=on (tests/blackbox/rate-limits.test.mjs).
    THAMDO_RATE_LIMITS: 'off',
  };
  // The suite runs with THAMDO_THREADS=1 and =2 (make blackbox): passed on unless a test sets it.
  if (process.env.THAMDO_THREADS !== undefined) out.THAMDO_THREADS = process.env.THAMDO_THREADS;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === null) delete out[k];
    else out[k] = String(v);
  }
  return out;
}

/** Base environment for a thamdo instance; keys set to undefined are removed. */
export function thamdoEnv({ redis, redisUrl, secret = SECRET, pollsFile, polls, dataDir, env = {} } = {}) {
  const base = {
    THAMDO_LISTEN: '127.0.0.1:0',
    THAMDO_REDIS_URL: redisUrl ?? redis?.url,
    THAMDO_SECRET: secret,
    THAMDO_POLLS_FILE: pollsFile ?? (polls ? writePollsFile(polls) : undefined),
    THAMDO_DATA_DIR: dataDir ?? tmpDir('thamdo-data-'),
  };
  return { ...base, ...env };
}

const LISTEN_RE = /listening on http:\/\/(\[[^\]]+\]|[^/:\s]+):(\d+)\/ with (\d+) workers?/;

/**
 * Starts thamdo and waits for "listening on http://HOST:PORT/".
 * opts: see thamdoEnv, plus args (argv), rawEnv (use exactly this env on top of the child defaults),
 * wrap (a command that execs the binary, e.g. ['prlimit', '--nofile=256:256', '--']: the pid stays thamdo's).
 */
export async function startThamdo(opts = {}) {
  const env = opts.rawEnv ?? thamdoEnv(opts);
  assert.ok(fs.existsSync(THAMDO_BIN), `thamdo binary not found at ${THAMDO_BIN}`);
  const [file, argv] = thamdoCommand(opts.wrap || [], opts.args || []);
  const proc = spawn(file, argv, {
    env: childEnv({ ...WRAPPER_ENV, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: a last-resort kill -9 also reaches its children
  });
  const entry = track(proc, true);
  const buf = capture(proc);
  const exited = exitPromise(proc);
  let m;
  try {
    m = await waitUntil(() => buf.err.match(LISTEN_RE), {
      timeout: scaled(opts.startTimeout || 10000), exited, what: 'thamdo start',
    });
  } catch (e) {
    await sleep(50);
    hardKill(entry);
    throw new Error(`${e.message}\nthamdo stderr:\n${buf.err}\nthamdo stdout:\n${buf.out}`);
  }
  const host = m[1];
  const port = Number(m[2]);
  const workers = Number(m[3]);
  thamdoPorts.add(port);
  assert.ok(port > 0 && port < 65536, `bad port in listening line: ${m[0]}`);
  // "listening" comes before the link to Redis is up: wait (bounded, without failing) until the
  // service says it is ready, so that a first request does not race the connection. A test that
  // starts it without a reachable Redis on purpose passes waitReady: false.
  if (opts.waitReady !== false) {
    const deadline = Date.now() + scaled(5000);
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`http://${host}:${port}/readyz`, { signal: AbortSignal.timeout(scaled(1000)) });
        await r.arrayBuffer();
        if (r.status === 200) break;
      } catch { /* not yet */ }
      await sleep(25);
    }
  }
  let stopped = false;
  const t = {
    url: `http://${host}:${port}`,
    host,
    port,
    workers, // event loops serving (THAMDO_THREADS), from the "listening on" line
    proc,
    pid: proc.pid,
    env,
    exited,
    stderr: () => buf.err,
    stdout: () => buf.out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    /** SIGTERM; asserts exit status 0 and no sanitizer output. */
    async stop({ timeout = 10000 } = {}) {
      timeout = scaled(timeout);
      assert.ok(!stopped, 'stop() called twice');
      stopped = true;
      assert.ok(t.alive(), `thamdo died before stop (code=${proc.exitCode}, signal=${proc.signalCode}):\n${buf.err}`);
      proc.kill('SIGTERM');
      const r = await Promise.race([exited, later(timeout)]);
      if (!r) {
        hardKill(entry);
        await Promise.race([exited, later(2000)]);
        assert.fail(`thamdo did not exit within ${timeout} ms after SIGTERM:\n${buf.err}`);
      }
      await sleep(20); // let the last stderr bytes arrive
      assert.equal(r.signal, null, `thamdo killed by signal ${r.signal}:\n${buf.err}`);
      assert.equal(r.code, 0, `thamdo exit status ${r.code} after SIGTERM:\n${buf.err}`);
      assertNoSanitizer(buf.err + buf.out, 'thamdo output');
    },
  };
  return t;
}

/** Runs thamdo to completion (for config errors, --help, --version). Bounded: kills after timeout. */
export async function runThamdo({ env = {}, args = [], timeout = 10000 } = {}) {
  timeout = scaled(timeout);
  const [file, argv] = thamdoCommand([], args);
  const proc = spawn(file, argv, { env: childEnv({ ...WRAPPER_ENV, ...env }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const entry = track(proc, true);
  const buf = capture(proc);
  const exited = exitPromise(proc);
  const r = await Promise.race([exited, later(timeout)]);
  if (!r) {
    hardKill(entry);
    await Promise.race([exited, later(2000)]);
    return { code: null, signal: 'TIMEOUT', stdout: buf.out, stderr: buf.err, timedOut: true };
  }
  await sleep(20);
  hardKill(entry); // reap any leftover children of the group
  live.delete(entry);
  return { code: r.code, signal: r.signal, stdout: buf.out, stderr: buf.err, timedOut: false };
}

// ---------------------------------------------------------------- HTTP
/** Parses one Set-Cookie header value. */
export function parseSetCookie(header) {
  const parts = header.split(';').map((s) => s.trim());
  const first = parts.shift();
  const eq = first.indexOf('=');
  const attrs = {};
  const attrNames = [];
  for (const p of parts) {
    if (!p) continue;
    const i = p.indexOf('=');
    const k = (i < 0 ? p : p.slice(0, i)).trim().toLowerCase();
    attrs[k] = i < 0 ? true : p.slice(i + 1).trim();
    attrNames.push(k);
  }
  return { name: first.slice(0, eq), value: first.slice(eq + 1), attrs, attrNames, raw: header };
}

// Ports of the thamdo instances started here: their responses are validated against api/openapi.yaml.
const thamdoPorts = new Set();

/**
 * One HTTP request with fetch (bounded by `timeout`).
 * json: object → JSON body with application/json; form: string | [[k,v]...] | object → urlencoded.
 * Every response of a thamdo instance started by startThamdo is validated against api/openapi.yaml
 * (tests/blackbox/lib/openapi.mjs; a mismatch throws); noValidate: true skips that for deliberately
 * malformed exchanges. The answer has `text` (decoded, a byte-order mark dropped) and `bytes` (a Buffer,
 * exactly as received).
 */
export async function request(base, method, urlPath, { headers = {}, json, form, body, cookie, timeout = 15000, noValidate = false } = {}) {
  const h = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
  let b = body;
  if (json !== undefined) {
    b = typeof json === 'string' ? json : JSON.stringify(json);
    if (!('content-type' in h)) h['content-type'] = 'application/json';
  }
  if (form !== undefined) {
    b = typeof form === 'string' ? form : new URLSearchParams(form).toString();
    if (!('content-type' in h)) h['content-type'] = 'application/x-www-form-urlencoded';
  }
  if (cookie !== undefined && cookie !== null) h.cookie = cookie;
  const init = { method, headers: h, signal: AbortSignal.timeout(timeout), redirect: 'manual' };
  if (b !== undefined) init.body = b;
  if (b instanceof ReadableStream) init.duplex = 'half';
  const t0 = Date.now();
  const res = await fetch(base + urlPath, init);
  // The raw bytes are kept (`bytes`): text() and TextDecoder drop a leading byte-order mark.
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = new TextDecoder('utf-8').decode(bytes);
  const elapsed = Date.now() - t0;
  let parsed;
  try { parsed = text.length ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  if (!noValidate && thamdoPorts.has(Number(new URL(base).port))) {
    validateResponse({ method, path: urlPath, status: res.status, headers: res.headers, body: text });
  }
  return {
    status: res.status,
    headers: res.headers,
    text,
    bytes,
    json: parsed,
    elapsed,
    setCookies: res.headers.getSetCookie().map(parseSetCookie),
  };
}

/**
 * A read after a write made through another connection: the answer may come from the cache of
 * another worker, which hears of the write when it is published and is never more than a second
 * behind Redis. Reads `path` until check(answer) holds, at most 2.5 s; returns the last answer.
 */
export async function readSettled(base, urlPath, check, opts = {}) {
  const until = Date.now() + 2500;
  let r = await request(base, 'GET', urlPath, opts);
  while (!check(r) && Date.now() < until) {
    await sleep(25);
    r = await request(base, 'GET', urlPath, opts);
  }
  return r;
}

/**
 * A read that must include every earlier write (a baseline): a worker never answers more than a
 * second after Redis last confirmed the poll, so a read made over a second after the last write is
 * current, whichever worker or instance answers it.
 */
export async function readFresh(base, urlPath, opts = {}) {
  await sleep(1100);
  return request(base, 'GET', urlPath, opts);
}

/** A simulated voter: a cookie jar holding the voter id and, like a browser, the "voted polls"
 * cookie (`<name>_voted`) the service sets beside it; `voted: false` leaves the latter out (a reader
 * whose id predates it). */
export class Voter {
  constructor(base, { cookieName = COOKIE_NAME, cookie = null, voted = true } = {}) {
    this.base = base;
    this.cookieName = cookieName;
    this.cookie = cookie; // cookie value (without name)
    this.keepVoted = voted;
    this.voted = null; // the "voted polls" cookie value, when kept
    this.extraCookies = '';
  }

  cookieHeader() {
    const parts = [];
    if (this.extraCookies) parts.push(this.extraCookies);
    if (this.cookie !== null) parts.push(`${this.cookieName}=${this.cookie}`);
    if (this.voted !== null) parts.push(`${this.cookieName}_voted=${this.voted}`);
    return parts.length ? parts.join('; ') : null;
  }

  async req(method, urlPath, opts = {}) {
    const r = await request(opts.base || this.base, method, urlPath, { ...opts, cookie: this.cookieHeader() });
    const issued = r.setCookies.filter((c) => c.name === this.cookieName);
    r.issued = issued.length ? issued[issued.length - 1] : null;
    r.issuedCount = issued.length;
    if (r.issued) this.cookie = r.issued.value;
    const voted = r.setCookies.filter((c) => c.name === `${this.cookieName}_voted`);
    r.votedCookie = voted.length ? voted[voted.length - 1] : null;
    if (r.votedCookie && this.keepVoted) this.voted = r.votedCookie.value;
    return r;
  }

  get(pollId, opts) { return this.req('GET', `/api/v1/polls/${pollId}`, opts); }
  results(pollId, opts) { return this.req('GET', `/api/v1/polls/${pollId}/results`, opts); }
  vote(pollId, options, opts = {}) {
    return this.req('POST', `/api/v1/polls/${pollId}/votes`, { json: { options }, ...opts });
  }
  /** A form vote, with the X-Thamdo: 1 header that such a body needs. */
  voteForm(pollId, options, opts = {}) {
    return this.req('POST', `/api/v1/polls/${pollId}/votes`, {
      form: options.map((o) => ['option', o]), ...opts, headers: { 'x-thamdo': '1', ...opts.headers },
    });
  }
}

// ---------------------------------------------------------------- raw sockets
/**
 * Sends raw bytes over TCP; collects whatever comes back until the peer closes or `timeout` passes.
 * closeAfterWrite: destroy the socket right after writing (half request then disconnect).
 */
export function rawRequest(base, data, { timeout = 3000, closeAfterWrite = false } = {}) {
  const u = new URL(base);
  return new Promise((resolve) => {
    const sock = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) });
    const chunks = [];
    let done = false;
    const finish = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const m = raw.match(/^HTTP\/1\.[01] (\d{3})/);
      resolve({ raw, status: m ? Number(m[1]) : null, why });
    };
    const timer = setTimeout(() => finish('timeout'), timeout);
    sock.on('connect', () => {
      const parts = Array.isArray(data) ? data : [data];
      for (const p of parts) sock.write(p);
      if (closeAfterWrite) finish('closed-by-client');
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => finish('end'));
    sock.on('close', () => finish('close'));
    sock.on('error', (e) => finish(`error:${e.code}`));
  });
}

// ---------------------------------------------------------------- assertions
export function assertJsonHeaders(r, what = '') {
  const ct = r.headers.get('content-type');
  assert.match(ct || '', /^application\/json;\s*charset=utf-8$/i, `${what} Content-Type was ${ct}`);
  assert.match(r.headers.get('cache-control') || '', /\bno-store\b/, `${what} Cache-Control was ${r.headers.get('cache-control')}`);
}

/** A poll read answered from the instance's cache: the same for every reader without a ballot. */
export function assertCachedJsonHeaders(r, what = '') {
  const ct = r.headers.get('content-type');
  assert.match(ct || '', /^application\/json;\s*charset=utf-8$/i, `${what} Content-Type was ${ct}`);
  assert.equal(r.headers.get('cache-control'), 'private, no-cache', `${what} Cache-Control`);
  assert.match(r.headers.get('etag') || '', /^"[0-9a-f]{16}"$/, `${what} ETag`);
}

/** Asserts an error response: status, code, exact body shape {"error":{"code","message"}}, JSON headers. */
export function assertError(r, status, code, { extraKeys = [] } = {}) {
  const ctx = `(got ${r.status} ${r.text})`;
  assert.equal(r.status, status, `expected status ${status} ${ctx}`);
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `body is not a JSON object ${ctx}`);
  assert.deepEqual(Object.keys(r.json).sort(), ['error', ...extraKeys].sort(), `top-level keys ${ctx}`);
  assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message'], `error keys ${ctx}`);
  assert.equal(r.json.error.code, code, `error code ${ctx}`);
  assert.equal(typeof r.json.error.message, 'string', `message type ${ctx}`);
  assert.ok(r.json.error.message.length > 0, `empty message ${ctx}`);
  assertJsonHeaders(r, `error ${status} ${code}`);
}

/**
 * The percent of `votes` out of `total` by the contract: one decimal, each option rounded half up on
 * its own from exact integers, tenths = (2*1000*votes + total) / (2*total) (integer division).
 */
export function contractPercent(votes, total) {
  if (total <= 0) return 0;
  const tenths = (2n * 1000n * BigInt(votes) + BigInt(total)) / (2n * BigInt(total));
  return Number(tenths) / 10;
}

/** Checks RESULTS shape and internal consistency; returns {optionId: votes}. */
export function assertResults(res, pollDef, what = 'results') {
  assert.ok(res && typeof res === 'object', `${what}: not an object: ${JSON.stringify(res)}`);
  assert.deepEqual(Object.keys(res).sort(), ['options', 'poll_id', 'total', 'voters'], `${what} keys: ${JSON.stringify(res)}`);
  assert.equal(res.poll_id, pollDef.id);
  assert.ok(Number.isInteger(res.total) && res.total >= 0, `${what}: total ${res.total}`);
  assert.ok(Number.isInteger(res.voters) && res.voters >= 0, `${what}: voters ${res.voters}`);
  assert.ok(Array.isArray(res.options), `${what}: options not an array`);
  assert.deepEqual(res.options.map((o) => o.id).sort(), pollDef.options.map((o) => o.id).sort(), `${what}: option ids`);
  const counts = {};
  let sum = 0;
  let tenths = 0;
  for (const o of res.options) {
    assert.deepEqual(Object.keys(o).sort(), ['id', 'label', 'percent', 'votes'], `${what}: option keys ${JSON.stringify(o)}`);
    const def = pollDef.options.find((d) => d.id === o.id);
    assert.equal(o.label, def.label, `${what}: label of ${o.id}`);
    assert.ok(Number.isInteger(o.votes) && o.votes >= 0, `${what}: votes ${JSON.stringify(o)}`);
    assert.ok(typeof o.percent === 'number' && o.percent >= 0 && o.percent <= 100, `${what}: percent ${JSON.stringify(o)}`);
    assert.ok(Number.isInteger(Math.round(o.percent * 10)) && Math.abs(o.percent * 10 - Math.round(o.percent * 10)) < 1e-9,
      `${what}: percent with more than one decimal ${JSON.stringify(o)}`);
    counts[o.id] = o.votes;
    sum += o.votes;
    tenths += Math.round(o.percent * 10);
  }
  assert.equal(res.total, sum, `${what}: total != sum of votes: ${JSON.stringify(res)}`);
  for (const o of res.options) {
    assert.equal(o.percent, contractPercent(o.votes, res.total), `${what}: percent of ${o.id}: ${JSON.stringify(res)}`);
  }
  if (res.total > 0) assert.ok(tenths >= 999 && tenths <= 1001, `${what}: percents sum to ${tenths / 10}: ${JSON.stringify(res)}`);
  else assert.equal(tenths, 0, `${what}: percents with total 0: ${JSON.stringify(res)}`);
  return counts;
}

/** The contract's percentages of a list of votes (for expectations). */
export function expectedPercents(votes) {
  const total = votes.reduce((a, b) => a + b, 0);
  return votes.map((v) => contractPercent(v, total));
}

/** Polls readyz until it answers `status` (bounded). Returns the last response. */
export async function waitForStatus(base, urlPath, status, { timeout = 15000, step = 200 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (let i = 0; i < Math.ceil(timeout / step) + 2 && Date.now() < deadline; i++) {
    try {
      last = await request(base, 'GET', urlPath, { timeout: Math.max(500, Math.min(5000, deadline - Date.now())) });
      if (last.status === status) return last;
    } catch (e) { last = { error: e.message }; }
    await sleep(step);
  }
  assert.fail(`${urlPath} did not answer ${status} within ${timeout} ms; last: ${JSON.stringify(last?.status ?? last)} ${last?.text ?? last?.error ?? ''}`);
}
