// The web side of the service, black-box: the built-in files of web/ (widget script, demo page,
// /static/), CORS on the JSON API and the source check of votes, the server-rendered no-JS embed
// page and its form post, and that an embed vote and an API vote are the same ballot.
// Real redis-server, real thamdo, loopback only, every wait bounded.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  startRedis, startThamdo, runThamdo, thamdoEnv, makePoll, writePollsFile, request, rawRequest, Voter,
  assertError, assertResults, assertNoSanitizer, REPO_ROOT, COOKIE_NAME, COOKIE_RE, readFresh,
} from './lib/harness.mjs';
import { validateResponse } from './lib/openapi.mjs';

const LISTED = 'http://localhost:5001';
const PORTAL = 'https://portal.example.vn';
const ALLOWED_ORIGINS = `${LISTED},${PORTAL}`;
const EVIL = 'https://evil.example';
const WEB = path.join(REPO_ROOT, 'web');

const ESC_QUESTION = `<b>"Q" & 'A'</b>`;
const ESC_LABEL = `<i>"x"</i> & 'y' <script>alert(1)</script>`;

const P = {
  cors: makePoll('cors-poll', { options: ['tin-tuc', 'the-thao'] }),
  src: makePoll('src-poll', { options: ['mot', 'hai'] }),
  emb: makePoll('emb-poll', {
    question: 'Bạn đọc chuyên mục nào?',
    options: [{ id: 'a', label: 'Tin tức' }, { id: 'b', label: 'Thể thao' }, { id: 'c', label: 'Giải trí' }],
  }),
  embSrc: makePoll('emb-src', { options: ['a', 'b'] }),
  esc: makePoll('esc-poll', { question: ESC_QUESTION, options: [{ id: 'a', label: ESC_LABEL }, { id: 'b', label: 'B & b' }] }),
  multi: makePoll('multi-poll', { max_choices: 2, options: ['a', 'b', 'c'] }),
  closed: makePoll('closed-poll', { status: 'closed', options: ['a', 'b'] }),
  never: makePoll('never-poll', { results_visibility: 'never', options: ['a', 'b'] }),
  shared: makePoll('shared-poll', { options: ['a', 'b', 'c'] }),
  shared2: makePoll('shared-poll-2', { options: ['a', 'b', 'c'] }),
  thirds: makePoll('thirds-poll', { options: ['a', 'b', 'c'] }),
  three: makePoll('three-choices', { max_choices: 3, options: ['a', 'b', 'c'] }),
  soon: makePoll('soon-poll', { opens_at: '2099-01-01T00:00:00Z', options: ['a', 'b'] }),
};

let redis;
let svc;
let url;
let own; // the service's own origin, http://127.0.0.1:PORT

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, polls: Object.values(P), env: { THAMDO_ALLOWED_ORIGINS: ALLOWED_ORIGINS } });
  url = svc.url;
  own = `http://127.0.0.1:${svc.port}`;
  assert.equal(svc.host, '127.0.0.1');
});

// ------------------------------------------------------------------ helpers

/**
 * One exchange over a raw socket, exactly the headers given (plus Host and Connection: close):
 * no Accept-Encoding, Origin or Referer unless asked for, and the body bytes as sent (no
 * transparent gunzip as fetch does). The response is validated against api/openapi.yaml too.
 */
async function rawHttp(method, urlPath, headers = {}, body) {
  const lines = [`${method} ${urlPath} HTTP/1.1`, `Host: 127.0.0.1:${svc.port}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  if (body !== undefined) lines.push(`Content-Length: ${payload.length}`);
  lines.push('Connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const r = await rawRequest(url, Buffer.concat([head, payload]), { timeout: 5000 });
  const buf = Buffer.from(r.raw, 'latin1');
  const end = buf.indexOf('\r\n\r\n');
  assert.ok(end > 0, `no complete response head for ${method} ${urlPath} (${r.why}): ${JSON.stringify(r.raw.slice(0, 300))}`);
  const headLines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = headLines.shift().match(/^HTTP\/1\.[01] (\d{3})/);
  assert.ok(m, `bad status line: ${r.raw.slice(0, 100)}`);
  const hdrs = {};
  const list = [];
  for (const l of headLines) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    list.push([k, v]);
    hdrs[k] = k in hdrs ? `${hdrs[k]}, ${v}` : v;
  }
  let bodyBuf = buf.subarray(end + 4);
  if (/chunked/i.test(hdrs['transfer-encoding'] || '')) {
    const parts = [];
    let p = 0;
    for (;;) {
      const eol = bodyBuf.indexOf('\r\n', p);
      assert.ok(eol >= 0, 'truncated chunked body');
      const size = parseInt(bodyBuf.subarray(p, eol).toString('latin1'), 16);
      assert.ok(Number.isInteger(size), 'bad chunk size');
      if (size === 0) break;
      parts.push(bodyBuf.subarray(eol + 2, eol + 2 + size));
      p = eol + 2 + size + 2;
    }
    bodyBuf = Buffer.concat(parts);
  }
  const res = {
    status: Number(m[1]),
    headers: { get: (n) => hdrs[n.toLowerCase()] ?? null },
    headerList: list,
    body: bodyBuf,
    text: bodyBuf.toString('utf8'),
  };
  validateResponse({
    method,
    path: urlPath,
    status: res.status,
    headers: res.headers,
    body: hdrs['content-encoding'] ? '' : res.text,
  });
  return res;
}

const tokens = (v) => (v || '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);

function assertVaryHas(r, name, what) {
  assert.ok(tokens(r.headers.get('vary')).includes(name.toLowerCase()), `${what}: Vary ${JSON.stringify(r.headers.get('vary'))} should include ${name}`);
}

/** Every Access-Control-* header of a fetch or raw response. */
function corsHeaders(r) {
  const out = [];
  r.headers.forEach?.((v, k) => { if (k.toLowerCase().startsWith('access-control-')) out.push(`${k}: ${v}`); });
  return out;
}

function assertCorsAllowed(r, origin, what) {
  assert.equal(r.headers.get('access-control-allow-origin'), origin, `${what}: Access-Control-Allow-Origin`);
  assert.equal(r.headers.get('access-control-allow-credentials'), 'true', `${what}: Access-Control-Allow-Credentials`);
  assertVaryHas(r, 'Origin', what);
}

function assertNoCors(r, what) {
  assert.deepEqual(corsHeaders(r), [], `${what}: no Access-Control-* headers expected`);
  assertVaryHas(r, 'Origin', what);
}

/** The results as Redis holds them: read over a second after the last write (readFresh), so they
 * are current whichever worker answers, before and after the votes these tests count. */
async function resultsOf(id) {
  const r = await readFresh(url, `/api/v1/polls/${id}/results`);
  assert.equal(r.status, 200, r.text);
  const poll = Object.values(P).find((p) => p.id === id);
  return { total: r.json.total, voters: r.json.voters, counts: assertResults(r.json, poll) };
}

const decode = (s) => s
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#39;|&#x27;|&apos;/g, "'").replace(/&amp;/g, '&');

function assertHtmlPage(r, status, what) {
  assert.equal(r.status, status, `${what}: status (${r.text.slice(0, 300)})`);
  assert.match(r.headers.get('content-type') || '', /^text\/html;\s*charset=utf-8$/i, `${what}: Content-Type`);
  assert.match(r.headers.get('cache-control') || '', /\bno-store\b/, `${what}: Cache-Control`);
  assert.match(r.text, /^<!doctype html>/i, `${what}: an HTML document`);
}

/** The frame-ancestors sources of a CSP header value. */
function frameAncestors(csp) {
  const d = (csp || '').split(';').map((s) => s.trim()).find((s) => s.startsWith('frame-ancestors'));
  assert.ok(d, `no frame-ancestors in CSP ${JSON.stringify(csp)}`);
  return d.split(/\s+/).slice(1);
}

function assertEmbedCsp(r, what) {
  const csp = r.headers.get('content-security-policy');
  assert.ok(csp, `${what}: Content-Security-Policy missing`);
  const fa = frameAncestors(csp);
  for (const src of ["'self'", LISTED, PORTAL]) assert.ok(fa.includes(src), `${what}: frame-ancestors ${JSON.stringify(fa)} lacks ${src}`);
  assert.equal(fa.length, 3, `${what}: frame-ancestors has only 'self' and the listed origins: ${JSON.stringify(fa)}`);
}

/** The <input> tags of the page: [{type, name, value}]. */
function inputs(html) {
  return [...html.matchAll(/<input\b([^>]*)>/gi)].map((m) => {
    const attr = (n) => {
      const a = m[1].match(new RegExp(`\\b${n}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'));
      return a ? decode(a[2] ?? a[3] ?? a[4]) : null;
    };
    return { type: (attr('type') || 'text').toLowerCase(), name: attr('name'), value: attr('value') };
  });
}

const postForms = (html) => [...html.matchAll(/<form\b[^>]*\bmethod\s*=\s*["']?post\b[^>]*>/gi)];

/** Asserts the page is the voting form with one `type` input name="option" per option of poll. */
function assertVoteForm(html, poll, type, what) {
  assert.equal(postForms(html).length, 1, `${what}: one <form method="post"> expected`);
  const opts = inputs(html).filter((i) => i.name === 'option');
  assert.deepEqual(opts.map((i) => i.value), poll.options.map((o) => o.id), `${what}: one input per option, in order`);
  for (const i of opts) assert.equal(i.type, type, `${what}: input type for ${i.value}`);
}

/** The <li> items of the page (the results list) as text. */
const listItems = (html) => [...html.matchAll(/<li\b[^>]*>([\s\S]*?)<\/li>/gi)].map((m) => m[0]);

const embedPath = (id, q = '') => `/embed/polls/${id}${q}`;

/** The text of a page as a reader sees it: tags dropped, entities decoded, spaces folded. */
const visibleText = (html) => decode(html.replace(/<style>[\s\S]*?<\/style>/g, '').replace(/<title>[\s\S]*?<\/title>/g, '')
  .replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();

/** No line of the page (a <p>, <h1>, <legend> or <li>) is said twice. */
function assertNoRepeatedLines(html, what) {
  const lines = [...html.matchAll(/<(p|h1|legend|li)\b[^>]*>([\s\S]*?)<\/\1>/gi)].map((m) => visibleText(m[2]));
  const seen = new Set();
  for (const l of lines) {
    assert.ok(!seen.has(l), `${what}: the line ${JSON.stringify(l)} is said twice`);
    seen.add(l);
  }
}

const count = (text, sub) => text.split(sub).length - 1;
const pollPath = (id) => `/api/v1/polls/${id}`;

// ------------------------------------------------------------------ assets

const webFile = (name) => path.join(WEB, name);
const haveWidget = () => fs.existsSync(webFile('widget.js'));
const haveIndex = () => fs.existsSync(webFile('index.html'));
const sha20 = (buf) => `"${crypto.createHash('sha256').update(buf).digest('hex').slice(0, 20)}"`;

test('GET /widget.js: JavaScript, ETag, Cache-Control public max-age=300, Vary Accept-Encoding; 304; gzip with its own ETag (raw socket)', async (t) => {
  if (!haveWidget()) {
    t.skip('web/widget.js does not exist (yet): no widget to serve');
    return;
  }
  // Without Accept-Encoding: the raw file.
  const plain = await rawHttp('GET', '/widget.js');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('content-type'), 'application/javascript; charset=utf-8');
  assert.equal(plain.headers.get('cache-control'), 'public, max-age=300');
  assertVaryHas(plain, 'Accept-Encoding', 'GET /widget.js');
  assert.equal(plain.headers.get('content-encoding'), null, 'no Content-Encoding without Accept-Encoding');
  const etag = plain.headers.get('etag');
  assert.match(etag || '', /^"[0-9a-f]{20}"$/, `ETag ${etag}`);
  assert.ok(plain.body.length > 0, 'the script has a body');
  assert.equal(sha20(plain.body), etag, 'the ETag is the SHA-256 of the bytes served');
  if (plain.headers.get('content-length') !== null) assert.equal(Number(plain.headers.get('content-length')), plain.body.length);
  assert.doesNotThrow(() => new Function(plain.text), 'the served script parses as JavaScript'); // eslint-disable-line no-new-func

  // The same with fetch (which sends Accept-Encoding and gunzips transparently): same text.
  const viaFetch = await request(url, 'GET', '/widget.js');
  assert.equal(viaFetch.status, 200);
  assert.equal(viaFetch.text, plain.text);
  assert.equal(viaFetch.headers.get('etag'), `${etag.slice(0, -1)}-gz"`, 'fetch asked for gzip');

  // gzip: Content-Encoding gzip, smaller, gunzips to exactly the raw bytes; its own ETag, so a
  // cache never answers a request without gzip with the gzip bytes (they once shared one).
  const gzEtag = `${etag.slice(0, -1)}-gz"`;
  for (const ae of ['gzip', 'gzip, deflate, br', 'br;q=1.0, gzip;q=0.8']) {
    const gz = await rawHttp('GET', '/widget.js', { 'Accept-Encoding': ae });
    assert.equal(gz.status, 200, ae);
    assert.equal(gz.headers.get('content-encoding'), 'gzip', `Accept-Encoding: ${ae}`);
    assert.equal(gz.headers.get('content-type'), 'application/javascript; charset=utf-8');
    assert.equal(gz.headers.get('etag'), gzEtag);
    assert.equal(gz.headers.get('cache-control'), 'public, max-age=300');
    assertVaryHas(gz, 'Accept-Encoding', `gzip (${ae})`);
    const un = zlib.gunzipSync(gz.body);
    assert.ok(un.equals(plain.body), `gunzipped body (${un.length} bytes) equals the raw body (${plain.body.length} bytes)`);
    assert.ok(gz.body.length < plain.body.length, 'the gzip copy is smaller');
  }
  // gzip;q=0 refuses gzip.
  const q0 = await rawHttp('GET', '/widget.js', { 'Accept-Encoding': 'gzip;q=0' });
  assert.equal(q0.status, 200);
  assert.equal(q0.headers.get('content-encoding'), null, 'gzip;q=0 → raw');
  assert.ok(q0.body.equals(plain.body));

  // Conditional: If-None-Match naming the ETag of the copy this request would get → 304, no body.
  for (const [inm, ae, want] of [
    [etag, undefined, etag], [gzEtag, 'gzip', gzEtag], [`"0000000000000000000a", ${etag}`, undefined, etag],
    [`W/${gzEtag}`, 'gzip', gzEtag], [`${etag}, ${gzEtag}`, 'gzip', gzEtag], ['*', undefined, etag],
  ]) {
    const h = { 'If-None-Match': inm };
    if (ae) h['Accept-Encoding'] = ae;
    const nm = await rawHttp('GET', '/widget.js', h);
    assert.equal(nm.status, 304, `If-None-Match: ${inm} (Accept-Encoding: ${ae})`);
    assert.equal(nm.body.length, 0, `304 has no body (If-None-Match: ${inm})`);
    assert.equal(nm.headers.get('etag'), want);
    assertVaryHas(nm, 'Accept-Encoding', `304 (${inm})`);
    assert.equal(nm.headers.get('cache-control'), 'public, max-age=300');
  }
  // The other coding's ETag does not match: a client holding the gzip copy that now asks without
  // gzip gets the raw bytes, and the other way round.
  const crossRaw = await rawHttp('GET', '/widget.js', { 'If-None-Match': gzEtag });
  assert.equal(crossRaw.status, 200, 'the gzip ETag does not validate the raw copy');
  assert.equal(crossRaw.headers.get('content-encoding'), null);
  assert.ok(crossRaw.body.equals(plain.body));
  const crossGz = await rawHttp('GET', '/widget.js', { 'If-None-Match': etag, 'Accept-Encoding': 'gzip' });
  assert.equal(crossGz.status, 200, 'the raw ETag does not validate the gzip copy');
  assert.equal(crossGz.headers.get('content-encoding'), 'gzip');
  assert.equal(crossGz.headers.get('etag'), gzEtag);
  const f304 = await request(url, 'GET', '/widget.js', { headers: { 'if-none-match': gzEtag } });
  assert.equal(f304.status, 304);
  assert.equal(f304.text, '');
  const stale = await rawHttp('GET', '/widget.js', { 'If-None-Match': '"0000000000000000000a"' });
  assert.equal(stale.status, 200, 'a stale ETag gets the file');
  assert.ok(stale.body.equals(plain.body));

  // The script is also a static file, the same bytes.
  const st = await rawHttp('GET', '/static/widget.js');
  assert.equal(st.status, 200);
  assert.equal(st.headers.get('etag'), etag);
  assert.ok(st.body.equals(plain.body));
});

test('GET / is the demo page: text/html, Cache-Control no-cache, ETag, holds data-thamdo-poll and loads /widget.js', async (t) => {
  if (!haveIndex()) {
    t.skip('web/index.html does not exist (yet): no demo page to serve');
    return;
  }
  const r = await request(url, 'GET', '/');
  assert.equal(r.status, 200, r.text.slice(0, 200));
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assertVaryHas(r, 'Accept-Encoding', 'GET /');
  assert.match(r.headers.get('etag') || '', /^"[0-9a-f]{20}-gz"$/, 'fetch asks for gzip: the gzip copy\'s ETag');
  const etag = r.headers.get('etag').replace('-gz"', '"');
  assert.match(r.text, /data-thamdo-poll/, 'the demo page holds a poll element');
  assert.match(r.text, /<script\b[^>]*\bsrc\s*=\s*["']?\/widget\.js/i, 'the demo page loads /widget.js');
  const raw = await rawHttp('GET', '/');
  assert.equal(raw.text, r.text);
  assert.equal(sha20(raw.body), etag);
  const gz = await rawHttp('GET', '/', { 'Accept-Encoding': 'gzip' });
  assert.equal(gz.headers.get('content-encoding'), 'gzip');
  assert.equal(gz.headers.get('etag'), r.headers.get('etag'));
  assert.ok(zlib.gunzipSync(gz.body).equals(raw.body));
  const nm = await rawHttp('GET', '/', { 'If-None-Match': etag });
  assert.equal(nm.status, 304);
  assert.equal(nm.body.length, 0);
  assert.equal(nm.headers.get('cache-control'), 'no-cache');
});

test('HEAD answers with the headers of GET and no body (assets, embed page, API)', async (t) => {
  const paths = [];
  if (haveWidget()) paths.push(['/widget.js', {}], ['/widget.js', { 'Accept-Encoding': 'gzip' }]);
  if (haveIndex()) paths.push(['/', {}]);
  paths.push([embedPath('emb-poll'), {}], [pollPath('cors-poll'), {}], ['/healthz', {}]);
  if (!haveWidget() || !haveIndex()) t.diagnostic('web/widget.js or web/index.html missing: their HEAD checks are left out');
  const withBody = [];
  for (const [p, h] of paths) {
    const get = await rawHttp('GET', p, h);
    const head = await rawHttp('HEAD', p, h);
    const what = `HEAD ${p} ${JSON.stringify(h)}`;
    assert.equal(head.status, get.status, what);
    for (const name of ['content-type', 'etag', 'cache-control', 'vary', 'content-encoding', 'content-security-policy']) {
      assert.equal(head.headers.get(name), get.headers.get(name), `${what}: ${name} as for GET`);
    }
    const cl = head.headers.get('content-length');
    if (cl !== null) assert.equal(Number(cl), get.body.length, `${what}: Content-Length is that of GET`);
    if (head.body.length !== 0) withBody.push(`${what} → ${head.body.length} body bytes`);
  }
  assert.deepEqual(withBody, [], 'a HEAD answer has no body');
});

test('/static/<file of web/> is served with its type; /static/nope.js is 404 not_found', async (t) => {
  const types = { '.css': /^text\/css; charset=utf-8$/, '.js': /^application\/javascript; charset=utf-8$/, '.html': /^text\/html; charset=utf-8$/, '.svg': /^image\/svg\+xml$/ };
  const files = fs.existsSync(WEB) ? fs.readdirSync(WEB).filter((f) => types[path.extname(f)]).sort() : [];
  const pick = ['demo.css', ...files].find((f) => files.includes(f));
  if (!pick) {
    t.skip('web/ holds no .html/.js/.css/.svg file');
  } else {
    const r = await rawHttp('GET', `/static/${pick}`);
    assert.equal(r.status, 200, `/static/${pick}: ${r.text.slice(0, 200)}`);
    assert.match(r.headers.get('content-type') || '', types[path.extname(pick)], `/static/${pick} Content-Type`);
    assert.equal(r.headers.get('cache-control'), path.extname(pick) === '.html' ? 'no-cache' : 'public, max-age=300');
    assert.equal(sha20(r.body), r.headers.get('etag'));
    assert.ok(r.body.length > 0);
    const nm = await rawHttp('GET', `/static/${pick}`, { 'If-None-Match': r.headers.get('etag') });
    assert.equal(nm.status, 304);
    assert.equal(nm.body.length, 0);
  }
  for (const p of ['/static/nope.js', '/static/nope.css', '/static/..%2Fsrc%2Fmain.c', '/static/Makefile']) {
    assertError(await request(url, 'GET', p), 404, 'not_found');
  }
});

// ------------------------------------------------------------------ CORS


test('CORS: a listed Origin gets Access-Control-Allow-Origin (exactly it) and -Credentials; Vary: Origin', async () => {
  for (const origin of [LISTED, PORTAL]) {
    const r = await request(url, 'GET', pollPath('cors-poll'), { headers: { origin } });
    assert.equal(r.status, 200, r.text);
    assertCorsAllowed(r, origin, `GET poll, Origin ${origin}`);
  }
  for (const p of ['/api/v1/polls', `${pollPath('cors-poll')}/results`, pollPath('no-such-poll')]) {
    const r = await request(url, 'GET', p, { headers: { origin: LISTED } });
    assertCorsAllowed(r, LISTED, `GET ${p}`);
  }
});

test('CORS: an unlisted Origin gets 403 origin_not_allowed that only it may read (its Origin echoed), Vary: Origin; no Origin: no CORS headers', async () => {
  for (const origin of [EVIL, 'http://localhost:5002', 'https://localhost:5001', 'http://portal.example.vn', 'https://portal.example.vn.evil.example', 'null']) {
    for (const p of [pollPath('cors-poll'), `${pollPath('cors-poll')}/results`, '/api/v1/polls', '/api/v1/visits']) {
      const r = await request(url, 'GET', p, { headers: { origin } });
      assertError(r, 403, 'origin_not_allowed');
      assert.match(r.json.error.message, /THAMDO_ALLOWED_ORIGINS/, 'the message names the setting');
      assertCorsAllowed(r, origin, `GET ${p}, Origin ${origin}: the refusal is readable`);
    }
  }
  const bad = await request(url, 'GET', pollPath('cors-poll'), { headers: { origin: 'https://x.example/<script>' } });
  assertError(bad, 403, 'origin_not_allowed');
  assertNoCors(bad, 'an Origin that is not an origin is never echoed');
  const none = await request(url, 'GET', pollPath('cors-poll'));
  assert.equal(none.status, 200);
  assertNoCors(none, 'GET poll without Origin');
  const ownGet = await request(url, 'GET', pollPath('cors-poll'), { headers: { origin: own } });
  assert.equal(ownGet.status, 200, 'the service\'s own origin is never refused');
});

test('CORS: Origin matching is case-insensitive in scheme and host', async () => {
  for (const origin of ['HTTPS://PORTAL.EXAMPLE.VN', 'Https://Portal.Example.Vn', 'HTTP://LOCALHOST:5001']) {
    const r = await request(url, 'GET', pollPath('cors-poll'), { headers: { origin } });
    assert.equal(r.status, 200);
    assert.ok(r.headers.get('access-control-allow-origin'), `Origin ${origin} should be allowed`);
    assert.equal(r.headers.get('access-control-allow-origin'), origin, `Access-Control-Allow-Origin echoes the request's Origin ${origin}`);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    const pf = await request(url, 'OPTIONS', `${pollPath('cors-poll')}/votes`, { headers: { origin, 'access-control-request-method': 'POST' } });
    assert.equal(pf.status, 204);
    assert.equal(pf.headers.get('access-control-allow-origin'), origin, `preflight from ${origin}`);
  }
  const before0 = await resultsOf('cors-poll');
  const v = await new Voter(url).vote('cors-poll', ['tin-tuc'], { headers: { origin: 'HTTPS://PORTAL.EXAMPLE.VN' } });
  assert.equal(v.status, 201, `a vote from HTTPS://PORTAL.EXAMPLE.VN is accepted: ${v.text}`);
  assert.equal((await resultsOf('cors-poll')).total, before0.total + 1);
});

test('CORS preflight: OPTIONS …/votes from a listed Origin → 204 with Allow-Methods (POST), Allow-Headers Content-Type, Allow-Origin', async () => {
  const p = `${pollPath('cors-poll')}/votes`;
  for (const origin of [LISTED, PORTAL]) {
    const r = await request(url, 'OPTIONS', p, {
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '', 'a preflight has no body');
    assertCorsAllowed(r, origin, `preflight from ${origin}`);
    const methods = tokens(r.headers.get('access-control-allow-methods'));
    assert.ok(methods.includes('post'), `Access-Control-Allow-Methods: ${r.headers.get('access-control-allow-methods')}`);
    const hdrs = tokens(r.headers.get('access-control-allow-headers'));
    assert.ok(hdrs.includes('content-type'), `Access-Control-Allow-Headers: ${r.headers.get('access-control-allow-headers')}`);
    assert.ok(tokens(r.headers.get('allow')).includes('post'), `Allow: ${r.headers.get('allow')}`);
  }
  // The poll path too (GET from the widget does not need one, but it must not hurt).
  const g = await request(url, 'OPTIONS', pollPath('cors-poll'), { headers: { origin: LISTED, 'access-control-request-method': 'GET' } });
  assert.equal(g.status, 204);
  assertCorsAllowed(g, LISTED, 'preflight GET poll');
});

test('CORS preflight from an unlisted Origin → 204 that lets the request through to its 403', async () => {
  const p = `${pollPath('cors-poll')}/votes`;
  for (const origin of [EVIL, 'null', 'http://localhost:5002']) {
    const r = await request(url, 'OPTIONS', p, {
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(r.status, 204, r.text);
    assertCorsAllowed(r, origin, `preflight from ${origin}`);
    assert.ok(tokens(r.headers.get('access-control-allow-methods')).includes('post'));
    const before0 = await resultsOf('cors-poll');
    const v = await new Voter(url).vote('cors-poll', ['tin-tuc'], { headers: { origin } });
    assertError(v, 403, 'origin_not_allowed');
    assert.equal((await resultsOf('cors-poll')).total, before0.total, `a vote from ${origin} is not counted`);
  }
});

test('a bad THAMDO_ALLOWED_ORIGINS stops the start: exit 2, one line naming THAMDO_ALLOWED_ORIGINS', async () => {
  for (const value of ['*', 'http://x/path', 'ftp://x', `${LISTED},*`, 'localhost:5001', 'https://']) {
    const env = thamdoEnv({ redis, pollsFile: writePollsFile([P.cors]), env: { THAMDO_ALLOWED_ORIGINS: value } });
    const r = await runThamdo({ env });
    const ctx = `THAMDO_ALLOWED_ORIGINS=${JSON.stringify(value)}: code=${r.code} signal=${r.signal} stderr=${JSON.stringify(r.stderr)}`;
    assert.equal(r.timedOut, false, `${ctx} (did not exit: it probably started)`);
    assert.equal(r.code, 2, ctx);
    assertNoSanitizer(r.stderr + r.stdout, ctx);
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, `exactly one stderr line; ${ctx}`);
    assert.ok(lines[0].startsWith('thamdo: THAMDO_ALLOWED_ORIGINS: '), `the line names THAMDO_ALLOWED_ORIGINS; ${ctx}`);
    assert.ok(lines[0].length > 'thamdo: THAMDO_ALLOWED_ORIGINS: '.length, `a reason is given; ${ctx}`);
  }
});

// ------------------------------------------------------------------ source check of votes

test('vote source check: unlisted Origin / Origin null / unlisted Referer → 403 origin_not_allowed, not counted', async () => {
  const before0 = await resultsOf('src-poll');
  const cases = [
    { origin: EVIL },
    { origin: 'null' },
    { origin: 'http://127.0.0.1:1' }, // the service's host with another port is not its own origin
    { origin: `${EVIL}:${svc.port}` },
    { referer: `${EVIL}/page.html` },
    { referer: `http://localhost:5002/a` },
  ];
  for (const headers of cases) {
    const v = new Voter(url);
    const r = await v.vote('src-poll', ['mot'], { headers });
    assertError(r, 403, 'origin_not_allowed');
    const f = await v.voteForm('src-poll', ['hai'], { headers });
    assertError(f, 403, 'origin_not_allowed');
  }
  const after0 = await resultsOf('src-poll');
  assert.deepEqual(after0, before0, 'refused votes are not counted');
});

test('vote source check: listed Origin, own origin, listed Referer, and no Origin nor Referer (curl-like) → 201', async () => {
  const before0 = await resultsOf('src-poll');
  let accepted = 0;
  for (const headers of [{ origin: LISTED }, { origin: PORTAL }, { origin: own }, { referer: `${LISTED}/tin/bai-1.html` }, { referer: `${own}/` }]) {
    const r = await new Voter(url).vote('src-poll', ['mot'], { headers });
    assert.equal(r.status, 201, `${JSON.stringify(headers)}: ${r.text}`);
    assert.deepEqual(r.json.choice, ['mot']);
    accepted++;
  }
  // Exactly no Origin and no Referer on the wire.
  const body = JSON.stringify({ options: ['hai'] });
  const raw = await rawHttp('POST', '/api/v1/polls/src-poll/votes', { 'Content-Type': 'application/json' }, body);
  assert.equal(raw.status, 201, `curl-like POST: ${raw.text}`);
  assert.deepEqual(JSON.parse(raw.text).choice, ['hai']);
  accepted++;
  const after0 = await resultsOf('src-poll');
  assert.equal(after0.total, before0.total + accepted);
  assert.equal(after0.counts.hai, before0.counts.hai + 1);
});

// ------------------------------------------------------------------ the no-JS embed page

test('embed page: 200 text/html, CSP frame-ancestors \'self\' + listed origins, no-store, radio form, never a new cookie; vi and en', async () => {
  const v = new Voter(url);
  const r = await v.req('GET', embedPath('emb-poll'));
  assertHtmlPage(r, 200, 'embed page');
  assertEmbedCsp(r, 'embed page');
  assert.equal(r.headers.get('access-control-allow-origin'), null, 'no CORS on the embed page');
  // The page only reads the cookie: several frames loading at once would each mint another id.
  assert.equal(r.issued, null, 'no voter cookie is issued by the page');
  assert.equal(r.headers.get('set-cookie'), null, 'no Set-Cookie at all');
  assert.equal((await v.req('HEAD', embedPath('emb-poll'))).headers.get('set-cookie'), null, 'nor on HEAD');
  await v.get('emb-poll'); // the API issues one
  assert.match(v.cookie, COOKIE_RE);
  assertVoteForm(r.text, P.emb, 'radio', 'embed page (vi)');
  assert.match(r.text, /<html\b[^>]*\blang="vi"/);
  assert.match(r.text, /Bình chọn/, 'Vietnamese submit button');
  assert.ok(!/>\s*Vote\s*</.test(r.text), 'no English button by default');
  for (const o of P.emb.options) assert.ok(r.text.includes(o.label), `label ${o.label}`);
  assert.ok(r.text.includes(P.emb.question));
  // A valid cookie is not re-issued.
  const again = await v.req('GET', embedPath('emb-poll'));
  assert.equal(again.issued, null, 'a valid cookie is not re-issued');

  const en = await new Voter(url).req('GET', embedPath('emb-poll', '?lang=en'));
  assertHtmlPage(en, 200, 'embed page (en)');
  assertEmbedCsp(en, 'embed page (en)');
  assertVoteForm(en.text, P.emb, 'radio', 'embed page (en)');
  assert.match(en.text, /<html\b[^>]*\blang="en"/);
  assert.match(en.text, />\s*Vote\s*</, 'English submit button "Vote"');
  assert.ok(!en.text.includes('Bình chọn'), 'no Vietnamese button in English');
  const [form] = postForms(en.text);
  assert.match(form[0], /action="\/embed\/polls\/emb-poll\?lang=en"/, 'the English form posts with lang=en');
});

test('embed page: poll texts with HTML special characters are escaped', async () => {
  for (const q of ['', '?lang=en']) {
    const r = await new Voter(url).req('GET', embedPath('esc-poll', q));
    assertHtmlPage(r, 200, `escaped page${q}`);
    assert.ok(!r.text.includes('<b>'), 'no raw <b> in the page');
    assert.ok(!r.text.includes('</b>'), 'no raw </b> in the page');
    assert.ok(!r.text.includes('<i>'), 'no raw <i> in the page');
    assert.ok(!/<script/i.test(r.text), 'no raw <script> in the page');
    assert.ok(r.text.includes('&lt;b&gt;'), 'the question is escaped');
    const legend = r.text.match(/<legend>([\s\S]*?)<\/legend>/);
    assert.ok(legend, 'a legend holds the question');
    assert.equal(decode(legend[1]), ESC_QUESTION, 'the escaped question decodes to the question');
    const title = r.text.match(/<title>([\s\S]*?)<\/title>/);
    if (title) assert.equal(decode(title[1]), ESC_QUESTION);
    assert.ok(decode(r.text).includes(ESC_LABEL), 'the escaped label decodes to the label');
  }
  // And in the results view after a vote.
  const v = new Voter(url);
  await v.req('GET', embedPath('esc-poll'));
  const post = await v.req('POST', embedPath('esc-poll'), { form: [['option', 'a']], headers: { origin: own } });
  assert.equal(post.status, 303);
  const res = await v.req('GET', embedPath('esc-poll'));
  assertHtmlPage(res, 200, 'escaped results');
  assert.ok(!res.text.includes('<b>') && !res.text.includes('<i>') && !/<script/i.test(res.text), 'results page escapes too');
  assert.ok(decode(res.text).includes(ESC_LABEL));
  assert.ok(decode(res.text).includes(ESC_QUESTION));
});

test('embed vote: 303 ?msg=voted, then results with the choice marked and no form; again → already_voted; no option → no_option', async () => {
  const before0 = await resultsOf('emb-poll');
  const v = new Voter(url);
  const page = await v.req('GET', embedPath('emb-poll'));
  assert.equal(v.cookie, null, 'no cookie from the page');
  await v.get('emb-poll');
  assert.ok(v.cookie, 'cookie from the API');
  const cookie = v.cookie;

  const post = await v.req('POST', embedPath('emb-poll'), { form: [['option', 'b']], headers: { origin: own } });
  assert.equal(post.status, 303, post.text);
  assert.equal(post.headers.get('location'), '/embed/polls/emb-poll?msg=voted');
  assert.match(post.headers.get('cache-control') || '', /no-store/);
  assert.equal(post.issued, null, 'the cookie sent is kept');
  assert.equal(v.cookie, cookie);
  const mid = await resultsOf('emb-poll');
  assert.equal(mid.total, before0.total + 1);
  assert.equal(mid.counts.b, before0.counts.b + 1);

  const res = await v.req('GET', '/embed/polls/emb-poll?msg=voted');
  assertHtmlPage(res, 200, 'page after the vote');
  assertEmbedCsp(res, 'page after the vote');
  assert.equal(postForms(res.text).length, 0, 'no form after voting');
  assert.equal(inputs(res.text).filter((i) => i.name === 'option').length, 0, 'no option inputs after voting');
  assert.ok(res.text.includes('Đã ghi nhận bình chọn của bạn.'), 'the "voted" message');
  assert.ok(res.text.includes('Cảm ơn bạn đã tham gia bình chọn!'), 'the thank-you');
  const items = listItems(res.text);
  assert.equal(items.length, P.emb.options.length, `one result item per option: ${JSON.stringify(items)}`);
  for (const o of P.emb.options) {
    const li = items.find((x) => x.includes(o.label));
    assert.ok(li, `a result item for ${o.label}`);
    const votes = mid.counts[o.id];
    assert.match(li, new RegExp(`\\b${votes} phiếu \\(\\d+(,\\d)?%\\)`), `${o.label}: "${votes} phiếu (N%)" in ${li}`);
    if (o.id === 'b') assert.ok(li.includes('✓'), `the reader's choice is marked with a check mark: ${li}`);
    else assert.ok(!li.includes('✓'), `only the reader's choice is marked: ${li}`);
  }
  // The same page without msg: still results, no message.
  const plain = await v.req('GET', embedPath('emb-poll'));
  assert.equal(postForms(plain.text).length, 0);
  assert.ok(!plain.text.includes('Đã ghi nhận bình chọn của bạn.'));

  // Again → already_voted, not counted.
  const again = await v.req('POST', embedPath('emb-poll'), { form: [['option', 'a']], headers: { origin: own } });
  assert.equal(again.status, 303);
  assert.equal(again.headers.get('location'), '/embed/polls/emb-poll?msg=already_voted');
  const shown = await v.req('GET', '/embed/polls/emb-poll?msg=already_voted');
  assert.ok(shown.text.includes('Bạn đã bình chọn trong cuộc thăm dò này.'));
  assert.deepEqual(await resultsOf('emb-poll'), mid, 'a second vote is not counted');

  // No option → no_option (fresh reader), nothing counted; English keeps lang.
  for (const form of ['', 'foo=bar']) {
    const w = new Voter(url);
    const r = await w.req('POST', embedPath('emb-poll'), { form, headers: { origin: own } });
    assert.equal(r.status, 303, `form ${JSON.stringify(form)}`);
    assert.equal(r.headers.get('location'), '/embed/polls/emb-poll?msg=no_option');
  }
  const en = await new Voter(url).req('POST', embedPath('emb-poll', '?lang=en'), { form: '', headers: { origin: own } });
  assert.equal(en.headers.get('location'), '/embed/polls/emb-poll?msg=no_option&lang=en');
  const msg = await new Voter(url).req('GET', '/embed/polls/emb-poll?msg=no_option');
  assert.ok(msg.text.includes('Vui lòng chọn một phương án.'));
  assertVoteForm(msg.text, P.emb, 'radio', 'page with msg=no_option');
  assert.deepEqual(await resultsOf('emb-poll'), mid, 'empty posts are not counted');
  void page;
});

test('embed vote source check: unlisted Origin → 403 HTML, not counted; listed Referer without Origin, listed Origin, no header → accepted', async () => {
  const before0 = await resultsOf('emb-src');
  for (const headers of [{ origin: EVIL }, { origin: 'null' }, { referer: `${EVIL}/x.html` }]) {
    const v = new Voter(url);
    await v.req('GET', embedPath('emb-src'));
    const r = await v.req('POST', embedPath('emb-src'), { form: [['option', 'a']], headers });
    assertHtmlPage(r, 403, `embed POST ${JSON.stringify(headers)}`);
    assert.equal(r.headers.get('location'), null, 'no redirect');
    // The reader still has not voted.
    const g = await v.get('emb-src');
    assert.equal(g.json.voted, false, `not voted after a refused post ${JSON.stringify(headers)}`);
  }
  assert.deepEqual(await resultsOf('emb-src'), before0, 'refused embed votes are not counted');

  let accepted = 0;
  for (const headers of [{ referer: `${PORTAL}/tin-tuc/bai-viet.html` }, { referer: `${LISTED}/` }, { origin: LISTED }, { referer: `${own}/embed/polls/emb-src` }]) {
    const v = new Voter(url);
    const r = await v.req('POST', embedPath('emb-src'), { form: [['option', 'b']], headers });
    assert.equal(r.status, 303, `${JSON.stringify(headers)}: ${r.text}`);
    assert.equal(r.headers.get('location'), '/embed/polls/emb-src?msg=voted', JSON.stringify(headers));
    accepted++;
  }
  const raw = await rawHttp('POST', embedPath('emb-src'), { 'Content-Type': 'application/x-www-form-urlencoded' }, 'option=a');
  assert.equal(raw.status, 303, 'a post with neither Origin nor Referer is accepted');
  assert.equal(raw.headers.get('location'), '/embed/polls/emb-src?msg=voted');
  assert.ok(raw.headerList.some(([k, val]) => k === 'set-cookie' && val.startsWith(`${COOKIE_NAME}=`)), 'the post without cookie issues one');
  accepted++;
  assert.equal((await resultsOf('emb-src')).total, before0.total + accepted);
});

test('embed page: unknown poll → 404 HTML; max_choices 2 → checkboxes; closed → no form and the closed text', async () => {
  for (const p of [embedPath('no-such-poll'), embedPath('no-such-poll', '?lang=en')]) {
    const r = await request(url, 'GET', p);
    assertHtmlPage(r, 404, p);
    assert.equal(postForms(r.text).length, 0);
  }
  const nf = await request(url, 'GET', embedPath('no-such-poll'));
  assert.ok(nf.text.includes('Không tìm thấy cuộc thăm dò.'));
  const nfPost = await request(url, 'POST', embedPath('no-such-poll'), { form: 'option=a', headers: { origin: own } });
  assertHtmlPage(nfPost, 404, 'POST to an unknown poll');

  const m = await new Voter(url).req('GET', embedPath('multi-poll'));
  assertHtmlPage(m, 200, 'multi');
  assertVoteForm(m.text, P.multi, 'checkbox', 'max_choices 2');
  assert.match(m.text, /Chọn tối đa 2 phương án/);
  const v = new Voter(url);
  const two = await v.req('POST', embedPath('multi-poll'), { form: [['option', 'a'], ['option', 'c']], headers: { origin: own } });
  assert.equal(two.headers.get('location'), '/embed/polls/multi-poll?msg=voted');
  const three = await new Voter(url).req('POST', embedPath('multi-poll'), { form: [['option', 'a'], ['option', 'b'], ['option', 'c']], headers: { origin: own } });
  assert.equal(three.headers.get('location'), '/embed/polls/multi-poll?msg=too_many_options');
  const mine = await v.req('GET', embedPath('multi-poll'));
  const marked = listItems(mine.text).filter((li) => li.includes('✓'));
  assert.equal(marked.length, 2, 'both chosen options are marked');

  for (const [q, text] of [['', 'Cuộc thăm dò đã kết thúc.'], ['?lang=en', 'This poll is closed.']]) {
    const c = await new Voter(url).req('GET', embedPath('closed-poll', q));
    assertHtmlPage(c, 200, `closed${q}`);
    assert.equal(postForms(c.text).length, 0, 'no form on a closed poll');
    assert.equal(inputs(c.text).filter((i) => i.name === 'option').length, 0);
    assert.ok(c.text.includes(text), `closed text "${text}"`);
  }
  const cp = await new Voter(url).req('POST', embedPath('closed-poll'), { form: 'option=a', headers: { origin: own } });
  assert.equal(cp.headers.get('location'), '/embed/polls/closed-poll?msg=poll_closed');
});

test('embed page: results_visibility never → after voting only the thank-you, no vote counts', async () => {
  // Someone else votes first, so there would be counts to show.
  assert.equal((await new Voter(url).vote('never-poll', ['a'])).status, 201);
  const v = new Voter(url);
  const form = await v.req('GET', embedPath('never-poll'));
  assertVoteForm(form.text, P.never, 'radio', 'never poll');
  assert.ok(!form.text.includes('Xem kết quả'), 'no "see results" link when results are hidden');
  const post = await v.req('POST', embedPath('never-poll'), { form: 'option=b', headers: { origin: own } });
  assert.equal(post.headers.get('location'), '/embed/polls/never-poll?msg=voted');
  for (const q of ['', '?msg=voted', '?view=results']) {
    const r = await v.req('GET', embedPath('never-poll', q));
    assertHtmlPage(r, 200, `never poll after the vote ${q}`);
    assert.equal(postForms(r.text).length, 0, 'no form after voting');
    assert.ok(r.text.includes('Cảm ơn bạn đã tham gia bình chọn!'), 'the thank-you');
    assert.ok(!/\d[\d.]*\s*phiếu/.test(r.text) && !r.text.includes('Tổng'), `no vote counts (${q}): ${r.text}`);
    assert.ok(!/\d+%/.test(r.text.replace(/<style>[\s\S]*?<\/style>/g, '')), `no percentages (${q})`);
    assert.equal(listItems(r.text).length, 0, 'no results list');
  }
  const en = await v.req('GET', embedPath('never-poll', '?lang=en'));
  assert.ok(en.text.includes('Thank you for voting!'));
  assert.ok(!/\bvotes\b/.test(en.text), 'no vote counts in English');
  // A reader who has not voted does not get the counts either.
  const other = await new Voter(url).req('GET', embedPath('never-poll', '?view=results'));
  assert.ok(!/\d+ phiếu/.test(other.text), 'no counts for a reader who did not vote');
});

test('embed page: percentages with a decimal comma (vi) or point (en), bars as wide, "1 vote"/"2 votes"', async () => {
  for (const o of ['a', 'b', 'c']) assert.equal((await new Voter(url).vote('thirds-poll', [o])).status, 201);
  const v = new Voter(url);
  assert.equal((await v.vote('thirds-poll', ['a'])).status, 201); // 2/1/1 of 4
  for (const [q, want, total] of [
    ['', ['2 phiếu (50%)', '1 phiếu (25%)', '1 phiếu (25%)'], 'Tổng: 4 phiếu'],
    ['?lang=en', ['2 votes (50%)', '1 vote (25%)', '1 vote (25%)'], 'Total: 4 votes'],
  ]) {
    const r = await v.req('GET', embedPath('thirds-poll', q));
    assertHtmlPage(r, 200, `results${q}`);
    const items = listItems(r.text).map(visibleText);
    want.forEach((w, i) => assert.ok(items[i].includes(w), `${q} item ${i}: ${JSON.stringify(items[i])} should say ${w}`));
    assert.ok(visibleText(r.text).includes(total), `${q}: "${total}" in ${visibleText(r.text)}`);
    assert.ok(!visibleText(r.text).includes('·'), 'single choice: no voters beside the votes');
    assertNoRepeatedLines(r.text, `results${q}`);
  }
  // 1/1/1 of 3 (a fresh poll state through a second poll would do; here: thirds of the three-choice poll).
  const w = new Voter(url);
  assert.equal((await w.vote('three-choices', ['a', 'b', 'c'])).status, 201);
  const vi = await w.req('GET', embedPath('three-choices'));
  const viItems = listItems(vi.text);
  for (const li of viItems) {
    assert.ok(visibleText(li).includes('1 phiếu (33,3%)'), `vi: decimal comma in ${visibleText(li)}`);
    assert.match(li, /style="width:33\.3%"/, `the bar is as wide as the percent: ${li}`);
  }
  assert.ok(visibleText(vi.text).includes('Tổng: 3 phiếu · 1 người bình chọn'), visibleText(vi.text));
  const en = await w.req('GET', embedPath('three-choices', '?lang=en'));
  for (const li of listItems(en.text)) assert.ok(visibleText(li).includes('1 vote (33.3%)'), `en: ${visibleText(li)}`);
  assert.ok(visibleText(en.text).includes('Total: 3 votes · 1 voter'), visibleText(en.text));
  assert.equal((await new Voter(url).vote('three-choices', ['a'])).status, 201);
  const en2 = await w.req('GET', embedPath('three-choices', '?lang=en'));
  assert.ok(visibleText(en2.text).includes('Total: 4 votes · 2 voters'), visibleText(en2.text));
  assert.ok(visibleText(listItems(en2.text)[0]).includes('2 votes (50%)'), visibleText(en2.text));
  const vi2 = await w.req('GET', embedPath('three-choices'));
  assert.ok(visibleText(vi2.text).includes('Tổng: 4 phiếu · 2 người bình chọn'), visibleText(vi2.text));
});

test('embed page: each state is said once; a vote that arrives after the close is said not to be counted', async () => {
  // A closed poll says "Cuộc thăm dò đã kết thúc." once (it once said it twice with msg=poll_closed).
  const plain = await new Voter(url).req('GET', embedPath('closed-poll'));
  assert.equal(count(visibleText(plain.text), 'Cuộc thăm dò đã kết thúc'), 1, visibleText(plain.text));
  assertNoRepeatedLines(plain.text, 'closed poll');

  const v = new Voter(url);
  const post = await v.req('POST', embedPath('closed-poll'), { form: 'option=a', headers: { origin: own } });
  assert.equal(post.headers.get('location'), '/embed/polls/closed-poll?msg=poll_closed');
  for (const [q, msg, state] of [
    ['', 'Cuộc thăm dò đã kết thúc trước khi phiếu của bạn được gửi; phiếu chưa được tính.', 'Cuộc thăm dò đã kết thúc'],
    ['&lang=en', 'This poll closed before your vote arrived; your vote was not counted.', 'This poll is closed.'],
  ]) {
    const r = await v.req('GET', `${post.headers.get('location')}${q}`);
    assertHtmlPage(r, 200, `closed with msg${q}`);
    const text = visibleText(r.text);
    assert.ok(text.includes(msg), `${q}: the message "${msg}" in ${text}`);
    assert.equal(count(text, state), q ? 0 : 1, `${q}: the state is said once, by the message: ${text}`);
    assertNoRepeatedLines(r.text, `closed with msg${q}`);
  }
  assert.equal((await resultsOf('closed-poll')).total, 0, 'not counted');

  // Not open yet: the same, once.
  const soon = await new Voter(url).req('POST', embedPath('soon-poll'), { form: 'option=a', headers: { origin: own } });
  assert.equal(soon.headers.get('location'), '/embed/polls/soon-poll?msg=poll_not_open');
  const page = await new Voter(url).req('GET', soon.headers.get('location'));
  assert.equal(count(visibleText(page.text), 'Cuộc thăm dò chưa bắt đầu.'), 1, visibleText(page.text));
  assertNoRepeatedLines(page.text, 'upcoming with msg');
  const en = await new Voter(url).req('GET', `${soon.headers.get('location')}&lang=en`);
  assert.equal(count(visibleText(en.text), 'This poll has not opened yet.'), 1, visibleText(en.text));
});

// ------------------------------------------------------------------ one ballot for embed and API

test('an embed vote and an API vote are the same ballot (both directions)', async () => {
  // Embed first: the API then knows the reader voted and refuses a second ballot.
  const v = new Voter(url);
  const post = await v.req('POST', embedPath('shared-poll'), { form: 'option=b', headers: { origin: own } });
  assert.equal(post.status, 303);
  assert.equal(post.headers.get('location'), '/embed/polls/shared-poll?msg=voted');
  assert.ok(post.issued, 'the form post without a cookie issues one');
  assert.match(post.issued.value, COOKIE_RE);
  const g = await v.get('shared-poll');
  assert.equal(g.status, 200);
  assert.equal(g.issued, null, 'the embed cookie is valid for the API');
  assert.equal(g.json.voted, true);
  assert.deepEqual(g.json.choice, ['b']);
  const again = await v.vote('shared-poll', ['a'], { headers: { origin: LISTED } });
  assertError(again, 409, 'already_voted', { extraKeys: ['choice', 'results'] });
  assert.deepEqual(again.json.choice, ['b']);
  const r1 = await resultsOf('shared-poll');
  assert.deepEqual(r1.counts, { a: 0, b: 1, c: 0 });

  // API first: the embed page shows the results with the API's choice, and a form post is already_voted.
  const w = new Voter(url);
  const api = await w.vote('shared-poll-2', ['c'], { headers: { origin: PORTAL } });
  assert.equal(api.status, 201, api.text);
  const page = await w.req('GET', embedPath('shared-poll-2'));
  assertHtmlPage(page, 200, 'embed after API vote');
  assert.equal(page.issued, null, 'the API cookie is valid for the embed page');
  assert.equal(postForms(page.text).length, 0, 'no form: the reader voted through the API');
  const marked = listItems(page.text).filter((li) => li.includes('✓'));
  assert.equal(marked.length, 1);
  assert.ok(marked[0].includes(P.shared2.options.find((o) => o.id === 'c').label), 'the API choice is marked');
  const ep = await w.req('POST', embedPath('shared-poll-2'), { form: 'option=a', headers: { origin: own } });
  assert.equal(ep.headers.get('location'), '/embed/polls/shared-poll-2?msg=already_voted');
  assert.deepEqual((await resultsOf('shared-poll-2')).counts, { a: 0, b: 0, c: 1 });
});

test('graceful stop: exit 0, no sanitizer output', async () => {
  await svc.stop();
  await redis.stop();
});
