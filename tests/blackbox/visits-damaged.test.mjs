// The visitor counter over damaged Redis data: a visit script that meets a damaged key refuses the
// whole call before its first write, so a reader is never marked as seen (session marker, online,
// distinct readers) without the view being counted; once the key is repaired, the same reader's
// next view within the session is counted. Real redis-server, real thamdo, test clock.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request, redisCli, Voter } from './lib/harness.mjs';

const BROWSER = 'Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36';
// Each damage: a key of the day 2026-07-10 (site dmg-N) and how it is damaged.
const DAMAGES = [
  { key: (s) => `thamdo:{site:${s}}:total`, damage: ['SET', 'not-a-number'], what: 'all-time counter not a number' },
  { key: (s) => `thamdo:{site:${s}}:month:2026-07`, damage: ['HSET', 'x', '1'], what: 'month counter of the wrong type' },
  { key: (s) => `thamdo:{site:${s}}:readers:2026-07-10`, damage: ['SET', 'garbage'], what: "day's distinct readers not a HyperLogLog" },
  { key: (s) => `thamdo:{site:${s}}:hist:visits`, damage: ['SET', '1'], what: 'per-day history of the wrong type' },
];
const SITES = [...DAMAGES.map((_, i) => `dmg-${i}`), 'dmg-marker'];

let redis;
let svc;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    polls: [],
    env: { THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true', THAMDO_TIMEZONE: 'Asia/Ho_Chi_Minh', THAMDO_SITES: SITES.join(',') },
  });
});

const at = (hms) => ({ 'x-thamdo-test-now': `2026-07-10T${hms}+07:00`, 'user-agent': BROWSER });

async function total(site, hms) {
  const r = await request(svc.url, 'GET', `/api/v1/visits?site=${site}`, { headers: at(hms) });
  assert.equal(r.status, 200, r.text);
  return r.json.today;
}

for (const [i, d] of DAMAGES.entries()) {
  test(`visit over a damaged key (${d.what}): refused whole, then counted once the key is repaired`, async () => {
    const site = SITES[i];
    const first = new Voter(svc.url);
    const r0 = await first.req('POST', `/api/v1/visits?site=${site}`, { headers: at('10:00:00') });
    assert.equal(r0.status, 200, r0.text);
    const key = d.key(site);
    await redisCli(redis.port, 'DEL', key);
    const [cmd, ...args] = d.damage;
    await redisCli(redis.port, cmd, key, ...args);

    const reader = new Voter(svc.url);
    const r1 = await reader.req('POST', `/api/v1/visits?site=${site}`, { headers: at('10:01:00') });
    assert.ok(r1.status >= 500, `a view over damaged data is not acknowledged: ${r1.status} ${r1.text}`);
    assert.ok(svc.alive(), 'the service is still running');
    const sessions = (await redisCli(redis.port, '--scan', '--pattern', `thamdo:{site:${site}}:sess:*`)).split('\n').filter(Boolean);
    // The first reader came without a cookie: its cookie-less id's marker, and its new cookie's.
    assert.equal(sessions.length, 2, `only the first reader's session markers exist: ${sessions}`);

    // Repaired (the key removed): the refused reader's next view, in the same session, is counted.
    await redisCli(redis.port, 'DEL', key);
    assert.ok(reader.cookie, 'the refused view still gave the reader an id (sent on every answer)');
    const r2 = await reader.req('POST', `/api/v1/visits?site=${site}`, { headers: at('10:02:00') });
    assert.equal(r2.status, 200, r2.text);
    const day = Number(await redisCli(redis.port, 'GET', `thamdo:{site:${site}}:day:2026-07-10`));
    assert.equal(day, 2, `both readers' visits are in today's counter (${day})`);
    if (!d.key(site).endsWith(':total')) assert.equal(await total(site, '10:03:00'), 2, 'the counter shows both');
  });
}

test('a damaged session marker refuses the view whole, and its key, which names the reader, is never logged', async () => {
  const site = 'dmg-marker';
  const reader = new Voter(svc.url);
  assert.equal((await reader.req('POST', `/api/v1/visits?site=${site}`, { headers: at('10:00:00') })).status, 200);
  // The marker of the reader's cookie (its first view, without one, marked its cookie-less id too).
  const mine = Buffer.from(reader.cookie.split('.')[1], 'base64url').toString('hex');
  const markers = (await redisCli(redis.port, '--scan', '--pattern', `thamdo:{site:${site}}:sess:*`)).split('\n').filter(Boolean);
  const marker = markers.find((k) => k.endsWith(`:sess:${mine}`));
  assert.ok(marker, `the reader has a session marker: ${markers}`);
  await redisCli(redis.port, 'DEL', marker);
  await redisCli(redis.port, 'HSET', marker, 'x', '1');
  const r = await reader.req('POST', `/api/v1/visits?site=${site}`, { headers: at('10:45:00') });
  assert.ok(r.status >= 500, `refused: ${r.status} ${r.text}`);
  const day = `thamdo:{site:${site}}:day:2026-07-10`;
  assert.equal(Number(await redisCli(redis.port, 'GET', day)), 1, 'nothing counted');
  await redisCli(redis.port, 'DEL', marker);
  assert.equal((await reader.req('POST', `/api/v1/visits?site=${site}`, { headers: at('10:46:00') })).status, 200);
  assert.equal(Number(await redisCli(redis.port, 'GET', day)), 2, 'the new session is counted once repaired');
  const id = marker.split(':sess:')[1];
  assert.ok(!svc.stderr().includes(id), 'the reader\'s marker key is not in the log');
  assert.ok(!svc.stderr().includes(':sess:'), 'no session marker key is in the log');
});
