// Without JavaScript: the server-rendered page /embed/polls/{id} votes with a plain form post
// (303 back to the page, which then shows the results), and the demo page's poll element holds a
// link to that page for readers whose browser runs no script.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, seedPolls } from './lib.mjs';

let url;
let browser;

before(async () => {
  const redis = await startRedis();
  const svc = await startThamdo({ redis, polls: seedPolls() });
  url = svc.url;
  browser = await launchBrowser();
});

test('no-JS embed: the form posts, answers 303 to the page, which shows the results and the choice', async () => {
  const { context, page } = await newPage(browser, { javaScriptEnabled: false, viewport: { width: 360, height: 720 } });
  const redirects = [];
  page.on('response', (r) => { if (r.request().method() === 'POST') redirects.push([r.status(), r.headers().location]); });
  await page.goto(`${url}/embed/polls/chuyen-muc`);
  await page.getByRole('group', { name: 'Bạn quan tâm đến chuyên mục nào trên trang?' }).waitFor();
  await page.getByLabel('Xây dựng nông thôn mới').check();
  await Promise.all([
    page.waitForURL(/msg=voted/),
    page.getByRole('button', { name: 'Bình chọn' }).click(),
  ]);
  assert.deepEqual(redirects, [[303, '/embed/polls/chuyen-muc?msg=voted']]);
  await page.getByText('Đã ghi nhận bình chọn của bạn.').waitFor();
  await page.getByText('Cảm ơn bạn đã tham gia bình chọn!').waitFor();
  await page.getByText('Xây dựng nông thôn mới (✓ lựa chọn của bạn)').waitFor();
  assert.equal(await page.getByRole('radio').count(), 0, 'no form after the vote');
  const r = (await request(url, 'GET', '/api/v1/polls/chuyen-muc/results')).json;
  assert.equal(r.options.find((o) => o.id === 'nong-thon-moi').votes, 1);
  assert.equal(r.total, 1);
  await screenshot(page, 'nojs-embed');
  await context.close();
});

test('demo page without JavaScript: the poll element links to the no-JS poll page', async () => {
  const { context, page } = await newPage(browser, { javaScriptEnabled: false });
  await page.goto(`${url}/`);
  const link = page.getByRole('link', { name: /Tham gia bình chọn/ });
  assert.equal(await link.getAttribute('href'), '/embed/polls/chuyen-muc');
  await Promise.all([page.waitForURL(/\/embed\/polls\/chuyen-muc$/), link.click()]);
  await page.getByRole('button', { name: 'Bình chọn' }).waitFor();
  await context.close();
});
