// The dashboard on a 360 px wide phone screen (web/admin.css, web/admin.js) in Debian's chromium:
// no page scrolls sideways (login, poll list, new poll, one poll, visitor counter), the list's
// figures and the charts stay inside the screen, and a series of a single day is one labelled
// group of columns with its values, not a lone dot.
// Real redis-server and thamdo; every wait bounded; loopback only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request, makePoll, Voter } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot } from './lib.mjs';

const TOKEN = 'phone-test-token-0123456789abcdef';
const WIDTH = 360;
const LONG_ID = 'danh-gia-chat-luong-phuc-vu-cua-bo-phan-mot-cua-ubnd-xa-an-binh2'; // 64 characters
const POLLS = [
  makePoll(LONG_ID, {
    question: 'Bạn đánh giá thế nào về chất lượng phục vụ của Bộ phận một cửa Ủy ban nhân dân xã An Bình trong năm 2026?',
    options: [{ id: 'rat-hai-long', label: 'Rất hài lòng với cách tiếp đón và giải quyết hồ sơ' }, { id: 'hai-long', label: 'Hài lòng' },
      { id: 'chua-hai-long', label: 'Chưa hài lòng' }],
  }),
  makePoll('chuyen-muc', { question: 'Bạn quan tâm đến chuyên mục nào trên trang?' }),
];
const VOTES = [['rat-hai-long', 3], ['hai-long', 2], ['chua-hai-long', 1]]; // all today

let svc;
let page;
const problems = [];

before(async () => {
  assert.equal(LONG_ID.length, 64);
  const redis = await startRedis();
  svc = await startThamdo({ redis, polls: POLLS, env: { THAMDO_ADMIN_TOKENS: TOKEN } });
  for (const [option, n] of VOTES) {
    for (let i = 0; i < n; i++) assert.equal((await new Voter(svc.url).vote(LONG_ID, [option])).status, 201);
  }
  for (let i = 0; i < 3; i++) {
    // three readers, each its own browser (without a cookie, a reader is known by address and
    // User-Agent, and all three come from 127.0.0.1)
    const r = await request(svc.url, 'POST', '/api/v1/visits', { headers: { 'user-agent': `Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0 reader/${i}` } });
    assert.equal(r.status, 200); // the view, answered with the figures
  }
  const browser = await launchBrowser();
  const opened = await newPage(browser, { viewport: { width: WIDTH, height: 740 }, deviceScaleFactor: 2, locale: 'vi-VN' });
  page = opened.page;
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
});

/** Asserts nothing makes the page wider than the screen, and names what does if something does. */
async function fitsWidth(what) {
  const r = await page.evaluate((w) => ({
    scroll: document.documentElement.scrollWidth,
    wide: [...document.querySelectorAll('body *')].filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > w + 0.5)
      .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className.baseVal ?? e.className}`),
  }), WIDTH);
  assert.ok(r.scroll <= WIDTH, `${what}: scrollWidth ${r.scroll} > ${WIDTH}; too wide: ${r.wide.join(', ')}`);
}

test('at 360 px no page scrolls sideways: login, list, new poll, one poll, counter', async () => {
  await page.goto(`${svc.url}/admin/`);
  await page.locator('#v-login').waitFor();
  await fitsWidth('login');
  await page.getByLabel('Mã truy cập').fill(TOKEN);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.locator('#polls tbody tr').nth(1).waitFor();
  await fitsWidth('list');
  // Each poll is a card: its figures are inside the screen, the id is not cut.
  const cards = await page.locator('#polls tbody tr').evaluateAll((trs, w) => trs.map((tr) => ({
    id: tr.querySelector('a').textContent,
    votes: tr.lastElementChild.textContent,
    inside: [...tr.children].every((td) => td.getBoundingClientRect().right <= w && td.getBoundingClientRect().left >= 0),
  })), WIDTH);
  const long = cards.find((c) => c.id === LONG_ID);
  assert.ok(long, 'the long id is shown whole');
  assert.equal(long.votes, '6');
  assert.ok(cards.every((c) => c.inside), JSON.stringify(cards));
  await screenshot(page, 'admin-phone-list');

  await page.getByRole('link', { name: 'Tạo cuộc thăm dò' }).click();
  await page.locator('#v-new').waitFor();
  await fitsWidth('new poll');

  await page.goto(`${svc.url}/admin/#poll/${LONG_ID}`);
  await page.locator('#line svg').waitFor();
  await page.locator('#embed summary').click();
  await fitsWidth('one poll');
  for (const sel of ['#bars svg', '#line svg']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= WIDTH, `${sel} inside the screen: ${JSON.stringify(box)}`);
    assert.ok(box.width >= 300, `${sel} uses the width (${box.width})`);
  }
  await page.locator('#embed summary').click();

  await page.getByRole('link', { name: 'Bộ đếm truy cập' }).click();
  await page.locator('#v-chart svg').waitFor();
  await fitsWidth('counter');
  await screenshot(page.locator('#v-visits'), 'admin-phone-visits');
});

test('one day of votes is one labelled group of columns with its values, not a lone dot', async () => {
  await page.goto(`${svc.url}/admin/#poll/${LONG_ID}`);
  const svg = page.locator('#line svg');
  await svg.waitFor();
  const r = (await request(svc.url, 'GET', `/admin/v1/polls/${LONG_ID}/results`, { headers: { authorization: `Bearer ${TOKEN}` } })).json;
  assert.equal(r.series.points.length, 1, 'a single day');
  const day = r.series.points[0].start.slice(0, 10).split('-').reverse().join('/');
  assert.equal(await svg.getAttribute('data-kind'), 'columns');
  const cols = await svg.locator('rect.col').evaluateAll((cs) => cs.map((c) => [Number(c.dataset.value), c.getBBox().width, c.getBBox().height]));
  assert.deepEqual(cols.map((c) => c[0]), VOTES.map((v) => v[1]), 'one column per option');
  assert.ok(cols.every(([, w, h]) => w >= 20 && h > 10), `columns wide and tall enough: ${JSON.stringify(cols)}`);
  assert.deepEqual(await svg.locator('text.cval').allTextContents(), ['3', '2', '1'], 'each value written on its column');
  assert.deepEqual(await svg.locator('text.xtick').allTextContents(), [day], 'the day written in full');
  assert.equal(await svg.locator('polyline').count(), 0);
  // Shares as the service gives them (whole, or with one decimal: 33.3), written the Vietnamese way.
  const share = (p) => `${new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 }).format(p)}%`;
  assert.deepEqual(await page.locator('#bars text.val').allTextContents(), r.options.map((o) => `${o.votes} · ${share(o.percent)}`));
  await page.evaluate(() => { // the results and the time chart, one picture
    const box = document.createElement('div');
    box.id = 'shot';
    document.querySelector('[aria-labelledby=h-res]').before(box);
    box.append(document.querySelector('[aria-labelledby=h-res]'), document.querySelector('[aria-labelledby=h-time]'));
  });
  await screenshot(page.locator('#shot'), 'admin-phone-chart');

  // The counter's single day too.
  await page.getByRole('link', { name: 'Bộ đếm truy cập' }).click();
  const v = page.locator('#v-chart svg');
  await v.waitFor();
  assert.equal(await v.getAttribute('data-kind'), 'columns');
  assert.deepEqual(await v.locator('text.cval').allTextContents(), ['3', '0'], 'visits and robots of the day');
  assert.deepEqual(await v.locator('text.xtick').allTextContents(), [day]);
  assert.deepEqual(problems, []);
});
