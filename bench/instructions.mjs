// bench/instructions.mjs - `make bench-instructions`: user-space instructions per request,
// counted by valgrind's callgrind, for thamdo's hot paths and the bare evhttp server.
//
// Noise-free and comparable between commits: each server runs under callgrind once with
// the warm-up only and once with the warm-up and then REQUESTS requests of one scenario,
// all sequential on one keep-alive connection; the difference divided by REQUESTS is the
// cost of one request, start-up and shut-down excluded. thamdo's warm-up is the same mix
// of every scenario in each of its runs, so one warm-up-only run serves them all.
// Then the "cost does not grow with the data" targets, on the data of bench/seed.mjs: a vote
// and a results read on a poll of 1,000 voters against one of 1,000,000 (within 10%) and on
// a 2-option poll against a 50-option one (within 1.5x), and the open-poll list without and
// with 200 archived polls (within 10%, the second against a warm-up run of its own).
// thamdo runs with THAMDO_THREADS=1 and the bare servers with one loop.
// Knobs: BENCH_REQUESTS (2000), BENCH_LIST_REQUESTS (200: one list read with 200 archived polls
// costs tens of times a results read, and callgrind runs it 50 times slower than native),
// BENCH_WARMUP (100 per scenario), BENCH_MANY_VOTERS (1000000), BENCH_ARCHIVED (200),
// BENCH_MAX_SECONDS. A piece that cannot be measured (a route the binary
// lacks, a seed the store does not count) is reported "not measured" with the reason.
// Must not judge anything but the instruction targets (README.md, Performance).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  knob, machine, mark, need, request, scenarios, setup, startBare, startThamdo, stop, table,
  voterCookie, waitFor, watchdog, writePolls, writeResult,
} from './lib.mjs';
import { GROWTH_POLLS, KEY_PREFIX, archivedPolls, seedVoters } from './seed.mjs';

const REQUESTS = knob('BENCH_REQUESTS', 2000, 100, 100000);
const LIST_REQUESTS = knob('BENCH_LIST_REQUESTS', 200, 50, 100000);
const WARMUP = knob('BENCH_WARMUP', 100, 10, 10000);
const FEW_VOTERS = 1000;
const MANY_VOTERS = knob('BENCH_MANY_VOTERS', 1000000, FEW_VOTERS, 100000000);
const ARCHIVED = knob('BENCH_ARCHIVED', 200, 1, 100000);
watchdog(knob('BENCH_MAX_SECONDS', 2400, 60, 86400));
need('valgrind', 'make bench-instructions installs it (Debian package valgrind)');
need('redis-server', 'make deps installs it (Debian package redis-server)');

// Sends n requests of scenario s, one after the other, on the one connection of agent;
// resolves with the number of connections opened for them (0 when the one was reused).
async function send(port, agent, s, n) {
  let opened = 0;
  for (let i = 0; i < n; i++) {
    const r = await request(port, { method: s.method, path: s.path, headers: s.headers, body: s.body, agent });
    if (r.status !== s.expect) throw new Error(`${s.name}: answered ${r.status}, expected ${s.expect}: ${r.body.slice(0, 200)}`);
    if (!r.reused) opened++;
  }
  return opened;
}

// One run under callgrind: start, warm-up, then n requests of s (none when s is null),
// stop; resolves with the instructions the process executed in all.
let runs = 0;
async function counted(ctx, server, warm, s, n) {
  const id = `cg${++runs}`;
  const out = path.join(ctx.dir, `${id}.out`);
  const prefix = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`,
    `--log-file=${path.join(ctx.dir, `${id}.valgrind.log`)}`];
  const opts = { name: `${id}-${server}`, prefix, ms: 180000, env: { THAMDO_THREADS: '1' } };
  const srv = server === 'thamdo' ? await startThamdo(ctx, opts)
    : await startBare(ctx, { ...opts, hincrby: server === 'bare_hincrby' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await ctx.redis.resp.command('CONFIG', 'RESETSTAT');
  let sockets = 0;
  try {
    for (const w of warm) sockets += await send(srv.port, agent, w, WARMUP);
    if (s) sockets += await send(srv.port, agent, s, n);
  } catch (e) {
    agent.destroy();
    await stop(srv.child, 120000);
    throw e;
  }
  agent.destroy();
  const redisUs = await redisMicroseconds(ctx.redis.resp);
  const rc = await stop(srv.child, 120000);
  if (rc !== 0) throw new Error(`${srv.name}: exited with ${rc}`);
  if (sockets > 1) throw new Error(`${srv.name}: the client opened ${sockets} connections, expected one`);
  const m = /^summary:\s+(\d+)/m.exec(fs.readFileSync(out, 'utf8')) || /^totals:\s+(\d+)/m.exec(fs.readFileSync(out, 'utf8'));
  if (!m) throw new Error(`${out}: no instruction total`);
  return { instr: Number(m[1]), redisUs };
}

// Microseconds Redis spent in commands since the last CONFIG RESETSTAT (INFO commandstats,
// its own clock: not instructions, but free of the client's and the server's time).
async function redisMicroseconds(resp) {
  const text = await resp.command('INFO', 'commandstats');
  let us = 0;
  for (const m of text.matchAll(/^cmdstat_(\w+):calls=\d+,usec=(\d+)/gm)) if (m[1] !== 'info' && m[1] !== 'config') us += Number(m[2]);
  return us;
}


const started = Date.now();
const ctx = await setup(GROWTH_POLLS);
const info = machine();
const NOT = 'not measured';
const listScenario = { key: 'list', name: 'open-poll list', server: 'thamdo', path: '/api/v1/polls?status=open', expect: 200 };
const growth = (key, p, what) => (what === 'results'
  ? { key, name: `results GET, ${key}`, server: 'thamdo', path: `/api/v1/polls/${p}/results`, expect: 200 }
  : { key, name: `vote, new voter, ${key}`, server: 'thamdo', method: 'POST', path: `/api/v1/polls/${p}/votes`,
    headers: { 'Content-Type': 'application/json' }, body: '{"options":["o1"]}', expect: 201 });

// A first, uncounted start creates the polls, gives the cookie of a reader who voted and
// seeds the voters, so that every counted run finds the same data.
const first = await startThamdo(ctx, { name: 'thamdo-setup', env: { THAMDO_THREADS: '1' } });
const cookie = await voterCookie(first.port);
const seed = { few: null, many: null, wide: null };
const seedArgs = { port: first.port, resp: ctx.redis.resp, socket: ctx.redis.sock, option: 'o1', viaApi: FEW_VOTERS };
for (const [k, pollId, total] of [['few', 'grow-few', FEW_VOTERS], ['wide', 'grow-wide', FEW_VOTERS], ['many', 'grow-many', MANY_VOTERS]]) {
  const t0 = Date.now();
  try {
    seed[k] = { ok: true, how: await seedVoters({ ...seedArgs, pollId, total }) };
    console.log(`bench-instructions: ${pollId}: ${total} voters (${seed[k].how}), ${Math.round((Date.now() - t0) / 1000)} s`);
  } catch (e) {
    seed[k] = { ok: false, why: e.message };
    console.log(`bench-instructions: ${pollId}: cannot seed: ${e.message}`);
  }
}
await stop(first.child);

const all = scenarios(cookie);
const byKey = Object.fromEntries(all.map((s) => [s.key, s]));
const thamdoWarm = all.filter((s) => s.server === 'thamdo');
const per = {};
const redisPer = {}; // Redis microseconds per request (INFO commandstats), beside the count
const why = {};
console.log(`bench-instructions: callgrind, ${WARMUP} warm-up + ${REQUESTS} counted requests per scenario, one keep-alive connection`);
for (const server of ['bare', 'bare_hincrby']) {
  const warm = [byKey[server]];
  const base = await counted(ctx, server, warm, null, 0);
  const full = await counted(ctx, server, warm, byKey[server], REQUESTS);
  per[server] = (full.instr - base.instr) / REQUESTS;
  redisPer[server] = (full.redisUs - base.redisUs) / REQUESTS;
  console.log(`  ${byKey[server].name}: ${Math.round(per[server])} instructions/request`);
}
// One scenario against a warm-up-only run's count; a failure is reported, not fatal.
async function measure(s, base, n = REQUESTS) {
  try {
    const full = await counted(ctx, 'thamdo', thamdoWarm, s, n);
    per[s.key] = (full.instr - base.instr) / n;
    redisPer[s.key] = (full.redisUs - base.redisUs) / n;
    console.log(`  ${s.name}: ${Math.round(per[s.key])} instructions/request`);
  } catch (e) {
    why[s.key] = e.message.split('\n')[0];
    console.log(`  ${s.name}: ${NOT}: ${why[s.key]}`);
  }
}
const base = await counted(ctx, 'thamdo', thamdoWarm, null, 0);
for (const s of thamdoWarm) await measure(s, base);

// The growth scenarios: reads first, so that each poll still has its seeded voters, then
// votes (each run adds BENCH_REQUESTS new voters to its poll).
const GROWTH = [
  growth('results@few', 'grow-few', 'results'), growth('results@many', 'grow-many', 'results'),
  growth('results@wide', 'grow-wide', 'results'), { ...listScenario, key: 'list@0', name: 'open-poll list, 0 archived' },
  growth('vote@few', 'grow-few', 'vote'), growth('vote@many', 'grow-many', 'vote'), growth('vote@wide', 'grow-wide', 'vote'),
];
const seedOf = { few: 'few', many: 'many', wide: 'wide' };
for (const s of GROWTH) {
  const k = seedOf[s.key.split('@')[1]];
  if (k && !seed[k].ok) {
    why[s.key] = `seeding failed: ${seed[k].why}`;
    continue;
  }
  await measure(s, base, s.key.startsWith('list@') ? LIST_REQUESTS : REQUESTS);
}

// ARCHIVED archived polls (one uncounted start with a polls file that adds them), then the
// list again against a warm-up-only run of its own.
let archivedNote = null;
try {
  const before = await ctx.redis.resp.command('SCARD', `${KEY_PREFIX}polls`);
  const file = writePolls(ctx.dir, [...GROWTH_POLLS, ...archivedPolls(ARCHIVED)], 'polls-archived.json');
  const arch = await startThamdo({ ...ctx, pollsFile: file }, { name: 'thamdo-archive', env: { THAMDO_THREADS: '1' } });
  let after = before;
  await waitFor(async () => (after = await ctx.redis.resp.command('SCARD', `${KEY_PREFIX}polls`)) >= before + ARCHIVED,
    30000, 'the import of the archived polls', arch.child).catch(() => null);
  await stop(arch.child);
  if (after - before !== ARCHIVED) throw new Error(`the set of poll ids grew by ${after - before}, not ${ARCHIVED}`);
  const base2 = await counted(ctx, 'thamdo', thamdoWarm, null, 0);
  console.log(`bench-instructions: ${ARCHIVED} archived polls added`);
  await measure({ ...listScenario, key: `list@${ARCHIVED}`, name: `open-poll list, ${ARCHIVED} archived` }, base2, LIST_REQUESTS);
} catch (e) {
  archivedNote = e.message.split('\n')[0];
  why[`list@${ARCHIVED}`] = `cannot add the archived polls: ${archivedNote}`;
}
await stop(ctx.redis.child);

// The instruction targets, per request.
const targets = {
  results: { of: 'bare', max: 1.2 },
  poll: { of: 'bare', max: 1.2 },
  vote: { of: 'bare_hincrby', max: 1.5 },
};
const fmt = (x) => `${(x / 1000).toFixed(1)}k`;
const rows = [['scenario', 'instr/request', 'x bare', 'x bare+HINCRBY', 'Redis us/req', 'target']];
const out = [];
const verdicts = [];
for (const s of all) {
  const v = per[s.key];
  const t = targets[s.key];
  if (v === undefined) {
    out.push({ key: s.key, name: s.name, instructions_per_request: null, why: why[s.key] });
    if (t) verdicts.push(NOT);
    rows.push([s.name, NOT, '', '', '', why[s.key] || '']);
    continue;
  }
  const ratio = t ? v / per[t.of] : null;
  const target = t ? { of: t.of, max: t.max, ratio, met: ratio <= t.max, status: mark(ratio <= t.max) } : null;
  if (target) verdicts.push(target.status);
  out.push({ key: s.key, name: s.name, instructions_per_request: Math.round(v),
    ratio_bare: v / per.bare, ratio_bare_hincrby: v / per.bare_hincrby, redis_us_per_request: redisPer[s.key], target });
  rows.push([s.name, fmt(v), `${(v / per.bare).toFixed(2)}x`, `${(v / per.bare_hincrby).toFixed(2)}x`, redisPer[s.key].toFixed(1),
    t ? `<= ${t.max}x ${t.of === 'bare' ? 'bare' : 'bare+HINCRBY'}: ${ratio.toFixed(2)}x ${mark(ratio <= t.max)}` : '']);
}

// The growth targets: b against a, as a ratio b / a.
const PAIRS = [
  { what: `vote, ${FEW_VOTERS} vs ${MANY_VOTERS} voters`, a: 'vote@few', b: 'vote@many', within: 0.1 },
  { what: `results, ${FEW_VOTERS} vs ${MANY_VOTERS} voters`, a: 'results@few', b: 'results@many', within: 0.1 },
  { what: 'vote, 2 vs 50 options', a: 'vote@few', b: 'vote@wide', max: 1.5 },
  { what: 'results, 2 vs 50 options', a: 'results@few', b: 'results@wide', max: 1.5 },
  { what: `open-poll list, 0 vs ${ARCHIVED} archived polls`, a: 'list@0', b: `list@${ARCHIVED}`, within: 0.1 },
];
const growthRows = [['data', 'first', 'second', 'ratio', 'Redis us/req', 'target']];
const us = (k) => (redisPer[k] === undefined ? '-' : redisPer[k].toFixed(1));
const growthOut = [];
for (const p of PAIRS) {
  const [a, b] = [per[p.a], per[p.b]];
  const bound = p.within ? `within ${p.within * 100}%` : `<= ${p.max}x`;
  if (a === undefined || b === undefined) {
    const reason = why[p.a] || why[p.b] || 'not run';
    growthOut.push({ ...p, first: a ?? null, second: b ?? null, ratio: null, status: NOT, why: reason });
    verdicts.push(NOT);
    growthRows.push([p.what, a === undefined ? '-' : fmt(a), b === undefined ? '-' : fmt(b), '-', `${us(p.a)} / ${us(p.b)}`,
      `${bound}: ${NOT} (${reason})`]);
    continue;
  }
  const ratio = b / a;
  const ok = p.within ? Math.abs(ratio - 1) <= p.within : ratio <= p.max;
  growthOut.push({ ...p, first: Math.round(a), second: Math.round(b), ratio, status: mark(ok),
    redis_us_first: redisPer[p.a], redis_us_second: redisPer[p.b] });
  verdicts.push(mark(ok));
  growthRows.push([p.what, fmt(a), fmt(b), `${ratio.toFixed(2)}x`, `${us(p.a)} / ${us(p.b)}`, `${bound}: ${mark(ok)}`]);
}

const count = (st) => verdicts.filter((v) => v === st).length;
console.log('');
console.log(`thamdo instructions per request (callgrind; commit ${info.commit}; ${info.cores} cores; THAMDO_THREADS=1)`);
console.log(table(rows, (i) => i >= 1 && i <= 4));
console.log('');
console.log(`cost against the data (thamdo's instructions per request, the target; Redis us/req from INFO commandstats, ` +
  `first / second, for information; each vote run adds ${REQUESTS} new voters; the list: ${LIST_REQUESTS} requests per run)`);
console.log(table(growthRows, (i) => i >= 1 && i <= 4));
console.log(`targets: ${count('met')} met, ${count('MISSED')} MISSED, ${count(NOT)} not measured`);
const file = writeResult({
  kind: 'bench-instructions', time: new Date().toISOString(), machine: info,
  settings: { requests: REQUESTS, list_requests: LIST_REQUESTS, warmup_per_scenario: WARMUP, client: 'node http, one keep-alive connection',
    thamdo_threads: 1, few_voters: FEW_VOTERS, many_voters: MANY_VOTERS, archived: ARCHIVED },
  seed, scenarios: out, growth: growthOut,
  extra: Object.fromEntries(GROWTH.map((s) => [s.key, per[s.key] === undefined ? { why: why[s.key] } : Math.round(per[s.key])])),
  summary: { met: count('met'), missed: count('MISSED'), not_measured: count(NOT) },
  seconds: Math.round((Date.now() - started) / 1000),
}, '-instructions');
console.log(`\nwritten to ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
