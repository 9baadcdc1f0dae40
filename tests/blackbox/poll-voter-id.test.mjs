// When no voter id can be made (OpenSSL's RAND_bytes fails), a vote is refused with a clear
// answer and nothing is counted: the no-JS form post once voted under an id it never obtained
// (all zero bytes, the same for every such reader). The failure is real, not mocked: a tiny
// library preloaded into the real binary makes RAND_bytes fail; a second instance on the same
// Redis and secret mints the cookies a reader already holds, which keep working.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  startRedis, startThamdo, makePoll, request, Voter, assertError, tmpDir, THAMDO_BIN, sleep,
} from './lib/harness.mjs';

const P = { poll: makePoll('ma-nguoi-doc', { options: ['a', 'b'] }) };

let redis;
let broken; // RAND_bytes fails in it
let sound; // the same service, a working random generator

before(async () => {
  const dir = tmpDir('thamdo-norand-');
  const src = path.join(dir, 'norand.c');
  const lib = path.join(dir, 'norand.so');
  fs.writeFileSync(src, 'int RAND_bytes(unsigned char *buf, int num) { (void)buf; (void)num; return 0; }\n');
  execFileSync('cc', ['-shared', '-fPIC', '-o', lib, src], { timeout: 30000 });
  redis = await startRedis();
  const asan = /asan/.test(THAMDO_BIN);
  broken = await startThamdo({
    redis,
    polls: Object.values(P),
    env: {
      LD_PRELOAD: lib,
      // The sanitizer runtime wants to be first; the preloaded library only replaces RAND_bytes.
      ...(asan ? { ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=1:verify_asan_link_order=0' } : {}),
    },
  });
  sound = await startThamdo({ redis, polls: Object.values(P) });
});

async function total() {
  const r = await request(sound.url, 'GET', '/api/v1/polls/ma-nguoi-doc/results');
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

test('the embed form post without a voter id: 500 page "Chưa ghi nhận được bình chọn", no cookie, nothing counted', async () => {
  for (const [q, text] of [['', 'Chưa ghi nhận được bình chọn của bạn. Vui lòng thử lại.'], ['?lang=en', 'Your vote could not be recorded. Please try again.']]) {
    const r = await request(broken.url, 'POST', `/embed/polls/ma-nguoi-doc${q}`, { form: 'option=a' });
    assert.equal(r.status, 500, r.text.slice(0, 300));
    assert.match(r.headers.get('content-type') || '', /^text\/html/);
    assert.ok(r.text.includes(text), r.text);
    assert.match(r.text, /href="\/embed\/polls\/ma-nguoi-doc(\?lang=en)?"/, 'a link to try again');
    assert.equal(r.headers.get('set-cookie'), null, 'no cookie without an id');
  }
  assert.equal(await total(), 0, 'nothing was counted');
  assert.ok(broken.stderr().includes('embed vote: could not create a voter id'), broken.stderr());
});

test('the API vote without a voter id: 500 internal_error, nothing counted', async () => {
  assertError(await request(broken.url, 'POST', '/api/v1/polls/ma-nguoi-doc/votes', { json: { options: ['a'] } }), 500, 'internal_error');
  assert.equal(await total(), 0);
});

test('a reader who already holds a cookie votes as usual on the same instance', async () => {
  const v = new Voter(sound.url);
  assert.equal((await v.get('ma-nguoi-doc')).status, 200);
  assert.ok(v.cookie, 'a cookie from the sound instance');
  const post = await v.req('POST', '/embed/polls/ma-nguoi-doc', { base: broken.url, form: 'option=b' });
  assert.equal(post.status, 303, post.text);
  assert.equal(post.headers.get('location'), '/embed/polls/ma-nguoi-doc?msg=voted');
  // The vote went through the other instance: this one hears of it as it is published (and asks
  // Redis again within a second in any case).
  let seen = await total();
  for (let i = 0; i < 60 && seen !== 1; i++) {
    await sleep(50);
    seen = await total();
  }
  assert.equal(seen, 1);
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await broken.stop();
  await sound.stop();
  await redis.stop();
});
