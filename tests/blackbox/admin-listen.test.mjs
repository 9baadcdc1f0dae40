// THAMDO_ADMIN_LISTEN: the admin API and the dashboard on an address of their own (an internal port),
// with no CORS at all; the public listener then answers 404 for /admin. The admin listener serves
// /admin, the dashboard's /static/ files and the probes, nothing else; the connection deadlines apply
// to it as to the public one.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, request, rawRequest, assertError,
  assertNoSanitizer,
} from './lib/harness.mjs';

const ALLOWED = 'https://portal.example.vn';
const TOKEN = 'admin-listen-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const polls = [makePoll('cong-noi-bo', { options: ['mot', 'hai'] })];

let redis;
let svc;
let adminUrl;

const ADMIN_RE = /admin API and dashboard listening on (http:\/\/127\.0\.0\.1:\d+)\/admin\//;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    polls,
    env: {
      THAMDO_ALLOWED_ORIGINS: ALLOWED, THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_ADMIN_LISTEN: '127.0.0.1:0',
      THAMDO_HEADER_TIMEOUT_MS: '300',
    },
  });
  const m = svc.stderr().match(ADMIN_RE);
  assert.ok(m, svc.stderr());
  adminUrl = m[1];
  assert.notEqual(adminUrl, svc.url);
});

const corsHeaders = (r) => [...r.headers.keys()].filter((k) => k.startsWith('access-control-'));

test('the admin listener serves the admin API and the dashboard, with no CORS header even for an allowed Origin', async () => {
  const list = await request(adminUrl, 'GET', '/admin/v1/polls', { headers: { ...AUTH, origin: ALLOWED } });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.polls.map((p) => p.id), ['cong-noi-bo']);
  assert.deepEqual(corsHeaders(list), []);
  assert.ok(!/origin/i.test(list.headers.get('vary') || ''), `Vary: ${list.headers.get('vary')}`);
  const pre = await request(adminUrl, 'OPTIONS', '/admin/v1/polls', {
    headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(pre.status, 204);
  assert.deepEqual(corsHeaders(pre), [], 'no preflight is granted');
  assertError(await request(adminUrl, 'GET', '/admin/v1/polls'), 401, 'unauthorized');
  const page = await request(adminUrl, 'GET', '/admin/', { headers: { origin: ALLOWED } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') || '', /^text\/html/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.deepEqual(corsHeaders(page), []);
  const slash = await request(adminUrl, 'GET', '/admin');
  assert.equal(slash.status, 303);
  for (const p of ['/static/admin.js', '/static/admin.css', '/healthz', '/readyz', '/metrics']) {
    const r = await request(adminUrl, 'GET', p);
    assert.equal(r.status, 200, `${p}: ${r.status}`);
  }
});

test('the admin listener answers 404 for everything else, the public API included, without CORS headers', async () => {
  for (const p of ['/api/v1/polls', '/api/v1/polls/cong-noi-bo', '/', '/widget.js', '/embed/polls/cong-noi-bo']) {
    const r = await request(adminUrl, 'GET', p, { headers: { origin: ALLOWED } });
    assertError(r, 404, 'not_found');
    assert.deepEqual(corsHeaders(r), [], p);
  }
  const vote = await request(adminUrl, 'POST', '/api/v1/polls/cong-noi-bo/votes', { json: { options: ['mot'] } });
  assertError(vote, 404, 'not_found');
});

test('the public listener answers 404 for /admin and serves the rest as before', async () => {
  for (const p of ['/admin', '/admin/', '/admin/v1/polls', '/admin/v1/polls/cong-noi-bo']) {
    assertError(await request(svc.url, 'GET', p, { headers: AUTH }), 404, 'not_found');
  }
  const r = await request(svc.url, 'GET', '/api/v1/polls', { headers: { origin: ALLOWED } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), ALLOWED);
  assert.equal((await request(svc.url, 'GET', '/readyz')).status, 200);
  assert.equal((await request(svc.url, 'GET', '/static/admin.js')).status, 200, 'the files stay public');
});

test('the header deadline applies on the admin listener too', async () => {
  const r = await rawRequest(adminUrl, 'GET /admin/v1/polls HTTP/1.1\r\nHost: x\r\n', { timeout: 5000 });
  assert.notEqual(r.why, 'timeout', 'closed by the service within its header deadline');
  assert.equal(r.raw, '', 'closed without an answer');
});

test('a bad THAMDO_ADMIN_LISTEN stops the start with one line naming it (exit 2)', async () => {
  for (const v of ['nonsense', '127.0.0.1:99999']) {
    const r = await runThamdo({ env: thamdoEnv({ redis, polls, env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_ADMIN_LISTEN: v } }) });
    assert.equal(r.code, 2, r.stderr);
    assertNoSanitizer(r.stderr);
    assert.match(r.stderr, /^thamdo: THAMDO_ADMIN_LISTEN: /m);
  }
});

test('an admin address already in use (the public one) stops the start naming THAMDO_ADMIN_LISTEN', async () => {
  const port = new URL(svc.url).port;
  const r = await runThamdo({
    env: thamdoEnv({ redis, polls, env: { THAMDO_LISTEN: '127.0.0.1:0', THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_ADMIN_LISTEN: `127.0.0.1:${port}` } }),
  });
  assert.notEqual(r.code, 0, r.stderr);
  assert.equal(r.timedOut, false, r.stderr);
  assertNoSanitizer(r.stderr);
  assert.match(r.stderr, /thamdo: THAMDO_ADMIN_LISTEN: cannot listen on 127\.0\.0\.1:\d+/);
});
