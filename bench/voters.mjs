#!/usr/bin/env node
// bench/voters.mjs - Redis bytes per voter: what recording who voted (and their choice) costs.
//
//   node bench/voters.mjs [--voters N] [--json]
//
// Starts a private redis-server (unix socket in a temporary folder, --save '' --appendonly no),
// loads the real scripts of src/store/lua, creates a two-option poll with poll_write.lua, and casts N
// ballots (default 1,000,000) of N distinct 16-byte voter ids through poll_vote.lua, pipelined
// in batches. Then, in the same Redis, it SADDs N other random 16-byte ids to a plain set. It
// prints, for each, the change of used_memory (INFO memory) divided by N, and how the voters'
// buckets are encoded. Bounded: the run stops after BENCH_MAX_SECONDS (600). Owns nothing else
// of bench/ (bench/lib.mjs: the process helpers and the RESP client).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, Resp, knob, start, stop, tmpDir, usedMemory, waitFor, watchdog } from './lib.mjs';

const args = process.argv.slice(2);
let voters = 1000000;
let json = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--json') json = true;
  else if (args[i] === '--voters' && /^\d+$/.test(args[i + 1] || '') && Number(args[i + 1]) >= 1 && Number(args[i + 1]) <= 10000000) voters = Number(args[++i]);
  else {
    console.error('usage: node bench/voters.mjs [--voters N (1..10000000)] [--json]');
    process.exit(2);
  }
}
watchdog(knob('BENCH_MAX_SECONDS', 600, 10, 86400));

const BATCH = 5000;
const PREFIX = 'thamdo:';
const POLL = 'bench-voters';
const key = (suffix) => `${PREFIX}{poll:${POLL}}:${suffix}`;
const lua = (name) => fs.readFileSync(path.join(ROOT, 'src/store/lua', name));

const dir = tmpDir();
const sock = path.join(dir, 'redis.sock');
const redis = start('redis-server', [
  '--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--dir', dir,
  '--save', '', '--appendonly', 'no', '--daemonize', 'no',
], path.join(dir, 'redis.log'));
const resp = await waitFor(() => Resp.connect(sock), 10000, 'redis-server start', redis);
await waitFor(async () => (await resp.command('PING')) === 'PONG', 10000, 'redis PING', redis);

const write = await resp.command('SCRIPT', 'LOAD', lua('poll_write.lua'));
const vote = await resp.command('SCRIPT', 'LOAD', lua('poll_vote.lua'));
const now = Math.floor(Date.now() / 1000);
const def = JSON.stringify({
  id: POLL, question: 'Bench?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }],
  max_choices: 1, opens_at: null, closes_at: null, status: 'open', results_visibility: 'always',
  allow_change: false, archived: false, created_at: now, updated_at: now, version: 1,
});
const created = await resp.command('EVALSHA', write, 7, key('def'), key('meta'), key('counts'), key('voters'),
  `${PREFIX}polls`, `${PREFIX}polls:meta`, `${PREFIX}polls:listed`,
  'create', POLL, def, `${PREFIX}events`, '', 'open', '', '', '0', '1', '0', '1', 'a,b');
if (created[0] !== 'ok') throw new Error(`poll_write.lua: ${created}`);

/** Runs n commands made by make(i, ids) in pipelined batches of BATCH, each with fresh ids. */
async function batches(n, make) {
  for (let done = 0; done < n; done += BATCH) {
    const k = Math.min(BATCH, n - done);
    const ids = crypto.randomBytes(16 * k);
    const cmds = [];
    for (let i = 0; i < k; i++) cmds.push(make(ids.subarray(16 * i, 16 * i + 16), done + i));
    const replies = await resp.pipeline(cmds);
    for (const r of replies) if (Array.isArray(r) && r[0] !== 'ok') throw new Error(`poll_vote.lua: ${r[0]} ${r[1] || ''}`);
  }
}

const started = Date.now();
const before = await usedMemory(resp);
await batches(voters, (id, i) => {
  const bucket = Buffer.concat([Buffer.from(key('v:')), id.subarray(0, 2)]);
  return ['EVALSHA', vote, 7, key('meta'), key('def'), key('counts'), key('stats'), key('hours'), bucket,
    key('voters'), id, now, 1, POLL, `${PREFIX}events`, i % 3 ? 'a' : 'b'];
});
const afterVotes = await usedMemory(resp);
const voteSeconds = (Date.now() - started) / 1000;
const counted = Number(await resp.command('HGET', key('meta'), 'voters'));
if (counted !== voters) throw new Error(`the meta hash counts ${counted} voters, not ${voters}`);

// The buckets: how many, and how many Redis keeps as listpacks (a sample of 256).
const buckets = Number(await resp.command('EVAL', "return #redis.call('KEYS', ARGV[1])", 0, `${key('v:')}*`));
const sample = await resp.command('EVAL', `local n, out = 0, {}
  for _, k in ipairs(redis.call('KEYS', ARGV[1])) do
    n = n + 1
    if n > 256 then break end
    local e = redis.call('OBJECT', 'ENCODING', k)
    out[e] = (out[e] or 0) + 1
  end
  local flat = {}
  for e, c in pairs(out) do flat[#flat + 1] = e; flat[#flat + 1] = c end
  return flat`, 0, `${key('v:')}*`);
const encodings = {};
for (let i = 0; i + 1 < sample.length; i += 2) encodings[sample[i]] = sample[i + 1];

const setBefore = await usedMemory(resp);
const SADD_BATCH = 100;
await batches(Math.ceil(voters / SADD_BATCH), (id, i) => {
  const n = Math.min(SADD_BATCH, voters - i * SADD_BATCH);
  return ['SADD', 'bench:plain-set', ...Array.from({ length: n }, () => crypto.randomBytes(16))];
});
const setAfter = await usedMemory(resp);
const inSet = Number(await resp.command('SCARD', 'bench:plain-set'));
resp.close();
await stop(redis);

const result = {
  voters,
  compact: {
    bytes: afterVotes - before,
    bytes_per_voter: Number(((afterVotes - before) / voters).toFixed(1)),
    buckets,
    bucket_encodings_sample: encodings,
    seconds: Number(voteSeconds.toFixed(1)),
  },
  plain_sadd: {
    members: inSet,
    bytes: setAfter - setBefore,
    bytes_per_voter: Number(((setAfter - setBefore) / inSet).toFixed(1)),
  },
  target_bytes_per_voter: 32,
};
if (json) {
  // One line, with the two figures at the top for make bench (bench/memory.mjs).
  console.log(JSON.stringify({
    bytes_per_voter: result.compact.bytes_per_voter,
    sadd_bytes_per_id: result.plain_sadd.bytes_per_voter,
    ...result,
  }));
} else {
  console.log(`voters: ${voters}`);
  console.log(`compact voters (poll_vote.lua): ${result.compact.bytes_per_voter} B/voter ` +
    `(${result.compact.bytes} B in ${buckets} buckets, sample encodings ${JSON.stringify(encodings)}, ${result.compact.seconds} s)`);
  console.log(`plain SADD of 16-byte ids:      ${result.plain_sadd.bytes_per_voter} B/voter (${result.plain_sadd.bytes} B)`);
  console.log(`target <= 32 B/voter: ${result.compact.bytes_per_voter <= 32 ? 'met' : 'missed'}`);
}
