// The embed codes of the dashboard (web/admin.js) in Debian's chromium: shown as soon as a poll
// is created, exact (the widget's two lines and the no-JS page's iframe, with the service's own
// address), copied with the Clipboard API or, without it, through the selection; the preview
// shows the real poll with voting disabled; and the copied codes work on a portal page of
// another origin allowed by THAMDO_ALLOWED_ORIGINS.
// Real redis-server and thamdo; every wait bounded; loopback only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot, startHostServer } from './lib.mjs';

const TOKEN = 'embed-test-token-0123456789abcdef';
const QUESTION = 'Bạn thấy giao diện mới của trang thế nào?';
const ID = 'ban-thay-giao-dien-moi-cua-trang-the-nao';
const pages = {}; // the portal's pages, filled below
let svc;
let host;
let browser;
let page;
let context;
const problems = [];
const watch = (p) => {
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()} ${m.location().url}`); });
};
const setToken = (tok) => { try { sessionStorage.setItem('thamdo-admin-token', tok); } catch { /* about:blank */ } };

before(async () => {
  host = await startHostServer(pages);
  const redis = await startRedis();
  svc = await startThamdo({ redis, polls: [], env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_ALLOWED_ORIGINS: host.origin } });
  browser = await launchBrowser();
  // Tall enough for the whole panel: Chromium leaves a frame blank in a capture beyond the viewport.
  ({ page, context } = await newPage(browser, { permissions: ['clipboard-read', 'clipboard-write'], viewport: { width: 1100, height: 1800 } }));
  await context.addInitScript(setToken, TOKEN);
  watch(page);
});

const expected = (lang) => ({
  widget: `<div data-thamdo-poll="${ID}"${lang ? ' data-lang="en"' : ''}></div>\n<script src="${svc.url}/widget.js" async></script>`,
  iframe: `<iframe src="${svc.url}/embed/polls/${ID}${lang ? '?lang=en' : ''}" title="${lang ? 'Opinion poll' : 'Thăm dò ý kiến'}" width="100%" height="460" style="border:0" loading="lazy"></iframe>`,
});

test('after creating a poll the embed codes are shown, exact, with a live preview of the poll', async () => {
  await page.goto(`${svc.url}/admin/#new`);
  const form = page.locator('#new-form');
  await form.getByLabel('Câu hỏi', { exact: true }).fill(QUESTION);
  await form.getByLabel('Nhãn phương án 1').fill('Dễ đọc hơn');
  await form.getByLabel('Nhãn phương án 2').fill('Khó đọc hơn');
  await page.getByRole('button', { name: 'Tạo cuộc thăm dò' }).click();
  await page.locator('#v-poll').waitFor();
  assert.equal(await page.locator('#embed').evaluate((d) => d.open), true, 'the panel is open after creating');
  await page.waitForFunction(() => document.activeElement?.id === 'h-embed', null, { timeout: 5000 });
  const want = expected();
  await page.waitForFunction((w) => document.getElementById('code-widget').value === w, want.widget, { timeout: 5000 });
  assert.equal(await page.getByLabel('Mã nhúng (nên dùng)').inputValue(), want.widget);
  assert.equal(await page.getByLabel('Mã khung nhúng (iframe)').inputValue(), want.iframe);

  const preview = page.locator('#preview');
  assert.equal(await preview.getAttribute('sandbox'), '', 'no forms, no scripts in the preview');
  assert.equal(await preview.getAttribute('src'), `${svc.url}/embed/polls/${ID}`);
  const frame = page.frameLocator('#preview');
  await frame.getByText(QUESTION).waitFor();
  await frame.getByText('Dễ đọc hơn').waitFor();
  // Painted before the screenshot: the frame loaded, then two frames of the page.
  await page.frame({ url: /\/embed\/polls\// }).waitForFunction(() => document.readyState === 'complete', null, { timeout: 5000 });
  await page.evaluate(() => new Promise((r) => { requestAnimationFrame(() => requestAnimationFrame(r)); }));
  await screenshot(page.locator('#embed'), 'admin-embed');

  // English box: both codes and the preview follow.
  await page.getByLabel('Ngôn ngữ của hộp thăm dò').selectOption('en');
  assert.equal(await page.locator('#code-widget').inputValue(), expected('en').widget);
  assert.equal(await page.locator('#code-iframe').inputValue(), expected('en').iframe);
  assert.equal(await preview.getAttribute('src'), `${svc.url}/embed/polls/${ID}?lang=en`);
  await page.getByLabel('Ngôn ngữ của hộp thăm dò').selectOption('vi');
});

test('the Copy buttons put each code on the clipboard', async () => {
  const want = expected();
  await page.getByRole('button', { name: 'Chép mã nhúng' }).click();
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Đã chép mã'), null, { timeout: 5000 });
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), want.widget);
  await page.getByRole('button', { name: 'Chép mã khung nhúng' }).click();
  await page.waitForFunction((w) => navigator.clipboard.readText().then((x) => x === w), want.iframe, { timeout: 5000 });
});

test('without the Clipboard API the code is copied through the selection', async () => {
  const { context: ctx, page: p } = await newPage(browser, { permissions: ['clipboard-read', 'clipboard-write'] });
  watch(p);
  await ctx.addInitScript(setToken, TOKEN);
  await ctx.addInitScript(() => { Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true }); });
  await p.goto(`${svc.url}/admin/#poll/${ID}`);
  await p.locator('#embed summary').click();
  await p.waitForFunction(() => document.getElementById('code-iframe').value.includes('embed/polls'), null, { timeout: 5000 });
  assert.equal(await p.evaluate(() => navigator.clipboard), undefined);
  await p.getByRole('button', { name: 'Chép mã khung nhúng' }).click();
  await p.waitForFunction(() => document.getElementById('status').textContent.startsWith('Đã chép mã'), null, { timeout: 5000 });
  // The fallback's copy reached the browser's clipboard: read it from the first page.
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), expected().iframe);
  await ctx.close();
});

test('the copied codes show the poll on a portal page of another origin', async () => {
  const codes = await page.evaluate(() => navigator.clipboard.readText()
    .then(() => [document.getElementById('code-widget').value, document.getElementById('code-iframe').value]));
  pages['/'] = `<!doctype html><html lang="vi"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Cổng thông tin</title></head>
<body><main><h1>Trang chủ</h1><aside id="widget">${codes[0]}</aside><aside id="frame">${codes[1]}</aside></main></body></html>`;
  const { page: portal } = await newPage(browser);
  watch(portal);
  await portal.goto(`${host.origin}/`);
  // The widget (Shadow DOM, reached by the locator) and the framed no-JS page both show the poll.
  await portal.locator('#widget').getByText(QUESTION).waitFor();
  await portal.locator('#widget').getByText('Khó đọc hơn').waitFor();
  await portal.frameLocator('#frame iframe').getByText(QUESTION).waitFor();
  const r = await request(svc.url, 'GET', `/admin/v1/polls/${ID}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.json.question, QUESTION);
  assert.deepEqual(problems, []);
});
