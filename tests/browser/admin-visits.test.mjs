// The visitor-counter page of the dashboard (web/admin.js, #visits) in Debian's chromium: the
// figures readers see, the daily chart with robots apart, the month and year totals, the CSV
// file, the bases taken over from an old counter (asked first, read back from the admin API),
// another site and an unknown one. Visits are recorded on past days with the test clock
// (X-Thamdo-Test-Now); the page itself runs on the real clock.
// Real redis-server and thamdo; every wait bounded; loopback only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startRedis, startThamdo, request, rfc3339 } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, WAIT_MS } from './lib.mjs';

const TOKEN = 'visits-page-token-0123456789abcdef';
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0';
const ROBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const DAY = 86400 * 1000;
let svc;
let page;
const problems = [];
const vi = (n) => new Intl.NumberFormat('vi-VN').format(n);
const admin = async (method, p, json) => {
  const r = await request(svc.url, method, `/admin/v1${p}`, { headers: { authorization: `Bearer ${TOKEN}` }, json });
  assert.equal(r.status, 200, `${method} ${p}: ${r.text}`);
  return r;
};
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 5000 });
const dmy = (date) => date.split('-').reverse().join('/');

let browsers = 0;

/** Visits (distinct new readers) and robot requests `daysAgo` days before now. */
async function record(site, daysAgo, visits, bots) {
  const when = { 'x-thamdo-test-now': rfc3339(Date.now() - daysAgo * DAY) };
  for (const [n, ua] of [[visits, BROWSER], [bots, ROBOT]]) {
    for (let i = 0; i < n; i++) {
      // Each new reader its own browser: without a cookie, a reader is known by address and
      // User-Agent, and all of them come from 127.0.0.1.
      const agent = ua === BROWSER ? `${ua} reader/${++browsers}` : ua;
      const r = await request(svc.url, 'POST', `/api/v1/visits?site=${site}`, { headers: { 'user-agent': agent, ...when } });
      assert.equal(r.status, 200, r.text);
    }
  }
}

before(async () => {
  const redis = await startRedis();
  svc = await startThamdo({
    redis, polls: [],
    env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true', THAMDO_SITES: 'default,xa-an-binh' },
  });
  await record('default', 40, 2, 0);
  await record('default', 3, 3, 0);
  await record('default', 1, 1, 2);
  await record('default', 0, 2, 1);
  await record('xa-an-binh', 0, 4, 0);
  const browser = await launchBrowser();
  const opened = await newPage(browser, { acceptDownloads: true });
  page = opened.page;
  await opened.context.addInitScript((tok) => { try { sessionStorage.setItem('thamdo-admin-token', tok); } catch { /* about:blank */ } }, TOKEN);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
});

/** The rows of a table as arrays of cell texts. */
const rows = (sel) => page.locator(`${sel} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));

test('the counter page shows what the service counts: per day with robots apart, per month and year, and what readers see', async () => {
  await page.goto(`${svc.url}/admin/`);
  await page.getByRole('link', { name: 'Bộ đếm truy cập' }).click();
  await page.locator('#v-chart svg').waitFor();
  const hist = (await admin('GET', '/visits')).json;
  assert.equal(hist.site, 'default');
  assert.ok(hist.days.length >= 41, `${hist.days.length} days`);
  assert.equal(await page.locator('#site').inputValue(), 'default');

  // What readers see: the public counter.
  const pub = (await request(svc.url, 'GET', '/api/v1/visits?site=default')).json;
  const shown = Object.fromEntries(await page.locator('#shown > div').evaluateAll((ds) => ds.map((d) => [d.dataset.figure, d.querySelector('dd').textContent])));
  for (const k of ['today', 'yesterday', 'this_week', 'this_month', 'total', 'online']) assert.equal(shown[k], vi(pub[k]), k);
  assert.equal(pub.total, 8);

  // 30 days: columns, visits and robots as two series, equal to the API's days.
  const last30 = hist.days.slice(-30);
  assert.equal(await page.locator('#v-chart svg').getAttribute('data-kind'), 'columns');
  const series = (i) => page.locator('#v-chart svg g.series').nth(i).locator('rect.col').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
  assert.deepEqual(await series(0), last30.map((d) => d.visits));
  assert.deepEqual(await series(1), last30.map((d) => d.bots), 'robots apart');
  assert.deepEqual(await page.locator('#v-legend li').allTextContents(), ['Lượt truy cập', 'Truy cập của máy (bot)']);
  assert.equal(await page.locator('#v-sum').textContent(),
    `Từ ${dmy(last30[0].date)} đến ${dmy(last30[29].date)}: 6 lượt truy cập của bạn đọc; 3 lượt của máy (bot), không tính vào bộ đếm.`);

  // Every day: the table alternative, dd/mm/yyyy.
  await page.getByLabel('Tất cả', { exact: true }).check();
  assert.equal(await page.locator('#v-chart svg').getAttribute('data-kind'), 'lines', 'over 31 days: lines');
  assert.deepEqual(await rows('#v-table'), hist.days.map((d) => [dmy(d.date), vi(d.visits), vi(d.visitors), vi(d.bots)]));

  // Month and year totals from the same days, newest first.
  const sums = (len, label) => {
    const m = new Map();
    for (const d of hist.days) {
      const k = d.date.slice(0, len), x = m.get(k) || [0, 0];
      m.set(k, [x[0] + d.visits, x[1] + d.bots]);
    }
    return [...m].reverse().map(([k, [v, b]]) => [label(k), vi(v), vi(b)]);
  };
  assert.deepEqual(await rows('#months'), sums(7, (k) => `${k.slice(5)}/${k.slice(0, 4)}`));
  assert.deepEqual(await rows('#years'), sums(4, (k) => k));
  await page.getByLabel('30 ngày', { exact: true }).check();
  await screenshot(page.locator('main'), 'admin-visits');
});

test('the CSV button downloads the service\'s file', async () => {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.locator('#csv-visits').click()]);
  assert.equal(dl.suggestedFilename(), 'visits-default.csv');
  const got = fs.readFileSync(await dl.path());
  const want = (await admin('GET', '/visits?site=default&format=csv')).bytes;
  assert.deepEqual(got, want);
  assert.match(got.toString('utf8'), /^\ufeffNgày,Lượt truy cập,Người truy cập,Truy cập của máy \(bot\)\r\n/);
});

test('taking over an old counter: the figures are asked for confirmation, saved, and read back from the API', async () => {
  const form = page.locator('#bases-form');
  const total = form.getByLabel('Cộng vào “Tất cả”');
  await total.fill('1.777.78');
  await form.getByRole('button', { name: 'Lưu số liệu chuyển sang' }).click();
  assert.equal(await page.locator('#e-b-total').textContent(), 'Hãy nhập một số nguyên không âm, ví dụ 1.777.782 (tối đa 12 chữ số).');
  await total.fill('1.777.782');
  assert.ok(await page.locator('#e-b-total').isHidden(), 'the error goes once the number is right');
  await form.getByLabel('Cộng vào “Hôm nay”').fill('923');
  await form.getByLabel('Cộng vào “Tuần này”').fill('6811');
  await form.getByLabel('Cộng vào “Tháng này”').fill('33 199');
  await form.getByRole('button', { name: 'Lưu số liệu chuyển sang' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.deepEqual(await dialog.locator('li').allTextContents(), [
    'Cộng vào “Tất cả”: không có → 1.777.782', 'Cộng vào “Hôm nay”: không có → 923',
    'Cộng vào “Tuần này”: không có → 6.811', 'Cộng vào “Tháng này”: không có → 33.199',
  ]);
  await dialog.getByRole('button', { name: 'Huỷ' }).click();
  assert.deepEqual((await admin('GET', '/visits')).json.bases, {}, 'cancel saves nothing');

  await form.getByRole('button', { name: 'Lưu số liệu chuyển sang' }).click();
  await dialog.getByRole('button', { name: 'Lưu' }).click();
  await until(() => document.getElementById('status').textContent.startsWith('Đã lưu số liệu chuyển sang'));
  const hist = (await admin('GET', '/visits')).json;
  const today = hist.days[hist.days.length - 1].date;
  const week = (await request(svc.url, 'GET', '/api/v1/visits')).json; // this week's count, base included
  const keys = Object.keys(hist.bases).sort();
  assert.equal(keys.length, 4, keys.join());
  assert.equal(hist.bases.total, 1777782);
  assert.equal(hist.bases[`day:${today}`], 923);
  assert.equal(hist.bases[`month:${today.slice(0, 7)}`], 33199);
  assert.equal(hist.bases[keys.find((k) => k.startsWith('week:'))], 6811);
  assert.equal(week.total, 1777782 + 8);
  assert.equal(week.today, 923 + 2);
  await until((want) => document.querySelector('#shown [data-figure="total"] dd').textContent === want, vi(week.total));
  assert.equal(await total.inputValue(), '1.777.782', 'the form shows the stored figure');
  assert.equal(await form.getByLabel('Cộng vào “Tuần này”').inputValue(), '6.811', 'this week\'s base found under its ISO week');

  // An emptied field drops that figure (null), the others stay.
  await form.getByLabel('Cộng vào “Hôm nay”').fill('');
  await form.getByRole('button', { name: 'Lưu số liệu chuyển sang' }).click();
  assert.deepEqual(await dialog.locator('li').allTextContents(), ['Cộng vào “Hôm nay”: 923 → không có']);
  await dialog.getByRole('button', { name: 'Lưu' }).click();
  await until(() => document.querySelector('#shown [data-figure="today"] dd').textContent === '2');
  const after = (await admin('GET', '/visits')).json.bases;
  assert.equal(after[`day:${today}`], undefined);
  assert.equal(after.total, 1777782);
});

test('another counted site, and one that is not counted', async () => {
  await page.getByLabel('Trang được đếm').fill('xa-an-binh');
  await page.getByRole('button', { name: 'Xem', exact: true }).click();
  await until(() => location.hash === '#visits/xa-an-binh' && document.querySelector('#shown [data-figure="total"] dd')?.textContent === '4');
  const hist = (await admin('GET', '/visits?site=xa-an-binh')).json;
  assert.deepEqual(await rows('#v-table'), hist.days.slice(-30).map((d) => [dmy(d.date), vi(d.visits), vi(d.visitors), vi(d.bots)]));
  await page.getByLabel('Trang được đếm').fill('khong-co');
  await page.getByRole('button', { name: 'Xem', exact: true }).click();
  await page.locator('#e-site').waitFor();
  assert.match(await page.locator('#e-site').textContent(), /^Không tìm thấy trang “khong-co” trong cấu hình bộ đếm/);
  assert.equal(await page.locator('#site').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Trang được đếm').fill('default');
  assert.ok(await page.locator('#e-site').isHidden());
  assert.deepEqual(problems, []);
});
