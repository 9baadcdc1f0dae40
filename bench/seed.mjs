// bench/seed.mjs - the data of the "cost does not grow with the data" targets of
// `make bench-instructions`: polls with few and many voters, with 2 and 50 options, and 200
// archived polls beside the open ones. Small counts go through the real vote path (the
// service's API, one new reader per vote); a million voters are cast through the real vote
// script by Redis pipelining, and are then checked through the API: a seed the service does
// not count as voters is reported, never measured.
// Must not time anything and must not judge results.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ROOT, request } from './lib.mjs';

export const KEY_PREFIX = 'thamdo:'; // THAMDO_KEY_PREFIX's default, which the bench keeps

const poll = (id, nopts, extra = {}) => ({
  id,
  question: `Bench: ${id}`,
  options: Array.from({ length: nopts }, (_, i) => ({ id: `o${i + 1}`, label: `Lựa chọn ${i + 1}` })),
  max_choices: 1,
  status: 'open',
  results_visibility: 'always',
  ...extra,
});

/** The polls of the growth targets: few voters with 2 options, many voters with 2 options,
 * few voters with 50 options. */
export const GROWTH_POLLS = [poll('grow-few', 2), poll('grow-many', 2), poll('grow-wide', 50)];

/** 200 archived polls, for the public list's second run. */
export function archivedPolls(n) {
  return Array.from({ length: n }, (_, i) => poll(`grow-archived-${i + 1}`, 2, { archived: true }));
}

/** n votes for option on poll through POST /api/v1/polls/ID/votes, each from a new reader,
 * 16 at a time; throws unless every one was counted (201). */
export async function voteViaApi(port, pollId, option, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let sent = 0;
  let bad = null;
  const worker = async () => {
    while (sent < n && !bad) {
      sent++;
      const r = await request(port, {
        method: 'POST', path: `/api/v1/polls/${pollId}/votes`, agent,
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ options: [option] }),
      });
      if (r.status !== 201) bad = `${r.status} ${r.body.slice(0, 200)}`;
    }
  };
  try {
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    agent.destroy();
  }
  if (bad) throw new Error(`votes on ${pollId}: one answered ${bad}`);
}

/** Casts n ballots of new random voters for option through the real vote script
 * (src/store/lua/poll_vote.lua), pipelined: the store's own layout, whatever it is. */
async function pipelineBallots(resp, pollId, option, n) {
  const base = `${KEY_PREFIX}{poll:${pollId}}:`;
  const sha = await resp.command('SCRIPT', 'LOAD', fs.readFileSync(path.join(ROOT, 'src/store/lua/poll_vote.lua')));
  const now = Math.floor(Date.now() / 1000);
  for (let done = 0; done < n;) {
    const cmds = [];
    for (let c = 0; c < 5000 && done < n; c++, done++) {
      const id = crypto.randomBytes(16);
      const bucket = Buffer.concat([Buffer.from(`${base}v:`), id.subarray(0, 2)]);
      // The keys and arguments of store_poll_vote() with the rate limits off (no bucket, no proof).
      cmds.push(['EVALSHA', sha, 11, `${base}meta`, `${base}def`, `${base}counts`, `${base}stats`, `${base}hours`,
        bucket, `${base}voters`, `${base}rl:`, `${base}integrity`, `${base}buckets`, `${base}pow:`,
        id, now, 1, pollId, `${KEY_PREFIX}events`, '', 0, 0, 0, 0, 0, '', 0, option]);
    }
    for (const r of await resp.pipeline(cmds)) {
      if (!Array.isArray(r) || r[0] !== 'ok') throw new Error(`poll_vote.lua on ${pollId}: ${Array.isArray(r) ? r.join(' ') : r}`);
    }
  }
}

/** Brings poll to `total` voters (all for option): the first `viaApi` through the API, the
 * rest by pipelining. Resolves with how (a sentence) once the API's results count them. */
export async function seedVoters({ port, resp, pollId, option, total, viaApi }) {
  await voteViaApi(port, pollId, option, Math.min(viaApi, total));
  const rest = total - Math.min(viaApi, total);
  let how = `${Math.min(viaApi, total)} through the API`;
  if (rest > 0) {
    await pipelineBallots(resp, pollId, option, rest);
    how += `, ${rest} through the vote script, pipelined`;
  }
  // The service hears of every ballot as it is published: wait (bounded) until it has them all.
  let r;
  let res;
  for (const until = Date.now() + 60000; ;) {
    r = await request(port, { path: `/api/v1/polls/${pollId}/results` });
    res = r.status === 200 ? JSON.parse(r.body) : null;
    if ((res && res.voters === total && res.total === total) || Date.now() > until) break;
    await new Promise((resolve) => { setTimeout(resolve, 200); });
  }
  if (!res || res.voters !== total || res.total !== total) {
    throw new Error(`${pollId}: the results count ${res ? `${res.voters} voters and ${res.total} votes` : `nothing (${r.status})`}, ` +
      `${total} were seeded (${how})`);
  }
  return how;
}
