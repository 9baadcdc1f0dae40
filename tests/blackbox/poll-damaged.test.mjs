// Whatever Redis holds, no page or answer crashes: poll data written straight into Redis with
// redis-cli (a definition without `question` or an option `label`, mistyped fields, times beyond
// 9999, keys of the wrong type, counts that are not numbers, damaged ballots) is answered with
// 500 `poll_damaged` (an HTML page on the embed routes) and one log line naming the poll, or, for
// a reader's damaged ballot, with a clear "already voted". Every script checks before its first
// write: a vote that cannot be counted records nothing, and succeeds once the key is repaired.
// Run against build/thamdo and build/asan/thamdo (sanitizer output fails the stop).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  startRedis, startThamdo, makePoll, request, Voter, assertError, REDIS_CLI,
} from './lib/harness.mjs';

const TOKEN = 'damaged-token-5a8c2e7f91b3d406';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const NOW = '2030-05-01T10:15:00+07:00'; // the test clock: hour 30-05-01 03:00Z for every vote
const HOUR = Math.floor(Date.parse(NOW) / 3600e3);

const P = {
  good: makePoll('con-tot', { options: ['a', 'b'] }),
  change: makePoll('doi-phieu', { options: ['a', 'b'], allow_change: true }),
  fixed: makePoll('co-dinh', { options: ['a', 'b'] }),
};

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    polls: Object.values(P),
    env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true' },
  });
  url = svc.url;
});

const key = (id, suffix) => `thamdo:{poll:${id}}:${suffix}`;
const at = { 'x-thamdo-test-now': NOW };

/** SET key to the exact bytes of value (a Buffer may hold invalid UTF-8), through redis-cli -x. */
function redisSetBytes(k, value) {
  return new Promise((resolve, reject) => {
    const p = spawn(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(redis.port), '-x', 'SET', k], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('redis-cli -x timed out')); }, 5000);
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (code) => { clearTimeout(timer); if (code === 0 && /OK/.test(out)) resolve(); else reject(new Error(`redis-cli -x: ${code} ${out}`)); });
    p.stdin.end(Buffer.from(value));
  });
}

/** Stores a definition (a string, a Buffer, or an object as JSON) under a new poll id. */
async function storeDef(id, def) {
  const text = typeof def === 'string' || Buffer.isBuffer(def) ? def : JSON.stringify(def);
  await redis.cli('DEL', key(id, 'def'));
  await redisSetBytes(key(id, 'def'), text);
  await redis.cli('SADD', 'thamdo:polls', id);
}

/** The raw 16-byte voter id of a Voter's cookie (v1.<22 base64url>.<mac>), as hex. */
const voterHex = (v) => Buffer.from(v.cookie.split('.')[1], 'base64url').toString('hex');
/** Readers recorded as voted for a poll: the meta hash's count and the bucket keys of voters. */
async function recorded(id) {
  const hash = (await redis.cli('TYPE', key(id, 'meta'))) === 'hash';
  const voters = hash ? await redis.cli('HGET', key(id, 'meta'), 'voters') : '0';
  const buckets = await redis.cli('EVAL', "return #redis.call('KEYS', ARGV[1])", '0', `${key(id, 'v:')}*`);
  return { voters: Number(voters || 0), buckets: Number(buckets) };
}
/** Runs lua with KEYS[1] = the voter's bucket key (prefix{poll:id}:v:<2 raw bytes>), ARGV[1] = the
 * 10 bytes of the id kept in the bucket, ARGV[2] = extra. */
const onBucket = (id, v, lua, extra = '') => redis.cli('EVAL',
  `local raw = string.gsub(ARGV[1], '..', function(h) return string.char(tonumber(h, 16)) end)
   local k, f = ARGV[2] .. string.sub(raw, 1, 2), string.sub(raw, 3, 12)
   return (function(KEY, FIELD, X) ${lua} end)(k, f, ARGV[3])`, '0', voterHex(v), key(id, 'v:'), extra);

const damagedLines = (id) => svc.stderr().split('\n').filter((l) => l.includes(`poll ${id}: the data stored in redis is damaged`));

function assertDamagedHtml(r, what) {
  assert.equal(r.status, 500, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  assert.match(r.headers.get('content-type') || '', /^text\/html/, what);
  assert.ok(r.text.includes('Cuộc thăm dò này tạm thời không hiển thị được do lỗi dữ liệu.'), `${what}: the message`);
}

/** Every route of a poll answers poll_damaged, nothing is written, one log line per read of Redis:
 * the results right after the poll come from the worker's cache (logged when it was read), or from
 * a read of their own on another worker. */
async function assertEveryRouteDamaged(id, what) {
  const v = new Voter(url);
  const before0 = damagedLines(id).length;
  assertError(await v.get(id, { headers: at }), 500, 'poll_damaged');
  assert.equal(damagedLines(id).length, before0 + 1, `${what}: one log line naming ${id} per request:\n${svc.stderr().slice(-2000)}`);
  assertError(await v.results(id, { headers: at }), 500, 'poll_damaged');
  assertError(await v.vote(id, ['a'], { headers: at }), 500, 'poll_damaged');
  assertError(await v.voteForm(id, ['a'], { headers: at }), 500, 'poll_damaged');
  assertDamagedHtml(await v.req('GET', `/embed/polls/${id}`, { headers: at }), `${what}: embed page`);
  assertDamagedHtml(await v.req('GET', `/embed/polls/${id}?lang=en`, { headers: at }), `${what}: embed page (en)`);
  assertDamagedHtml(await v.req('POST', `/embed/polls/${id}`, { form: 'option=a', headers: at }), `${what}: embed post`);
  for (const [method, path, json] of [
    ['GET', `/admin/v1/polls/${id}`], ['GET', `/admin/v1/polls/${id}/results`], ['GET', `/admin/v1/polls/${id}/series`],
    ['GET', `/admin/v1/polls/${id}/results?format=csv`], ['PATCH', `/admin/v1/polls/${id}`, { question: 'Sửa?' }],
    ['DELETE', `/admin/v1/polls/${id}`], ['POST', `/admin/v1/polls/${id}/close`],
  ]) {
    assertError(await request(url, method, path, { headers: AUTH, json }), 500, 'poll_damaged');
  }
  const lines = damagedLines(id).length - before0;
  assert.ok(lines === 13 || lines === 14, `${what}: one line per read of redis (13 or 14), got ${lines}`);
  // Nothing was written for the poll: no voter, no tally, no meta hash (never upgraded).
  assert.equal(await redis.cli('EXISTS', key(id, 'voters')), '0', `${what}: no voter recorded`);
  assert.deepEqual(await recorded(id), { voters: 0, buckets: 0 }, `${what}: no voter recorded`);
  assert.equal(await redis.cli('EXISTS', key(id, 'meta')), '0', `${what}: no meta hash`);
  assert.equal(await redis.cli('EXISTS', key(id, 'counts')), '0', `${what}: no tally`);
  assert.ok(svc.alive(), `${what}: the service is still running`);
}

const opts = [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }];
const base = { question: 'Q?', options: opts, max_choices: 1, status: 'open', results_visibility: 'always', opens_at: null, closes_at: null };

test('damaged definitions: 500 poll_damaged on every route of the poll (HTML on the embed page), one log line per read, nothing written', async () => {
  const cases = {
    'khong-cau-hoi': { ...base, question: undefined }, // once a NULL into html_escape: SIGSEGV
    'khong-nhan': { ...base, options: [{ id: 'a' }, { id: 'b', label: 'B' }] },
    'nhan-la-so': { ...base, options: [{ id: 'a', label: 7 }, { id: 'b', label: 'B' }] },
    'cau-hoi-la-so': { ...base, question: 42 },
    'phuong-an-khong-mang': { ...base, options: { a: 'A' } },
    'phuong-an-rong': { ...base, options: [] },
    'phuong-an-null': { ...base, options: [null, { id: 'b', label: 'B' }] },
    'ma-phuong-an-xau': { ...base, options: [{ id: 'A B', label: 'A' }, { id: 'b', label: 'B' }] },
    'toi-da-chuoi': { ...base, max_choices: '1' },
    'toi-da-thieu': { ...base, max_choices: undefined },
    'gio-qua-lon': { ...base, closes_at: 67000000000000000 },
    'gio-chuoi': { ...base, opens_at: '2030-01-01T00:00:00Z' },
    'trang-thai-so': { ...base, status: 1 },
    'doi-phieu-chuoi': { ...base, allow_change: 'yes' },
    'khong-ma': { ...base, id: undefined },
  };
  for (const [id, def] of Object.entries(cases)) {
    await storeDef(id, { id, ...def }); // an undefined field is left out of the JSON
    await assertEveryRouteDamaged(id, id);
  }
  await storeDef('khong-phai-json', '{"id":"khong-phai-json","question":');
  await assertEveryRouteDamaged('khong-phai-json', 'not JSON');
  await storeDef('mang-json', '[1,2,3]');
  await assertEveryRouteDamaged('mang-json', 'a JSON array');
  await storeDef('chuoi-json', '"a string"');
  await assertEveryRouteDamaged('chuoi-json', 'a JSON string');
  await storeDef('khong-utf8', Buffer.concat([Buffer.from('{"id":"khong-utf8","question":"C'), Buffer.from([0xe2, 0x28, 0xa1]),
    Buffer.from(`","options":${JSON.stringify(opts)},"max_choices":1,"status":"open"}`)]));
  await assertEveryRouteDamaged('khong-utf8', 'invalid UTF-8');
  // The definition key holds a hash: GET would be a WRONGTYPE error, a 503 forever.
  await redis.cli('HSET', key('kieu-bang-bam', 'def'), 'question', 'Q?');
  await redis.cli('SADD', 'thamdo:polls', 'kieu-bang-bam');
  await assertEveryRouteDamaged('kieu-bang-bam', 'a hash at the definition key');
});

test('the lists leave a damaged poll out (and log it) and still list the others, with real dates', async () => {
  const pub = await request(url, 'GET', '/api/v1/polls?status=all&limit=100', { headers: at });
  assert.equal(pub.status, 200, pub.text);
  const ids = pub.json.polls.map((p) => p.id).sort();
  assert.deepEqual(ids, ['co-dinh', 'con-tot', 'doi-phieu'], 'only the sound polls');
  assert.equal(pub.json.total, 3);
  for (const p of pub.json.polls) {
    for (const t of [p.opens_at, p.closes_at]) assert.ok(t === null || /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(t), `a real date: ${t}`);
  }
  const adm = await request(url, 'GET', '/admin/v1/polls', { headers: AUTH });
  assert.equal(adm.status, 200, adm.text);
  assert.deepEqual(adm.json.polls.map((p) => p.id).sort(), ['co-dinh', 'con-tot', 'doi-phieu']);
  assert.ok(svc.stderr().includes('poll gio-qua-lon: the data stored in redis is damaged (a time is not Unix seconds from 1970 to 9999); left out of the list'),
    svc.stderr().slice(-3000));
  assert.ok(svc.stderr().includes('poll kieu-bang-bam: the data stored in redis is damaged (the definition is not a string); left out of the list'));
});

test('a tally key of the wrong type: the vote is 500 poll_damaged, the reader is NOT recorded, and it counts once the key is repaired', async () => {
  for (const [suffix, breakIt] of [
    ['counts', (k) => redis.cli('SET', k, 'x')],
    ['hours', (k) => redis.cli('RPUSH', k, 'x')],
    ['stats', (k) => redis.cli('SADD', k, 'x')],
    ['voters', (k) => redis.cli('SET', k, 'x')], // the voters hash of the older layout
    ['meta', (k) => redis.cli('SET', k, 'x')],
  ]) {
    const id = `hong-${suffix}`;
    await storeDef(id, { id, ...base, created_at: 1, version: 1 });
    await breakIt(key(id, suffix));
    const v = new Voter(url);
    assertError(await v.vote(id, ['a'], { headers: at }), 500, 'poll_damaged');
    assert.ok(v.cookie, 'the reader got a cookie with the answer');
    if (suffix === 'voters' || suffix === 'meta') assert.equal(await redis.cli('TYPE', key(id, suffix)), 'string', `the ${suffix} key untouched`);
    assert.deepEqual(await recorded(id), { voters: 0, buckets: 0 }, `${suffix}: the reader was not recorded as voted`);
    for (const other of ['counts', 'hours', 'stats', 'voters'].filter((s) => s !== suffix)) {
      assert.equal(await redis.cli('EXISTS', key(id, other)), '0', `${suffix}: nothing written to ${other}`);
    }
    await redis.cli('DEL', key(id, suffix)); // repaired
    const ok = await v.vote(id, ['a'], { headers: at });
    assert.equal(ok.status, 201, `${suffix} repaired: ${ok.text}`);
    assert.equal(ok.json.results.total, 1);
    assert.equal((await v.get(id, { headers: at })).json.voted, true);
    assert.deepEqual(await recorded(id), { voters: 1, buckets: 1 }, `${suffix} repaired: one reader recorded`);
  }
});

test('the voter\'s bucket of the wrong type: view and vote answer poll_damaged, nothing is written; repaired, it counts', async () => {
  const id = 'hong-ngan';
  await storeDef(id, { id, ...base, created_at: 1, version: 1 });
  const v = new Voter(url);
  assert.equal((await v.get(id, { headers: at })).status, 200, 'the reader gets a cookie (and the poll its meta hash)');
  await onBucket(id, v, "return redis.call('SET', KEY, 'x')");
  assertError(await v.vote(id, ['a'], { headers: at }), 500, 'poll_damaged');
  // The poll itself is sound: this reader, who has no ballot, still sees it (from the cache); only
  // a ballot, which would be written to the damaged bucket, is refused.
  const seen = await v.get(id, { headers: at });
  assert.equal(seen.status, 200, seen.text);
  assert.equal(seen.json.voted, false);
  assert.equal(await onBucket(id, v, "return redis.call('TYPE', KEY).ok"), 'string', 'the bucket untouched');
  for (const other of ['counts', 'hours', 'stats']) assert.equal(await redis.cli('EXISTS', key(id, other)), '0', `nothing written to ${other}`);
  assert.equal(await redis.cli('HGET', key(id, 'meta'), 'voters'), '0');
  assert.equal(await redis.cli('HGET', key(id, 'meta'), 'seq'), '0');
  const fresh = new Voter(url); // another bucket (almost surely): unaffected
  await fresh.get(id, { headers: at });
  if (voterHex(fresh).slice(0, 4) !== voterHex(v).slice(0, 4)) assert.equal((await fresh.vote(id, ['b'], { headers: at })).status, 201);
  await onBucket(id, v, "return redis.call('DEL', KEY)");
  const ok = await v.vote(id, ['a'], { headers: at });
  assert.equal(ok.status, 201, ok.text);
  assert.equal((await v.get(id, { headers: at })).json.voted, true);
});

test('a count that is not a number: the vote that would increment it records nothing; repaired, it counts', async () => {
  // A tally field.
  await redis.cli('HSET', key('con-tot', 'counts'), 'a', 'abc');
  const v = new Voter(url);
  assertError(await v.vote('con-tot', ['a'], { headers: at }), 500, 'poll_damaged');
  assert.deepEqual(await recorded('con-tot'), { voters: 0, buckets: 0 }, 'not recorded');
  assert.equal(await redis.cli('HGET', key('con-tot', 'hours'), `${HOUR}:a`), '', 'no series written');
  await redis.cli('HSET', key('con-tot', 'counts'), 'a', '0');
  assert.equal((await v.vote('con-tot', ['a'], { headers: at })).status, 201);
  // A series field of this hour.
  await redis.cli('HSET', key('con-tot', 'hours'), `${HOUR}:b`, '1.5');
  const w = new Voter(url);
  assertError(await w.vote('con-tot', ['b'], { headers: at }), 500, 'poll_damaged');
  assert.equal((await recorded('con-tot')).voters, 1, 'only the first reader');
  assert.equal(await redis.cli('HGET', key('con-tot', 'counts'), 'b'), '', 'no tally written');
  await redis.cli('HSET', key('con-tot', 'hours'), `${HOUR}:b`, '0');
  assert.equal((await w.vote('con-tot', ['b'], { headers: at })).status, 201);
  // The duplicates counter of a reader who votes again.
  await redis.cli('HSET', key('con-tot', 'stats'), 'duplicates', 'many');
  assertError(await w.vote('con-tot', ['a'], { headers: at }), 500, 'poll_damaged');
  await redis.cli('HDEL', key('con-tot', 'stats'), 'duplicates');
  assertError(await w.vote('con-tot', ['a'], { headers: at }), 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  const res = await request(url, 'GET', '/api/v1/polls/con-tot/results', { headers: at });
  assert.deepEqual(res.json.options.map((o) => o.votes), [1, 1]);
});

test('changing a vote when the old hour\'s series is damaged: nothing moves; repaired, the change goes through', async () => {
  const v = new Voter(url);
  assert.equal((await v.vote('doi-phieu', ['a'], { headers: at })).status, 201);
  await redis.cli('HSET', key('doi-phieu', 'hours'), `${HOUR}:a`, 'x');
  assertError(await v.vote('doi-phieu', ['b'], { headers: { 'x-thamdo-test-now': '2030-05-01T12:00:00+07:00' } }), 500, 'poll_damaged');
  const g = await v.get('doi-phieu', { headers: at });
  assert.deepEqual(g.json.choice, ['a'], 'the old ballot stays');
  assert.deepEqual(g.json.results.options.map((o) => o.votes), [1, 0], 'the tallies did not move');
  await redis.cli('HSET', key('doi-phieu', 'hours'), `${HOUR}:a`, '1');
  const changed = await v.vote('doi-phieu', ['b'], { headers: { 'x-thamdo-test-now': '2030-05-01T12:00:00+07:00' } });
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.json.changed, true);
  assert.deepEqual(changed.json.results.options.map((o) => o.votes), [0, 1]);
});

test('a damaged stored ballot (no "|", no time, an unknown option) is "already voted", never a 503', async () => {
  // One reader per poll, so that the voters hash holds exactly their ballot.
  // Values of the older layout ("unix|a,b") are not ballots of a bucket either; nor is an
  // unknown code, or an hour too long.
  for (const [i, ballot] of ['tin-tuc', '|a', 'abc|a', '1|a,,b', '1|zz', '12345678901234567890|a', '', 'ale4?', 'zzzzzzzzzzzA', 'ale4'].entries()) {
    for (const poll of ['doi-phieu', 'co-dinh']) {
      const id = `${poll}-${i}`;
      await storeDef(id, { id, ...base, allow_change: poll === 'doi-phieu', created_at: 1, version: 1 });
      const v = new Voter(url);
      assert.equal((await v.vote(id, ['a'], { headers: at })).status, 201);
      // Overwrite the one ballot of the poll (the reader's field in their bucket).
      await onBucket(id, v, "return redis.call('HSET', KEY, FIELD, X)", ballot);
      const what = `${id} with ballot ${JSON.stringify(ballot)}`;
      const g = await v.get(id, { headers: at });
      assert.equal(g.status, 200, `${what}: ${g.text}`);
      assert.equal(g.json.voted, true, `${what}: the reader has voted`);
      const again = await v.vote(id, ['b'], { headers: at });
      assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
      assert.deepEqual(again.json.results.options.map((o) => o.votes), [1, 0], `${what}: the tallies did not move`);
      const page = await v.req('GET', `/embed/polls/${id}`, { headers: at });
      assert.equal(page.status, 200, `${what}: embed page`);
      const post = await v.req('POST', `/embed/polls/${id}`, { form: 'option=b', headers: at });
      assert.equal(post.headers.get('location'), `/embed/polls/${id}?msg=already_voted`, what);
    }
  }
  assert.ok(svc.stderr().includes('a stored ballot is damaged; its reader counts as having voted'));
});

test('the set of poll ids of the wrong type: the lists and a creation answer poll_damaged, nothing is written; repaired, all works', async () => {
  const members = (await redis.cli('SMEMBERS', 'thamdo:polls')).split('\n');
  await redis.cli('DEL', 'thamdo:polls');
  await redis.cli('SET', 'thamdo:polls', 'x');
  assertError(await request(url, 'GET', '/api/v1/polls'), 500, 'poll_damaged');
  assertError(await request(url, 'GET', '/admin/v1/polls', { headers: AUTH }), 500, 'poll_damaged');
  const create = await request(url, 'POST', '/admin/v1/polls', {
    headers: AUTH, json: { id: 'moi-tao', question: 'Mới?', options: opts },
  });
  assertError(create, 500, 'poll_damaged');
  assert.equal(await redis.cli('EXISTS', key('moi-tao', 'def')), '0', 'the poll was not written');
  await redis.cli('DEL', 'thamdo:polls');
  await redis.cli('SADD', 'thamdo:polls', ...members);
  const again = await request(url, 'POST', '/admin/v1/polls', {
    headers: AUTH, json: { id: 'moi-tao', question: 'Mới?', options: opts },
  });
  assert.equal(again.status, 201, again.text);
  const list = await request(url, 'GET', '/api/v1/polls?limit=100');
  assert.equal(list.status, 200);
  assert.ok(list.json.polls.some((p) => p.id === 'moi-tao'));
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
