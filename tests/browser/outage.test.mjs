// The service going away under a rendered widget: with thamdo stopped, voting shows "Hệ thống
// đang bận, vui lòng thử lại sau ít phút." and a "Thử lại" button that keeps the reader's choice;
// once thamdo is back (same Redis, secret and port) Retry counts the vote. The same with Redis
// stalled (503 store_unavailable), and for a poll whose first load failed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, makePoll, request, freePort, tmpDir, waitForStatus } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, poll, liveRegion, addPolls, seedPolls, voteRecorded } from './lib.mjs';

const BUSY = 'Hệ thống đang bận, vui lòng thử lại sau ít phút.';
const LATE = makePoll('mo-sau', { question: 'Một cuộc thăm dò tải khi dịch vụ đang dừng' });
const STALL = makePoll('redis-treo', { question: 'Redis chậm thì sao?' });

let redis;
let browser;

before(async () => {
  redis = await startRedis();
  browser = await launchBrowser();
});

const votesOf = async (base, id, option) =>
  (await request(base, 'GET', `/api/v1/polls/${id}/results`)).json.options.find((o) => o.id === option).votes;

test('thamdo stopped after the widget rendered: busy message and "Thử lại"; thamdo back: Retry votes', async () => {
  const port = await freePort();
  const svc = await startThamdo({
    redis, polls: [...seedPolls(), LATE], dataDir: tmpDir('thamdo-browser-'), env: { THAMDO_LISTEN: `127.0.0.1:${port}` },
  });
  const { context, page } = await newPage(browser);
  await page.goto(`${svc.url}/`);
  const w = poll(page, 'chuyen-muc');
  await w.getByRole('radio', { name: 'Tin tức - Sự kiện' }).check();

  await svc.stop();
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await liveRegion(w).filter({ hasText: BUSY }).waitFor();
  const retry = w.getByRole('button', { name: 'Thử lại' });
  await retry.waitFor();
  assert.equal(await w.getByRole('radio', { name: 'Tin tức - Sự kiện' }).isChecked(), true, 'the choice is kept');
  await screenshot(page, 'error');

  // A poll added while the service is down fails to load, with its own Retry.
  await addPolls(page, [{ id: LATE.id }]);
  const late = poll(page, LATE.id);
  await liveRegion(late).filter({ hasText: BUSY }).waitFor();
  assert.equal(await late.getByRole('radio').count(), 0);
  assert.equal(await late.getByText('Đang tải cuộc thăm dò…').count(), 0, 'no "loading" left after the failure');

  const back = await startThamdo({ rawEnv: svc.env });
  assert.equal(back.port, port, 'restarted on the same port');
  await retry.click();
  await voteRecorded(w);
  await w.getByRole('img', { name: 'Tin tức - Sự kiện: 1 phiếu (100%) - Bạn đã chọn' }).waitFor();
  assert.equal(await w.getByRole('button', { name: 'Thử lại' }).count(), 0, 'Retry gone after success');
  assert.ok(await page.evaluate(() => !!document.querySelector('[data-thamdo-poll="chuyen-muc"]').shadowRoot.activeElement),
    'the focus followed from Retry into the results');
  assert.equal(await votesOf(back.url, 'chuyen-muc', 'tin-tuc'), 1);

  await late.getByRole('button', { name: 'Thử lại' }).click();
  await late.getByRole('radio', { name: 'Label opt-a' }).waitFor();
  assert.equal(await liveRegion(late).innerText(), '', 'the error is cleared');
  await context.close();
  await back.stop();
});

test('Redis stalled (503 store_unavailable): busy message and Retry; Redis back: Retry records the vote once', async () => {
  const svc = await startThamdo({ redis, polls: [STALL], env: { THAMDO_REDIS_TIMEOUT_MS: '300' } });
  const { context, page } = await newPage(browser);
  await page.goto(`${svc.url}/`);
  await addPolls(page, [{ id: STALL.id }]);
  const w = poll(page, STALL.id);
  await w.getByRole('radio', { name: 'Label opt-b' }).check();
  const answers = [];
  page.on('response', (r) => { if (r.request().method() === 'POST') answers.push(r.status()); });

  redis.pause();
  try {
    await w.getByRole('button', { name: 'Bình chọn' }).click();
    await liveRegion(w).filter({ hasText: BUSY }).waitFor();
    await w.getByRole('button', { name: 'Thử lại' }).waitFor();
  } finally {
    redis.resume();
  }
  assert.deepEqual(answers, [503]);
  await waitForStatus(svc.url, '/readyz', 200); // the reader tries again once the service is well
  await w.getByRole('button', { name: 'Thử lại' }).click();
  await voteRecorded(w);
  // The command that timed out may still have run once Redis woke up: then the retry answers 409
  // with that same choice, and for the reader it is the vote being recorded, not an error.
  assert.equal(answers.length, 2);
  assert.ok([201, 409].includes(answers[1]), `retry answered ${answers[1]}`);
  await liveRegion(w).filter({ hasText: 'Đã ghi nhận bình chọn của bạn.' }).waitFor();
  await w.getByRole('img', { name: 'Label opt-b: 1 phiếu (100%) - Bạn đã chọn' }).waitFor();
  assert.equal(await votesOf(svc.url, STALL.id, 'opt-b'), 1, 'counted exactly once');
  await context.close();
  await svc.stop();
});
