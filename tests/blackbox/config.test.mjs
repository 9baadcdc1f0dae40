// Configuration: bad values exit 2 with one stderr line naming the variable (or flag); invalid
// polls files; --help / --version; flags override env; cookie / body / key-prefix / secret-file
// options; polls file formats and "never overwriting" import; embedded mode (own redis-server
// on a unix socket in the data dir, AOF + generated secret survive a restart, child reaped).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, writePollsFile, request, Voter,
  assertError, assertResults, assertNoSanitizer, tmpDir, sleep, redisCli,
  SECRET, COOKIE_RE, COOKIE_NAME,
} from './lib/harness.mjs';

const ENV_VARS = [
  'THAMDO_LISTEN', 'THAMDO_REDIS_URL', 'THAMDO_DATA_DIR', 'THAMDO_SECRET', 'THAMDO_SECRET_FILE', 'THAMDO_SECRET_PREVIOUS', 'THAMDO_SECRET_PREVIOUS_FILE',
  'THAMDO_POLLS_FILE', 'THAMDO_KEY_PREFIX', 'THAMDO_REDIS_TIMEOUT_MS', 'THAMDO_COOKIE_NAME',
  'THAMDO_COOKIE_SAMESITE', 'THAMDO_COOKIE_SECURE', 'THAMDO_COOKIE_PARTITIONED', 'THAMDO_COOKIE_MAX_AGE',
  'THAMDO_MAX_BODY', 'THAMDO_LOG_LEVEL', 'THAMDO_ADMIN_LISTEN',
];

let redis;
let pollsFile;
const cfgPoll = makePoll('cfg', { options: ['tin-tuc', 'the-thao'] });

before(async () => {
  redis = await startRedis();
  pollsFile = writePollsFile([cfgPoll]);
});

const baseEnv = (env = {}) => thamdoEnv({ redis, pollsFile, env });

/** Asserts exit 2 and exactly one stderr line `thamdo: <name>: <reason>`. */
function assertConfigError(r, name, what) {
  const ctx = `${what}: code=${r.code} signal=${r.signal} stderr=${JSON.stringify(r.stderr)}`;
  assert.equal(r.timedOut, false, `${ctx} (did not exit; it probably started)`);
  assert.equal(r.code, 2, ctx);
  assertNoSanitizer(r.stderr + r.stdout, what);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `exactly one stderr line expected; ${ctx}`);
  const prefix = `thamdo: ${name}: `;
  assert.ok(lines[0].startsWith(prefix), `line must start with "${prefix}"; ${ctx}`);
  assert.ok(lines[0].length > prefix.length, `reason missing; ${ctx}`);
  return lines[0];
}

const badEnv = [
  ['THAMDO_LISTEN', 'nonsense'],
  ['THAMDO_LISTEN', '127.0.0.1:70000'],
  ['THAMDO_REDIS_URL', 'http://x'],
  ['THAMDO_REDIS_URL', 'redis://127.0.0.1:notaport'],
  ['THAMDO_SECRET', 'short'],
  ['THAMDO_SECRET', 'x'.repeat(31)],
  ['THAMDO_REDIS_TIMEOUT_MS', 'abc'],
  ['THAMDO_REDIS_TIMEOUT_MS', '49'],
  ['THAMDO_REDIS_TIMEOUT_MS', '60001'],
  ['THAMDO_REDIS_TIMEOUT_MS', '500ms'],
  ['THAMDO_COOKIE_SAMESITE', 'Weird'],
  ['THAMDO_COOKIE_MAX_AGE', 'abc'],
  ['THAMDO_MAX_BODY', 'abc'],
  ['THAMDO_MAX_BODY', '-1'],
  ['THAMDO_LOG_LEVEL', 'verbose'],
  ['THAMDO_COOKIE_SECURE', 'maybe'],
  ['THAMDO_POLLS_FILE', '/nonexistent/polls.json'],
  ['THAMDO_SECRET_FILE', '/nonexistent/secret'],
];

for (const [name, value] of badEnv) {
  test(`bad ${name}=${JSON.stringify(value)} → exit 2, one line naming ${name}`, async () => {
    const env = baseEnv({ [name]: value });
    if (name === 'THAMDO_SECRET_FILE') delete env.THAMDO_SECRET;
    const r = await runThamdo({ env });
    assertConfigError(r, name, `${name}=${value}`);
  });
}

test('bad flag value → exit 2, line names the flag', async () => {
  const r = await runThamdo({ env: baseEnv(), args: ['--listen', 'nonsense'] });
  assertConfigError(r, '--listen', '--listen nonsense');
  const r2 = await runThamdo({ env: baseEnv(), args: ['--redis-timeout-ms', 'abc'] });
  assertConfigError(r2, '--redis-timeout-ms', '--redis-timeout-ms abc');
});

// [what, poll, field the line must name]; the poll is named by its id or its index (polls[1])
const badPolls = [
  ['bad slug id', makePoll('Bad Id'), /\bid\b/],
  ['uppercase id', makePoll('BadId'), /\bid\b/],
  ['one option', makePoll('one-opt', { options: ['only'] }), /options/],
  ['bad option slug', makePoll('bad-opt', { options: ['ok', 'Not Ok'] }), /options/],
  ['max_choices > options', makePoll('too-many', { max_choices: 3, options: ['a', 'b'] }), /max_choices/],
  ['max_choices 0', makePoll('zero-max', { max_choices: 0 }), /max_choices/],
  ['opens_at after closes_at', makePoll('bad-window', { opens_at: '2030-01-02T00:00:00Z', closes_at: '2030-01-01T00:00:00Z' }), /opens_at|closes_at/],
  ['bad date', makePoll('bad-date', { closes_at: 'tomorrow' }), /closes_at/],
  ['empty question', makePoll('empty-q', { question: '' }), /question/],
  ['question over 500 characters', makePoll('long-q', { question: 'ứ'.repeat(501) }), /question/],
  ['unknown results_visibility', makePoll('bad-vis', { results_visibility: 'sometimes' }), /results_visibility/],
];

for (const [what, poll, field] of badPolls) {
  test(`polls file with an invalid poll (${what}) → exit 2, one line naming THAMDO_POLLS_FILE, the poll and the field`, async () => {
    const file = writePollsFile([makePoll('fine-poll'), poll]);
    const r = await runThamdo({ env: baseEnv({ THAMDO_POLLS_FILE: file }) });
    const line = assertConfigError(r, 'THAMDO_POLLS_FILE', what);
    assert.ok(line.includes(poll.id) || /\bpolls\[1\]|#1\b|\bindex 1\b/.test(line), `the line should name the poll: ${line}`);
    assert.match(line, field, `the line should name the field: ${line}`);
  });
}

test('polls file that is not JSON → exit 2 naming THAMDO_POLLS_FILE', async () => {
  const file = writePollsFile(null, { raw: '{"polls": [' });
  assertConfigError(await runThamdo({ env: baseEnv({ THAMDO_POLLS_FILE: file }) }), 'THAMDO_POLLS_FILE', 'truncated JSON');
});

test('--help exits 0 and mentions every environment variable', async () => {
  const r = await runThamdo({ args: ['--help'], env: {} });
  assert.equal(r.code, 0, r.stderr);
  const text = r.stdout + r.stderr;
  const missing = ENV_VARS.filter((v) => !text.includes(v));
  assert.deepEqual(missing, [], `--help output lacks: ${missing}\n${text}`);
  assertNoSanitizer(text);
});

test('--version prints "thamdo X.Y.Z" and exits 0', async () => {
  const r = await runThamdo({ args: ['--version'], env: {} });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /^thamdo \d+\.\d+\.\d+\s*$/m);
});

test('flags override env: --listen 127.0.0.1:0 with a bad THAMDO_LISTEN still starts', async () => {
  const t = await startThamdo({ rawEnv: baseEnv({ THAMDO_LISTEN: 'nonsense' }), args: ['--listen', '127.0.0.1:0'] });
  try {
    assert.equal(t.host, '127.0.0.1');
    const r = await request(t.url, 'GET', '/readyz');
    assert.equal(r.status, 200);
  } finally {
    await t.stop();
  }
});

test('flags override env: --secret with a bad THAMDO_SECRET still starts', async () => {
  const t = await startThamdo({ rawEnv: baseEnv({ THAMDO_SECRET: 'short' }), args: ['--secret', SECRET] });
  try {
    const r = await request(t.url, 'GET', '/readyz');
    assert.equal(r.status, 200);
  } finally {
    await t.stop();
  }
});

test('flags override env: --cookie-name wins over a valid THAMDO_COOKIE_NAME', async () => {
  const t = await startThamdo({ redis, pollsFile, env: { THAMDO_COOKIE_NAME: 'from_env' }, args: ['--cookie-name', 'from_flag'] });
  try {
    const g = await request(t.url, 'GET', '/api/v1/polls/cfg');
    assert.equal(g.status, 200, g.text);
    assert.deepEqual(g.setCookies.map((c) => c.name), ['from_flag', 'from_flag_voted']);
  } finally {
    await t.stop();
  }
});

test('a 32-byte secret is accepted (boundary)', async () => {
  const t = await startThamdo({ redis, pollsFile, secret: 'k'.repeat(32) });
  try {
    const g = await new Voter(t.url).get('cfg');
    assert.match(g.issued.value, COOKIE_RE);
  } finally {
    await t.stop();
  }
});

test('cookie options: name, SameSite=None implies Secure, Partitioned, Max-Age; Strict without Secure', async () => {
  let t = await startThamdo({
    redis, pollsFile,
    env: { THAMDO_COOKIE_NAME: 'vx', THAMDO_COOKIE_SAMESITE: 'None', THAMDO_COOKIE_PARTITIONED: 'true', THAMDO_COOKIE_MAX_AGE: '60' },
  });
  try {
    const v = new Voter(t.url, { cookieName: 'vx' });
    const g = await v.get('cfg');
    assert.equal(g.setCookies.filter((c) => c.name === COOKIE_NAME).length, 0, 'default name not used');
    assert.ok(g.issued, `cookie named vx issued: ${g.headers.get('set-cookie')}`);
    assert.match(g.issued.value, COOKIE_RE);
    assert.equal(g.issued.attrs.samesite, 'None', g.issued.raw);
    assert.equal(g.issued.attrs.secure, true, g.issued.raw);
    assert.equal(g.issued.attrs.partitioned, true, g.issued.raw);
    assert.equal(g.issued.attrs['max-age'], '60', g.issued.raw);
    assert.equal(g.issued.attrs.httponly, true, g.issued.raw);
    const again = await v.get('cfg');
    assert.equal(again.issuedCount, 0, 'custom-named cookie recognised');
  } finally {
    await t.stop();
  }
  t = await startThamdo({ redis, pollsFile, args: ['--cookie-samesite', 'Strict'] });
  try {
    const g = await new Voter(t.url).get('cfg');
    assert.equal(g.issued.attrs.samesite, 'Strict', g.issued.raw);
    assert.equal(g.issued.attrs.secure, undefined, g.issued.raw);
  } finally {
    await t.stop();
  }
});

test('THAMDO_MAX_BODY=300: 300 bytes accepted, 301 → 413', async () => {
  const p = makePoll('small-body', { options: ['x', 'y'] });
  const t = await startThamdo({ redis, polls: [p], env: { THAMDO_MAX_BODY: '300' } });
  try {
    const body = (n) => '{"options":["x"]}' + ' '.repeat(n - 17);
    assertError(await request(t.url, 'POST', '/api/v1/polls/small-body/votes', { json: body(301) }), 413, 'body_too_large');
    const ok = await request(t.url, 'POST', '/api/v1/polls/small-body/votes', { json: body(300) });
    assert.equal(ok.status, 201, ok.text);
  } finally {
    await t.stop();
  }
});

test('THAMDO_SECRET_FILE (trailing newline stripped) is interchangeable with THAMDO_SECRET', async () => {
  const dir = tmpDir('thamdo-secret-');
  const file = path.join(dir, 'secret');
  fs.writeFileSync(file, `${SECRET}\n`);
  const a = await startThamdo({ redis, pollsFile });
  const b = await startThamdo({ redis, pollsFile, secret: undefined, env: { THAMDO_SECRET: undefined, THAMDO_SECRET_FILE: file } });
  try {
    const v = new Voter(a.url);
    assert.equal((await v.vote('cfg', ['tin-tuc'])).status, 201);
    const g = await v.get('cfg', { base: b.url });
    assert.equal(g.issuedCount, 0, 'cookie signed with THAMDO_SECRET is valid with the same secret from a file');
    assert.equal(g.json.voted, true);
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('THAMDO_KEY_PREFIX: documented key layout under the prefix', async () => {
  const r2 = await startRedis();
  const p = makePoll('kp-poll', { options: ['opt-a', 'opt-b'] });
  const t = await startThamdo({ redis: r2, polls: [p], env: { THAMDO_KEY_PREFIX: 'kp1:' } });
  try {
    const v = new Voter(t.url);
    assert.equal((await v.vote('kp-poll', ['opt-b'])).status, 201);
    assert.equal(await redisCli(r2.port, 'smembers', 'kp1:polls'), 'kp-poll');
    const def = JSON.parse(await redisCli(r2.port, 'get', 'kp1:{poll:kp-poll}:def'));
    assert.equal(def.id, 'kp-poll');
    assert.equal(await redisCli(r2.port, 'hget', 'kp1:{poll:kp-poll}:counts', 'opt-b'), '1');
    assert.equal(await redisCli(r2.port, 'hget', 'kp1:{poll:kp-poll}:meta', 'voters'), '1');
    assert.equal(await redisCli(r2.port, 'eval', "return #redis.call('KEYS', ARGV[1])", '0', 'kp1:{poll:kp-poll}:v:*'), '1', 'one bucket of voters');
    assert.equal(await redisCli(r2.port, 'sismember', 'kp1:polls:listed', 'kp-poll'), '1');
    assert.equal(await redisCli(r2.port, 'keys', 'thamdo:*'), '', 'nothing under the default prefix');
  } finally {
    await t.stop();
    await r2.stop();
  }
});

test('polls file as a bare array; import never overwrites an existing poll', async () => {
  const r2 = await startRedis();
  const v1 = makePoll('keep-me', { question: 'First question?' });
  let t = await startThamdo({ redis: r2, pollsFile: writePollsFile([v1], { wrap: false }) });
  try {
    const g = await request(t.url, 'GET', '/api/v1/polls/keep-me');
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.question, 'First question?');
    assert.equal((await request(t.url, 'POST', '/api/v1/polls/keep-me/votes', { json: { options: ['opt-a'] } })).status, 201);
  } finally {
    await t.stop();
  }
  const v2 = makePoll('keep-me', { question: 'Second question?', options: ['x', 'y'] });
  const other = makePoll('new-one');
  t = await startThamdo({ redis: r2, polls: [v2, other] });
  try {
    const g = await request(t.url, 'GET', '/api/v1/polls/keep-me');
    assert.equal(g.json.question, 'First question?', 'existing poll not overwritten');
    assert.deepEqual(g.json.options.map((o) => o.id), ['opt-a', 'opt-b', 'opt-c']);
    assert.equal(g.json.results.total, 1, 'votes kept');
    assert.equal((await request(t.url, 'GET', '/api/v1/polls/new-one')).status, 200, 'new poll imported');
  } finally {
    await t.stop();
    await r2.stop();
  }
});

// ---------------------------------------------------------------- embedded mode

function findSockets(dir, depth = 0) {
  const out = [];
  if (depth > 3) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSocket()) out.push(p);
    else if (e.isDirectory()) out.push(...findSockets(p, depth + 1));
  }
  return out;
}

function childPids(ppid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) {
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
        out.push({ pid: Number(d), cmd });
      }
    } catch { /* raced with exit */ }
  }
  return out;
}

function pidIsRedis(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state === 'Z') return false;
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis');
  } catch { return false; }
}

function socketAccepts(p) {
  return new Promise((resolve) => {
    const s = net.connect(p);
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 1000);
    s.on('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.on('error', () => { clearTimeout(t); resolve(false); });
  });
}

async function assertEmbeddedGone(dataDir, sockets, redisKids) {
  const deadline = Date.now() + 3000;
  let alive = [];
  for (let i = 0; i < 60; i++) {
    alive = redisKids.filter((k) => pidIsRedis(k.pid)).map((k) => k.pid);
    const accepting = [];
    for (const s of sockets) if (await socketAccepts(s)) accepting.push(s);
    if (alive.length === 0 && accepting.length === 0) return;
    if (Date.now() > deadline) {
      assert.fail(`embedded redis survives thamdo: pids ${alive}, sockets accepting ${accepting}`);
    }
    await sleep(50);
  }
  assert.fail('embedded redis check did not settle');
}

test('embedded mode: own redis on a unix socket in the data dir, votes persist across restart, child reaped', async () => {
  const dataDir = tmpDir('thamdo-embedded-');
  const p = makePoll('emb', { options: ['opt-a', 'opt-b'] });
  const pf = writePollsFile([p]);
  const env = {
    THAMDO_LISTEN: '127.0.0.1:0',
    THAMDO_DATA_DIR: dataDir,
    THAMDO_POLLS_FILE: pf,
  };
  let t = await startThamdo({ rawEnv: env });
  let cookie;
  try {
    const r = await request(t.url, 'GET', '/readyz');
    assert.equal(r.status, 200, r.text);
    const v = new Voter(t.url);
    const vote = await v.vote('emb', ['opt-b']);
    assert.equal(vote.status, 201, vote.text);
    assert.equal(vote.json.results.total, 1);
    cookie = v.cookie;
    assert.match(cookie, COOKIE_RE);
  } catch (e) {
    await t.stop().catch(() => {});
    throw e;
  }
  let sockets = findSockets(dataDir);
  assert.ok(sockets.length >= 1, `a unix socket in the data dir: ${fs.readdirSync(dataDir)}`);
  // the embedded redis-server, if it runs as a direct child (the socket check covers the rest)
  let kids = childPids(t.pid).filter((k) => k.cmd.includes('redis'));
  await t.stop({ timeout: 15000 });
  await assertEmbeddedGone(dataDir, sockets, kids);

  t = await startThamdo({ rawEnv: env });
  try {
    const v = new Voter(t.url, { cookie });
    const g = await v.get('emb');
    assert.equal(g.status, 200, g.text);
    assert.equal(g.issuedCount, 0, 'the cookie is still valid: the generated secret was kept in the data dir');
    assert.equal(g.json.voted, true);
    assert.deepEqual(g.json.choice, ['opt-b']);
    assertResults(g.json.results, p);
    assert.equal(g.json.results.total, 1, 'the vote survived the restart (AOF)');
    const again = await v.vote('emb', ['opt-a']);
    assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
    const w = new Voter(t.url);
    assert.equal((await w.vote('emb', ['opt-a'])).status, 201);
  } catch (e) {
    await t.stop().catch(() => {});
    throw e;
  }
  sockets = findSockets(dataDir);
  assert.ok(sockets.length >= 1);
  kids = childPids(t.pid).filter((k) => k.cmd.includes('redis'));
  await t.stop({ timeout: 15000 });
  await assertEmbeddedGone(dataDir, sockets, kids);
});

test('stop the shared redis', async () => {
  await redis.stop();
});
