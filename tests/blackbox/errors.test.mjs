// Every error code and status of the API with the exact error body shape and JSON headers;
// healthz / readyz; robustness against malformed traffic (huge header, garbage request line,
// half requests, disconnects): the process keeps answering and stops cleanly.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, makePoll, rfc3339, request, Voter, assertError, assertJsonHeaders,
  assertResults, rawRequest, sleep,
} from './lib/harness.mjs';

const now = Date.now();
const DAY = 86400e3;
const P = {
  main: makePoll('main', { options: ['tin-tuc', 'the-thao', 'giai-tri'] }),
  multi: makePoll('multi2', { max_choices: 2, options: ['a', 'b', 'c'] }),
  closed: makePoll('closed-poll', { status: 'closed' }),
  expired: makePoll('expired-poll', { opens_at: rfc3339(now - 2 * DAY), closes_at: rfc3339(now - DAY) }),
  upcoming: makePoll('upcoming-poll', { opens_at: rfc3339(now + DAY), closes_at: null }),
  body: makePoll('body-poll', { options: ['x', 'y'] }),
  closing: makePoll('closing-poll', { closes_at: '2030-06-01T12:00:00+07:00' }),
};

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  // The test clock lets a request say what time it is (X-Thamdo-Test-Now): a poll can close between
  // a reader's page load and their vote without any waiting.
  svc = await startThamdo({ redis, polls: Object.values(P), env: { THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true' } });
  url = svc.url;
});

const votePath = (id) => `/api/v1/polls/${id}/votes`;
// A form body counts only with X-Thamdo: 1 (the header a cross-site page cannot send unasked).
const post = (id, opts = {}) => request(url, 'POST', votePath(id),
  opts.form !== undefined ? { ...opts, headers: { 'x-thamdo': '1', ...opts.headers } } : opts);

async function totalOf(id) {
  const r = await request(url, 'GET', `/api/v1/polls/${id}/results`);
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

test('healthz 200 {"status":"ok"} and readyz 200 {"status":"ready"}', async () => {
  const h = await request(url, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assertJsonHeaders(h, 'healthz');
  assert.deepEqual(h.json, { status: 'ok' });
  const r = await request(url, 'GET', '/readyz');
  assert.equal(r.status, 200);
  assertJsonHeaders(r, 'readyz');
  assert.deepEqual(r.json, { status: 'ready' });
});

test('400 invalid_json: malformed, array body, scalar body, options not an array, options with a number', async () => {
  const cases = [
    ['malformed', '{"options":["tin-tuc"'],
    ['malformed garbage', 'not json at all'],
    ['array body', '["tin-tuc"]'],
    ['string body', '"tin-tuc"'],
    ['number body', '42'],
    ['null body', 'null'],
    ['options is a string', '{"options":"tin-tuc"}'],
    ['options is an object', '{"options":{"tin-tuc":true}}'],
    ['options with a number', '{"options":[1]}'],
    ['options with a number after a string', '{"options":["tin-tuc",2]}'],
    ['options with null', '{"options":[null]}'],
    ['options with nested array', '{"options":[["tin-tuc"]]}'],
    ['trailing garbage', '{"options":["tin-tuc"]} x'],
  ];
  for (const [what, body] of cases) {
    const r = await post('main', { json: body });
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
    assertError(r, 400, 'invalid_json');
  }
  assert.equal(await totalOf('main'), 0, 'no rejected ballot counted');
});

test('400 no_option: empty array, form without option', async () => {
  assertError(await post('main', { json: { options: [] } }), 400, 'no_option');
  assertError(await post('main', { form: 'foo=bar' }), 400, 'no_option');
  assertError(await post('main', { form: '' }), 400, 'no_option');
  assert.equal(await totalOf('main'), 0);
});

test('400 invalid_option: unknown option, non-slug option (JSON and form)', async () => {
  const bad = ['nope', 'Tin-Tuc', 'tin tuc', 'tin_tuc', '../tin-tuc', '', 'a'.repeat(65), 'tín-tức'];
  for (const o of bad) {
    const r = await post('main', { json: { options: [o] } });
    assert.equal(r.status, 400, `option ${JSON.stringify(o)}: ${r.text}`);
    assert.equal(r.json?.error?.code, 'invalid_option', `option ${JSON.stringify(o)}: ${r.text}`);
    assertError(r, 400, 'invalid_option');
  }
  assertError(await post('multi2', { json: { options: ['a', 'nope'] } }), 400, 'invalid_option');
  assertError(await post('main', { form: 'option=nope' }), 400, 'invalid_option');
  assertError(await post('main', { form: 'option=Tin%20Tuc' }), 400, 'invalid_option');
  assertError(await post('main', { json: { options: ['a'] } }), 400, 'invalid_option'); // option of another poll
  assert.equal(await totalOf('main'), 0);
  assert.equal(await totalOf('multi2'), 0);
});

test('400 invalid_option: a JSON string with an escaped NUL ("tin-tuc\\u0000") is valid JSON but not a slug', async () => {
  const r = await post('main', { json: '{"options":["tin-tuc\\u0000"]}' });
  assertError(r, 400, 'invalid_option');
  assert.equal(await totalOf('main'), 0);
});

test('400 invalid_option: a form value with an escaped NUL (option=tin-tuc%00) is not "tin-tuc"', async () => {
  // Once decoded into a C string and counted as tin-tuc; the JSON form was refused.
  for (const form of ['option=tin-tuc%00', 'option=tin-tuc%00x', 'options=%00tin-tuc', 'option=the-thao&option=tin-tuc%00']) {
    assertError(await post('main', { form }), 400, 'invalid_option');
  }
  assert.equal(await totalOf('main'), 0);
});

test('400 too_many_options (max_choices 1 and 2)', async () => {
  assertError(await post('main', { json: { options: ['tin-tuc', 'the-thao'] } }), 400, 'too_many_options');
  assertError(await post('main', { form: 'option=tin-tuc&option=giai-tri' }), 400, 'too_many_options');
  assertError(await post('multi2', { json: { options: ['a', 'b', 'c'] } }), 400, 'too_many_options');
  assert.equal(await totalOf('main'), 0);
  assert.equal(await totalOf('multi2'), 0);
});

test('403 poll_closed (status closed; closes_at passed), 403 poll_not_open (opens_at in the future)', async () => {
  assertError(await post('closed-poll', { json: { options: ['opt-a'] } }), 403, 'poll_closed');
  assertError(await post('expired-poll', { json: { options: ['opt-a'] } }), 403, 'poll_closed');
  assertError(await post('upcoming-poll', { json: { options: ['opt-a'] } }), 403, 'poll_not_open');
  assertError(await post('upcoming-poll', { form: 'option=opt-b' }), 403, 'poll_not_open');
  for (const id of ['closed-poll', 'expired-poll', 'upcoming-poll']) assert.equal(await totalOf(id), 0, id);
});

test('403 poll_closed for a vote that arrives after the poll closed: says it was not counted', async () => {
  const v = new Voter(url);
  const page = await v.get('closing-poll', { headers: { 'x-thamdo-test-now': '2030-06-01T11:59:00+07:00' } });
  assert.equal(page.status, 200);
  assert.equal(page.json.status, 'open', 'open when the reader loaded it');
  const late = await v.vote('closing-poll', ['opt-a'], { headers: { 'x-thamdo-test-now': '2030-06-01T12:00:00+07:00' } });
  assertError(late, 403, 'poll_closed');
  assert.equal(late.json.error.message, 'This poll closed before your vote arrived; your vote was not counted.');
  const after = await v.get('closing-poll', { headers: { 'x-thamdo-test-now': '2030-06-01T12:00:01+07:00' } });
  assert.equal(after.json.voted, false);
  assert.equal(after.json.results.total, 0);
});

test('404 poll_not_found on GET poll, POST vote, GET results', async () => {
  assertError(await request(url, 'GET', '/api/v1/polls/no-such-poll'), 404, 'poll_not_found');
  assertError(await post('no-such-poll', { json: { options: ['opt-a'] } }), 404, 'poll_not_found');
  assertError(await request(url, 'GET', '/api/v1/polls/no-such-poll/results'), 404, 'poll_not_found');
});

test('404 not_found on unknown paths', async () => {
  for (const p of ['/nope', '/static/none.js', '/api/v1/nope', '/api/v2/polls', '/api/v1/polls/main/extra', '/api', '/favicon.ico']) {
    const r = await request(url, 'GET', p);
    assert.equal(r.status, 404, `${p}: ${r.status} ${r.text}`);
    assertError(r, 404, 'not_found');
  }
});

function allowSet(r) {
  const a = r.headers.get('allow');
  assert.ok(a, `Allow header missing (status ${r.status}, body ${r.text})`);
  return a.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
}

test('405 method_not_allowed with Allow header', async () => {
  let r = await request(url, 'DELETE', '/api/v1/polls/main/votes');
  assertError(r, 405, 'method_not_allowed');
  let allow = allowSet(r);
  assert.ok(allow.includes('POST'), `Allow: ${allow}`);
  assert.ok(!allow.includes('DELETE'), `Allow: ${allow}`);

  r = await request(url, 'PUT', '/api/v1/polls', { json: { polls: [] } });
  assertError(r, 405, 'method_not_allowed');
  allow = allowSet(r);
  assert.ok(allow.includes('GET'), `Allow: ${allow}`);
  assert.ok(!allow.includes('PUT'), `Allow: ${allow}`);

  r = await request(url, 'GET', '/api/v1/polls/main/votes');
  assertError(r, 405, 'method_not_allowed');
  assert.ok(allowSet(r).includes('POST'));

  r = await request(url, 'POST', '/api/v1/polls/main/results', { json: { options: ['tin-tuc'] } });
  assertError(r, 405, 'method_not_allowed');
  assert.ok(allowSet(r).includes('GET'));

  r = await request(url, 'POST', '/api/v1/polls/main', { json: { options: ['tin-tuc'] } });
  assertError(r, 405, 'method_not_allowed');
  assert.ok(allowSet(r).includes('GET'));
  assert.equal(await totalOf('main'), 0);
});

test('413 body_too_large: 5000-byte body; 4096 bytes still accepted, 4097 rejected; chunked too', async () => {
  const pad = (n) => {
    const base = '{"options":["x"]}';
    return base + ' '.repeat(n - base.length);
  };
  const big = `{"options":["x"],"pad":"${'z'.repeat(5000 - 26)}"}`;
  assert.equal(Buffer.byteLength(big), 5000);
  assertError(await post('body-poll', { json: big }), 413, 'body_too_large');
  assertError(await post('body-poll', { json: pad(4097) }), 413, 'body_too_large');
  const form = `option=x&pad=${'z'.repeat(5000 - 13)}`;
  assertError(await post('body-poll', { form }), 413, 'body_too_large');
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode(i === 0 ? '{"options":["x"]' + ' '.repeat(984) : ' '.repeat(1000)));
      c.enqueue(new TextEncoder().encode('}'));
      c.close();
    },
  });
  assertError(await post('body-poll', { body: stream, headers: { 'content-type': 'application/json' } }), 413, 'body_too_large');
  assert.equal(await totalOf('body-poll'), 0);
  const ok = await post('body-poll', { json: pad(4096) });
  assert.equal(ok.status, 201, `a 4096-byte body is within the limit: ${ok.text}`);
  assert.equal(await totalOf('body-poll'), 1);
});

test('415 unsupported_media_type: text/plain body and no Content-Type', async () => {
  const body = '{"options":["tin-tuc"]}';
  assertError(await post('main', { body, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  assertError(await post('main', { body: new TextEncoder().encode(body) }), 415, 'unsupported_media_type');
  assertError(await post('main', { body, headers: { 'content-type': 'multipart/form-data; boundary=x' } }), 415, 'unsupported_media_type');
  assert.equal(await totalOf('main'), 0);
});

test('409 already_voted keeps the error shape plus choice and results', async () => {
  const v = new Voter(url);
  assert.equal((await v.vote('main', ['the-thao'])).status, 201);
  const r = await v.vote('main', ['the-thao']);
  assertError(r, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(r.json.choice, ['the-thao']);
  assertResults(r.json.results, P.main);
});

test('huge header and many headers do not crash the service', async () => {
  const huge = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(200000)}\r\nConnection: close\r\n\r\n`;
  const r1 = await rawRequest(url, huge, { timeout: 3000 });
  if (r1.status !== null) assert.ok(r1.status >= 400 && r1.status < 500, `huge header answered ${r1.status}`);
  let many = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n';
  for (let i = 0; i < 20000; i++) many += `X-H${i}: v\r\n`;
  many += 'Connection: close\r\n\r\n';
  await rawRequest(url, many, { timeout: 3000 });
  const longUrl = `GET /api/v1/polls/${'a'.repeat(100000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
  const r3 = await rawRequest(url, longUrl, { timeout: 3000 });
  if (r3.status !== null) assert.ok(r3.status >= 400 && r3.status < 500, `long URL answered ${r3.status}`);
  const h = await request(url, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.ok(svc.alive());
});

test('garbage request lines do not crash the service', async () => {
  const garbage = [
    'GARBAGE\r\n\r\n',
    'GET\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    '\r\n\r\n\r\n',
    'POST /api/v1/polls/main/votes HTTP/1.1\r\nContent-Length: -5\r\nContent-Type: application/json\r\n\r\n{}',
    'POST /api/v1/polls/main/votes HTTP/1.1\r\nContent-Length: 99999999999999999999\r\nContent-Type: application/json\r\n\r\n{}',
    'POST /api/v1/polls/main/votes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    'GET /api/v1/polls/%ZZ%00%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    'GET /api/v1/polls/main HTTP/1.1\r\nHost: x\r\nCookie: thamdo_vid=v1.' + 'A'.repeat(5000) + '\r\nConnection: close\r\n\r\n',
    'GET /api/v1/polls/main HTTP/1.1\r\nHost: x\r\nCookie: ;;;=;thamdo_vid;thamdo_vid=;=v1..\r\nConnection: close\r\n\r\n',
    Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]),
    Buffer.alloc(4096, 0),
  ];
  for (const g of garbage) {
    const r = await rawRequest(url, g, { timeout: 1500 });
    if (r.status !== null) assert.ok(r.status < 500 || r.status === 501 || r.status === 505, `garbage answered ${r.status}: ${r.raw.slice(0, 200)}`);
  }
  const h = await request(url, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.equal(await totalOf('main'), 1, 'garbage requests did not vote');
  assert.ok(svc.alive());
});

test('half requests and abrupt disconnects do not crash the service', async () => {
  const halves = [
    'GET /api/v1/polls/main HT',
    'GET /api/v1/polls/main HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: thamdo_vid=v1.',
    'POST /api/v1/polls/main/votes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"options":["tin',
    'POST /api/v1/polls/main/votes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"options":[',
  ];
  for (const h of halves) {
    await rawRequest(url, h, { closeAfterWrite: true });
    await rawRequest(url, h, { timeout: 300 }); // waits a little, then disconnects
  }
  // a full request whose client disconnects before reading the answer
  const full = 'POST /api/v1/polls/main/votes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n{"options":["giai-tri"]}';
  for (let i = 0; i < 10; i++) await rawRequest(url, full, { closeAfterWrite: true });
  // many parallel half-open connections dropped at once
  await Promise.all(Array.from({ length: 50 }, (_, i) => rawRequest(url, halves[i % halves.length], { timeout: 200 })));
  await sleep(300);
  const h = await request(url, 'GET', '/healthz');
  assert.equal(h.status, 200);
  const r = await request(url, 'GET', '/readyz');
  assert.equal(r.status, 200);
  const v = await post('main', { json: { options: ['giai-tri'] } });
  assert.equal(v.status, 201, v.text);
  assert.ok(svc.alive());
});

test('raw request: error answers carry the JSON shape too (keep-alive pipelining of two requests)', async () => {
  const two = 'GET /api/v1/nope HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const r = await rawRequest(url, two, { timeout: 3000 });
  assert.equal(r.status, 404, r.raw);
  const second = r.raw.indexOf('HTTP/1.1 200');
  assert.ok(second > 0, `second pipelined response missing: ${r.raw}`);
  assert.match(r.raw, /"code"\s*:\s*"not_found"/);
  assert.match(r.raw.slice(second), /"status"\s*:\s*"ok"/);
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
