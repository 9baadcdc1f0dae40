// Request framing that a proxy in front and thamdo read alike (README, Errors: Framing): a NUL in
// Authorization is refused (400 bad_framing, closed) rather than cut short to a valid token, while
// plain framings (chunked in any case, pipelining, HTTP/1.0) still work. Every ambiguous framing,
// with a vote smuggled behind it on the same connection, is a row of bad-input.test.mjs.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, rawRequest, readFresh, readSettled } from './lib/harness.mjs';

const TOKEN = 'tok-framing-6c1f0a9e3b7d2854';
const POLL = makePoll('fr', { options: ['a', 'b'] });
const VOTE = 'POST /api/v1/polls/fr/votes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, polls: [POLL], env: { THAMDO_ADMIN_TOKENS: TOKEN } });
  url = svc.url;
});

/** The poll's total. A public read may come from another worker's cache, at most a second behind
 * the last vote: with no expectation it is read over a second after the last write, else until it
 * shows the expected total (bounded). */
async function total(expected) {
  const path = '/api/v1/polls/fr/results';
  const r = expected === undefined
    ? await readFresh(url, path)
    : await readSettled(url, path, (a) => a.json?.total === expected);
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

/** The answers in a raw reply: their status lines. */
const statusLines = (raw) => raw.match(/^HTTP\/\d\.\d \d{3}/gm) || [];

/** Asserts one JSON 400 bad_framing, Connection: close, the connection closed by the server. */
function assertRefused(r, what) {
  const ctx = `${what}: ${JSON.stringify(r.raw.slice(0, 400))} (${r.why})`;
  assert.equal(r.status, 400, ctx);
  assert.equal(statusLines(r.raw).length, 1, `one answer only: ${ctx}`);
  assert.match(r.raw, /^HTTP\/1\.[01] 400 /, ctx);
  const [head, body] = r.raw.split('\r\n\r\n');
  assert.match(head, /\r\nConnection: close(\r\n|$)/i, ctx);
  assert.match(head, /\r\nContent-Type: application\/json/i, ctx);
  assert.equal(JSON.parse(body).error.code, 'bad_framing', ctx);
  assert.ok(r.why === 'end' || r.why === 'close', `closed by the server, not by the timeout: ${ctx}`);
}

test('a NUL in Authorization is refused, not cut short to a valid token', async () => {
  const good = `GET /admin/v1/polls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`;
  const ok = await rawRequest(url, good);
  assert.equal(ok.status, 200, ok.raw.slice(0, 300));
  const r = await rawRequest(url, good.replace(TOKEN, `${TOKEN}\0forged`));
  assertRefused(r, 'NUL in Authorization');
});

test('plain framings still work: chunked (any case), pipelining, HTTP/1.0', async () => {
  const before = await total();
  let r;
  r = await rawRequest(url, `${VOTE}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{"opt\r\nC\r\nions":["b"]}\r\n0\r\n\r\n`);
  assert.equal(r.status, 201, r.raw.slice(0, 300));
  const get = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  r = await rawRequest(url, [get, get, `${get.slice(0, -2)}Connection: close\r\n\r\n`]);
  assert.deepEqual(statusLines(r.raw), ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200'], r.raw);
  r = await rawRequest(url, 'GET /healthz HTTP/1.0\r\n\r\n');
  assert.equal(r.status, 200, r.raw);
  assert.ok(r.why === 'end' || r.why === 'close', 'HTTP/1.0 closed after its answer');
  assert.equal(await total(before + 1), before + 1);
  const h = await request(url, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.ok(svc.alive());
});
