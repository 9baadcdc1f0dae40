// Live results in the widget: reader A sees the results, reader B (another browser context, another
// voter) votes, and A's bars and total change without a reload; on another site's page with an
// after_vote poll the stream goes with A's cookie (EventSource withCredentials); without
// EventSource the widget keeps the results as of load.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, poll, addPolls, startHostServer, hostPage, voteRecorded } from './lib.mjs';

const P = {
  open: makePoll('theo-doi-truc-tiep', {
    question: 'Bạn theo dõi tin tức bằng cách nào?',
    options: [{ id: 'bao', label: 'Báo in' }, { id: 'mang', label: 'Trên mạng' }],
  }),
  afterVote: makePoll('sau-khi-chon', {
    question: 'Kết quả hiện sau khi bạn bình chọn',
    results_visibility: 'after_vote',
    options: [{ id: 'co', label: 'Có' }, { id: 'khong', label: 'Không' }],
  }),
};

let url;
let browser;
let host; // another site's page embedding the widget

before(async () => {
  const pages = {};
  host = await startHostServer(pages);
  const svc = await startThamdo({
    redis: await startRedis(),
    polls: Object.values(P),
    env: { THAMDO_ALLOWED_ORIGINS: host.origin, THAMDO_COOKIE_SAMESITE: 'None', THAMDO_COOKIE_PARTITIONED: 'true' },
  });
  url = svc.url;
  pages['/'] = hostPage(url, [{ id: P.afterVote.id }]);
  browser = await launchBrowser();
});

/** Reader B: a new context votes for `label` through the widget on the demo page. */
async function voteAsAnother(pollId, label, pageUrl = `${url}/`) {
  const { context, page } = await newPage(browser);
  await page.goto(pageUrl);
  if (pageUrl === `${url}/`) await addPolls(page, [{ id: pollId }]);
  const w = poll(page, pollId);
  await w.getByRole('radio', { name: label }).check();
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(w);
  await context.close();
}

test('reader A sees the results; reader B votes; A\'s bars and total change without a reload', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${url}/`);
  await page.evaluate(() => { window.__notReloaded = true; });
  await addPolls(page, [{ id: P.open.id }]);
  const a = poll(page, P.open.id);
  await a.getByRole('radio', { name: 'Báo in' }).check();
  await a.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(a);
  await a.getByText('Tổng: 1 phiếu').waitFor();
  await a.getByRole('img', { name: 'Trên mạng: 0 phiếu (0%)' }).waitFor();

  await voteAsAnother(P.open.id, 'Trên mạng');
  await a.getByText('Tổng: 2 phiếu').waitFor();
  await a.getByRole('img', { name: 'Trên mạng: 1 phiếu (50%)' }).waitFor();
  await a.getByRole('img', { name: 'Báo in: 1 phiếu (50%) - Bạn đã chọn' }).waitFor();
  const widths = await a.locator('.bar span').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
  assert.equal(widths[0], widths[1], `equal bars for 1 and 1: ${widths}`);
  assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');
  assert.equal(await a.getByText('Đã ghi nhận bình chọn của bạn.').count(), 1, 'the confirmation stays');
  await a.scrollIntoViewIfNeeded();
  await screenshot(a, 'widget-live');
  await context.close();
});

test('another site\'s page, an after_vote poll: the stream goes with the reader\'s cookie and updates', async () => {
  const { context, page } = await newPage(browser);
  const streams = [];
  page.on('request', (r) => { if (r.url().endsWith('/events')) streams.push(r); });
  await page.goto(`${host.origin}/`);
  const a = poll(page, P.afterVote.id);
  await a.getByRole('radio', { name: 'Có' }).check();
  await a.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(a);
  await a.getByText('Tổng: 1 phiếu').waitFor();
  await voteAsAnother(P.afterVote.id, 'Không', `${host.origin}/`);
  await a.getByText('Tổng: 2 phiếu').waitFor();
  await a.getByRole('img', { name: 'Không: 1 phiếu (50%)' }).waitFor();
  assert.equal(streams.length, 1, 'one stream, opened once');
  await context.close();
});

test('without EventSource: the results as of load, nothing else asked', async () => {
  const { context, page } = await newPage(browser);
  await page.addInitScript(() => { delete window.EventSource; });
  const streams = [];
  page.on('request', (r) => { if (r.url().endsWith('/events')) streams.push(r); });
  await page.goto(`${url}/`);
  await addPolls(page, [{ id: P.open.id }]);
  const a = poll(page, P.open.id);
  await a.getByRole('button', { name: 'Xem kết quả' }).click();
  await a.getByText(/^Tổng: \d+ phiếu$/).waitFor();
  assert.equal(streams.length, 0);
  await context.close();
});
