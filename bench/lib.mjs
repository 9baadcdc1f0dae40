// bench/lib.mjs - what the two benchmark drivers (bench.mjs, instructions.mjs) share: the
// private redis-server with production settings, starting thamdo and the bare server on
// loopback, the scenarios, a small HTTP and RESP client, bounded waits, and the cleanup of
// everything started here. Must not judge results: each driver owns its table and targets.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const THAMDO_BIN = path.join(ROOT, 'build/bench/thamdo');
export const BARE_BIN = path.join(ROOT, 'build/bench/bare');
export const RESULTS_DIR = path.join(ROOT, 'bench/results');
export const BROWSER_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Chrome/131.0.0.0 Safari/537.36';
export const POLL = 'chuyen-muc'; // the seed poll of deploy/polls.json
export const MEMORY_POLL = 'bench-voters'; // a poll of its own for the bytes-per-voter count

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An integer setting from the environment, default def, refused outside [min, max]. */
export function knob(name, def, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    console.error(`bench: ${name}: expected a whole number from ${min} to ${max}, got '${raw}'`);
    process.exit(2);
  }
  return v;
}

/** Stops the run with a message if cmd is not on PATH. */
export function need(cmd, hint) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  } catch {
    console.error(`bench: ${cmd} not found: ${hint}`);
    process.exit(2);
  }
}

// ------------------------------------------------------------------ cleanup
const children = new Set();
const dirs = new Set();

function killAll() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try { c.kill('SIGKILL'); } catch { /* gone */ }
    }
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`bench: ${sig}: stopping what was started`);
    process.exit(130);
  });
}

/** Ends the whole run after seconds, whatever it is waiting for. */
export function watchdog(seconds) {
  setTimeout(() => {
    console.error(`bench: still running after ${seconds} s: stopping (raise BENCH_MAX_SECONDS)`);
    process.exit(1);
  }, seconds * 1000).unref();
}

/** A private folder, removed at exit. */
export function tmpDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'thamdo-bench-'));
  dirs.add(d);
  return d;
}

/** Starts cmd with stdout and stderr in logFile; killed at exit if still running. */
export function start(cmd, args, logFile, env = process.env) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.logFile = logFile;
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Runs cmd to its end (killed after ms); resolves with its stdout, rejects on a failure. */
export function capture(cmd, args, ms, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(t);
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')}: ${sig ? `killed (${sig})` : `exit ${code}`}\n${err}${out}`));
    });
  });
}

const alive = (c) => c.exitCode === null && c.signalCode === null;

function logTail(c) {
  try {
    return fs.readFileSync(c.logFile, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

/** Polls fn() every 50 ms until it gives a value, for at most ms; what names it on failure. */
export async function waitFor(fn, ms, what, child = null) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child && !alive(child)) throw new Error(`${what}: the process exited\n${logTail(child)}`);
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${ms} ms${child ? `\n${logTail(child)}` : ''}`);
    }
    await sleep(50);
  }
}

/** The port of the "listening on http://127.0.0.1:PORT/" line the child logged. */
export function listenPort(child, ms, what) {
  return waitFor(async () => {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(fs.readFileSync(child.logFile, 'utf8'));
    return m && Number(m[1]);
  }, ms, what, child);
}

/** SIGTERM, then SIGKILL after ms; resolves with the exit code (or signal name). */
export async function stop(child, ms = 15000) {
  if (!alive(child)) return child.exitCode ?? child.signalCode;
  const done = new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig)));
  child.kill('SIGTERM');
  const t = setTimeout(() => { if (alive(child)) child.kill('SIGKILL'); }, ms);
  const rc = await done;
  clearTimeout(t);
  return rc;
}

/** CPU seconds (user + system, all threads) the process has used so far. */
let clkTck = 0;
export function cpuSeconds(pid) {
  if (!clkTck) clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / clkTck; // fields 14 (utime) and 15 (stime)
}

// -------------------------------------------------------------------- Redis
/** A minimal RESP client on one connection: commands in, replies out, in order. */
export class Resp {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    sock.on('data', (d) => this.onData(d));
    sock.on('error', (e) => this.failAll(e));
    sock.on('close', () => this.failAll(new Error('redis connection closed')));
  }

  static connect(socketPath) {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(socketPath, () => resolve(new Resp(s)));
      s.once('error', reject);
    });
  }

  failAll(e) {
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  // One reply from this.buf at offset i: [value, next offset], or null while incomplete.
  parse(i) {
    const eol = this.buf.indexOf('\r\n', i);
    if (eol < 0) return null;
    const type = String.fromCharCode(this.buf[i]);
    const line = this.buf.toString('utf8', i + 1, eol);
    if (type === '+') return [line, eol + 2];
    if (type === '-') return [new Error(line), eol + 2];
    if (type === ':') return [Number(line), eol + 2];
    if (type === '$') {
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      if (this.buf.length < eol + 2 + n + 2) return null;
      return [this.buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
    }
    if (type === '*') {
      const n = Number(line);
      const out = [];
      let at = eol + 2;
      for (let k = 0; k < n; k++) {
        const r = this.parse(at);
        if (!r) return null;
        out.push(r[0]);
        at = r[1];
      }
      return [n < 0 ? null : out, at];
    }
    throw new Error(`redis: unexpected reply type '${type}'`);
  }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let at = 0;
    for (let r; this.waiting.length && (r = this.parse(at)); at = r[1]) {
      const w = this.waiting.shift();
      if (r[0] instanceof Error) w.reject(r[0]);
      else w.resolve(r[0]);
    }
    this.buf = this.buf.subarray(at);
  }

  static encode(args) {
    const parts = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    return Buffer.concat(parts);
  }

  /** Sends every command at once; resolves with their replies. */
  pipeline(cmds) {
    const replies = cmds.map(() => new Promise((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.sock.write(Buffer.concat(cmds.map(Resp.encode)));
    return Promise.all(replies);
  }

  async command(...args) {
    return (await this.pipeline([args]))[0];
  }

  close() {
    this.sock.destroy();
  }
}

/** used_memory of INFO memory, in bytes. */
export async function usedMemory(resp) {
  const info = await resp.command('INFO', 'memory');
  return Number(/^used_memory:(\d+)/m.exec(info)[1]);
}

/** The settings of the private redis-server thamdo starts itself (src/proc/redisproc.c):
 * append-only file fsynced at every write, no RDB snapshots, no TCP port. */
export const REDIS_SETTINGS = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
export const REDIS_SETTINGS_TEXT = 'unix socket, appendonly yes, appendfsync always, save "" (as src/proc/redisproc.c)';

/** A private redis-server on a unix socket in dir with the production settings. */
export async function startRedis(dir) {
  const sock = path.join(dir, 'redis.sock');
  const child = start('redis-server', [
    '--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--dir', dir,
    ...REDIS_SETTINGS, '--daemonize', 'no',
  ], path.join(dir, 'redis.log'));
  const resp = await waitFor(() => Resp.connect(sock), 10000, 'redis-server start', child);
  await waitFor(async () => (await resp.command('PING')) === 'PONG', 10000, 'redis PING', child);
  return { child, sock, resp };
}

// ------------------------------------------------------------ the services
/** The polls file: the seed poll of deploy/polls.json, a two-option poll for the memory
 * counts, and extra (more polls, e.g. bench/seed.mjs's). */
export function writePolls(dir, extra = [], name = 'polls.json') {
  const seed = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy/polls.json'), 'utf8'));
  seed.polls.push({
    id: MEMORY_POLL,
    question: 'Đếm bộ nhớ cho mỗi người bình chọn',
    options: [{ id: 'co', label: 'Có' }, { id: 'khong', label: 'Không' }],
    max_choices: 1,
    status: 'open',
    results_visibility: 'always',
  });
  seed.polls.push(...extra);
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(seed));
  return file;
}

/** The environment of a benchmarked thamdo: production mode, this Redis, a fixed secret,
 * a port of its own; no THAMDO_* setting of the caller's shell leaks in. */
export function thamdoEnv(ctx, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('THAMDO_')));
  return {
    ...env,
    THAMDO_LISTEN: '127.0.0.1:0',
    THAMDO_REDIS_URL: `unix://${ctx.redis.sock}`,
    THAMDO_SECRET: ctx.secret,
    THAMDO_POLLS_FILE: ctx.pollsFile,
    THAMDO_DATA_DIR: path.join(ctx.dir, 'data'),
    THAMDO_MODE: 'production',
    THAMDO_RATE_LIMITS: 'off', // one client address sends every vote
    ...extra,
  };
}

/** A shared context: the folder, Redis, the secret and the polls file. */
export async function setup(extraPolls = []) {
  const dir = tmpDir();
  const redis = await startRedis(dir);
  return { dir, redis, secret: crypto.randomBytes(32).toString('hex'), pollsFile: writePolls(dir, extraPolls) };
}

/** Starts thamdo (prefix: e.g. valgrind and its flags) and waits until /readyz says 200. */
export async function startThamdo(ctx, { name = 'thamdo', prefix = [], env = {}, ms = 15000 } = {}) {
  const cmd = [...prefix, THAMDO_BIN];
  const child = start(cmd[0], cmd.slice(1), path.join(ctx.dir, `${name}.log`), thamdoEnv(ctx, env));
  const port = await listenPort(child, ms, `${name} start`);
  await waitFor(async () => (await request(port, { path: '/readyz' })).status === 200, ms, `${name} /readyz`, child);
  return { child, port, name };
}

/** Starts the bare server (threads event loops), with one HINCRBY per request when
 * hincrby is set. */
export async function startBare(ctx, { name = 'bare', hincrby = false, threads = 1, prefix = [], ms = 15000 } = {}) {
  const cmd = [...prefix, BARE_BIN, '--port', '0', '--threads', String(threads),
    ...(hincrby ? ['--redis', `unix://${ctx.redis.sock}`] : [])];
  const child = start(cmd[0], cmd.slice(1), path.join(ctx.dir, `${name}.log`));
  const port = await listenPort(child, ms, `${name} start`);
  await waitFor(async () => (await request(port, { path: '/' })).status === 200, ms, `${name} first answer`, child);
  return { child, port, name };
}

// --------------------------------------------------------------------- HTTP
/** One HTTP request to 127.0.0.1:port; resolves {status, headers, body, reused}. */
export function request(port, { method = 'GET', path: p = '/', headers = {}, body = null, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent, timeout: 60000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        reused: req.reusedSocket,
      }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within 60 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The reader cookie ("name=value") of a reader who has voted on the seed poll. */
export async function voterCookie(port) {
  // A returning reader who has not voted in the poll (most page views): the cookies a first
  // visit sets, the voter id and the "voted polls" mask, sent back as a browser does.
  const r = await request(port, { path: `/api/v1/polls/${POLL}` });
  const set = [].concat(r.headers['set-cookie'] || []);
  if (r.status !== 200 || set.length === 0) throw new Error(`the first visit answered ${r.status} without a cookie`);
  return set.map((c) => c.split(';')[0]).join('; ');
}

/** The scenarios, each against 'bare', 'bare_hincrby' or 'thamdo'. Every request is the
 * same each time: a vote and a visit carry no cookie, so each one is a new reader's. */
export function scenarios(cookie) {
  const json = { 'Content-Type': 'application/json' };
  return [
    { key: 'bare', name: 'bare evhttp', server: 'bare', path: '/', expect: 200 },
    { key: 'bare_hincrby', name: 'bare + HINCRBY', server: 'bare_hincrby', path: '/', expect: 200 },
    { key: 'results', name: 'results GET', server: 'thamdo', path: `/api/v1/polls/${POLL}/results`, expect: 200 },
    { key: 'poll', name: 'poll GET, cookie', server: 'thamdo', path: `/api/v1/polls/${POLL}`, headers: { Cookie: cookie }, expect: 200 },
    {
      key: 'vote', name: 'vote, new voter', server: 'thamdo', method: 'POST', path: `/api/v1/polls/${POLL}/votes`,
      headers: json, body: '{"options":["tin-tuc"]}', expect: 201,
    },
    { key: 'widget', name: '/widget.js gzip', server: 'thamdo', path: '/widget.js', headers: { 'Accept-Encoding': 'gzip, deflate, br' }, expect: 200 },
    { key: 'healthz', name: '/healthz', server: 'thamdo', path: '/healthz', expect: 200 },
    {
      key: 'visit', name: 'visit record', server: 'thamdo', method: 'POST', path: '/api/v1/visits',
      headers: { 'User-Agent': BROWSER_UA }, expect: 200,
    },
    { key: 'counter', name: 'counter read', server: 'thamdo', path: '/api/v1/visits', expect: 200 },
  ];
}

// ------------------------------------------------------------------ reports
/** What the table is about: the machine, the commit, the time. */
export function machine() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).toString().trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bench', 'Makefile']).toString();
    if (dirty.trim()) commit += '+changes';
  } catch { /* not a checkout */ }
  const cpus = os.cpus();
  return {
    cores: cpus.length, cpu: cpus[0] ? cpus[0].model : 'unknown', kernel: os.release(),
    loadavg_start: os.loadavg().map((x) => Math.round(x * 100) / 100), commit,
  };
}

/** Writes obj as bench/results/<UTC time><suffix>.json; returns the path. */
export function writeResult(obj, suffix = '') {
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${stamp}${suffix}.json`);
  fs.writeFileSync(file, `${JSON.stringify(obj, null, 2)}\n`);
  return path.relative(ROOT, file);
}

/** Lays rows (arrays of strings) out in columns; the first row is the header. */
export function table(rows, rightAlign = () => false) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => {
    const s = String(c ?? '');
    return i === r.length - 1 ? s : rightAlign(i) ? s.padStart(widths[i]) : s.padEnd(widths[i]);
  }).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** How a target reads in the tables: "met" or "MISSED". */
export function mark(ok) {
  return ok ? 'met' : 'MISSED';
}
