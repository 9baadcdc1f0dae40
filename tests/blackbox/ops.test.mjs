// What an operator reads and sets: the access log (status as sent, error code, request id, no
// credentials), the log of refused origins (once per origin, never a flood), THAMDO_DEMO, and the
// build's message when the -dev packages are missing.
// Real redis-server, real thamdo, loopback only, every wait bounded.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFile } from 'node:child_process';
import {
  startRedis, startThamdo, makePoll, request, redisCli, assertError, sleep, REPO_ROOT,
} from './lib/harness.mjs';

const P = {
  open: makePoll('ops-poll', { options: ['a', 'b'] }),
};

let redis;
let svc;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, polls: Object.values(P) });
});

/** The access-log lines of the service so far, by request id. */
function accessLines() {
  const out = new Map();
  for (const line of svc.stderr().split('\n')) {
    const m = line.match(/ info (GET|POST|HEAD|PUT|PATCH|DELETE|OPTIONS|OTHER) (\S+) (\d{3})(?: (\S+))? [\d.]+ms id=(\S+)$/);
    if (m) {
      const [, method, path, status, code, id] = m;
      assert.ok(!out.has(id), `request id ${id} logged twice`);
      out.set(id, { method, path, status: Number(status), code: code ?? null, line });
    }
  }
  return out;
}

/** Waits (bounded) until the access log holds a line for every id. */
async function linesFor(ids) {
  const deadline = Date.now() + 3000;
  let lines = accessLines();
  while (ids.some((id) => !lines.has(id)) && Date.now() < deadline) {
    await sleep(20);
    lines = accessLines();
  }
  for (const id of ids) assert.ok(lines.has(id), `no access-log line for ${id}:\n${svc.stderr().slice(-2000)}`);
  return lines;
}

/** One request written on a raw socket, exactly as given; resolves to the raw answer. */
function rawExchange(text, timeout = 5000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(svc.port, '127.0.0.1');
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('raw exchange timed out')); }, timeout);
    sock.setEncoding('latin1');
    sock.on('data', (d) => { buf += d; });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => { clearTimeout(timer); resolve(buf); });
    sock.write(text);
  });
}

test('access log: every answer is logged once with the status actually sent, the error code of a 4xx/5xx and the request id', async () => {
  const cases = [
    ['GET', '/api/v1/polls/ops-poll', 200, null],
    ['GET', '/api/v1/polls/no-such-poll', 404, 'poll_not_found'],
    ['GET', '/nowhere', 404, 'not_found'],
    ['DELETE', '/api/v1/polls/ops-poll', 405, 'method_not_allowed'],
    ['GET', '/healthz', 200, null],
    ['GET', '/embed/polls/no-such-poll', 404, 'poll_not_found'],
    ['GET', '/embed/visits?site=no-such-site', 404, 'unknown_site'],
  ];
  const ids = [];
  for (const [i, [method, path, status, code]] of cases.entries()) {
    const id = `ops-case-${i}`;
    const r = await request(svc.url, method, path, { headers: { 'x-request-id': id } });
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    if (code && r.json) assert.equal(r.json.error.code, code);
    assert.equal(r.headers.get('x-request-id'), id, 'the request id comes back');
    ids.push(id);
  }
  const lines = await linesFor(ids);
  for (const [i, [method, path, status, code]] of cases.entries()) {
    const l = lines.get(ids[i]);
    assert.equal(l.method, method, l.line);
    assert.equal(l.path, path.split('?')[0], `the path without its query: ${l.line}`);
    assert.equal(l.status, status, `the log says the status that was sent: ${l.line}`);
    assert.equal(l.code, code, `the error code is logged for 4xx/5xx only: ${l.line}`);
  }
});

test('access log: a damaged stored poll is answered and logged with the same status', async () => {
  // A definition that is valid JSON but lacks what a poll needs: whatever the answer, the log
  // must say the same status (a failed build of the answer used to be logged as 200).
  const def = JSON.parse(await redisCli(redis.port, 'GET', 'thamdo:{poll:ops-poll}:def'));
  def.id = 'ops-damaged';
  delete def.question;
  delete def.options[0].label;
  await redisCli(redis.port, 'SET', 'thamdo:{poll:ops-damaged}:def', JSON.stringify(def));
  await redisCli(redis.port, 'SADD', 'thamdo:polls', 'ops-damaged');
  const ids = [];
  const got = [];
  for (const [i, path] of ['/api/v1/polls/ops-damaged', '/api/v1/polls/ops-damaged/results', '/api/v1/polls'].entries()) {
    const id = `ops-damaged-${i}`;
    const r = await request(svc.url, 'GET', path, { headers: { 'x-request-id': id }, noValidate: true });
    got.push(r.status);
    ids.push(id);
  }
  const lines = await linesFor(ids);
  ids.forEach((id, i) => assert.equal(lines.get(id).status, got[i], lines.get(id).line));
  assert.ok(svc.alive(), 'the service is still running');
});

test('access log: an unusable X-Request-Id is replaced by a generated one; generated ids are unique', async () => {
  const seen = new Set();
  for (const given of [undefined, '', 'x'.repeat(65), 'has space', 'semi;colon', 'é']) {
    const headers = given === undefined ? {} : { 'x-request-id': given };
    const r = await request(svc.url, 'GET', '/healthz', { headers });
    const id = r.headers.get('x-request-id');
    assert.match(id, /^[A-Za-z0-9._:-]{1,64}$/, `generated id ${id}`);
    assert.notEqual(id, given);
    assert.ok(!seen.has(id), `ids are unique: ${id}`);
    seen.add(id);
  }
  const lines = await linesFor([...seen]);
  assert.equal([...seen].filter((id) => lines.has(id)).length, seen.size);
  const long = 'a'.repeat(64);
  assert.equal((await request(svc.url, 'GET', '/healthz', { headers: { 'x-request-id': long } })).headers.get('x-request-id'), long);
});

test('access log: an absolute-form request line never brings its user, password, host or query into the log', async () => {
  const raw = await rawExchange(
    `GET http://editor:s3cr3t-pass@127.0.0.1:${svc.port}/api/v1/polls/ops-poll?token=t0ps3cret HTTP/1.1\r\n` +
    `Host: 127.0.0.1:${svc.port}\r\nX-Request-Id: ops-absolute\r\nConnection: close\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 \d{3}/);
  const lines = await linesFor(['ops-absolute']);
  const line = lines.get('ops-absolute').line;
  assert.equal(lines.get('ops-absolute').path, '/api/v1/polls/ops-poll', line);
  for (const secret of ['editor', 's3cr3t-pass', 't0ps3cret', '@']) {
    assert.ok(!svc.stderr().includes(secret), `"${secret}" must not be in the log`);
  }
});

test('refused origins: each is logged once however many requests it sends; the access log shows 403 origin_not_allowed', async () => {
  const origins = ['https://refused-one.example', 'https://refused-two.example'];
  const ids = [];
  for (const origin of origins) {
    for (let i = 0; i < 40; i++) {
      const id = `ops-origin-${origins.indexOf(origin)}-${i}`;
      const r = await request(svc.url, 'GET', '/api/v1/polls/ops-poll', { headers: { origin, 'x-request-id': id } });
      assertError(r, 403, 'origin_not_allowed');
      ids.push(id);
    }
  }
  const lines = await linesFor(ids);
  for (const id of ids) assert.equal(lines.get(id).code, 'origin_not_allowed', lines.get(id).line);
  // Each worker keeps its own log of refusals (nothing shared between event loops): once per worker at most.
  for (const origin of origins) {
    const n = svc.stderr().split('\n').filter((l) => l.includes('origin refused') && l.includes(origin)).length;
    assert.ok(n >= 1 && n <= svc.workers, `${origin}: one log line per worker (${svc.workers}) for 40 refusals, got ${n}`);
  }
  // Far more distinct origins than the log keeps apart: bounded output, no flood.
  for (let i = 0; i < 200; i++) {
    const r = await request(svc.url, 'GET', '/api/v1/polls/ops-poll', { headers: { origin: `https://many-${i}.example` } });
    assert.equal(r.status, 403);
  }
  const refusedLines = svc.stderr().split('\n').filter((l) => l.includes('origin refused'));
  assert.ok(refusedLines.length <= (2 + 32 + 1) * svc.workers,
    `at most one line per kept origin plus one summary, per worker (${svc.workers}): ${refusedLines.length}`);
  assert.ok(refusedLines.some((l) => /more than 32 origins/.test(l)), 'the overflow is summed up once');
});

test('THAMDO_DEMO=false: / and the demo page are 404, the widget, the API and the embed page are unchanged', async () => {
  const off = await startThamdo({ redis, polls: Object.values(P), env: { THAMDO_DEMO: 'false' } });
  const on = svc;
  try {
    assertError(await request(off.url, 'GET', '/'), 404, 'not_found');
    assert.equal((await request(on.url, 'GET', '/')).status, 200, 'on by default');
    for (const p of ['/static/index.html']) {
      assertError(await request(off.url, 'GET', p), 404, 'not_found');
      assertError(await request(on.url, 'GET', p), 404, 'not_found');
    }
    for (const p of ['/widget.js', '/api/v1/polls/ops-poll', '/embed/polls/ops-poll', '/static/demo.css', '/healthz']) {
      const a = await request(off.url, 'GET', p);
      const b = await request(on.url, 'GET', p);
      assert.equal(a.status, 200, `${p} with the demo off`);
      assert.equal(a.status, b.status, p);
    }
  } finally {
    await off.stop();
  }
});

test('make without the -dev packages names the missing Debian packages and says to run make deps', async () => {
  const r = await new Promise((resolve) => {
    execFile('make', ['--no-print-directory', '-C', REPO_ROOT, 'pkgcheck'], {
      env: { ...process.env, PKG_CONFIG_LIBDIR: '/nonexistent', PKG_CONFIG_PATH: '' }, timeout: 20000,
    }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
  assert.notEqual(r.code, 0, 'the build stops');
  for (const pkg of ['libevent-dev', 'libhiredis-dev', 'libjansson-dev', 'libssl-dev']) {
    assert.ok(r.stderr.includes(pkg), `${pkg} is named: ${r.stderr}`);
  }
  assert.match(r.stderr, /make deps/);
  assert.doesNotMatch(r.stderr, /error: |fatal error/, 'no compiler error');
});
