// Request framing that a proxy in front and thamdo read alike: every request whose end two readers
// could place differently (two Content-Lengths, "Content-Length : 5", "+17", chunk sizes such as
// "0x11", Transfer-Encoding beside Content-Length, a folded header, a bare LF, a NUL, HTTP/1.9,
// HTTP/1.1 without one Host, CONNECT) is refused with a JSON 400 bad_framing and its connection
// closed: the request smuggled behind it on the same connection is never answered nor counted.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, rawRequest } from './lib/harness.mjs';

const TOKEN = 'tok-framing-6c1f0a9e3b7d2854';
const POLL = makePoll('fr', { options: ['a', 'b'] });
const BODY = '{"options":["a"]}'; // 17 bytes, 0x11
const VOTE = 'POST /api/v1/polls/fr/votes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
// The request a client hides behind the first: a vote, answered 201 if it were ever read.
const SMUGGLED = `${VOTE}Content-Length: 17\r\n\r\n${BODY}`;

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, polls: [POLL], env: { THAMDO_ADMIN_TOKENS: TOKEN } });
  url = svc.url;
});

async function total() {
  const r = await request(url, 'GET', '/api/v1/polls/fr/results');
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

/**
 * Asserts libevent's own refusal (before any handler: its HTML 400, or 413 for a chunk it cannot
 * parse, then a close): at most one answer, and the connection closed by the server.
 */
function assertLibeventRefused(r, what) {
  const ctx = `${what}: ${JSON.stringify(r.raw.slice(0, 300))} (${r.why})`;
  const lines = statusLines(r.raw);
  assert.ok(lines.length <= 1, `one answer at most: ${ctx}`);
  if (lines.length) {
    assert.match(lines[0], /^HTTP\/1\.1 (400|413)$/, ctx);
    assert.match(r.raw, /\r\nContent-Type: text\/html\r\n/i, ctx);
  }
  assert.ok(r.why === 'end' || r.why === 'close', `closed by the server, not by the timeout: ${ctx}`);
}

// Each: the first request (the smuggled vote follows it on the same connection).
const AMBIGUOUS = [
  ['two Content-Lengths', `${VOTE}Content-Length: 17\r\nContent-Length: 0\r\n\r\n${BODY}`],
  ['two Content-Lengths, the first 0', `${VOTE}Content-Length: 0\r\nContent-Length: 17\r\n\r\n${BODY}`],
  ['Content-Length with a space before the colon', `${VOTE}Content-Length : 17\r\n\r\n${BODY}`],
  ['a header name with a tab', `${VOTE}Content-Length\t: 17\r\n\r\n${BODY}`],
  ['a header name with a space inside', `${VOTE}X Y: 1\r\nContent-Length: 17\r\n\r\n${BODY}`],
  ['Content-Length +17', `${VOTE}Content-Length: +17\r\n\r\n${BODY}`],
  ['Transfer-Encoding and Content-Length', `${VOTE}Content-Length: 17\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n${BODY}\r\n0\r\n\r\n`, 'libevent'],
  ['Transfer-Encoding other than chunked', `${VOTE}Transfer-Encoding: xchunked\r\n\r\n11\r\n${BODY}\r\n0\r\n\r\n`],
  ['Transfer-Encoding chunked, identity', `${VOTE}Transfer-Encoding: chunked, identity\r\n\r\n11\r\n${BODY}\r\n0\r\n\r\n`, 'libevent'],
  ['two Transfer-Encodings', `${VOTE}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n${BODY}\r\n0\r\n\r\n`, 'libevent'],
  ['chunk size +11', `${VOTE}Transfer-Encoding: chunked\r\n\r\n+11\r\n${BODY}\r\n0\r\n\r\n`],
  ['chunk size " 11"', `${VOTE}Transfer-Encoding: chunked\r\n\r\n 11\r\n${BODY}\r\n0\r\n\r\n`],
  ['chunk size 0x11', `${VOTE}Transfer-Encoding: chunked\r\n\r\n0x11\r\n${BODY}\r\n0\r\n\r\n`],
  ['chunk size "11 "', `${VOTE}Transfer-Encoding: chunked\r\n\r\n11 \r\n${BODY}\r\n0\r\n\r\n`],
  ['chunk size ended by a bare LF', `${VOTE}Transfer-Encoding: chunked\r\n\r\n11\n${BODY}\r\n0\r\n\r\n`],
  ['chunk data not ended by CRLF', `${VOTE}Transfer-Encoding: chunked\r\n\r\n10\r\n${BODY}\r\n0\r\n\r\n`, 'libevent'],
  ['Transfer-Encoding in HTTP/1.0', `${VOTE.replace('HTTP/1.1', 'HTTP/1.0')}Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n${BODY}\r\n0\r\n\r\n`],
  ['a folded header', `${VOTE}X-A: b\r\n c\r\nContent-Length: 17\r\n\r\n${BODY}`],
  ['a bare LF in the head', `${VOTE}Content-Length: 17\n\r\n${BODY}`],
  ['a bare CR in the head', `${VOTE}X-A: b\rc\r\nContent-Length: 17\r\n\r\n${BODY}`, 'libevent'],
  ['a NUL in a header value', `${VOTE}X-A: b\0c\r\nContent-Length: 17\r\n\r\n${BODY}`],
  ['HTTP/1.9', `${VOTE.replace('HTTP/1.1', 'HTTP/1.9')}Content-Length: 17\r\n\r\n${BODY}`],
  ['HTTP/2.0', `${VOTE.replace('HTTP/1.1', 'HTTP/2.0')}Content-Length: 17\r\n\r\n${BODY}`, 'libevent'],
  ['HTTP/1.1 without Host', `${VOTE.replace('Host: 127.0.0.1\r\n', '')}Content-Length: 17\r\n\r\n${BODY}`],
  ['HTTP/1.1 with two Hosts', `${VOTE}Host: other.example\r\nContent-Length: 17\r\n\r\n${BODY}`],
  ['CONNECT', 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n'],
];

for (const [what, first, by] of AMBIGUOUS) {
  test(`refused and closed: ${what}; the request behind it is never read`, async () => {
    const before = await total();
    const r = await rawRequest(url, first + SMUGGLED, { timeout: 3000 });
    if (by === 'libevent') assertLibeventRefused(r, what);
    else assertRefused(r, what);
    assert.equal(await total(), before, 'no vote counted');
  });
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
  // libevent refuses an empty line before the request line itself
  r = await rawRequest(url, '\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assertLibeventRefused(r, 'an empty line first');
  assert.equal(await total(), before + 1);
  const h = await request(url, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.ok(svc.alive());
});
