// The public list GET /api/v1/polls?status=open|closed|all&limit=N&offset=M: newest first (by
// opens_at, or the creation time without one, then id), paged, with the total of the status;
// never upcoming nor archived polls; bad values are 400 invalid_parameter. Polls are created by
// an editor at known instants with the test clock (X-Thamdo-Test-Now), so the order is exact.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request, assertError } from './lib/harness.mjs';

const TOKEN = 'list-token-0f4b7d2a9c61e835';
const NOW = '2030-06-15T12:00:00+07:00';
const at = { 'x-thamdo-test-now': NOW };

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true' } });
  url = svc.url;
});

const opts = [{ id: 'co', label: 'Có' }, { id: 'khong', label: 'Không' }];

/** Creates a poll at the instant `createdAt` (the test clock). */
async function create(id, createdAt, over = {}) {
  const r = await request(url, 'POST', '/admin/v1/polls', {
    headers: { Authorization: `Bearer ${TOKEN}`, 'x-thamdo-test-now': createdAt },
    json: { id, question: `Câu hỏi ${id}?`, options: opts, ...over },
  });
  assert.equal(r.status, 201, `create ${id}: ${r.text}`);
}

const list = (q = '') => request(url, 'GET', `/api/v1/polls${q}`, { headers: at });
const ids = (r) => r.json.polls.map((p) => p.id);

test('setup: open, closed, upcoming and archived polls created at known instants', async () => {
  await create('moi-nhat', '2030-06-10T00:00:00+07:00');
  await create('cu', '2030-01-01T00:00:00+07:00');
  await create('cung-luc-b', '2030-03-01T00:00:00+07:00');
  await create('cung-luc-a', '2030-03-01T00:00:00+07:00');
  // Created long ago but opened recently: opens_at counts, not the creation.
  await create('mo-gan-day', '2029-01-01T00:00:00+07:00', { opens_at: '2030-06-12T08:00:00+07:00' });
  await create('da-dong', '2030-06-14T00:00:00+07:00', { status: 'closed' });
  await create('het-han', '2030-02-01T00:00:00+07:00', { opens_at: '2030-02-01T00:00:00+07:00', closes_at: '2030-05-01T00:00:00+07:00' });
  await create('sap-mo', '2030-06-14T00:00:00+07:00', { opens_at: '2030-07-01T00:00:00+07:00' });
  await create('luu-tru', '2030-06-14T12:00:00+07:00');
  const del = await request(url, 'DELETE', '/admin/v1/polls/luu-tru', { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(del.status, 200, del.text);
});

test('default: the open polls, newest first (opens_at, else creation; then id), limit 20 offset 0', async () => {
  const r = await list();
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(ids(r), ['mo-gan-day', 'moi-nhat', 'cung-luc-a', 'cung-luc-b', 'cu']);
  assert.equal(r.json.total, 5);
  assert.equal(r.json.limit, 20);
  assert.equal(r.json.offset, 0);
  const first = r.json.polls[0];
  assert.deepEqual(first, {
    id: 'mo-gan-day', question: 'Câu hỏi mo-gan-day?', status: 'open', opens_at: '2030-06-12T08:00:00+07:00', closes_at: null,
  });
  assert.deepEqual(ids(await list('?status=open')), ids(r));
});

test('status=closed and status=all; never the upcoming or the archived poll', async () => {
  const closed = await list('?status=closed');
  assert.deepEqual(ids(closed), ['da-dong', 'het-han']);
  assert.ok(closed.json.polls.every((p) => p.status === 'closed'));
  assert.equal(closed.json.total, 2);
  assert.equal(closed.json.polls[1].closes_at, '2030-05-01T00:00:00+07:00');
  const all = await list('?status=all');
  assert.deepEqual(ids(all), ['da-dong', 'mo-gan-day', 'moi-nhat', 'cung-luc-a', 'cung-luc-b', 'het-han', 'cu']);
  assert.equal(all.json.total, 7);
  for (const r of [closed, all]) {
    assert.ok(!ids(r).includes('sap-mo') && !ids(r).includes('luu-tru'), ids(r).join());
  }
  // Once its time comes the upcoming poll is listed, first as the newest.
  const later = await request(url, 'GET', '/api/v1/polls?status=open&limit=1', { headers: { 'x-thamdo-test-now': '2030-07-01T00:00:00+07:00' } });
  assert.deepEqual(ids(later), ['sap-mo'], 'the latest open poll once it opened');
});

test('limit and offset page through the same order; total stays the count of the status', async () => {
  const pages = [];
  for (let offset = 0; offset < 8; offset += 3) {
    const r = await list(`?status=all&limit=3&offset=${offset}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.total, 7);
    assert.equal(r.json.limit, 3);
    assert.equal(r.json.offset, offset);
    pages.push(...ids(r));
  }
  assert.deepEqual(pages, ids(await list('?status=all')));
  const latest = await list('?status=open&limit=1');
  assert.deepEqual(ids(latest), ['mo-gan-day'], 'the widget\'s "latest" poll');
  assert.deepEqual(ids(await list('?offset=100000')), []);
  assert.equal((await list('?offset=100000')).json.total, 5);
  assert.equal(ids(await list('?limit=100')).length, 5);
  assert.deepEqual(ids(await list('?lang=en&status=closed')), ['da-dong', 'het-han'], 'other parameters are ignored');
});

test('bad status, limit or offset: 400 invalid_parameter', async () => {
  for (const q of [
    '?status=upcoming', '?status=archived', '?status=', '?status=OPEN', '?limit=0', '?limit=101', '?limit=abc', '?limit=-1',
    '?limit=1.5', '?limit=', '?offset=-1', '?offset=100001', '?offset=x', '?limit=1%00', '?status=open%00',
    '?status=open&status=closed', '?limit=1&limit=2', '?offset=0&offset=0',
  ]) {
    assertError(await list(q), 400, 'invalid_parameter');
  }
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
