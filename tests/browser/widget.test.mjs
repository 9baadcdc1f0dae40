// The poll widget on the demo page of the service (same origin): voting with the mouse and with
// the keyboard, the voted state after a reload, multiple choice, English and number formats,
// "Xem kết quả", hidden results, closed and upcoming polls, a vote already cast in another tab,
// an unknown poll, a 320 px wide phone, and the size and serving of widget.js itself.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startRedis, startThamdo, makePoll, request, rfc3339 } from '../blackbox/lib/harness.mjs';
import {
  launchBrowser, newPage, screenshot, poll, liveRegion, addPolls, widgetGzipSize, seedPolls,
  castVotes, publicResults, voteRecorded, WIDGET_JS, widgetFromSources,
} from './lib.mjs';

const DAY = 86400e3;
const SEED = seedPolls().find((p) => p.id === 'chuyen-muc');
const P = {
  multi: makePoll('nhieu-lua-chon', {
    question: 'Bạn thường đọc tin tức vào lúc nào? (chọn tối đa 2)',
    max_choices: 2,
    options: [
      { id: 'sang', label: 'Buổi sáng' },
      { id: 'trua', label: 'Buổi trưa' },
      { id: 'chieu', label: 'Buổi chiều' },
      { id: 'toi', label: 'Buổi tối' },
    ],
  }),
  numbers: makePoll('so-lon', {
    question: 'Bạn có hài lòng với dịch vụ công trực tuyến không?',
    options: [{ id: 'co', label: 'Có' }, { id: 'khong', label: 'Không' }],
  }),
  hidden: makePoll('an-ket-qua', { question: 'Bạn có đề xuất gì cho trang?', results_visibility: 'after_close' }),
  closed: makePoll('da-ket-thuc', { question: 'Cuộc thăm dò năm 2017', status: 'closed' }),
  upcoming: makePoll('sap-mo', {
    question: 'Cuộc thăm dò năm sau',
    opens_at: rfc3339(Date.now() + 30 * DAY),
    closes_at: rfc3339(Date.now() + 60 * DAY),
  }),
  twoTabs: makePoll('hai-tab', { question: 'Hai thẻ cùng một người đọc?' }),
  long: makePoll('nhan-dai', {
    question: 'Một câu hỏi rất dài để thử màn hình hẹp: bạn nghĩ gì về việc chỉnh trang đô thị và vệ sinh môi trường nông thôn?',
    options: [
      { id: 'a', label: 'Phươngánrấtdàikhôngcókhoảngtrắngnàođểthửviệcxuốngdòngtrênđiệnthoạimànhìnhhẹp' },
      { id: 'b', label: 'Ý kiến khác' },
    ],
  }),
};

let url;
let browser;

before(async () => {
  const redis = await startRedis();
  const svc = await startThamdo({ redis, polls: [SEED, ...Object.values(P)] });
  url = svc.url;
  browser = await launchBrowser();
});

/** The demo page in a new context (a new reader); every request it makes is recorded. */
async function openDemo(options) {
  const { context, page } = await newPage(browser, options);
  const requests = [];
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
  await page.goto(`${url}/`);
  return { context, page, requests };
}

/** Tabs forward (at most `limit` times) until the focus is on an element of the widget of pollId. */
async function tabInto(page, pollId, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const inside = await page.evaluate((id) => {
      const host = document.activeElement;
      return host && host.getAttribute('data-thamdo-poll') === id && host.shadowRoot.activeElement
        ? host.shadowRoot.activeElement.outerHTML : null;
    }, pollId);
    if (inside) return inside;
  }
  assert.fail(`no widget element of ${pollId} reached in ${limit} Tab presses`);
}

/** The focused element inside the widget's shadow root: its role/type, text and outline. */
function focusedInWidget(page, pollId) {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-thamdo-poll="${id}"]`).shadowRoot.activeElement;
    if (!el) return null;
    const cs = getComputedStyle(el);
    return { tag: el.tagName, type: el.type || '', value: el.value || '', text: el.textContent, outline: cs.outlineStyle, outlineWidth: cs.outlineWidth };
  }, pollId);
}

const fmtVi = (n) => new Intl.NumberFormat('vi-VN').format(n);

test('widget.js is served from web/ as written (web/vendor/sha256.js spliced in), gzipped, cacheable, and under 14.25 KiB gzipped', async () => {
  const size = widgetGzipSize();
  console.log(`widget.js: ${fs.statSync(WIDGET_JS).size} bytes, ${size} bytes gzipped (gzip -9)`);
  assert.ok(size < 14592, `widget.js is ${size} bytes gzipped, over 14592`);
  const res = await request(url, 'GET', '/widget.js', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/javascript; charset=utf-8');
  assert.equal(res.headers.get('content-encoding'), 'gzip');
  assert.match(res.headers.get('cache-control') || '', /public, max-age=300/);
  assert.ok(res.headers.get('etag'), 'no ETag');
  assert.equal(res.text, widgetFromSources(), 'the service serves another widget.js than web/widget.js with web/vendor/sha256.js: rebuild with make');
  assert.equal(fs.readFileSync(WIDGET_JS, 'utf8'), res.text, 'build/gen/widget.js is stale: rebuild with make');
});

test('demo page: a Vietnamese portal page with the poll in its sidebar and no external resources', async () => {
  const { context, page, requests } = await openDemo();
  const w = poll(page, 'chuyen-muc');
  await w.getByRole('group', { name: SEED.question }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Ban chỉ đạo XDNTM huyện triển khai nhiệm vụ năm 2018');
  await page.getByRole('heading', { name: 'Ý kiến thăm dò' }).waitFor();
  await page.getByRole('heading', { name: 'Truy cập' }).waitFor();
  assert.equal(await page.locator('[data-thamdo-visits]').count(), 1);
  assert.equal(await page.locator('script[src="/widget.js"][async]').count(), 1);
  const outside = requests.filter((r) => !r.split(' ')[1].startsWith(`${url}/`));
  assert.deepEqual(outside, [], 'requests outside the service');
  await context.close();
});

test('the host page styles the widget through --thamdo-* custom properties on the element', async () => {
  const { context, page } = await openDemo();
  await page.evaluate(() => {
    const el = document.querySelector('[data-thamdo-poll="chuyen-muc"]');
    el.style.setProperty('--thamdo-accent', 'rgb(0, 100, 0)');
    el.style.setProperty('--thamdo-accent-text', 'rgb(255, 255, 0)');
    el.style.setProperty('--thamdo-font', 'monospace');
  });
  const button = poll(page, 'chuyen-muc').getByRole('button', { name: 'Bình chọn' });
  const style = await button.evaluate((b) => {
    const cs = getComputedStyle(b);
    return [cs.backgroundColor, cs.color, cs.fontFamily];
  });
  assert.deepEqual(style, ['rgb(0, 100, 0)', 'rgb(255, 255, 0)', 'monospace']);
  // Without them: the default accent, and the page's own font.
  await page.reload();
  const [bg, font, pageFont] = await button.evaluate((b) => [
    getComputedStyle(b).backgroundColor, getComputedStyle(b).fontFamily, getComputedStyle(document.body).fontFamily]);
  assert.equal(bg, 'rgb(11, 83, 148)');
  assert.equal(font, pageFont);
  await context.close();
});

test('click to vote: results, the choice marked and the thanks; after a reload the same, and no second vote', async () => {
  const { context, page, requests } = await openDemo();
  const w = poll(page, 'chuyen-muc');
  const before = await publicResults(url, 'chuyen-muc');
  await w.getByRole('button', { name: 'Bình chọn' }).waitFor();
  assert.equal(await w.getByRole('radio').count(), SEED.options.length);
  await w.getByRole('button', { name: 'Xem kết quả' }).waitFor();
  await screenshot(page, 'before-vote');

  await w.getByLabel('Chỉ đạo điều hành').click();
  assert.equal(await w.getByRole('radio', { name: 'Chỉ đạo điều hành' }).isChecked(), true);
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(w);

  const after = await publicResults(url, 'chuyen-muc');
  const votes = (r, id) => r.options.find((o) => o.id === id).votes;
  assert.equal(votes(after, 'chi-dao-dieu-hanh'), votes(before, 'chi-dao-dieu-hanh') + 1);
  assert.equal(after.total, before.total + 1);
  const mine = after.options.find((o) => o.id === 'chi-dao-dieu-hanh');
  const expectBars = async () => {
    await w.getByRole('img', { name: `Chỉ đạo điều hành: ${fmtVi(mine.votes)} phiếu (${mine.percent}%) - Bạn đã chọn` }).waitFor();
    await w.getByText(`${fmtVi(mine.votes)} phiếu (${mine.percent}%)`).first().waitFor();
    await w.getByText(`Tổng: ${fmtVi(after.total)} phiếu`).waitFor();
    assert.equal(await w.getByText('✓ Bạn đã chọn').count(), 1, 'exactly one option marked as chosen');
    assert.equal(await w.getByRole('img').count(), SEED.options.length);
    assert.equal(await w.getByRole('radio').count(), 0, 'no form after voting');
    assert.equal(await w.getByRole('button', { name: 'Bình chọn' }).count(), 0);
  };
  await expectBars();
  assert.equal(requests.filter((r) => r.startsWith('POST ') && r.includes('/votes')).length, 1, 'one vote request');
  await screenshot(page, 'after-vote');

  await page.reload();
  await w.getByText('Cảm ơn bạn đã tham gia bình chọn!').waitFor();
  await expectBars();
  // The cookie the widget received identifies this reader: the service refuses a second vote.
  const again = await context.request.post(`${url}/api/v1/polls/chuyen-muc/votes`, { data: { options: ['khac'] } });
  assert.equal(again.status(), 409);
  assert.deepEqual((await again.json()).choice, ['chi-dao-dieu-hanh']);
  await context.close();
});

test('keyboard only: Tab into the group, arrow keys to choose, Space on "Bình chọn" votes; focus stays visible', async () => {
  const { context, page } = await openDemo();
  const w = poll(page, 'chuyen-muc');
  await w.getByRole('radio').first().waitFor();
  const before = await publicResults(url, 'chuyen-muc');
  await tabInto(page, 'chuyen-muc');
  let f = await focusedInWidget(page, 'chuyen-muc');
  assert.deepEqual([f.tag, f.type, f.value], ['INPUT', 'radio', SEED.options[0].id], 'Tab lands on the first option');
  assert.equal(f.outline, 'solid', 'a visible focus outline on the option');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  f = await focusedInWidget(page, 'chuyen-muc');
  assert.equal(f.value, SEED.options[2].id);
  assert.equal(await w.getByRole('radio', { name: SEED.options[2].label }).isChecked(), true, 'arrow keys check the option');
  await page.keyboard.press('Tab');
  f = await focusedInWidget(page, 'chuyen-muc');
  assert.deepEqual([f.tag, f.text], ['BUTTON', 'Bình chọn']);
  assert.equal(f.outline, 'solid', 'a visible focus outline on the button');
  await page.keyboard.press('Space');
  await voteRecorded(w);
  f = await focusedInWidget(page, 'chuyen-muc');
  assert.ok(f, 'focus moved into the results, not lost to the page');
  const after = await publicResults(url, 'chuyen-muc');
  const votes = (r) => r.options.find((o) => o.id === SEED.options[2].id).votes;
  assert.equal(votes(after), votes(before) + 1);
  await context.close();
});

test('Enter on "Bình chọn" with nothing chosen asks for a choice and sends nothing', async () => {
  const { context, page, requests } = await openDemo();
  const w = poll(page, 'chuyen-muc');
  await w.getByRole('button', { name: 'Bình chọn' }).focus();
  await page.keyboard.press('Enter');
  await liveRegion(w).filter({ hasText: 'Vui lòng chọn một phương án.' }).waitFor();
  const f = await focusedInWidget(page, 'chuyen-muc');
  assert.deepEqual([f.type, f.value], ['radio', SEED.options[0].id], 'focus goes to the first option');
  assert.deepEqual(requests.filter((r) => r.startsWith('POST ') && r.includes('/votes')), []);
  assert.equal(await w.getByRole('radio').count(), SEED.options.length, 'the form stays');
  await context.close();
});

test('multiple choice: "Chọn tối đa 2 phương án", a third box cannot be checked, both choices counted', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.multi.id }]);
  const w = poll(page, P.multi.id);
  await w.getByText('Chọn tối đa 2 phương án.').waitFor();
  assert.equal(await w.getByRole('radio').count(), 0);
  const box = (label) => w.getByRole('checkbox', { name: label });
  await box('Buổi sáng').check();
  await box('Buổi tối').check();
  assert.equal(await box('Buổi trưa').isDisabled(), true, 'the others are disabled at the limit');
  assert.equal(await box('Buổi chiều').isDisabled(), true);
  await w.getByText('Buổi trưa').click({ force: true }); // clicking the label of a disabled box
  assert.equal(await box('Buổi trưa').isChecked(), false, 'a third option cannot be checked');
  await box('Buổi sáng').uncheck();
  assert.equal(await box('Buổi trưa').isDisabled(), false, 'enabled again below the limit');
  await box('Buổi trưa').check();
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(w);
  const r = (await request(url, 'GET', `/api/v1/polls/${P.multi.id}/results`)).json;
  assert.deepEqual(r.options.map((o) => o.votes), [0, 1, 0, 1]);
  assert.equal(r.voters, 1);
  assert.equal(await w.getByText('✓ Bạn đã chọn').count(), 2);
  await context.close();
});

test('data-lang="en" shows English and 1,234; Vietnamese shows 1.234; "See results" and back keep the choice', async () => {
  await castVotes(url, P.numbers.id, 'co', 1234);
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.numbers.id }, { id: P.numbers.id, lang: 'en' }]);
  const vi = poll(page, P.numbers.id).first();
  const en = poll(page, P.numbers.id, 'en');

  await en.getByRole('group', { name: P.numbers.question }).waitFor();
  await en.getByRole('button', { name: 'Vote' }).waitFor();
  assert.equal(await en.locator('[lang="en"]').count(), 1, 'the English widget says it is in English');
  await en.getByRole('radio', { name: 'Không' }).check();
  await en.scrollIntoViewIfNeeded();
  await screenshot(page, 'english');
  await en.getByRole('button', { name: 'See results' }).click();
  await en.getByText('1,234 votes (100%)').waitFor();
  await en.getByText('Total: 1,234 votes').waitFor();
  await en.getByRole('img', { name: 'Có: 1,234 votes (100%)' }).waitFor();
  await en.getByRole('img', { name: 'Không: 0 votes (0%)' }).waitFor();
  await vi.getByRole('button', { name: 'Xem kết quả' }).click();
  await vi.getByText('1.234 phiếu (100%)').waitFor();
  await vi.getByText('Tổng: 1.234 phiếu').waitFor();
  await vi.getByRole('button', { name: 'Quay lại bình chọn' }).waitFor();

  await en.getByRole('button', { name: 'Back to the poll' }).click();
  assert.equal(await en.getByRole('radio', { name: 'Không' }).isChecked(), true, 'the choice is kept');
  await en.getByRole('button', { name: 'Vote' }).click();
  await voteRecorded(en, 'en');
  await en.getByText('Total: 1,235 votes').waitFor();
  await en.getByText('✓ Your choice').waitFor();
  await en.scrollIntoViewIfNeeded();
  await screenshot(page, 'english-after-vote');
  await context.close();
});

test('results hidden until the poll closes: thanks and "Kết quả sẽ được công bố sau.", no bars, also after a reload', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.hidden.id }]);
  const w = poll(page, P.hidden.id);
  await w.getByRole('button', { name: 'Bình chọn' }).waitFor();
  assert.equal(await w.getByRole('button', { name: 'Xem kết quả' }).count(), 0, 'no "Xem kết quả" when results are hidden');
  await w.getByRole('radio').nth(1).check();
  await w.getByRole('button', { name: 'Bình chọn' }).click();
  for (let i = 0; i < 2; i++) {
    if (i === 0) await voteRecorded(w);
    else await w.getByText('Cảm ơn bạn đã tham gia bình chọn!').waitFor();
    await w.getByText('Kết quả sẽ được công bố sau.').waitFor();
    await w.getByText('✓ Bạn đã chọn: Label opt-b').waitFor();
    assert.equal(await w.getByRole('img').count(), 0);
    assert.equal(await w.getByRole('radio').count(), 0);
    await page.reload();
    await addPolls(page, [{ id: P.hidden.id }]);
  }
  await context.close();
});

test('closed and upcoming polls: the state in words, results when visible, no form', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.closed.id }, { id: P.upcoming.id }]);
  const closed = poll(page, P.closed.id);
  const upcoming = poll(page, P.upcoming.id);
  await closed.getByText('Cuộc thăm dò đã kết thúc.').waitFor();
  await closed.getByText('Cuộc thăm dò năm 2017').waitFor();
  assert.equal(await closed.getByRole('img').count(), 3, 'visibility "always": the results are shown');
  await closed.getByText('Tổng: 0 phiếu').waitFor();
  await upcoming.getByText('Cuộc thăm dò chưa bắt đầu.').waitFor();
  for (const w of [closed, upcoming]) {
    assert.equal(await w.getByRole('radio').count(), 0);
    assert.equal(await w.getByRole('button').count(), 0);
  }
  await context.close();
});

test('a vote already cast in another tab: "Bạn đã bình chọn trong cuộc thăm dò này." and that choice shown', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: P.twoTabs.id }]);
  const w = poll(page, P.twoTabs.id);
  await w.getByRole('radio', { name: 'Label opt-c' }).check();

  const other = await context.newPage();
  await other.goto(`${url}/`);
  await addPolls(other, [{ id: P.twoTabs.id }]);
  await poll(other, P.twoTabs.id).getByRole('radio', { name: 'Label opt-a' }).check();
  await poll(other, P.twoTabs.id).getByRole('button', { name: 'Bình chọn' }).click();
  await voteRecorded(poll(other, P.twoTabs.id));

  await w.getByRole('button', { name: 'Bình chọn' }).click();
  await liveRegion(w).filter({ hasText: 'Bạn đã bình chọn trong cuộc thăm dò này.' }).waitFor();
  await w.getByRole('img', { name: 'Label opt-a: 1 phiếu (100%) - Bạn đã chọn' }).waitFor();
  assert.equal(await w.getByRole('radio').count(), 0);
  const r = (await request(url, 'GET', `/api/v1/polls/${P.twoTabs.id}/results`)).json;
  assert.equal(r.total, 1, 'the second tab did not add a vote');
  await context.close();
});

test('an unknown poll says "Không tìm thấy cuộc thăm dò." and shows no form', async () => {
  const { context, page } = await openDemo();
  await addPolls(page, [{ id: 'khong-co-cuoc-nay' }]);
  const w = poll(page, 'khong-co-cuoc-nay');
  await liveRegion(w).filter({ hasText: 'Không tìm thấy cuộc thăm dò.' }).waitFor();
  assert.equal(await w.getByRole('radio').count(), 0);
  assert.equal(await w.getByRole('button').count(), 0, 'no Retry: trying again cannot help');
  await context.close();
});

test('320 px wide phone: no horizontal scrolling before and after voting, long words wrap', async () => {
  const { context, page } = await openDemo({ viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
  const w = poll(page, 'chuyen-muc');
  await w.getByRole('button', { name: 'Bình chọn' }).waitFor();
  await addPolls(page, [{ id: P.long.id }]);
  await poll(page, P.long.id).getByRole('button', { name: 'Bình chọn' }).waitFor();
  const scrollWidth = () => page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(await scrollWidth() <= 320, `page is ${await scrollWidth()} px wide`);
  const box = await poll(page, P.long.id).boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 320, `long-label poll overflows: ${JSON.stringify(box)}`);
  await w.getByRole('radio', { name: 'Tin tức - Sự kiện' }).tap();
  await w.getByRole('button', { name: 'Bình chọn' }).tap();
  await voteRecorded(w);
  assert.ok(await scrollWidth() <= 320, `page is ${await scrollWidth()} px wide after voting`);
  await w.evaluate((el) => { el.scrollIntoView({ block: 'start' }); window.scrollBy(0, -60); });
  await screenshot(page, 'narrow-320');
  await context.close();
});
