// Privacy: what the service keeps about readers, and for how long.
//
// Voter retention (THAMDO_VOTER_RETENTION_DAYS, 30 by default): polls are closed through the
// admin API with the test clock (THAMDO_MODE=test THAMDO_TEST_CLOCK=true, X-Thamdo-Test-Now) 31
// and 29 days in the past, or given a closes_at that long ago; a second instance started on the
// same Redis sweeps at its start (by the real clock) and forgets the voters of the polls closed
// longer than the retention, and only theirs.
//
// Readers without cookies (visitor counter, session mode): known by a daily-salted hash of address
// bucket, User-Agent and site; the three cases of the counter: a tool that never keeps cookies is
// one visit per session; a first-time reader whose next page carries the new cookie is one visit;
// 30 pupils behind one address with one browser count as 30 once their second page carries their
// own cookie. Addresses come from X-Forwarded-For behind a trusted proxy (the test's 127.0.0.1 in
// THAMDO_TRUSTED_PROXIES).
//
// No raw address stored or logged: after votes (rate limits on), visits and editors' actions from
// many addresses, every key of Redis and everything in it (strings, hash fields and values, set,
// zset and list members) is read: none of the addresses appears, as text or as its raw bytes, and
// neither does the service's log. Redis is read with a small binary-safe RESP client (voter bucket
// keys end in two raw bytes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, request, Voter, rfc3339, sleep, COOKIE_NAME,
} from './lib/harness.mjs';

const TOKEN = 'privacy-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const DAY = 86400 * 1000;
const NOW = Date.now();
const TEST_ENV = { THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true', THAMDO_ADMIN_TOKENS: TOKEN };

/** One RESP connection: send(...args) answers the decoded reply (bulk strings as Buffers). */
async function resp(port) {
  const sock = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  let buf = Buffer.alloc(0);
  const waiting = [];
  // One reply from buf at offset i: [value, next offset], or null when incomplete.
  const parse = (i) => {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return null;
    const kind = String.fromCharCode(buf[i]);
    const line = buf.toString('latin1', i + 1, eol);
    if (kind === '+') return [line, eol + 2];
    if (kind === '-') return [new Error(line), eol + 2];
    if (kind === ':') return [Number(line), eol + 2];
    if (kind === '$') {
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      if (buf.length < eol + 2 + n + 2) return null;
      return [buf.subarray(eol + 2, eol + 2 + n), eol + 2 + n + 2];
    }
    if (kind === '*') {
      const n = Number(line);
      const out = [];
      let at = eol + 2;
      for (let k = 0; k < n; k++) {
        const r = parse(at);
        if (!r) return null;
        out.push(r[0]);
        at = r[1];
      }
      return [n < 0 ? null : out, at];
    }
    throw new Error(`RESP: unexpected reply type ${kind}`);
  };
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const r = waiting.length ? parse(0) : null;
      if (!r) break;
      buf = buf.subarray(r[1]);
      waiting.shift()(r[0]);
    }
  });
  return {
    send(...args) {
      const parts = [Buffer.from(`*${args.length}\r\n`)];
      for (const a of args) {
        const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
        parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`RESP ${args[0]}: no reply in 5 s`)), 5000);
        waiting.push((v) => { clearTimeout(timer); if (v instanceof Error) reject(v); else resolve(v); });
        sock.write(Buffer.concat(parts));
      });
    },
    /** Every key matching pattern (SCAN, never KEYS), as Buffers. */
    async scan(pattern = '*') {
      const keys = [];
      let cursor = '0';
      do {
        const [next, batch] = await this.send('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next.toString();
        keys.push(...batch);
      } while (cursor !== '0');
      return keys;
    },
    close() { sock.destroy(); },
  };
}

/** The meta hash of a poll as an object of strings. */
async function meta(db, id) {
  const flat = await db.send('HGETALL', `thamdo:{poll:${id}}:meta`);
  const out = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i].toString()] = flat[i + 1].toString();
  return out;
}

const at = (ms) => ({ 'x-thamdo-test-now': rfc3339(ms) });

// ------------------------------------------------------------------ voter retention
let redis;
let db;
before(async () => {
  redis = await startRedis();
  db = await resp(redis.port);
});
after(async () => {
  db?.close();
  await redis?.stop();
});

test('THAMDO_VOTER_RETENTION_DAYS: a value that is not 0..36500 days stops the start, naming it', async () => {
  for (const bad of ['-1', '36501', 'thirty']) {
    const r = await runThamdo({ env: thamdoEnv({ redis, env: { THAMDO_VOTER_RETENTION_DAYS: bad } }) });
    assert.equal(r.code, 2, `${JSON.stringify(bad)}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /THAMDO_VOTER_RETENTION_DAYS/, bad);
  }
});

test('voters of a poll closed longer than the retention are forgotten at the next sweep; results, statistics and younger polls stay', async () => {
  const svc = await startThamdo({ redis, env: TEST_ENV });
  const make = async (id, over, when) => {
    const r = await request(svc.url, 'POST', '/admin/v1/polls', {
      headers: { ...AUTH, ...at(when) }, json: { ...makePoll(id, over), status: 'open' },
    });
    assert.equal(r.status, 201, `${id}: ${r.text}`);
  };
  const voters = {};
  const voteAll = async (id, when) => {
    voters[id] = [];
    for (const option of ['opt-a', 'opt-a', 'opt-b']) {
      const v = new Voter(svc.url);
      const r = await v.vote(id, [option], { headers: at(when) });
      assert.equal(r.status, 201, `${id}: ${r.text}`);
      voters[id].push(v);
    }
  };
  const close = async (id, when) => {
    const r = await request(svc.url, 'POST', `/admin/v1/polls/${id}/close`, { headers: { ...AUTH, ...at(when) } });
    assert.equal(r.status, 200, `${id}: ${r.text}`);
  };
  // closed by an editor 31 and 29 days ago; closed by closes_at 31 and 29 days ago; still open
  await make('ret-old', {}, NOW - 40 * DAY);
  await voteAll('ret-old', NOW - 35 * DAY);
  await close('ret-old', NOW - 31 * DAY);
  await make('ret-young', {}, NOW - 40 * DAY);
  await voteAll('ret-young', NOW - 35 * DAY);
  await close('ret-young', NOW - 29 * DAY);
  const closesOld = Math.floor((NOW - 31 * DAY) / 1000);
  const closesYoung = Math.floor((NOW - 29 * DAY) / 1000);
  await make('ret-time', { closes_at: rfc3339(closesOld * 1000) }, NOW - 40 * DAY);
  await voteAll('ret-time', NOW - 35 * DAY);
  await make('ret-time-young', { closes_at: rfc3339(closesYoung * 1000) }, NOW - 40 * DAY);
  await voteAll('ret-time-young', NOW - 35 * DAY);
  await make('ret-open', {}, NOW - 40 * DAY);
  await voteAll('ret-open', NOW - 35 * DAY);

  // The meta records when an editor closed a poll (the write's time); a poll closed by its
  // closes_at alone has no write at that moment: the sweep records it.
  assert.equal((await meta(db, 'ret-old')).closed_at, String(Math.floor((NOW - 31 * DAY) / 1000)));
  assert.equal((await meta(db, 'ret-young')).closed_at, String(Math.floor((NOW - 29 * DAY) / 1000)));
  assert.equal((await meta(db, 'ret-open')).closed_at, undefined);

  // What the vote script of the rate limits keeps beside the voters (the buckets that cast first
  // ballots, their counters) and the older layout's voters hash, put there by hand; the
  // integrity counters stay.
  const tag = '{poll:ret-old}';
  await db.send('ZADD', `thamdo:${tag}:buckets`, 3, '0123456789abcdef');
  await db.send('SET', `thamdo:${tag}:rl:0123456789abcdef`, '3', 'EX', 600);
  await db.send('HSET', `thamdo:${tag}:integrity`, '480000:ballots', 3);
  await db.send('HSET', `thamdo:${tag}:voters`, 'x'.repeat(16), '1700000000|opt-a');
  const resultsBefore = {};
  for (const id of ['ret-old', 'ret-time']) {
    const r = await request(svc.url, 'GET', `/admin/v1/polls/${id}/results`, { headers: AUTH });
    assert.equal(r.status, 200, r.text);
    resultsBefore[id] = r.json;
  }
  const voterKeys = async (id) => (await db.scan(`thamdo:{poll:${id}}:v:*`)).length;
  for (const id of Object.keys(voters)) assert.equal(await voterKeys(id), 3, `${id}: three voters stored`);

  // A second instance sweeps at its start.
  const sweeper = await startThamdo({ redis, env: { ...TEST_ENV, THAMDO_VOTER_RETENTION_DAYS: '30' } });
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    const [a, b] = [await meta(db, 'ret-old'), await meta(db, 'ret-time')];
    if (a.voters_forgotten_at && b.voters_forgotten_at && (await meta(db, 'ret-time-young')).closed_at) break;
    await sleep(50);
  }
  for (const id of ['ret-old', 'ret-time']) {
    const m = await meta(db, id);
    assert.match(m.voters_forgotten_at || '', /^\d+$/, `${id}: voters_forgotten_at`);
    assert.ok(Math.abs(Number(m.voters_forgotten_at) * 1000 - Date.now()) < 60000, `${id}: forgotten now`);
    assert.equal(m.voters, '3', `${id}: the count of voters stays`);
    assert.equal(await voterKeys(id), 0, `${id}: no voter key left`);
  }
  assert.equal((await meta(db, 'ret-time')).closed_at, String(closesOld), 'closed_at = closes_at');
  assert.equal((await meta(db, 'ret-time-young')).closed_at, String(closesYoung));
  for (const id of ['ret-young', 'ret-time-young', 'ret-open']) {
    assert.equal((await meta(db, id)).voters_forgotten_at, undefined, id);
    assert.equal(await voterKeys(id), 3, `${id}: voters kept`);
  }
  assert.equal(await db.send('EXISTS', `thamdo:${tag}:buckets`), 0, 'buckets zset deleted');
  assert.equal(await db.send('EXISTS', `thamdo:${tag}:rl:0123456789abcdef`), 0, 'rate-limit key deleted');
  assert.equal(await db.send('EXISTS', `thamdo:${tag}:voters`), 0, 'older voters hash deleted');
  assert.equal((await db.send('HGET', `thamdo:${tag}:integrity`, '480000:ballots')).toString(), '3', 'integrity kept');
  // One log line per poll forgotten; the service's stderr pipe may be read after Redis showed the
  // sweep's work: a bounded wait for both lines.
  const logged = () => ['ret-old', 'ret-time'].every((id) => sweeper.stderr().includes(`poll ${id}: closed more than 30 day`));
  for (let i = 0; i < 100 && !logged(); i++) await sleep(50);
  assert.match(sweeper.stderr(), /poll ret-old: closed more than 30 day\(s\) ago, its voter ids are deleted/);
  assert.match(sweeper.stderr(), /poll ret-time: closed more than 30 day/);
  assert.doesNotMatch(sweeper.stderr(), /poll ret-(young|open|time-young): closed more/);

  // Results and statistics as before; a reader who voted is now a reader who did not, and a
  // vote of theirs is refused as on any closed poll (403 poll_closed, not counted).
  for (const id of ['ret-old', 'ret-time']) {
    const r = await request(svc.url, 'GET', `/admin/v1/polls/${id}/results`, { headers: AUTH });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, resultsBefore[id], `${id}: admin results unchanged`);
    const v = voters[id][0];
    const seen = await v.get(id);
    assert.equal(seen.status, 200, seen.text);
    assert.equal(seen.json.voted, false, `${id}: the reader's ballot is forgotten`);
    assert.equal(seen.json.choice, null);
    assert.equal(seen.json.results.total, 3);
    const again = await v.vote(id, ['opt-b']);
    assert.equal(again.status, 403, again.text);
    assert.equal(again.json.error.code, 'poll_closed');
  }
  const kept = await voters['ret-young'][0].get('ret-young');
  assert.equal(kept.json.voted, true, 'a poll closed 29 days ago still knows its voters');
  assert.deepEqual(kept.json.choice, ['opt-a']);

  // Reopened, a poll keeps the record that its voters were forgotten, and loses closed_at.
  const reopened = await request(svc.url, 'POST', '/admin/v1/polls/ret-old/reopen', { headers: AUTH });
  assert.equal(reopened.status, 200, reopened.text);
  const m = await meta(db, 'ret-old');
  assert.match(m.voters_forgotten_at, /^\d+$/);
  assert.equal(m.closed_at, undefined);

  await sweeper.stop();
  await svc.stop();
});

// ------------------------------------------------------------------ readers without cookies
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const PROXY_ENV = { ...TEST_ENV, THAMDO_TRUSTED_PROXIES: '127.0.0.1/32', THAMDO_SITES: 'tool,first,school,other' };
const DAYTIME = '2026-11-20T09:00:00+07:00';
const t = (mm, ss = '00') => ({ 'x-thamdo-test-now': `2026-11-20T09:${mm}:${ss}+07:00` });

/** A view of site at minute mm from address ip (behind the trusted proxy); voter: its cookie. */
async function visit(svc, site, ip, mm, voter, ua = BROWSER) {
  const opts = { headers: { 'user-agent': ua, 'x-forwarded-for': ip, ...t(mm) } };
  const p = `/api/v1/visits?site=${site}`;
  const r = voter ? await voter.req('POST', p, opts) : await request(svc.url, 'POST', p, opts);
  assert.equal(r.status, 200, r.text);
  return r;
}
const today = async (svc, site, mm) => (await request(svc.url, 'GET', `/api/v1/visits?site=${site}`, { headers: t(mm, '30') })).json;

test('readers without cookies: a tool is one visit per session, a first-time reader one, 30 pupils behind one address 30 once each second page carries their own cookie', async () => {
  const svc = await startThamdo({ redis, env: PROXY_ENV });

  // A tool that never keeps cookies: ten views in ten minutes are one visit; each answer still
  // sets a cookie (thrown away), and only two session markers exist (its cookie-less id's, and
  // the first cookie's), not one per view.
  const ids = new Set();
  for (let m = 0; m < 10; m++) {
    const r = await visit(svc, 'tool', '198.51.100.10', `0${m}`);
    const c = r.setCookies.find((x) => x.name === COOKIE_NAME);
    assert.ok(c, `view ${m}: a cookie is set`);
    ids.add(c.value);
    assert.equal(r.json.today, 1, `view ${m}: ${r.text}`);
  }
  assert.equal(ids.size, 10, 'a new cookie every time (the tool sends none back)');
  assert.equal((await db.scan('thamdo:{site:tool}:sess:*')).length, 2, 'two session markers');
  const tool = await today(svc, 'tool', '10');
  assert.deepEqual([tool.today, tool.total], [1, 1], JSON.stringify(tool));
  // Another address with the same browser is another reader.
  assert.equal((await visit(svc, 'tool', '198.51.100.11', '11')).json.today, 2);
  // The same address with another browser too.
  assert.equal((await visit(svc, 'tool', '198.51.100.10', '12', null, `${BROWSER} Edg/131.0.0.0`)).json.today, 3);

  // A first-time reader: the first page without a cookie, the next ones with the cookie it got.
  const reader = new Voter(svc.url);
  assert.equal((await visit(svc, 'first', '203.0.113.20', '00', reader)).json.today, 1);
  assert.ok(reader.cookie, 'the first page set the cookie');
  for (const m of ['01', '05', '20']) {
    const r = await visit(svc, 'first', '203.0.113.20', m, reader);
    assert.equal(r.issued, null, 'the cookie is kept');
    assert.equal(r.json.today, 1, `page at 09:${m}: the same visit`);
  }
  assert.equal((await today(svc, 'first', '21')).today, 1);

  // 30 pupils of one classroom: one address, one browser. Their first pages, without cookies, are
  // one cookie-less reader: one visit; each gets a cookie of its own.
  const pupils = Array.from({ length: 30 }, () => new Voter(svc.url));
  for (const p of pupils) await visit(svc, 'school', '192.0.2.30', '00', p);
  assert.equal(new Set(pupils.map((p) => p.cookie)).size, 30, 'thirty cookies');
  assert.equal((await today(svc, 'school', '01')).today, 1, 'first pages: one visit so far');
  // Their second pages carry their own cookies: each pupil is a visit of their own (the first
  // pupil's cookie was marked as the same session as the cookie-less id, so it stays one).
  for (const p of pupils) await visit(svc, 'school', '192.0.2.30', '02', p);
  const school = await today(svc, 'school', '03');
  assert.deepEqual([school.today, school.total], [30, 30], JSON.stringify(school));
  for (const p of pupils) await visit(svc, 'school', '192.0.2.30', '04', p);
  assert.equal((await today(svc, 'school', '05')).today, 30, 'third pages: the same visits');
  const h = await request(svc.url, 'GET', '/admin/v1/visits?site=school&from=2026-11-20&to=2026-11-21',
    { headers: { ...AUTH, ...t('06') } });
  assert.equal(h.status, 200, h.text);
  assert.deepEqual(h.json.days, [{ date: '2026-11-20', visits: 30, visitors: 30, bots: 0 }]);
  await svc.stop();
});

test('no raw address in Redis or in the log after votes, visits and editors\' actions from many addresses behind a trusted proxy', async () => {
  const svc = await startThamdo({ redis, env: { ...PROXY_ENV, THAMDO_RATE_LIMITS: 'on', THAMDO_LOG_LEVEL: 'debug' } });
  const v4 = Array.from({ length: 60 }, (_, i) => `${[198, 203, 192][i % 3]}.${[51, 0, 0][i % 3]}.${[100, 113, 2][i % 3]}.${101 + i}`);
  const v6 = ['2001:db8:85a3::8a2e:370:7334', '2001:db8:1234:5678:9abc:def0:1234:5678'];
  const created = await request(svc.url, 'POST', '/admin/v1/polls', {
    headers: { ...AUTH, 'x-forwarded-for': v4[0] }, json: makePoll('priv-scan'),
  });
  assert.equal(created.status, 201, created.text);
  for (const [i, ip] of [...v4, ...v6].entries()) {
    const v = new Voter(svc.url);
    const headers = { 'user-agent': BROWSER, 'x-forwarded-for': `${ip}, 127.0.0.1` };
    // a view of the poll, a vote, a visit, a second page with the cookie, a ping
    assert.equal((await v.get('priv-scan', { headers })).status, 200);
    const voted = await v.vote('priv-scan', [['opt-a', 'opt-b', 'opt-c'][i % 3]], { headers });
    assert.equal(voted.status, 201, voted.text);
    assert.equal((await v.req('POST', '/api/v1/visits?site=other', { headers })).status, 200);
    assert.equal((await v.req('POST', '/api/v1/visits?site=other', { headers })).status, 200);
    assert.equal((await v.req('POST', '/api/v1/visits?site=other', { headers, json: { ping: true } })).status, 200);
    // Forwarded (RFC 7239) as well, for every fourth
    if (i % 4 === 0) {
      const fwd = ip.includes(':') ? `for="[${ip}]"` : `for=${ip}`;
      assert.equal((await request(svc.url, 'POST', '/api/v1/visits?site=other',
        { headers: { 'user-agent': BROWSER, forwarded: fwd } })).status, 200);
    }
  }
  for (const [i, ip] of v4.slice(0, 5).entries()) {
    const headers = { ...AUTH, 'x-forwarded-for': ip };
    const r = await request(svc.url, 'PATCH', '/admin/v1/polls/priv-scan', { headers, json: { question: `Câu hỏi ${i}?` } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await request(svc.url, 'GET', '/admin/v1/polls/priv-scan/results', { headers })).status, 200);
    assert.equal((await request(svc.url, 'PUT', '/admin/v1/visits/base?site=other', { headers, json: { total: 100 + i } })).status, 200);
  }
  assert.equal((await request(svc.url, 'POST', '/admin/v1/polls/priv-scan/close', { headers: { ...AUTH, 'x-forwarded-for': v4[1] } })).status, 200);
  await sleep(100);

  // Every key, and everything it holds, as bytes.
  const blobs = [];
  let keys = 0;
  for (const key of await db.scan('*')) {
    keys++;
    blobs.push(key);
    const type = (await db.send('TYPE', key)).toString();
    const flat = (v) => (Array.isArray(v) ? v.flatMap(flat) : v === null || v === undefined ? [] : [Buffer.isBuffer(v) ? v : Buffer.from(String(v))]);
    if (type === 'string') blobs.push(...flat(await db.send('GET', key)));
    else if (type === 'hash') blobs.push(...flat(await db.send('HGETALL', key)));
    else if (type === 'set') blobs.push(...flat(await db.send('SMEMBERS', key)));
    else if (type === 'zset') blobs.push(...flat(await db.send('ZRANGE', key, 0, -1, 'WITHSCORES')));
    else if (type === 'list') blobs.push(...flat(await db.send('LRANGE', key, 0, -1)));
    else assert.fail(`a key of type ${type}: not read by this test`);
  }
  assert.ok(keys > 50, `${keys} keys read`);
  const log = svc.stderr() + svc.stdout();
  const raw = (ip) => (ip.includes(':') ? Buffer.from(expand6(ip), 'hex') : Buffer.from(ip.split('.').map(Number)));
  for (const ip of [...v4, ...v6]) {
    const [text, bytes] = [Buffer.from(ip), raw(ip)];
    assert.ok(!blobs.some((b) => b.includes(text)), `${ip} as text in Redis`);
    assert.ok(!blobs.some((b) => b.includes(bytes)), `${ip} as raw bytes in Redis`);
    assert.ok(!log.includes(ip), `${ip} in the log`);
  }
  assert.ok(!log.includes(expand6(v6[0]).slice(0, 16)), 'no IPv6 prefix (hex) in the log');
  await svc.stop();
});

/** The 32 hex digits of an IPv6 address. */
function expand6(ip) {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  return groups.map((g) => g.padStart(4, '0')).join('');
}
