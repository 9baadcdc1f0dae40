// Editors' changes made on the version they read: the ETag of an admin read and change is the
// poll's version, and PATCH with If-Match changes exactly that version or answers 412
// version_mismatch with the current ETag, writing nothing. Real redis-server, real thamdo.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request, makePoll, assertError } from './lib/harness.mjs';

const TOKEN = 'version-test-token-0123456789abcd';
const POLL = makePoll('phien-ban', { options: ['a', 'b'] });
let svc;

before(async () => {
  const redis = await startRedis();
  svc = await startThamdo({ redis, polls: [POLL], env: { THAMDO_ADMIN_TOKENS: TOKEN } });
});

const admin = (method, json, headers = {}) => request(svc.url, method, '/admin/v1/polls/phien-ban',
  { headers: { authorization: `Bearer ${TOKEN}`, ...headers }, json });

test('a read and a change carry the version as ETag; If-Match of that version changes it', async () => {
  const r0 = await admin('GET');
  assert.equal(r0.status, 200, r0.text);
  assert.equal(r0.headers.get('etag'), `"${r0.json.version}"`);
  const r1 = await admin('PATCH', { question: 'Câu hỏi một' }, { 'if-match': r0.headers.get('etag') });
  assert.equal(r1.status, 200, r1.text);
  assert.equal(r1.json.version, r0.json.version + 1);
  assert.equal(r1.headers.get('etag'), `"${r1.json.version}"`);
});

test('If-Match of an older version: 412 version_mismatch with the current ETag, nothing written', async () => {
  const cur = await admin('GET');
  const stale = `"${cur.json.version - 1}"`;
  const r = await admin('PATCH', { question: 'Sửa trên bản cũ' }, { 'if-match': stale });
  assertError(r, 412, 'version_mismatch');
  assert.equal(r.headers.get('etag'), cur.headers.get('etag'));
  const after = await admin('GET');
  assert.equal(after.json.version, cur.json.version, 'no new version');
  assert.equal(after.json.question, cur.json.question, 'the question is unchanged');
  for (const bad of ['garbage', '"abc"', '""', `${cur.json.version}`]) {
    assertError(await admin('PATCH', { question: 'x' }, { 'if-match': bad }), 412, 'version_mismatch');
  }
  assert.equal((await admin('GET')).json.version, cur.json.version);
});

test('If-Match "*", a list holding the version, or a weak tag of it: the change is made; no If-Match: as before', async () => {
  let v = (await admin('GET')).json.version;
  for (const make of [() => '*', (n) => `"999", "${n}"`, (n) => `W/"${n}"`]) {
    const im = make(v);
    const r = await admin('PATCH', { question: `Câu hỏi ${v}` }, { 'if-match': im });
    assert.equal(r.status, 200, `${im}: ${r.text}`);
    v = r.json.version;
  }
  const r = await admin('PATCH', { question: 'Không có If-Match' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, v + 1);
});
