// Browser test of the editors' dashboard (web/admin.html, web/admin.js) in Debian's chromium:
// login (wrong token, then the right one), creating a poll through the form (field errors
// first), the list, votes cast through the public API, the bar and time charts, the CSV
// downloads, editing a label, closing the poll (after the confirmation), the English switch,
// logging out. The other admin-*.test.mjs files test each part in depth.
// Real redis-server and thamdo from the black-box harness; every wait is bounded; the browser
// is closed and the processes stopped in after() hooks. Loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startRedis, startThamdo, request, rfc3339, Voter, REPO_ROOT } from '../blackbox/lib/harness.mjs';

const TOKEN = 'editor-token-0123456789abcdef';
const SHOTS = path.join(REPO_ROOT, 'tests', 'screenshots');
const POLL = 'bua-trua';
const LABELS = ['Cơm tấm', 'Phở bò', 'Bánh mì'];
const IDS = ['com-tam', 'pho-bo', 'banh-mi'];

let svc;
let browser;
let context;
let page;
const problems = []; // console errors, page errors, requests leaving the loopback service
const admin = (method, p, opts = {}) =>
  request(svc.url, method, `/admin/v1${p}`, { ...opts, headers: { authorization: `Bearer ${TOKEN}`, ...(opts.headers || {}) } });
const within = (ms, promise, what) => Promise.race([
  promise,
  new Promise((_, reject) => {
    setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref();
  }),
]);

before(async () => {
  const redis = await startRedis();
  // The test clock lets the votes below be cast on several days (X-Thamdo-Test-Now).
  svc = await startThamdo({ redis, env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_MODE: 'test', THAMDO_TEST_CLOCK: 'true' } });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  // A fixed zone and locale: datetime-local values must go out with +07:00.
  context = await browser.newContext({
    timezoneId: 'Asia/Ho_Chi_Minh', locale: 'vi-VN', acceptDownloads: true, viewport: { width: 1100, height: 900 },
  });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  // HTTP errors are checked by status below (401 and 422 are expected here), other console errors are not.
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400 && ![401, 422].includes(r.status())) problems.push(`HTTP ${r.status()} ${r.url()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(svc.url + '/') && !u.startsWith('blob:')) problems.push(`request outside the service: ${u}`);
  });
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  if (browser) await within(10000, browser.close(), 'browser.close').catch(() => browser.process()?.kill('SIGKILL'));
  if (svc?.alive()) await svc.stop();
});

const visible = (sel) => page.locator(sel).waitFor({ state: 'visible' });

test('the dashboard page is served at /admin/ with its script and style', async () => {
  const r = await request(svc.url, 'GET', '/admin');
  assert.equal(r.status, 303);
  const html = await request(svc.url, 'GET', '/admin/');
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type'), /^text\/html/);
  assert.match(html.text, /<html lang="vi">/);
  for (const f of ['admin.js', 'admin.css']) {
    const a = await request(svc.url, 'GET', `/static/${f}`);
    assert.equal(a.status, 200, f);
  }
});

test('a wrong token shows the error and stays on the login form', async () => {
  await page.goto(`${svc.url}/admin/`);
  await visible('#v-login');
  await page.getByLabel('Mã truy cập').fill('wrong-token-0123456789abcdef');
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  const alert = page.locator('#alert');
  await alert.waitFor({ state: 'visible' });
  assert.match(await alert.textContent(), /Mã truy cập không đúng/);
  assert.ok(await page.locator('#v-login').isVisible());
  assert.ok(await page.locator('#v-list').isHidden());
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
});

test('logging in keeps the token in sessionStorage only and shows the list', async () => {
  await page.getByLabel('Mã truy cập').fill(TOKEN);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await visible('#v-list');
  assert.ok(await page.locator('#alert').isHidden());
  assert.ok(await page.locator('#logout').isVisible());
  const stored = await page.evaluate(() => ({
    session: Object.values(sessionStorage), local: Object.keys(localStorage).length, cookie: document.cookie,
  }));
  assert.ok(stored.session.includes(TOKEN), 'token in sessionStorage');
  assert.equal(stored.local, 0, 'nothing in localStorage');
  assert.equal(stored.cookie, '', 'no cookie');
  assert.deepEqual(await context.cookies(), []);
  assert.ok(await page.locator('#empty').isVisible(), 'no polls yet');
});

test('creating a poll: field errors next to the fields, then success', async () => {
  await page.getByRole('link', { name: 'Tạo cuộc thăm dò' }).click();
  await visible('#v-new');
  // Two rows are there; a third is added with the button.
  assert.equal(await page.locator('#n-options li').count(), 2);
  await page.getByRole('button', { name: '+ Thêm phương án' }).click();
  assert.equal(await page.locator('#n-options li').count(), 3);
  // Invalid on purpose: no question, two options with the same id.
  const form = page.locator('#new-form');
  await form.getByLabel('Mã cuộc thăm dò').fill(POLL);
  await form.getByLabel('Nhãn phương án 1').fill(LABELS[0]);
  await form.getByLabel('Nhãn phương án 2').fill(LABELS[0]);
  await form.getByLabel('Nhãn phương án 3').fill(LABELS[2]);
  assert.equal(await form.getByLabel('Mã phương án 1').inputValue(), IDS[0], 'option id derived from the label');
  await page.getByRole('button', { name: 'Tạo cuộc thăm dò' }).click();
  await visible('#n-e-question');
  const dupError = form.locator('li').nth(1).locator('.ferr').nth(1);
  await dupError.waitFor();
  assert.match(await page.locator('#n-e-question').textContent(), /câu hỏi/i);
  assert.match(await dupError.textContent(), /Trùng mã/);
  assert.equal(await page.locator('#n-question').getAttribute('aria-invalid'), 'true');
  assert.equal(await form.getByLabel('Mã phương án 2').getAttribute('aria-invalid'), 'true');
  assert.ok(await page.locator('#n-error').isVisible());
  assert.equal((await admin('GET', '/polls')).json.polls.length, 0, 'nothing created');

  // Fixed.
  await form.getByLabel('Câu hỏi', { exact: true }).fill('Trưa nay bạn ăn gì?');
  await form.getByLabel('Nhãn phương án 2').fill(LABELS[1]);
  assert.equal(await form.getByLabel('Mã phương án 2').inputValue(), IDS[1]);
  await form.getByLabel('Ngày đóng').fill('31/12/2027');
  await form.getByLabel('Giờ đóng').fill('18:00');
  await form.getByLabel('Ai được xem kết quả').selectOption('after_vote');
  await page.getByRole('button', { name: 'Tạo cuộc thăm dò' }).click();
  await visible('#v-poll');
  assert.match(await page.locator('#status').textContent(), /Đã tạo cuộc thăm dò “bua-trua”/);
  await page.getByRole('link', { name: '← Về danh sách' }).click();
  await visible('#v-list');
  const row = page.locator('#polls tbody tr', { hasText: POLL });
  await row.waitFor();
  assert.match(await row.textContent(), /Trưa nay bạn ăn gì\?/);
  assert.match(await row.textContent(), /Đang mở/);

  const p = (await admin('GET', `/polls/${POLL}`)).json;
  assert.deepEqual(p.options, IDS.map((id, i) => ({ id, label: LABELS[i] })));
  assert.equal(p.closes_at, '2027-12-31T18:00:00+07:00', 'the typed time sent with the service zone\'s offset');
  assert.equal(p.results_visibility, 'after_vote');
  assert.equal(p.allow_change, false);
  await page.screenshot({ path: path.join(SHOTS, 'admin-list.png'), fullPage: true });
});

test('votes cast through the public API show in the list and in the charts', async () => {
  // Five distinct voters over three days and a bit: [option, hours before now].
  const ballots = [['com-tam', 74], ['pho-bo', 50], ['com-tam', 49], ['banh-mi', 26], ['com-tam', 1]];
  for (const [b, ago] of ballots) {
    const now = rfc3339(Date.now() - ago * 3600 * 1000);
    const r = await new Voter(svc.url).vote(POLL, [b], { headers: { 'x-thamdo-test-now': now } });
    assert.equal(r.status, 201, r.text);
  }
  await page.getByRole('button', { name: 'Làm mới' }).click();
  const row = page.locator('#polls tbody tr', { hasText: POLL });
  await page.waitForFunction(() => document.querySelector('#polls tbody tr td:last-child')?.textContent === '5', null, { timeout: 5000 });
  assert.deepEqual(await row.locator('td.num').allTextContents(), ['5', '5']);

  await row.getByRole('link', { name: POLL }).click();
  await visible('#v-poll');
  await page.locator('#bars svg g.bar').first().waitFor();
  assert.equal(await page.locator('#h-poll').textContent(), 'Trưa nay bạn ăn gì?');
  const bars = page.locator('#bars svg g.bar');
  assert.equal(await bars.count(), 3, 'one bar per option');
  const expect = [[LABELS[0], 3, '60%'], [LABELS[1], 1, '20%'], [LABELS[2], 1, '20%']];
  for (let i = 0; i < 3; i++) {
    const [label, votes, share] = expect[i];
    const title = await bars.nth(i).locator('title').textContent();
    assert.equal(title, `${label}: ${votes} phiếu (${share})`);
    assert.equal(await bars.nth(i).getAttribute('data-votes'), String(votes));
    assert.equal(await bars.nth(i).locator('rect').count(), 2);
  }
  const aria = await page.locator('#bars svg').getAttribute('aria-label');
  for (const [label, votes] of expect) assert.ok(aria.includes(`${label}: ${votes} phiếu`), aria);
  // The widths follow the votes (3 : 1 : 1).
  const widths = await bars.evaluateAll((gs) => gs.map((g) => Number(g.querySelectorAll('rect')[1].getAttribute('width'))));
  assert.ok(widths[0] > 2.5 * widths[1] && widths[1] === widths[2], `bar widths ${widths}`);
  // Text alternative.
  const cells = await page.locator('#bars-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.textContent));
  assert.deepEqual(cells, ['Cơm tấm360%', 'Phở bò120%', 'Bánh mì120%', 'Tổng cộng5100%']);
  assert.match(await page.locator('#stats').textContent(), /5 phiếu của 5 người bình chọn/);

  // Time chart: per option (3 series), total (1), hour buckets. A few days are columns.
  await page.locator('#line svg').waitFor();
  assert.equal(await page.locator('#line svg').getAttribute('data-kind'), 'columns');
  assert.equal(await page.locator('#line svg g.series').count(), 3);
  assert.ok(await page.locator('#line svg .ytick').count() >= 2, 'y axis tick labels');
  assert.ok(await page.locator('#line svg .xtick').count() >= 1, 'x axis tick labels');
  await page.locator('#v-poll').getByLabel('Tổng cộng', { exact: true }).check();
  assert.equal(await page.locator('#line svg g.series').count(), 1);
  assert.deepEqual(await page.locator('#legend li').allTextContents(), ['Tổng cộng']);
  await page.locator('#v-poll').getByLabel('Giờ', { exact: true }).check();
  await page.waitForFunction(() => /\d\d:00/.test(document.querySelector('#line-table tbody')?.textContent || ''), null, { timeout: 5000 });
  const hourRows = await page.locator('#line-table tbody tr').count();
  assert.ok(hourRows >= 1, 'hour rows in the table alternative');
  await page.locator('#v-poll').getByLabel('Từng phương án', { exact: true }).check();
  assert.equal(await page.locator('#line svg').getAttribute('data-kind'), 'lines', 'many hours are lines');
  assert.equal(await page.locator('#line svg polyline').count(), 3);
  assert.ok(await page.locator('#line-table tbody tr').count() >= 72, 'one row per hour over three days');
  const hourCells = await page.locator('#line-table tbody td').allTextContents();
  assert.equal(hourCells.map(Number).reduce((a, b) => a + b, 0), 5, 'every vote in the hourly table');
  await page.locator('#v-poll').getByLabel('Ngày', { exact: true }).check();
  await page.waitForFunction(() => document.querySelectorAll('#line-table tbody tr').length < 10, null, { timeout: 5000 });
  const days = await page.locator('#line-table tbody tr').count();
  assert.ok(days >= 4 && days <= 5, `day rows: ${days}`);
  const columns = await page.locator('#line svg g.series').first().locator('rect.col').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
  assert.equal(columns.length, days, 'one column per day');
  assert.equal(columns.reduce((a, b) => a + b, 0), 3, 'the first option\'s votes');
  await page.locator('#v-poll details:has(#bars-table)').evaluate((d) => { d.open = true; });
  await page.screenshot({ path: path.join(SHOTS, 'admin-poll.png'), fullPage: true });
  await page.locator('#v-poll details:has(#bars-table)').evaluate((d) => { d.open = false; });
});

test('the CSV buttons download the files the service makes (BOM, labels)', async () => {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.locator('#csv-totals').click()]);
  assert.equal(dl.suggestedFilename(), `${POLL}-results.csv`);
  const bytes = fs.readFileSync(await within(10000, dl.path(), 'download.path'));
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const text = bytes.subarray(3).toString('utf8');
  assert.match(text, /^Mã phương án,Phương án,Số phiếu,Tỷ lệ \(%\)\r\n/);
  for (const l of LABELS) assert.ok(text.includes(l), `${l} in ${text}`);
  assert.match(text, /com-tam,Cơm tấm,3,60(\.0)?\r\n/); // whole or with one decimal (the percent contract)
  assert.ok(text.includes(',Tổng cộng,5,100'), text);
  assert.match(await page.locator('#status').textContent(), /Đã tải bua-trua-results\.csv/);

  const [dl2] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.locator('#csv-series').click()]);
  assert.equal(dl2.suggestedFilename(), `${POLL}-series-day.csv`, 'the bucket chosen on the page');
  const s = fs.readFileSync(await within(10000, dl2.path(), 'download.path'));
  assert.deepEqual([...s.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.ok(s.toString('utf8').startsWith('\ufeffThời điểm,Cơm tấm,Phở bò,Bánh mì,Tổng\r\n'), s.toString('utf8'));
});

test('editing a label and closing the poll from the page reach the service', async () => {
  await page.locator('#edit-form').getByLabel('Nhãn phương án 3').fill('Bánh mì pate');
  await page.getByRole('button', { name: 'Lưu thay đổi' }).click();
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('Đã lưu'), null, { timeout: 5000 });
  await page.locator('#bars svg g.bar[data-option="banh-mi"] title', { hasText: 'Bánh mì pate' }).waitFor({ state: 'attached' });
  let p = (await admin('GET', `/polls/${POLL}`)).json;
  assert.equal(p.options[2].label, 'Bánh mì pate');
  assert.equal(p.version, 2);

  await page.locator('#b-close').click();
  await page.locator('#confirm').getByRole('button', { name: 'Đóng bình chọn' }).click();
  await page.getByRole('button', { name: 'Mở lại bình chọn' }).waitFor();
  p = (await admin('GET', `/polls/${POLL}`)).json;
  assert.equal(p.status, 'closed');
  assert.equal(p.state, 'closed');
  const pub = await request(svc.url, 'GET', `/api/v1/polls/${POLL}`);
  assert.equal(pub.json.status, 'closed');
  assert.match(await page.locator('#meta').textContent(), /Đã đóng/);
});

test('English switch, then log out clears the token', async () => {
  await page.getByRole('button', { name: 'English' }).click();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.equal(await page.locator('#h-res').textContent(), 'Results');
  assert.equal(await page.locator('#b-close').textContent(), 'Reopen voting');
  assert.equal(await page.locator('#bars svg g.bar title').first().textContent(), 'Cơm tấm: 3 votes (60%)');
  await page.getByRole('button', { name: 'Tiếng Việt' }).click();
  assert.equal(await page.locator('#h-res').textContent(), 'Kết quả');

  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await visible('#v-login');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('thamdo-admin-token')), null);
  assert.ok(await page.locator('#v-poll').isHidden());
  await page.reload();
  await visible('#v-login');
});

test('a token the service stops accepting brings back the login with a message', async () => {
  await page.evaluate(() => sessionStorage.setItem('thamdo-admin-token', 'revoked-token-0123456789abcdef'));
  await page.goto('about:blank'); // a real load, not a same-document hash change
  await page.goto(`${svc.url}/admin/#poll/${POLL}`);
  await visible('#v-login');
  await visible('#alert');
  assert.match(await page.locator('#alert').textContent(), /không còn chấp nhận/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('thamdo-admin-token')), null);
  assert.deepEqual(problems, []);
});
