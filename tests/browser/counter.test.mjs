// The visitor counter element (data-thamdo-visits) on the demo page, in Vietnamese and English,
// with a base total taken over from an old counter; and "Thay đổi lựa chọn" (change my vote) in
// the poll widget for a poll with allow_change.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, poll, liveRegion, seedPolls, voteRecorded } from './lib.mjs';

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
    env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_SITES: 'default,xa-an-binh' },
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

test('counter on the demo page: the seed labels, Vietnamese numbers, this visit counted once', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${url}/`);
  const counter = page.locator('[data-thamdo-visits]');
  const shown = await figures(counter);
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
