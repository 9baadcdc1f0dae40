// Rate limits and proof of work (THAMDO_RATE_LIMITS=on): per address bucket, poll and window, the
// first THAMDO_RATE_FREE first ballots count freely, the next ones need a solved challenge whose
// difficulty rises with the bucket's rate, past THAMDO_RATE_MAX nothing counts (429 rate_limited);
// the address is the socket's unless the peer is a trusted proxy; nothing of an address is kept in
// Redis. The "done when": a scripted voter that clears its cookie and rotates
// X-Forwarded-For gets at most 60 of 300 votes counted, while 100 readers at distinct addresses
// behind a trusted proxy all count.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import {
  startRedis, startThamdo, runThamdo, makePoll, Voter, request, assertError, redisCli, REDIS_CLI,
} from './lib/harness.mjs';

const BASE_BITS = 4; // a quick test: the challenges of a real service start at 14 bits
const polls = [
  'robot', 'truong-hoc', 'thu-thach', 'dung-lai', 'khong-js', 'hai-may', 'tat', 'doi-phieu', 'trung-lap',
].map((id) => makePoll(id, { options: ['mot', 'hai'], allow_change: id === 'doi-phieu' }));

let redis;
let direct; // limits on, no trusted proxy: X-Forwarded-For is never read
let proxied; // limits on, 127.0.0.1 is a trusted proxy
let small; // limits on, FREE 2, MAX 3: the no-JS page
let second; // another instance on the same Redis (limits on)
let off; // THAMDO_RATE_LIMITS=off (the harness default)
const addressesUsed = new Set(['127.0.0.1']);

const limitsOn = (extra = {}) => ({
  THAMDO_RATE_LIMITS: 'on', THAMDO_POW_DIFFICULTY: String(BASE_BITS), ...extra,
});

before(async () => {
  redis = await startRedis();
  [direct, proxied, small, second, off] = await Promise.all([
    startThamdo({ redis, polls, env: limitsOn() }),
    startThamdo({ redis, polls, env: limitsOn({ THAMDO_TRUSTED_PROXIES: '127.0.0.1, ::1' }) }),
    startThamdo({ redis, polls, env: limitsOn({ THAMDO_RATE_FREE: '2', THAMDO_RATE_MAX: '3' }) }),
    startThamdo({ redis, polls, env: limitsOn() }),
    startThamdo({ redis, polls }),
  ]);
});

const zeroBits = (digest) => {
  let n = 0;
  for (const byte of digest) {
    if (byte === 0) { n += 8; continue; }
    n += Math.clz32(byte) - 24;
    break;
  }
  return n;
};

/** The X-Thamdo-Proof value of a challenge: the smallest answer from 0 (the widget's search). */
function solve(challenge) {
  for (let i = 0; ; i++) {
    const digest = crypto.createHash('sha256').update(`${challenge.token}:${i}`).digest();
    if (zeroBits(digest) >= challenge.difficulty) return `${challenge.token}:${i}`;
  }
}

/** The contract's difficulty for the n-th first ballot of a window. */
const required = (n, free = 20) => Math.min(BASE_BITS + (n > free ? Math.floor(2 * Math.log2(n / free) + 1e-9) : 0), 24);

const vote = (svc, poll, headers = {}, voter = new Voter(svc.url)) => voter.vote(poll, ['mot'], { headers });
const total = async (svc, poll) => {
  const r = await request(svc.url, 'GET', `/api/v1/polls/${poll}/results`, { headers: { 'x-thamdo-test': '1' } });
  return r.json.total;
};
const counts = async (poll) => Number(await redisCli(redis.port, 'HGET', `thamdo:{poll:${poll}}:meta`, 'voters'));

test('a scripted voter that clears its cookie and rotates X-Forwarded-For gets at most 60 of 300 votes counted, even solving every challenge', async () => {
  let counted = 0, challenged = 0, limited = 0, requests = 0;
  const difficulties = [];
  for (let i = 0; i < 300; i++) {
    const xff = `203.0.113.${i % 250 + 1}`;
    addressesUsed.add(xff);
    const v = new Voter(direct.url); // a fresh cookie jar each time
    let r = await vote(direct, 'robot', { 'x-forwarded-for': xff, 'x-real-ip': xff, 'client-ip': xff });
    requests++;
    if (r.status === 429 && r.json.error.code === 'challenge_required') {
      challenged++;
      assert.equal(r.headers.get('retry-after'), '0');
      difficulties.push({ n: counted + 1, difficulty: r.json.challenge.difficulty });
      r = await vote(direct, 'robot', { 'x-forwarded-for': xff, 'x-thamdo-proof': solve(r.json.challenge) }, v);
      requests++;
    }
    if (r.status === 201) counted++;
    else {
      assertError(r, 429, 'rate_limited');
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 600, `Retry-After ${wait}`);
      limited++;
    }
  }
  console.log(`# scripted voter, one address, rotating X-Forwarded-For and its cookie: ${counted} of 300 votes counted `
    + `(${challenged} challenges solved, ${limited} refused rate_limited, ${requests} requests)`);
  assert.ok(counted <= 60, `${counted} counted`);
  assert.equal(counted, 60); // 20 free, 40 with a proof each, then the hard limit
  assert.equal(await counts('robot'), 60);
  // The first challenge comes with the 21st first ballot; the difficulty rises with the rate.
  assert.equal(difficulties[0].n, 21);
  for (const { n, difficulty } of difficulties) assert.equal(difficulty, required(n), `n=${n}`);
  assert.deepEqual([...new Set(difficulties.map((d) => d.difficulty))], [BASE_BITS, BASE_BITS + 1, BASE_BITS + 2, BASE_BITS + 3]);

  // The editors' integrity counters of the hour, and one bucket (hashed) with its 60 first ballots.
  const integrity = (await redisCli(redis.port, 'HGETALL', 'thamdo:{poll:robot}:integrity')).split('\n');
  const kinds = {};
  for (let i = 0; i < integrity.length; i += 2) kinds[integrity[i].split(':')[1]] = Number(integrity[i + 1]);
  assert.deepEqual(kinds, { ballots: 60, challenged: 40, solved: 40, limited: 240 });
  const buckets = (await redisCli(redis.port, 'ZRANGE', 'thamdo:{poll:robot}:buckets', '0', '-1', 'WITHSCORES')).split('\n');
  assert.equal(buckets.length, 2);
  assert.match(buckets[0], /^[0-9a-f]{16}$/);
  assert.equal(buckets[1], '60');
});

test('100 readers at distinct addresses behind a trusted proxy all count', async () => {
  let counted = 0;
  for (let i = 0; i < 100; i++) {
    const address = `198.51.100.${i + 1}`;
    addressesUsed.add(address);
    // The proxy appends the address it saw; what the reader claimed to its left is not read.
    const r = await vote(proxied, 'truong-hoc', { 'x-forwarded-for': `10.${i}.0.1, ${address}` });
    assert.equal(r.status, 201, r.text);
    counted++;
  }
  console.log(`# 100 readers behind a trusted proxy (peer 127.0.0.1 in THAMDO_TRUSTED_PROXIES): ${counted} of 100 counted`);
  assert.equal(await counts('truong-hoc'), 100);
  assert.equal(await redisCli(redis.port, 'ZCARD', 'thamdo:{poll:truong-hoc}:buckets'), '100');
  // Forwarded (RFC 7239) wins over X-Forwarded-For; the same reader address is one bucket.
  for (let i = 0; i < 21; i++) {
    const r = await vote(proxied, 'truong-hoc', { forwarded: 'for="[2001:db8:cafe:1::17]:4711";proto=https', 'x-forwarded-for': `192.0.2.${i + 1}` });
    if (i < 20) assert.equal(r.status, 201, r.text);
    else assertError(r, 429, 'challenge_required', { extraKeys: ['challenge'] });
  }
  // Another address of the same IPv6 /64 is the same bucket.
  const r = await vote(proxied, 'truong-hoc', { forwarded: 'for="[2001:db8:cafe:1::99]"' });
  assertError(r, 429, 'challenge_required', { extraKeys: ['challenge'] });
});

test('a challenge: 429 challenge_required, solved once it counts, reused / forged / for another poll / unsolved it gets a fresh challenge', async () => {
  for (let i = 0; i < 20; i++) assert.equal((await vote(second, 'thu-thach')).status, 201);
  const r = await vote(second, 'thu-thach');
  assertError(r, 429, 'challenge_required', { extraKeys: ['challenge'] });
  const { challenge } = r.json;
  assert.equal(challenge.difficulty, BASE_BITS);
  assert.ok(challenge.expires_at > Date.now() / 1000 + 100 && challenge.expires_at <= Date.now() / 1000 + 121);
  const proof = solve(challenge);
  const before = await counts('thu-thach');

  const [token, answer] = [proof.slice(0, proof.lastIndexOf(':')), proof.slice(proof.lastIndexOf(':') + 1)];
  const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
  const unsolved = (() => {
    for (let i = 0; ; i++) {
      if (zeroBits(crypto.createHash('sha256').update(`${token}:${i}`).digest()) < BASE_BITS) return `${token}:${i}`;
    }
  })();
  for (const [what, header] of [['forged', `${forged}:${answer}`], ['unsolved', unsolved], ['malformed', 'p1.x:1']]) {
    const bad = await vote(second, 'thu-thach', { 'x-thamdo-proof': header });
    assertError(bad, 429, 'challenge_required', { extraKeys: ['challenge'] });
    assert.notEqual(bad.json.challenge.token, token, what);
  }
  // A proof names its poll: with another poll's vote it is refused, even within the free ballots.
  const elsewhere = await vote(second, 'dung-lai', { 'x-thamdo-proof': proof });
  assertError(elsewhere, 429, 'challenge_required', { extraKeys: ['challenge'] });
  assert.equal(await counts('thu-thach'), before);

  const ok = await vote(second, 'thu-thach', { 'x-thamdo-proof': proof });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(await counts('thu-thach'), before + 1);
  // Single use: the same proof with another reader's vote (on any instance) is a fresh challenge.
  for (const svc of [second, direct]) {
    const again = await vote(svc, 'thu-thach', { 'x-thamdo-proof': proof });
    assertError(again, 429, 'challenge_required', { extraKeys: ['challenge'] });
  }
  assert.equal(await counts('thu-thach'), before + 1);
  const mark = await redisCli(redis.port, 'KEYS', 'thamdo:{poll:thu-thach}:pow:*');
  assert.match(mark, /^thamdo:\{poll:thu-thach\}:pow:[0-9a-f]{32}$/);
  const ttl = Number(await redisCli(redis.port, 'TTL', mark));
  assert.ok(ttl > 0 && ttl <= 120, `the mark lives until the challenge expires (${ttl})`);
});

test('a proof easier than the difficulty now required less 2 is refused: the rate rose while it was kept', async () => {
  for (let i = 0; i < 20; i++) assert.equal((await vote(second, 'dung-lai')).status, 201);
  const early = await vote(second, 'dung-lai');
  assert.equal(early.json.challenge.difficulty, BASE_BITS);
  const kept = solve(early.json.challenge);
  for (let n = 21; n <= 56; n++) { // n=57 requires BASE_BITS + 3
    const r = await vote(second, 'dung-lai');
    assert.equal(r.json.challenge.difficulty, required(n));
    assert.equal((await vote(second, 'dung-lai', { 'x-thamdo-proof': solve(r.json.challenge) })).status, 201);
  }
  const tooEasy = await vote(second, 'dung-lai', { 'x-thamdo-proof': kept });
  assertError(tooEasy, 429, 'challenge_required', { extraKeys: ['challenge'] });
  assert.equal(tooEasy.json.challenge.difficulty, BASE_BITS + 3);
  assert.equal(await counts('dung-lai'), 56);
});

test('the no-JS page gets the limits alone: past THAMDO_RATE_FREE a 429 page (Vietnamese, English) with Retry-After, nothing counted', async () => {
  const post = (lang = '') => request(small.url, 'POST', `/embed/polls/khong-js${lang}`, {
    form: 'option=mot', headers: { origin: small.url },
  });
  for (let i = 0; i < 2; i++) {
    const r = await post();
    assert.equal(r.status, 303, r.text);
    assert.match(r.headers.get('location'), /msg=voted/);
  }
  const vi = await post();
  assert.equal(vi.status, 429);
  assert.match(vi.headers.get('content-type'), /^text\/html/);
  const wait = Number(vi.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= 600, `Retry-After ${wait}`);
  assert.match(vi.text, /Có quá nhiều phiếu bình chọn gửi từ mạng của bạn/);
  assert.match(vi.text, /JavaScript/);
  const en = await post('?lang=en');
  assert.equal(en.status, 429);
  assert.match(en.text, /Too many votes came from your network/);
  assert.equal(await counts('khong-js'), 2);
});

test('a changed ballot needs no proof; the integrity counters: first ballots, challenges, duplicates', async () => {
  const first = new Voter(small.url);
  assert.equal((await first.vote('doi-phieu', ['mot'])).status, 201);
  assert.equal((await new Voter(small.url).vote('doi-phieu', ['mot'])).status, 201);
  assertError(await new Voter(small.url).vote('doi-phieu', ['mot']), 429, 'challenge_required', { extraKeys: ['challenge'] });
  const changed = await first.vote('doi-phieu', ['hai']);
  assert.equal(changed.status, 200, changed.text);
  const limited = await new Voter(small.url).vote('doi-phieu', ['mot'], { headers: { 'x-thamdo-proof': 'p1.x:1' } });
  assertError(limited, 429, 'challenge_required', { extraKeys: ['challenge'] });
  const integrity = async (poll) => {
    const flat = (await redisCli(redis.port, 'HGETALL', `thamdo:{poll:${poll}}:integrity`)).split('\n');
    const kinds = {};
    for (let i = 0; i < flat.length; i += 2) {
      assert.match(flat[i], /^\d+:[a-z]+$/);
      kinds[flat[i].split(':')[1]] = Number(flat[i + 1]);
    }
    return kinds;
  };
  assert.deepEqual(await integrity('doi-phieu'), { ballots: 2, challenged: 2 });
  // A duplicate is refused (409) and counted as dup.
  const again = new Voter(small.url);
  assert.equal((await again.vote('trung-lap', ['mot'])).status, 201);
  assertError(await again.vote('trung-lap', ['hai']), 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(await integrity('trung-lap'), { ballots: 1, dup: 1 });
});

test('every instance hashes an address to the same bucket (the day\'s salt is shared in Redis, 32 bytes, 48 hours)', async () => {
  assert.equal((await vote(direct, 'hai-may')).status, 201);
  assert.equal((await vote(second, 'hai-may')).status, 201);
  const buckets = (await redisCli(redis.port, 'ZRANGE', 'thamdo:{poll:hai-may}:buckets', '0', '-1', 'WITHSCORES')).split('\n');
  assert.equal(buckets.length, 2, buckets.join(' '));
  assert.equal(buckets[1], '2');
  const salts = (await redisCli(redis.port, 'KEYS', 'thamdo:salt:*')).split('\n');
  assert.equal(salts.length, 1, salts.join(' '));
  assert.match(salts[0], /^thamdo:salt:\d{4}-\d{2}-\d{2}$/);
  assert.equal(await redisCli(redis.port, 'STRLEN', salts[0]), '32');
  const ttl = Number(await redisCli(redis.port, 'TTL', salts[0]));
  assert.ok(ttl > 172000 && ttl <= 172800, `TTL ${ttl}`);
});

test('THAMDO_RATE_LIMITS=off: every vote of one address counts, no bucket is kept', async () => {
  for (let i = 0; i < 30; i++) assert.equal((await vote(off, 'tat')).status, 201);
  assert.equal(await counts('tat'), 30);
  assert.equal(await redisCli(redis.port, 'EXISTS', 'thamdo:{poll:tat}:buckets'), '0');
  assert.equal(await redisCli(redis.port, 'KEYS', 'thamdo:{poll:tat}:rl:*'), '');
});

test('GET /metrics counts the refusals and the proofs', async () => {
  const r = await request(direct.url, 'GET', '/metrics');
  assert.equal(r.status, 200);
  const value = (line) => Number((r.text.match(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm')) || [])[1]);
  assert.ok(value('thamdo_votes_refused_total{reason="rate_limited"}') >= 240, r.text);
  assert.ok(value('thamdo_votes_refused_total{reason="challenge_required"}') >= 40);
  assert.ok(value('thamdo_pow_proofs_total{result="accepted"}') >= 40);
  assert.ok(value('thamdo_pow_proofs_total{result="refused"}') >= 1);
});

test('bad settings stop the start with one line naming them', async () => {
  for (const [env, expect] of [
    [{ THAMDO_TRUSTED_PROXIES: '10.0.0.0/33' }, /^thamdo: THAMDO_TRUSTED_PROXIES: a prefix length must be 0 to 32/m],
    [{ THAMDO_TRUSTED_PROXIES: 'proxy.example.vn' }, /^thamdo: THAMDO_TRUSTED_PROXIES: expected addresses or CIDR ranges/m],
    [{ THAMDO_RATE_LIMITS: 'yes' }, /^thamdo: THAMDO_RATE_LIMITS: expected on or off$/m],
    [{ THAMDO_RATE_FREE: '30', THAMDO_RATE_MAX: '20' }, /^thamdo: THAMDO_RATE_MAX: must be at least THAMDO_RATE_FREE \(30\)$/m],
    [{ THAMDO_POW_DIFFICULTY: '25' }, /^thamdo: THAMDO_POW_DIFFICULTY: expected a whole number from 1 to 24$/m],
    [{ THAMDO_RATE_WINDOW_SECONDS: '5' }, /^thamdo: THAMDO_RATE_WINDOW_SECONDS: expected a whole number from 10 to 86400$/m],
  ]) {
    const r = await runThamdo({ env: { THAMDO_DATA_DIR: '/nonexistent', ...env } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, expect);
  }
});

/** Every key of Redis and everything in it (strings, hash fields and values, set, zset and list
 * members), as raw bytes, read with SCAN. */
function dumpRedis(port) {
  const script = `local out, cursor = {}, '0'
repeat
  local r = redis.call('SCAN', cursor, 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    out[#out + 1] = k
    local t = redis.call('TYPE', k).ok
    local items = {}
    if t == 'string' then items = {redis.call('GET', k)}
    elseif t == 'hash' then items = redis.call('HGETALL', k)
    elseif t == 'set' then items = redis.call('SMEMBERS', k)
    elseif t == 'zset' then items = redis.call('ZRANGE', k, 0, -1)
    elseif t == 'list' then items = redis.call('LRANGE', k, 0, -1) end
    for _, v in ipairs(items) do out[#out + 1] = v end
  end
until cursor == '0'
return out`;
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), '--raw', 'EVAL', script, '0'],
      { timeout: 10000, encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

test('SCAN: no address used by these tests is in Redis, as text or as its 4 bytes', async () => {
  const dump = await dumpRedis(redis.port);
  assert.ok(dump.length > 1000, 'the dump holds the polls');
  assert.ok(dump.includes('thamdo:{poll:robot}:buckets'));
  const found = [];
  for (const a of addressesUsed) {
    const bytes = Buffer.from(a.split('.').map(Number));
    if (dump.includes(a) || dump.includes(bytes)) found.push(a);
  }
  for (const a of ['2001:db8:cafe:1::17', '2001:db8:cafe:1::99']) if (dump.includes(a)) found.push(a);
  console.log(`# SCAN of ${dump.length} bytes of Redis: ${addressesUsed.size} IPv4 addresses looked for, ${found.length} found`);
  assert.deepEqual(found, []);
});
