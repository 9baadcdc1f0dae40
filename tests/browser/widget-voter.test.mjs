// One voter id per reader (contract 7). A new reader has no cookie; the widget mounts every poll
// and the counter at once, and each answer without a cookie mints its own id: the browser keeps
// the last, so the visit was recorded under an id the reader no longer has and the next page was
// counted again. The widget now sends nothing else until the first answer that may set the
// cookie has arrived, page-wide and across several copies of widget.js. Here the first request
// is held by a Playwright route until the test lets it go, so that the other requests have every
// chance to overtake it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, COOKIE_NAME } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, poll, startHostServer, hostPage, seedPolls } from './lib.mjs';

const A = makePoll('mot-nguoi-doc-a', { question: 'Bạn đọc báo giấy hay báo điện tử?' });
const B = makePoll('mot-nguoi-doc-b', { question: 'Bạn đọc tin vào buổi nào?' });

let url;
let browser;
let host; // a host page on another site, on THAMDO_ALLOWED_ORIGINS

before(async () => {
  const pages = {};
  host = await startHostServer(pages);
  const redis = await startRedis();
  const svc = await startThamdo({
    redis,
    polls: [...seedPolls(), A, B],
    env: {
      THAMDO_ALLOWED_ORIGINS: host.origin,
      THAMDO_COOKIE_SAMESITE: 'None',
      THAMDO_COOKIE_PARTITIONED: 'true',
      THAMDO_SITES: 'default,trang-nhung,hai-ban',
    },
  });
  url = svc.url;
  pages['/'] = hostPage(url, [{ id: A.id }, { id: B.id }], '<div data-thamdo-visits data-site="trang-nhung"></div>');
  pages['/empty'] = hostPage(url, []).replace(/<script[^>]*><\/script>/, '');
  pages['/widget'] = hostPage(url, []);
  browser = await launchBrowser();
});

/** The id part of a thamdo_vid cookie value (v1.ID.MAC), or null. */
function voterId(cookieText) {
  const m = new RegExp(`(?:^|[;,\\s])${COOKIE_NAME}=v1\\.([A-Za-z0-9_-]+)\\.`).exec(cookieText || '');
  return m ? m[1] : null;
}

/**
 * Records, in order, every API request the page sends and every answer it gets, with the Cookie
 * header the browser sent (seen through CDP: a request intercepted by a route does not show it),
 * and holds the first API request (whichever widget sends it) until release() is called.
 */
async function watchApi(page) {
  const events = [];
  const cookies = new Map(); // "METHOD url" -> Cookie headers sent, in order
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let first = null;
  const isApi = (u) => u.startsWith(`${url}/api/`);
  page.on('request', (r) => { if (isApi(r.url()) && r.method() !== 'OPTIONS') events.push({ sent: r }); });
  page.on('response', (r) => { if (isApi(r.url()) && r.request().method() !== 'OPTIONS') events.push({ answered: r }); });
  await page.route((u) => isApi(u.href), async (route) => {
    if (!first && route.request().method() !== 'OPTIONS') {
      first = route.request();
      await held;
    }
    await route.continue();
  });
  const cdp = await page.context().newCDPSession(page);
  const names = new Map();
  const extra = new Map();
  const note = (id) => {
    if (!names.has(id) || !extra.has(id) || !isApi(names.get(id).split(' ')[1]) || names.get(id).startsWith('OPTIONS')) return;
    const key = names.get(id);
    cookies.set(key, [...(cookies.get(key) || []), extra.get(id)]);
  };
  cdp.on('Network.requestWillBeSent', (e) => { names.set(e.requestId, `${e.request.method} ${e.request.url}`); note(e.requestId); });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    extra.set(e.requestId, e.headers.Cookie || e.headers.cookie || '');
    note(e.requestId);
  });
  await cdp.send('Network.enable');
  /** Waits (at most 5 s) until the first API request has reached the route and is held. */
  const firstHeld = async () => {
    const deadline = Date.now() + 5000;
    while (!first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return first;
  };
  return { events, cookies, release, first: () => first, firstHeld };
}

/**
 * Checks the requests of one page load: nothing was sent while the first was unanswered, every
 * later request carried the id that answer set, and no answer set another. Returns that id.
 */
async function assertOneVoter(watch, expectedRequests) {
  const { events, cookies } = watch;
  const sent = events.filter((e) => e.sent).map((e) => e.sent);
  assert.ok(sent.length >= expectedRequests, `${sent.length} API requests, expected at least ${expectedRequests}`);
  assert.equal(sent[0], watch.first(), 'the held request went first');
  const firstAnswer = events.findIndex((e) => e.answered && e.answered.request() === sent[0]);
  assert.ok(firstAnswer > 0, 'the first request was answered');
  const early = events.slice(0, firstAnswer).filter((e) => e.sent && e.sent !== sent[0]).map((e) => e.sent.url());
  assert.deepEqual(early, [], 'requests sent before the first answer came');

  const ids = new Set();
  for (const e of events) {
    if (e.answered) {
      const id = voterId(await e.answered.headerValue('set-cookie'));
      if (id) ids.add(id);
    }
  }
  assert.equal(ids.size, 1, `voter ids set: ${[...ids].join(', ')}`);
  const [id] = ids;
  const carried = [...cookies].flatMap(([key, list]) => list.map((c) => [key, voterId(c)]));
  assert.equal(carried.length, sent.length, 'the Cookie header of every request was seen');
  const without = carried.filter(([, v]) => v !== id);
  assert.deepEqual(without, [[`${sent[0].method()} ${sent[0].url()}`, null]], 'only the first request went without the id');
  return id;
}

test('a new reader on a page with two polls and a counter gets one voter id, and one visit', async () => {
  const { context, page } = await newPage(browser);
  const watch = await watchApi(page);
  await page.goto(`${host.origin}/`);
  // The first request is held; give the others every chance to go out meanwhile: the page has
  // finished loading, and a later request through the page's own event loop has come back.
  await page.waitForLoadState('load');
  // The route sees a request a little after the page sent it: wait (bounded) until it is held.
  assert.ok(await watch.firstHeld(), 'the widget sent a first request');
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  watch.release();

  await poll(page, A.id).getByRole('radio').first().waitFor();
  await poll(page, B.id).getByRole('radio').first().waitFor();
  await page.locator('[data-thamdo-visits]').locator('dl').waitFor();
  const id = await assertOneVoter(watch, 3);
  const jar = (await context.cookies(url)).filter((c) => c.name === COOKIE_NAME);
  assert.equal(jar.length, 1);
  assert.equal(voterId(`${COOKIE_NAME}=${jar[0].value}`), id, 'the browser keeps the id of the recorded visit');
  assert.equal((await request(url, 'GET', '/api/v1/visits?site=trang-nhung')).json.total, 1);

  // The next page view of this reader is the same visit: not counted again.
  watch.events.length = 0;
  watch.cookies.clear();
  await page.reload();
  await page.locator('[data-thamdo-visits]').locator('dl').waitFor();
  await poll(page, B.id).getByRole('radio').first().waitFor();
  for (const e of watch.events.filter((x) => x.answered)) {
    assert.equal(await e.answered.headerValue('set-cookie'), null, `no new cookie on ${e.answered.url()}`);
  }
  assert.equal((await request(url, 'GET', '/api/v1/visits?site=trang-nhung')).json.total, 1, 'the second page view is the same visit');
  await context.close();
});

test('two copies of widget.js on one page share the wait for the first answer', async () => {
  const { context, page } = await newPage(browser);
  const watch = await watchApi(page);
  await page.goto(`${url}/`); // the demo page: its poll and counter, mounted by the first copy
  await page.waitForLoadState('load');
  assert.ok(await watch.firstHeld(), 'the first copy sent a first request');
  // A second copy of widget.js runs and mounts a new counter before the first copy could see it
  // (an inline script runs at once when inserted; the first copy's observer only after this).
  const copy = await page.evaluate(async () => {
    const source = await (await fetch('/widget.js?copy=2')).text();
    const el = document.createElement('div');
    el.setAttribute('data-thamdo-visits', '');
    el.setAttribute('data-site', 'hai-ban');
    document.body.append(el);
    const script = document.createElement('script');
    script.textContent = source;
    document.body.append(script);
    return { mountedBySecondCopy: !!el.shadowRoot, shared: window.__thamdo && window.__thamdo.v };
  });
  assert.deepEqual(copy, { mountedBySecondCopy: true, shared: 1 });
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  watch.release();

  await page.locator('[data-site="hai-ban"]').locator('dl').waitFor();
  await page.locator('[data-thamdo-visits]:not([data-site])').locator('dl').waitFor();
  await poll(page, 'chuyen-muc').getByRole('radio').first().waitFor();
  await assertOneVoter(watch, 3);
  await context.close();
});

test('a first request that gets no answer lets the next go alone, then the rest: one voter id, that poll offers Retry', async () => {
  const { context, page } = await newPage(browser);
  let failed = null;
  const events = [];
  const isApi = (u) => u.startsWith(`${url}/api/`);
  page.on('request', (r) => { if (isApi(r.url()) && r.method() !== 'OPTIONS') events.push({ sent: r }); });
  page.on('response', (r) => { if (isApi(r.url()) && r.request().method() !== 'OPTIONS') events.push({ answered: r }); });
  await page.route((u) => isApi(u.href), (route) => {
    if (failed || route.request().method() === 'OPTIONS') return route.continue();
    failed = route.request().url();
    return route.abort('connectionreset');
  });
  await page.goto(`${host.origin}/`);
  await page.locator('[data-thamdo-visits]').locator('dl').waitFor();
  const widgets = [poll(page, A.id), poll(page, B.id)];
  const broken = widgets.find((_, i) => failed === `${url}/api/v1/polls/${[A, B][i].id}`);
  assert.ok(broken, `the first request was a poll's: ${failed}`);
  await broken.getByRole('button', { name: 'Thử lại' }).waitFor();
  await widgets.find((w) => w !== broken).getByRole('radio').first().waitFor();
  // The one after the failed request went alone: nothing else was sent before its answer.
  const sent = events.filter((e) => e.sent).map((e) => e.sent);
  assert.ok(sent.length >= 3, `${sent.length} API requests`);
  const second = sent[1];
  const answered = events.findIndex((e) => e.answered && e.answered.request() === second);
  assert.ok(answered > 0, 'the second request was answered');
  const early = events.slice(0, answered).filter((e) => e.sent && e.sent !== sent[0] && e.sent !== second);
  assert.deepEqual(early.map((e) => e.sent.url()), [], 'requests sent before the second answer');
  const ids = new Set();
  for (const e of events.filter((x) => x.answered)) {
    const id = voterId(await e.answered.headerValue('set-cookie'));
    if (id) ids.add(id);
  }
  assert.equal(ids.size, 1, `voter ids set: ${[...ids].join(', ')}`);
  await broken.getByRole('button', { name: 'Thử lại' }).click();
  await broken.getByRole('radio').first().waitFor();
  await context.close();
});

test('widget.js adds one global, window.__thamdo, with its version', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${host.origin}/empty`);
  const plain = await page.evaluate(() => Object.keys(window));
  await page.goto(`${host.origin}/widget`);
  await page.waitForFunction(() => window.__thamdo);
  const added = await page.evaluate((keys) => Object.keys(window).filter((k) => !keys.includes(k)), plain);
  assert.deepEqual(added, ['__thamdo']);
  assert.equal(await page.evaluate(() => window.__thamdo.v), 1);
  await context.close();
});
