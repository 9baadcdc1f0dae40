// The editors' API as a whole: tokens (two, one from a file; admin off), a poll's life (create,
// change, close, archive, restore) seen by a second instance on the same Redis within a second,
// and results with their hourly and daily series after votes spread over hours across a local
// midnight (test clock), in JSON and in CSV.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRedis, startThamdo, request, makePoll, tmpDir, sleep } from './lib/harness.mjs';

const TOKEN_ENV = 'env-token-0123456789abcdef';
const TOKEN_FILE = 'file-token-fedcba9876543210';
const TEST_ENV = { THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true' };

let redis;
let a; // the instance an editor talks to
let b; // another instance on the same Redis
let off; // an instance without admin tokens

before(async () => {
  redis = await startRedis();
  const dir = tmpDir('thamdo-tokens-');
  const file = path.join(dir, 'tokens');
  fs.writeFileSync(file, `${TOKEN_FILE}\n`, { mode: 0o600 });
  const env = { ...TEST_ENV, THAMDO_ADMIN_TOKENS: TOKEN_ENV, THAMDO_ADMIN_TOKENS_FILE: file };
  a = await startThamdo({ redis, env });
  b = await startThamdo({ redis, env });
  off = await startThamdo({ redis, polls: [makePoll('seed')] });
});

after(async () => {
  for (const t of [a, b, off]) if (t && t.alive()) await t.stop();
});

const admin = (t, method, urlPath, opts = {}) => request(t.url, method, urlPath, {
  ...opts, headers: { Authorization: `Bearer ${opts.token || TOKEN_ENV}`, ...(opts.headers || {}) },
});

/** Polls `check` on instance b every 50 ms for at most one second. */
async function withinOneSecond(check) {
  const start = Date.now();
  let last;
  while (Date.now() - start <= 1000) {
    last = await check();
    if (last === true) return Date.now() - start;
    await sleep(50);
  }
  assert.fail(`not seen on the second instance within 1 s (last: ${JSON.stringify(last)})`);
}

test('tokens: either configured token works, a wrong one gets 401 and is never logged', async () => {
  assert.equal((await admin(a, 'GET', '/admin/v1/polls')).status, 200);
  assert.equal((await admin(a, 'GET', '/admin/v1/polls', { token: TOKEN_FILE })).status, 200);
  const wrong = await admin(a, 'GET', '/admin/v1/polls', { token: `${TOKEN_ENV}x` });
  const none = await request(a.url, 'GET', '/admin/v1/polls');
  for (const r of [wrong, none]) {
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
    assert.equal(r.json.error.code, 'unauthorized');
  }
  assert.equal(wrong.text, none.text, 'no hint of what was wrong');
  assert.ok(!a.stderr().includes(TOKEN_ENV) && !a.stderr().includes(TOKEN_FILE), 'a token in the log');
});

test('admin off: every /admin address is 404 and the start log says so', async () => {
  for (const p of ['/admin', '/admin/', '/admin/v1/polls', '/admin/v1/polls/seed/results']) {
    const r = await request(off.url, 'GET', p, { headers: { Authorization: `Bearer ${TOKEN_ENV}` } });
    assert.equal(r.status, 404, p);
    assert.equal(r.json.error.code, 'not_found', p);
  }
  assert.match(off.stderr(), /admin API off/);
});

test('a poll\'s life, each step seen by the other instance within one second', async () => {
  const created = await admin(a, 'POST', '/admin/v1/polls', {
    json: { id: 'song-khoe', question: 'Bạn tập thể dục mấy buổi mỗi tuần?', options: [
      { id: 'it', label: 'Ít hơn 2 buổi' }, { id: 'nhieu', label: 'Từ 2 buổi trở lên' }] },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers.get('location'), '/admin/v1/polls/song-khoe');
  await withinOneSecond(async () => (await request(b.url, 'GET', '/api/v1/polls/song-khoe')).status === 200);

  const changed = await admin(a, 'PATCH', '/admin/v1/polls/song-khoe', {
    json: { question: 'Mỗi tuần bạn tập thể dục mấy buổi?', options: [
      { id: 'it', label: 'Dưới 2 buổi' }, { id: 'nhieu', label: 'Từ 2 buổi trở lên' }, { id: 'khong', label: 'Không tập' }] },
  });
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.json.version, 2);
  await withinOneSecond(async () => {
    const r = await request(b.url, 'GET', '/api/v1/polls/song-khoe');
    return r.json.question === 'Mỗi tuần bạn tập thể dục mấy buổi?' && r.json.options.length === 3;
  });
  assert.equal((await request(b.url, 'POST', '/api/v1/polls/song-khoe/votes', { json: { options: ['khong'] } })).status, 201);

  const removed = await admin(a, 'PATCH', '/admin/v1/polls/song-khoe', {
    json: { options: [{ id: 'it', label: 'Dưới 2 buổi' }, { id: 'nhieu', label: 'Từ 2 buổi trở lên' }] },
  });
  assert.equal(removed.status, 409);
  assert.equal(removed.json.error.code, 'option_has_votes');

  assert.equal((await admin(a, 'POST', '/admin/v1/polls/song-khoe/close')).status, 200);
  await withinOneSecond(async () => {
    const r = await request(b.url, 'POST', '/api/v1/polls/song-khoe/votes', { json: { options: ['it'] } });
    return r.status === 403 && r.json.error.code === 'poll_closed';
  });
  assert.equal((await admin(a, 'POST', '/admin/v1/polls/song-khoe/reopen')).status, 200);

  const archived = await admin(a, 'DELETE', '/admin/v1/polls/song-khoe');
  assert.equal(archived.status, 200);
  assert.equal(archived.json.archived, true);
  await withinOneSecond(async () => (await request(b.url, 'GET', '/api/v1/polls/song-khoe')).status === 404);
  const list = await request(b.url, 'GET', '/api/v1/polls');
  assert.ok(!list.json.polls.some((p) => p.id === 'song-khoe'), 'an archived poll leaves the public list');
  const kept = await admin(b, 'GET', '/admin/v1/polls/song-khoe');
  assert.equal(kept.json.votes, 1, 'an archived poll keeps its votes');

  assert.equal((await admin(a, 'POST', '/admin/v1/polls/song-khoe/restore')).status, 200);
  await withinOneSecond(async () => (await request(b.url, 'GET', '/api/v1/polls/song-khoe/results')).json?.total === 1);
});

test('results and series after votes spread over hours across a local midnight', async () => {
  const created = await admin(a, 'POST', '/admin/v1/polls', {
    json: { id: 'gio-doc-bao', question: 'Bạn đọc báo lúc nào?', results_visibility: 'never',
      options: [{ id: 'toi', label: 'Buổi tối' }, { id: 'dem', label: 'Nửa đêm, "khuya"' }] },
  });
  assert.equal(created.status, 201, created.text);
  // [local time, option]: three hours of 1 March and two of 2 March in Asia/Ho_Chi_Minh.
  const votes = [
    ['2026-03-01T21:10:00+07:00', 'toi'], ['2026-03-01T21:50:00+07:00', 'toi'],
    ['2026-03-01T23:30:00+07:00', 'dem'], ['2026-03-02T00:05:00+07:00', 'dem'],
    ['2026-03-02T00:55:00+07:00', 'toi'], ['2026-03-02T02:10:00+07:00', 'dem'],
  ];
  for (const [when, option] of votes) {
    const r = await request(a.url, 'POST', '/api/v1/polls/gio-doc-bao/votes', {
      json: { options: [option] }, headers: { 'X-Thamdo-Test-Now': when },
    });
    assert.equal(r.status, 201, r.text);
  }
  const hourly = await admin(a, 'GET', '/admin/v1/polls/gio-doc-bao/results?bucket=hour');
  assert.equal(hourly.status, 200, hourly.text);
  const res = hourly.json;
  assert.equal(res.total, 6);
  assert.equal(res.voters, 6);
  assert.deepEqual(res.options.map((o) => [o.id, o.votes, o.percent]), [['toi', 3, 50.0], ['dem', 3, 50.0]]);
  assert.equal(res.first_vote_at, '2026-03-01T21:10:00+07:00');
  assert.equal(res.last_vote_at, '2026-03-02T02:10:00+07:00');
  const points = res.series.points.map((p) => [p.start, p.votes.toi, p.votes.dem]);
  assert.deepEqual(points, [
    ['2026-03-01T21:00:00+07:00', 2, 0], ['2026-03-01T22:00:00+07:00', 0, 0],
    ['2026-03-01T23:00:00+07:00', 0, 1], ['2026-03-02T00:00:00+07:00', 1, 1],
    ['2026-03-02T01:00:00+07:00', 0, 0], ['2026-03-02T02:00:00+07:00', 0, 1],
  ]);
  const daily = await admin(a, 'GET', '/admin/v1/polls/gio-doc-bao/series?bucket=day');
  assert.deepEqual(daily.json.series.points.map((p) => [p.start, p.total]), [
    ['2026-03-01T00:00:00+07:00', 3], ['2026-03-02T00:00:00+07:00', 3],
  ]);
  const sum = daily.json.series.points.reduce((n, p) => n + p.total, 0);
  assert.equal(sum, res.total, 'the series adds up to the totals');
  const first = await admin(a, 'GET', '/admin/v1/polls/gio-doc-bao/series?bucket=day&from=2026-03-02');
  assert.deepEqual(first.json.series.points.map((p) => p.total), [3]);

  // fetch's text() drops a byte-order mark: read the bytes.
  const csv = await fetch(`${a.url}/admin/v1/polls/gio-doc-bao/results`, {
    headers: { Authorization: `Bearer ${TOKEN_ENV}`, Accept: 'text/csv' }, signal: AbortSignal.timeout(5000),
  });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv; charset=utf-8/);
  assert.match(csv.headers.get('content-disposition'), /filename="gio-doc-bao-results\.csv"/);
  const bytes = Buffer.from(await csv.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte-order mark');
  assert.equal(bytes.subarray(3).toString('utf8'),
    'Mã phương án,Phương án,Số phiếu,Tỷ lệ (%)\r\ntoi,Buổi tối,3,50.0\r\ndem,"Nửa đêm, ""khuya""",3,50.0\r\n,Tổng cộng,6,100.0\r\n');
  const public_ = await request(a.url, 'GET', '/api/v1/polls/gio-doc-bao/results');
  assert.equal(public_.status, 403, 'the public visibility does not limit editors, only readers');
});
