// The service's own proof-of-work code (build/widget-pow-tool, from tests/browser/widget-pow-tool.c)
// for the widget's browser tests and tests/browser/pow-bench.mjs: minting challenges, checking
// answers with pow_check, the smallest answer, a scripted voter's rate on one core.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../blackbox/lib/harness.mjs';

export const POW_TOOL = path.join(REPO_ROOT, 'build', 'widget-pow-tool');

function run(...args) {
  if (!fs.existsSync(POW_TOOL)) throw new Error(`${POW_TOOL} is missing: run make build/widget-pow-tool`);
  return execFileSync(POW_TOOL, args.map(String), { encoding: 'utf8', timeout: 120000 }).trim();
}

/** A token for pollId and bucket (16 hex) at difficulty, signed with secret, expiring at expires (unix). */
export const powMint = (secret, pollId, bucket, difficulty, expires) => run('mint', secret, pollId, bucket, difficulty, expires);

/** pow_check's verdict on "token:answer": {result ('ok', 'forged', ...), difficulty, id}. */
export function powCheck(secret, header, pollId, bucket, now) {
  const [result, difficulty, id] = run('check', secret, header, pollId, bucket, now).split(' ');
  return { result, difficulty: Number(difficulty), id };
}

/** The smallest answer to token at difficulty, found with OpenSSL. */
export const powSolve = (token, difficulty) => run('solve', token, difficulty);

/** A scripted voter on one core for `seconds`: {difficulty, solves, seconds, per_second, hashes_per_second}. */
export const powRate = (difficulty, seconds) => JSON.parse(run('rate', difficulty, seconds));
