// Polls stored by the previous version are upgraded without loss. Redis is seeded with exactly
// the layout that version wrote (what its scripts poll_import.lua, poll_update.lua and
// poll_vote.lua kept): the definition as JSON at {poll:ID}:def, the set of ids `polls`, the
// tallies `counts` (option -> votes), the voters hash `voters` (raw 16-byte id -> "unix|a,b"),
// the statistics `stats` (first_vote, last_vote, duplicates, changes) and the hourly series
// `hours` ("hour:option" -> votes), and no meta hash. Then: readers who voted before stay
// "already voted" with their choice, a change of vote moves their old ballot (its option and
// its hour), a duplicate is refused and counted, the voters and totals keep adding up in the
// public and admin results, the stats, the CSV and both lists, and an archived old poll stays
// out of the public list. Run against build/thamdo and build/asan/thamdo.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, Voter, assertError, sleep } from './lib/harness.mjs';

const TOKEN = 'upgrade-token-7c1e9a3f5b2d8e40';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const NOW = '2030-05-01T10:15:00+07:00';
const T = Date.parse(NOW) / 1000;
const at = { 'x-thamdo-test-now': NOW };
const hourOf = (unix) => Math.floor(unix / 3600);
const T1 = T - 86400; // yesterday's ballots
const T2 = T - 5 * 3600; // this morning's
const key = (id, suffix) => `thamdo:{poll:${id}}:${suffix}`;

let redis;
let svc;
let url;
const readers = {}; // name -> Voter with a cookie minted by the service
const hex = (v) => Buffer.from(v.cookie.split('.')[1], 'base64url').toString('hex');

/** The stored form the previous version wrote (poll_validate of that version). */
const oldDef = (id, over = {}) => ({
  id, question: `Câu hỏi cũ ${id}?`, options: ['a', 'b', 'c'].map((o) => ({ id: o, label: `Phương án ${o}` })),
  max_choices: 1, opens_at: null, closes_at: null, status: 'open', results_visibility: 'always',
  allow_change: false, archived: false, created_at: T - 10 * 86400, updated_at: T - 10 * 86400, version: 1, ...over,
});

/** Writes one poll in the previous layout: ballots is [[voter hex, unix, 'a,b'], ...]. */
async function seedOld(def, ballots, { duplicates = 0, changes = 0 } = {}) {
  const id = def.id;
  await redis.cli('SET', key(id, 'def'), JSON.stringify(def));
  await redis.cli('SADD', 'thamdo:polls', id);
  const counts = {};
  const hours = {};
  for (const [voter, unix, choice] of ballots) {
    await redis.cli('EVAL', `local raw = string.gsub(ARGV[1], '..', function(h) return string.char(tonumber(h, 16)) end)
      return redis.call('HSET', KEYS[1], raw, ARGV[2])`, '1', key(id, 'voters'), voter, `${unix}|${choice}`);
    for (const o of choice.split(',')) {
      counts[o] = (counts[o] || 0) + 1;
      hours[`${hourOf(unix)}:${o}`] = (hours[`${hourOf(unix)}:${o}`] || 0) + 1;
    }
  }
  if (ballots.length) {
    await redis.cli('HSET', key(id, 'counts'), ...Object.entries(counts).flat().map(String));
    await redis.cli('HSET', key(id, 'hours'), ...Object.entries(hours).flat().map(String));
    const times = ballots.map((b) => b[1]);
    await redis.cli('HSET', key(id, 'stats'), 'first_vote', String(Math.min(...times)), 'last_vote', String(Math.max(...times)),
      'duplicates', String(duplicates), 'changes', String(changes));
  }
}

const someone = (i) => (`0f${i.toString(16).padStart(2, '0')}`).repeat(8); // readers without a Voter here

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({
    redis,
    polls: [makePoll('moi', { options: ['x', 'y'] })],
    env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true' },
  });
  url = svc.url;
  for (const name of ['an', 'binh', 'chi', 'dung']) {
    // Readers of the older version: no "voted polls" cookie (it did not exist), so Redis is asked.
    readers[name] = new Voter(url, { voted: false });
    assert.equal((await readers[name].get('moi', { headers: at })).status, 200); // mints the cookie
  }
  // An allow_change poll: an 'a' yesterday, b 'b' this morning, three others 'a'.
  await seedOld(oldDef('cu-doi', { allow_change: true }), [
    [hex(readers.an), T1, 'a'], [hex(readers.binh), T2, 'b'],
    [someone(1), T1, 'a'], [someone(2), T1, 'a'], [someone(3), T2, 'a'],
  ], { duplicates: 2 });
  // A checkbox poll without changes: an chose a and b.
  await seedOld(oldDef('cu-co-dinh', { max_choices: 2 }), [[hex(readers.an), T2, 'a,b'], [someone(4), T2, 'c']]);
  await seedOld(oldDef('cu-luu-tru', { archived: true }), [[hex(readers.an), T1, 'b'], [someone(5), T1, 'b']]);
  await seedOld(oldDef('cu-dong', { status: 'closed', created_at: T - 20 * 86400 }), [[hex(readers.chi), T1, 'c']]);
  await seedOld(oldDef('cu-sua'), []);
  // A definition without allow_change (read as false).
  const bare = oldDef('cu-tran');
  delete bare.allow_change;
  await seedOld(bare, [[hex(readers.dung), T1, 'a']]);
});


const votes = (r) => r.json.options.map((o) => o.votes);

test('readers who voted before the upgrade stay "already voted" with their choice; the totals are kept', async () => {
  assert.equal(await redis.cli('EXISTS', key('cu-doi', 'meta')), '0', 'seeded without a meta hash');
  const g = await readers.an.get('cu-doi', { headers: at });
  assert.equal(g.status, 200, g.text);
  assert.equal(g.json.voted, true);
  assert.deepEqual(g.json.choice, ['a']);
  assert.deepEqual(votes(g.json.results ? { json: g.json.results } : g), [4, 1, 0]);
  assert.equal(g.json.results.voters, 5);
  // The meta hash is written from the checked definition: seq 0, voters = the old hash's.
  assert.equal(await redis.cli('HGET', key('cu-doi', 'meta'), 'seq'), '0');
  assert.equal(await redis.cli('HGET', key('cu-doi', 'meta'), 'voters'), '5');
  assert.equal(await redis.cli('HGET', key('cu-doi', 'meta'), 'version'), '1');
  assert.equal(await redis.cli('HGET', key('cu-doi', 'meta'), 'allow_change'), '1');
  assert.equal(await redis.cli('GET', key('cu-doi', 'def')), JSON.stringify(oldDef('cu-doi', { allow_change: true })), 'the definition left as it was');

  const b = await readers.binh.get('cu-doi', { headers: at });
  assert.deepEqual(b.json.choice, ['b']);
  const c = await readers.chi.get('cu-doi', { headers: at });
  assert.equal(c.json.voted, false);
  assert.equal(c.json.choice, null);

  // The results route and the embed page of an old poll, first read by another reader.
  const res = await readers.an.results('cu-co-dinh', { headers: at });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(votes(res), [1, 1, 1]);
  assert.equal(res.json.voters, 2);
  const page = await readers.an.req('GET', '/embed/polls/cu-co-dinh', { headers: at });
  assert.equal(page.status, 200);
  assert.ok(!page.text.includes('type="checkbox"'), 'the embed page shows results, not the form, to a reader who voted');

  const t = await readers.dung.get('cu-tran', { headers: at });
  assert.equal(t.status, 200, t.text);
  assert.deepEqual(t.json.choice, ['a']);
  assert.equal(t.json.allow_change, false);
});

test('a duplicate ballot of an old voter is refused and counted; a new reader is counted once', async () => {
  const again = await readers.an.vote('cu-co-dinh', ['c'], { headers: at });
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(again.json.choice, ['a', 'b']);
  assert.deepEqual(votes({ json: again.json.results }), [1, 1, 1], 'nothing moved');
  const form = await readers.an.req('POST', '/embed/polls/cu-co-dinh', { form: 'option=c', headers: at });
  assert.equal(form.headers.get('location'), '/embed/polls/cu-co-dinh?msg=already_voted');

  const first = await readers.chi.vote('cu-co-dinh', ['c'], { headers: at });
  assert.equal(first.status, 201, first.text);
  assert.deepEqual(votes({ json: first.json.results }), [1, 1, 2]);
  assert.equal(first.json.results.voters, 3);
  assertError(await readers.chi.vote('cu-co-dinh', ['a'], { headers: at }), 409, 'already_voted', { extraKeys: ['choice', 'results'] });

  const adm = await request(url, 'GET', '/admin/v1/polls/cu-co-dinh/results', { headers: AUTH });
  assert.equal(adm.status, 200, adm.text);
  assert.equal(adm.json.voters, 3);
  assert.equal(adm.json.total, 4);
  assert.equal(adm.json.duplicates_refused, 3, 'two by an (API and embed page), one by chi');
});

test('a change of vote moves the old ballot: its option and its hour; the voter count stays', async () => {
  const changed = await readers.an.vote('cu-doi', ['c'], { headers: at });
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.json.changed, true);
  assert.deepEqual(changed.json.choice, ['c']);
  assert.deepEqual(votes({ json: changed.json.results }), [3, 1, 1]);
  assert.equal(changed.json.results.voters, 5, 'the same reader: no new voter');
  assert.equal(await redis.cli('HGET', key('cu-doi', 'hours'), `${hourOf(T1)}:a`), '2', 'the old hour lost its a');
  assert.equal(await redis.cli('HGET', key('cu-doi', 'hours'), `${hourOf(T)}:c`), '1', 'this hour has the c');
  assert.equal(await redis.cli('HLEN', key('cu-doi', 'voters')), '4', 'the ballot left the old voters hash');
  assert.equal(await redis.cli('HGET', key('cu-doi', 'meta'), 'seq'), '1');
  // Changed again (now from its bucket), then the reader of this morning changes too.
  const back = await readers.an.vote('cu-doi', ['b'], { headers: at });
  assert.equal(back.status, 200, back.text);
  assert.deepEqual(votes({ json: back.json.results }), [3, 2, 0]);
  const b = await readers.binh.vote('cu-doi', ['a'], { headers: at });
  assert.equal(b.status, 200, b.text);
  assert.deepEqual(votes({ json: b.json.results }), [4, 1, 0]);
  assert.equal(await redis.cli('HGET', key('cu-doi', 'hours'), `${hourOf(T2)}:b`), '0', 'binh\'s old hour lost its b');
  const g = await readers.binh.get('cu-doi', { headers: at });
  assert.deepEqual(g.json.choice, ['a']);
  const newcomer = await readers.dung.vote('cu-doi', ['c'], { headers: at });
  assert.equal(newcomer.status, 201, newcomer.text);
  assert.equal(newcomer.json.results.voters, 6);
  assert.equal(await redis.cli('HGET', key('cu-doi', 'meta'), 'seq'), '4');
});

test('admin results, series and CSV of an upgraded poll add up', async () => {
  const r = await request(url, 'GET', '/admin/v1/polls/cu-doi/results?bucket=hour', { headers: AUTH });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.total, 6);
  assert.equal(r.json.voters, 6);
  assert.deepEqual(votes(r), [4, 1, 1]);
  assert.equal(r.json.changes, 3);
  assert.equal(r.json.duplicates_refused, 2, 'the seeded count');
  assert.equal(Date.parse(r.json.first_vote_at) / 1000, T1);
  assert.equal(Date.parse(r.json.last_vote_at) / 1000, T);
  const sums = [0, 0, 0];
  for (const p of r.json.series.points) ['a', 'b', 'c'].forEach((o, i) => { sums[i] += p.votes[o]; });
  assert.deepEqual(sums, [4, 1, 1], 'the hourly series add up to the tallies');
  const csv = await request(url, 'GET', '/admin/v1/polls/cu-doi/results?format=csv&lang=en', { headers: AUTH });
  assert.equal(csv.status, 200);
  const lines = csv.text.replace(/^\uFEFF/, '').split('\r\n');
  assert.equal(lines[1], 'a,Phương án a,4,66.7');
  assert.equal(lines[4], ',Total,6,100.0');
  // An old archived poll, never read: its results and its voters (from the old hash).
  const arch = await request(url, 'GET', '/admin/v1/polls/cu-luu-tru/results', { headers: AUTH });
  assert.equal(arch.status, 200, arch.text);
  assert.equal(arch.json.voters, 2);
  assert.deepEqual(votes(arch), [0, 2, 0]);
});

test('the public list leaves the archived old poll out; the admin list has every poll with its totals; both converge on the index', async () => {
  const pub = await request(url, 'GET', '/api/v1/polls?status=all&limit=100', { headers: at });
  assert.equal(pub.status, 200, pub.text);
  assert.deepEqual(pub.json.polls.map((p) => p.id).sort(), ['cu-co-dinh', 'cu-doi', 'cu-dong', 'cu-sua', 'cu-tran', 'moi']);
  assert.equal(pub.json.polls.find((p) => p.id === 'cu-dong').status, 'closed');
  const adm = await request(url, 'GET', '/admin/v1/polls', { headers: AUTH });
  assert.equal(adm.status, 200, adm.text);
  const byId = Object.fromEntries(adm.json.polls.map((p) => [p.id, p]));
  assert.deepEqual(Object.keys(byId).sort(), ['cu-co-dinh', 'cu-doi', 'cu-dong', 'cu-luu-tru', 'cu-sua', 'cu-tran', 'moi']);
  assert.equal(byId['cu-luu-tru'].archived, true);
  assert.equal(byId['cu-doi'].voters, 6);
  assert.equal(byId['cu-dong'].voters, 1);
  assert.equal(byId['cu-dong'].votes, 1);
  // The list upgraded the old polls nobody had read (cu-dong, cu-luu-tru, cu-sua) on the side.
  let members = [];
  for (let i = 0; i < 100; i++) {
    members = (await redis.cli('SMEMBERS', 'thamdo:polls:meta')).split('\n').sort();
    if (members.length === 7) break;
    await sleep(50);
  }
  assert.deepEqual(members, Object.keys(byId).sort(), 'every poll has its meta hash');
  assert.deepEqual((await redis.cli('SMEMBERS', 'thamdo:polls:listed')).split('\n').sort(),
    ['cu-co-dinh', 'cu-doi', 'cu-dong', 'cu-sua', 'cu-tran', 'moi'], 'the index of polls not archived');
  const again = await request(url, 'GET', '/api/v1/polls?status=all&limit=100', { headers: at });
  assert.deepEqual(again.json, pub.json, 'the same list from the index');
  // Restored, the archived poll joins the index and the public list, with its old voters.
  assert.equal((await request(url, 'POST', '/admin/v1/polls/cu-luu-tru/restore', { headers: AUTH })).status, 200);
  assert.equal(await redis.cli('SISMEMBER', 'thamdo:polls:listed', 'cu-luu-tru'), '1');
  const g = await readers.an.get('cu-luu-tru', { headers: at });
  assert.deepEqual(g.json.choice, ['b'], 'a ballot of the old voters hash on a poll upgraded while archived');
});

test('an editor\'s first change of an old poll upgrades it and writes version + 1', async () => {
  const patch = await request(url, 'PATCH', '/admin/v1/polls/cu-tran', { headers: AUTH, json: { question: 'Đã sửa?', allow_change: true } });
  assert.equal(patch.status, 200, patch.text);
  assert.equal(patch.json.version, 2);
  assert.equal(await redis.cli('HGET', key('cu-tran', 'meta'), 'version'), '2');
  const moved = await readers.dung.vote('cu-tran', ['b'], { headers: at });
  assert.equal(moved.status, 200, moved.text);
  assert.deepEqual(votes({ json: moved.json.results }), [0, 1, 0]);
  // Removing an option that has votes is still refused (the script reads the old options from the meta hash).
  const rm = await request(url, 'PATCH', '/admin/v1/polls/cu-tran', { headers: AUTH, json: { options: [{ id: 'a', label: 'A' }, { id: 'c', label: 'C' }] } });
  assertError(rm, 409, 'option_has_votes');
  const ok = await request(url, 'PATCH', '/admin/v1/polls/cu-tran', { headers: AUTH, json: { options: [{ id: 'b', label: 'B' }, { id: 'd', label: 'D' }] } });
  assert.equal(ok.status, 200, ok.text);
  const g = await readers.dung.get('cu-tran', { headers: at });
  assert.deepEqual(g.json.choice, ['b'], 'b keeps its code across the change');
  const v = await readers.chi.vote('cu-tran', ['d'], { headers: at });
  assert.equal(v.status, 201, v.text);
  assert.deepEqual(votes({ json: v.json.results }), [1, 1]);
  assert.ok(svc.alive());
});

test('the public list never reads an archived poll (its index holds only the others); the admin list does', async () => {
  assert.equal((await request(url, 'DELETE', '/admin/v1/polls/cu-sua', { headers: AUTH })).status, 200);
  assert.equal(await redis.cli('SISMEMBER', 'thamdo:polls:listed', 'cu-sua'), '0');
  await redis.cli('SET', key('cu-sua', 'def'), 'not JSON'); // damaged, and archived
  const line = 'poll cu-sua: the data stored in redis is damaged (the definition is not JSON); left out of the list';
  const pub = await request(url, 'GET', '/api/v1/polls?status=all&limit=100', { headers: at });
  assert.equal(pub.status, 200);
  assert.ok(!pub.json.polls.some((p) => p.id === 'cu-sua'));
  assert.ok(!svc.stderr().includes(line), 'the public list did not read it');
  const adm = await request(url, 'GET', '/admin/v1/polls', { headers: AUTH });
  assert.equal(adm.status, 200);
  assert.ok(svc.stderr().includes(line), 'the admin list read it');
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
