// The dashboard's editors' tools (web/admin.js): the integrity summary beside the results (totals,
// the busiest address groups' shares, an unusual hour flagged, the table per hour), the reset of a
// poll's results asked twice (a confirmation, then the poll id typed: the button stays disabled
// until it matches; Cancel at either step changes nothing), and the audit log view (#audit) naming
// the token, in Vietnamese and in English. The integrity counters are written into Redis in the form
// the vote step writes them. Real redis-server and thamdo in Debian's chromium; every wait bounded.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request, makePoll, Voter } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage } from './lib.mjs';

const TOKEN = 'editors-browser-token-0123456789';
const POLL = makePoll('lam-moi', { question: 'Có nên làm lại từ đầu?', options: [{ id: 'co', label: 'Có' }, { id: 'khong', label: 'Không' }] });
const HOUR0 = Math.floor(Date.parse('2026-11-29T08:00:00+07:00') / 3600e3);

let redis;
let svc;
let page;
const problems = [];
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 5000 });
const adminResults = async () => (await request(svc.url, 'GET', '/admin/v1/polls/lam-moi/results', { headers: { authorization: `Bearer ${TOKEN}` } })).json;

before(async () => {
  redis = await startRedis();
  svc = await startThamdo({ redis, polls: [POLL], env: { THAMDO_ADMIN_TOKENS: `bien-tap:${TOKEN}`, THAMDO_TIMEZONE: 'Asia/Ho_Chi_Minh' } });
  for (let i = 0; i < 3; i++) assert.equal((await new Voter(svc.url).vote('lam-moi', ['co'])).status, 201);
  // The counters of these three votes (the vote step writes them) give way to a known set.
  await redis.cli('DEL', 'thamdo:{poll:lam-moi}:integrity', 'thamdo:{poll:lam-moi}:buckets');
  const args = [];
  [10, 12, 11, 90].forEach((n, k) => args.push(`${HOUR0 + k}:ballots`, String(n)));
  args.push(`${HOUR0 + 3}:dup`, '7', `${HOUR0 + 3}:limited`, '30', `${HOUR0 + 3}:challenged`, '12', `${HOUR0 + 3}:solved`, '9');
  await redis.cli('HSET', 'thamdo:{poll:lam-moi}:integrity', ...args);
  await redis.cli('ZADD', 'thamdo:{poll:lam-moi}:buckets', '62', 'aaaaaaaaaaaaaaaa', '20', 'bbbbbbbbbbbbbbbb', '41', 'cccccccccccccccc');
  const browser = await launchBrowser();
  const opened = await newPage(browser, { locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  page = opened.page;
  await opened.context.addInitScript((tok) => { try { sessionStorage.setItem('thamdo-admin-token', tok); } catch { /* about:blank */ } }, TOKEN);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('dialog', (d) => { problems.push(`window dialog: ${d.message()}`); d.dismiss(); });
});

async function openPoll() {
  await page.goto('about:blank');
  await page.goto(`${svc.url}/admin/#poll/lam-moi`);
  await until(() => document.querySelector('#ig-totals dd') !== null);
}

test('the integrity summary beside the results: totals, the busiest groups\' shares, the unusual hour flagged', async () => {
  await openPoll();
  const totals = await page.locator('#ig-totals > div').evaluateAll((ds) => ds.map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent]));
  assert.deepEqual(totals, [['Phiếu được tính', '123'], ['Bình chọn lặp bị từ chối', '7'], ['Bị từ chối vì gửi quá nhiều', '30'],
    ['Phải giải thử thách', '12'], ['Giải được thử thách', '9']]);
  // 62 of 123 = 50.4%; all three groups (123 of 123) for the busiest 5 and 10.
  assert.equal(await page.locator('#ig-shares').textContent(),
    '3 nhóm địa chỉ đã bình chọn. Nhóm gửi nhiều nhất chiếm 50,4% số phiếu; 5 nhóm nhiều nhất: 100%; 10 nhóm nhiều nhất: 100%.');
  const flags = page.locator('#ig-flags');
  assert.ok(await flags.isVisible());
  // Median of 10, 11, 12, 90: 11.5; 90 >= 57.5 and >= 20.
  assert.equal(await flags.textContent(), 'Giờ có số phiếu cao bất thường (ít nhất 5 lần trung vị 11,5 phiếu/giờ): 29/11/2026 11:00.');
  await page.locator('#integrity summary').click();
  const rows = await page.locator('#ig-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows[3], ['29/11/2026 11:00', '90', '7', '30', '12', '9', 'Có']);
  assert.equal(rows.length, 4);
  assert.deepEqual(problems, []);
});

test('reset asked twice: cancel changes nothing; the poll id must be typed before the votes go', async () => {
  await openPoll();
  const dialog = page.locator('#confirm');
  // First question, cancelled.
  await page.getByRole('button', { name: 'Đặt lại kết quả' }).click();
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await page.locator('#cf-title').textContent(), 'Đặt lại kết quả?');
  await page.getByRole('button', { name: 'Huỷ' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await adminResults()).total, 3);
  // Second question: the id typed wrong keeps the button disabled; cancelled.
  await page.getByRole('button', { name: 'Đặt lại kết quả' }).click();
  await page.getByRole('button', { name: 'Tiếp tục' }).click();
  await until(() => document.querySelector('#cf-title').textContent === 'Xác nhận lần cuối');
  const ok = page.getByRole('button', { name: 'Xoá mọi phiếu' });
  assert.ok(await ok.isDisabled());
  await dialog.getByLabel('Mã cuộc thăm dò').fill('lam-mo');
  assert.ok(await ok.isDisabled());
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await adminResults()).total, 3);
  // Both answered: the votes go.
  await page.getByRole('button', { name: 'Đặt lại kết quả' }).click();
  await page.getByRole('button', { name: 'Tiếp tục' }).click();
  await until(() => document.querySelector('#cf-title').textContent === 'Xác nhận lần cuối');
  await dialog.getByLabel('Mã cuộc thăm dò').fill('lam-moi');
  assert.ok(await ok.isEnabled());
  await ok.click();
  await until(() => document.getElementById('status').textContent.startsWith('Đã đặt lại kết quả'));
  const res = await adminResults();
  assert.deepEqual([res.total, res.voters], [0, 0]);
  assert.match(await page.locator('#stats').textContent(), /^0 phiếu của 0 người bình chọn/);
  assert.equal(await page.locator('#ig-shares').textContent(), 'Chưa có số liệu về độ tin cậy cho cuộc thăm dò này.');
  assert.ok(await page.locator('#ig-flags').isHidden());
  assert.deepEqual(problems, []);
});

test('the audit log view names the token and the action, in Vietnamese and in English', async () => {
  await page.goto('about:blank');
  await page.goto(`${svc.url}/admin/#audit`);
  await until(() => document.querySelector('#audit tbody tr') !== null);
  const first = await page.locator('#audit tbody tr').first().evaluate((tr) => [...tr.cells].map((c) => c.textContent));
  assert.equal(first[1], 'bien-tap');
  assert.equal(first[2], 'Đặt lại kết quả');
  assert.equal(first[3], 'lam-moi');
  assert.match(first[0], /^\d\d\/\d\d\/\d{4} \d\d:\d\d$/);
  assert.ok(!(await page.content()).includes(TOKEN), 'no token on the page');
  await page.getByRole('button', { name: 'English' }).click();
  await until(() => document.querySelector('#audit tbody tr td.action').textContent === 'Reset the results');
  assert.equal(await page.locator('#h-audit').textContent(), 'Audit log');
  assert.deepEqual(problems, []);
});
