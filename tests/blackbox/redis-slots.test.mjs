// Every Lua script touches one hash slot, so that Redis Cluster is a change of client, not of
// data: every EVALSHA the service sends (seen with MONITOR while the public API, the admin API
// and the counter are used) names keys that hash to one Redis Cluster slot (CRC16 of the hash
// tag, or of the whole key without one, modulo 16384), and every script of src/store/lua is seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  REPO_ROOT, startRedis, startThamdo, makePoll, request, Voter, sleep,
} from './lib/harness.mjs';

const TOKEN = 'slots-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** CRC16-XMODEM as Redis Cluster computes it (src/crc16.c). */
function crc16(buf) {
  let crc = 0;
  for (const b of buf) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The slot of a key (bytes): the hash tag's content when the key has a non-empty one. */
function slot(key) {
  const open = key.indexOf(0x7b); // {
  if (open >= 0) {
    const close = key.indexOf(0x7d, open + 1); // }
    if (close > open + 1) return crc16(key.subarray(open + 1, close)) & 16383;
  }
  return crc16(key) & 16383;
}

/** The quoted arguments of a MONITOR line, as bytes (sdscatrepr escapes). */
function monitorArgs(line) {
  const args = [];
  let i = line.indexOf('] ');
  if (i < 0) return args;
  i += 2;
  while (i < line.length) {
    if (line[i] !== '"') { i++; continue; }
    const bytes = [];
    i++;
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\') {
        const c = line[i + 1];
        if (c === 'x') { bytes.push(parseInt(line.slice(i + 2, i + 4), 16)); i += 4; continue; }
        bytes.push({ n: 10, r: 13, t: 9, a: 7, b: 8 }[c] ?? c.charCodeAt(0));
        i += 2;
        continue;
      }
      bytes.push(...Buffer.from(line[i], 'utf8'));
      i++;
    }
    args.push(Buffer.from(bytes));
    i++;
  }
  return args;
}

test('crc16 is the one Redis Cluster uses', () => {
  assert.equal(crc16(Buffer.from('123456789')), 0x31c3);
  assert.equal(slot(Buffer.from('thamdo:{poll:a}:def')), slot(Buffer.from('x{poll:a}y')));
});

test('every script call names keys of one hash slot, and every script is used', async () => {
  const scripts = new Map();
  const dir = path.join(REPO_ROOT, 'src/store/lua');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.lua'))) {
    scripts.set(crypto.createHash('sha1').update(fs.readFileSync(path.join(dir, f))).digest('hex'), f);
  }
  const redis = await startRedis();
  const sock = net.connect({ host: '127.0.0.1', port: redis.port });
  let text = '';
  sock.setEncoding('latin1'); // MONITOR escapes non-ASCII bytes: the line is ASCII
  sock.on('data', (d) => { text += d; });
  await new Promise((r) => sock.once('connect', r));
  sock.write('MONITOR\r\n');
  for (let i = 0; i < 100 && !text.startsWith('+OK'); i++) await sleep(20);

  const poll = makePoll('slot-a', { allow_change: true });
  const svc = await startThamdo({ redis, polls: [poll], env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_SITES: 'tin-tuc', THAMDO_RATE_LIMITS: 'on' } });
  const v = new Voter(svc.url);
  assert.equal((await v.get('slot-a')).status, 200);
  assert.equal((await v.vote('slot-a', ['opt-a'])).status, 201);
  assert.equal((await v.vote('slot-a', ['opt-b'])).status, 200);
  assert.equal((await request(svc.url, 'GET', '/api/v1/polls?status=all')).status, 200);
  const created = await request(svc.url, 'POST', '/admin/v1/polls', {
    headers: AUTH, json: { id: 'slot-b', question: 'Hai?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal((await request(svc.url, 'PATCH', '/admin/v1/polls/slot-b', { headers: AUTH, json: { question: 'Hai nữa?' } })).status, 200);
  assert.equal((await request(svc.url, 'DELETE', '/admin/v1/polls/slot-b', { headers: AUTH })).status, 200);
  assert.equal((await request(svc.url, 'GET', '/admin/v1/polls', { headers: AUTH })).status, 200);
  assert.equal((await request(svc.url, 'GET', '/admin/v1/polls/slot-a/results', { headers: AUTH })).status, 200);
  assert.equal((await v.req('POST', '/api/v1/visits', { json: { site: 'tin-tuc' } })).status, 200);
  assert.equal((await v.req('GET', '/api/v1/visits?site=tin-tuc')).status, 200);
  assert.equal((await request(svc.url, 'PUT', '/admin/v1/visits/base?site=tin-tuc', { headers: AUTH, json: { total: 5 } })).status, 200);
  assert.equal((await request(svc.url, 'GET', '/admin/v1/visits?site=tin-tuc', { headers: AUTH })).status, 200);
  await sleep(200);
  await svc.stop();
  sock.destroy();

  const seen = new Map();
  let calls = 0;
  for (const line of text.split('\r\n')) {
    const args = monitorArgs(line);
    if (args.length < 3 || !/^(evalsha|eval)$/i.test(args[0].toString())) continue;
    const name = /^evalsha$/i.test(args[0].toString()) ? scripts.get(args[1].toString()) : 'EVAL';
    assert.ok(name, `EVALSHA of an unknown script ${args[1]}`);
    const keys = args.slice(3, 3 + Number(args[2].toString()));
    const slots = new Set(keys.map(slot));
    assert.ok(slots.size <= 1, `${name}: keys in ${slots.size} slots: ${keys.map((k) => k.toString('latin1')).join(' ')}`);
    seen.set(name, (seen.get(name) || 0) + 1);
    calls++;
  }
  console.log(`# ${calls} script calls, each on one slot: ${[...seen].map(([n, c]) => `${n} ${c}`).join(', ')}`);
  assert.deepEqual([...seen.keys()].sort(), [...scripts.values()].sort(), 'every script was used');
  await redis.stop();
});
