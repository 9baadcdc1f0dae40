// Live results: GET /api/v1/polls/{id}/events (Server-Sent Events). The stream's headers and first
// event (the JSON of GET /results), an event after a vote cast on another connection, pushes
// coalesced per poll (and one store read per push, shared by the streams of the poll), the same
// 404/403 answers as /results, a client that leaves frees its place at once, the bound on streams,
// keep-alive comments with no idle timeout, the end of a stream when its poll closes, and SIGTERM
// ending every stream at once.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRedis, startThamdo, makePoll, request, Voter, assertError, assertResults, sleep, rfc3339,
} from './lib/harness.mjs';
import { validateResponse } from './lib/openapi.mjs';

const ALLOWED = 'http://portal.example';
const P = {
  live: makePoll('truc-tiep', { options: ['a', 'b'] }),
  burst: makePoll('doan-phieu', { options: ['x', 'y'] }),
  afterVote: makePoll('sau-binh-chon', { results_visibility: 'after_vote', options: ['co', 'khong'] }),
  afterClose: makePoll('sau-khi-dong', { results_visibility: 'after_close' }),
  never: makePoll('khong-bao-gio', { results_visibility: 'never' }),
  closed: makePoll('da-dong', { status: 'closed' }),
};

let redis;
let svc;
let url;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, polls: Object.values(P), env: { THAMDO_ALLOWED_ORIGINS: ALLOWED } });
  url = svc.url;
});

/**
 * Opens a stream with fetch. Returns {status, headers, events: [{event, data}], comments, ended,
 * until(check, ms), close()}; a non-200 answer is returned with its JSON (`json`) and no stream.
 * Every answer is checked against api/openapi.yaml.
 */
async function openStream(base, pollId, { cookie, headers = {} } = {}) {
  const ctl = new AbortController();
  const p = `/api/v1/polls/${pollId}/events`;
  const h = { ...headers };
  if (cookie) h.cookie = cookie;
  const res = await fetch(base + p, { headers: h, signal: ctl.signal });
  if (res.status !== 200) {
    const text = await res.text();
    validateResponse({ method: 'GET', path: p, status: res.status, headers: res.headers, body: text });
    return { status: res.status, headers: res.headers, json: JSON.parse(text) };
  }
  validateResponse({ method: 'GET', path: p, status: 200, headers: res.headers, body: '' });
  const s = { status: 200, headers: res.headers, events: [], comments: [], fields: [], ended: false, raw: '', close: () => ctl.abort() };
  s.done = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        const text = decoder.decode(chunk, { stream: true });
        s.raw += text;
        buf += text;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = { event: 'message', data: null };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) s.comments.push(line);
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
            else s.fields.push(line);
          }
          if (ev.data !== null) s.events.push(ev);
        }
      }
    } catch { /* aborted by close() */ }
    s.ended = true;
  })();
  /** Waits (bounded) until check() is truthy; returns its value. */
  s.until = async (check, ms = 10000, what = 'stream condition') => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > deadline) assert.fail(`${what}: not met within ${ms} ms; received:\n${s.raw}`);
      await sleep(20);
    }
  };
  s.results = () => s.events.filter((e) => e.event === 'results').map((e) => e.data);
  return s;
}

async function evalshaCalls() {
  const m = (await redis.cli('INFO', 'commandstats')).match(/cmdstat_evalsha:calls=(\d+)/);
  return m ? Number(m[1]) : 0;
}

test('a stream: event-stream headers, no cookie issued, and first the results of GET /results', async () => {
  const s = await openStream(url, P.live.id, { headers: { origin: ALLOWED } });
  assert.equal(s.status, 200);
  assert.match(s.headers.get('content-type'), /^text\/event-stream\b/);
  assert.equal(s.headers.get('cache-control'), 'no-store');
  assert.equal(s.headers.get('x-accel-buffering'), 'no');
  assert.equal(s.headers.get('access-control-allow-origin'), ALLOWED);
  assert.equal(s.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(s.headers.getSetCookie().length, 0, 'a stream never issues a voter cookie');
  await s.until(() => s.events.length >= 1, 10000, 'first event');
  assert.equal(s.events[0].event, 'results');
  const rest = await request(url, 'GET', `/api/v1/polls/${P.live.id}/results`);
  assert.deepEqual(s.events[0].data, rest.json);
  assertResults(s.events[0].data, P.live);
  assert.deepEqual(s.fields, ['retry: 10000']);
  s.close();
  await s.done;
});

test('a vote on another connection reaches the stream; a vote refused sends nothing', async () => {
  const s = await openStream(url, P.live.id);
  await s.until(() => s.events.length >= 1);
  const before = s.events[0].data.total;
  const voter = new Voter(url);
  assert.equal((await voter.vote(P.live.id, ['b'])).status, 201);
  const got = await s.until(() => s.results().find((r) => r.total === before + 1), 10000, 'results after the vote');
  assertResults(got, P.live);
  assert.equal(got.options.find((o) => o.id === 'b').votes >= 1, true);
  assert.equal((await voter.vote(P.live.id, ['a'])).status, 409); // already voted: nothing changed
  const n = s.events.length;
  // A change after the refusal must come alone: the refusal pushed nothing before it.
  assert.equal((await new Voter(url).vote(P.live.id, ['a'])).status, 201);
  await s.until(() => s.results().some((r) => r.total === before + 2), 10000, 'second vote');
  assert.equal(s.events.length, n + 1, `one event for the one counted vote:\n${s.raw}`);
  s.close();
  await s.done;
});

test('a burst of votes: pushes coalesced (at most 4 a second) and one store read per push, whatever the streams', async () => {
  const streams = await Promise.all([1, 2, 3].map(() => openStream(url, P.burst.id)));
  for (const s of streams) await s.until(() => s.events.length >= 1);
  const N = 40;
  const reads0 = await evalshaCalls();
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < N) {
      next++;
      const r = await new Voter(url).vote(P.burst.id, ['x']);
      assert.equal(r.status, 201, r.text);
    }
  }));
  for (const s of streams) await s.until(() => s.results().some((r) => r.total === N), 10000, 'the last total');
  const elapsed = Date.now() - t0;
  const reads = (await evalshaCalls()) - reads0 - N; // the votes' own scripts are N of them
  // Pushes start at least 250 ms apart: over `elapsed` ms at most elapsed/250 + 1 per worker that
  // has streams of the poll, and one more read may come from the keep-alive walk (every 25 s).
  const perWorker = Math.floor(elapsed / 250) + 2;
  const bound = perWorker * svc.workers;
  assert.ok(reads >= 1 && reads <= bound, `store reads for pushes: ${reads} in ${elapsed} ms (at most ${bound}), 3 streams`);
  for (const s of streams) {
    const pushed = s.events.length - 1;
    assert.ok(pushed >= 1 && pushed <= perWorker, `events pushed: ${pushed} in ${elapsed} ms (at most ${perWorker})`);
    const totals = s.results().map((r) => r.total);
    assert.deepEqual([...totals].sort((a, b) => a - b), totals, 'totals never go back');
    s.close();
  }
  await Promise.all(streams.map((s) => s.done));
});

test('the answers of GET /results: 404 unknown poll, 403 results_hidden, 200 after a vote on an after_vote poll; never a cookie', async () => {
  for (const id of ['khong-co', 'Bad_Id']) {
    const s = await openStream(url, id);
    assert.equal(s.status, 404);
    assert.equal(s.json.error.code, 'poll_not_found');
    assert.equal(s.headers.getSetCookie().length, 0);
  }
  for (const id of [P.afterVote.id, P.afterClose.id, P.never.id]) {
    const s = await openStream(url, id);
    assert.equal(s.status, 403, id);
    assert.equal(s.json.error.code, 'results_hidden');
    assert.equal(s.headers.getSetCookie().length, 0);
  }
  const voter = new Voter(url);
  assert.equal((await voter.vote(P.afterVote.id, ['co'])).status, 201);
  const s = await openStream(url, P.afterVote.id, { cookie: voter.cookieHeader() });
  assert.equal(s.status, 200);
  await s.until(() => s.events.length >= 1);
  assert.equal(s.events[0].data.total, 1);
  s.close();
  await s.done;
  const refused = await openStream(url, P.live.id, { headers: { origin: 'http://evil.example' } });
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, 'origin_not_allowed');
  const head = await request(url, 'HEAD', `/api/v1/polls/${P.live.id}/events`);
  assert.equal(head.status, 200);
  assert.match(head.headers.get('content-type'), /^text\/event-stream\b/);
});

test('a closed poll: its results, then "closed", then the end of the stream', async () => {
  const s = await openStream(url, P.closed.id);
  assert.equal(s.status, 200);
  await s.done;
  assert.deepEqual(s.events.map((e) => e.event), ['results', 'closed']);
  assert.deepEqual(s.events[1].data, { poll_id: P.closed.id });
  assertResults(s.events[0].data, P.closed);
});

test('THAMDO_MAX_STREAMS: past the bound 503 too_many_streams; a client that leaves frees its place at once', async () => {
  const one = await startThamdo({ redis, polls: [P.live], env: { THAMDO_MAX_STREAMS: '1', THAMDO_THREADS: '1' } });
  const a = await openStream(one.url, P.live.id);
  assert.equal(a.status, 200);
  await a.until(() => a.events.length >= 1);
  const full = await request(one.url, 'GET', `/api/v1/polls/${P.live.id}/events`);
  assertError(full, 503, 'too_many_streams');
  assert.equal(full.headers.get('retry-after'), '30');
  a.close();
  await a.done;
  // The place is free as soon as the server saw the connection close (bounded wait, no sleep).
  let b;
  const deadline = Date.now() + 5000;
  for (;;) {
    b = await openStream(one.url, P.live.id);
    if (b.status === 200 || Date.now() > deadline) break;
    assert.equal(b.json.error.code, 'too_many_streams');
    await sleep(20);
  }
  assert.equal(b.status, 200, 'the place of the client that left was given back');
  await b.until(() => b.events.length >= 1);
  b.close();
  await b.done;
  await one.stop();
  const off = await startThamdo({ redis, polls: [P.live], env: { THAMDO_MAX_STREAMS: '0' } });
  assertError(await request(off.url, 'GET', `/api/v1/polls/${P.live.id}/events`), 503, 'too_many_streams');
  await off.stop();
});

test('SIGTERM ends every stream at once, and the process exits without waiting for them', async () => {
  const t = await startThamdo({ redis, polls: [P.live, P.burst] });
  const streams = await Promise.all([P.live.id, P.live.id, P.burst.id].map((id) => openStream(t.url, id)));
  for (const s of streams) await s.until(() => s.events.length >= 1);
  const t0 = Date.now();
  await t.stop(); // exit status 0, no sanitizer report
  const elapsed = Date.now() - t0;
  await Promise.all(streams.map((s) => s.done));
  for (const s of streams) assert.ok(s.ended);
  assert.ok(elapsed < 5000, `exit took ${elapsed} ms: the streams were waited for (the drain lasts 10 s)`);
  // Each worker ends its own streams and says how many.
  const ended = [...t.stderr().matchAll(/ended (\d+) live results stream\(s\)/g)].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(ended, 3, t.stderr());
});

test('keep-alive comments, no idle timeout (past the 30 s of other connections); the walk ends the streams of a poll that closed or hid its results', async () => {
  const TOKEN = 'events-test-token-0123456789';
  const soon = makePoll('sap-dong', { closes_at: rfc3339(Date.now() + 12000) });
  const byEditor = makePoll('bien-tap-dong');
  const hidden = makePoll('se-an-ket-qua');
  const t = await startThamdo({ redis, polls: [P.live, soon, byEditor, hidden], env: { THAMDO_ADMIN_TOKENS: TOKEN } });
  const admin = { headers: { authorization: `Bearer ${TOKEN}` } };
  const t0 = Date.now();
  const open = await openStream(t.url, P.live.id);
  const ending = await Promise.all([soon, byEditor, hidden].map((p) => openStream(t.url, p.id)));
  for (const s of ending) await s.until(() => s.events.length >= 1);
  assert.equal((await request(t.url, 'POST', `/admin/v1/polls/${byEditor.id}/close`, admin)).status, 200);
  const patched = await request(t.url, 'PATCH', `/admin/v1/polls/${hidden.id}`, { ...admin, json: { results_visibility: 'never' } });
  assert.equal(patched.status, 200, patched.text);
  // The keep-alive walk (every 25 s) re-reads each poll: closes_at passed, or an editor closed it:
  // the last results, "closed", the end; results hidden now: the end, with nothing more.
  for (const s of ending) await s.until(() => s.ended, 40000, 'the end of the stream');
  for (const s of ending.slice(0, 2)) {
    assert.deepEqual(s.events.map((e) => e.event), ['results', 'results', 'closed']);
    assert.deepEqual(s.events[1].data, s.events[0].data, 'the final results (no vote came)');
  }
  assert.deepEqual(ending[2].events.map((e) => e.event), ['results']);
  await open.until(() => open.comments.includes(': keep-alive'), 30000, 'a keep-alive comment');
  await sleep(Math.max(0, t0 + 33000 - Date.now())); // past evhttp's 30 s timeout
  assert.equal(open.ended, false, 'the stream outlived the idle timeout');
  const before = open.events.length;
  assert.equal((await new Voter(t.url).vote(P.live.id, ['a'])).status, 201);
  await open.until(() => open.events.length > before, 10000, 'an event after 33 s');
  open.close();
  await open.done;
  await t.stop();
});
