// bench/instructions.mjs - `make bench-instructions`: user-space instructions per request,
// counted by valgrind's callgrind, for thamdo's hot paths and the bare evhttp server.
//
// Noise-free and comparable between commits: each server runs under callgrind once with
// the warm-up only and once with the warm-up and then REQUESTS requests of one scenario,
// all sequential on one keep-alive connection; the difference divided by REQUESTS is the
// cost of one request, start-up and shut-down excluded. thamdo's warm-up is the same mix
// of every scenario in each of its runs, so one warm-up-only run serves them all.
// Knobs: BENCH_REQUESTS (2000), BENCH_WARMUP (100 per scenario), BENCH_MAX_SECONDS.
// Must not judge anything but the instruction targets (README.md, Performance).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  knob, machine, mark, need, request, scenarios, setup, startBare, startThamdo, stop, table,
  voterCookie, watchdog, writeResult,
} from './lib.mjs';

const REQUESTS = knob('BENCH_REQUESTS', 2000, 100, 100000);
const WARMUP = knob('BENCH_WARMUP', 100, 10, 10000);
watchdog(knob('BENCH_MAX_SECONDS', 1800, 60, 86400));
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
  const opts = { name: `${id}-${server}`, prefix, ms: 180000 };
  const srv = server === 'thamdo' ? await startThamdo(ctx, opts)
    : await startBare(ctx, { ...opts, hincrby: server === 'bare_hincrby' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let sockets = 0;
  try {
    for (const w of warm) sockets += await send(srv.port, agent, w, WARMUP);
    if (s) sockets += await send(srv.port, agent, s, n);
  } finally {
    agent.destroy();
  }
  const rc = await stop(srv.child, 120000);
  if (rc !== 0) throw new Error(`${srv.name}: exited with ${rc}`);
  if (sockets > 1) throw new Error(`${srv.name}: the client opened ${sockets} connections, expected one`);
  const m = /^summary:\s+(\d+)/m.exec(fs.readFileSync(out, 'utf8')) || /^totals:\s+(\d+)/m.exec(fs.readFileSync(out, 'utf8'));
  if (!m) throw new Error(`${out}: no instruction total`);
  return Number(m[1]);
}

const started = Date.now();
const ctx = await setup();
const info = machine();
// A first, uncounted start creates the polls and gives the cookie of a reader who voted,
// so that every counted run finds the same data.
const first = await startThamdo(ctx, { name: 'thamdo-setup' });
const cookie = await voterCookie(first.port);
await stop(first.child);

const all = scenarios(cookie);
const byKey = Object.fromEntries(all.map((s) => [s.key, s]));
const thamdoWarm = all.filter((s) => s.server === 'thamdo');
const per = {};
console.log(`bench-instructions: callgrind, ${WARMUP} warm-up + ${REQUESTS} counted requests per scenario, one keep-alive connection`);
for (const server of ['bare', 'bare_hincrby']) {
  const warm = [byKey[server]];
  const base = await counted(ctx, server, warm, null, 0);
  const full = await counted(ctx, server, warm, byKey[server], REQUESTS);
  per[server] = (full - base) / REQUESTS;
  console.log(`  ${byKey[server].name}: ${Math.round(per[server])} instructions/request`);
}
const base = await counted(ctx, 'thamdo', thamdoWarm, null, 0);
for (const s of thamdoWarm) {
  const full = await counted(ctx, 'thamdo', thamdoWarm, s, REQUESTS);
  per[s.key] = (full - base) / REQUESTS;
  console.log(`  ${s.name}: ${Math.round(per[s.key])} instructions/request`);
}
await stop(ctx.redis.child);

// The instruction targets, per request.
const targets = {
  results: { of: 'bare', max: 1.2 },
  poll: { of: 'bare', max: 1.2 },
  vote: { of: 'bare_hincrby', max: 1.5 },
};
const fmt = (x) => `${(x / 1000).toFixed(1)}k`;
const rows = [['scenario', 'instr/request', 'x bare', 'x bare+HINCRBY', 'target']];
const out = [];
for (const s of all) {
  const v = per[s.key];
  const t = targets[s.key];
  const ratio = t ? v / per[t.of] : null;
  const target = t ? { of: t.of, max: t.max, ratio, met: ratio <= t.max } : null;
  out.push({ key: s.key, name: s.name, instructions_per_request: Math.round(v),
    ratio_bare: v / per.bare, ratio_bare_hincrby: v / per.bare_hincrby, target });
  rows.push([s.name, fmt(v), `${(v / per.bare).toFixed(2)}x`, `${(v / per.bare_hincrby).toFixed(2)}x`,
    t ? `<= ${t.max}x ${t.of === 'bare' ? 'bare' : 'bare+HINCRBY'}: ${ratio.toFixed(2)}x ${mark(ratio <= t.max)}` : '']);
}
console.log('');
console.log(`thamdo instructions per request (callgrind; commit ${info.commit}; ${info.cores} cores)`);
console.log(table(rows, (i) => i >= 1 && i <= 3));
const file = writeResult({
  kind: 'bench-instructions', time: new Date().toISOString(), machine: info,
  settings: { requests: REQUESTS, warmup_per_scenario: WARMUP, client: 'node http, one keep-alive connection' },
  scenarios: out, seconds: Math.round((Date.now() - started) / 1000),
}, '-instructions');
console.log(`\nwritten to ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
