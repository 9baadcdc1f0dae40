// Privacy: what the service keeps about readers, and for how long.
//
// Voter retention (THAMDO_VOTER_RETENTION_DAYS, 30 by default): polls are closed through the
// admin API with the test clock (THAMDO_MODE=test THAMDO_TEST_CLOCK=true, X-Thamdo-Test-Now) 31
// and 29 days in the past, or given a closes_at that long ago; a second instance started on the
// same Redis sweeps at its start (by the real clock) and forgets the voters of the polls closed
// longer than the retention, and only theirs. Redis is read with a small binary-safe RESP client
// (voter bucket keys end in two raw bytes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, request, Voter, rfc3339, sleep,
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
  // One log line per poll forgotten (the log is buffered per worker: bounded wait).
  for (let i = 0; i < 100 && !/poll ret-old: closed more than 30 day/.test(sweeper.stderr()); i++) await sleep(50);
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
