// The API description (api/openapi.yaml) against the real service: every route of src/http/dispatch.c is
// described, and every route is driven through the harness's request(), which validates each
// response (status documented, headers, Content-Type, JSON schema) with lib/openapi.mjs. The last
// test lists the documented responses this file did not produce (diagnostics, not failures: some,
// like 500, cannot be caused from outside).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT, startRedis, startThamdo, makePoll, request, Voter, assertError, sleep,
} from './lib/harness.mjs';
import {
  validateResponse, documentedResponses, validationHits, openapiDocument,
} from './lib/openapi.mjs';

const TOKEN = 'tok-openapi-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const ALLOWED = 'http://portal.example';
const EVIL = 'http://evil.example';
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36';

const LABELS = [
  { id: 'tin-tuc', label: 'Tin tức - Sự kiện' },
  { id: 'chi-dao-dieu-hanh', label: 'Chỉ đạo điều hành' },
  { id: 'nong-thon-moi', label: 'Xây dựng nông thôn mới' },
  { id: 'van-ban-thu-tuc', label: 'Văn bản - Thủ tục hành chính' },
  { id: 'khac', label: 'Khác' },
];
const P = {
  main: makePoll('chuyen-muc', { question: 'Bạn quan tâm đến chuyên mục nào trên trang?', options: LABELS, allow_change: true, closes_at: '2030-12-31T23:59:59+07:00' }),
  fixed: makePoll('co-dinh', { options: ['mot', 'hai'] }),
  afterVote: makePoll('sau-binh-chon', { results_visibility: 'after_vote', options: ['co', 'khong'] }),
  closed: makePoll('da-dong', { status: 'closed' }),
  upcoming: makePoll('sap-mo', { opens_at: '2030-01-01T00:00:00+07:00', closes_at: '2030-02-01T00:00:00+07:00' }),
};

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    polls: Object.values(P),
    env: {
      THAMDO_ADMIN_TOKENS: TOKEN,
      THAMDO_ALLOWED_ORIGINS: ALLOWED,
      THAMDO_SITES: 'default,cong-2',
      THAMDO_MODE: 'test',
      THAMDO_TEST_CLOCK: 'true',
    },
  });
  url = svc.url;
});

const ADMIN_OPS = [
  ['GET', '/admin/v1/polls'], ['POST', '/admin/v1/polls'], ['GET', '/admin/v1/polls/x'], ['PATCH', '/admin/v1/polls/x'],
  ['DELETE', '/admin/v1/polls/x'], ['POST', '/admin/v1/polls/x/close'], ['POST', '/admin/v1/polls/x/reopen'],
  ['POST', '/admin/v1/polls/x/restore'], ['GET', '/admin/v1/polls/x/results'], ['GET', '/admin/v1/polls/x/series'],
  ['GET', '/admin/v1/visits'], ['PUT', '/admin/v1/visits/base'],
];
const get = (p, opts) => request(url, 'GET', p, opts);
const admin = (method, p, opts = {}) => request(url, method, p, { ...opts, headers: { ...AUTH, ...(opts.headers || {}) } });

test('every route of src/http/dispatch.c is described, and every described operation is a route', () => {
  const doc = openapiDocument();
  const src = fs.readFileSync(path.join(REPO_ROOT, 'src', 'http', 'dispatch.c'), 'utf8');
  const routes = [...src.matchAll(/\{"([^"]+)", ROUTER_([A-Z]+), 0,/g)].map(([, p, m]) => [p.replace(/:([a-z]+)/g, '{$1}'), m.toLowerCase()]);
  assert.ok(routes.length >= 20, `routes found in src/http/dispatch.c: ${routes.length}`);
  for (const [p, m] of routes) {
    assert.ok(doc.paths[p], `path ${p} of src/http/dispatch.c is not in api/openapi.yaml`);
    assert.ok(doc.paths[p][m], `${m.toUpperCase()} ${p} of src/http/dispatch.c is not in api/openapi.yaml`);
    assert.ok(doc.paths[p].options, `OPTIONS ${p} is not described`);
  }
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
      if (item[m]) assert.ok(routes.some(([rp, rm]) => rp === p && rm === m), `${m.toUpperCase()} ${p} is described but is no route of src/http/dispatch.c`);
    }
  }
});

test('validator: mismatches are reported with method, path and status', () => {
  assert.throws(() => validateResponse({
    method: 'GET', path: '/healthz', status: 418, headers: { 'content-type': 'application/json' }, body: '{}',
  }), /GET \/healthz -> 418[\s\S]*not documented/);
  assert.throws(() => validateResponse({
    method: 'GET',
    path: '/api/v1/polls',
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', vary: 'Origin' },
    body: '{"polls":[],"extra":1}',
  }), /additional properties/);
});

test('public polls: list, poll, results, HEAD, CORS, preflight', async () => {
  let r = await get('/api/v1/polls', { headers: { origin: ALLOWED } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), ALLOWED);
  assert.deepEqual(r.json.polls.map((p) => p.id), ['chuyen-muc', 'co-dinh', 'sau-binh-chon']);
  assert.equal(r.json.polls[0].closes_at, '2030-12-31T23:59:59+07:00', 'local time with offset');
  r = await request(url, 'HEAD', '/api/v1/polls');
  assert.equal(r.status, 200);
  assert.equal(r.text, '');
  r = await get('/api/v1/polls?status=all&limit=2&offset=1');
  assert.deepEqual([r.json.total, r.json.limit, r.json.offset, r.json.polls.length], [4, 2, 1, 2]);
  assertError(await get('/api/v1/polls?limit=0'), 400, 'invalid_parameter');

  const v = new Voter(url);
  r = await v.get('chuyen-muc');
  assert.equal(r.status, 200);
  assert.equal(r.json.allow_change, true);
  assert.ok(r.issued, 'voter cookie issued');
  assertError(await get('/api/v1/polls/no-such'), 404, 'poll_not_found');
  assertError(await get('/api/v1/polls/Not_A_Slug'), 404, 'poll_not_found');
  assertError(await get(`/api/v1/polls/${'a'.repeat(65)}`), 404, 'not_found');
  assertError(await request(url, 'DELETE', '/api/v1/polls/chuyen-muc'), 405, 'method_not_allowed');
  assertError(await request(url, 'POST', '/api/v1/polls', { json: {} }), 405, 'method_not_allowed');

  r = await get('/api/v1/polls/chuyen-muc/results');
  assert.equal(r.status, 200);
  assertError(await get('/api/v1/polls/sau-binh-chon/results'), 403, 'results_hidden');
  assertError(await get('/api/v1/polls/no-such/results'), 404, 'poll_not_found');
  assertError(await request(url, 'POST', '/api/v1/polls/chuyen-muc/results', { json: {} }), 405, 'method_not_allowed');

  // The live results stream (read as a stream in events.test.mjs): its headers by HEAD, its errors.
  r = await request(url, 'HEAD', '/api/v1/polls/chuyen-muc/events');
  assert.equal(r.status, 200);
  assertError(await get('/api/v1/polls/sau-binh-chon/events'), 403, 'results_hidden');
  assertError(await get('/api/v1/polls/no-such/events'), 404, 'poll_not_found');
  assertError(await request(url, 'POST', '/api/v1/polls/chuyen-muc/events', { json: {} }), 405, 'method_not_allowed');

  r = await request(url, 'OPTIONS', '/api/v1/polls/chuyen-muc/votes', {
    headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
  for (const p of ['/api/v1/polls', '/api/v1/polls/chuyen-muc', '/api/v1/polls/chuyen-muc/results', '/api/v1/polls/chuyen-muc/events', '/api/v1/visits']) {
    assert.equal((await request(url, 'OPTIONS', p, { headers: { origin: EVIL } })).status, 204, p);
  }
});

test('votes: 201, 200 changed, 409, every 400/403/413/415 code', async () => {
  const v = new Voter(url);
  let r = await v.vote('chuyen-muc', ['tin-tuc'], { headers: { origin: ALLOWED, 'x-thamdo-test-now': '2026-01-10T09:15:00+07:00' } });
  assert.equal(r.status, 201, r.text);
  r = await v.vote('chuyen-muc', ['nong-thon-moi'], { headers: { 'x-thamdo-test-now': '2026-01-11T20:40:00+07:00' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.changed, true);
  r = await v.voteForm('co-dinh', ['mot']);
  assert.equal(r.status, 201, r.text);
  r = await v.vote('co-dinh', ['hai']);
  assertError(r, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  r = await v.vote('sau-binh-chon', ['co']);
  assert.equal(r.status, 201);
  assert.equal((await v.results('sau-binh-chon')).status, 200, 'after_vote: visible to a voter');

  const w = new Voter(url);
  assertError(await w.vote('co-dinh', ['mot'], { json: '{"options":' }), 400, 'invalid_json');
  assertError(await w.vote('co-dinh', []), 400, 'no_option');
  assertError(await w.vote('co-dinh', ['ba']), 400, 'invalid_option');
  assertError(await w.vote('co-dinh', ['mot', 'hai']), 400, 'too_many_options');
  assertError(await w.vote('da-dong', ['opt-a']), 403, 'poll_closed');
  assertError(await w.vote('sap-mo', ['opt-a']), 403, 'poll_not_open');
  assertError(await w.vote('co-dinh', ['mot'], { headers: { origin: EVIL } }), 403, 'origin_not_allowed');
  assertError(await w.vote('co-dinh', ['mot'], { headers: { origin: 'null' } }), 403, 'origin_not_allowed');
  assertError(await w.vote('co-dinh', ['mot'], { headers: { referer: `${EVIL}/page.html` } }), 403, 'origin_not_allowed');
  assertError(await w.vote('no-such', ['mot']), 404, 'poll_not_found');
  assertError(await w.vote('co-dinh', ['mot'], { json: `{"options":["mot"],"pad":"${'z'.repeat(5000)}"}` }), 413, 'body_too_large');
  assertError(await w.req('POST', '/api/v1/polls/co-dinh/votes', { body: 'option=mot', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  assertError(await w.req('GET', '/api/v1/polls/co-dinh/votes'), 405, 'method_not_allowed');
});

test('visitor counter: record (200 with the figures), read, sites, robots, every 400/403 code', async () => {
  const v = new Voter(url);
  let r = await v.req('POST', '/api/v1/visits', { headers: { origin: ALLOWED, 'user-agent': BROWSER } });
  assert.equal(r.status, 200);
  assert.equal(r.json.today, 1, 'the answer includes this view');
  assert.ok(r.issued, 'a reader gets a cookie');
  r = await v.req('POST', '/api/v1/visits?site=cong-2', { headers: { 'user-agent': BROWSER }, body: 'beacon' });
  assert.equal(r.status, 200);
  r = await request(url, 'POST', '/api/v1/visits', { headers: { 'user-agent': 'Googlebot/2.1' } });
  assert.equal(r.status, 200);
  r = await get('/api/v1/visits', { headers: { origin: ALLOWED } });
  assert.equal(r.status, 200);
  assert.equal(r.json.site, 'default');
  assert.equal(r.json.today, 1);
  r = await get('/api/v1/visits?site=cong-2');
  assert.equal(r.json.site, 'cong-2');
  assert.equal((await request(url, 'HEAD', '/api/v1/visits')).status, 200);
  assertError(await get('/api/v1/visits?site=khac'), 400, 'unknown_site');
  assertError(await get('/api/v1/visits?from=hom-qua'), 400, 'invalid_parameter');
  assertError(await get('/api/v1/visits?foo'), 400, 'invalid_parameter');
  assertError(await request(url, 'POST', '/api/v1/visits?site=khac', { headers: { 'user-agent': BROWSER } }), 400, 'unknown_site');
  assertError(await request(url, 'POST', '/api/v1/visits', { headers: { origin: EVIL, 'user-agent': BROWSER } }), 403, 'origin_not_allowed');
  assertError(await request(url, 'DELETE', '/api/v1/visits'), 405, 'method_not_allowed');
  assertError(await request(url, 'PUT', '/api/v1/visits', { json: {} }), 405, 'method_not_allowed');
});

test('visitor counter: a ping (200 with the figures), its 400, the no-JS counter page and its OPTIONS', async () => {
  const v = new Voter(url);
  let r = await v.req('POST', '/api/v1/visits?site=cong-2', { headers: { 'user-agent': BROWSER } });
  assert.equal(r.status, 200);
  r = await v.req('POST', '/api/v1/visits?site=cong-2', { headers: { 'user-agent': BROWSER }, json: { ping: true } });
  assert.equal(r.status, 200);
  assert.equal(r.json.site, 'cong-2');
  assertError(await request(url, 'POST', '/api/v1/visits', { headers: { 'user-agent': BROWSER }, json: { ping: 'yes' } }), 400, 'invalid_json');
  r = await v.req('GET', '/embed/visits?site=cong-2', { headers: { 'user-agent': BROWSER } });
  assert.equal(r.status, 200);
  assert.match(r.text, /<dt>Hôm nay<\/dt>/);
  assert.equal((await request(url, 'HEAD', '/embed/visits')).status, 200);
  assert.equal((await get('/embed/visits?site=khac')).status, 404);
  assert.equal((await get('/embed/visits?from=hom-qua')).status, 400);
  assert.equal((await get('/embed/visits', { headers: { referer: `${EVIL}/` } })).status, 403);
  assert.equal((await request(url, 'OPTIONS', '/embed/visits')).status, 204);
  assertError(await request(url, 'POST', '/embed/visits'), 405, 'method_not_allowed');
});

test('health probes, unknown paths, OPTIONS outside /api', async () => {
  assert.equal((await get('/healthz')).status, 200);
  assert.equal((await get('/readyz')).status, 200);
  assert.equal((await request(url, 'HEAD', '/readyz')).status, 200);
  const metrics = await get('/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  assertError(await request(url, 'POST', '/metrics', { json: {} }), 405, 'method_not_allowed');
  assertError(await request(url, 'POST', '/healthz', { json: {} }), 405, 'method_not_allowed');
  assertError(await request(url, 'PUT', '/readyz', { json: {} }), 405, 'method_not_allowed');
  for (const p of ['/nope', '/api/v1/polls/', '/embed/polls', '/static/a/b', '/admin/v2/polls']) {
    assertError(await get(p), 404, 'not_found');
  }
  assertError(await request(url, 'OPTIONS', '/nope'), 404, 'not_found');
  for (const p of ['/healthz', '/readyz', '/metrics', '/', '/widget.js', '/static/demo.css', '/embed/polls/chuyen-muc']) {
    const r = await request(url, 'OPTIONS', p);
    assert.equal(r.status, 204, p);
    assert.ok(r.headers.get('allow'), p);
    assert.equal(r.headers.get('access-control-allow-origin'), null, `${p}: no CORS outside /api`);
  }
});

test('embed page: HTML pages, form post 303 with msg codes, 403 and 404 pages', async () => {
  const v = new Voter(url);
  let r = await v.req('GET', '/embed/polls/chuyen-muc');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.text, /Bạn quan tâm đến chuyên mục nào trên trang\?/);
  r = await v.req('GET', '/embed/polls/chuyen-muc?lang=en&view=results&msg=voted');
  assert.equal(r.status, 200);
  r = await v.req('POST', '/embed/polls/co-dinh?lang=en', { form: [['option', 'hai']] });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/embed/polls/co-dinh?msg=voted&lang=en');
  r = await v.req('POST', '/embed/polls/co-dinh', { form: [['option', 'mot']] });
  assert.equal(r.headers.get('location'), '/embed/polls/co-dinh?msg=already_voted');
  r = await v.req('POST', '/embed/polls/chuyen-muc', { form: [['option', 'khac']] });
  assert.equal(r.headers.get('location'), '/embed/polls/chuyen-muc?msg=voted');
  r = await v.req('POST', '/embed/polls/chuyen-muc', { form: [['option', 'tin-tuc']] });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/embed/polls/chuyen-muc?msg=changed', 'a changed vote (allow_change)');
  r = await v.req('POST', '/embed/polls/co-dinh', { body: '{"options":["mot"]}', headers: { 'content-type': 'application/json' } });
  assert.equal(r.headers.get('location'), '/embed/polls/co-dinh?msg=invalid_option');
  r = await v.req('POST', '/embed/polls/da-dong', { form: [['option', 'opt-a']] });
  assert.equal(r.headers.get('location'), '/embed/polls/da-dong?msg=poll_closed');
  r = await v.req('POST', '/embed/polls/co-dinh', { form: [['option', 'mot']], headers: { origin: EVIL } });
  assert.equal(r.status, 403);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  r = await v.req('GET', '/embed/polls/no-such');
  assert.equal(r.status, 404);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  r = await v.req('POST', '/embed/polls/no-such', { form: [['option', 'mot']] });
  assert.equal(r.status, 404);
  assertError(await v.req('GET', '/embed/polls/Not_A_Slug'), 404, 'poll_not_found');
  assertError(await v.req('PUT', '/embed/polls/co-dinh', { json: {} }), 405, 'method_not_allowed');
});

test('assets: demo page, widget, static files, dashboard page (200 + 304, or 404 when not built)', async () => {
  for (const p of ['/', '/widget.js', '/static/demo.css', '/static/no-such-file.js', '/admin/']) {
    const r = await get(p, { headers: { 'accept-encoding': 'gzip' } });
    assert.ok(r.status === 200 || r.status === 404, `${p}: ${r.status}`);
    if (r.status === 200) {
      const again = await get(p, { headers: { 'if-none-match': r.headers.get('etag') } });
      assert.equal(again.status, 304, p);
      assert.equal((await request(url, 'HEAD', p)).status, 200, p);
    } else {
      assertError(r, 404, 'not_found');
    }
  }
  assertError(await request(url, 'POST', '/widget.js', { json: {} }), 405, 'method_not_allowed');
  assertError(await request(url, 'DELETE', '/'), 405, 'method_not_allowed');
  assertError(await request(url, 'PUT', '/static/demo.css', { json: {} }), 405, 'method_not_allowed');
  const r = await get('/admin');
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/admin/');
  assertError(await request(url, 'POST', '/admin', { json: {} }), 405, 'method_not_allowed');
  assertError(await request(url, 'POST', '/admin/', { json: {} }), 405, 'method_not_allowed');
});

test('admin: 401 with WWW-Authenticate; 405 and OPTIONS need no token', async () => {
  for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TOKEN }, { authorization: 'Basic eDp5' }]) {
    const r = await request(url, 'GET', '/admin/v1/polls', { headers });
    assertError(r, 401, 'unauthorized');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="thamdo admin"');
  }
  assertError(await request(url, 'POST', '/admin/v1/polls/x/close'), 401, 'unauthorized');
  assertError(await request(url, 'PUT', '/admin/v1/visits/base', { json: {} }), 401, 'unauthorized');
  for (const [m, p] of ADMIN_OPS) assertError(await request(url, m, p, { json: m === 'GET' || m === 'DELETE' ? undefined : {} }), 401, 'unauthorized');
  for (const [m, p] of [['DELETE', '/admin/v1/visits'], ['PUT', '/admin/v1/polls'], ['POST', '/admin/v1/polls/x'],
    ['GET', '/admin/v1/polls/x/close'], ['GET', '/admin/v1/polls/x/reopen'], ['GET', '/admin/v1/polls/x/restore'],
    ['POST', '/admin/v1/polls/x/results'], ['DELETE', '/admin/v1/polls/x/series'], ['GET', '/admin/v1/visits/base']]) {
    assertError(await request(url, m, p), 405, 'method_not_allowed');
  }
  for (const p of ['/admin', '/admin/', '/admin/v1/polls', '/admin/v1/polls/x', '/admin/v1/polls/x/close', '/admin/v1/polls/x/reopen',
    '/admin/v1/polls/x/restore', '/admin/v1/polls/x/results', '/admin/v1/polls/x/series', '/admin/v1/visits', '/admin/v1/visits/base']) {
    assert.equal((await request(url, 'OPTIONS', p)).status, 204, p);
  }
});

test('admin polls: create, read, change, archive, restore, close, reopen with every error code', async () => {
  const input = {
    id: 'moi-tao',
    question: 'Bạn đọc báo điện tử vào lúc nào?',
    options: [{ id: 'sang', label: 'Buổi sáng' }, { id: 'toi', label: 'Buổi tối' }],
    closes_at: '2030-12-31T23:59:59+07:00',
    results_visibility: 'after_close',
    allow_change: false,
  };
  let r = await admin('POST', '/admin/v1/polls', { json: input });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.headers.get('location'), '/admin/v1/polls/moi-tao');
  assert.equal(r.json.version, 1);
  assertError(await admin('POST', '/admin/v1/polls', { json: input }), 409, 'poll_exists');
  r = await admin('POST', '/admin/v1/polls', { json: { id: 'Bad Id', question: '', options: [{ id: 'a' }], max_choices: 0, opens_at: 'soon', status: 'paused', visibility: 'x' } });
  assert.equal(r.status, 422);
  assert.ok(r.json.error.fields.length >= 5, r.text);
  assertError(await admin('POST', '/admin/v1/polls', { json: '[1,2]' }), 400, 'invalid_json');
  assertError(await admin('POST', '/admin/v1/polls', { json: '{"id":"a","id":"b"}' }), 400, 'invalid_json');
  assertError(await admin('POST', '/admin/v1/polls', { body: 'id=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
  assertError(await admin('POST', '/admin/v1/polls', { json: `{"id":"x","pad":"${'z'.repeat(65540)}"}` }), 413, 'body_too_large');

  r = await admin('GET', '/admin/v1/polls');
  assert.equal(r.status, 200);
  assert.ok(r.json.polls.some((p) => p.id === 'moi-tao'));
  assert.equal((await admin('HEAD', '/admin/v1/polls')).status, 200);
  r = await admin('GET', '/admin/v1/polls/chuyen-muc');
  assert.equal(r.status, 200);
  assert.ok(r.json.votes >= 1 && r.json.votes === r.json.voters, r.text);
  assertError(await admin('GET', '/admin/v1/polls/no-such'), 404, 'poll_not_found');
  assertError(await admin('GET', '/admin/v1/polls/Not_A_Slug'), 404, 'poll_not_found');

  r = await admin('PATCH', '/admin/v1/polls/moi-tao', { json: { options: [...input.options, { id: 'trua', label: 'Buổi trưa' }], opens_at: null, allow_change: true } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, 2);
  r = await admin('PATCH', '/admin/v1/polls/moi-tao', { json: { id: 'khac', created_at: 1 } });
  assert.equal(r.status, 422);
  r = await admin('PATCH', '/admin/v1/polls/moi-tao', { json: { closes_at: '2020-01-01T00:00:00Z', opens_at: '2021-01-01T00:00:00Z' } });
  assert.equal(r.status, 422);
  assertError(await admin('PATCH', '/admin/v1/polls/chuyen-muc', { json: { options: LABELS.filter((o) => o.id !== 'tin-tuc') } }), 409, 'option_has_votes');
  assertError(await admin('PATCH', '/admin/v1/polls/moi-tao', { json: 'null' }), 400, 'invalid_json');
  assertError(await admin('PATCH', '/admin/v1/polls/moi-tao', { body: '{}' }), 415, 'unsupported_media_type');
  assertError(await admin('PATCH', '/admin/v1/polls/no-such', { json: { allow_change: true } }), 404, 'poll_not_found');
  assertError(await admin('PATCH', '/admin/v1/polls/moi-tao', { json: `{"pad":"${'z'.repeat(65540)}"}` }), 413, 'body_too_large');

  r = await admin('DELETE', '/admin/v1/polls/moi-tao');
  assert.equal(r.status, 200);
  assert.equal(r.json.archived, true);
  assertError(await get('/api/v1/polls/moi-tao'), 404, 'poll_not_found');
  assert.equal((await admin('GET', '/admin/v1/polls/moi-tao')).status, 200, 'archived polls are found by editors');
  r = await admin('POST', '/admin/v1/polls/moi-tao/restore');
  assert.equal(r.json.archived, false);
  r = await admin('POST', '/admin/v1/polls/moi-tao/close');
  assert.equal(r.json.status, 'closed');
  assert.equal(r.json.state, 'closed');
  r = await admin('POST', '/admin/v1/polls/moi-tao/reopen');
  assert.equal(r.json.status, 'open');
  for (const verb of ['close', 'reopen', 'restore']) assertError(await admin('POST', `/admin/v1/polls/no-such/${verb}`), 404, 'poll_not_found');
  assertError(await admin('DELETE', '/admin/v1/polls/no-such'), 404, 'poll_not_found');
});

test('admin results and series: JSON, CSV (BOM, Content-Disposition), every 400 code', async () => {
  let r = await admin('GET', '/admin/v1/polls/chuyen-muc/results');
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.changes >= 1, r.text);
  assert.ok(r.json.series.points.length >= 2, r.text);
  r = await admin('GET', '/admin/v1/polls/sap-mo/results?bucket=hour');
  assert.equal(r.status, 200);
  assert.equal(r.json.series.from, null, 'no vote: no point, from and to null');
  r = await admin('GET', '/admin/v1/polls/chuyen-muc/results?format=csv&lang=en');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv; charset=utf-8$/);
  assert.equal(r.headers.get('content-disposition'), 'attachment; filename="chuyen-muc-results.csv"');
  assert.match(r.text, /^\uFEFF?Option id,Option,Votes,Percent\r\n/);
  r = await admin('GET', '/admin/v1/polls/chuyen-muc/results', { headers: { accept: 'text/csv' } });
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  r = await admin('GET', '/admin/v1/polls/chuyen-muc/results?from=2026-11-28&to=2026-11-30T00:00:00%2B07:00&bucket=hour');
  assert.equal(r.status, 200);
  assert.equal(r.json.series.points.length, 48);
  assertError(await admin('GET', '/admin/v1/polls/chuyen-muc/results?bucket=week'), 400, 'invalid_parameter');
  assertError(await admin('GET', '/admin/v1/polls/chuyen-muc/results?format=xml'), 400, 'invalid_parameter');
  assertError(await admin('GET', '/admin/v1/polls/chuyen-muc/results?from=2026-13-01'), 400, 'invalid_parameter');
  assertError(await admin('GET', '/admin/v1/polls/chuyen-muc/results?from=2026-11-29&to=2026-11-28'), 400, 'invalid_parameter');
  assertError(await admin('GET', '/admin/v1/polls/chuyen-muc/results?bucket=hour&from=2020-01-01&to=2026-01-01'), 400, 'range_too_large');
  assertError(await admin('GET', '/admin/v1/polls/no-such/results?bucket=week'), 404, 'poll_not_found');

  r = await admin('GET', '/admin/v1/polls/chuyen-muc/series?bucket=hour&from=2026-01-10&to=2026-01-12');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.series.points.length, 48);
  const at = (start) => r.json.series.points.find((p) => p.start === start);
  assert.equal(at('2026-01-10T09:00:00+07:00').total, 0, 'a changed vote leaves its old hour');
  assert.equal(at('2026-01-11T20:00:00+07:00').votes['nong-thon-moi'], 1, 'and counts in the hour of the change');
  assert.equal(r.json.series.bucket, 'hour');
  r = await admin('GET', '/admin/v1/polls/chuyen-muc/series?format=csv');
  assert.equal(r.headers.get('content-disposition'), 'attachment; filename="chuyen-muc-series-day.csv"');
  assert.match(r.text, /^\uFEFF?Thời điểm,Tin tức - Sự kiện,/);
  assertError(await admin('GET', '/admin/v1/polls/chuyen-muc/series?from=x'), 400, 'invalid_parameter');
  assertError(await admin('GET', '/admin/v1/polls/no-such/series'), 404, 'poll_not_found');

  // The byte-order mark, read as bytes (fetch's text() drops it); this response is validated by hand.
  const res = await fetch(`${url}/admin/v1/polls/chuyen-muc/series?format=csv&bucket=hour&from=2026-01-10&to=2026-01-12`, { headers: AUTH });
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'CSV starts with the UTF-8 BOM');
  assert.equal(res.headers.get('content-disposition'), 'attachment; filename="chuyen-muc-series-hour.csv"');
  validateResponse({ method: 'GET', path: '/admin/v1/polls/chuyen-muc/series?format=csv&bucket=hour&from=2026-01-10&to=2026-01-12', status: res.status, headers: res.headers, body: bytes.toString('utf8') });
});

test('admin visits: history (JSON, CSV) and bases, every 400/413/415 code', async () => {
  let r = await admin('PUT', '/admin/v1/visits/base', { json: { total: 1777782, today: 923, this_week: 6811, this_month: 33199 } });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.total >= 1777782);
  r = await admin('PUT', '/admin/v1/visits/base?site=cong-2', { json: { today: null } });
  assert.equal(r.status, 200);
  assert.equal(r.json.site, 'cong-2');
  assertError(await admin('PUT', '/admin/v1/visits/base', { json: { yesterday: 5 } }), 400, 'invalid_base');
  assertError(await admin('PUT', '/admin/v1/visits/base', { json: { total: -1 } }), 400, 'invalid_base');
  assertError(await admin('PUT', '/admin/v1/visits/base', { json: {} }), 400, 'invalid_json');
  assertError(await admin('PUT', '/admin/v1/visits/base?site=khac', { json: { total: 1 } }), 400, 'unknown_site');
  assertError(await admin('PUT', '/admin/v1/visits/base', { body: '{"total":1}' }), 415, 'unsupported_media_type');
  assertError(await admin('PUT', '/admin/v1/visits/base', { json: `{"total":1,"pad":"${'z'.repeat(5000)}"}` }), 413, 'body_too_large');

  r = await admin('GET', '/admin/v1/visits');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.bases.total, 1777782);
  assert.ok(r.json.days.length >= 1);
  r = await admin('GET', '/admin/v1/visits?site=cong-2&from=2026-11-01&to=2026-12-01');
  assert.equal(r.json.days.length, 30);
  r = await admin('GET', '/admin/v1/visits?format=csv&lang=en');
  assert.equal(r.headers.get('content-disposition'), 'attachment; filename="visits-default.csv"');
  assert.match(r.text, /^\uFEFF?Date,Visits,Distinct visitors,Robot requests\r\n/);
  assertError(await admin('GET', '/admin/v1/visits?from=2026-12-01&to=2026-11-01'), 400, 'invalid_parameter');
  assertError(await admin('GET', '/admin/v1/visits?site=khac'), 400, 'unknown_site');
  assertError(await admin('GET', '/admin/v1/visits?from=2000-01-01&to=2020-01-01'), 400, 'range_too_large');
});

test('admin off: every /admin address answers 404 not_found, whatever the method', async () => {
  const t = await startThamdo({ redis, polls: [P.fixed], env: { THAMDO_KEY_PREFIX: 'off:' } });
  try {
    for (const [m, p] of [['GET', '/admin'], ['GET', '/admin/'], ['GET', '/admin/v1/polls'], ['POST', '/admin/v1/polls'],
      ['GET', '/admin/v1/polls/co-dinh'], ['DELETE', '/admin/v1/visits/base'], ['OPTIONS', '/admin/v1/polls'],
      ['GET', '/admin/v1/visits'], ['GET', '/admin/nope']]) {
      assertError(await request(t.url, m, p, { headers: AUTH }), 404, 'not_found');
    }
    for (const [, p] of ADMIN_OPS) assertError(await request(t.url, 'OPTIONS', p), 404, 'not_found');
    for (const p of ['/admin', '/admin/']) assertError(await request(t.url, 'OPTIONS', p), 404, 'not_found');
  } finally {
    await t.stop();
  }
});

test('HTTP-layer refusals are HTML, not described per operation (noValidate)', async () => {
  const r = await request(url, 'POST', '/api/v1/visits', { body: 'x'.repeat(100000), noValidate: true });
  assert.equal(r.status, 413);
  assert.match(r.headers.get('content-type') || '', /^text\/html/);
  assert.throws(() => validateResponse({ method: 'POST', path: '/api/v1/visits', status: r.status, headers: r.headers, body: r.text }), /413 is not documented/);
});

test('Redis down: 503 store_unavailable (JSON, Retry-After) and the embed page says so in HTML', async () => {
  await redis.stop();
  try {
    const r = await get('/readyz');
    assertError(r, 503, 'store_unavailable');
    assert.equal(r.headers.get('retry-after'), '1');
    assertError(await get('/api/v1/polls'), 503, 'store_unavailable');
    assertError(await get('/api/v1/polls/co-dinh'), 503, 'store_unavailable');
    assertError(await get('/api/v1/polls/co-dinh/results'), 503, 'store_unavailable');
    assertError(await new Voter(url).vote('co-dinh', ['mot']), 503, 'store_unavailable');
    assertError(await request(url, 'POST', '/api/v1/visits', { headers: { 'user-agent': BROWSER } }), 503, 'store_unavailable');
    assertError(await get('/api/v1/visits'), 503, 'store_unavailable');
    assertError(await admin('GET', '/admin/v1/polls'), 503, 'store_unavailable');
    assertError(await admin('GET', '/admin/v1/polls/co-dinh'), 503, 'store_unavailable');
    assertError(await admin('POST', '/admin/v1/polls', { json: { id: 'x', question: 'Q?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] } }), 503, 'store_unavailable');
    assertError(await admin('PATCH', '/admin/v1/polls/co-dinh', { json: { allow_change: true } }), 503, 'store_unavailable');
    assertError(await admin('DELETE', '/admin/v1/polls/co-dinh'), 503, 'store_unavailable');
    for (const verb of ['close', 'reopen', 'restore']) assertError(await admin('POST', `/admin/v1/polls/co-dinh/${verb}`), 503, 'store_unavailable');
    assertError(await admin('GET', '/admin/v1/polls/co-dinh/results'), 503, 'store_unavailable');
    assertError(await admin('GET', '/admin/v1/polls/co-dinh/series'), 503, 'store_unavailable');
    assertError(await admin('GET', '/admin/v1/visits'), 503, 'store_unavailable');
    assertError(await admin('PUT', '/admin/v1/visits/base', { json: { total: 1 } }), 503, 'store_unavailable');
    let e = await get('/embed/polls/co-dinh');
    assert.equal(e.status, 503);
    assert.match(e.headers.get('content-type'), /^text\/html/);
    e = await request(url, 'POST', '/embed/polls/co-dinh', { form: [['option', 'mot']] });
    assert.equal(e.status, 503);
  } finally {
    redis = await startRedis({ port: redis.port });
  }
  const deadline = Date.now() + 15000;
  while ((await get('/readyz')).status !== 200 && Date.now() < deadline) await sleep(100);
  assert.equal((await get('/readyz')).status, 200);
});

test('readyz while stopping: 503 shutting_down on a kept-alive connection', async (tc) => {
  const r2 = await startRedis();
  // The lame duck keeps the listener and the kept-alive connections while /readyz fails.
  const t = await startThamdo({ redis: r2, polls: [P.fixed], env: { THAMDO_REDIS_TIMEOUT_MS: '3000', THAMDO_LAME_DUCK_MS: '2000' } });
  // Two idle kept-alive connections in fetch's pool.
  await Promise.all([request(t.url, 'GET', '/healthz'), request(t.url, 'GET', '/healthz')]);
  r2.pause(); // a request that needs Redis now stays in flight...
  const inflight = request(t.url, 'GET', '/api/v1/polls/co-dinh');
  await sleep(100);
  t.proc.kill('SIGTERM'); // ...so the instance keeps serving its open connections while it stops
  // The workers hear of the signal a moment later (longer on a slow or instrumented build): ask
  // until /readyz is no longer 200, within the lame duck's 2 s.
  let r;
  const until = Date.now() + 1800;
  do {
    await sleep(50);
    try {
      r = await request(t.url, 'GET', '/readyz', { timeout: 3000 });
    } catch (err) {
      r = { error: err.message };
    }
  } while (r.status === 200 && Date.now() < until);
  r2.resume();
  const last = await inflight.catch((err) => ({ error: err.message }));
  await t.exited;
  await r2.stop();
  if (r.error) {
    tc.skip(`no kept-alive connection was reused (${r.error})`);
    return;
  }
  assertError(r, 503, 'shutting_down');
  assert.equal(r.headers.get('retry-after'), '1');
  assert.ok(last.error || last.status === 503 || last.status === 200, JSON.stringify(last.status ?? last.error));
});

test('admin reset, integrity and audit log: answers and preflights', async () => {
  const created = await admin('POST', '/admin/v1/polls', { json: { id: 'xoa-lai', question: 'Xoá lại?', options: [{ id: 'co', label: 'Có' }, { id: 'khong', label: 'Không' }] } });
  assert.equal(created.status, 201, created.text);
  assertError(await admin('POST', '/admin/v1/polls/xoa-lai/reset', { json: { confirm: 'khac' } }), 400, 'confirmation_required');
  let r = await admin('POST', '/admin/v1/polls/xoa-lai/reset', { json: { confirm: 'xoa-lai' } });
  assert.equal(r.status, 200, r.text);
  r = await admin('GET', '/admin/v1/polls/xoa-lai/integrity');
  assert.equal(r.status, 200, r.text);
  r = await admin('GET', '/admin/v1/audit?limit=2');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.entries[0].action, 'poll.reset');
  assertError(await admin('GET', '/admin/v1/audit?limit=0'), 400, 'invalid_parameter');
  for (const p of ['/admin/v1/polls/xoa-lai/reset', '/admin/v1/polls/xoa-lai/integrity', '/admin/v1/audit']) {
    assert.equal((await request(url, 'OPTIONS', p)).status, 204, p);
  }
});

test('coverage of the description by this file (diagnostics)', (t) => {
  const hits = validationHits();
  const missed = documentedResponses().filter((k) => !hits.has(k));
  t.diagnostic(`documented responses produced: ${documentedResponses().length - missed.length} of ${documentedResponses().length}`);
  for (const k of missed) t.diagnostic(`not produced here: ${k}`);
  // Every operation has been exercised with at least one of its responses.
  const ops = new Set(documentedResponses().map((k) => k.split(' ').slice(0, 2).join(' ')));
  const hitOps = new Set([...hits].map((k) => k.split(' ').slice(0, 2).join(' ')));
  assert.deepEqual([...ops].filter((o) => !hitOps.has(o)), [], 'operations never exercised');
});
