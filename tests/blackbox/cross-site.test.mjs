// Cross-site requests and framing: a vote must be one that a browser sends to another origin only
// after a preflight (a JSON body, or a form with X-Thamdo: 1); a request that a browser marks
// Sec-Fetch-Site: cross-site (or same-site) without an allowed Origin or Referer is refused; the demo
// page and the dashboard say who may frame them; the answers that read the voter cookie say so in
// Vary and are never stored (no-store), while the answers cached for every reader keep their ETag.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, makePoll, request, Voter, assertError, assertCachedJsonHeaders, readSettled,
} from './lib/harness.mjs';

const ALLOWED = 'https://portal.example.vn';
const TOKEN = 'cross-site-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const polls = ['kieu-noi-dung', 'trang-khac', 'rieng-tu'].map((id) => makePoll(id, { options: ['mot', 'hai'] }));

let svc;

before(async () => {
  const redis = await startRedis();
  svc = await startThamdo({ redis, polls, env: { THAMDO_ALLOWED_ORIGINS: ALLOWED, THAMDO_ADMIN_TOKENS: TOKEN } });
});

const votePath = (id) => `/api/v1/polls/${id}/votes`;
const tokens = (v) => (v || '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);

async function total(id) {
  const r = await readSettled(svc.url, `/api/v1/polls/${id}/results`, (a) => a.status === 200);
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

test('a vote with a body that needs no preflight is 415 unsupported_media_type, and nothing is counted', async () => {
  const json = JSON.stringify({ options: ['mot'] });
  const cases = [
    ['text/plain', json],
    ['text/plain;charset=UTF-8', json],
    ['application/x-www-form-urlencoded', 'option=mot'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="option"\r\n\r\nmot\r\n--x--\r\n'],
  ];
  for (const [type, body] of cases) {
    for (const origin of [undefined, ALLOWED]) {
      const headers = { 'content-type': type, ...(origin ? { origin } : {}) };
      const r = await request(svc.url, 'POST', votePath('kieu-noi-dung'), { body, headers });
      assertError(r, 415, 'unsupported_media_type');
      assert.match(r.json.error.message, /application\/json/);
    }
  }
  assert.equal(await total('kieu-noi-dung'), 0);
  // The same form with the custom header counts; so does JSON.
  const f = await new Voter(svc.url).req('POST', votePath('kieu-noi-dung'), { form: 'option=mot', headers: { 'x-thamdo': '1' } });
  assert.equal(f.status, 201, f.text);
  const j = await new Voter(svc.url).vote('kieu-noi-dung', ['hai']);
  assert.equal(j.status, 201, j.text);
  assert.equal(await total('kieu-noi-dung'), 2);
});

test('the preflight of an allowed origin allows the X-Thamdo and X-Thamdo-Proof headers', async () => {
  const r = await request(svc.url, 'OPTIONS', votePath('kieu-noi-dung'), {
    headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-thamdo' },
  });
  assert.equal(r.status, 204);
  assert.deepEqual(tokens(r.headers.get('access-control-allow-headers')), ['content-type', 'x-thamdo', 'x-thamdo-proof']);
});

test('Sec-Fetch-Site: cross-site or same-site without an allowed Origin or Referer → 403 origin_not_allowed; same-origin, none, an allowed Origin pass', async () => {
  for (const site of ['cross-site', 'same-site', 'Cross-Site']) {
    const r = await new Voter(svc.url).vote('trang-khac', ['mot'], { headers: { 'sec-fetch-site': site } });
    assertError(r, 403, 'origin_not_allowed');
    const v = await request(svc.url, 'POST', '/api/v1/visits', { headers: { 'sec-fetch-site': site } });
    assertError(v, 403, 'origin_not_allowed');
  }
  assert.equal(await total('trang-khac'), 0, 'nothing counted');
  const ok = [
    { 'sec-fetch-site': 'cross-site', origin: ALLOWED },
    { 'sec-fetch-site': 'cross-site', referer: `${ALLOWED}/bai-viet/1` },
    { 'sec-fetch-site': 'same-origin' },
    { 'sec-fetch-site': 'none' },
  ];
  for (const headers of ok) {
    const r = await new Voter(svc.url).vote('trang-khac', ['mot'], { headers });
    assert.equal(r.status, 201, `${JSON.stringify(headers)}: ${r.text}`);
  }
  // The no-JS form post makes the same check (a 403 page).
  const page = await request(svc.url, 'POST', '/embed/polls/trang-khac', { form: 'option=mot', headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(page.status, 403, page.text.slice(0, 200));
  assert.equal(await total('trang-khac'), ok.length);
});

test('framing: / may be framed by the service itself only, /admin/ by nobody (CSP frame-ancestors, X-Frame-Options)', async () => {
  for (const method of ['GET', 'HEAD']) {
    const demo = await request(svc.url, method, '/');
    assert.equal(demo.status, 200);
    assert.match(demo.headers.get('content-security-policy') || '', /frame-ancestors 'self'(;|$)/);
    assert.equal(demo.headers.get('x-frame-options'), 'SAMEORIGIN');
    const admin = await request(svc.url, method, '/admin/');
    assert.equal(admin.status, 200);
    assert.match(admin.headers.get('content-security-policy') || '', /frame-ancestors 'none'(;|$)/);
    assert.equal(admin.headers.get('x-frame-options'), 'DENY');
  }
});

test('answers that read the voter cookie carry Vary: Origin, Cookie; the personal ones Cache-Control: no-store', async () => {
  const v = new Voter(svc.url);
  const first = await v.get('rieng-tu'); // no ballot: the answer cached for every such reader
  assert.equal(first.status, 200);
  assertCachedJsonHeaders(first, 'poll read without a ballot');
  assert.deepEqual(tokens(first.headers.get('vary')), ['origin', 'cookie']);
  const again = await v.get('rieng-tu', { headers: { 'if-none-match': first.headers.get('etag') } });
  assert.equal(again.status, 304, 'the ETag still works');

  const personal = [
    ['vote', await v.vote('rieng-tu', ['mot'], { headers: { origin: ALLOWED } })],
    ['poll read with a ballot', await v.get('rieng-tu', { headers: { origin: ALLOWED } })],
    ['second vote', await v.vote('rieng-tu', ['hai'])],
    ['visit', await v.req('POST', '/api/v1/visits', { headers: { origin: ALLOWED } })],
  ];
  for (const [what, r] of personal) {
    assert.ok(r.status < 500, `${what}: ${r.status} ${r.text}`);
    assert.equal(r.headers.get('cache-control'), 'no-store', `${what}: Cache-Control`);
    assert.deepEqual(tokens(r.headers.get('vary')), ['origin', 'cookie'], `${what}: Vary`);
  }
  assert.equal(personal[1][1].json.voted, true);
  assert.equal(personal[0][1].headers.get('access-control-allow-origin'), ALLOWED);

  // Results visible to everyone: the shared answer, which still reads the cookie (after_vote polls).
  const results = await v.results('rieng-tu');
  assertCachedJsonHeaders(results, 'results');
  assert.deepEqual(tokens(results.headers.get('vary')), ['origin', 'cookie']);
  // Answers that do not read the cookie vary by Origin alone.
  const list = await request(svc.url, 'GET', '/api/v1/polls');
  assert.deepEqual(tokens(list.headers.get('vary')), ['origin']);
  // Admin answers are never stored.
  const admin = await request(svc.url, 'GET', '/admin/v1/polls', { headers: AUTH });
  assert.equal(admin.status, 200);
  assert.equal(admin.headers.get('cache-control'), 'no-store');
});
