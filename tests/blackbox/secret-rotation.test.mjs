// Rotating the cookie secret (THAMDO_SECRET_PREVIOUS): a voter cookie signed with a previous secret
// still names its reader, who is still "already voted", and the answer signs the same voter id again
// with the current secret, so that the old secret can be dropped later. Three instances on one Redis
// stand for the deployments before, during and after the rotation: A (secret A), AB (secret B,
// previous A) and B (secret B alone).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, Voter, assertError, tmpDir, assertNoSanitizer,
  SECRET, OTHER_SECRET, COOKIE_RE,
} from './lib/harness.mjs';

const A = SECRET;
const B = OTHER_SECRET;
const C = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const polls = [makePoll('doi-khoa', { options: ['mot', 'hai'] }), makePoll('doi-khoa-2', { options: ['mot', 'hai'] })];

let redis;
let before_; // secret A
let during; // secret B, previous A (and C)
let after_; // secret B alone

const idOf = (cookie) => cookie.split('.')[1];

before(async () => {
  redis = await startRedis();
  before_ = await startThamdo({ redis, polls, secret: A });
  during = await startThamdo({ redis, polls, secret: B, env: { THAMDO_SECRET_PREVIOUS: `${C}, ${A}` } });
  after_ = await startThamdo({ redis, polls, secret: B });
});

test('a voter of secret A is still "already voted" under B with A previous, and gets the same id signed with B', async () => {
  const v = new Voter(before_.url, { voted: false });
  const first = await v.vote('doi-khoa', ['mot']);
  assert.equal(first.status, 201, first.text);
  const cookieA = v.cookie;
  assert.match(cookieA, COOKIE_RE);

  const again = await v.vote('doi-khoa', ['hai'], { base: during.url });
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.ok(again.issued, 'the answer signs the cookie again');
  assert.match(again.issued.value, COOKIE_RE);
  assert.equal(idOf(again.issued.value), idOf(cookieA), 'the same voter id');
  assert.notEqual(again.issued.value, cookieA, 'signed with the current secret');
  assert.equal(again.issued.attrs.path, '/');
  assert.ok(again.issued.attrs.httponly);

  // After the rotation the old secret is gone: the re-issued cookie is honoured.
  const later = await v.vote('doi-khoa', ['hai'], { base: after_.url });
  assertError(later, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.equal(later.issued, null, 'a cookie of the current secret is not issued again');
  const read = await v.get('doi-khoa', { base: after_.url });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.json.voted, true, read.text);
});

test('a poll read with a previous secret\'s cookie shows the ballot and re-issues the cookie; a current one is not re-issued', async () => {
  const v = new Voter(before_.url, { voted: false });
  assert.equal((await v.vote('doi-khoa-2', ['hai'])).status, 201);
  const cookieA = v.cookie;
  const read = await v.get('doi-khoa-2', { base: during.url });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.json.voted, true, read.text);
  assert.ok(read.issued, read.headers.get('set-cookie'));
  assert.equal(idOf(read.issued.value), idOf(cookieA));
  const again = await v.get('doi-khoa-2', { base: during.url });
  assert.equal(again.json.voted, true);
  assert.equal(again.issued, null, 'signed with B already: no new cookie');
});

test('any of several previous secrets is accepted (the second of the list here)', async () => {
  const v = new Voter(before_.url, { voted: false });
  assert.equal((await v.vote('doi-khoa', ['hai'])).status, 201);
  // C is the first previous secret of `during`; A the second: both verify. A cookie of C:
  const c = await startThamdo({ redis, polls, secret: C });
  try {
    const w = new Voter(c.url, { voted: false });
    assert.equal((await w.vote('doi-khoa', ['mot'])).status, 201);
    const r = await w.vote('doi-khoa', ['mot'], { base: during.url });
    assertError(r, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
    assert.ok(r.issued);
  } finally {
    await c.stop();
  }
  assertError(await v.vote('doi-khoa', ['mot'], { base: during.url }), 409, 'already_voted', { extraKeys: ['choice', 'results'] });
});

test('a cookie of a secret that is neither current nor previous: a new reader, as before', async () => {
  const v = new Voter(during.url, { voted: false });
  assert.equal((await v.vote('doi-khoa', ['mot'])).status, 201);
  const cookieB = v.cookie;
  // `before_` knows A only: the reader is new there, gets a new id and may vote.
  const r = await v.vote('doi-khoa', ['mot'], { base: before_.url });
  assert.equal(r.status, 201, r.text);
  assert.ok(r.issued);
  assert.notEqual(idOf(r.issued.value), idOf(cookieB), 'a new voter id');
});

test('THAMDO_SECRET_PREVIOUS_FILE: one secret per line, blank lines skipped; adds to THAMDO_SECRET_PREVIOUS', async () => {
  const dir = tmpDir('thamdo-prev-');
  const file = path.join(dir, 'previous');
  fs.writeFileSync(file, `\n${A}\r\n\n`);
  const t = await startThamdo({ redis, polls, secret: B, env: { THAMDO_SECRET_PREVIOUS_FILE: file, THAMDO_SECRET_PREVIOUS: C } });
  try {
    const v = new Voter(before_.url, { voted: false });
    assert.equal((await v.vote('doi-khoa', ['hai'])).status, 201);
    const r = await v.vote('doi-khoa', ['hai'], { base: t.url });
    assertError(r, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
    assert.ok(r.issued);
    assert.ok(!t.stderr().includes(A) && !t.stderr().includes(C), 'no secret in the log');
  } finally {
    await t.stop();
  }
});

for (const [what, env, name] of [
  ['a previous secret of 31 bytes', { THAMDO_SECRET_PREVIOUS: `${A},${'x'.repeat(31)}` }, 'THAMDO_SECRET_PREVIOUS'],
  ['a previous secret of 257 bytes', { THAMDO_SECRET_PREVIOUS: 'y'.repeat(257) }, 'THAMDO_SECRET_PREVIOUS'],
  ['nine previous secrets', { THAMDO_SECRET_PREVIOUS: Array.from({ length: 9 }, (_, i) => `${i}`.repeat(32)).join(',') }, 'THAMDO_SECRET_PREVIOUS'],
  ['a previous secrets file that cannot be read', { THAMDO_SECRET_PREVIOUS_FILE: '/nonexistent/previous' }, 'THAMDO_SECRET_PREVIOUS_FILE'],
]) {
  test(`${what} → exit 2 naming ${name}`, async () => {
    const r = await runThamdo({ env: thamdoEnv({ redis, polls, env }) });
    assert.equal(r.code, 2, r.stderr);
    assertNoSanitizer(r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0].startsWith(`thamdo: ${name}`), lines[0]);
    assert.ok(!lines[0].includes('x'.repeat(31)) && !lines[0].includes(A), 'the secret is not echoed');
  });
}
