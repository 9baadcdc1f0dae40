// The visitor counter element (data-thamdo-visits) on the demo page, in Vietnamese and English,
// with a base total taken over from an old counter; its pings while the page is visible; a
// browser driven by a program counted as a robot; an unknown site; the counter without
// JavaScript (an iframe in <noscript>); and "Thay đổi lựa chọn" (change my vote) in the poll
// widget for a poll with allow_change.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, poll, liveRegion, seedPolls, voteRecorded, WAIT_MS } from './lib.mjs';

const TOKEN = 'counter-test-token-0123456789';
const CHANGE = makePoll('doi-y-kien', {
  question: 'Bạn muốn trang đăng thêm nội dung nào?',
  allow_change: true,
  options: [{ id: 'video', label: 'Video' }, { id: 'anh', label: 'Ảnh' }, { id: 'bai-viet', label: 'Bài viết' }],
});

let url;
let browser;

before(async () => {
  const redis = await startRedis();
  const svc = await startThamdo({
    redis,
    polls: [...seedPolls(), CHANGE],
    env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_SITES: 'default,xa-an-binh,may-doc,ban-doc' },
  });
  url = svc.url;
  // The portal's old counter: its totals are taken over as bases.
  const r = await request(url, 'PUT', '/admin/v1/visits/base', {
    headers: { Authorization: `Bearer ${TOKEN}` },
    json: { total: 1777782, today: 923, this_week: 6811, this_month: 33199 },
  });
  assert.equal(r.status, 200, r.text);
  browser = await launchBrowser();
});

/** The counter's figures as the element shows them: {label: text}. */
async function figures(counter) {
  await counter.locator('dl').waitFor();
  const terms = await counter.locator('dt').allTextContents();
  const values = await counter.locator('dd').allTextContents();
  return Object.fromEntries(terms.map((t, i) => [t, values[i]]));
}

test('counter on the demo page: one request (the view, answered with figures that include it), the seed labels, Vietnamese numbers, this visit counted once', async () => {
  const { context, page } = await newPage(browser);
  const calls = []; // every counter request the page makes
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/v1/visits') calls.push(`${r.method()} ${r.url()}`); });
  await page.goto(`${url}/`);
  const counter = page.locator('[data-thamdo-visits]');
  const shown = await figures(counter);
  await page.evaluate(() => fetch('/healthz').then((r) => r.text())); // a later request the page would have made is seen by now
  assert.deepEqual(calls, [`POST ${url}/api/v1/visits`], 'the page makes one counter request: the view');
  assert.deepEqual(Object.keys(shown), ['Hôm nay', 'Hôm qua', 'Tuần này', 'Tháng này', 'Tất cả', 'Đang truy cập']);
  // 923 + this visit; numbers with the Vietnamese thousands separator.
  assert.equal(shown['Hôm nay'], '924');
  assert.equal(shown['Tất cả'], '1.777.783');
  assert.equal(shown['Tuần này'], '6.812');
  assert.equal(shown['Tháng này'], '33.200');
  assert.equal(shown['Đang truy cập'], '1');
  await screenshot(page.locator('aside, [data-thamdo-visits]').first(), 'counter-vi');
  // Reloading within the session is the same visit.
  await page.reload();
  const again = await figures(page.locator('[data-thamdo-visits]'));
  assert.equal(again['Tất cả'], '1.777.783');
  await page.evaluate(() => fetch('/healthz').then((r) => r.text()));
  assert.deepEqual(calls, [`POST ${url}/api/v1/visits`, `POST ${url}/api/v1/visits`], 'one counter request per page load');
  const api = await request(url, 'GET', '/api/v1/visits');
  assert.equal(api.json.total, 1777783);
  await context.close();
});

test('counter in English for another site: English labels and numbers, sites kept apart', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${url}/`);
  await page.evaluate(() => {
    const el = document.createElement('div');
    el.setAttribute('data-thamdo-visits', '');
    el.setAttribute('data-site', 'xa-an-binh');
    el.setAttribute('data-lang', 'en');
    el.id = 'en-counter';
    document.querySelector('main').append(el);
  });
  const shown = await figures(page.locator('#en-counter'));
  assert.deepEqual(Object.keys(shown), ['Today', 'Yesterday', 'This week', 'This month', 'Total', 'Online now']);
  assert.equal(shown.Today, '1');
  assert.equal(shown.Total, '1');
  await screenshot(page.locator('#en-counter'), 'counter-en');
  const other = await request(url, 'GET', '/api/v1/visits?site=xa-an-binh');
  assert.equal(other.json.total, 1);
  await context.close();
});

test('change my vote: the recorded choice is checked, the new one replaces it in the tallies', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${url}/`);
  await page.evaluate((id) => {
    const el = document.createElement('div');
    el.setAttribute('data-thamdo-poll', id);
    document.querySelector('main').append(el);
  }, CHANGE.id);
  const widget = poll(page, CHANGE.id);
  await widget.getByLabel('Video').check();
  await widget.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(widget);
  await widget.getByRole('button', { name: 'Thay đổi lựa chọn' }).click();
  assert.equal(await widget.getByLabel('Video').isChecked(), true, 'the recorded choice is checked');
  await widget.getByLabel('Bài viết').check();
  await widget.getByRole('button', { name: 'Bình chọn' }).click();
  await liveRegion(widget).getByText('Đã cập nhật lựa chọn của bạn.').waitFor();
  const res = await request(url, 'GET', `/api/v1/polls/${CHANGE.id}/results`);
  const votes = Object.fromEntries(res.json.options.map((o) => [o.id, o.votes]));
  assert.deepEqual(votes, { video: 0, anh: 0, 'bai-viet': 1 });
  assert.equal(res.json.total, 1);
  await context.close();
});

/** Adds a counter element to the demo page. */
function addCounter(page, attrs) {
  return page.evaluate((a) => {
    const el = document.createElement('div');
    el.setAttribute('data-thamdo-visits', '');
    for (const [k, v] of Object.entries(a)) el.setAttribute(k, v);
    document.querySelector('main').append(el);
  }, attrs);
}

const visitsOf = async (site) => (await request(url, 'GET', `/api/v1/visits?site=${site}`)).json;

test('the counter pings once a minute while the page is visible, not while hidden, at most 240 times', async () => {
  const { context, page } = await newPage(browser);
  // The page's visibility, as the test sets it (a headless page is always visible).
  await context.addInitScript(() => {
    let state = 'visible';
    Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => state });
    Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => state !== 'visible' });
    window.setVisibility = (s) => {
      state = s;
      document.dispatchEvent(new Event('visibilitychange'));
    };
  });
  const isPing = (r) => r.method() === 'POST' && r.url() === `${url}/api/v1/visits` && (r.postDataJSON() || {}).ping === true;
  const views = [];
  const pings = [];
  page.on('request', (r) => {
    if (isPing(r)) pings.push(r);
    else if (r.method() === 'POST' && r.url() === `${url}/api/v1/visits`) views.push(r);
  });
  await page.clock.install();
  await page.goto(`${url}/`);
  await figures(page.locator('[data-thamdo-visits]'));
  await page.clock.pauseAt(Date.now() + 1000); // from now on the page's time moves only when told
  /** Lets the page's time run, then makes sure every request it caused has been seen. */
  const run = async (ms) => {
    await page.clock.runFor(ms);
    await page.evaluate(() => fetch('/healthz').then((r) => r.text()));
  };
  /** Lets the page's time run (or the page become visible) and waits for the ping that causes. */
  const ping = async (action) => {
    const next = page.waitForResponse((r) => isPing(r.request()));
    await action();
    await next;
  };

  await run(30_000);
  assert.equal(pings.length, 0, 'no ping within the first minute');
  await ping(() => page.clock.runFor(31_000));
  assert.equal(pings.length, 1);
  assert.equal(pings[0].postDataJSON().webdriver, undefined);

  await page.evaluate(() => window.setVisibility('hidden'));
  await run(10 * 60_000);
  assert.equal(pings.length, 1, 'no ping while hidden');
  await ping(async () => {
    await page.evaluate(() => window.setVisibility('visible'));
    await page.clock.runFor(1);
  });
  assert.equal(pings.length, 2, 'one ping at once on becoming visible after more than a minute');
  await page.evaluate(() => { window.setVisibility('hidden'); window.setVisibility('visible'); });
  await run(1000);
  assert.equal(pings.length, 2, 'not again when it was less than a minute ago');

  for (let i = 0; pings.length < 240 && i < 250; i++) await ping(() => page.clock.runFor(60_000));
  assert.equal(pings.length, 240);
  await run(60 * 60_000);
  await page.evaluate(() => { window.setVisibility('hidden'); window.setVisibility('visible'); });
  await run(60 * 60_000);
  assert.equal(pings.length, 240, 'at most 240 pings (4 hours) per page load');
  assert.equal(views.length, 1, 'one page view');
  await context.close();
});

test('a browser driven by a program (navigator.webdriver) is counted as a robot; a reader as a visit', async () => {
  const robots = await launchBrowser({ webdriver: true });
  const botsOf = async (site) => {
    const r = await request(url, 'GET', `/admin/v1/visits?site=${site}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200, r.text);
    return r.json.days.reduce((n, d) => n + d.bots, 0);
  };
  for (const [b, site, webdriver] of [[robots, 'may-doc', true], [browser, 'ban-doc', false]]) {
    const { context, page } = await newPage(b);
    const bodies = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url() === `${url}/api/v1/visits?site=${site}`) bodies.push(r.postData()); });
    await page.goto(`${url}/`);
    assert.equal(await page.evaluate(() => navigator.webdriver), webdriver);
    await addCounter(page, { 'data-site': site, id: 'c' });
    await figures(page.locator('#c'));
    assert.deepEqual(bodies, [webdriver ? '{"webdriver":true}' : null], 'the page view says whether a program drives the browser');
    await context.close();
  }
  assert.equal((await visitsOf('may-doc')).total, 0, 'the robot is not a visit');
  assert.equal(await botsOf('may-doc'), 1, 'the robot is counted as one');
  assert.equal((await visitsOf('ban-doc')).total, 1);
  assert.equal(await botsOf('ban-doc'), 0);
});

test('a counter for a site not in THAMDO_SITES says so, and tells the page\'s developer once', async () => {
  const { context, page } = await newPage(browser);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error' && m.text().startsWith('thamdo:')) errors.push(m.text()); });
  await page.goto(`${url}/`);
  await addCounter(page, { 'data-site': 'khong-co-trang-nay', id: 'vi' });
  await addCounter(page, { 'data-site': 'khong-co-trang-nay', 'data-lang': 'en', id: 'en' });
  await page.locator('#vi').getByText("Không tìm thấy trang 'khong-co-trang-nay' trong cấu hình bộ đếm.").waitFor();
  await page.locator('#en').getByText("Unknown counter site 'khong-co-trang-nay'.").waitFor();
  assert.equal(await page.locator('#vi dl').count(), 0);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /'khong-co-trang-nay'.*THAMDO_SITES/);
  await context.close();
});

test('without JavaScript the demo page shows the counter figures in an iframe, and counts the visit', async () => {
  // Figures are served from memory at most a second old: a second after the last view of the
  // earlier tests, they are current.
  await new Promise((resolve) => { setTimeout(resolve, 1100); });
  const before = await visitsOf('default');
  const { context, page } = await newPage(browser, { javaScriptEnabled: false });
  await page.goto(`${url}/`);
  const frame = page.frameLocator('[data-thamdo-visits] iframe');
  const fmt = (n) => new Intl.NumberFormat('vi-VN').format(n);
  for (const label of ['Hôm nay', 'Hôm qua', 'Tuần này', 'Tháng này', 'Tất cả', 'Đang truy cập']) {
    await frame.getByText(label, { exact: true }).waitFor();
  }
  await frame.getByText(fmt(before.total + 1), { exact: true }).waitFor({ timeout: WAIT_MS });
  let after = await visitsOf('default');
  for (let i = 0; i < 40 && after.total !== before.total + 1; i++) {
    await new Promise((resolve) => { setTimeout(resolve, 50); });
    after = await visitsOf('default');
  }
  assert.equal(after.total, before.total + 1);
  await screenshot(page.locator('section.box').filter({ has: page.getByRole('heading', { name: 'Truy cập' }) }), 'nojs-counter');
  await context.close();
});
