// What the poll widget says about results and poll states: percentages with one decimal in the
// reader's language and equal bars for equal counts (contract 1), voters beside votes on
// multiple-choice polls (contract 2), "1 vote" in English, a vote that arrives after the poll
// closed (contract 3), and data-thamdo-poll="latest" (contract 4).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, rfc3339 } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, poll, liveRegion, addPolls, castVotes, voteRecorded } from './lib.mjs';

const DAY = 86400e3;
const TOKEN = 'results-test-token-0123456789';
// Every poll opened a month ago, but the newest: "latest" must pick that one.
const MONTH_AGO = rfc3339(Date.now() - 30 * DAY);
const P = {
  thirds: makePoll('ba-phan-bang-nhau', {
    question: 'Ba phương án, mỗi phương án một phiếu',
    options: [{ id: 'mot', label: 'Một' }, { id: 'hai', label: 'Hai' }, { id: 'ba', label: 'Ba' }],
  }),
  twoThirds: makePoll('hai-phan-ba', { question: 'Hai phiếu và một phiếu', options: ['x', 'y'] }),
  multi: makePoll('chon-nhieu', {
    question: 'Bạn dùng những dịch vụ công nào? (chọn tối đa 3)',
    max_choices: 3,
    options: [{ id: 'ho-tich', label: 'Hộ tịch' }, { id: 'dat-dai', label: 'Đất đai' }, { id: 'thue', label: 'Thuế' }],
  }),
  one: makePoll('mot-phieu', { question: 'One vote only', options: ['yes', 'no'] }),
  closing: makePoll('sap-dong', { question: 'Cuộc thăm dò sắp đóng' }),
  hiddenClosing: makePoll('sap-dong-an', { question: 'Kết quả công bố sau khi đóng', results_visibility: 'after_close' }),
  // For "latest": the newest open poll is the one that opened last, not the first by id, nor
  // one that opens later.
  older: makePoll('a-mo-tu-lau', { question: 'Cuộc thăm dò mở từ lâu', opens_at: rfc3339(Date.now() - 20 * DAY) }),
  newest: makePoll('b-moi-nhat', { question: 'Cuộc thăm dò mới nhất', opens_at: rfc3339(Date.now() - DAY) }),
  future: makePoll('c-sap-mo', { question: 'Chưa mở', opens_at: rfc3339(Date.now() + 5 * DAY) }),
};
for (const p of Object.values(P)) p.opens_at = p.opens_at || MONTH_AGO;

let url;
let browser;
let emptyUrl; // a service with no open poll

before(async () => {
  const redis = await startRedis();
  const svc = await startThamdo({ redis, polls: Object.values(P), env: { THAMDO_ADMIN_TOKENS: TOKEN } });
  url = svc.url;
  const other = await startThamdo({
    redis: await startRedis(),
    polls: [makePoll('da-dong', { question: 'Đã đóng', status: 'closed' })],
  });
  emptyUrl = other.url;
  await castVotes(url, P.thirds.id, 'mot', 1);
  await castVotes(url, P.thirds.id, 'hai', 1);
  await castVotes(url, P.thirds.id, 'ba', 1);
  await castVotes(url, P.twoThirds.id, 'x', 2);
  await castVotes(url, P.twoThirds.id, 'y', 1);
  browser = await launchBrowser();
});

async function openDemo(base = url) {
  const { context, page } = await newPage(browser);
  await page.goto(`${base}/`);
  return { context, page };
}

/** The rendered results: [{text, width}] per option (the count text, the bar's width in px). */
async function shownBars(widget) {
  await widget.locator('.bar').first().waitFor();
  const texts = await widget.locator('.n').allTextContents();
  const widths = [];
  for (const fill of await widget.locator('.bar span').all()) widths.push((await fill.boundingBox()).width);
  return texts.map((text, i) => ({ text, width: widths[i] }));
}

test('1/1/1 votes: three times "1 phiếu (33,3%)" and three bars of exactly the same width', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.thirds.id }, { id: P.thirds.id, lang: 'en' }]);
  const vi = poll(page, P.thirds.id).first();
  const en = poll(page, P.thirds.id, 'en');
  await vi.getByRole('button', { name: 'Xem kết quả' }).click();
  await en.getByRole('button', { name: 'See results' }).click();
  const bars = await shownBars(vi);
  assert.deepEqual(bars.map((b) => b.text), ['1 phiếu (33,3%)', '1 phiếu (33,3%)', '1 phiếu (33,3%)']);
  assert.equal(new Set(bars.map((b) => b.width)).size, 1, `bar widths ${bars.map((b) => b.width)}`);
  assert.ok(bars[0].width > 0);
  await vi.getByRole('img', { name: 'Hai: 1 phiếu (33,3%)' }).waitFor();
  assert.deepEqual((await shownBars(en)).map((b) => b.text), ['1 vote (33.3%)', '1 vote (33.3%)', '1 vote (33.3%)']);
  await en.getByText('Total: 3 votes').waitFor();
  await vi.scrollIntoViewIfNeeded();
  await screenshot(vi, 'results-thirds');
  await context.close();
});

test('2/1 votes: "66,7%" and "33,3%", the first bar twice the second', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.twoThirds.id }]);
  const w = poll(page, P.twoThirds.id);
  await w.getByRole('button', { name: 'Xem kết quả' }).click();
  const bars = await shownBars(w);
  assert.deepEqual(bars.map((b) => b.text), ['2 phiếu (66,7%)', '1 phiếu (33,3%)']);
  const ratio = bars[0].width / bars[1].width;
  assert.ok(Math.abs(ratio - 66.7 / 33.3) < 0.02, `width ratio ${ratio}`);
  await context.close();
});

test('multiple choice: "Tổng: 2 phiếu · 1 người bình chọn" (English "Total: 2 votes · 1 voter"); single choice shows votes only', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.multi.id }]);
  const w = poll(page, P.multi.id).first();
  await w.getByRole('checkbox', { name: 'Hộ tịch' }).check();
  await w.getByRole('checkbox', { name: 'Thuế' }).check();
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(w);
  await w.getByText('Tổng: 2 phiếu · 1 người bình chọn').waitFor();
  await addPolls(page, [{ id: P.multi.id, lang: 'en' }, { id: P.twoThirds.id }]);
  await poll(page, P.multi.id, 'en').getByText('Total: 2 votes · 1 voter').waitFor();
  const single = poll(page, P.twoThirds.id);
  await single.getByRole('button', { name: 'Xem kết quả' }).click();
  await single.getByText('Tổng: 3 phiếu').waitFor();
  assert.equal(await single.getByText('người bình chọn').count(), 0);
  await w.scrollIntoViewIfNeeded();
  await screenshot(w, 'results-multi');
  await context.close();
});

test('English after one vote: "1 vote (100%)" and "Total: 1 vote", never "1 votes"', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.one.id, lang: 'en' }]);
  const w = poll(page, P.one.id, 'en');
  await w.getByRole('radio', { name: 'Label yes' }).check();
  await w.getByRole('button', { name: 'Vote' }).click();
  await voteRecorded(w, 'en');
  await w.getByText('1 vote (100%)').waitFor();
  await w.getByText('0 votes (0%)').waitFor();
  await w.getByText('Total: 1 vote', { exact: true }).waitFor();
  assert.equal(await w.getByText('1 votes').count(), 0);
  await context.close();
});

test('a vote that arrives after the poll closed: said so, not counted, and the results shown', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.closing.id }, { id: P.hiddenClosing.id, lang: 'en' }]);
  const w = poll(page, P.closing.id);
  const en = poll(page, P.hiddenClosing.id, 'en');
  await w.getByRole('radio', { name: 'Label opt-a' }).check();
  await en.getByRole('radio', { name: 'Label opt-b' }).check();
  for (const id of [P.closing.id, P.hiddenClosing.id]) {
    const r = await request(url, 'POST', `/admin/v1/polls/${id}/close`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200, r.text);
  }
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await liveRegion(w).filter({
    hasText: 'Cuộc thăm dò đã kết thúc trước khi phiếu của bạn được gửi; phiếu chưa được tính.',
  }).waitFor();
  await w.getByText('Cuộc thăm dò đã kết thúc.').waitFor();
  assert.equal(await w.getByRole('img').count(), 3, 'the results, visible to everyone, are shown');
  await w.getByText('Tổng: 0 phiếu').waitFor();
  assert.equal(await w.getByRole('radio').count(), 0, 'no form any more');
  assert.equal(await w.getByText('Cảm ơn bạn').count(), 0);
  assert.equal(await w.getByText('✓ Bạn đã chọn').count(), 0);
  await screenshot(w, 'vote-after-close');

  // Results published once the poll is closed: now they are visible.
  await en.getByRole('button', { name: 'Vote' }).click();
  await liveRegion(en).filter({ hasText: 'This poll closed before your vote arrived; your vote was not counted.' }).waitFor();
  await en.getByText('This poll is closed.').waitFor();
  assert.equal(await en.getByRole('img').count(), 3);
  const totals = await Promise.all([P.closing.id, P.hiddenClosing.id].map(async (id) =>
    (await request(url, 'GET', `/api/v1/polls/${id}/results`)).json.total));
  assert.deepEqual(totals, [0, 0], 'neither vote was counted');
  await context.close();
});

test('data-thamdo-poll="latest" shows the newest open poll', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: 'latest' }]);
  const w = poll(page, 'latest');
  await w.getByRole('group', { name: P.newest.question }).waitFor();
  await w.getByRole('radio', { name: 'Label opt-c' }).check();
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(w);
  assert.equal((await request(url, 'GET', `/api/v1/polls/${P.newest.id}/results`)).json.total, 1);
  await context.close();
});

test('data-thamdo-poll="latest" with no open poll: "Hiện chưa có cuộc thăm dò nào." / "There is no open poll right now."', async () => {
  const { context, page } = await openDemo(emptyUrl);
  await addPolls(page, [{ id: 'latest' }, { id: 'latest', lang: 'en' }]);
  const vi = poll(page, 'latest').first();
  await liveRegion(vi).filter({ hasText: 'Hiện chưa có cuộc thăm dò nào.' }).waitFor();
  await liveRegion(poll(page, 'latest', 'en')).filter({ hasText: 'There is no open poll right now.' }).waitFor();
  assert.equal(await vi.getByRole('button').count(), 0, 'nothing to retry');
  assert.equal(await vi.getByText('Đang tải').count(), 0);
  await context.close();
});
