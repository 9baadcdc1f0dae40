// bench/bench.mjs - `make bench`: throughput, latency, CPU and memory of thamdo against the
// bare evhttp server, with the performance targets (README.md, Performance) marked met, MISSED
// or not measured.
//
// One private redis-server with thamdo's own production settings (src/redisproc.c), and for
// each thread count of BENCH_THREADS (1,2): an optimised thamdo started with THAMDO_THREADS=N,
// the bare server with --threads N and the bare server with --threads N plus one HINCRBY per
// request. Then, in order:
//   1. a short warm-up of every run;
//   2. BENCH_ROUNDS rounds, each running every scenario at every thread count for
//      BENCH_SECONDS with wrk -tN -c BENCH_CONNECTIONS (the order turns by one each round), so
//      that the noise of a shared machine spreads over all of them; CPU per request of the
//      server and of Redis from /proc/PID/stat around each run;
//   3. one pass at one connection (BENCH_C1_SECONDS each; 0 skips it) for the latency alone;
//   4. memory (bench/memory.mjs), on fresh servers: RssAnon idle, 10,000 idle keep-alive
//      connections against the bare server, 10,000 live-results subscribers, Redis bytes per
//      voter (bench/voters.mjs).
// Prints one table (medians over the rounds, ratios to the bare server of the same thread
// count) and the memory targets, and writes the whole result as JSON to bench/results/.
// Loopback only; every wait bounded; everything started is stopped at the end. Must not be
// part of make test: nothing here is a pass or fail of the build.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  MEMORY_POLL, POLL, REDIS_SETTINGS_TEXT, ROOT, THAMDO_BIN, capture, cpuSeconds, knob, machine,
  mark, median, need, scenarios, setup, sleep, startBare, startThamdo, stop, table, voterCookie,
  watchdog, writeResult,
} from './lib.mjs';
import {
  MIB, connectionCost, connectionCount, get, probeStream, rssAnon, streamStarted, voterBytes,
  wholeAnswer,
} from './memory.mjs';

const ROUNDS = knob('BENCH_ROUNDS', 5, 1, 100);
const SECONDS = knob('BENCH_SECONDS', 3, 1, 600);
const CONNECTIONS = knob('BENCH_CONNECTIONS', 64, 1, 10000);
const C1_SECONDS = knob('BENCH_C1_SECONDS', 1, 0, 600);
const WARMUP_SECONDS = knob('BENCH_WARMUP_SECONDS', 1, 0, 60);
const IDLE_CONNECTIONS = knob('BENCH_IDLE_CONNECTIONS', 10000, 0, 100000);
const SUBSCRIBERS = knob('BENCH_SUBSCRIBERS', 10000, 0, 100000);
const VOTERS_SECONDS = knob('BENCH_VOTERS_MAX_SECONDS', 600, 10, 86400);
const WRK_SCENARIOS = ['bare', 'bare_hincrby', 'results', 'poll', 'vote', 'widget', 'visit', 'counter'];

need('wrk', 'make bench installs it (Debian package wrk)');
need('redis-server', 'make deps installs it (Debian package redis-server)');
const help = execFileSync(THAMDO_BIN, ['--help']).toString();
const threadsKnown = help.includes('THAMDO_THREADS');
const THREADS = (process.env.BENCH_THREADS || '1,2').split(',').map(Number);
if (!THREADS.every((t) => Number.isInteger(t) && t >= 1 && t <= 64) || new Set(THREADS).size !== THREADS.length) {
  console.error("bench: BENCH_THREADS: expected distinct thread counts from 1 to 64, e.g. '1,2'");
  process.exit(2);
}
const THREADS_NOTE = threadsKnown ? null
  : 'thamdo --help does not list THAMDO_THREADS: this binary runs one event loop whatever the column says';
const perRound = WRK_SCENARIOS.length * THREADS.length;
const memorySeconds = THREADS.length * 15 + 10;
const planned = perRound * (WARMUP_SECONDS + ROUNDS * SECONDS + C1_SECONDS) + memorySeconds + 30;
watchdog(knob('BENCH_MAX_SECONDS', Math.ceil(planned * 3 + 120 + VOTERS_SECONDS), 60, 864000));

const started = Date.now();
const info = machine();
const ctx = await setup();

/** Every server of one thread count: the two bare ones and thamdo. */
async function startServers(t, tag = '') {
  return {
    bare: await startBare(ctx, { name: `bare-${t}${tag}`, threads: t }),
    bare_hincrby: await startBare(ctx, { name: `bare-hincrby-${t}${tag}`, hincrby: true, threads: t }),
    thamdo: await startThamdo(ctx, { name: `thamdo-${t}${tag}`, env: { THAMDO_THREADS: String(t) } }),
  };
}
const servers = {};
for (const t of THREADS) servers[t] = await startServers(t);
const cookie = await voterCookie(servers[THREADS[0]].thamdo.port);
const all = scenarios(cookie).filter((s) => WRK_SCENARIOS.includes(s.key));

console.log(`bench: ${ROUNDS} rounds x ${all.length} scenarios x threads ${THREADS.join(',')} x ${SECONDS} s, ` +
  `wrk -tN -c${CONNECTIONS}; Redis ${REDIS_SETTINGS_TEXT}; about ${Math.ceil(planned / 60)} min`);
if (THREADS_NOTE) console.log(`bench: note: ${THREADS_NOTE}`);

// ----------------------------------------------------------------- wrk runs
// Each generated script sets the request and ends with report.lua. No script sends a cookie
// unless its scenario names one: wrk keeps no cookie jar, so every vote and every visit is a
// new reader's (the server mints a cookie for each).
function wrkScript(s) {
  const lines = [`-- ${s.name}: ${s.method || 'GET'} ${s.path}${s.headers && s.headers.Cookie ? ' with a cookie' : ', no cookie'}`];
  if (s.method) lines.push(`wrk.method = ${JSON.stringify(s.method)}`);
  if (s.body) lines.push(`wrk.body = ${JSON.stringify(s.body)}`);
  for (const [k, v] of Object.entries(s.headers || {})) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  const file = path.join(ctx.dir, `${s.key}.lua`);
  fs.writeFileSync(file, `${lines.join('\n')}\n${fs.readFileSync(path.join(ROOT, 'bench/report.lua'), 'utf8')}`);
  return file;
}
for (const s of all) s.script = wrkScript(s);

// The runs of a round: every scenario against its server at every thread count.
const runs = [];
for (const s of all) for (const t of THREADS) runs.push({ s, t, id: `${s.key}@${t}` });

async function wrk(run, connections, seconds) {
  const srv = servers[run.t][run.s.server];
  const url = `http://127.0.0.1:${srv.port}${run.s.path}`;
  const cpu0 = [cpuSeconds(srv.child.pid), cpuSeconds(ctx.redis.child.pid)];
  const out = await capture('wrk', [`-t${Math.min(run.t, connections)}`, `-c${connections}`, `-d${seconds}s`,
    '--latency', '--timeout', '10s', '-s', run.s.script, url], (seconds + 60) * 1000);
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
  const b = median(results[`bare@${THREADS[0]}`].rounds.map((x) => x.rps));
  console.log(`bench: round ${round + 1}/${ROUNDS} done (bare, ${THREADS[0]} thread(s): ${Math.round(b)} req/s so far, ` +
    `${Math.round((Date.now() - started) / 1000)} s)`);
}
if (C1_SECONDS > 0) for (const run of runs) results[run.id].c1 = await wrk(run, 1, C1_SECONDS);
for (const t of THREADS) for (const s of Object.values(servers[t])) await stop(s.child);

// ------------------------------------------------------------------ memory
// Fresh servers, so that what the wrk runs left in their heaps does not count as idle.
const NOT = 'not measured';
const memory = { idle: {}, keepalive: {}, subscribers: {}, voters: null, notes: [] };
const idleCount = connectionCount(IDLE_CONNECTIONS);
const subCount = connectionCount(SUBSCRIBERS);
if (idleCount.note) memory.notes.push(`idle keep-alive: ${idleCount.note}`);
if (subCount.note) memory.notes.push(`subscribers: ${subCount.note}`);
const resultsPath = `/api/v1/polls/${POLL}/results`;
const eventsPath = `/api/v1/polls/${MEMORY_POLL}/events`; // results_visibility always: every reader may see them
for (const t of THREADS) {
  const fresh = await startServers(t, '-memory');
  await sleep(1000);
  memory.idle[t] = { thamdo: rssAnon(fresh.thamdo.child.pid), bare: rssAnon(fresh.bare.child.pid) };
  try {
    const bare = await connectionCost(fresh.bare, idleCount.n, get('/'), wholeAnswer);
    const tham = await connectionCost(fresh.thamdo, idleCount.n, get(resultsPath), wholeAnswer);
    memory.keepalive[t] = { thamdo: tham, bare, ratio: bare.delta > 0 ? tham.delta / bare.delta : null };
  } catch (e) {
    memory.keepalive[t] = { why: e.message };
  }
  const probe = await probeStream(fresh.thamdo.port, eventsPath);
  if (!probe.ok) {
    memory.subscribers[t] = { why: `GET ${eventsPath}: ${probe.why}` };
  } else {
    try {
      memory.subscribers[t] = await connectionCost(fresh.thamdo, subCount.n,
        get(eventsPath, 'Accept: text/event-stream\r\n'), streamStarted);
    } catch (e) {
      memory.subscribers[t] = { why: e.message };
    }
  }
  for (const s of Object.values(fresh)) await stop(s.child);
  console.log(`bench: memory, ${t} thread(s) done (${Math.round((Date.now() - started) / 1000)} s)`);
}
await stop(ctx.redis.child);
memory.voters = await voterBytes(VOTERS_SECONDS * 1000);

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
// Every target of the issue: {what, threads, value, bound, status, note}.
const targets = [];
function target(what, threads, value, bound, ok, note = null) {
  const t = { what, threads, value, bound, status: value === null ? NOT : ok ? 'met' : 'MISSED', note };
  targets.push(t);
  return t;
}
const cellOf = (t, unit) => `${t.what.split(' ')[0]} ${t.value.toFixed(2)}${unit} ${t.bound.replace(' ', '')} ${mark(t.status === 'met')}`;

const RPS_TARGETS = { results: 0.9, poll: 0.9, vote: 0.75 };
const P99_MAX = 2;
const ms = (us) => (us === null ? '-' : (us / 1000).toFixed(2));
const rows = [['scenario', 'thr', 'req/s', 'x bare', 'p50 ms', 'p99 ms', 'c1 p50', 'c1 p99', 'server us/req',
  'redis us/req', 'targets']];
const json = [];
for (const s of all) {
  for (const t of THREADS) {
    const m = summary(`${s.key}@${t}`);
    const bare = summary(`bare@${t}`);
    const cells = [];
    const own = [];
    if (RPS_TARGETS[s.key]) {
      own.push(target(`req/s ${s.key} vs bare`, t, m.rps / bare.rps, `>= ${RPS_TARGETS[s.key]}x`, m.rps / bare.rps >= RPS_TARGETS[s.key]));
    }
    if (s.server === 'thamdo') {
      own.push(target(`p99 ${s.key} at ${CONNECTIONS} connections vs bare`, t, m.p99_us / bare.p99_us, `<= ${P99_MAX}x`, m.p99_us / bare.p99_us <= P99_MAX));
    }
    for (const x of own) cells.push(cellOf(x, 'x'));
    if (m.errors) cells.push(`${m.errors} ERRORS`);
    rows.push([s.name, `${t}${s.server === 'thamdo' && !threadsKnown && t > 1 ? '*' : ''}`, String(Math.round(m.rps)),
      `${(m.rps / bare.rps).toFixed(2)}x`, ms(m.p50_us), ms(m.p99_us), ms(m.c1_p50_us), ms(m.c1_p99_us),
      m.server_cpu_us.toFixed(1), m.redis_cpu_us.toFixed(1), cells.join('; ')]);
    json.push({ key: s.key, name: s.name, server: s.server, threads: t, ...m, ratio_bare: m.rps / bare.rps,
      p99_ratio_bare: m.p99_us / bare.p99_us, targets: own, rounds: results[`${s.key}@${t}`].rounds,
      c1: results[`${s.key}@${t}`].c1 });
  }
}

// The memory targets.
const mib = (b) => `${(b / MIB).toFixed(2)} MiB`;
const memLines = [];
for (const t of THREADS) {
  const idle = memory.idle[t];
  const x = target('RssAnon idle', t, idle.thamdo / MIB, '<= 2 MiB', idle.thamdo <= 2 * MIB);
  memLines.push(`  ${t} thr  RssAnon idle: thamdo ${mib(idle.thamdo)} (bare ${mib(idle.bare)}); <= 2 MiB ${x.status}`);
  const ka = memory.keepalive[t];
  if (ka.why || ka.ratio === null) {
    target(`${IDLE_CONNECTIONS} idle keep-alive connections vs bare`, t, null, '<= 1.2x', false, ka.why || 'the bare server grew by nothing');
    memLines.push(`  ${t} thr  ${idleCount.n} idle keep-alive connections: ${NOT} (${ka.why || 'the bare server grew by nothing'})`);
  } else {
    const y = target(`${ka.thamdo.connections} idle keep-alive connections vs bare`, t, ka.ratio, '<= 1.2x', ka.ratio <= 1.2,
      idleCount.note);
    memLines.push(`  ${t} thr  ${ka.thamdo.connections} idle keep-alive connections (each after one request): thamdo ` +
      `+${mib(ka.thamdo.delta)} (${Math.round(ka.thamdo.delta / ka.thamdo.connections)} B each), bare +${mib(ka.bare.delta)} ` +
      `(${Math.round(ka.bare.delta / ka.bare.connections)} B each): ${ka.ratio.toFixed(2)}x; <= 1.2x ${y.status}`);
  }
  const sub = memory.subscribers[t];
  if (sub.why) {
    target(`${SUBSCRIBERS} live-results subscribers`, t, null, '<= 64 MiB', false, sub.why);
    memLines.push(`  ${t} thr  ${subCount.n} live-results subscribers: ${NOT} (${sub.why})`);
  } else {
    const z = target(`${sub.connections} live-results subscribers`, t, sub.delta / MIB, '<= 64 MiB', sub.delta <= 64 * MIB, subCount.note);
    memLines.push(`  ${t} thr  ${sub.connections} live-results subscribers: +${mib(sub.delta)}; <= 64 MiB ${z.status}`);
  }
}
const v = memory.voters;
const vt = target('Redis bytes per voter', null, v.value, '<= 32 B', v.value !== null && v.value <= 32, v.why || null);
memLines.push(v.value === null ? `  Redis per voter: ${NOT} (${v.why})`
  : `  Redis per voter: ${v.value.toFixed(1)} B${v.report && v.report.sadd_bytes_per_id ? ` (plain SADD set of 16-byte ids: ` +
    `${Number(v.report.sadd_bytes_per_id).toFixed(1)} B)` : ''}; <= 32 B ${vt.status}`);

const count = (st) => targets.filter((t) => t.status === st).length;
const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log('');
console.log(`thamdo make bench: ${new Date().toISOString().slice(0, 19)}Z, commit ${info.commit}, ${info.cores} cores (${info.cpu}), ` +
  `load ${info.loadavg_start.join(' ')} -> ${load}`);
console.log(`medians of ${ROUNDS} alternating rounds of ${SECONDS} s, wrk -tN -c${CONNECTIONS} (c1: one connection, ${C1_SECONDS} s); ` +
  'thr: THAMDO_THREADS and bare --threads; x bare: against the bare server of the same thread count; latency in ms; ' +
  'CPU per request from /proc (server: thamdo, or the bare server on its rows)');
console.log(table(rows, (i) => i >= 1 && i <= 9));
if (THREADS_NOTE) console.log(`* ${THREADS_NOTE}`);
console.log('memory (RssAnon from /proc/PID/status):');
for (const l of memLines) console.log(l);
for (const n of memory.notes) console.log(`  note: ${n}`);
console.log(`targets: ${count('met')} met, ${count('MISSED')} MISSED, ${count(NOT)} not measured`);

const file = writeResult({
  kind: 'bench', time: new Date().toISOString(), machine: { ...info, loadavg_end: os.loadavg() },
  settings: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, c1_seconds: C1_SECONDS,
    warmup_seconds: WARMUP_SECONDS, threads: THREADS, threads_note: THREADS_NOTE,
    idle_connections: idleCount.n, subscribers: subCount.n,
    redis: REDIS_SETTINGS_TEXT, thamdo: 'THAMDO_MODE=production, -O2 -DNDEBUG' },
  scenarios: json, memory, targets,
  summary: { met: count('met'), missed: count('MISSED'), not_measured: count(NOT) },
  seconds: Math.round((Date.now() - started) / 1000),
});
console.log(`written to ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
