// What an operator scrapes and reads: GET /metrics in the Prometheus text format (parsed by the
// Prometheus project's own Python parser, python3-prometheus-client), counting exactly the requests
// and votes a test makes; THAMDO_LOG_FORMAT=json (every stderr line one JSON object, request lines
// with their fields); and no secret, token, cookie or client address in either log format.
// Real redis-server, real thamdo, loopback only, every wait bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  startRedis, startThamdo, runThamdo, makePoll, request, rawRequest, Voter, sleep, SECRET,
} from './lib/harness.mjs';

const P = makePoll('do-do', { options: ['a', 'b'] });
const PYTHON = '/usr/bin/python3'; // a pyenv python3 may come first on PATH
const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "documentation": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
`;

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
});

/** Scrapes /metrics and parses it with the Prometheus parser: {families, text, headers}. */
async function scrape(svc) {
  const r = await request(svc.url, 'GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  const py = spawnSync(PYTHON, ['-c', PARSE], { input: r.text, encoding: 'utf8', timeout: 10000 });
  assert.equal(py.status, 0, `the Prometheus parser refused the exposition:\n${py.stderr}\n${r.text.slice(0, 3000)}`);
  const families = new Map(JSON.parse(py.stdout).map((f) => [f.name, f]));
  return { families, text: r.text, headers: r.headers };
}

/** The value of one sample (name and exactly these labels), 0 when absent. */
function value(m, name, labels = {}) {
  for (const f of m.families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const keys = Object.keys(s.labels);
      if (keys.length === Object.keys(labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return 0;
}

function samples(m, name) {
  return [...m.families.values()].flatMap((f) => f.samples.filter((s) => s.name === name));
}

const VOTES = { method: 'POST', route: '/api/v1/polls/{id}/votes' };
const RESULTS = { method: 'GET', route: '/api/v1/polls/{id}/results' };
const OTHER = { method: 'other', route: 'other' };

test('GET /metrics: the Prometheus text format, counting exactly the requests and votes made', async () => {
  const startedAt = Date.now() / 1000;
  const svc = await startThamdo({ redis, polls: [P] });
  try {
    // The links come up after "ready" on every worker: wait (bounded) until each says so.
    let m0 = await scrape(svc);
    for (let i = 0; i < 100 && samples(m0, 'thamdo_redis_link_up').some((s) => s.value !== 1); i++) {
      await sleep(30);
      m0 = await scrape(svc);
    }
    assert.equal(m0.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(m0.headers.get('cache-control'), 'no-store');

    const voter = new Voter(svc.url);
    assert.equal((await voter.vote(P.id, ['a'])).status, 201);
    assert.equal((await voter.vote(P.id, ['b'])).status, 409);
    assert.equal((await voter.results(P.id)).status, 200);
    assert.equal((await voter.results(P.id)).status, 200);
    assert.equal((await request(svc.url, 'GET', '/api/v1/polls/khong-co/results')).status, 404);
    assert.equal((await request(svc.url, 'GET', '/khong-co-gi-o-day')).status, 404);
    const m1 = await scrape(svc);

    const d = (name, labels) => value(m1, name, labels) - value(m0, name, labels);
    assert.equal(d('thamdo_votes_counted_total'), 1, 'one new ballot counted');
    assert.equal(d('thamdo_votes_duplicate_total'), 1, 'one duplicate refused');
    assert.equal(d('thamdo_votes_changed_total'), 0);
    const req = 'thamdo_http_requests_total';
    assert.equal(d(req, { ...VOTES, status: '201' }), 1);
    assert.equal(d(req, { ...VOTES, status: '409' }), 1);
    assert.equal(d(req, { ...RESULTS, status: '200' }), 2);
    assert.equal(d(req, { ...RESULTS, status: '404' }), 1);
    assert.equal(d(req, { ...OTHER, status: '404' }), 1);
    assert.equal(d(req, { method: 'GET', route: '/metrics', status: '200' }), 1, 'the first scrape is counted');
    const total = (m) => samples(m, req).reduce((n, s) => n + s.value, 0);
    assert.equal(total(m1) - total(m0), 7, 'nothing else was counted');
    for (const s of samples(m1, req)) assert.match(s.labels.status, /^[1-5]\d\d$/);

    // Histograms: cumulative buckets ending in +Inf = _count, one series per route, and as many
    // observations as answers counted.
    const dur = 'thamdo_http_request_duration_seconds';
    assert.equal(m1.families.get(dur)?.type, 'histogram');
    assert.equal(m1.families.get('thamdo_redis_roundtrip_seconds')?.type, 'histogram');
    const checkHistogram = (name, labels) => {
      const buckets = samples(m1, `${name}_bucket`)
        .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      assert.ok(buckets.length >= 2, `${name} ${JSON.stringify(labels)} has buckets`);
      assert.equal(buckets.at(-1).labels.le, '+Inf');
      for (let i = 1; i < buckets.length; i++) {
        const le = (b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le));
        assert.ok(le(buckets[i]) > le(buckets[i - 1]), 'le ascending');
        assert.ok(buckets[i].value >= buckets[i - 1].value, 'buckets are cumulative');
      }
      assert.equal(buckets.at(-1).value, value(m1, `${name}_count`, labels), `${name}: +Inf = _count`);
      assert.ok(value(m1, `${name}_sum`, labels) >= 0);
      return buckets.at(-1).value;
    };
    for (const route of [VOTES, RESULTS, OTHER]) {
      const answers = samples(m1, req).filter((s) => s.labels.route === route.route && s.labels.method === route.method)
        .reduce((n, s) => n + s.value, 0);
      assert.equal(checkHistogram(dur, route), answers, `${route.route}: one duration per answer`);
    }
    const rtt = checkHistogram('thamdo_redis_roundtrip_seconds', {});
    assert.ok(rtt - value(m0, 'thamdo_redis_roundtrip_seconds_count') >= 2, 'the two votes went to Redis');

    // The links of every worker are up; nothing reconnected or failed over.
    const up = samples(m1, 'thamdo_redis_link_up');
    assert.equal(up.length, 2 * svc.workers, JSON.stringify(up));
    for (let w = 0; w < svc.workers; w++) {
      for (const link of ['command', 'subscriber']) {
        assert.equal(value(m1, 'thamdo_redis_link_up', { worker: String(w), link }), 1, `worker ${w} ${link}`);
      }
    }
    assert.equal(value(m1, 'thamdo_workers'), svc.workers);
    assert.equal(value(m1, 'thamdo_redis_reconnects_total'), 0);
    assert.equal(value(m1, 'thamdo_redis_failovers_total'), 0);
    assert.equal(value(m1, 'thamdo_redis_timeouts_total'), 0);
    assert.ok(value(m1, 'thamdo_http_connections_open') >= 1, 'the scrape\'s own connection is open');

    const version = (await runThamdo({ args: ['--version'] })).stdout.trim().split(/\s+/).pop();
    assert.equal(value(m1, 'thamdo_build_info', { version }), 1, `build info of ${version}`);
    const started = value(m1, 'process_start_time_seconds');
    assert.ok(started >= startedAt - 5 && started <= Date.now() / 1000, `start time ${started}`);
    for (const f of m1.families.values()) assert.ok(f.documentation.length > 0, `${f.name} has HELP`);
  } finally {
    await svc.stop();
  }
});

test('GET /metrics: live results streams open, while they are open', async () => {
  const svc = await startThamdo({ redis, polls: [P] });
  try {
    const streams = async () => value(await scrape(svc), 'thamdo_live_streams_open');
    assert.equal(await streams(), 0);
    const ac = new AbortController();
    const res = await fetch(`${svc.url}/api/v1/polls/${P.id}/events`, { signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    await reader.read(); // the first frame: the stream is counted by now
    assert.equal(await streams(), 1);
    ac.abort();
    await reader.cancel().catch(() => {});
    let n = 1;
    for (let i = 0; i < 100 && n !== 0; i++) {
      await sleep(30);
      n = await streams();
    }
    assert.equal(n, 0, 'a stream whose reader left is no longer counted');
  } finally {
    await svc.stop();
  }
});

// ------------------------------------------------------------------------------------ the logs

const TOKEN = 'tok-metrics-1f2e3d4c5b6a79880123456789abcdef';
const WRONG_TOKEN = 'tok-wrong-99aa88bb77cc66dd55ee44ff';
const XFF = '203.0.113.77';
const COOKIE_JUNK = 'junkcookievalue5e6f7a8b9c0d';
const QUERY_SECRET = 'qsecret4242abcd';
const REQUEST_ID = 'obs-log-check-1';
const RFC3339_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Requests that carry every kind of credential the log must leave out; returns what was minted. */
async function credentialedRequests(svc) {
  const voter = new Voter(svc.url);
  voter.extraCookies = `other=${COOKIE_JUNK}`;
  const headers = { 'X-Forwarded-For': XFF, 'X-Real-IP': XFF, 'X-Request-Id': REQUEST_ID };
  assert.equal((await voter.vote(P.id, ['a'], { headers })).status, 201);
  assert.ok(voter.cookie, 'a voter id was minted');
  assert.equal((await voter.vote(P.id, ['b'], { headers: { 'X-Forwarded-For': XFF } })).status, 409);
  assert.equal((await request(svc.url, 'GET', `/api/v1/polls/${P.id}?token=${QUERY_SECRET}`, { cookie: voter.cookieHeader() })).status, 200);
  const auth = { Authorization: `Bearer ${TOKEN}`, 'X-Forwarded-For': XFF };
  assert.equal((await request(svc.url, 'GET', '/admin/v1/polls', { headers: auth })).status, 200);
  assert.equal((await request(svc.url, 'GET', '/admin/v1/polls', { headers: { Authorization: `Bearer ${WRONG_TOKEN}` } })).status, 401);
  // An origin with a quote-like and a backslash character: its refusal is logged, escaped.
  assert.equal((await request(svc.url, 'GET', `/api/v1/polls/${P.id}`, { headers: { Origin: 'http://ev\\il.example' } })).status, 403);
  // A path with a double quote and a backslash, sent as is.
  const raw = await rawRequest(svc.url, 'GET /khong"co\\gi HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.equal(raw.status, 404, raw.raw);
  return { voterCookie: voter.cookie, votedCookie: voter.voted };
}

function assertNoCredentials(log, minted, what) {
  for (const s of [TOKEN, WRONG_TOKEN, XFF, COOKIE_JUNK, QUERY_SECRET, SECRET, minted.voterCookie, minted.votedCookie]) {
    if (s) assert.ok(!log.includes(s), `${what}: "${s}" must not be in the log`);
  }
  // The voter id's random part alone must not be there either.
  const idPart = minted.voterCookie?.split('.')[1];
  if (idPart) assert.ok(!log.includes(idPart), `${what}: the voter id must not be in the log`);
}

for (const format of ['text', 'json']) {
  test(`THAMDO_LOG_FORMAT=${format}: no token, cookie, secret or client address in the log`, async () => {
    const svc = await startThamdo({ redis, polls: [P], env: { THAMDO_LOG_FORMAT: format, THAMDO_ADMIN_TOKENS: TOKEN } });
    let minted;
    try {
      minted = await credentialedRequests(svc);
    } finally {
      await svc.stop();
    }
    const log = svc.stderr();
    assertNoCredentials(log, minted, format);
    const lines = log.split('\n').filter((l) => l.length > 0);
    if (format === 'text') {
      for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) \S/, l);
      assert.ok(lines.some((l) => / info POST \/api\/v1\/polls\/do-do\/votes 201 [\d.]+ms id=obs-log-check-1$/.test(l)), log);
      return;
    }
    const records = lines.map((l) => {
      assert.ok(Buffer.byteLength(l) + 1 <= 4096, 'a line fits PIPE_BUF');
      try { return JSON.parse(l); } catch (e) { assert.fail(`not a JSON line (${e.message}): ${l}`); }
    });
    for (const r of records) {
      assert.match(r.time, RFC3339_MS, JSON.stringify(r));
      assert.ok(['debug', 'info', 'warn', 'error'].includes(r.level), JSON.stringify(r));
      assert.match(r.event, /^[a-z][a-z0-9_]*$/, JSON.stringify(r));
      assert.equal(typeof r.msg, 'string');
    }
    for (const ev of ['listening', 'worker_serving', 'stopping', 'stopped', 'origin_refused']) {
      assert.ok(records.some((r) => r.event === ev), `an "${ev}" line`);
    }
    assert.ok(records.some((r) => r.event === 'origin_refused' && r.msg.includes('"http://ev\\il.example"')), 'quotes and backslash survive escaping');
    const requests = records.filter((r) => r.event === 'request');
    for (const r of requests) {
      assert.deepEqual(Object.keys(r), ['time', 'level', 'event', 'msg', 'method', 'route', 'path', 'status', 'code', 'duration_ms', 'request_id']);
      assert.equal(r.level, 'info');
      assert.ok(Number.isInteger(r.status) && r.status >= 100 && r.status < 600, JSON.stringify(r));
      assert.ok(typeof r.duration_ms === 'number' && r.duration_ms >= 0, JSON.stringify(r));
      assert.ok(r.code === null || /^[a-z_]+$/.test(r.code), JSON.stringify(r));
      if (r.status < 400) assert.equal(r.code, null, JSON.stringify(r));
      assert.ok(!r.path.includes('?'), 'no query string in the path');
      assert.match(r.request_id, /^[A-Za-z0-9._:-]{1,64}$/);
    }
    const find = (pred, what) => {
      const r = requests.find(pred);
      assert.ok(r, `no request line for ${what}:\n${lines.filter((l) => l.includes('"request"')).join('\n')}`);
      return r;
    };
    const vote = find((r) => r.request_id === REQUEST_ID, REQUEST_ID);
    assert.deepEqual({ ...vote, time: 0, msg: 0, duration_ms: 0 }, {
      time: 0, level: 'info', event: 'request', msg: 0, method: 'POST', route: '/api/v1/polls/{id}/votes',
      path: '/api/v1/polls/do-do/votes', status: 201, code: null, duration_ms: 0, request_id: REQUEST_ID,
    });
    assert.match(vote.msg, /^POST \/api\/v1\/polls\/do-do\/votes 201 [\d.]+ms id=obs-log-check-1$/);
    find((r) => r.status === 409 && r.code === 'already_voted' && r.route === '/api/v1/polls/{id}/votes', '409 already_voted');
    find((r) => r.status === 200 && r.route === '/api/v1/polls/{id}' && r.path === '/api/v1/polls/do-do', 'the poll read');
    find((r) => r.status === 200 && r.route === '/admin/v1/polls' && r.method === 'GET', 'the admin list');
    find((r) => r.status === 401 && r.code === 'unauthorized' && r.route === '/admin/v1/polls', 'the refused token');
    find((r) => r.status === 403 && r.code === 'origin_not_allowed', 'the refused origin');
    find((r) => r.status === 404 && r.route === 'other' && r.code === 'not_found' && r.path === '/khong"co\\gi', 'the unknown path');
  });
}

test('THAMDO_LOG_FORMAT: a value other than text or json stops the start', async () => {
  const r = await runThamdo({ env: { THAMDO_LOG_FORMAT: 'xml', THAMDO_LISTEN: '127.0.0.1:0' } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /THAMDO_LOG_FORMAT: expected text or json/);
});
