// Admin API, the audit log: THAMDO_ADMIN_TOKENS entries "name:token" name the actor, an unnamed
// token is "token-<n>" (its position among all tokens); every editor's change (create, change,
// close, reopen, archive, restore, reset, counter bases) becomes one entry {seq, at, actor, action,
// target, request_id} in GET /admin/v1/audit (newest first, paged with before=) and one log line
// (event audit); reads make none; no token reaches the log, the entries or Redis; the list is capped
// at 10,000 entries; bad names and duplicate names stop the start; bad limit/before are 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, request, assertError, assertJsonHeaders, sleep,
} from './lib/harness.mjs';

const NAMED = 'toa-soan:named-token-4d1e8b27c9f3a605';
const NAMED_TOKEN = 'named-token-4d1e8b27c9f3a605';
const PLAIN_TOKEN = 'plain-token-7a2c5e9f0b3d8146';
const SITE = 'cong-audit';

let redis;
let svc;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    env: { THAMDO_ADMIN_TOKENS: `${NAMED}, ${PLAIN_TOKEN}`, THAMDO_SITES: SITE },
  });
});

after(async () => {
  if (svc && svc.alive()) await svc.stop();
});

function as(token, method, urlPath, opts = {}) {
  const { headers = {}, ...rest } = opts;
  return request(svc.url, method, urlPath, { ...rest, headers: { Authorization: `Bearer ${token}`, ...headers } });
}

async function audit(query = '') {
  const r = await as(NAMED_TOKEN, 'GET', `/admin/v1/audit${query}`);
  assert.equal(r.status, 200, r.text);
  assertJsonHeaders(r, 'audit');
  return r.json;
}

test('every change is one entry naming the token, the action, the target and the request id; reads add none', async () => {
  const start = (await audit()).entries.length;
  const steps = [
    [NAMED_TOKEN, 'POST', '/admin/v1/polls', { json: makePoll('nhat-ky') }, 201, 'toa-soan', 'poll.create', 'nhat-ky'],
    [PLAIN_TOKEN, 'PATCH', '/admin/v1/polls/nhat-ky', { json: { question: 'Câu hỏi đã sửa?' } }, 200, 'token-2', 'poll.update', 'nhat-ky'],
    [PLAIN_TOKEN, 'POST', '/admin/v1/polls/nhat-ky/close', {}, 200, 'token-2', 'poll.close', 'nhat-ky'],
    [NAMED_TOKEN, 'POST', '/admin/v1/polls/nhat-ky/reopen', {}, 200, 'toa-soan', 'poll.reopen', 'nhat-ky'],
    [NAMED_TOKEN, 'DELETE', '/admin/v1/polls/nhat-ky', {}, 200, 'toa-soan', 'poll.archive', 'nhat-ky'],
    [NAMED_TOKEN, 'POST', '/admin/v1/polls/nhat-ky/restore', {}, 200, 'toa-soan', 'poll.restore', 'nhat-ky'],
    [PLAIN_TOKEN, 'POST', '/admin/v1/polls/nhat-ky/reset', { json: { confirm: 'nhat-ky' } }, 200, 'token-2', 'poll.reset', 'nhat-ky'],
    [NAMED_TOKEN, 'PUT', `/admin/v1/visits/base?site=${SITE}`, { json: { total: 1777782 } }, 200, 'toa-soan', 'visits.base', SITE],
  ];
  let i = 0;
  for (const [token, method, p, opts, status] of steps) {
    const r = await as(token, method, p, { ...opts, headers: { 'X-Request-Id': `audit-step-${i++}` } });
    assert.equal(r.status, status, `${method} ${p}: ${r.text}`);
    // Reads and refused changes are not editors' actions.
    assert.equal((await as(token, 'GET', '/admin/v1/polls/nhat-ky')).status, 200);
  }
  assertError(await as(NAMED_TOKEN, 'POST', '/admin/v1/polls', { json: makePoll('nhat-ky') }), 409, 'poll_exists');
  assertError(await as(NAMED_TOKEN, 'POST', '/admin/v1/polls/nhat-ky/reset', { json: { confirm: 'khac' } }), 400, 'confirmation_required');

  const { entries, next_before: next } = await audit();
  assert.equal(next, null);
  assert.equal(entries.length, start + steps.length, JSON.stringify(entries));
  const mine = entries.slice(0, steps.length).reverse(); // oldest first, like the steps
  mine.forEach((e, k) => {
    const [, , , , , actor, action, target] = steps[k];
    assert.deepEqual(Object.keys(e).sort(), ['action', 'actor', 'at', 'request_id', 'seq', 'target']);
    assert.deepEqual([e.actor, e.action, e.target, e.request_id], [actor, action, target, `audit-step-${k}`], JSON.stringify(e));
    assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/);
    if (k > 0) assert.equal(e.seq, mine[k - 1].seq + 1, 'numbered one by one');
  });

  // The log has one "audit" line per change, with the actor's name; no token anywhere. The
  // service writes each line before it answers, but its stderr pipe may reach this process after
  // the answer's socket: wait (bounded) for the last step's line.
  const last = steps[steps.length - 1];
  for (let k = 0; k < 100 && !svc.stderr().includes(`editor ${last[5]}: ${last[6]} ${last[7]}`); k++) await sleep(50);
  const lines = svc.stderr().split('\n').filter((l) => / audit /.test(l) || /"event":"audit"/.test(l) || /editor (toa-soan|token-2): /.test(l));
  for (const [, , , , , actor, action, target] of steps) {
    assert.ok(lines.some((l) => l.includes(`editor ${actor}: ${action} ${target}`)), `log line for ${action}:\n${lines.join('\n')}`);
  }
  for (const secret of [NAMED_TOKEN, PLAIN_TOKEN]) {
    assert.ok(!svc.stderr().includes(secret), 'a token in the log');
    assert.ok(!JSON.stringify(entries).includes(secret), 'a token in the audit log');
    assert.ok(!(await redis.cli('LRANGE', 'thamdo:audit', '0', '-1')).includes(secret), 'a token in Redis');
  }
});

test('paging: limit and before walk the log back to the first entry; bad values are 400 invalid_parameter', async () => {
  for (let k = 0; k < 5; k++) {
    const r = await as(NAMED_TOKEN, 'POST', '/admin/v1/polls', { json: makePoll(`trang-${k}`) });
    assert.equal(r.status, 201, r.text);
  }
  const all = (await audit('?limit=500')).entries;
  const seen = [];
  let page = await audit('?limit=2');
  for (let guard = 0; guard < 100; guard++) {
    assert.ok(page.entries.length <= 2);
    seen.push(...page.entries);
    if (page.next_before === null) break;
    assert.equal(page.next_before, page.entries[page.entries.length - 1].seq);
    page = await audit(`?limit=2&before=${page.next_before}`);
  }
  assert.deepEqual(seen.map((e) => e.seq), all.map((e) => e.seq));
  assert.equal(all[all.length - 1].seq, 1);
  assert.deepEqual((await audit('?before=1')).entries, []);
  for (const q of ['limit=0', 'limit=501', 'limit=x', 'before=0', 'before=-3', 'before=1e3', 'before=x']) {
    assertError(await as(NAMED_TOKEN, 'GET', `/admin/v1/audit?${q}`), 400, 'invalid_parameter');
  }
  assertError(await request(svc.url, 'GET', '/admin/v1/audit'), 401, 'unauthorized');
});

test('the log keeps the newest 10,000 entries', async () => {
  // 10,000 older entries written the way the service writes them, numbered below the newest.
  const top = (await audit('?limit=1')).entries[0].seq;
  await redis.cli('EVAL', `
    local top = tonumber(ARGV[1])
    redis.call('DEL', KEYS[1])
    for i = 1, 10000 do
      redis.call('RPUSH', KEYS[1], '{"seq":' .. (top - i + 1) .. ',"at":"2026-01-01T00:00:00+07:00","actor":"old","action":"poll.update","target":"cu","request_id":"r' .. i .. '"}')
    end`, '1', 'thamdo:audit', String(top + 9999));
  const r = await as(PLAIN_TOKEN, 'POST', '/admin/v1/polls', { json: makePoll('gioi-han') });
  assert.equal(r.status, 201);
  assert.equal(await redis.cli('LLEN', 'thamdo:audit'), '10000');
  const newest = (await audit('?limit=1')).entries[0];
  assert.deepEqual([newest.seq, newest.actor, newest.action, newest.target], [top + 10000, 'token-2', 'poll.create', 'gioi-han']);
  const oldest = await redis.cli('LINDEX', 'thamdo:audit', '-1');
  assert.match(oldest, /"request_id":"r9999"/, 'the oldest entry went');
});

test('token names: 1 to 32 of [A-Za-z0-9_.-] before the first colon; a bad or repeated name stops the start', async () => {
  for (const tokens of [
    ':no-name-token-0123456789', 'bad name:token-0123456789abcdef', 'tên:token-0123456789abcdef',
    `${'n'.repeat(33)}:token-0123456789abcdef`, 'a:short', 'same:token-0123456789abcdef,same:token-9876543210fedcba',
  ]) {
    const r = await runThamdo({ env: thamdoEnv({ redis, env: { THAMDO_ADMIN_TOKENS: tokens } }) });
    assert.equal(r.code, 2, `${tokens}: ${r.stderr}`);
    assert.match(r.stderr, /THAMDO_ADMIN_TOKENS/);
    for (const part of tokens.split(/[,:]/).filter((p) => p.length >= 16)) assert.ok(!r.stderr.includes(part), 'a token in the error');
  }
});
