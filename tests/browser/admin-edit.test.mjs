// The dashboard's poll form in depth (web/admin.js), in Debian's chromium with an American
// English locale and a New York zone while the service runs in Asia/Ho_Chi_Minh: ids made from
// the question (folded to ASCII, cut at a word boundary), every setting of a new poll read back
// through the admin API (typed times in the service's zone, dates shown dd/mm/yyyy HH:mm),
// errors that go as soon as their field is fixed, editing every setting of an existing poll
// (options reordered, added, removed; an option with votes refused next to it), and the
// confirmation asked in the page before closing or archiving.
// Real redis-server and thamdo; every wait bounded; loopback only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startThamdo, request, makePoll, Voter } from '../blackbox/lib/harness.mjs';
import { launchBrowser, newPage, screenshot } from './lib.mjs';

const TOKEN = 'edit-test-token-0123456789abcdef';
const EDIT = makePoll('chu-de', {
  question: 'Bạn muốn đọc thêm về chủ đề nào?',
  options: [{ id: 'a', label: 'Giáo dục' }, { id: 'b', label: 'Y tế' }, { id: 'c', label: 'Giao thông' }, { id: 'd', label: 'Môi trường' }],
});
const DIALOGS = makePoll('hop-thoai', { question: 'Hỏi trước khi đóng?' });

let svc;
let page;
const problems = []; // page errors, console errors other than refused requests, window dialogs
const admin = async (method, p, json) => {
  const r = await request(svc.url, method, `/admin/v1${p}`, { headers: { authorization: `Bearer ${TOKEN}` }, json });
  assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
};
const visible = (sel) => page.locator(sel).waitFor({ state: 'visible' });
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 5000 });

before(async () => {
  const redis = await startRedis();
  svc = await startThamdo({ redis, polls: [EDIT, DIALOGS], env: { THAMDO_ADMIN_TOKENS: TOKEN, THAMDO_TIMEZONE: 'Asia/Ho_Chi_Minh' } });
  for (let i = 0; i < 2; i++) assert.equal((await new Voter(svc.url).vote('chu-de', ['b'])).status, 201);
  const browser = await launchBrowser();
  const opened = await newPage(browser, { locale: 'en-US', timezoneId: 'America/New_York' });
  page = opened.page;
  await opened.context.addInitScript((tok) => { try { sessionStorage.setItem('thamdo-admin-token', tok); } catch { /* about:blank */ } }, TOKEN);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('dialog', (d) => { problems.push(`window dialog: ${d.message()}`); d.dismiss(); });
});

// A fresh load (a hash change alone keeps what was typed in the form).
async function openNew() {
  await page.goto('about:blank');
  await page.goto(`${svc.url}/admin/#new`);
  await visible('#v-new');
  return page.locator('#new-form');
}

test('the id is made from the question: diacritics folded to ASCII, cut after a whole word within 64 characters', async () => {
  const form = await openNew();
  const question = form.getByLabel('Câu hỏi', { exact: true });
  const id = form.getByLabel('Mã cuộc thăm dò');
  await question.fill('Bạn quan tâm đến chuyên mục nào');
  assert.equal(await id.inputValue(), 'ban-quan-tam-den-chuyen-muc-nao');
  await question.fill('Đường đến Ủy ban xã Ứng Hòa?');
  assert.equal(await id.inputValue(), 'duong-den-uy-ban-xa-ung-hoa', 'đ → d, Ư → u, no trailing hyphen');
  // Its slug is 100 characters long; the 64th falls inside "tiep".
  await question.fill('Bạn đánh giá thế nào về chất lượng phục vụ của Bộ phận một cửa tiếp nhận và trả kết quả thủ tục hành chính?');
  assert.equal(await id.inputValue(), 'ban-danh-gia-the-nao-ve-chat-luong-phuc-vu-cua-bo-phan-mot-cua');
  // Option ids from labels follow the same rule.
  await form.getByLabel('Nhãn phương án 1').fill('Xây dựng nông thôn mới');
  assert.equal(await form.getByLabel('Mã phương án 1').inputValue(), 'xay-dung-nong-thon-moi');
  // Typed by the editor: kept.
  await id.fill('danh-gia');
  await question.fill('Câu hỏi khác');
  assert.equal(await id.inputValue(), 'danh-gia');
});

test('a new poll with every setting: options moved and removed, times read in the service\'s zone, dates shown dd/mm/yyyy', async () => {
  const form = await openNew();
  await form.getByLabel('Câu hỏi', { exact: true }).fill('Bạn muốn xem thêm chuyên mục nào?');
  assert.equal(await form.getByLabel('Mã cuộc thăm dò').inputValue(), 'ban-muon-xem-them-chuyen-muc-nao');
  await form.getByRole('button', { name: '+ Thêm phương án' }).click();
  await form.getByRole('button', { name: '+ Thêm phương án' }).click();
  const labels = ['Giáo dục', 'Y tế', 'Giao thông', 'Môi trường'];
  for (let i = 0; i < 4; i++) await form.getByLabel(`Nhãn phương án ${i + 1}`).fill(labels[i]);
  await form.getByRole('button', { name: 'Chuyển phương án 3 lên' }).click(); // Giáo dục, Giao thông, Y tế, Môi trường
  assert.match(await page.locator('#status').textContent(), /Đã chuyển “Giao thông” tới vị trí 2/);
  assert.equal(await form.getByLabel('Nhãn phương án 2').inputValue(), 'Giao thông');
  await form.getByRole('button', { name: 'Bỏ phương án 3' }).click(); // Y tế goes
  assert.equal(await form.locator('li.opt').count(), 3);
  await form.getByLabel('Mỗi bạn đọc được chọn tối đa').fill('2');
  await form.getByLabel('Ngày mở').fill('15/01/2027');
  await form.getByLabel('Giờ mở').fill('08:30');
  await form.getByLabel('Ngày đóng').fill('28/02/2027'); // no time: the end of that day
  await form.getByLabel('Ai được xem kết quả').selectOption('after_close');
  await form.getByLabel('Cho phép bạn đọc đổi lựa chọn').check();
  await until(() => /theo giờ Asia\/Ho_Chi_Minh \(UTC\+07:00\)/.test(document.getElementById('n-when-help').textContent));
  await form.getByRole('button', { name: 'Tạo cuộc thăm dò' }).click();
  await visible('#v-poll');

  const p = await admin('GET', '/polls/ban-muon-xem-them-chuyen-muc-nao');
  assert.deepEqual(p.options, [
    { id: 'giao-duc', label: 'Giáo dục' }, { id: 'giao-thong', label: 'Giao thông' }, { id: 'moi-truong', label: 'Môi trường' },
  ]);
  assert.equal(p.question, 'Bạn muốn xem thêm chuyên mục nào?');
  assert.equal(p.max_choices, 2);
  assert.equal(p.opens_at, '2027-01-15T08:30:00+07:00', 'the service zone, not New York');
  assert.equal(p.closes_at, '2027-02-28T23:59:59+07:00');
  assert.equal(p.results_visibility, 'after_close');
  assert.equal(p.allow_change, true);

  // en-US browser: still day/month/year and 24 h, in Vietnamese and in English.
  const meta = page.locator('#meta');
  await until(() => document.getElementById('meta').textContent.includes('15/01/2027'));
  const dd = async (term) => meta.locator('div', { has: page.locator('dt', { hasText: term }) }).locator('dd').textContent();
  assert.equal(await dd('Mở từ'), '15/01/2027 08:30');
  assert.equal(await dd('Đóng lúc'), '28/02/2027 23:59');
  assert.match(await dd('Cập nhật lúc'), /^\d\d\/\d\d\/\d{4} \d\d:\d\d$/);
  assert.equal(await page.locator('#x-opens-d').inputValue(), '15/01/2027');
  assert.equal(await page.locator('#x-opens-t').inputValue(), '08:30');
  await page.getByRole('button', { name: 'English' }).click();
  assert.equal(await dd('Opens'), '15/01/2027 08:30');
  await page.getByRole('button', { name: 'Tiếng Việt' }).click();
});

test('a field\'s error goes as soon as that field is fixed; the others stay until theirs are', async () => {
  const form = await openNew();
  const before = (await admin('GET', '/polls')).polls.length;
  await form.getByLabel('Nhãn phương án 1').fill('Có');
  await form.getByLabel('Nhãn phương án 2').fill('Có'); // the same id "co"
  await form.getByLabel('Mỗi bạn đọc được chọn tối đa').fill('5');
  await form.getByLabel('Ngày mở').fill('31/02/2027');
  await form.getByRole('button', { name: 'Tạo cuộc thăm dò' }).click();
  const err = {
    id: page.locator('#n-e-id'), question: page.locator('#n-e-question'), max: page.locator('#n-e-max_choices'),
    opens: page.locator('#n-e-opens_at'), dup: form.locator('li.opt').nth(1).locator('.ferr').nth(1),
  };
  await err.question.waitFor();
  assert.equal(await err.id.textContent(), 'Hãy nhập mã cuộc thăm dò.');
  assert.equal(await err.question.textContent(), 'Hãy nhập câu hỏi.');
  assert.equal(await err.dup.textContent(), 'Trùng mã với một phương án ở trên.');
  assert.equal(await err.max.textContent(), 'Hãy nhập một số từ 1 đến 2 (số phương án).');
  assert.match(await err.opens.textContent(), /^Ngày không hợp lệ: hãy viết theo dạng ngày\/tháng\/năm/);
  assert.ok(await page.locator('#n-error').isVisible());
  assert.equal((await admin('GET', '/polls')).polls.length, before, 'nothing sent');

  // Typing a question fixes the question and the id made from it, nothing else.
  await form.getByLabel('Câu hỏi', { exact: true }).fill('Bạn có đọc báo giấy không?');
  assert.ok(await err.question.isHidden(), 'question error gone at once');
  assert.ok(await err.id.isHidden(), 'id error gone at once');
  assert.equal(await page.locator('#n-question').getAttribute('aria-invalid'), null);
  for (const k of ['dup', 'max', 'opens']) assert.ok(await err[k].isVisible(), `${k} still shown`);
  await form.getByLabel('Ngày mở').fill('28/02/2027');
  assert.ok(await err.opens.isHidden());
  await form.getByLabel('Nhãn phương án 2').fill('Không');
  assert.ok(await err.dup.isHidden(), 'duplicate id gone once the label (and the id made from it) differ');
  assert.ok(await page.locator('#n-error').isVisible(), 'the summary stays while an error is left');
  await form.getByLabel('Mỗi bạn đọc được chọn tối đa').fill('1');
  assert.ok(await err.max.isHidden());
  assert.ok(await page.locator('#n-error').isHidden(), 'the summary goes with the last error');

  // An error only the service knows (the id is taken) goes when the id changes.
  await form.getByLabel('Mã cuộc thăm dò').fill('chu-de');
  await form.getByRole('button', { name: 'Tạo cuộc thăm dò' }).click();
  await err.id.waitFor();
  assert.equal(await err.id.textContent(), 'Đã có một cuộc thăm dò với mã này; hãy chọn mã khác.');
  await form.getByLabel('Mỗi bạn đọc được chọn tối đa').fill('2'); // another field: the id error stays
  assert.ok(await err.id.isVisible());
  await form.getByLabel('Mã cuộc thăm dò').fill('chu-de-2');
  assert.ok(await err.id.isHidden());
  assert.equal((await admin('GET', '/polls')).polls.length, before);
});

test('editing an existing poll: every setting, options reordered, added and removed; an option with votes is refused next to it', async () => {
  await page.goto(`${svc.url}/admin/#poll/chu-de`);
  const form = page.locator('#edit-form');
  await form.locator('li.opt').nth(3).waitFor();
  const row = (id) => form.locator(`li.opt[data-option="${id}"]`);
  assert.match(await row('b').locator('.oid').textContent(), /Mã: b · 2 phiếu/);
  await form.getByLabel('Câu hỏi', { exact: true }).fill('Bạn muốn đọc thêm về lĩnh vực nào?');
  await form.getByLabel('Nhãn phương án 1').fill('Giáo dục - Đào tạo');
  await form.getByRole('button', { name: 'Chuyển phương án 3 lên' }).click(); // a, c, b, d
  await form.getByRole('button', { name: 'Bỏ phương án 4' }).click(); // d: marked, kept until saved
  assert.match(await row('d').textContent(), /Sẽ bỏ khi lưu/);
  await form.getByRole('button', { name: '+ Thêm phương án' }).click();
  await form.getByLabel('Nhãn phương án 5').fill('Thể thao');
  assert.equal(await form.getByLabel('Mã phương án 5').inputValue(), 'the-thao');
  await form.getByLabel('Mỗi bạn đọc được chọn tối đa').fill('2');
  await form.getByLabel('Ngày đóng').fill('31/12/2030');
  await form.getByLabel('Giờ đóng').fill('17:45');
  await form.getByLabel('Ai được xem kết quả').selectOption('never');
  await form.getByLabel('Cho phép bạn đọc đổi lựa chọn').check();
  await screenshot(page.locator('#edit-form'), 'admin-edit-form');
  await form.getByRole('button', { name: 'Lưu thay đổi' }).click();
  await until(() => document.getElementById('status').textContent === 'Đã lưu thay đổi.');

  let p = await admin('GET', '/polls/chu-de');
  assert.equal(p.question, 'Bạn muốn đọc thêm về lĩnh vực nào?');
  assert.deepEqual(p.options, [
    { id: 'a', label: 'Giáo dục - Đào tạo' }, { id: 'c', label: 'Giao thông' }, { id: 'b', label: 'Y tế' }, { id: 'the-thao', label: 'Thể thao' },
  ]);
  assert.equal(p.max_choices, 2);
  assert.equal(p.opens_at, null);
  assert.equal(p.closes_at, '2030-12-31T17:45:00+07:00');
  assert.equal(p.results_visibility, 'never');
  assert.equal(p.allow_change, true);
  assert.equal(p.version, 2);

  // "b" has two votes: the service refuses; its message is shown next to "b".
  await form.getByRole('button', { name: 'Bỏ phương án 3' }).click();
  await form.getByRole('button', { name: 'Lưu thay đổi' }).click();
  const note = row('b').locator('.orow');
  await note.waitFor();
  assert.equal(await note.textContent(), 'Không bỏ được phương án này vì đã có người bình chọn. Hãy bấm “Hoàn tác” để giữ lại.');
  assert.match(await page.locator('#x-error').textContent(), /đã có người bình chọn/);
  p = await admin('GET', '/polls/chu-de');
  assert.ok(p.options.some((o) => o.id === 'b'), 'b kept');
  assert.equal(p.version, 2);
  await row('b').getByRole('button', { name: 'Giữ lại phương án 3' }).click();
  assert.ok(await note.isHidden(), 'the note goes with the undo');
  assert.ok(await page.locator('#x-error').isHidden());

  // Clearing a time sends null; nothing else changes.
  await form.getByLabel('Ngày đóng').fill('');
  await form.getByLabel('Giờ đóng').fill('');
  await form.getByRole('button', { name: 'Lưu thay đổi' }).click();
  await until(() => document.getElementById('status').textContent === 'Đã lưu thay đổi.');
  p = await admin('GET', '/polls/chu-de');
  assert.equal(p.closes_at, null);
  assert.equal(p.version, 3);
  assert.equal(p.options.length, 4);
  await form.getByRole('button', { name: 'Lưu thay đổi' }).click();
  await until(() => document.getElementById('status').textContent === 'Không có thay đổi nào để lưu.');
  assert.equal((await admin('GET', '/polls/chu-de')).version, 3, 'no change, no write');
});

test('two editors: a save made on a version another editor has changed meanwhile is refused, and the other change is kept', async () => {
  await page.goto(`${svc.url}/admin/#poll/hop-thoai`);
  const form = page.locator('#edit-form');
  await form.locator('li.opt').nth(1).waitFor();
  const before0 = await admin('GET', '/polls/hop-thoai');
  // The other editor relabels an option through the API while this form is open.
  const other = before0.options.map((o, i) => (i === 0 ? { ...o, label: 'Sửa bởi biên tập viên khác' } : o));
  await admin('PATCH', '/polls/hop-thoai', { options: other });
  await form.getByLabel('Câu hỏi', { exact: true }).fill('Câu hỏi sửa trên bản cũ');
  await form.getByRole('button', { name: 'Lưu thay đổi' }).click();
  await until(() => /sửa ở nơi khác/.test(document.getElementById('x-error')?.textContent || ''));
  const after = await admin('GET', '/polls/hop-thoai');
  assert.equal(after.version, before0.version + 1, 'only the other editor\'s change was written');
  assert.equal(after.question, before0.question, 'the stale form wrote nothing');
  assert.equal(after.options[0].label, 'Sửa bởi biên tập viên khác', "the other editor's label is kept");
});

test('closing and archiving ask first in the page\'s dialog; cancelling keeps the poll as it was', async () => {
  await page.goto(`${svc.url}/admin/#poll/hop-thoai`);
  const dialog = page.getByRole('dialog');
  const close = page.locator('#b-close');
  await page.getByRole('button', { name: 'Đóng bình chọn' }).waitFor();
  await close.click();
  await dialog.waitFor();
  assert.equal(await page.locator('#cf-title').textContent(), 'Đóng bình chọn?');
  assert.match(await page.locator('#cf-text').textContent(), /không bình chọn được nữa/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'cf-cancel', 'Cancel is the default');
  await screenshot(page, 'admin-confirm');
  await dialog.getByRole('button', { name: 'Huỷ' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await admin('GET', '/polls/hop-thoai')).status, 'open', 'cancel keeps it open');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'b-close', 'focus back on the button');
  await close.click();
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await admin('GET', '/polls/hop-thoai')).status, 'open', 'Escape keeps it open');
  await close.click();
  await dialog.getByRole('button', { name: 'Đóng bình chọn' }).click();
  await page.getByRole('button', { name: 'Mở lại bình chọn' }).waitFor();
  assert.equal((await admin('GET', '/polls/hop-thoai')).status, 'closed');
  await page.getByRole('button', { name: 'Mở lại bình chọn' }).click(); // reopening does not ask
  await page.getByRole('button', { name: 'Đóng bình chọn' }).waitFor();
  assert.equal((await admin('GET', '/polls/hop-thoai')).status, 'open');

  await page.locator('#b-archive').click();
  await dialog.waitFor();
  assert.equal(await page.locator('#cf-title').textContent(), 'Lưu trữ cuộc thăm dò?');
  await dialog.getByRole('button', { name: 'Huỷ' }).click();
  assert.equal((await admin('GET', '/polls/hop-thoai')).archived, false, 'cancel keeps it public');
  await page.locator('#b-archive').click();
  await dialog.getByRole('button', { name: 'Lưu trữ' }).click();
  await page.getByRole('button', { name: 'Khôi phục' }).waitFor();
  assert.equal((await admin('GET', '/polls/hop-thoai')).archived, true);
  assert.equal((await request(svc.url, 'GET', '/api/v1/polls/hop-thoai')).status, 404, 'gone from the public site');
  await page.getByRole('button', { name: 'Khôi phục' }).click();
  await page.getByRole('button', { name: 'Lưu trữ' }).waitFor();
  assert.equal((await admin('GET', '/polls/hop-thoai')).archived, false);
  assert.deepEqual(problems, []);
});
