// bench/bench.mjs - `make bench`: throughput and latency of thamdo against the bare evhttp
// server, with the performance targets (README.md, Performance) marked met or missed.
//
// One private redis-server (append-only, fsync every second, no RDB), one optimised thamdo
// (and one with THAMDO_THREADS=2 once the binary knows that setting), the bare server and the
// bare server with one HINCRBY per request. Then, in order:
//   1. Redis bytes per voter: BENCH_VOTERS votes from as many new readers on a poll of their
//      own, against used_memory of INFO memory, beside a plain SADD set of 16-byte ids;
//   2. a short warm-up of every scenario;
//   3. BENCH_ROUNDS rounds, each running every scenario for BENCH_SECONDS with
//      wrk -t1 -c BENCH_CONNECTIONS (the order turns by one each round), so that the noise of
//      a shared machine spreads over all of them; CPU per request of the server and of Redis
//      from /proc/PID/stat around each run;
//   4. one pass at one connection (BENCH_C1_SECONDS each; 0 skips it) for the latency alone.
// Prints one table (medians over the rounds) and writes the whole result as JSON to
// bench/results/. Loopback only; every wait bounded; everything started is stopped at the end.
// Must not be part of make test: nothing here is a pass or fail of the build.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import crypto from 'node:crypto';
import path from 'node:path';
import {
  MEMORY_POLL, ROOT, THAMDO_BIN, capture, cpuSeconds, knob, machine, mark, median, need, request,
  scenarios, setup, sleep, startBare, startThamdo, stop, table, usedMemory, voterCookie,
  watchdog, writeResult,
} from './lib.mjs';

const ROUNDS = knob('BENCH_ROUNDS', 5, 1, 100);
const SECONDS = knob('BENCH_SECONDS', 4, 1, 600);
const CONNECTIONS = knob('BENCH_CONNECTIONS', 64, 1, 10000);
const C1_SECONDS = knob('BENCH_C1_SECONDS', 2, 0, 600);
const WARMUP_SECONDS = knob('BENCH_WARMUP_SECONDS', 1, 0, 60);
const VOTERS = knob('BENCH_VOTERS', 100000, 0, 10000000);
const WRK_SCENARIOS = ['bare', 'bare_hincrby', 'results', 'poll', 'vote', 'widget', 'visit', 'counter'];

need('wrk', 'make bench installs it (Debian package wrk)');
need('redis-server', 'make deps installs it (Debian package redis-server)');
const help = execFileSync(THAMDO_BIN, ['--help']).toString();
const threadsKnown = help.includes('THAMDO_THREADS');
const THREADS = process.env.BENCH_THREADS ? process.env.BENCH_THREADS.split(',').map(Number)
  : threadsKnown ? [1, 2] : [1];
if (!THREADS.every((t) => Number.isInteger(t) && t >= 1 && t <= 64) || THREADS[0] !== 1) {
  console.error("bench: BENCH_THREADS: expected '1' or '1,2' (the first must be 1)");
  process.exit(2);
}
const perRound = WRK_SCENARIOS.length + (WRK_SCENARIOS.length - 2) * (THREADS.length - 1);
const planned = perRound * (WARMUP_SECONDS + ROUNDS * SECONDS + C1_SECONDS) + VOTERS / 2500 + 30;
watchdog(knob('BENCH_MAX_SECONDS', Math.ceil(planned * 3 + 120), 60, 864000));

const started = Date.now();
const info = machine();
const ctx = await setup();
const servers = {
  bare: await startBare(ctx, { name: 'bare' }),
  bare_hincrby: await startBare(ctx, { name: 'bare-hincrby', hincrby: true }),
};
if (THREADS.length > 1 && !threadsKnown) {
  console.error('bench: warning: thamdo --help does not list THAMDO_THREADS: the 2-thread column runs one thread');
}
for (const t of THREADS) {
  servers[`thamdo${t}`] = await startThamdo(ctx, { name: `thamdo-${t}`, env: { THAMDO_THREADS: String(t) } });
}
const cookie = await voterCookie(servers.thamdo1.port);
const all = scenarios(cookie).filter((s) => WRK_SCENARIOS.includes(s.key));

console.log(`bench: ${ROUNDS} rounds x ${all.length} scenarios x ${SECONDS} s, wrk -t1 -c${CONNECTIONS}; ` +
  `threads ${THREADS.join(',')}${threadsKnown ? '' : ' (THAMDO_THREADS: n/a until workers land)'}; ` +
  `about ${Math.ceil(planned / 60)} min`);

// ------------------------------------------------------------ bytes per voter
async function voterBytes(n) {
  const resp = ctx.redis.resp;
  const port = servers.thamdo1.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const before = await usedMemory(resp);
  let sent = 0;
  let bad = 0;
  let firstBad = '';
  const worker = async () => {
    while (sent < n) {
      sent++;
      const r = await request(port, {
        method: 'POST', path: `/api/v1/polls/${MEMORY_POLL}/votes`, agent,
        headers: { 'Content-Type': 'application/json' }, body: '{"options":["co"]}',
      });
      if (r.status !== 201 && bad++ === 0) firstBad = `${r.status} ${r.body.slice(0, 200)}`;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  agent.destroy();
  if (bad) throw new Error(`bytes per voter: ${bad} of ${n} votes were not counted (first: ${firstBad})`);
  const res = JSON.parse((await request(port, { path: `/api/v1/polls/${MEMORY_POLL}/results` })).body);
  if (res.voters !== n) throw new Error(`bytes per voter: ${res.voters} voters recorded, ${n} sent`);
  await sleep(1000); // Redis finishes growing its hash tables in its background cron
  const after = await usedMemory(resp);

  const key = 'bench:{sadd}:ids';
  const setBefore = await usedMemory(resp);
  for (let done = 0; done < n;) {
    const cmds = [];
    for (let c = 0; c < 10 && done < n; c++) {
      const k = Math.min(1000, n - done);
      cmds.push(['SADD', key, ...Array.from({ length: k }, () => crypto.randomBytes(16))]);
      done += k;
    }
    await resp.pipeline(cmds);
  }
  const members = await resp.command('SCARD', key);
  await sleep(1000);
  const setAfter = await usedMemory(resp);
  await resp.command('DEL', key);
  return {
    voters: n, used_memory_before: before, used_memory_after: after,
    bytes_per_voter: (after - before) / n,
    sadd_members: members, sadd_used_memory_before: setBefore, sadd_used_memory_after: setAfter,
    sadd_bytes_per_id: (setAfter - setBefore) / members,
    target_bytes: 32, met: (after - before) / n <= 32,
  };
}

let voters = null;
if (VOTERS > 0) {
  const t0 = Date.now();
  voters = await voterBytes(VOTERS);
  console.log(`bench: ${VOTERS} new voters: ${voters.bytes_per_voter.toFixed(1)} B each in Redis ` +
    `(SADD of 16-byte ids: ${voters.sadd_bytes_per_id.toFixed(1)} B), ${Math.round((Date.now() - t0) / 1000)} s`);
}

// ----------------------------------------------------------------- wrk runs
function wrkScript(s) {
  const lines = [];
  if (s.method) lines.push(`wrk.method = ${JSON.stringify(s.method)}`);
  if (s.body) lines.push(`wrk.body = ${JSON.stringify(s.body)}`);
  for (const [k, v] of Object.entries(s.headers || {})) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  const file = path.join(ctx.dir, `${s.key}.lua`);
  fs.writeFileSync(file, `${lines.join('\n')}\n${fs.readFileSync(path.join(ROOT, 'bench/report.lua'), 'utf8')}`);
  return file;
}
for (const s of all) s.script = wrkScript(s);

// The runs of a round: every scenario against its server, thamdo's at each thread count.
const runs = [];
for (const s of all) {
  if (s.server !== 'thamdo') runs.push({ s, srv: s.server, id: s.key });
  else for (const t of THREADS) runs.push({ s, srv: `thamdo${t}`, id: t === 1 ? s.key : `${s.key}@${t}` });
}

async function wrk(run, connections, seconds) {
  const srv = servers[run.srv];
  const url = `http://127.0.0.1:${srv.port}${run.s.path}`;
  const cpu0 = [cpuSeconds(srv.child.pid), cpuSeconds(ctx.redis.child.pid)];
  const out = await capture('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency',
    '--timeout', '10s', '-s', run.s.script, url], (seconds + 60) * 1000);
  const cpu1 = [cpuSeconds(srv.child.pid), cpuSeconds(ctx.redis.child.pid)];
  const line = out.split('\n').find((l) => l.startsWith('BENCH '));
  if (!line) throw new Error(`wrk ${url}: no result line\n${out}`);
  const r = JSON.parse(line.slice(6));
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  return {
    requests: r.requests, seconds: r.duration_us / 1e6, rps: r.requests / (r.duration_us / 1e6),
    p50_us: r.p50_us, p90_us: r.p90_us, p99_us: r.p99_us, max_us: r.max_us, errors, error_kinds: r.errors,
    server_cpu_s: cpu1[0] - cpu0[0], redis_cpu_s: cpu1[1] - cpu0[1],
  };
}

const results = Object.fromEntries(runs.map((r) => [r.id, { rounds: [], c1: null }]));
if (WARMUP_SECONDS > 0) for (const run of runs) await wrk(run, CONNECTIONS, WARMUP_SECONDS);
for (let round = 0; round < ROUNDS; round++) {
  const order = runs.map((_, i) => runs[(i + round) % runs.length]);
  for (const run of order) results[run.id].rounds.push(await wrk(run, CONNECTIONS, SECONDS));
  const b = median(results.bare.rounds.map((x) => x.rps));
  console.log(`bench: round ${round + 1}/${ROUNDS} done (bare ${Math.round(b)} req/s so far, ` +
    `${Math.round((Date.now() - started) / 1000)} s)`);
}
if (C1_SECONDS > 0) for (const run of runs) results[run.id].c1 = await wrk(run, 1, C1_SECONDS);

for (const s of Object.values(servers)) await stop(s.child);
await stop(ctx.redis.child);

// -------------------------------------------------------------- the table
function summary(id) {
  const r = results[id];
  const sum = (f) => r.rounds.reduce((a, x) => a + x[f], 0);
  return {
    rps: median(r.rounds.map((x) => x.rps)),
    p50_us: median(r.rounds.map((x) => x.p50_us)),
    p99_us: median(r.rounds.map((x) => x.p99_us)),
    server_cpu_us: (sum('server_cpu_s') * 1e6) / sum('requests'),
    redis_cpu_us: (sum('redis_cpu_s') * 1e6) / sum('requests'),
    errors: sum('errors') + (r.c1 ? r.c1.errors : 0),
    c1_p50_us: r.c1 ? r.c1.p50_us : null,
    c1_p99_us: r.c1 ? r.c1.p99_us : null,
  };
}
const bare = summary('bare');
// The performance targets that wrk can check, per scenario.
const RPS_TARGETS = { results: 0.9, poll: 0.9, vote: 0.75 };
const P99_MAX = 2;
const ms = (us) => (us === null ? '-' : (us / 1000).toFixed(2));
const rows = [['scenario', 'req/s', 'x bare', 'p50 ms', 'p99 ms', 'c1 p50', 'c1 p99', 'server us/req',
  'redis us/req', '2 threads', 'targets (1 thread)']];
const json = [];
let met = 0;
let missed = 0;
for (const s of all) {
  const m = summary(s.key);
  const targets = [];
  if (RPS_TARGETS[s.key]) {
    targets.push({ what: 'req/s vs bare', bound: `>= ${RPS_TARGETS[s.key]}x`, value: m.rps / bare.rps, met: m.rps / bare.rps >= RPS_TARGETS[s.key] });
  }
  if (s.server === 'thamdo') {
    targets.push({ what: `p99 at ${CONNECTIONS} connections vs bare`, bound: `<= ${P99_MAX}x`, value: m.p99_us / bare.p99_us, met: m.p99_us / bare.p99_us <= P99_MAX });
  }
  for (const t of targets) (t.met ? met++ : missed++);
  const two = THREADS.includes(2) && s.server === 'thamdo' ? summary(`${s.key}@2`) : null;
  const twoCell = s.server !== 'thamdo' ? '-' : two ? String(Math.round(two.rps)) : 'n/a';
  const cell = targets.map((t) => `${t.what.startsWith('req') ? 'req/s' : 'p99'} ${t.value.toFixed(2)}x ${t.bound.replace(' ', '')} ${mark(t.met)}`);
  if (m.errors) cell.push(`${m.errors} ERRORS`);
  rows.push([s.name, String(Math.round(m.rps)), `${(m.rps / bare.rps).toFixed(2)}x`, ms(m.p50_us), ms(m.p99_us),
    ms(m.c1_p50_us), ms(m.c1_p99_us), m.server_cpu_us.toFixed(1), m.redis_cpu_us.toFixed(1), twoCell, cell.join('; ')]);
  json.push({ key: s.key, name: s.name, server: s.server, ...m, ratio_bare: m.rps / bare.rps,
    p99_ratio_bare: m.p99_us / bare.p99_us, targets, rounds: results[s.key].rounds, c1: results[s.key].c1,
    threads_2: two ? { ...two, rounds: results[`${s.key}@2`].rounds } : null });
}
if (voters) (voters.met ? met++ : missed++);

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log('');
console.log(`thamdo make bench: ${new Date().toISOString().slice(0, 19)}Z, commit ${info.commit}, ${info.cores} cores (${info.cpu}), ` +
  `load ${info.loadavg_start.join(' ')} -> ${load}`);
console.log(`medians of ${ROUNDS} alternating rounds of ${SECONDS} s, wrk -t1 -c${CONNECTIONS} (c1: one connection, ${C1_SECONDS} s); ` +
  'latency in ms; CPU per request from /proc (server: thamdo, or the bare server on its rows)');
console.log(table(rows, (i) => i >= 1 && i <= 9));
if (!THREADS.includes(2)) console.log('2 threads: n/a until workers land (thamdo has no THAMDO_THREADS yet)');
if (voters) {
  console.log(`Redis per voter: ${voters.bytes_per_voter.toFixed(1)} B over ${voters.voters} new voters ` +
    `(plain SADD set of 16-byte ids: ${voters.sadd_bytes_per_id.toFixed(1)} B per id); <= 32 B ${mark(voters.met)}`);
}
console.log(`targets: ${met} met, ${missed} MISSED`);

const file = writeResult({
  kind: 'bench', time: new Date().toISOString(), machine: { ...info, loadavg_end: os.loadavg() },
  settings: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, c1_seconds: C1_SECONDS,
    warmup_seconds: WARMUP_SECONDS, voters: VOTERS, threads: THREADS,
    threads_note: threadsKnown ? null : 'n/a until workers land',
    redis: 'unix socket, appendonly yes, appendfsync everysec, save ""', thamdo: 'THAMDO_MODE=production, -O2 -DNDEBUG' },
  bare: { rps: bare.rps, p99_us: bare.p99_us }, scenarios: json, voters,
  targets: { met, missed }, seconds: Math.round((Date.now() - started) / 1000),
});
console.log(`written to ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
