// Admin API, who may use it: admin off without tokens (every /admin path 404, "admin API off" in the
// start log); with tokens, 401 `unauthorized` with one body and `WWW-Authenticate: Bearer` whatever
// was wrong (no header, wrong token, Basic, Bearer without a token); two tokens (one from
// THAMDO_ADMIN_TOKENS, one from THAMDO_ADMIN_TOKENS_FILE) both work; token length limits stop the
// start (exit 2, one line naming the variable); a token never reaches the log (debug level, after
// requests with right and wrong tokens); THAMDO_TEST_CLOCK needs THAMDO_MODE=test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, request, rawRequest, assertError,
  assertJsonHeaders, assertNoSanitizer, tmpDir,
} from './lib/harness.mjs';

const TOKEN_ENV = 'tok-env-5b0c9e2f41d7a863';            // 23 chars, from THAMDO_ADMIN_TOKENS
const TOKEN_FILE = 'tok-file-Q7mZ2pX9vL4kR8sT1wN6';      // 29 chars, from THAMDO_ADMIN_TOKENS_FILE
const TOKEN_16 = 'sixteen-chars-ok';                      // exactly 16: the shortest allowed
const SHORT_TOKEN = 'fifteen-chars-x';                    // 15: refused
const REALM = 'Bearer realm="thamdo admin"';

let redis;
let on; // tokens from the variable and from the file, debug log
let off; // no token at all
let tokenFile;

before(async () => {
  redis = await startRedis();
  const dir = tmpDir('thamdo-admin-tokens-');
  tokenFile = path.join(dir, 'tokens');
  fs.writeFileSync(tokenFile, `${TOKEN_FILE}\n`, { mode: 0o600 });
  on = await startThamdo({
    redis,
    polls: [makePoll('seed-auth')],
    env: { THAMDO_ADMIN_TOKENS: TOKEN_ENV, THAMDO_ADMIN_TOKENS_FILE: tokenFile, THAMDO_LOG_LEVEL: 'debug' },
  });
  off = await startThamdo({ redis, polls: [makePoll('seed-auth')], env: { THAMDO_KEY_PREFIX: 'off:' } });
});

after(async () => {
  for (const t of [on, off]) if (t && t.alive()) await t.stop();
});

const bearer = (token) => ({ Authorization: `Bearer ${token}` });

test('admin off: /admin, /admin/, /admin/v1/polls and /admin/v1/polls/x/results answer 404 not_found; the log says "admin API off"', async () => {
  const paths = ['/admin', '/admin/', '/admin/v1/polls', '/admin/v1/polls/x/results', '/admin/v1/polls/seed-auth'];
  for (const p of paths) {
    for (const headers of [{}, bearer(TOKEN_ENV)]) {
      const r = await request(off.url, 'GET', p, { headers });
      assertError(r, 404, 'not_found');
      assert.equal(r.headers.get('www-authenticate'), null, `${p}: no auth challenge when admin is off`);
    }
  }
  // Writing methods too: nothing under /admin exists.
  const post = await request(off.url, 'POST', '/admin/v1/polls', { headers: bearer(TOKEN_ENV), json: makePoll('nope') });
  assertError(post, 404, 'not_found');
  const del = await request(off.url, 'DELETE', '/admin/v1/polls/seed-auth', { headers: bearer(TOKEN_ENV) });
  assertError(del, 404, 'not_found');
  assert.match(off.stderr(), /admin API off/);
  // The public API of that instance still works.
  assert.equal((await request(off.url, 'GET', '/api/v1/polls/seed-auth')).status, 200);
  assert.doesNotMatch(on.stderr(), /admin API off/, 'an instance with tokens must not say admin is off');
});

test('with tokens: no header, wrong token, Basic, Bearer without token all get the same 401 with WWW-Authenticate: Bearer', async () => {
  const basic = Buffer.from(`admin:${TOKEN_ENV}`).toString('base64');
  const cases = [
    ['no Authorization header', {}],
    ['wrong token', bearer('wrong-token-0123456789abcdef')],
    ['right token plus one character', bearer(`${TOKEN_ENV}x`)],
    ['right token minus its last character', bearer(TOKEN_ENV.slice(0, -1))],
    ['the two tokens glued', bearer(`${TOKEN_ENV}${TOKEN_FILE}`)],
    ['Basic with user:token', { Authorization: `Basic ${basic}` }],
    ['Basic with the bare token', { Authorization: `Basic ${TOKEN_ENV}` }],
    ['the bare token without a scheme', { Authorization: TOKEN_ENV }],
    ['Bearer with nothing after it', { Authorization: 'Bearer' }],
    ['Token scheme', { Authorization: `Token ${TOKEN_ENV}` }],
  ];
  const before_ = await request(on.url, 'GET', '/admin/v1/polls/seed-auth', { headers: bearer(TOKEN_ENV) });
  assert.equal(before_.status, 200, before_.text);
  let body = null;
  for (const [what, headers] of cases) {
    for (const [method, p, opts] of [
      ['GET', '/admin/v1/polls', {}],
      ['GET', '/admin/v1/polls/seed-auth', {}],
      ['GET', '/admin/v1/polls/seed-auth/results', {}],
      ['POST', '/admin/v1/polls', { json: makePoll('sneaky') }],
      ['PATCH', '/admin/v1/polls/seed-auth', { json: { question: 'Hacked?' } }],
      ['DELETE', '/admin/v1/polls/seed-auth', {}],
      ['POST', '/admin/v1/polls/seed-auth/close', {}],
    ]) {
      const r = await request(on.url, method, p, { ...opts, headers });
      assertError(r, 401, 'unauthorized');
      assert.equal(r.headers.get('www-authenticate'), REALM, `${what}, ${method} ${p}`);
      if (body === null) body = r.text;
      assert.equal(r.text, body, `${what}, ${method} ${p}: the 401 body must not tell what was wrong`);
    }
  }
  // Nothing above changed anything.
  const seed = await request(on.url, 'GET', '/admin/v1/polls/seed-auth', { headers: bearer(TOKEN_ENV) });
  assert.equal(seed.status, 200, seed.text);
  assert.deepEqual(seed.json, before_.json, 'a refused request changed the poll');
  assert.equal(seed.json.archived, false);
  assert.equal(seed.json.status, 'open');
  const list = await request(on.url, 'GET', '/admin/v1/polls', { headers: bearer(TOKEN_ENV) });
  assert.ok(!list.json.polls.some((p) => p.id === 'sneaky'), 'an unauthorised create went through');
});

/** The body of a raw HTTP/1.1 answer (Content-Length framed). */
function rawBody(raw) {
  const i = raw.indexOf('\r\n\r\n');
  return i < 0 ? '' : Buffer.from(raw.slice(i + 4), 'latin1').toString('utf8');
}

test('Bearer followed by spaces only (sent raw: fetch would trim it) gets the same 401', async () => {
  const ref = await request(on.url, 'GET', '/admin/v1/polls');
  assert.equal(ref.status, 401);
  for (const value of ['Bearer ', 'Bearer    ', 'bearer  ']) {
    const r = await rawRequest(on.url,
      `GET /admin/v1/polls HTTP/1.1\r\nHost: ${on.host}:${on.port}\r\nAuthorization: ${value}\r\nConnection: close\r\n\r\n`);
    assert.equal(r.status, 401, `Authorization: ${JSON.stringify(value)} → ${r.raw}`);
    assert.match(r.raw, /\r\nWWW-Authenticate: Bearer realm="thamdo admin"\r\n/i, r.raw);
    assert.equal(rawBody(r.raw), ref.text, `Authorization: ${JSON.stringify(value)}: same body`);
  }
});

test('two tokens: the one from THAMDO_ADMIN_TOKENS and the one from THAMDO_ADMIN_TOKENS_FILE both work', async () => {
  for (const token of [TOKEN_ENV, TOKEN_FILE]) {
    const r = await request(on.url, 'GET', '/admin/v1/polls', { headers: bearer(token) });
    assert.equal(r.status, 200, `${token}: ${r.text}`);
    assertJsonHeaders(r, 'admin list');
    assert.ok(r.json.polls.some((p) => p.id === 'seed-auth'));
  }
  // A write with the file token, read back with the env token.
  const id = 'made-with-file-token';
  const c = await request(on.url, 'POST', '/admin/v1/polls', { headers: bearer(TOKEN_FILE), json: { id, question: 'Q?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] } });
  assert.equal(c.status, 201, c.text);
  const g = await request(on.url, 'GET', `/admin/v1/polls/${id}`, { headers: bearer(TOKEN_ENV) });
  assert.equal(g.status, 200, g.text);
  assert.equal(g.json.id, id);
});

test('the dashboard page needs no token; /admin redirects to /admin/', async () => {
  const page = await request(on.url, 'GET', '/admin/');
  assert.equal(page.status, 200, page.text.slice(0, 200));
  assert.match(page.headers.get('content-type') || '', /^text\/html/);
  const redir = await request(on.url, 'GET', '/admin');
  assert.equal(redir.status, 303);
  assert.equal(redir.headers.get('location'), '/admin/');
});

test('a token of exactly 16 characters is accepted and works; several tokens in one variable, separated by comma or space', async () => {
  const t = await startThamdo({ redis, env: { THAMDO_KEY_PREFIX: 'tok16:', THAMDO_ADMIN_TOKENS: `${TOKEN_16}, ${TOKEN_ENV} ${TOKEN_FILE}` } });
  try {
    for (const token of [TOKEN_16, TOKEN_ENV, TOKEN_FILE]) {
      const r = await request(t.url, 'GET', '/admin/v1/polls', { headers: bearer(token) });
      assert.equal(r.status, 200, `${token}: ${r.text}`);
    }
    const r = await request(t.url, 'GET', '/admin/v1/polls', { headers: bearer(`${TOKEN_16},`) });
    assert.equal(r.status, 401);
  } finally {
    await t.stop();
  }
});

/** Exit 2 and exactly one stderr line `thamdo: NAME: reason`; returns the line. */
function assertConfigError(r, name, what) {
  const ctx = `${what}: code=${r.code} signal=${r.signal} stderr=${JSON.stringify(r.stderr)}`;
  assert.equal(r.timedOut, false, `${ctx} (it did not exit: it probably started)`);
  assert.equal(r.code, 2, ctx);
  assertNoSanitizer(r.stderr + r.stdout, what);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `exactly one stderr line expected; ${ctx}`);
  assert.ok(lines[0].startsWith(`thamdo: ${name}: `), `the line must name ${name}; ${ctx}`);
  assert.ok(lines[0].length > `thamdo: ${name}: `.length, `no reason given; ${ctx}`);
  return lines[0];
}

test('a token shorter than 16 characters (or longer than 255) stops the start: exit 2, the line names the variable, not the token', async () => {
  const base = { THAMDO_KEY_PREFIX: 'bad:' };
  let r = await runThamdo({ env: thamdoEnv({ redis, env: { ...base, THAMDO_ADMIN_TOKENS: SHORT_TOKEN } }) });
  let line = assertConfigError(r, 'THAMDO_ADMIN_TOKENS', 'short token in THAMDO_ADMIN_TOKENS');
  assert.ok(!line.includes(SHORT_TOKEN), `the token is echoed: ${line}`);

  // One good and one short: still refused.
  r = await runThamdo({ env: thamdoEnv({ redis, env: { ...base, THAMDO_ADMIN_TOKENS: `${TOKEN_ENV},${SHORT_TOKEN}` } }) });
  line = assertConfigError(r, 'THAMDO_ADMIN_TOKENS', 'good + short token in THAMDO_ADMIN_TOKENS');
  assert.ok(!line.includes(SHORT_TOKEN) && !line.includes(TOKEN_ENV), `a token is echoed: ${line}`);

  const dir = tmpDir('thamdo-admin-badtok-');
  const shortFile = path.join(dir, 'short');
  fs.writeFileSync(shortFile, `${SHORT_TOKEN}\n`);
  r = await runThamdo({ env: thamdoEnv({ redis, env: { ...base, THAMDO_ADMIN_TOKENS: TOKEN_ENV, THAMDO_ADMIN_TOKENS_FILE: shortFile } }) });
  line = assertConfigError(r, 'THAMDO_ADMIN_TOKENS_FILE', 'short token in THAMDO_ADMIN_TOKENS_FILE');
  assert.ok(!line.includes(SHORT_TOKEN), `the token is echoed: ${line}`);

  const long = 'L'.repeat(256);
  r = await runThamdo({ env: thamdoEnv({ redis, env: { ...base, THAMDO_ADMIN_TOKENS: long } }) });
  line = assertConfigError(r, 'THAMDO_ADMIN_TOKENS', '256-character token');
  assert.ok(!line.includes(long), `the token is echoed: ${line}`);

  // 255 is the longest allowed.
  const t = await startThamdo({ redis, env: { ...base, THAMDO_ADMIN_TOKENS: 'M'.repeat(255) } });
  try {
    assert.equal((await request(t.url, 'GET', '/admin/v1/polls', { headers: bearer('M'.repeat(255)) })).status, 200);
  } finally {
    await t.stop();
  }
});

test('THAMDO_TEST_CLOCK=true without THAMDO_MODE=test stops the start (exit 2, the line names THAMDO_TEST_CLOCK)', async () => {
  let r = await runThamdo({ env: thamdoEnv({ redis, env: { THAMDO_TEST_CLOCK: 'true' } }) });
  assertConfigError(r, 'THAMDO_TEST_CLOCK', 'test clock, no mode');
  r = await runThamdo({ env: thamdoEnv({ redis, env: { THAMDO_TEST_CLOCK: 'true', THAMDO_MODE: 'production' } }) });
  assertConfigError(r, 'THAMDO_TEST_CLOCK', 'test clock, production mode');
});

test('the tokens never appear in the log (debug level, after requests with right and wrong tokens)', async () => {
  // More traffic with every kind of Authorization header, then stop (flushes the log).
  for (const token of [TOKEN_ENV, TOKEN_FILE, `${TOKEN_ENV}x`, TOKEN_ENV.slice(0, -1)]) {
    await request(on.url, 'GET', '/admin/v1/polls', { headers: bearer(token) });
    await request(on.url, 'PATCH', '/admin/v1/polls/seed-auth', { headers: bearer(token), json: { question: 'Câu hỏi mới?' } });
    await request(on.url, 'POST', '/admin/v1/polls', { headers: bearer(token), json: { id: 'Bad Id' } });
  }
  await request(on.url, 'GET', '/admin/v1/polls', { headers: { Authorization: `Basic ${TOKEN_ENV}` } });
  await on.stop();
  const log = on.stderr() + on.stdout();
  assert.match(log, /listening on/);
  assert.match(log, /seed-auth/, 'the debug log is expected to mention the change (sanity check that it was captured)');
  for (const secret of [TOKEN_ENV, TOKEN_FILE, TOKEN_ENV.slice(0, -1), TOKEN_ENV.slice(4, 20), TOKEN_FILE.slice(9)]) {
    assert.ok(!log.includes(secret), `the log contains (part of) a token: ${secret}\n${log}`);
  }
});
