// Two instances on one Redis with the same secret: a cookie one issued is honoured by the other,
// one voter voting through both at once is counted once, and an instance killed -9 under load
// loses no acknowledged vote (an instance answers 201 only once Redis has the vote).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, Voter, sleep } from '../blackbox/lib/harness.mjs';
import { voteLoad, countLost, total, statusCounts, until } from './lib.mjs';

const P = { shared: makePoll('shared'), twin: makePoll('twin'), load: makePoll('load') };
let redis;
let a;
let b;

before(async () => {
  redis = await startRedis();
  a = await startThamdo({ redis, polls: Object.values(P) });
  b = await startThamdo({ redis, polls: Object.values(P) });
});

test('a cookie issued by one instance is honoured by the other', async () => {
  const v = new Voter(a.url);
  const r = await v.vote('shared', ['opt-a']);
  assert.equal(r.status, 201, r.text);
  assert.ok(r.issued, 'instance A issued a cookie');
  const seen = await v.get('shared', { base: b.url });
  assert.equal(seen.status, 200);
  assert.equal(seen.issued, null, 'B does not re-issue the cookie A issued');
  assert.equal(seen.json.voted, true);
  assert.deepEqual(seen.json.choice, ['opt-a']);
  const again = await v.vote('shared', ['opt-b'], { base: b.url });
  assert.equal(again.status, 409, again.text);
  assert.equal(again.json.error.code, 'already_voted');
});

test('one voter voting on both instances at once counts once', async () => {
  const N = 30;
  const voters = [];
  for (let i = 0; i < N; i++) {
    const v = new Voter(a.url);
    const r = await v.get('twin');
    assert.equal(r.status, 200);
    assert.ok(v.cookie, 'a cookie before voting');
    voters.push(v);
  }
  const answers = await Promise.all(voters.map(async (v) => {
    const cookie = v.cookieHeader();
    const rs = await Promise.all([a.url, b.url].map((u) => request(u, 'POST', '/api/v1/polls/twin/votes', { json: { options: ['opt-c'] }, cookie })));
    return rs.map((r) => r.status).sort();
  }));
  const ones = answers.filter((s) => s[0] === 201 && s[1] === 409).length;
  const tally = await total(b.url, 'twin');
  console.log(`# one voter on both at once: ${N} voters, ${ones} answered 201 + 409, tally ${tally}`);
  assert.equal(ones, N, `answers: ${JSON.stringify(answers)}`);
  assert.equal(tally, N);
});

test('an instance killed -9 under load loses no acknowledged vote', async () => {
  const load = voteLoad({ urls: [a.url, b.url], pollId: 'load', option: 'opt-a', concurrency: 8 });
  await until(() => load.log.filter((e) => e.status === 201 && e.url === a.url).length >= 30, { timeout: 15000, what: 'votes flow through A' });
  const killedAt = Date.now();
  process.kill(a.pid, 'SIGKILL');
  await a.exited;
  await until(() => load.log.filter((e) => e.url === b.url && e.status === 201 && e.t0 > killedAt).length >= 30, {
    timeout: 15000, what: 'B keeps counting',
  });
  const log = await load.stop();
  const { acked, lost } = await countLost(log, b.url, 'load');
  const viaA = log.filter((e) => e.url === a.url);
  const tally = await total(b.url, 'load');
  console.log(`# instance killed -9: answers via A ${JSON.stringify(statusCounts(viaA))}, all ${JSON.stringify(statusCounts(log))}; ` +
    `acknowledged ${acked}, lost ${lost}, tally ${tally}`);
  assert.equal(lost, 0, `${lost} of ${acked} acknowledged votes lost`);
  assert.ok(tally >= acked && tally <= log.length, `tally ${tally}, acknowledged ${acked}`);
  await sleep(0);
  await b.stop();
});
