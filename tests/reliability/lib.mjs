// Helpers of the reliability tests: Redis nodes with replicas, Sentinels, kill -9, and a load of
// new voters whose acknowledged votes are checked one by one afterwards. Everything runs on
// 127.0.0.1 with random ports; every process started here is killed when the test file ends.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  REDIS_SERVER, freePort, tmpDir, sleep, request, Voter, redisCli,
} from '../blackbox/lib/harness.mjs';

const started = new Set();
process.on('exit', () => { for (const p of started) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });
after(async () => {
  for (const p of started) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
  started.clear();
});

/** Resolves check()'s first truthy value, polling every `step` ms; throws after `timeout` ms. */
export async function until(check, { timeout = 30000, step = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    let v;
    try { v = await check(); } catch { v = undefined; }
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout} ms`);
    await sleep(step);
  }
}

function spawnRedis(args, what) {
  const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(proc);
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  proc.on('exit', () => started.delete(proc));
  const exited = new Promise((r) => proc.once('exit', r));
  return { proc, output: () => out, exited, what };
}

/**
 * A redis-server on 127.0.0.1. dir: its data directory (kept across restarts); fsyncAlways:
 * appendonly with appendfsync always, so that whatever it acknowledged survives kill -9;
 * replicaof: the port of its primary.
 */
export async function startNode({ port, dir, fsyncAlways = false, replicaof } = {}) {
  const p = port || (await freePort());
  const d = dir || tmpDir('thamdo-rel-redis-');
  const args = ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--dir', d,
    '--logfile', '', '--appendonly', fsyncAlways ? 'yes' : 'no', '--repl-diskless-sync-delay', '0'];
  if (fsyncAlways) args.push('--appendfsync', 'always');
  if (replicaof) args.push('--replicaof', '127.0.0.1', String(replicaof));
  const node = spawnRedis(args, `redis-server :${p}`);
  await until(() => node.output().includes('Ready to accept connections'), {
    timeout: 10000, what: `redis-server on ${p}`,
  });
  return {
    ...node, port: p, dir: d, cli: (...a) => redisCli(p, ...a),
    kill9() { node.proc.kill('SIGKILL'); return node.exited; },
  };
}

/** A Sentinel on 127.0.0.1 watching the primary at masterPort as `mymaster`. */
export async function startSentinel({ masterPort, downAfterMs = 1000, failoverTimeoutMs = 4000, quorum = 2 }) {
  const p = await freePort();
  const d = tmpDir('thamdo-rel-sentinel-');
  const conf = path.join(d, 'sentinel.conf');
  fs.writeFileSync(conf, [
    `port ${p}`, 'bind 127.0.0.1', `dir ${d}`, 'logfile ""',
    `sentinel monitor mymaster 127.0.0.1 ${masterPort} ${quorum}`,
    `sentinel down-after-milliseconds mymaster ${downAfterMs}`,
    `sentinel failover-timeout mymaster ${failoverTimeoutMs}`,
    'sentinel parallel-syncs mymaster 2', '',
  ].join('\n'));
  const node = spawnRedis([conf, '--sentinel'], `sentinel :${p}`);
  await until(() => node.output().includes('Sentinel ID is'), { timeout: 10000, what: `sentinel on ${p}` });
  return { ...node, port: p, cli: (...a) => redisCli(p, ...a) };
}

/**
 * Primary, two replicas, three Sentinels; resolves once every Sentinel knows both replicas and
 * the two other Sentinels (so that a failover can be agreed on), bounded.
 */
export async function startReplicated() {
  const primary = await startNode();
  const replicas = [await startNode({ replicaof: primary.port }), await startNode({ replicaof: primary.port })];
  await until(async () => (await primary.cli('info', 'replication')).match(/state=online/g)?.length === 2, {
    timeout: 20000, what: 'two replicas in sync',
  });
  const sentinels = [];
  for (let i = 0; i < 3; i++) sentinels.push(await startSentinel({ masterPort: primary.port }));
  for (const s of sentinels) {
    await until(async () => {
      const info = await s.cli('info', 'sentinel');
      return /slaves=2,sentinels=3/.test(info);
    }, { timeout: 30000, step: 200, what: `sentinel ${s.port} sees 2 replicas and 3 sentinels` });
  }
  return {
    primary, replicas, sentinels,
    env: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    /** The primary's port as the Sentinels say now. */
    async primaryPort() {
      const a = (await sentinels[1].cli('sentinel', 'get-master-addr-by-name', 'mymaster')).split('\n');
      return Number(a[1]);
    },
  };
}

/**
 * Keeps `concurrency` new voters voting on pollId, each through urls[i % urls.length], until
 * stop(). Every answer is recorded: {t0, t1, status, url, voter}. status 0: no HTTP answer
 * (connection refused or reset: an instance killed).
 */
export function voteLoad({ urls, pollId, option, concurrency = 8, timeout = 6000 }) {
  const log = [];
  let running = true;
  let n = 0;
  const loops = [];
  for (let i = 0; i < concurrency; i++) {
    loops.push((async () => {
      while (running) {
        const url = urls[n++ % urls.length];
        const voter = new Voter(url);
        const t0 = Date.now();
        let status = 0;
        try {
          const r = await voter.vote(pollId, [option], { timeout });
          status = r.status;
        } catch { status = 0; }
        log.push({ t0, t1: Date.now(), status, url, voter });
        if (status !== 201) await sleep(20); // no busy loop while everything fails
      }
    })());
  }
  return {
    log,
    async stop() { running = false; await Promise.all(loops); return log; },
  };
}

/**
 * Reads every acknowledged (201) voter's ballot back through url: those whose ballot is missing
 * are lost. Returns {acked, lost, lostVoters}.
 */
export async function countLost(log, url, pollId) {
  const acked = log.filter((e) => e.status === 201);
  let lost = 0;
  const lostVoters = [];
  for (let i = 0; i < acked.length; i += 16) {
    const batch = acked.slice(i, i + 16);
    const seen = await Promise.all(batch.map(async (e) => {
      const r = await request(url, 'GET', `/api/v1/polls/${pollId}`, { cookie: e.voter.cookieHeader() });
      assert.equal(r.status, 200, `read back: ${r.status} ${r.text}`);
      return r.json.voted === true;
    }));
    seen.forEach((x, k) => { if (!x) lostVoters.push(batch[k]); });
    lost += seen.filter((x) => !x).length;
  }
  return { acked: acked.length, lost, lostVoters };
}

/** The tally (total votes) of a poll. */
export async function total(url, pollId) {
  const r = await request(url, 'GET', `/api/v1/polls/${pollId}/results`);
  assert.equal(r.status, 200, `results: ${r.status} ${r.text}`);
  return r.json.total;
}

/** Counts of the statuses of a load log. */
export function statusCounts(log) {
  const c = {};
  for (const e of log) c[e.status] = (c[e.status] || 0) + 1;
  return c;
}
