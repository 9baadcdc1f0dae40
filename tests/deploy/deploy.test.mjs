// make test-deploy: the image and both compose files, run for real in podman (driven by Debian's
// docker-compose through `podman system service`; scripts/podman-env.sh sets that up and tears it
// down). deploy/docker-compose.yml: up, healthy, votes counted, the secrets read, a prompt graceful
// stop, a restart that keeps readers' cookies, down. deploy/docker-compose.scale.yml: three
// instances behind HAProxy on Redis with replicas and Sentinels: a cookie issued by one instance
// honoured by another, votes of new readers while one instance is killed, every acknowledged vote
// in the tally, down. Every wait is bounded; the published ports are on 127.0.0.1. Prints its
// figures.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, Voter, request, freePort, sleep } from '../blackbox/lib/harness.mjs';

assert.ok(process.env.DOCKER_HOST, 'run under scripts/podman-env.sh run (make test-deploy)');

const IMAGES = {
  THAMDO_IMAGE: 'localhost/thamdo:test',
  THAMDO_REDIS_IMAGE: 'localhost/thamdo-test-redis:latest',
  THAMDO_HAPROXY_IMAGE: 'localhost/thamdo-test-haproxy:latest',
};
const POLL = 'chuyen-muc'; // deploy/polls.json, in the image
const OPTIONS = ['tin-tuc', 'chi-dao-dieu-hanh', 'nong-thon-moi', 'van-ban-thu-tuc', 'khac'];
const UID = 10001; // the image's user: the secret files must be readable by it

let secretsDir;
let adminToken;

/** Runs a command to completion, bounded; never throws. */
function run(cmd, args, { timeout = 60000, env = {} } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, {
      cwd: REPO_ROOT, timeout, killSignal: 'SIGKILL', maxBuffer: 64 << 20, env: { ...process.env, ...env },
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr, timedOut: Boolean(err?.killed) });
    });
  });
}

async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

const podman = (args, opts) => must('podman', args, opts);

function build(tag, dockerfile, context) {
  return podman(['build', '-q', '--pull=never', '--network=host', '--format', 'docker',
    '-t', tag, '-f', dockerfile, context], { timeout: 420000 });
}

before(async () => {
  const t0 = Date.now();
  // The images are built by podman (docker-compose's own build path is not used); the layers are
  // cached, so a rerun rebuilds only what changed.
  await build(IMAGES.THAMDO_IMAGE, 'Dockerfile', '.');
  await build(IMAGES.THAMDO_REDIS_IMAGE, 'tests/deploy/images/redis.Dockerfile', 'tests/deploy/images');
  await build(IMAGES.THAMDO_HAPROXY_IMAGE, 'tests/deploy/images/haproxy.Dockerfile', 'tests/deploy/images');
  console.log(`images built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // As an operator would (README "Deploying"): a random secret and token, readable by the image's user.
  secretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'thamdo-deploy-secrets-'));
  fs.chmodSync(secretsDir, 0o755);
  adminToken = `adm-${Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('hex')}`;
  fs.writeFileSync(path.join(secretsDir, 'secret'), `${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}\n`);
  fs.writeFileSync(path.join(secretsDir, 'admin_tokens'), `${adminToken}\n`);
  for (const f of ['secret', 'admin_tokens']) {
    fs.chownSync(path.join(secretsDir, f), UID, 0);
    fs.chmodSync(path.join(secretsDir, f), 0o400);
  }
});

/** A compose project: up, down, container names, run under a unique project name and port. */
async function project(file, tag) {
  const name = `thamdo${tag}${process.pid}`;
  const port = await freePort();
  // The votes of these tests all come from this host: the rate limits are off (the compose files'
  // THAMDO_RATE_LIMITS, on by default).
  const env = {
    ...IMAGES, THAMDO_SECRETS_DIR: secretsDir, THAMDO_PORT: String(port), THAMDO_PUBLISH_HOST: '127.0.0.1',
    THAMDO_RATE_LIMITS: 'off',
  };
  const compose = (args, timeout = 120000) => run('docker-compose', ['-p', name, '-f', file, ...args], { timeout, env });
  return {
    name,
    base: `http://127.0.0.1:${port}`,
    container: (service) => `${name}_${service}_1`,
    async up() {
      const r = await compose(['up', '-d', '--no-build'], 300000);
      if (r.code !== 0) {
        const ps = await run('podman', ['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
        // The last lines of every container that did not become healthy, to say why.
        let logs = '';
        for (const line of ps.stdout.split('\n')) {
          const [ctr] = line.split(' ');
          if (ctr.startsWith(`${name}_`) && !/\(healthy\)/.test(line)) {
            const l = await run('podman', ['logs', '--tail', '10', ctr]);
            logs += `--- ${ctr}\n${l.stdout}${l.stderr}`;
          }
        }
        assert.fail(`docker-compose up failed (exit ${r.code}):\n${r.stderr.split('\n').slice(-4).join('\n')}\n${ps.stdout}\n${logs}`);
      }
    },
    async down() {
      const r = await compose(['down', '-v', '--remove-orphans', '-t', '5'], 120000);
      // Whatever down left (a container restarting meanwhile keeps the network in use): by label.
      const label = `label=com.docker.compose.project=${name}`;
      const left = (await run('podman', ['ps', '-a', '-q', '--filter', label])).stdout.split(/\s+/).filter(Boolean);
      if (left.length) await run('podman', ['rm', '-f', '-t', '2', ...left]);
      const nets = (await run('podman', ['network', 'ls', '-q', '--filter', label])).stdout.split(/\s+/).filter(Boolean);
      if (nets.length) await run('podman', ['network', 'rm', '-f', ...nets]);
      const vols = (await run('podman', ['volume', 'ls', '-q', '--filter', label])).stdout.split(/\s+/).filter(Boolean);
      if (vols.length) await run('podman', ['volume', 'rm', '-f', ...vols]);
      if (r.code !== 0 && left.length + nets.length + vols.length === 0) {
        console.log(`docker-compose down: exit ${r.code}: ${r.stderr.split('\n').slice(-3).join(' ')}`);
      }
    },
    async logs(service) {
      const r = await run('podman', ['logs', '--tail', '40', `${name}_${service}_1`]);
      return r.stdout + r.stderr;
    },
  };
}

async function health(container) {
  const r = await run('podman', ['inspect', '--format', '{{.State.Health.Status}}', container]);
  return r.stdout.trim();
}

async function waitHealthy(container, timeout = 90000) {
  const until = Date.now() + timeout;
  let s = '';
  while (Date.now() < until) {
    s = await health(container);
    if (s === 'healthy') return;
    await sleep(250);
  }
  assert.fail(`${container} not healthy within ${timeout} ms (last: ${s})`);
}

/** Waits until each Sentinel knows the two others and both replicas (they learn of each other
 * through the primary, so a primary lost before that could never be replaced), bounded. */
async function waitSentinels(p, timeout = 60000) {
  const until = Date.now() + timeout;
  let last = '';
  for (const s of ['sentinel1', 'sentinel2', 'sentinel3']) {
    for (;;) {
      const r = await run('podman', ['exec', p.container(s), 'redis-cli', '-p', '26379', 'sentinel', 'master', 'thamdo']);
      const f = r.stdout.split('\n');
      const field = (k) => f[f.indexOf(k) + 1];
      last = `${s}: other sentinels ${field('num-other-sentinels')}, replicas ${field('num-slaves')}`;
      if (field('num-other-sentinels') === '2' && field('num-slaves') === '2') break;
      assert.ok(Date.now() < until, `Sentinels not ready within ${timeout} ms (${last})`);
      await sleep(250);
    }
  }
}

/** Waits until the primary has both replicas online (WAIT 1 can then be had), bounded. */
async function waitReplicas(p, timeout = 60000) {
  const until = Date.now() + timeout;
  let info = '';
  for (;;) {
    info = (await run('podman', ['exec', p.container('redis-primary'), 'redis-cli', 'info', 'replication'])).stdout;
    if ((info.match(/state=online/g) || []).length === 2) return;
    assert.ok(Date.now() < until, `replicas not online within ${timeout} ms:\n${info}`);
    await sleep(250);
  }
}

/** GETs url until it answers 200, bounded. */
async function waitAnswering(base, urlPath, timeout = 60000) {
  const until = Date.now() + timeout;
  let last = '';
  while (Date.now() < until) {
    try {
      const r = await request(base, 'GET', urlPath, { timeout: 2000 });
      if (r.status === 200) return r;
      last = `status ${r.status}`;
    } catch (e) { last = e.message; }
    await sleep(250);
  }
  assert.fail(`${base}${urlPath} did not answer 200 within ${timeout} ms (last: ${last})`);
}

/** The poll's total, read over a second after the last write (every instance's cache is then current). */
async function tally(base) {
  await sleep(1100);
  const r = await request(base, 'GET', `/api/v1/polls/${POLL}/results`);
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

/** A new reader's vote (a fresh cookie jar) through base: its status, or the network error's code.
 * After a refusal it waits 100 ms before it returns, as a reader's widget waits before a retry. */
async function newReaderVote(base, i) {
  let status;
  try {
    status = (await new Voter(base).vote(POLL, [OPTIONS[i % OPTIONS.length]], { timeout: 10000 })).status;
  } catch (e) {
    status = e.cause?.code || e.name || 'error';
  }
  if (status !== 201) await sleep(100);
  return status;
}

/** The instance that answered: the random per-process prefix of its generated request ids. */
const instanceOf = (r) => (r.headers.get('x-request-id') || '').split('-')[0];

test('docker-compose.yml: thamdo + Redis up, healthy, votes counted, secrets read, graceful stop, down', { timeout: 420000 }, async () => {
  const p = await project('deploy/docker-compose.yml', 'one');
  try {
    const t0 = Date.now();
    await p.up();
    await waitHealthy(p.container('thamdo'));
    const healthyMs = Date.now() - t0;
    assert.equal(await health(p.container('redis')), 'healthy');

    // Redis keeps an append-only file on its volume; the service runs as the image's user.
    const aof = await podman(['exec', p.container('redis'), 'redis-cli', 'config', 'get', 'appendonly']);
    assert.match(aof.stdout, /appendonly\s+yes/);
    const uid = await podman(['exec', p.container('thamdo'), 'id', '-u']);
    assert.equal(uid.stdout.trim(), String(UID));

    // Readers vote, each with a fresh cookie jar; every 201 is in the results.
    const voters = [];
    let acked = 0;
    const sent = 24;
    for (let i = 0; i < sent; i++) {
      const v = new Voter(p.base);
      const r = await v.vote(POLL, [OPTIONS[i % OPTIONS.length]]);
      assert.equal(r.status, 201, r.text);
      assert.ok(r.issued, 'a first vote mints the voter cookie');
      acked++;
      voters.push(v);
    }
    const inTally = await tally(p.base);
    assert.equal(inTally, acked);
    const again = await voters[0].vote(POLL, [OPTIONS[1]]);
    assert.equal(again.status, 409, again.text);
    assert.equal(again.json.error.code, 'already_voted');

    // The admin token of the compose secret opens the admin API; a wrong one does not.
    const adm = await request(p.base, 'GET', '/admin/v1/polls', { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(adm.status, 200, adm.text);
    const bad = await request(p.base, 'GET', '/admin/v1/polls', { headers: { authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(bad.status, 401, bad.text);

    // SIGTERM (the image's STOPSIGNAL) to PID 1: a graceful stop, promptly, exit status 0.
    const ts = Date.now();
    await podman(['stop', '-t', '15', p.container('thamdo')], { timeout: 30000 });
    const stopMs = Date.now() - ts;
    const exit = await podman(['inspect', '--format', '{{.State.ExitCode}}', p.container('thamdo')]);
    assert.equal(exit.stdout.trim(), '0', await p.logs('thamdo'));
    assert.ok(stopMs < 5000, `podman stop took ${stopMs} ms`);
    assert.match(await p.logs('thamdo'), /SIGTERM received/);

    // Started again: the secret comes from the file, so a reader's cookie still names the same voter.
    await podman(['start', p.container('thamdo')]);
    await waitHealthy(p.container('thamdo'));
    const after = await voters[1].vote(POLL, [OPTIONS[0]]);
    assert.equal(after.status, 409, after.text);
    assert.equal(await tally(p.base), acked);

    console.log(`single: time to healthy ${(healthyMs / 1000).toFixed(1)} s; votes sent ${sent}, ` +
      `acknowledged ${acked}, in tally ${inTally}; podman stop ${stopMs} ms (exit 0)`);
  } finally {
    await p.down();
  }
});

test('docker-compose.scale.yml: 3 instances behind HAProxy, Redis replicas and Sentinels; one instance killed under votes loses no acknowledged vote', { timeout: 480000 }, async () => {
  const p = await project('deploy/docker-compose.scale.yml', 'scale');
  try {
    const t0 = Date.now();
    await p.up();
    for (const s of ['thamdo1', 'thamdo2', 'thamdo3']) await waitHealthy(p.container(s));
    await waitAnswering(p.base, '/readyz');
    await waitReplicas(p);
    const healthyMs = Date.now() - t0;

    // HAProxy spreads the requests over the three instances (each has its own request-id prefix).
    const seen = new Set();
    for (let i = 0; i < 60 && seen.size < 3; i++) seen.add(instanceOf(await request(p.base, 'GET', '/readyz')));
    assert.equal(seen.size, 3, `instances answering through HAProxy: ${[...seen]}`);

    // A cookie issued by one instance is honoured by another: the same voter, refused a second vote.
    const reader = new Voter(p.base);
    const first = await reader.vote(POLL, [OPTIONS[0]]);
    assert.equal(first.status, 201, first.text);
    const issuer = instanceOf(first);
    await sleep(1100); // reads on other connections may trail a vote by up to a second (README)
    let other = null;
    for (let i = 0; i < 30 && !other; i++) {
      const r = await reader.get(POLL);
      assert.equal(r.status, 200, r.text);
      if (instanceOf(r) !== issuer) other = r;
    }
    assert.ok(other, 'no other instance answered');
    assert.equal(other.issued, null, 'another instance must not mint a new cookie for a valid one');
    assert.equal(other.json.voted, true, 'another instance knows this reader voted');
    assert.deepEqual(other.json.choice, [OPTIONS[0]]);
    let refused = null;
    for (let i = 0; i < 30 && !refused; i++) {
      const r = await reader.vote(POLL, [OPTIONS[1]]);
      if (instanceOf(r) !== issuer) refused = r;
      else assert.equal(r.status, 409, r.text);
    }
    assert.ok(refused, 'no other instance answered the second vote');
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json.error.code, 'already_voted');

    // New readers vote, six at a time; one instance is killed (SIGKILL) once 80 votes are in; at
    // least 240 are sent, and on until 40 were acknowledged after the kill returned.
    const baseline = await tally(p.base);
    const atLeast = 240;
    const loadUntil = Date.now() + 90000;
    const killAt = 80;
    let next = 0;
    let acked = 0;
    let ackedAfterKill = 0;
    let killed = null;
    let gone = false; // podman kill has returned: thamdo2 is dead
    const failed = {};
    const worker = async () => {
      while ((next < atLeast || ackedAfterKill < 40) && Date.now() < loadUntil) {
        next++;
        const status = await newReaderVote(p.base, next);
        if (status === 201) {
          acked++;
          if (gone) ackedAfterKill++;
        } else {
          failed[status] = (failed[status] || 0) + 1;
        }
        if (acked >= killAt && !killed) killed = podman(['kill', p.container('thamdo2')]).then(() => { gone = true; });
      }
    };
    const tl = Date.now();
    await Promise.all(Array.from({ length: 6 }, worker));
    const loadMs = Date.now() - tl;
    assert.ok(killed, 'the kill was not reached');
    await killed;
    const state = await podman(['inspect', '--format', '{{.State.Status}}', p.container('thamdo2')]);
    assert.equal(state.stdout.trim(), 'exited');
    const inTally = (await tally(p.base)) - baseline;
    const sent = next;
    const nFailed = sent - acked;
    console.log(`scale: time to healthy ${(healthyMs / 1000).toFixed(1)} s; votes sent ${sent} in ` +
      `${(loadMs / 1000).toFixed(1)} s, acknowledged ${acked} (${ackedAfterKill} after thamdo2 was killed), ` +
      `not acknowledged ${nFailed} ${JSON.stringify(failed)}, in tally ${inTally}`);
    assert.ok(inTally >= acked, `acknowledged votes lost: ${acked - inTally}`);
    assert.ok(inTally <= sent, 'more votes in the tally than were sent');
    assert.ok(ackedAfterKill >= 40, `votes did not flow after the kill (${ackedAfterKill} acknowledged)`);
    // HAProxy's checks take the killed instance out: the two left answer everything.
    const left = new Set();
    for (let i = 0; i < 20; i++) {
      const r = await request(p.base, 'GET', '/readyz');
      assert.equal(r.status, 200);
      left.add(instanceOf(r));
    }
    assert.ok(left.size <= 2, `still answering: ${[...left]}`);

    // The Redis primary killed under votes: the Sentinels promote a replica, the instances left
    // follow it, and with THAMDO_REDIS_WAIT_REPLICAS=1 no acknowledged vote is lost.
    await waitSentinels(p);
    const base2 = await tally(p.base);
    let sent2 = 0;
    let acked2 = 0;
    let ackedAfter = 0;
    let primaryGone = 0;
    let lastFail = 0;
    let primaryKill = null;
    const failed2 = {};
    const until = Date.now() + 150000;
    const voter2 = async () => {
      while (Date.now() < until && ackedAfter < 40) {
        sent2++;
        const status = await newReaderVote(p.base, sent2);
        if (status === 201) {
          acked2++;
          if (primaryGone) ackedAfter++;
        } else {
          failed2[status] = (failed2[status] || 0) + 1;
          if (primaryGone) lastFail = Date.now();
        }
        if (acked2 >= 40 && !primaryKill) {
          primaryKill = podman(['kill', p.container('redis-primary')]).then(() => { primaryGone = Date.now(); });
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, voter2));
    assert.ok(primaryKill, 'the primary kill was not reached');
    await primaryKill;
    const master = await podman(['exec', p.container('sentinel1'), 'redis-cli', '-p', '26379',
      'sentinel', 'get-master-addr-by-name', 'thamdo']);
    const inTally2 = (await tally(p.base)) - base2;
    console.log(`failover: votes sent ${sent2}, acknowledged ${acked2} (${ackedAfter} after the primary ` +
      `was killed), not acknowledged ${sent2 - acked2} ${JSON.stringify(failed2)}, in tally ${inTally2}; ` +
      `writes failed for ${lastFail ? ((lastFail - primaryGone) / 1000).toFixed(1) : 0} s; new primary ` +
      `${master.stdout.split('\n')[0]}`);
    // How thamdo1 saw it: its link state changes.
    const seen1 = (await run('podman', ['logs', p.container('thamdo1')]));
    const linkLines = `${seen1.stdout}${seen1.stderr}`.split('\n')
      .filter((l) => /sentinel|unavailable|ready again|primary|replica|WAIT/i.test(l) && !/ (GET|POST) \//.test(l));
    console.log(`failover, as thamdo1 logged it:\n  ${linkLines.slice(-12).join('\n  ')}`);
    assert.notEqual(master.stdout.split('\n')[0], 'redis-primary', 'no failover');
    assert.ok(ackedAfter >= 40, `votes did not flow again after the failover (${ackedAfter} acknowledged)`);
    assert.ok(inTally2 >= acked2, `acknowledged votes lost across the failover: ${acked2 - inTally2}`);
    assert.ok(inTally2 <= sent2, 'more votes in the tally than were sent');
  } finally {
    await p.down();
  }
});
