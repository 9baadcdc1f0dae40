// Admin API, managing polls: create (201 + Location + the AdminPoll, 409 poll_exists, 422 listing
// every bad field, 400 invalid_json, 415, 413), read and list (archived included, totals), change
// (question, labels, added and removed options, closes_at, max_choices, version +1 per change,
// 409 option_has_votes leaving everything as it was, `id` refused), close / reopen, archive /
// restore (votes kept), and two instances on one Redis: a change made through one is seen by the
// other within a second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, request, readSettled, Voter, assertError, assertJsonHeaders, assertResults, rfc3339, sleep,
} from './lib/harness.mjs';

const TOKEN = 'adm-test-token-7c1e94b0d2f35a68';
const TOKEN2 = 'adm-second-token-e5d4c3b2a1908f7e';
const ADMIN_POLL_KEYS = [
  'allow_change', 'archived', 'closes_at', 'created_at', 'id', 'max_choices', 'opens_at', 'options',
  'question', 'results_visibility', 'state', 'status', 'updated_at', 'version', 'voters', 'votes',
].sort();
const LOCAL_TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/;

let redis;
let a; // the instance editors talk to
let b; // a second instance on the same Redis, same secret and tokens

before(async () => {
  redis = await startRedis();
  const env = { THAMDO_ADMIN_TOKENS: `${TOKEN},${TOKEN2}` };
  a = await startThamdo({ redis, env });
  b = await startThamdo({ redis, env });
});

after(async () => {
  for (const t of [a, b]) if (t && t.alive()) await t.stop();
});

/** An admin request with the bearer token (instance a unless opts.on). */
function admin(method, urlPath, opts = {}) {
  const { on = a, token = TOKEN, headers = {}, ...rest } = opts;
  return request(on.url, method, urlPath, { ...rest, headers: { Authorization: `Bearer ${token}`, ...headers } });
}

/** A valid poll input. */
function input(id, over = {}) {
  return {
    id,
    question: `Câu hỏi ${id}?`,
    options: [{ id: 'mot', label: 'Một' }, { id: 'hai', label: 'Hai' }, { id: 'ba', label: 'Ba' }],
    ...over,
  };
}

async function create(id, over = {}) {
  const r = await admin('POST', '/admin/v1/polls', { json: input(id, over) });
  assert.equal(r.status, 201, `create ${id}: ${r.text}`);
  return r.json;
}

async function getAdmin(id, on = a) {
  const r = await admin('GET', `/admin/v1/polls/${id}`, { on });
  assert.equal(r.status, 200, `admin GET ${id}: ${r.text}`);
  return r.json;
}

/** A vote from a new reader (no cookie). */
function voteNew(id, options, on = a) {
  return request(on.url, 'POST', `/api/v1/polls/${id}/votes`, { json: { options } });
}

function assertLocalTime(actual, expectedIso, what) {
  assert.match(actual, LOCAL_TIME_RE, `${what}: not a local time with +07:00: ${actual}`);
  if (expectedIso !== undefined) assert.equal(Date.parse(actual), Date.parse(expectedIso), `${what}: ${actual} is not ${expectedIso}`);
}

/** Shape of an AdminPoll. */
function assertAdminPoll(p, what = 'AdminPoll') {
  assert.ok(p && typeof p === 'object', `${what}: ${JSON.stringify(p)}`);
  assert.deepEqual(Object.keys(p).sort(), ADMIN_POLL_KEYS, `${what} keys: ${JSON.stringify(p)}`);
  assert.ok(['open', 'closed'].includes(p.status), `${what}: status ${p.status}`);
  assert.ok(['open', 'upcoming', 'closed'].includes(p.state), `${what}: state ${p.state}`);
  assert.equal(typeof p.archived, 'boolean', what);
  assert.equal(typeof p.allow_change, 'boolean', what);
  assert.ok(Number.isInteger(p.version) && p.version >= 1, `${what}: version ${p.version}`);
  assert.ok(Number.isInteger(p.voters) && p.voters >= 0, `${what}: voters ${p.voters}`);
  assert.ok(Number.isInteger(p.votes) && p.votes >= 0, `${what}: votes ${p.votes}`);
  assertLocalTime(p.created_at, undefined, `${what}.created_at`);
  assertLocalTime(p.updated_at, undefined, `${what}.updated_at`);
  for (const o of p.options) assert.deepEqual(Object.keys(o).sort(), ['id', 'label'], `${what} option ${JSON.stringify(o)}`);
}

/** 422 validation_failed; returns the list of paths. `paths`: every one must be listed. */
function assertValidation(r, paths, what) {
  const ctx = `${what} (got ${r.status} ${r.text})`;
  assert.equal(r.status, 422, ctx);
  assertJsonHeaders(r, what);
  assert.deepEqual(Object.keys(r.json), ['error'], ctx);
  assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'fields', 'message'], ctx);
  assert.equal(r.json.error.code, 'validation_failed', ctx);
  assert.ok(typeof r.json.error.message === 'string' && r.json.error.message.length > 0, ctx);
  assert.ok(Array.isArray(r.json.error.fields), ctx);
  for (const f of r.json.error.fields) {
    assert.deepEqual(Object.keys(f).sort(), ['message', 'path'], ctx);
    assert.ok(typeof f.message === 'string' && f.message.length > 0, ctx);
  }
  const listed = r.json.error.fields.map((f) => f.path);
  for (const p of paths) assert.ok(listed.includes(p), `${what}: path "${p}" not listed; listed: ${JSON.stringify(listed)}`);
  for (const p of listed) assert.ok(paths.includes(p), `${what}: unexpected path "${p}"; listed: ${JSON.stringify(listed)}`);
  return listed;
}

async function publicIds(on = a) {
  const r = await request(on.url, 'GET', '/api/v1/polls');
  assert.equal(r.status, 200, r.text);
  return r.json.polls.map((p) => p.id);
}

// ------------------------------------------------------------------ create

test('create: 201, Location, the AdminPoll with defaults; the poll is public and takes votes', async () => {
  const t0 = Date.now();
  const r = await admin('POST', '/admin/v1/polls', {
    json: {
      id: 'tao-moi',
      question: 'Bạn đọc tin tức vào lúc nào?',
      options: [{ id: 'sang', label: 'Buổi sáng' }, { id: 'toi', label: 'Buổi tối' }],
    },
  });
  const t1 = Date.now();
  assert.equal(r.status, 201, r.text);
  assertJsonHeaders(r, 'create');
  assert.equal(r.headers.get('location'), '/admin/v1/polls/tao-moi');
  const p = r.json;
  assertAdminPoll(p, 'created');
  assert.equal(p.id, 'tao-moi');
  assert.equal(p.question, 'Bạn đọc tin tức vào lúc nào?');
  assert.deepEqual(p.options, [{ id: 'sang', label: 'Buổi sáng' }, { id: 'toi', label: 'Buổi tối' }]);
  assert.equal(p.max_choices, 1);
  assert.equal(p.opens_at, null);
  assert.equal(p.closes_at, null);
  assert.equal(p.results_visibility, 'always');
  assert.equal(p.allow_change, false);
  assert.equal(p.status, 'open');
  assert.equal(p.state, 'open');
  assert.equal(p.archived, false);
  assert.equal(p.version, 1);
  assert.equal(p.voters, 0);
  assert.equal(p.votes, 0);
  const created = Date.parse(p.created_at);
  assert.ok(created >= Math.floor(t0 / 1000) * 1000 - 1000 && created <= t1 + 1000, `created_at ${p.created_at} not now`);
  assert.equal(p.updated_at, p.created_at);

  // GET gives the same thing.
  assert.deepEqual(await getAdmin('tao-moi'), p);

  // Public: listed, readable, votable.
  assert.ok((await publicIds()).includes('tao-moi'), 'a created poll is in the public list');
  const pub = await request(a.url, 'GET', '/api/v1/polls/tao-moi');
  assert.equal(pub.status, 200, pub.text);
  assert.equal(pub.json.question, 'Bạn đọc tin tức vào lúc nào?');
  assert.equal(pub.json.status, 'open');
  assert.equal(pub.json.allow_change, false);
  const v = await voteNew('tao-moi', ['toi']);
  assert.equal(v.status, 201, v.text);
  assert.deepEqual(v.json.choice, ['toi']);
  const after_ = await getAdmin('tao-moi');
  assert.equal(after_.voters, 1);
  assert.equal(after_.votes, 1);
  assert.equal(after_.version, 1, 'a vote is not a change of the poll');
});

test('create with every setting: times come back in local time, the settings are kept', async () => {
  const opens = rfc3339(Date.now() - 3600e3);
  const closes = '2099-06-30T17:00:00Z';
  const r = await admin('POST', '/admin/v1/polls', {
    json: input('day-du', {
      max_choices: 2, opens_at: opens, closes_at: closes, status: 'open',
      results_visibility: 'after_vote', allow_change: true,
    }),
  });
  assert.equal(r.status, 201, r.text);
  assertAdminPoll(r.json);
  assertLocalTime(r.json.opens_at, opens, 'opens_at');
  assert.equal(r.json.closes_at, '2099-07-01T00:00:00+07:00');
  assert.equal(r.json.max_choices, 2);
  assert.equal(r.json.results_visibility, 'after_vote');
  assert.equal(r.json.allow_change, true);
  assert.equal(r.json.state, 'open');

  const up = await admin('POST', '/admin/v1/polls', {
    json: input('sap-mo', { opens_at: '2099-01-01T00:00:00+07:00', status: 'closed' }),
  });
  assert.equal(up.status, 201, up.text);
  assert.equal(up.json.status, 'closed');
  assert.equal(up.json.state, 'closed', 'closed by the editor wins over upcoming');
  assert.ok(!(await publicIds()).includes('sap-mo'));
});

test('create: an id in use is 409 poll_exists and the first poll is untouched', async () => {
  await create('trung-id', { question: 'Câu hỏi gốc?' });
  const r = await admin('POST', '/admin/v1/polls', { json: input('trung-id', { question: 'Câu hỏi khác?' }) });
  assertError(r, 409, 'poll_exists');
  assert.equal(r.headers.get('location'), null);
  const p = await getAdmin('trung-id');
  assert.equal(p.question, 'Câu hỏi gốc?');
  assert.equal(p.version, 1);
});

test('create: several bad fields at once are all listed in one 422 (id, question, options, max_choices, an unknown key)', async () => {
  const r = await admin('POST', '/admin/v1/polls', {
    json: { id: 'Bad Id!', question: '', options: [{ id: 'mot', label: 'Một' }], max_choices: 0, colour: 'red' },
  });
  assertValidation(r, ['id', 'question', 'options', 'max_choices', 'colour'], 'five bad fields');
  assert.ok(!(await admin('GET', '/admin/v1/polls')).json.polls.some((p) => p.question === ''), 'nothing created');
});

test('create: option-level and setting errors carry their paths (options[1].id, options[2].label, status, …)', async () => {
  const r = await admin('POST', '/admin/v1/polls', {
    json: {
      id: 'loi-chi-tiet',
      question: 'Q?',
      options: [{ id: 'ok', label: 'OK' }, { id: 'Không Slug', label: 'x' }, { id: 'ba', label: '' }],
      status: 'paused',
      results_visibility: 'sometimes',
      allow_change: 'yes',
      opens_at: 'tomorrow',
    },
  });
  assertValidation(r, ['options[1].id', 'options[2].label', 'status', 'results_visibility', 'allow_change', 'opens_at'], 'detailed errors');

  const r2 = await admin('POST', '/admin/v1/polls', {
    json: input('loi-thoi-gian', { opens_at: '2099-02-01T00:00:00+07:00', closes_at: '2099-01-01T00:00:00+07:00' }),
  });
  assertValidation(r2, ['closes_at'], 'closes_at before opens_at');

  const r3 = await admin('POST', '/admin/v1/polls', {
    json: input('loi-trung', { options: [{ id: 'a', label: 'A' }, { id: 'a', label: 'A again' }], max_choices: 3 }),
  });
  const listed = assertValidation(r3, ['options[1].id', 'max_choices'], 'repeated option id, max_choices > options');
  assert.ok(listed.length >= 2);

  const r4 = await admin('POST', '/admin/v1/polls', { json: input('loi-id-dich-vu', { version: 7, archived: true }) });
  assertValidation(r4, ['version', 'archived'], 'the service\'s own fields are not writable');

  const list = await admin('GET', '/admin/v1/polls');
  for (const id of ['loi-chi-tiet', 'loi-thoi-gian', 'loi-trung', 'loi-id-dich-vu']) {
    assert.ok(!list.json.polls.some((p) => p.id === id), `${id} must not have been created`);
  }
});

test('create and PATCH: texts with bidi controls, line separators or control characters are refused with the field named', async () => {
  const bad = {
    'U+202E right-to-left override': 'Tin t\u202Ec\u1EE9',
    'U+202A embedding': '\u202Aabc',
    'U+2066 isolate': 'a\u2066b\u2069',
    'U+2028 line separator': 'hai\u2028d\u00F2ng',
    'U+2029 paragraph separator': 'x\u2029',
    'U+0085 (C1)': 'x\u0085y',
    'a tab': 'a\tb',
    'a newline': 'a\nb',
    'a bell': 'a\u0007',
  };
  for (const [what, text] of Object.entries(bad)) {
    const q = await admin('POST', '/admin/v1/polls', { json: input('van-ban-xau', { question: text }) });
    assertValidation(q, ['question'], `create, question with ${what}`);
    const l = await admin('POST', '/admin/v1/polls', {
      json: input('van-ban-xau', { options: [{ id: 'mot', label: 'Một' }, { id: 'hai', label: text }] }),
    });
    assertValidation(l, ['options[1].label'], `create, label with ${what}`);
  }
  const p0 = await create('van-ban-tot', { question: 'Bạn đọc tin \u200Fgì?' }); // a mark is not a control
  for (const [what, text] of Object.entries(bad)) {
    assertValidation(await admin('PATCH', '/admin/v1/polls/van-ban-tot', { json: { question: text } }), ['question'], `PATCH question with ${what}`);
    assertValidation(await admin('PATCH', '/admin/v1/polls/van-ban-tot', {
      json: { options: [{ id: 'mot', label: text }, ...p0.options.slice(1)] },
    }), ['options[0].label'], `PATCH label with ${what}`);
  }
  assert.equal((await admin('GET', '/admin/v1/polls/van-ban-xau')).status, 404, 'nothing created');
  assert.deepEqual(await getAdmin('van-ban-tot'), p0, 'nothing changed');
});

test('create and PATCH: times outside 1970..9999 are refused with the field named; the edges are kept', async () => {
  // An integer time above ~6.7e16 once made localtime_r fail and the public list show garbage dates.
  const cases = [
    [{ closes_at: 67000000000000000 }, ['closes_at']],
    [{ opens_at: 253402300800 }, ['opens_at']],
    [{ opens_at: -1 }, ['opens_at']],
    [{ opens_at: '1970-01-01T00:00:00+07:00' }, ['opens_at']],
    [{ closes_at: '9999-12-31T23:59:59-07:00' }, ['closes_at']],
    [{ closes_at: '10000-01-01T00:00:00Z' }, ['closes_at']],
  ];
  for (const [over, paths] of cases) {
    assertValidation(await admin('POST', '/admin/v1/polls', { json: input('gio-xau', over) }), paths, `create ${JSON.stringify(over)}`);
  }
  const p0 = await create('gio-bien', { opens_at: '1970-01-01T00:00:00Z', closes_at: '9999-12-31T23:59:59Z' });
  assert.equal(Date.parse(p0.opens_at), 0, p0.opens_at);
  assert.equal(Date.parse(p0.closes_at), Date.parse('9999-12-31T23:59:59Z'), p0.closes_at);
  assert.match(p0.closes_at, /^9999-12-31T23:59:59Z$/, 'the last hours of 9999 are written in UTC (year 10000 in +07:00)');
  for (const [over, paths] of cases) {
    assertValidation(await admin('PATCH', '/admin/v1/polls/gio-bien', { json: over }), paths, `PATCH ${JSON.stringify(over)}`);
  }
  assert.deepEqual(await getAdmin('gio-bien'), p0, 'nothing changed');
  // The public list writes real dates.
  const all = await request(a.url, 'GET', '/api/v1/polls?status=all&limit=100');
  const listed = all.json.polls.find((p) => p.id === 'gio-bien');
  assert.equal(listed.closes_at, p0.closes_at);
  assert.equal(listed.opens_at, p0.opens_at);
});

test('a polls file with a time outside 1970..9999 stops the start naming the field', async () => {
  for (const [poll, field] of [
    [input('tep-xau', { closes_at: 67000000000000000 }), 'polls[0].closes_at'],
    [input('tep-xau', { opens_at: '1969-12-31T23:59:59Z' }), 'polls[0].opens_at'],
    [{ ...input('tep-xau'), created_at: 67000000000000000 }, 'polls[0].created_at'],
  ]) {
    const r = await runThamdo({ env: thamdoEnv({ redis, polls: [poll] }) });
    assert.equal(r.code, 2, `exit status 2 for ${field}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`THAMDO_POLLS_FILE: .*${field.replace(/[[\]]/g, '\\$&')}: `), r.stderr);
  }
});

test('create: 400 invalid_json, 415 for text/plain, 413 above 64 KiB; a body of 20 KiB is fine', async () => {
  for (const body of ['{"id": "x",', 'not json', '[1,2,3]', '"a string"', '']) {
    const r = await admin('POST', '/admin/v1/polls', { body, headers: { 'Content-Type': 'application/json' } });
    assertError(r, 400, 'invalid_json');
  }
  const plain = await admin('POST', '/admin/v1/polls', {
    body: JSON.stringify(input('van-ban')), headers: { 'Content-Type': 'text/plain' },
  });
  assertError(plain, 415, 'unsupported_media_type');
  const form = await admin('POST', '/admin/v1/polls', { form: 'id=van-ban' });
  assertError(form, 415, 'unsupported_media_type');
  assert.equal((await admin('GET', '/admin/v1/polls/van-ban')).status, 404);

  // 50 options with long labels: about 21 KB, far above THAMDO_MAX_BODY (4096) but within 64 KiB.
  const options = Array.from({ length: 50 }, (_, i) => ({ id: `pa-${i}`, label: `Phương án ${i} `.padEnd(400, 'x') }));
  const big = await admin('POST', '/admin/v1/polls', { json: input('nhieu-lua-chon', { options }) });
  assert.equal(big.status, 201, big.text.slice(0, 300));
  assert.equal(big.json.options.length, 50);

  const huge = await admin('POST', '/admin/v1/polls', { json: input('qua-lon', { question: 'q'.repeat(66000) }) });
  assertError(huge, 413, 'body_too_large');
});

// ------------------------------------------------------------------ read / list

test('list: every poll sorted by id, archived ones included and flagged; voters and votes add up', async () => {
  await create('ds-b', { max_choices: 2 });
  await create('ds-a');
  await create('ds-c');
  assert.equal((await voteNew('ds-b', ['mot', 'hai'])).status, 201);
  assert.equal((await voteNew('ds-b', ['mot'])).status, 201);
  assert.equal((await voteNew('ds-b', ['ba', 'hai'])).status, 201);
  assert.equal((await voteNew('ds-a', ['ba'])).status, 201);
  const del = await admin('DELETE', '/admin/v1/polls/ds-c');
  assert.equal(del.status, 200, del.text);

  const r = await admin('GET', '/admin/v1/polls');
  assert.equal(r.status, 200, r.text);
  assertJsonHeaders(r, 'admin list');
  assert.deepEqual(Object.keys(r.json), ['polls']);
  const ids = r.json.polls.map((p) => p.id);
  assert.deepEqual(ids, [...ids].sort(), 'sorted by id');
  for (const p of r.json.polls) assertAdminPoll(p, `list ${p.id}`);
  const by = Object.fromEntries(r.json.polls.map((p) => [p.id, p]));
  assert.ok(by['ds-a'] && by['ds-b'] && by['ds-c'], `ds-* missing: ${ids}`);
  assert.equal(by['ds-c'].archived, true);
  assert.equal(by['ds-a'].archived, false);
  assert.equal(by['ds-b'].archived, false);
  assert.deepEqual([by['ds-b'].voters, by['ds-b'].votes], [3, 5]);
  assert.deepEqual([by['ds-a'].voters, by['ds-a'].votes], [1, 1]);
  assert.deepEqual([by['ds-c'].voters, by['ds-c'].votes], [0, 0]);
  const pub = await publicIds();
  assert.ok(pub.includes('ds-a') && pub.includes('ds-b') && !pub.includes('ds-c'));
});

test('read: 404 poll_not_found for an unknown id on every poll route', async () => {
  for (const [m, p, opts] of [
    ['GET', '/admin/v1/polls/khong-co', {}],
    ['PATCH', '/admin/v1/polls/khong-co', { json: { question: 'Q?' } }],
    ['DELETE', '/admin/v1/polls/khong-co', {}],
    ['POST', '/admin/v1/polls/khong-co/close', {}],
    ['POST', '/admin/v1/polls/khong-co/reopen', {}],
    ['POST', '/admin/v1/polls/khong-co/restore', {}],
    ['GET', '/admin/v1/polls/khong-co/results', {}],
    ['GET', '/admin/v1/polls/khong-co/series', {}],
  ]) {
    const r = await admin(m, p, opts);
    assertError(r, 404, 'poll_not_found');
  }
  assert.ok(!(await admin('GET', '/admin/v1/polls')).json.polls.some((p) => p.id === 'khong-co'), 'PATCH/close must not create');
});

// ------------------------------------------------------------------ change

test('PATCH: question and a label change, an option is added and takes votes; version +1 each time', async () => {
  const p0 = await create('sua-doi');
  assert.equal((await voteNew('sua-doi', ['mot'])).status, 201);
  await sleep(1100); // updated_at has whole seconds: let it move
  const r = await admin('PATCH', '/admin/v1/polls/sua-doi', {
    json: {
      question: 'Câu hỏi đã sửa?',
      options: [{ id: 'mot', label: 'Một (sửa)' }, { id: 'hai', label: 'Hai' }, { id: 'ba', label: 'Ba' }],
    },
  });
  assert.equal(r.status, 200, r.text);
  assertJsonHeaders(r, 'patch');
  assertAdminPoll(r.json, 'patched');
  assert.equal(r.json.version, p0.version + 1);
  assert.equal(r.json.question, 'Câu hỏi đã sửa?');
  assert.equal(r.json.options[0].label, 'Một (sửa)');
  assert.equal(r.json.created_at, p0.created_at, 'created_at is kept');
  assert.ok(Date.parse(r.json.updated_at) > Date.parse(p0.updated_at), `updated_at ${r.json.updated_at} must move on`);
  assert.deepEqual([r.json.voters, r.json.votes], [1, 1]);
  assert.deepEqual(await getAdmin('sua-doi'), r.json);

  const pub = await request(a.url, 'GET', '/api/v1/polls/sua-doi');
  assert.equal(pub.json.question, 'Câu hỏi đã sửa?');
  assert.equal(pub.json.options[0].label, 'Một (sửa)');

  const add = await admin('PATCH', '/admin/v1/polls/sua-doi', {
    json: { options: [...r.json.options, { id: 'bon', label: 'Bốn' }] },
  });
  assert.equal(add.status, 200, add.text);
  assert.equal(add.json.version, p0.version + 2);
  assert.deepEqual(add.json.options.map((o) => o.id), ['mot', 'hai', 'ba', 'bon']);
  assert.equal(add.json.question, 'Câu hỏi đã sửa?', 'fields not in the patch are kept');
  const v = await voteNew('sua-doi', ['bon']);
  assert.equal(v.status, 201, v.text);
  const res = await request(a.url, 'GET', '/api/v1/polls/sua-doi/results');
  const counts = assertResults(res.json, { id: 'sua-doi', options: add.json.options });
  assert.deepEqual(counts, { mot: 1, hai: 0, ba: 0, bon: 1 });

  // Settings one at a time: each is one more version.
  let version = add.json.version;
  for (const patch of [{ results_visibility: 'never' }, { allow_change: true }, { opens_at: '2020-01-01T00:00:00+07:00' }, { closes_at: null }]) {
    const c = await admin('PATCH', '/admin/v1/polls/sua-doi', { json: patch });
    assert.equal(c.status, 200, `${JSON.stringify(patch)}: ${c.text}`);
    assert.equal(c.json.version, ++version, JSON.stringify(patch));
  }
  const last = await getAdmin('sua-doi');
  assert.equal(last.results_visibility, 'never');
  assert.equal(last.allow_change, true);
  assert.equal(last.opens_at, '2020-01-01T00:00:00+07:00');
  assert.equal(last.closes_at, null);
});

test('PATCH closes_at into the past: the poll is closed for readers (status closed, votes 403 poll_closed, not listed)', async () => {
  await create('het-han', { closes_at: '2099-01-01T00:00:00+07:00' });
  assert.equal((await voteNew('het-han', ['mot'])).status, 201);
  const past = rfc3339(Date.now() - 60e3);
  const r = await admin('PATCH', '/admin/v1/polls/het-han', { json: { closes_at: past } });
  assert.equal(r.status, 200, r.text);
  assertLocalTime(r.json.closes_at, past, 'closes_at');
  assert.equal(r.json.status, 'open', 'the stored status is still open');
  assert.equal(r.json.state, 'closed', 'the effective state is closed');
  const pub = await request(a.url, 'GET', '/api/v1/polls/het-han');
  assert.equal(pub.status, 200);
  assert.equal(pub.json.status, 'closed');
  assertError(await voteNew('het-han', ['hai']), 403, 'poll_closed');
  assert.ok(!(await publicIds()).includes('het-han'));

  // closes_at null again: open.
  const reopened = await admin('PATCH', '/admin/v1/polls/het-han', { json: { closes_at: null } });
  assert.equal(reopened.status, 200, reopened.text);
  assert.equal(reopened.json.closes_at, null);
  assert.equal(reopened.json.state, 'open');
  assert.equal((await voteNew('het-han', ['hai'])).status, 201);
  assert.equal((await getAdmin('het-han')).votes, 2);
});

test('PATCH removing an option: without votes it goes; with votes 409 option_has_votes and nothing changes', async () => {
  await create('bo-bot', { options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }, { id: 'c', label: 'C' }, { id: 'd', label: 'D' }] });
  assert.equal((await voteNew('bo-bot', ['a'])).status, 201);
  const ok = await admin('PATCH', '/admin/v1/polls/bo-bot', {
    json: { options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }, { id: 'c', label: 'C' }] },
  });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json.options.map((o) => o.id), ['a', 'b', 'c']);
  assertError(await voteNew('bo-bot', ['d']), 400, 'invalid_option');

  const before_ = await getAdmin('bo-bot');
  const r = await admin('PATCH', '/admin/v1/polls/bo-bot', {
    json: { question: 'Đổi luôn câu hỏi?', options: [{ id: 'b', label: 'B mới' }, { id: 'c', label: 'C' }] },
  });
  assertError(r, 409, 'option_has_votes');
  assert.match(r.json.error.message, /\ba\b/, 'the message names the option');
  assert.deepEqual(await getAdmin('bo-bot'), before_, 'a refused change leaves the poll as it was (version, question, options)');
  const pub = await request(a.url, 'GET', '/api/v1/polls/bo-bot');
  assert.equal(pub.json.question, before_.question);
  assert.deepEqual(pub.json.options.map((o) => o.id), ['a', 'b', 'c']);
});

test('PATCH refuses id, unknown keys, the service\'s own fields and bad values (422, nothing changed)', async () => {
  const p0 = await create('khong-doi');
  const cases = [
    [{ id: 'ten-moi' }, ['id']],
    [{ id: 'khong-doi', question: 'Q?' }, ['id']],
    [{ colour: 'red' }, ['colour']],
    [{ version: 9 }, ['version']],
    [{ created_at: 0 }, ['created_at']],
    [{ archived: true }, ['archived']],
    [{ max_choices: 4 }, ['max_choices']],
    [{ options: [{ id: 'mot', label: 'Một' }] }, ['options']],
    [{ question: '' }, ['question']],
    [{ status: 'archived' }, ['status']],
    [{ closes_at: 'later' }, ['closes_at']],
    [{ opens_at: '2099-02-01T00:00:00Z', closes_at: '2099-01-01T00:00:00Z' }, ['closes_at']],
  ];
  for (const [patch, paths] of cases) {
    const r = await admin('PATCH', '/admin/v1/polls/khong-doi', { json: patch });
    assertValidation(r, paths, `PATCH ${JSON.stringify(patch)}`);
    if (paths[0] === 'id') {
      const f = r.json.error.fields.find((x) => x.path === 'id');
      assert.match(f.message, /cannot be changed/, `the message for id: ${f.message}`);
    }
  }
  assert.deepEqual(await getAdmin('khong-doi'), p0, 'refused changes leave the poll as it was');
  assert.equal((await admin('GET', '/admin/v1/polls/ten-moi')).status, 404, 'no poll under the new id');
  for (const body of ['{', '[]']) {
    assertError(await admin('PATCH', '/admin/v1/polls/khong-doi', { body, headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_json');
  }
  assertError(await admin('PATCH', '/admin/v1/polls/khong-doi', { body: '{"question":"Q?"}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  assert.deepEqual(await getAdmin('khong-doi'), p0);
});

test('PATCH with several bad fields at once lists every one of them, a key that may not be written among them', async () => {
  const p0 = await create('nhieu-loi');
  const many2 = await admin('PATCH', '/admin/v1/polls/nhieu-loi', { json: { question: '', max_choices: 0, status: 'x', options: [{ id: 'A B', label: 'x' }, { id: 'b', label: '' }] } });
  assertValidation(many2, ['question', 'max_choices', 'status', 'options[0].id', 'options[1].label'], 'PATCH with five bad values');
  const many = await admin('PATCH', '/admin/v1/polls/nhieu-loi', { json: { id: 'ten-khac', colour: 'red', question: '', max_choices: 0 } });
  assertValidation(many, ['id', 'colour', 'question', 'max_choices'], 'PATCH {id, colour, question:"", max_choices:0}');
  // A refused key next to valid changes: nothing at all is applied.
  for (const json of [
    { archived: true, question: 'Hợp lệ?' },
    { version: 1, status: 'closed' },
    { id: 'khac', allow_change: true },
    { created_at: '2020-01-01T00:00:00Z', options: [{ id: 'mot', label: 'Một' }, { id: 'hai', label: 'Hai' }] },
  ]) {
    assertValidation(await admin('PATCH', '/admin/v1/polls/nhieu-loi', { json }), [Object.keys(json)[0]], `PATCH ${JSON.stringify(json)}`);
  }
  assert.deepEqual(await getAdmin('nhieu-loi'), p0);
});

test('PATCH max_choices 2: the poll becomes a checkbox poll taking two options, not three', async () => {
  await create('chon-nhieu');
  assertError(await voteNew('chon-nhieu', ['mot', 'hai']), 400, 'too_many_options');
  const r = await admin('PATCH', '/admin/v1/polls/chon-nhieu', { json: { max_choices: 2 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.max_choices, 2);
  assert.equal(r.json.version, 2);
  const pub = await request(a.url, 'GET', '/api/v1/polls/chon-nhieu');
  assert.equal(pub.json.max_choices, 2);
  const v = await voteNew('chon-nhieu', ['mot', 'hai']);
  assert.equal(v.status, 201, v.text);
  assert.deepEqual([...v.json.choice].sort(), ['hai', 'mot']);
  assertError(await voteNew('chon-nhieu', ['mot', 'hai', 'ba']), 400, 'too_many_options');
  const p = await getAdmin('chon-nhieu');
  assert.deepEqual([p.voters, p.votes], [1, 2]);
});

// ------------------------------------------------------------------ close / reopen / archive / restore

test('close and reopen: votes refused then accepted; version +1 each', async () => {
  const p0 = await create('dong-mo');
  const c = await admin('POST', '/admin/v1/polls/dong-mo/close');
  assert.equal(c.status, 200, c.text);
  assertAdminPoll(c.json, 'closed');
  assert.equal(c.json.status, 'closed');
  assert.equal(c.json.state, 'closed');
  assert.equal(c.json.version, p0.version + 1);
  assertError(await voteNew('dong-mo', ['mot']), 403, 'poll_closed');
  assert.equal((await request(a.url, 'GET', '/api/v1/polls/dong-mo')).json.status, 'closed');
  assert.ok(!(await publicIds()).includes('dong-mo'));

  const o = await admin('POST', '/admin/v1/polls/dong-mo/reopen');
  assert.equal(o.status, 200, o.text);
  assert.equal(o.json.status, 'open');
  assert.equal(o.json.state, 'open');
  assert.equal(o.json.version, p0.version + 2);
  assert.equal((await voteNew('dong-mo', ['mot'])).status, 201);
  assert.ok((await publicIds()).includes('dong-mo'));
  assert.equal((await getAdmin('dong-mo')).votes, 1);
});

test('archive (DELETE): gone for readers, kept for editors with its votes; restore brings it back with the same counts', async () => {
  const p0 = await create('luu-tru', { options: [{ id: 'co', label: 'Có' }, { id: 'khong', label: 'Không' }] });
  for (const o of ['co', 'co', 'khong']) assert.equal((await voteNew('luu-tru', [o])).status, 201);
  const voter = new Voter(a.url);
  assert.equal((await voter.vote('luu-tru', ['khong'])).status, 201);
  // A public read may be answered by another worker's cache, which follows the votes' change feed.
  const resBefore = (await readSettled(a.url, '/api/v1/polls/luu-tru/results', (x) => x.json && x.json.total === 4)).json;
  assert.equal(resBefore.total, 4);

  const d = await admin('DELETE', '/admin/v1/polls/luu-tru');
  assert.equal(d.status, 200, d.text);
  assertAdminPoll(d.json, 'archived');
  assert.equal(d.json.archived, true);
  assert.equal(d.json.version, p0.version + 1);
  assert.deepEqual([d.json.voters, d.json.votes], [4, 4]);

  assertError(await request(a.url, 'GET', '/api/v1/polls/luu-tru'), 404, 'poll_not_found');
  assertError(await request(a.url, 'GET', '/api/v1/polls/luu-tru/results'), 404, 'poll_not_found');
  assertError(await voteNew('luu-tru', ['co']), 404, 'poll_not_found');
  assertError(await voter.vote('luu-tru', ['co']), 404, 'poll_not_found');
  assert.equal((await request(a.url, 'GET', '/embed/polls/luu-tru')).status, 404);
  assert.ok(!(await publicIds()).includes('luu-tru'));

  const g = await getAdmin('luu-tru');
  assert.equal(g.archived, true);
  assert.deepEqual([g.voters, g.votes], [4, 4]);
  const res = await admin('GET', '/admin/v1/polls/luu-tru/results');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.total, 4);
  assert.ok((await admin('GET', '/admin/v1/polls')).json.polls.some((p) => p.id === 'luu-tru' && p.archived === true));

  const r = await admin('POST', '/admin/v1/polls/luu-tru/restore');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.archived, false);
  assert.equal(r.json.version, p0.version + 2);
  assert.deepEqual([r.json.voters, r.json.votes], [4, 4]);
  assert.ok((await publicIds()).includes('luu-tru'));
  const resAfter = await readSettled(a.url, '/api/v1/polls/luu-tru/results', (x) => x.status === 200);
  assert.equal(resAfter.status, 200);
  assert.deepEqual(resAfter.json, resBefore, 'the same counts after restore');
  // The reader who voted before is still known.
  const again = await voter.vote('luu-tru', ['co']);
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(again.json.choice, ['khong']);
});

// ------------------------------------------------------------------ two instances

/** Polls `check` until it returns true; at most one second. Returns the time it took. */
async function withinOneSecond(check, what) {
  const start = Date.now();
  let last;
  for (let i = 0; i < 100; i++) {
    last = await check();
    if (last === true) return Date.now() - start;
    if (Date.now() - start > 1000) break;
    await sleep(25);
  }
  assert.fail(`${what}: not seen on the other instance within 1 s (last: ${JSON.stringify(last)})`);
}

test('two instances on one Redis: create, change, close, archive, restore through A are seen by B within 1 s', async () => {
  const id = 'hai-may';
  // Created on A, read and voted on B.
  await create(id, { question: 'Trên máy A?' });
  await withinOneSecond(async () => {
    const r = await request(b.url, 'GET', `/api/v1/polls/${id}`);
    return r.status === 200 && r.json.question === 'Trên máy A?' || r.status;
  }, 'created');
  assert.equal((await voteNew(id, ['mot'], b)).status, 201);

  const ch = await admin('PATCH', `/admin/v1/polls/${id}`, {
    json: { question: 'Đã sửa trên A?', options: [{ id: 'mot', label: 'Một!' }, { id: 'hai', label: 'Hai' }, { id: 'ba', label: 'Ba' }, { id: 'bon', label: 'Bốn' }] },
  });
  assert.equal(ch.status, 200, ch.text);
  await withinOneSecond(async () => {
    const r = await request(b.url, 'GET', `/api/v1/polls/${id}`);
    return (r.json.question === 'Đã sửa trên A?' && r.json.options.length === 4 && r.json.options[0].label === 'Một!') || r.json;
  }, 'changed');
  assert.equal((await voteNew(id, ['bon'], b)).status, 201, 'B takes a vote for the option added on A');

  // B's editor view sees A's change too (and with the second token).
  const viaB = await admin('GET', `/admin/v1/polls/${id}`, { on: b, token: TOKEN2 });
  assert.equal(viaB.status, 200, viaB.text);
  assert.equal(viaB.json.version, 2);
  assert.deepEqual([viaB.json.voters, viaB.json.votes], [2, 2]);

  assert.equal((await admin('POST', `/admin/v1/polls/${id}/close`)).status, 200);
  await withinOneSecond(async () => {
    const r = await voteNew(id, ['hai'], b);
    return (r.status === 403 && r.json.error.code === 'poll_closed') || r.status;
  }, 'closed');
  assert.equal((await admin('POST', `/admin/v1/polls/${id}/reopen`)).status, 200);
  await withinOneSecond(async () => (await request(b.url, 'GET', `/api/v1/polls/${id}`)).json.status === 'open', 'reopened');

  assert.equal((await admin('DELETE', `/admin/v1/polls/${id}`)).status, 200);
  await withinOneSecond(async () => (await request(b.url, 'GET', `/api/v1/polls/${id}`)).status === 404, 'archived');
  assert.ok(!(await publicIds(b)).includes(id));

  // Restored through B this time, seen on A.
  assert.equal((await admin('POST', `/admin/v1/polls/${id}/restore`, { on: b })).status, 200);
  await withinOneSecond(async () => (await request(a.url, 'GET', `/api/v1/polls/${id}/results`)).json?.total === 2, 'restored');
  const fin = await getAdmin(id);
  assert.equal(fin.version, 6, 'create 1, patch, close, reopen, archive, restore');
});

test('concurrent changes of different fields through both instances: none is lost, version = 1 + the changes made', async () => {
  const id = 'dong-thoi';
  await create(id, { closes_at: '2099-01-01T00:00:00+07:00' });
  const patches = [
    { question: 'Câu hỏi mới?' },
    { results_visibility: 'after_close' },
    { allow_change: true },
    { max_choices: 2 },
    { closes_at: '2098-01-01T00:00:00+07:00' },
    { opens_at: '2020-01-01T00:00:00+07:00' },
    { status: 'closed' },
    { options: [{ id: 'mot', label: 'Một' }, { id: 'hai', label: 'Hai' }, { id: 'ba', label: 'Ba' }, { id: 'bon', label: 'Bốn' }] },
  ];
  const answers = await Promise.all(patches.map((json, i) => admin('PATCH', `/admin/v1/polls/${id}`, { json, on: i % 2 ? b : a })));
  const made = [];
  answers.forEach((r, i) => {
    if (r.status === 200) made.push(patches[i]);
    else assertError(r, 409, 'conflict');
  });
  assert.ok(made.length >= 1, 'at least one concurrent change goes through');
  const fin = await getAdmin(id);
  assert.equal(fin.version, 1 + made.length, `version after ${made.length} changes: ${JSON.stringify(answers.map((r) => r.status))}`);
  const expected = {
    question: 'Câu hỏi mới?', results_visibility: 'after_close', allow_change: true, max_choices: 2,
    closes_at: '2098-01-01T00:00:00+07:00', opens_at: '2020-01-01T00:00:00+07:00', status: 'closed',
  };
  for (const patch of made) {
    const [key] = Object.keys(patch);
    if (key === 'options') assert.equal(fin.options.length, 4, 'the added option was lost');
    else assert.deepEqual(fin[key], expected[key], `the change of ${key} was lost: ${JSON.stringify(fin)}`);
  }
});

test('without the test clock, X-Thamdo-Test-Now is ignored', async () => {
  await create('gio-that');
  const t0 = Date.now();
  const v = await request(a.url, 'POST', '/api/v1/polls/gio-that/votes', {
    json: { options: ['mot'] }, headers: { 'X-Thamdo-Test-Now': '2001-01-01T00:00:00Z' },
  });
  assert.equal(v.status, 201, v.text);
  const res = await admin('GET', '/admin/v1/polls/gio-that/results', { headers: { 'X-Thamdo-Test-Now': '2001-01-01T00:00:00Z' } });
  assert.equal(res.status, 200, res.text);
  const first = Date.parse(res.json.first_vote_at);
  assert.ok(Math.abs(first - t0) < 5000, `first_vote_at ${res.json.first_vote_at} must be the real time, not the header`);
});
