// Admin API, resetting a poll's results: POST /admin/v1/polls/:id/reset needs {"confirm": "<id>"}
// (else 400 confirmation_required and nothing changes); it clears tallies, voters (a reader may vote
// again), the series, the statistics, the integrity counters and the buckets, keeps the definition,
// and every worker's cached results show zeros; a vote while the poll is marked resetting is 503
// poll_resetting and never counted; a reset that stopped halfway (the mark left) is finished by the
// next; votes racing a reset leave the tallies equal to the ballots stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, makePoll, request, readSettled, Voter, assertError,
} from './lib/harness.mjs';

const TOKEN = 'reset-token-8e3b1f6a2c9d0475';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

let redis;
let svc;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, env: { THAMDO_ADMIN_TOKENS: TOKEN } });
});

after(async () => {
  if (svc && svc.alive()) await svc.stop();
});

const admin = (method, p, opts = {}) => request(svc.url, method, p, { ...opts, headers: { ...AUTH, ...(opts.headers || {}) } });

async function createPoll(id, over = {}) {
  const r = await admin('POST', '/admin/v1/polls', { json: makePoll(id, over) });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function results(id) {
  const r = await admin('GET', `/admin/v1/polls/${id}/results?bucket=hour`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** The ballots stored for the poll: the fields of its voter buckets, counted in Redis. */
async function storedBallots(id) {
  return Number(await redis.cli('EVAL', `
    local n, cursor = 0, '0'
    repeat
      local r = redis.call('SCAN', cursor, 'MATCH', KEYS[1], 'COUNT', 1000)
      cursor = r[1]
      for _, k in ipairs(r[2]) do n = n + redis.call('HLEN', k) end
    until cursor == '0'
    return n`, '1', `thamdo:{poll:${id}}:v:*`));
}

test('without {"confirm": "<poll id>"} nothing is reset: 400 confirmation_required', async () => {
  const def = await createPoll('hoi-lai');
  const option = def.options[0].id;
  assert.equal((await new Voter(svc.url).vote('hoi-lai', [option])).status, 201);
  for (const opts of [{}, { json: {} }, { json: { confirm: 'khac' } }, { json: { confirm: 'Hoi-Lai' } },
    { json: { confirm: 'hoi-lai', also: 1 } }, { json: { confirm: ['hoi-lai'] } }]) {
    assertError(await admin('POST', '/admin/v1/polls/hoi-lai/reset', opts), 400, 'confirmation_required');
  }
  assertError(await admin('POST', '/admin/v1/polls/hoi-lai/reset', { json: '{"confirm":' }), 400, 'invalid_json');
  assertError(await admin('POST', '/admin/v1/polls/hoi-lai/reset', { body: 'confirm=hoi-lai', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
  assertError(await admin('POST', '/admin/v1/polls/khong-co/reset', { json: { confirm: 'khong-co' } }), 404, 'poll_not_found');
  assertError(await request(svc.url, 'POST', '/admin/v1/polls/hoi-lai/reset', { json: { confirm: 'hoi-lai' } }), 401, 'unauthorized');
  assert.equal((await results('hoi-lai')).total, 1, 'still counted');
});

test('a reset clears votes, voters, series, statistics, integrity counters and buckets; readers may vote again', async () => {
  const id = 'lam-lai';
  const def = await createPoll(id);
  const [a, b] = def.options.map((o) => o.id);
  const voters = Array.from({ length: 6 }, () => new Voter(svc.url));
  for (const [k, v] of voters.entries()) assert.equal((await v.vote(id, [k % 2 ? a : b])).status, 201);
  assert.equal((await voters[0].vote(id, [a])).status, 409, 'already voted');
  await redis.cli('HSET', `thamdo:{poll:${id}}:integrity`, `${Math.floor(Date.now() / 3600e3)}:ballots`, '6');
  await redis.cli('ZADD', `thamdo:{poll:${id}}:buckets`, '6', '0123456789abcdef');
  const before = await results(id);
  assert.deepEqual([before.total, before.voters, before.duplicates_refused], [6, 6, 1]);
  assert.equal(await storedBallots(id), 6);
  // A worker's cached public results, to be brought to zero by the reset.
  assert.equal((await request(svc.url, 'GET', `/api/v1/polls/${id}/results`)).json.total, 6);

  const r = await admin('POST', `/admin/v1/polls/${id}/reset`, { json: { confirm: id } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.poll_id, id);
  assert.match(r.json.reset_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/);

  const after = await results(id);
  assert.deepEqual([after.total, after.voters, after.duplicates_refused, after.changes, after.first_vote_at, after.last_vote_at],
    [0, 0, 0, 0, null, null]);
  assert.deepEqual(after.options.map((o) => [o.id, o.votes, o.percent]), def.options.map((o) => [o.id, 0, 0]));
  assert.equal(after.series.points.length, 0);
  assert.equal(after.question, def.question, 'the definition stays');
  assert.equal(await storedBallots(id), 0);
  for (const k of ['counts', 'stats', 'hours', 'integrity', 'buckets']) {
    assert.equal(await redis.cli('EXISTS', `thamdo:{poll:${id}}:${k}`), '0', k);
  }
  const meta = await redis.cli('HGETALL', `thamdo:{poll:${id}}:meta`);
  assert.ok(!/resetting/.test(meta), 'the mark is cleared');
  const pub = await readSettled(svc.url, `/api/v1/polls/${id}/results`, (x) => x.json?.total === 0);
  assert.equal(pub.json.total, 0, 'every worker follows');
  const integrity = await admin('GET', `/admin/v1/polls/${id}/integrity`);
  assert.deepEqual([integrity.json.totals.ballots, integrity.json.buckets.count], [0, 0]);

  // Everyone may vote again, the same cookie included.
  for (const v of voters) assert.equal((await v.vote(id, [a])).status, 201);
  const again = await results(id);
  assert.deepEqual([again.total, again.voters], [6, 6]);
});

test('while the poll is marked resetting a vote is 503 poll_resetting and not counted; the next reset finishes a stopped one', async () => {
  const id = 'dang-xoa';
  const def = await createPoll(id);
  const a = def.options[0].id;
  const early = new Voter(svc.url);
  assert.equal((await early.vote(id, [a])).status, 201);
  // A reset that stopped after its first step (the service lost Redis): the mark stays.
  await redis.cli('HSET', `thamdo:{poll:${id}}:meta`, 'resetting', '1', 'reset_next', '0');
  const late = new Voter(svc.url);
  const refused = await late.vote(id, [a]);
  assertError(refused, 503, 'poll_resetting');
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal((await results(id)).total, 1, 'not counted');
  // An editor's change of the definition meanwhile keeps the mark: votes stay refused.
  const edited = await admin('PATCH', `/admin/v1/polls/${id}`, { json: { question: 'Câu hỏi đã sửa trong lúc đặt lại?' } });
  assert.equal(edited.status, 200, edited.text);
  assertError(await new Voter(svc.url).vote(id, [a]), 503, 'poll_resetting');
  assert.equal((await results(id)).total, 1, 'not counted after the edit either');
  // The poll still reads (the refusal says nothing of the poll to the cache).
  assert.equal((await request(svc.url, 'GET', `/api/v1/polls/${id}`)).status, 200);
  // The no-JavaScript page refuses too.
  const form = await late.req('POST', `/embed/polls/${id}`, { form: { option: a }, headers: { 'x-thamdo': '1' }, noValidate: true });
  assert.equal(form.status, 503);
  assert.equal((await results(id)).total, 1);

  const r = await admin('POST', `/admin/v1/polls/${id}/reset`, { json: { confirm: id } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await results(id)).total, 0);
  assert.equal((await late.vote(id, [a])).status, 201, 'counted once the reset is done');
  assert.equal((await early.vote(id, [a])).status, 201, 'the early voter was forgotten');
  assert.equal((await results(id)).total, 2);
});

test('votes racing a reset: each is counted or refused, and the tallies equal the ballots stored', async (t) => {
  const id = 'dua-nhau';
  const def = await createPoll(id);
  const a = def.options[0].id;
  const codes = {};
  let resetDone = null;
  const worker = async (n) => {
    for (let k = 0; k < n; k++) {
      const r = await new Voter(svc.url).vote(id, [a]);
      const code = r.status === 201 ? 'counted' : r.json?.error?.code;
      codes[code] = (codes[code] || 0) + 1;
    }
  };
  const votes = Array.from({ length: 8 }, () => worker(30));
  const reset = (async () => {
    while ((codes.counted || 0) < 40) await new Promise((res) => setTimeout(res, 5));
    const r = await admin('POST', `/admin/v1/polls/${id}/reset`, { json: { confirm: id } });
    resetDone = r.status;
  })();
  await Promise.all([...votes, reset]);
  assert.equal(resetDone, 200);
  assert.deepEqual(Object.keys(codes).filter((c) => c !== 'counted' && c !== 'poll_resetting'), [], JSON.stringify(codes));
  t.diagnostic(`answers: ${JSON.stringify(codes)}`);
  const res = await results(id);
  const stored = await storedBallots(id);
  assert.equal(res.total, stored, `tallies ${res.total}, ballots stored ${stored} (${JSON.stringify(codes)})`);
  assert.equal(res.voters, stored);
  assert.ok(res.total <= (codes.counted || 0) - 40 + 8, `${res.total} counted after the reset of ${JSON.stringify(codes)}`);
});
