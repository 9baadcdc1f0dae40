/* admin.js - the editors' dashboard behind web/admin.html (/admin/): token login (kept in
 * sessionStorage only), the poll list, creating a poll, closing/archiving/editing one, the
 * results bar chart and the votes-over-time line chart (SVG drawn here, with table
 * alternatives), CSV downloads. Talks to /admin/v1/ only. Plain JS (a module: its own scope), no library. */
const $ = (id) => document.getElementById(id);
const on = (id, ev, fn) => $(id).addEventListener(ev, fn);
const API = new URL('../admin/v1/', location.href).href;
const KEY = 'thamdo-admin-token';
const LKEY = 'thamdo-admin-lang';
const ss = sessionStorage;

// texts
const TEXT = {
  // The other Vietnamese texts are those of admin.html (data-t), read at start.
  vi: {
    tools: 'Công cụ', needToken: 'Hãy dán mã truy cập.',
    badToken: 'Mã truy cập không đúng. Hãy kiểm tra lại rồi thử lần nữa.',
    expired: 'Máy chủ không còn chấp nhận mã truy cập này. Hãy đăng nhập lại.',
    loggedOut: 'Bạn đã đăng xuất.', optLabel: (n) => `Nhãn phương án ${n}`, optId: (n) => `Mã phương án ${n}`,
    remove: 'Xoá', removeN: (n) => `Xoá phương án ${n}`, created: (id) => `Đã tạo cuộc thăm dò “${id}”.`,
    fixFields: 'Một số ô chưa hợp lệ, hãy xem thông báo ngay dưới từng ô.',
    st_open: 'Đang mở', st_upcoming: 'Sắp mở', st_closed: 'Đã đóng', yes: 'Có', no: 'Không',
    close: 'Đóng bình chọn', reopen: 'Mở lại bình chọn', archive: 'Lưu trữ', restore: 'Khôi phục',
    did_close: 'Đã đóng bình chọn.', did_reopen: 'Đã mở lại bình chọn.',
    did_archive: 'Đã lưu trữ: bạn đọc không còn thấy cuộc thăm dò này, các phiếu vẫn được giữ.',
    did_restore: 'Đã khôi phục cuộc thăm dò.', saved: 'Đã lưu thay đổi.',
    labelOf: (id) => `Nhãn của phương án “${id}”`,
    stats: (v, p, d, c) => `${num(v)} phiếu của ${num(p)} người bình chọn; ${num(d)} lần bình chọn lặp bị từ chối; ${num(c)} lần đổi lựa chọn.`,
    span: (a, b) => ` Phiếu đầu tiên: ${a}; phiếu gần nhất: ${b}.`,
    noVotes: 'Chưa có phiếu nào.', nVotes: (n) => `${num(n)} phiếu`,
    barsTitle: 'Số phiếu của từng phương án', lineTitle: 'Số phiếu theo thời gian',
    option: 'Phương án', percent: 'Tỷ lệ', time: 'Thời điểm', downloaded: (n) => `Đã tải ${n}.`,
    maxShort: 'Số lựa chọn tối đa', opens: 'Mở từ', closes: 'Đóng lúc', unset: 'Không đặt',
    visShort: 'Ai xem kết quả', changeShort: 'Đổi lựa chọn', version: 'Phiên bản',
    updated: 'Cập nhật lúc', network: 'Không kết nối được tới máy chủ. Hãy thử lại.',
    err_poll_exists: 'Đã có một cuộc thăm dò với mã này.',
    err_option_has_votes: 'Không thể bỏ một phương án đã có phiếu.',
    err_conflict: 'Cuộc thăm dò vừa được người khác sửa. Hãy làm mới rồi thử lại.',
    err_poll_not_found: 'Không tìm thấy cuộc thăm dò này.',
    err_store_unavailable: 'Kho dữ liệu tạm thời không phản hồi. Hãy thử lại sau giây lát.',
    err_range_too_large: 'Khoảng thời gian quá dài để gom theo giờ; hãy gom theo ngày.',
  },
  en: {
    title: 'Polls – Editors’ dashboard', tools: 'Tools', logout: 'Log out',
    loginTitle: 'Log in', token: 'Access token', login: 'Log in',
    tokenHelp: 'Paste your token. It stays in this browser tab only and is cleared when you log out or close the tab.',
    needToken: 'Please paste your access token.',
    badToken: 'This access token is not valid. Check it and try again.',
    expired: 'The server no longer accepts this token. Please log in again.',
    loggedOut: 'You are logged out.',
    polls: 'Polls', refresh: 'Refresh', newPoll: 'New poll',
    id: 'Id', question: 'Question', state: 'State', archived: 'Archived',
    voters: 'Voters', votes: 'Votes', noPolls: 'There are no polls yet.',
    back: '← Back to the list', pollId: 'Poll id',
    slugHelp: 'Lowercase a–z, digits and hyphens, e.g. election-2026; it cannot be changed later.',
    options: 'Options', optHelp: 'Leave an option id empty to derive it from the label.',
    optLabel: (n) => `Label of option ${n}`, optId: (n) => `Id of option ${n}`,
    remove: 'Remove', removeN: (n) => `Remove option ${n}`, addOption: '+ Add an option',
    maxChoices: 'Maximum choices per reader', opensAt: 'Opens at (optional)',
    closesAt: 'Closes at (optional)', visibility: 'Who can see the results',
    vis_always: 'Everyone, at any time', vis_after_vote: 'Only readers who voted',
    vis_after_close: 'Everyone, once closed', vis_never: 'Not public',
    allowChange: 'Let readers change their choice after voting', create: 'Create the poll',
    created: (id) => `Poll “${id}” created.`,
    fixFields: 'Some fields need fixing: see the notes under them.',
    st_open: 'Open', st_upcoming: 'Upcoming', st_closed: 'Closed', yes: 'Yes', no: 'No',
    close: 'Close voting', reopen: 'Reopen voting', archive: 'Archive', restore: 'Restore',
    did_close: 'Voting closed.', did_reopen: 'Voting reopened.',
    did_archive: 'Archived: hidden from readers, votes kept.',
    did_restore: 'Poll restored.',
    results: 'Results', csvTotals: 'Download CSV', csvSeries: 'Download CSV over time',
    asTable: 'Show as a table', overTime: 'Votes over time', bucket: 'Group by',
    byDay: 'Day', byHour: 'Hour', lines: 'Lines', perOption: 'Each option',
    total: 'Total', edit: 'Edit the question and labels', save: 'Save changes', saved: 'Changes saved.',
    labelOf: (id) => `Label of option “${id}”`,
    stats: (v, p, d, c) => `${pl(v, 'vote')} from ${pl(p, 'voter')}; ${pl(d, 'repeated ballot')} refused; ${pl(c, 'changed choice')}.`,
    span: (a, b) => ` First vote: ${a}; latest vote: ${b}.`,
    noVotes: 'No votes yet.', nVotes: (n) => pl(n, 'vote'),
    barsTitle: 'Votes per option', lineTitle: 'Votes over time',
    option: 'Option', percent: 'Share', time: 'Time', downloaded: (n) => `Downloaded ${n}.`,
    maxShort: 'Maximum choices', opens: 'Opens', closes: 'Closes', unset: 'Not set',
    visShort: 'Results visible to', changeShort: 'Changing a choice', version: 'Version',
    updated: 'Updated', network: 'Could not reach the server. Please try again.',
    err_poll_exists: 'A poll with this id already exists.',
    err_option_has_votes: 'An option that has votes cannot be removed.',
    err_conflict: 'Someone else changed this poll just now. Refresh and try again.',
    err_poll_not_found: 'There is no such poll.',
    err_store_unavailable: 'The data store is not answering; try again soon.',
    err_range_too_large: 'The range is too long for hourly buckets; group by day.',
  },
};
// Vietnamese for the service's field messages (shown as they come in English).
const FIELD_VI = [
  [/64 characters/, 'Chỉ gồm 1–64 ký tự a–z, 0–9 và dấu gạch ngang.'],
  [/repeats the id/, 'Trùng mã với một phương án ở trên.'],
  [/label must be 1/, 'Hãy nhập nhãn (tối đa 500 byte).'],
  [/question must be 1/, 'Hãy nhập câu hỏi (tối đa 500 byte).'],
  [/UTF-8/, 'Có ký tự không hợp lệ.'],
  [/array of 2/, 'Cần từ 2 đến 50 phương án.'],
  [/whole number/, 'Phải là số nguyên từ 1 đến số phương án.'],
  [/RFC 3339/, 'Thời điểm không hợp lệ.'],
  [/later than opens_at/, 'Phải sau thời điểm mở.'],
  [/cannot be changed/, 'Không thể thay đổi; hãy tạo cuộc thăm dò mới.'],
];

for (const e of document.querySelectorAll('[data-t]')) TEXT.vi[e.dataset.t] ??= e.textContent;
let lang = ss.getItem(LKEY) === 'en' ? 'en' : 'vi';
const t = (k, ...a) => { const s = TEXT[lang][k] ?? k; return typeof s === 'function' ? s(...a) : s; };
const locale = () => (lang === 'vi' ? 'vi-VN' : 'en-GB');
const num = (n) => new Intl.NumberFormat(locale()).format(n);
const pl = (n, w) => `${num(n)} ${w}${n === 1 ? '' : 's'}`;
const pct = (p) => new Intl.NumberFormat(locale(), { style: 'percent' }).format(p / 100);
// Times from the service are local wall times with an offset ("2026-11-28T22:05:00+07:00"):
// they are shown as written, in the service's zone, whatever the browser's zone.
const wall = (s, o) => {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(s || '');
  if (!m) return s || '';
  const d = new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5]));
  return new Intl.DateTimeFormat(locale(), { ...o, timeZone: 'UTC' }).format(d);
};
const FULL = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' };
const when = (s) => (s ? wall(s, FULL) : t('unset'));

// DOM helpers
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...kids.filter((x) => x != null));
  return e;
}
function s(tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}
function table(caption, head, rows) {
  return h('table', {}, h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, ...head.map((c, i) => h('th', { class: i ? 'num' : null, text: c })))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h(i ? 'td' : 'th', i ? { class: 'num', text: c } : { scope: 'row', text: c }))))));
}
const COLORS = ['#1f5fa8', '#c2410c', '#15803d', '#a21caf', '#a16207', '#0e7490', '#be123c', '#57534e'];
const color = (i) => COLORS[i % COLORS.length];
const say = (msg) => { $('status').textContent = msg || ''; };
function alertMsg(msg) { const a = $('alert'); a.textContent = msg || ''; a.hidden = !msg; }
const errText = (e) => (e.code && TEXT[lang]['err_' + e.code] ? t('err_' + e.code) : e.message);

// API
let token = ss.getItem(KEY);
async function api(method, path, body, raw) {
  const sent = token;
  const headers = { Authorization: 'Bearer ' + sent };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(API + path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw Object.assign(new Error(t('network')), { status: 0 });
  }
  if (res.status === 401) {
    if (token === sent) logout(t(ss.getItem(KEY) ? 'expired' : 'badToken')); // once for parallel calls
    throw Object.assign(new Error('unauthorized'), { status: 401 });
  }
  if (raw && res.ok) return res;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw Object.assign(new Error(e.message || `HTTP ${res.status}`), { status: res.status, code: e.code, fields: e.fields });
  }
  return data;
}
const polls = (id, rest = '') => 'polls/' + encodeURIComponent(id) + rest;
// Runs fn with btn disabled; shows errors (a 401 is handled by api()).
async function act(btn, fn) {
  if (btn) btn.disabled = true;
  try { await fn(); } catch (e) { if (e.status !== 401) alertMsg(errText(e)); } finally { if (btn) btn.disabled = false; }
}

// views and routing
const cur = { view: null, polls: null, poll: null, res: null, note: '' };
function show(view, focus) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'v-' + view;
  $('logout').hidden = !token;
  if (focus && cur.view !== view) $('h-' + view).focus();
  cur.view = view;
}
function route(focus = true) {
  alertMsg('');
  say(cur.note);
  cur.note = '';
  if (!token) return show('login', focus);
  const m = /^#poll\/([a-z0-9-]{1,64})$/.exec(location.hash);
  if (location.hash === '#new') { show('new', focus); if (!$('f-options').children.length) resetNew(); return; }
  if (m) return openPoll(m[1], focus);
  return openList(focus);
}
function logout(msg) {
  ss.removeItem(KEY);
  token = null;
  Object.assign(cur, { polls: null, poll: null, res: null });
  $('polls').tBodies[0].replaceChildren();
  show('login', true);
  alertMsg(msg);
}

function applyLang() {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
  document.querySelector('nav.tools').setAttribute('aria-label', t('tools'));
  const b = $('lang');
  b.textContent = lang === 'vi' ? 'English' : 'Tiếng Việt';
  b.lang = lang === 'vi' ? 'en' : 'vi';
  renumber();
  for (const l of document.querySelectorAll('label[data-opt]')) l.textContent = t('labelOf', l.dataset.opt);
  if (cur.view === 'list' && cur.polls) renderList();
  if (cur.view === 'poll' && cur.poll) { renderPoll(); if (cur.res) renderResults(); }
}

// login
on('login-form', 'submit', async (ev) => {
  ev.preventDefault();
  const v = $('token').value.trim();
  if (!v) { alertMsg(t('needToken')); $('token').focus(); return; }
  token = v;
  try {
    const data = await api('GET', 'polls');
    ss.setItem(KEY, v);
    $('token').value = '';
    say('');
    alertMsg('');
    cur.polls = data.polls;
    if (location.hash) route(true); else { renderList(); show('list', true); }
  } catch (e) {
    if (e.status !== 401) { token = null; alertMsg(errText(e)); }
    $('token').focus();
  }
});
on('logout', 'click', () => { logout(''); say(t('loggedOut')); });
on('lang', 'click', () => { lang = lang === 'vi' ? 'en' : 'vi'; ss.setItem(LKEY, lang); applyLang(); });

// list
async function openList(focus) {
  show('list', focus);
  await act(null, async () => { cur.polls = (await api('GET', 'polls')).polls; renderList(); });
}
function renderList() {
  const rows = (cur.polls || []).map((p) => h('tr', { class: p.archived ? 'is-archived' : null },
    h('td', {}, h('a', { href: '#poll/' + p.id, text: p.id })),
    h('td', { text: p.question }),
    h('td', {}, h('span', { class: 'badge ' + p.state, text: t('st_' + p.state) })),
    h('td', { text: t(p.archived ? 'yes' : 'no') }),
    h('td', { class: 'num', text: num(p.voters) }),
    h('td', { class: 'num', text: num(p.votes) })));
  $('polls').tBodies[0].replaceChildren(...rows);
  $('empty').hidden = rows.length > 0;
}
on('refresh', 'click', (e) => act(e.currentTarget, async () => {
  cur.polls = (await api('GET', 'polls')).polls; renderList();
}));

// forms: field errors
function clearErrors(form) {
  for (const e of form.querySelectorAll('.ferr')) e.textContent = '';
  for (const e of form.querySelectorAll('.alert')) e.hidden = true;
  for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
}
function fieldErrors(form, prefix, fields, general) {
  let first = null;
  const rest = [];
  for (const f of fields || []) {
    const msg = lang === 'vi' ? (FIELD_VI.find(([re]) => re.test(f.message)) || [0, f.message])[1] : f.message;
    const p = $(prefix + f.path);
    if (!p) { rest.push(`${f.path}: ${msg}`); continue; }
    p.textContent = msg;
    const input = form.elements.namedItem(f.path);
    if (input && input.setAttribute) { input.setAttribute('aria-invalid', 'true'); first = first || input; }
  }
  general.textContent = [t('fixFields'), ...rest].join(' ');
  general.hidden = false;
  (first || general).focus?.();
}
function failed(form, prefix, general, e) {
  if (e.status === 401) return;
  if (e.code === 'validation_failed') fieldErrors(form, prefix, e.fields, general);
  else { general.textContent = errText(e); general.hidden = false; }
}

// create
const slug = (x, max) => x.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd')
  .toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, max).replace(/-+$/, '');
// Fills dst from src until the editor edits dst.
function autoSlug(src, dst, max) {
  src.addEventListener('input', () => { if (dst.dataset.manual !== '1') dst.value = slug(src.value, max); });
  dst.addEventListener('input', () => { dst.dataset.manual = dst.value ? '1' : ''; });
}
let rowSeq = 0;
function addRow(focus) {
  const n = ++rowSeq;
  const label = h('input', { id: 'o-l' + n, required: true, maxlength: 500 });
  const id = h('input', { id: 'o-i' + n, maxlength: 64, autocomplete: 'off', spellcheck: 'false' });
  autoSlug(label, id, 64);
  const li = h('li', {},
    h('div', { class: 'field' }, h('label', { for: label.id }), label, h('p', { class: 'ferr' })),
    h('div', { class: 'field' }, h('label', { for: id.id }), id, h('p', { class: 'ferr' })),
    h('button', { type: 'button', class: 'remove', text: t('remove'), onclick: () => { li.remove(); renumber(); $('add-option').focus(); } }));
  $('f-options').append(li);
  renumber();
  if (focus) label.focus();
}
// Names, labels and error ids follow the row order: options[i].label / options[i].id.
function renumber() {
  const rows = [...$('f-options').children];
  rows.forEach((li, i) => {
    const [fl, fi] = li.querySelectorAll('.field');
    [[fl, 'label', 'optLabel'], [fi, 'id', 'optId']].forEach(([f, key, text]) => {
      const path = `options[${i}].${key}`;
      f.querySelector('label').textContent = t(text, i + 1);
      const input = f.querySelector('input');
      input.name = path;
      const err = f.querySelector('.ferr');
      err.id = 'e-' + path;
      input.setAttribute('aria-describedby', err.id);
    });
    const b = li.querySelector('.remove');
    b.textContent = t('remove');
    b.setAttribute('aria-label', t('removeN', i + 1));
    b.disabled = rows.length <= 2;
  });
}
function resetNew() {
  const f = $('new-form');
  f.reset();
  clearErrors(f);
  $('f-id').dataset.manual = '';
  $('f-options').replaceChildren();
  addRow(); addRow();
}
autoSlug($('f-question'), $('f-id'), 40);
on('add-option', 'click', () => addRow(true));
// A datetime-local value as RFC 3339 with the browser zone's offset at that time (or Z).
function rfc3339(v) {
  const off = -new Date(v).getTimezoneOffset(), a = Math.abs(off), p2 = (x) => String(x).padStart(2, '0');
  if (Number.isNaN(off)) return v;
  return (v.length === 16 ? v + ':00' : v.slice(0, 19)) + (off ? (off > 0 ? '+' : '-') + p2(Math.floor(a / 60)) + ':' + p2(a % 60) : 'Z');
}
on('new-form', 'submit', (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  clearErrors(f);
  const body = {
    id: $('f-id').value.trim(),
    question: $('f-question').value.trim(),
    options: [...$('f-options').children].map((li) => {
      const [l, i] = li.querySelectorAll('input');
      return { id: i.value.trim() || slug(l.value, 64), label: l.value.trim() };
    }),
    results_visibility: $('f-vis').value,
    allow_change: $('f-change').checked,
  };
  const max = $('f-max').value;
  if (max !== '') body.max_choices = Number(max);
  if ($('f-opens').value) body.opens_at = rfc3339($('f-opens').value);
  if ($('f-closes').value) body.closes_at = rfc3339($('f-closes').value);
  act(f.querySelector('[type=submit]'), async () => {
    try {
      const p = await api('POST', 'polls', body);
      resetNew();
      cur.note = t('created', p.id);
      location.hash = '';
    } catch (e) { failed(f, 'e-', $('new-error'), e); }
  });
});

// one poll
const bucket = () => ($('bk-hour').checked ? 'hour' : 'day');
async function openPoll(id, focus) {
  if (!cur.poll || cur.poll.id !== id) {
    cur.poll = null; cur.res = null;
    $('h-poll').textContent = id;
    for (const x of ['meta', 'bars', 'bars-table', 'line', 'legend', 'line-table', 'x-labels', 'stats']) $(x).replaceChildren();
  }
  show('poll', focus);
  await act(null, async () => {
    const [p, r] = await Promise.all([api('GET', polls(id)), api('GET', polls(id, '/results?bucket=' + bucket()))]);
    cur.poll = p; cur.res = r;
    renderPoll(); fillEdit(); renderResults();
  });
}
async function loadResults() {
  cur.res = await api('GET', polls(cur.poll.id, '/results?bucket=' + bucket()));
  renderResults();
}
function renderPoll() {
  const p = cur.poll;
  $('h-poll').textContent = p.question;
  const items = [[t('id'), p.id], [t('state'), t('st_' + p.state)], [t('archived'), t(p.archived ? 'yes' : 'no')],
    [t('opens'), when(p.opens_at)], [t('closes'), when(p.closes_at)], [t('maxShort'), num(p.max_choices)],
    [t('visShort'), t('vis_' + p.results_visibility)], [t('changeShort'), t(p.allow_change ? 'yes' : 'no')],
    [t('voters'), num(p.voters)], [t('votes'), num(p.votes)], [t('version'), num(p.version)], [t('updated'), when(p.updated_at)]];
  $('meta').replaceChildren(...items.map(([k, v]) => h('div', {}, h('dt', { text: k }), h('dd', { text: v }))));
  $('b-close').textContent = t(p.status === 'closed' ? 'reopen' : 'close');
  $('b-archive').textContent = t(p.archived ? 'restore' : 'archive');
}
function change(btn, verb) {
  act(btn, async () => {
    const p = cur.poll;
    cur.poll = await api(verb === 'archive' ? 'DELETE' : 'POST', polls(p.id, verb === 'archive' ? '' : '/' + verb));
    renderPoll();
    say(t('did_' + verb));
  });
}
on('b-close', 'click', (e) => change(e.currentTarget, cur.poll.status === 'closed' ? 'reopen' : 'close'));
on('b-archive', 'click', (e) => change(e.currentTarget, cur.poll.archived ? 'restore' : 'archive'));
on('b-reload', 'click', (e) => act(e.currentTarget, async () => {
  cur.poll = await api('GET', polls(cur.poll.id)); renderPoll(); fillEdit(); await loadResults();
}));
for (const r of document.querySelectorAll('input[name=bucket]')) r.addEventListener('change', () => act(null, loadResults));
for (const r of document.querySelectorAll('input[name=lines]')) r.addEventListener('change', () => cur.res && renderLine());

// edit question and labels
function fillEdit() {
  const f = $('edit-form');
  clearErrors(f);
  $('x-question').value = cur.poll.question;
  $('x-labels').replaceChildren(...cur.poll.options.map((o, i) => {
    const path = `options[${i}].label`;
    return h('div', { class: 'field' },
      h('label', { for: 'x-l' + i, 'data-opt': o.id, text: t('labelOf', o.id) }),
      h('input', { id: 'x-l' + i, name: path, value: o.label, maxlength: 500, 'aria-describedby': 'x-e-' + path }),
      h('p', { class: 'ferr', id: 'x-e-' + path }));
  }));
}
on('edit-form', 'submit', (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  clearErrors(f);
  const body = {
    question: $('x-question').value.trim(),
    options: cur.poll.options.map((o, i) => ({ id: o.id, label: f.elements.namedItem(`options[${i}].label`).value.trim() })),
  };
  act(f.querySelector('[type=submit]'), async () => {
    try {
      cur.poll = await api('PATCH', polls(cur.poll.id), body);
      renderPoll(); fillEdit(); say(t('saved'));
      await loadResults();
    } catch (e) { failed(f, 'x-e-', $('edit-error'), e); }
  });
});

// charts
function renderResults() {
  const r = cur.res;
  let st = t('stats', r.total, r.voters, r.duplicates_refused || 0, r.changes || 0);
  if (r.first_vote_at) st += t('span', when(r.first_vote_at), when(r.last_vote_at));
  $('stats').textContent = st;
  const W = 640, row = 46, max = Math.max(1, ...r.options.map((o) => o.votes));
  const svg = s('svg', { viewBox: `0 0 ${W} ${r.options.length * row + 4}`, role: 'img', class: 'bars',
    'aria-label': t('barsTitle') + ': ' + r.options.map((o) => `${o.label}: ${t('nVotes', o.votes)} (${pct(o.percent)})`).join('; ') });
  r.options.forEach((o, i) => {
    const y = i * row + 4, w = Math.round((o.votes / max) * (W - 130));
    const label = o.label.length > 80 ? o.label.slice(0, 79) + '…' : o.label;
    const text = `${o.label}: ${t('nVotes', o.votes)} (${pct(o.percent)})`;
    const g = s('g', { class: 'bar', 'data-option': o.id, 'data-votes': o.votes });
    g.append(s('title', {}, text), s('text', { x: 0, y: y + 13, class: 'lbl' }, label),
      s('rect', { x: 0, y: y + 19, width: W - 130, height: 18, class: 'track' }),
      s('rect', { x: 0, y: y + 19, width: Math.max(w, o.votes ? 2 : 0), height: 18, fill: color(i) }),
      s('text', { x: Math.max(w, 0) + 6, y: y + 33, class: 'val' }, `${num(o.votes)} · ${pct(o.percent)}`));
    svg.append(g);
  });
  $('bars').replaceChildren(svg);
  $('bars-table').replaceChildren(table(t('barsTitle'), [t('option'), t('votes'), t('percent')],
    [...r.options.map((o) => [o.label, num(o.votes), pct(o.percent)]), [t('total'), num(r.total), pct(r.total ? 100 : 0)]]));
  renderLine();
}
// Integer ticks: steps of 1, 2 or 5 × 10^k, about five.
function ticks(max) {
  const raw = Math.max(1, max / 5), mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * mag).find((x) => x >= raw));
  return { step, top: Math.max(step, Math.ceil(max / step) * step) };
}
function renderLine() {
  const r = cur.res, pts = (r.series && r.series.points) || [], hour = r.series && r.series.bucket === 'hour';
  const series = $('ln-tot').checked
    ? [{ label: t('total'), color: '#222', v: pts.map((p) => p.total) }]
    : r.options.map((o, i) => ({ label: o.label, color: color(i), v: pts.map((p) => (p.votes && p.votes[o.id]) || 0) }));
  const tick = (p) => wall(p.start, hour ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'numeric' });
  const full = (p) => wall(p.start, hour ? FULL : { year: 'numeric', month: '2-digit', day: '2-digit' });
  $('line-table').replaceChildren(table(t('lineTitle'), [t('time'), ...series.map((x) => x.label)],
    pts.map((p, j) => [full(p), ...series.map((x) => num(x.v[j]))])));
  $('legend').replaceChildren(...series.map((x) => h('li', {}, h('span', { class: 'sw', style: 'background:' + x.color }), x.label)));
  if (!pts.length || !r.total) { $('line').replaceChildren(h('p', { class: 'help', text: t('noVotes') })); return; }
  const W = 640, H = 260, L = 48, R = 24, T = 12, B = 44, pw = W - L - R, ph = H - T - B;
  const { step, top } = ticks(Math.max(1, ...series.flatMap((x) => x.v)));
  const X = (j) => (pts.length < 2 ? L + pw / 2 : L + (j * pw) / (pts.length - 1));
  const Y = (v) => T + ph - (v / top) * ph;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'line',
    'aria-label': `${t('lineTitle')} (${t(hour ? 'byHour' : 'byDay').toLowerCase()}): ${full(pts[0])} – ${full(pts[pts.length - 1])}` });
  for (let v = 0; v <= top; v += step) {
    svg.append(s('line', { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: v ? 'grid' : 'axis' }),
      s('text', { x: L - 6, y: Y(v) + 4, class: 'ytick' }, num(v)));
  }
  svg.append(s('line', { x1: L, x2: L, y1: T, y2: T + ph, class: 'axis' }));
  const k = Math.min(pts.length, 6), seen = new Set();
  let lastDay = '';
  for (let i = 0; i < k; i++) {
    const j = k < 2 ? 0 : Math.round((i * (pts.length - 1)) / (k - 1));
    if (seen.has(j)) continue;
    seen.add(j);
    const tx = s('text', { x: X(j), y: T + ph + 16, class: 'xtick' }, tick(pts[j]));
    const day = pts[j].start.slice(0, 10);
    if (hour && day !== lastDay) tx.append(s('tspan', { x: X(j), dy: 14 }, wall(pts[j].start, { day: 'numeric', month: 'numeric' })));
    lastDay = day;
    svg.append(s('line', { x1: X(j), x2: X(j), y1: T + ph, y2: T + ph + 4, class: 'axis' }), tx);
  }
  for (const x of series) {
    const g = s('g', { class: 'series' });
    g.append(s('title', {}, x.label),
      s('polyline', { points: x.v.map((v, j) => `${X(j).toFixed(1)},${Y(v).toFixed(1)}`).join(' '), stroke: x.color }));
    if (pts.length <= 60) x.v.forEach((v, j) => g.append(s('circle', { cx: X(j), cy: Y(v), r: 3, fill: x.color })));
    svg.append(g);
  }
  $('line').replaceChildren(svg);
}

// CSV (fetched with the token, saved as a Blob)
async function download(btn, kind) {
  await act(btn, async () => {
    const q = `/${kind}?format=csv` + (kind === 'series' ? '&bucket=' + bucket() : '') + (lang === 'en' ? '&lang=en' : '');
    const res = await api('GET', polls(cur.poll.id, q), undefined, true);
    const name = (/filename="?([^";]+)/i.exec(res.headers.get('Content-Disposition')) || [0, `${cur.poll.id}-${kind}.csv`])[1];
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    say(t('downloaded', name));
  });
}
on('csv-totals', 'click', (e) => download(e.currentTarget, 'results'));
on('csv-series', 'click', (e) => download(e.currentTarget, 'series'));

// start
window.addEventListener('hashchange', () => route(true));
applyLang();
route(false);
