// Concurrency: one voter racing itself (50 parallel votes with the same cookie → exactly one
// counts) and many distinct voters in parallel (every ballot counted exactly once).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, makePoll, request, Voter, assertError, assertResults,
  COOKIE_NAME, COOKIE_RE, readSettled,
} from './lib/harness.mjs';

const P = {
  same: makePoll('same-cookie'),
  many: makePoll('many-voters', { options: ['a', 'b', 'c', 'd'] }),
  anon: makePoll('anon-voters', { options: ['x', 'y'] }),
  multi: makePoll('multi-race', { max_choices: 2, options: ['a', 'b', 'c'] }),
};

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, polls: Object.values(P) });
  url = svc.url;
});

test('50 concurrent votes with the same cookie: exactly one 201, 49 × 409, total 1', async () => {
  const v = new Voter(url);
  await v.get('same-cookie');
  assert.match(v.cookie, COOKIE_RE);
  const cookie = v.cookieHeader(); // the voter id and the "voted polls" cookie, as a browser sends them
  const opts = ['opt-a', 'opt-b', 'opt-c'];
  const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => request(url, 'POST', '/api/v1/polls/same-cookie/votes', {
    cookie, json: { options: [opts[i % 3]] }, timeout: 30000,
  })));
  const statuses = rs.map((r) => r.status);
  const created = rs.filter((r) => r.status === 201);
  const conflicts = rs.filter((r) => r.status === 409);
  assert.equal(created.length, 1, `statuses: ${JSON.stringify(statuses)}`);
  assert.equal(conflicts.length, 49, `statuses: ${JSON.stringify(statuses)}`);
  const winner = created[0].json.choice;
  for (const c of conflicts) {
    assertError(c, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
    assert.deepEqual(c.json.choice, winner, 'every 409 reports the one recorded choice');
  }
  for (const r of rs) assert.equal(r.setCookies.filter((c) => c.name === COOKIE_NAME).length, 0, 'valid cookie never re-issued');
  const res = await readSettled(url, '/api/v1/polls/same-cookie/results', (x) => x.json?.total === 1);
  const counts = assertResults(res.json, P.same);
  assert.equal(res.json.total, 1);
  assert.equal(res.json.voters, 1);
  assert.equal(counts[winner[0]], 1);
  // As a browser would, the jar keeps the "voted polls" cookie the answers set.
  const voted = rs.flatMap((r) => r.setCookies.filter((c) => c.name === `${COOKIE_NAME}_voted`));
  assert.ok(voted.length >= 1, 'the answers mark the poll as voted');
  v.voted = voted[voted.length - 1].value;
  const g = await v.get('same-cookie');
  assert.deepEqual(g.json.choice, winner);
});

test('200 concurrent distinct voters (cookies from GET): all 201, exact per-option counts', async () => {
  const N = 200;
  const options = ['a', 'b', 'c', 'd'];
  const voters = Array.from({ length: N }, () => new Voter(url));
  const gets = await Promise.all(voters.map((v) => v.get('many-voters', { timeout: 30000 })));
  for (const g of gets) assert.equal(g.status, 200);
  const ids = new Set(voters.map((v) => v.cookie));
  assert.equal(ids.size, N, 'every GET issued a distinct cookie');
  const expected = { a: 0, b: 0, c: 0, d: 0 };
  const choices = voters.map((_, i) => options[(i * 7) % 11 % 4]);
  for (const c of choices) expected[c]++;
  const rs = await Promise.all(voters.map((v, i) => v.vote('many-voters', [choices[i]], { timeout: 30000 })));
  const bad = rs.map((r, i) => [i, r.status, r.text]).filter(([, s]) => s !== 201);
  assert.deepEqual(bad, [], 'every distinct voter gets 201');
  rs.forEach((r, i) => assert.deepEqual(r.json.choice, [choices[i]]));
  const res = await readSettled(url, '/api/v1/polls/many-voters/results', (x) => x.json?.total === N);
  const counts = assertResults(res.json, P.many);
  assert.equal(res.json.total, N);
  assert.equal(res.json.voters, N);
  assert.deepEqual(counts, expected);
  // each voter sees its own choice
  const again = await Promise.all(voters.slice(0, 40).map((v) => v.get('many-voters', { timeout: 30000 })));
  again.forEach((g, i) => {
    assert.equal(g.json.voted, true);
    assert.deepEqual(g.json.choice, [choices[i]]);
  });
});

test('100 concurrent voters without any cookie: all 201, distinct cookies, total exact', async () => {
  const N = 100;
  const choices = Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 'x' : 'y'));
  const rs = await Promise.all(choices.map((c) => request(url, 'POST', '/api/v1/polls/anon-voters/votes', {
    json: { options: [c] }, timeout: 30000,
  })));
  const bad = rs.map((r) => r.status).filter((s) => s !== 201);
  assert.deepEqual(bad, []);
  const cookies = rs.map((r) => r.setCookies.find((c) => c.name === COOKIE_NAME)?.value);
  for (const c of cookies) assert.match(c || '', COOKIE_RE);
  assert.equal(new Set(cookies).size, N, 'each anonymous voter got its own cookie');
  const res = await readSettled(url, '/api/v1/polls/anon-voters/results', (x) => x.json?.total === N);
  const counts = assertResults(res.json, P.anon);
  assert.equal(res.json.total, N);
  assert.deepEqual(counts, { x: choices.filter((c) => c === 'x').length, y: choices.filter((c) => c === 'y').length });
});

test('multiple choice race: 30 parallel two-option ballots with one cookie count once', async () => {
  const v = new Voter(url);
  await v.get('multi-race');
  const sets = [['a', 'b'], ['b', 'c'], ['a', 'c']];
  const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => v.vote('multi-race', sets[i % 3], { timeout: 30000 })));
  assert.equal(rs.filter((r) => r.status === 201).length, 1, JSON.stringify(rs.map((r) => r.status)));
  assert.equal(rs.filter((r) => r.status === 409).length, 29);
  const res = await readSettled(url, '/api/v1/polls/multi-race/results', (x) => x.json?.total === 2);
  assertResults(res.json, P.multi);
  assert.equal(res.json.total, 2);
  assert.equal(res.json.voters, 1);
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
