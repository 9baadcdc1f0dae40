/* widget.js - the thamdo poll and visitor counter widgets: each [data-thamdo-poll] and
 * [data-thamdo-visits] element in a shadow root, voting and counting through the JSON API with
 * the reader's cookie. Never trusts the host page: the reader's state comes from the API, texts
 * go in as textContent; shown results follow the poll live (EventSource). Plain ES2018, one global
 * (window.__thamdo). Served with web/vendor/sha256.js in place of its include line (below), under
 * 14.25 KiB gzipped (the proof-of-work solver is about 4.5 KiB of it, its SHA-256 and the SHA-256's
 * licence 3.4 KiB). */
(() => {
  'use strict';

  const script = document.currentScript;
  const SCRIPT_ORIGIN = script && script.src ? new URL(script.src).origin : '';
  const TIMEOUT_MS = 15000;

  const TEXTS = {
    vi: {
      loading: 'Đang tải cuộc thăm dò…',
      vote: 'Bình chọn',
      sending: 'Đang gửi…',
      verifying: 'Đang xác minh…',
      see: 'Xem kết quả',
      back: 'Quay lại bình chọn',
      max: (n) => `Chọn tối đa ${n} phương án.`,
      votes: (s) => `${s} phiếu`,
      total: (s) => `Tổng: ${s} phiếu`,
      voters: (s) => `${s} người bình chọn`,
      mine: 'Bạn đã chọn',
      thanks: 'Cảm ơn bạn đã tham gia bình chọn!',
      later: 'Kết quả sẽ được công bố sau.',
      closed: 'Cuộc thăm dò đã kết thúc.',
      upcoming: 'Cuộc thăm dò chưa bắt đầu.',
      recorded: 'Đã ghi nhận bình chọn của bạn.',
      changed: 'Đã cập nhật lựa chọn của bạn.',
      change: 'Thay đổi lựa chọn',
      counter: ['Hôm nay', 'Hôm qua', 'Tuần này', 'Tháng này', 'Tất cả', 'Đang truy cập'],
      counterFailed: 'Chưa tải được số lượt truy cập.',
      counterRefused: 'Bộ đếm truy cập không hiển thị được trên trang này.',
      unknownSite: (s) => `Không tìm thấy trang '${s}' trong cấu hình bộ đếm.`,
      counting: 'Đang tải…',
      retry: 'Thử lại',
      retrying: 'Đang thử lại…',
      err: {
        already_voted: 'Bạn đã bình chọn trong cuộc thăm dò này.',
        too_many_options: (n) => `Bạn chỉ được chọn tối đa ${n} phương án.`,
        no_option: 'Vui lòng chọn một phương án.',
        invalid_option: 'Phương án đã chọn không còn trong cuộc thăm dò. Vui lòng tải lại trang.',
        poll_not_found: 'Không tìm thấy cuộc thăm dò.',
        empty: 'Hiện chưa có cuộc thăm dò nào.',
        poll_closed: 'Cuộc thăm dò đã kết thúc trước khi phiếu của bạn được gửi; phiếu chưa được tính.',
        origin_not_allowed: 'Cuộc thăm dò không hiển thị được trên trang này.',
        busy: 'Hệ thống đang bận, vui lòng thử lại sau ít phút.',
        rate_limited: (m) => `Có quá nhiều phiếu bình chọn từ mạng của bạn. Vui lòng thử lại sau ${m ? `${m} phút` : 'ít phút'}.`,
        other: 'Không gửi được bình chọn. Vui lòng tải lại trang và thử lại.',
      },
    },
    en: {
      loading: 'Loading the poll…',
      vote: 'Vote',
      sending: 'Sending…',
      verifying: 'Verifying…',
      see: 'See results',
      back: 'Back to the poll',
      max: (n) => `Choose up to ${n} options.`,
      votes: (s, n) => `${s} vote${n === 1 ? '' : 's'}`,
      total: (s, n) => `Total: ${s} vote${n === 1 ? '' : 's'}`,
      voters: (s, n) => `${s} voter${n === 1 ? '' : 's'}`,
      mine: 'Your choice',
      thanks: 'Thank you for voting!',
      later: 'The results will be published later.',
      closed: 'This poll is closed.',
      upcoming: 'This poll has not opened yet.',
      recorded: 'Your vote has been recorded.',
      changed: 'Your vote has been changed.',
      change: 'Change my vote',
      counter: ['Today', 'Yesterday', 'This week', 'This month', 'Total', 'Online now'],
      counterFailed: 'The visitor counter could not be loaded.',
      counterRefused: 'The visitor counter cannot be shown on this page.',
      unknownSite: (s) => `Unknown counter site '${s}'.`,
      counting: 'Loading…',
      retry: 'Try again',
      retrying: 'Trying again…',
      err: {
        already_voted: 'You have already voted in this poll.',
        too_many_options: (n) => `You can choose at most ${n} options.`,
        no_option: 'Please choose an option.',
        invalid_option: 'The option you chose is no longer in this poll. Please reload the page.',
        poll_not_found: 'Poll not found.',
        empty: 'There is no open poll right now.',
        poll_closed: 'This poll closed before your vote arrived; your vote was not counted.',
        origin_not_allowed: 'This poll cannot be shown on this page.',
        busy: 'The service is busy. Please try again in a few minutes.',
        rate_limited: (m, n) => `Too many votes came from your network. Please try again in ${m ? `${m} minute${n === 1 ? '' : 's'}` : 'a few minutes'}.`,
        other: 'Your vote could not be sent. Please reload the page and try again.',
      },
    },
  };

  // Contrast on white: text 14.7:1, muted 6.4:1, accent 8.2:1, error 7.4:1.
  const CSS = `
:host{display:block;color:var(--thamdo-text,#1f2933);font-family:var(--thamdo-font,inherit);
--a:var(--thamdo-accent,#0b5394);--at:var(--thamdo-accent-text,#fff);
--m:var(--thamdo-muted,#52606d);--r:var(--thamdo-radius,6px)}
:host([hidden]),[hidden]{display:none!important}
.w{background:var(--thamdo-bg,#fff);border-radius:var(--r);padding:.75em;line-height:1.45;overflow-wrap:anywhere}
.w[aria-busy=true]{cursor:progress}
fieldset{border:0;margin:0;padding:0;min-width:0}
legend,.q{font-weight:700;padding:0;margin:0 0 .5em}
p{margin:0 0 .5em}
.m{color:var(--m)}
.opt{display:flex;align-items:flex-start;gap:.6em;padding:.5em;margin:0 -.5em;border-radius:var(--r);cursor:pointer;min-height:44px;box-sizing:border-box}
.opt:hover{background:rgba(11,83,148,.07)}
.opt.off{color:var(--m);cursor:not-allowed}
input{flex:none;width:1.2em;height:1.2em;margin:.15em 0 0;accent-color:var(--a)}
.act{display:flex;flex-wrap:wrap;gap:.5em;margin-top:.75em}
button{font:inherit;min-height:44px;padding:.45em 1em;border-radius:var(--r);border:2px solid var(--a);cursor:pointer;background:var(--a);color:var(--at);font-weight:700}
button.s{background:transparent;color:var(--a)}
button[aria-disabled]{opacity:.75;cursor:progress}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
[tabindex="-1"]:focus{outline:none}
ul{list-style:none;margin:0 0 .5em;padding:0}
li{margin:0 0 .75em}
.top{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 .6em;margin-bottom:.2em}
.tag{color:var(--a);font-weight:700}
.me .top>span:first-child{font-weight:700}
.n{margin-left:auto;color:var(--m);font-size:.93em;white-space:nowrap}
.bar{height:.8em;background:#dde3ea;border-radius:.4em;overflow:hidden}
.bar span{display:block;height:100%;background:var(--a)}
.tot,.thx{font-weight:700}
.msg{margin:.6em 0 0}
.msg:empty{margin:0}
.msg~button{margin-top:.5em}
.err{color:#a61b1b;font-weight:700}
dl{display:grid;grid-template-columns:1fr auto;gap:.3em 1em;margin:0}
dd{margin:0;text-align:right;font-weight:700;font-variant-numeric:tabular-nums}
.ok{color:#1e6b34;font-weight:700}
@media (forced-colors:active){.bar{border:1px solid CanvasText}.bar span{background:CanvasText}}
`;

  let sheet = null; // shared by every widget
  function addStyle(root) {
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      const style = document.createElement('style'); // older browsers
      style.textContent = CSS;
      root.append(style);
    }
  }

  /** h('p', {class: 'm'}, 'text', node, [nodes]): an element; null/false kids are skipped. */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    const add = (kid) => {
      if (Array.isArray(kid)) kid.forEach(add);
      else if (kid != null && kid !== false) el.append(kid);
    };
    kids.forEach(add);
    return el;
  }

  // One voter id per reader: parallel answers would each set another id, so requests wait for
  // the first answer that may set it (or its failure). Shared by every copy of widget.js.
  let shared = window.__thamdo;
  if (!shared || shared.v !== 1) {
    shared = { v: 1, open: false, first: null, told: {} };
    if (!window.__thamdo) window.__thamdo = shared; // another version's is left alone
  }

  /** console.error of a setup mistake, once a page. */
  function tell(text) {
    if (!shared.told[text]) console.error(`thamdo: ${text}`);
    shared.told[text] = 1;
  }

  /** Resolves once no first answer that may set the cookie is awaited. */
  async function gate() {
    while (!shared.open && shared.first) await shared.first;
  }

  /** An API request: {status, data, retry (Retry-After)} (status 0: no answer); mints: its answer
   *  may set the cookie; proof: an X-Thamdo-Proof header. */
  async function api(base, method, path, body, mints, proof) {
    // Inline, not gate(): with nothing to wait for, the first request claims the gate in this tick.
    while (!shared.open && shared.first) await shared.first;
    if (shared.open || !mints) return send(base, method, path, body, proof);
    let done;
    let r = { status: 0 };
    shared.first = new Promise((resolve) => { done = resolve; });
    try {
      r = await send(base, method, path, body, proof);
      return r;
    } finally {
      // Any answer may have set the cookie: all may go. No answer set none: the next goes alone.
      shared.open = r.status > 0;
      shared.first = null;
      done();
    }
  }

  async function send(base, method, path, body, proof) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch(base + path, {
        method,
        credentials: 'include',
        signal: ctl.signal,
        headers: body ? { 'Content-Type': 'application/json', ...(proof ? { 'X-Thamdo-Proof': proof } : {}) } : {},
        body: body ? JSON.stringify(body) : null,
      });
      return { status: res.status, retry: res.headers.get('Retry-After'), data: await res.json().catch(() => null) };
    } catch (e) {
      return { status: 0, data: null };
    } finally {
      clearTimeout(timer);
    }
  }

  const sameSet = (a, b) => Array.isArray(a) && a.length === b.length && b.every((x) => a.indexOf(x) >= 0);

  /** The error code of a failed answer; 'busy' when trying again later may help. */
  function errorCode(r) {
    const c = r.data && r.data.error && r.data.error.code;
    if (r.status === 429 && (c === 'rate_limited' || (c === 'challenge_required' && r.data.challenge))) return c;
    if (!r.status || r.status >= 500 || r.status === 429) return 'busy';
    return c || 'other';
  }

  // The SHA-256 of @noble/hashes, nobleSha256() (its class _SHA256): web/vendor/sha256.js, put in
  // place of the next line by the build (build/gen/widget.js), with the package's licence.
  /* @include web/vendor/sha256.js */

  // Proof of work (a vote past the soft rate limit): the smallest decimal answer n, counting from
  // 0, such that SHA-256(token ":" n) starts with `bits` zero bits; '' once Date.now() passes
  // until. SHA256: the class of nobleSha256(). The state after token ":" is computed once and
  // copied for each answer, whose ASCII digits are counted up in place; 1024 answers a batch,
  // pause() after about 15 ms of them on the page's thread. Self-contained: it is also the
  // Worker's source (Function.prototype.toString).
  async function powFind(SHA256, token, bits, until, pause) {
    const prefix = new SHA256().update(new TextEncoder().encode(`${token}:`));
    const h = new SHA256();
    const out = new Uint8Array(32);
    const digits = new Uint8Array(20); // n in ASCII, its first len bytes
    const views = [];
    for (let k = 0; k <= 20; k++) views.push(digits.subarray(0, k));
    digits[0] = 48;
    let len = 1;
    let n = 0;
    let slice = Date.now();
    while (Date.now() < until) {
      for (const end = n + 1024; n < end; n++) {
        prefix._cloneInto(h).update(views[len]).digestInto(out);
        let j = 0;
        while (j < 32 && !out[j]) j++;
        if (j * 8 + (j < 32 ? Math.clz32(out[j]) - 24 : 0) >= bits) return String(n);
        let i = len - 1; // n + 1
        while (i >= 0 && digits[i] === 57) digits[i--] = 48;
        if (i >= 0) digits[i]++;
        else {
          digits[0] = 49;
          digits[len++] = 48;
        }
      }
      if (pause && Date.now() - slice >= 15) {
        await pause();
        slice = Date.now();
      }
    }
    return '';
  }

  /** Solves a challenge in a Worker made from a blob URL, or on the page's thread in slices when
   *  no Worker can be made (a CSP without blob: workers). The answer; '' when until (ms) came
   *  first (or the search failed). Needs no Web Crypto: a page on plain http solves it too. */
  function solve(token, bits, until) {
    const onPage = () => powFind(nobleSha256(), token, bits, until, () => new Promise((r) => setTimeout(r, 0))).catch(() => '');
    let url = '';
    let w;
    try {
      url = URL.createObjectURL(new Blob([`${nobleSha256}\nonmessage=(e)=>(${powFind})(nobleSha256(),...e.data).then(postMessage,()=>postMessage(null))`], { type: 'text/javascript' }));
      w = new Worker(url);
    } catch (e) {
      URL.revokeObjectURL(url);
      return onPage();
    }
    return new Promise((resolve) => {
      const end = (answer) => {
        w.terminate();
        URL.revokeObjectURL(url);
        if (answer == null) onPage().then(resolve); // the Worker could not: the page tries
        else resolve(answer);
      };
      w.onmessage = (e) => end(e.data);
      w.onerror = (e) => {
        e.preventDefault();
        end(null);
      };
      w.postMessage([token, bits, until]);
    });
  }
  shared.pow = solve; // for the measurements (tests/browser/pow-bench.mjs)

  /** el's shadow root: {T texts, wrap, nf, pf (percent) formats, base URL}; null if it had one. */
  function setup(el) {
    let root;
    try {
      root = el.attachShadow({ mode: 'open' });
    } catch (e) {
      return null;
    }
    addStyle(root);
    const lang = /^en\b/i.test(el.getAttribute('data-lang') || '') ? 'en' : 'vi';
    const T = TEXTS[lang];
    const wrap = h('div', { class: 'w', lang });
    root.append(wrap);
    return {
      T,
      wrap,
      nf: new Intl.NumberFormat(lang),
      pf: new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }),
      base: (el.getAttribute('data-thamdo-base') || SCRIPT_ORIGIN || location.origin).replace(/\/+$/, ''),
    };
  }

  const refused = (base) => tell(`${base} refuses this page: add ${location.origin} to its THAMDO_ALLOWED_ORIGINS.`);

  // A poll: loading -> form, or results (voted, closed, upcoming); messages in one aria-live
  // region, with Retry when the service failed.
  function mount(el) {
    const ui = setup(el);
    if (!ui) return;
    const { T, wrap, nf, pf, base } = ui;
    const id = el.getAttribute('data-thamdo-poll') || '';
    let path = '';

    const view = h('div', null, h('p', { class: 'm' }, T.loading));
    const msg = h('p', { class: 'msg', 'aria-live': 'polite' });
    const button = (text, onclick) => h('button', { type: 'button', class: 's', onclick }, text);
    const retry = button(T.retry, onRetry);
    retry.hidden = true;
    wrap.append(view, msg, retry);

    let poll = null; // the GET answer, updated by votes
    let form = null;
    let inputs = [];
    let submit = null;
    let busy = false;
    let again = null; // what Retry repeats
    let unsure = false; // a vote failed on the way: it may have been counted

    let shown = view;
    /** Replaces the view, clears message and Retry; focus follows if it was in the widget. */
    function replaceView(node, target) {
      const hadFocus = !!wrap.getRootNode().activeElement;
      wrap.replaceChild(node, shown);
      shown = node;
      if (hadFocus) (target || node).focus();
      say('');
      retry.hidden = true;
    }

    let sayTimer = 0;
    /** Shows and announces a message (kind 'err', 'ok', 'm'); '' clears it. */
    function say(text, kind) {
      clearTimeout(sayTimer);
      msg.textContent = ''; // so that the same text is announced again
      msg.className = kind ? `msg ${kind}` : 'msg';
      if (text) sayTimer = setTimeout(() => { msg.textContent = text; }, 60);
    }

    /** Says what failed; Retry (repeats action) only if the service was busy or limited (wait:
     *  Retry-After, seconds). */
    function fail(code, action, wait) {
      const e = T.err;
      const calm = code === 'origin_not_allowed' || code === 'empty';
      view.textContent = '';
      if (code === 'origin_not_allowed') {
        refused(base);
        replaceView(h('div'));
      }
      const m = wait > 0 ? Math.ceil(wait / 60) : 0;
      say(code === 'too_many_options' ? e.too_many_options(nf.format(poll.max_choices))
        : code === 'rate_limited' ? e.rate_limited(m && nf.format(m), m) : e[code] || e.other, calm ? 'm' : 'err');
      again = code === 'busy' || code === 'rate_limited' ? action : null;
      retry.hidden = !again;
    }

    async function onRetry() {
      if (busy || !again) return;
      retry.setAttribute('aria-disabled', 'true');
      retry.textContent = T.retrying;
      await again();
      retry.removeAttribute('aria-disabled');
      retry.textContent = T.retry;
    }

    async function call(method, p, body, mints, proof) {
      busy = true;
      wrap.setAttribute('aria-busy', 'true');
      const r = await api(base, method, p, body, mints, proof);
      busy = false;
      wrap.setAttribute('aria-busy', 'false');
      return r;
    }

    /** data-thamdo-poll="latest": the newest open poll. */
    async function findLatest() {
      const r = await call('GET', '/api/v1/polls?status=open&limit=1');
      const list = r.status === 200 && r.data && r.data.polls;
      if (list && list[0]) start(list[0].id);
      else fail(list ? 'empty' : errorCode(r), findLatest);
    }

    function start(pollId) {
      path = `/api/v1/polls/${pollId}`;
      return load();
    }

    /** Loads the poll and shows it; note: what happened to a vote (the results are shown). */
    async function load(note) {
      const r = await call('GET', path, null, true);
      if (r.status === 200 && r.data && Array.isArray(r.data.options)) {
        poll = r.data;
        if (poll.voted || poll.status !== 'open' || note) showResults(false, note, 'err');
        else showForm();
      } else {
        fail(errorCode(r), load);
      }
    }

    function showForm() {
      if (!form) form = buildForm();
      if (poll.voted) {
        // allow_change: start from the recorded choice
        inputs.forEach((i) => { i.checked = (poll.choice || []).indexOf(i.value) >= 0; });
        form.dispatchEvent(new Event('change'));
      }
      replaceView(form, inputs.find((i) => i.checked) || inputs[0]);
    }

    function buildForm() {
      const max = poll.max_choices || 1;
      const multi = max > 1;
      inputs = poll.options.map((o) => h('input', { type: multi ? 'checkbox' : 'radio', name: 'option', value: o.id }));
      const labels = poll.options.map((o, i) => h('label', { class: 'opt' }, inputs[i], h('span', null, o.label)));
      const limit = () => {
        const full = inputs.filter((i) => i.checked).length >= max;
        inputs.forEach((i) => {
          i.disabled = full && !i.checked;
          i.parentNode.classList.toggle('off', i.disabled);
        });
      };
      submit = h('button', { type: 'submit' }, T.vote);
      const onsubmit = (ev) => {
        ev.preventDefault();
        sendChoice();
      };
      return h('form', { novalidate: true, tabindex: '-1', onsubmit, onchange: multi ? limit : null },
        h('fieldset', { 'aria-describedby': multi ? 'hint' : null },
          h('legend', null, poll.question),
          multi ? h('p', { class: 'm', id: 'hint' }, T.max(nf.format(max))) : null,
          labels),
        h('div', { class: 'act' },
          submit,
          poll.results ? button(T.see, () => showResults(true)) : null));
    }

    /** Sends what is checked now (Retry comes back here). */
    function sendChoice() {
      if (busy) return undefined;
      const chosen = inputs.filter((i) => i.checked).map((i) => i.value);
      if (!chosen.length) {
        fail('no_option');
        inputs[0].focus();
        return undefined;
      }
      return vote(chosen);
    }

    async function vote(chosen) {
      say(''); // Retry stays, disabled, with its focus
      submit.setAttribute('aria-disabled', 'true');
      submit.textContent = T.sending;
      const body = { options: chosen };
      let r = await call('POST', `${path}/votes`, body, true);
      // Past the soft rate limit: solve the challenge, then the same vote with its proof (again
      // with a fresh challenge when that one expired or the rate rose meanwhile, a few times).
      for (let round = 0; round < 3 && errorCode(r) === 'challenge_required'; round++) {
        const c = r.data.challenge;
        submit.textContent = T.verifying;
        say(T.verifying, 'm');
        busy = true;
        wrap.setAttribute('aria-busy', 'true');
        // Until the challenge expires (10 s at least, whatever this computer's clock says).
        const left = Math.min(600, Math.max(10, c.expires_at - Date.now() / 1000 || 120));
        const answer = await solve(String(c.token), Number(c.difficulty), Date.now() + 1000 * left);
        r = answer ? await call('POST', `${path}/votes`, body, true, `${c.token}:${answer}`) : { status: 0 };
      }
      busy = false;
      wrap.setAttribute('aria-busy', 'false');
      submit.removeAttribute('aria-disabled');
      submit.textContent = T.vote;
      let code = r.status === 200 || r.status === 201 ? (r.data ? 'ok' : 'busy') : errorCode(r);
      if (code === 'challenge_required') code = 'busy';
      if (code === 'already_voted' && r.data && unsure && sameSet(r.data.choice, chosen)) {
        code = 'ok'; // the attempt that seemed to fail was counted
      }
      if (code === 'ok' || (code === 'already_voted' && r.data)) {
        poll.voted = true;
        poll.choice = r.data.choice || chosen;
        poll.results = r.data.results || null;
        if (code === 'ok') showResults(false, r.data.changed ? T.changed : T.recorded, 'ok');
        else showResults(false, T.err.already_voted, 'err');
      } else if (code === 'busy' || code === 'rate_limited') {
        unsure = unsure || code === 'busy';
        fail(code, sendChoice, Number(r.retry));
      } else if (code === 'poll_closed' || code === 'poll_not_open') {
        load(T.err[code]);
      } else {
        fail(code); // no Retry: the choice or the page must change
      }
    }

    /** The results; peek: from "Xem kết quả", with a way back; note: what happened (not the thanks). */
    function showResults(peek, note, kind) {
      const res = poll.results;
      const mine = poll.choice || [];
      const status = poll.status === 'closed' ? T.closed : poll.status === 'upcoming' ? T.upcoming : '';
      const chosenLabels = poll.options.filter((o) => mine.indexOf(o.id) >= 0).map((o) => o.label);
      const back = peek ? T.back : poll.voted && poll.allow_change && poll.status === 'open' ? T.change : '';
      stat = h('p', { hidden: !status }, status);
      box = h('div', null, res ? bars(res, mine) : null);
      replaceView(h('div', { tabindex: '-1' },
        h('p', { class: 'q' }, poll.question),
        stat,
        box,
        !res && poll.voted ? h('p', { class: 'm' }, T.later) : null,
        !res && chosenLabels.length ? h('p', null, `✓ ${T.mine}: ${chosenLabels.join(', ')}`) : null,
        poll.voted && !note ? h('p', { class: 'thx' }, T.thanks) : null,
        back ? h('div', { class: 'act' }, button(back, showForm)) : null));
      if (note) say(note, kind);
      if (res) live();
    }

    // Live results while they are shown: one EventSource (never before the cookie gate), closed
    // when the widget leaves the page or the page stays hidden a minute, reopened when visible;
    // failures retried a few times with growing delays, then the results stay as they are.
    let es = null;
    let box = null;
    let stat = null;
    let tries = 0;
    let wanted = false;
    let hiddenTimer = 0;
    let retryTimer = 0;
    function stopLive() {
      if (es && es.close) es.close();
      es = null;
    }
    async function live() {
      if (!window.EventSource || es || tries >= LIVE_TRIES || !el.isConnected || document.hidden || poll.status !== 'open') return;
      wanted = true;
      es = 1; // taken while the gate is awaited
      await gate();
      if (es !== 1) return;
      const src = new EventSource(`${base}${path}/events`, { withCredentials: true });
      const opened = Date.now();
      es = src;
      src.addEventListener('results', (ev) => {
        const res = JSON.parse(ev.data);
        poll.results = res;
        if (box && box.isConnected) box.replaceChildren(...bars(res, poll.choice || []));
      });
      src.addEventListener('closed', () => {
        wanted = false;
        stopLive();
        poll.status = 'closed';
        if (stat && stat.isConnected) {
          stat.textContent = T.closed;
          stat.hidden = false;
        }
      });
      src.onerror = () => {
        if (es !== src) return;
        stopLive();
        if (Date.now() - opened > 30000) tries = 0; // it worked a while: start again
        clearTimeout(retryTimer);
        if (++tries < LIVE_TRIES) retryTimer = setTimeout(live, 1000 * 2 ** tries * (0.5 + Math.random() / 2));
      };
    }
    const onVisibility = () => {
      clearTimeout(hiddenTimer);
      if (document.hidden) hiddenTimer = setTimeout(stopLive, HIDDEN_MS);
      else if (wanted) live();
    };
    const check = () => {
      if (!el.isConnected) {
        wanted = false;
        stopLive();
        lives.delete(check);
        document.removeEventListener('visibilitychange', onVisibility);
      }
    };
    lives.add(check);
    document.addEventListener('visibilitychange', onVisibility);

    function bars(res, mine) {
      const total = T.total(nf.format(res.total), res.total);
      return [
        h('ul', null, res.options.map((o) => {
          const me = mine.indexOf(o.id) >= 0;
          const count = `${T.votes(nf.format(o.votes), o.votes)} (${pf.format(o.percent)}%)`;
          const fill = h('span');
          fill.style.width = `${Math.max(0, Math.min(100, o.percent))}%`;
          return h('li', { class: me ? 'me' : null },
            h('div', { class: 'top', 'aria-hidden': 'true' },
              h('span', null, o.label),
              me ? h('span', { class: 'tag' }, `✓ ${T.mine}`) : null,
              h('span', { class: 'n' }, count)),
            h('div', { class: 'bar', role: 'img', 'aria-label': `${o.label}: ${count}${me ? ` - ${T.mine}` : ''}` }, fill));
        })),
        h('p', { class: 'tot' }, poll.max_choices > 1 ? `${total} · ${T.voters(nf.format(res.voters), res.voters)}` : total),
      ];
    }

    if (id === 'latest') findLatest();
    else if (/^[a-z0-9-]{1,64}$/.test(id)) start(id);
    else fail('poll_not_found');
  }

  const LIVE_TRIES = 5;
  const HIDDEN_MS = 60000;
  const lives = new Set(); // each poll's check, run when nodes leave the page

  // A counter: records this view, shows the figures, pings while the page is visible.
  const FIGURES = ['today', 'yesterday', 'this_week', 'this_month', 'total', 'online'];
  const PING_MS = 60000;
  const MAX_PINGS = 240; // 4 hours

  function mountCounter(el) {
    const ui = setup(el);
    if (!ui) return;
    const { T, wrap, nf, base } = ui;
    const site = el.getAttribute('data-site');
    const path = `/api/v1/visits${site ? `?site=${encodeURIComponent(site)}` : ''}`;
    const show = (kid) => {
      wrap.textContent = '';
      wrap.append(kid);
    };
    wrap.setAttribute('aria-busy', 'true');
    show(h('p', { class: 'm' }, T.counting));

    /** POSTs the view (or a ping) and shows the figures it answers (the counter's one request:
     *  they include this view); true if shown. */
    async function post(body, mints) {
      const r = await api(base, 'POST', path, body, mints);
      wrap.setAttribute('aria-busy', 'false');
      const code = errorCode(r);
      const f = r.status === 200 && r.data && r.data.total >= 0 && r.data;
      if (code === 'origin_not_allowed') refused(base);
      if (code === 'unknown_site') tell(`site '${site}' is not in THAMDO_SITES of ${base}.`);
      if (f) {
        show(h('dl', null, T.counter.map((label, i) => [
          h('dt', null, label), h('dd', null, nf.format(Number(f[FIGURES[i]]) || 0))])));
      } else if (!body || !body.ping) {
        const unknown = code === 'unknown_site';
        show(h('p', { class: unknown ? 'err' : 'm' },
          unknown ? T.unknownSite(site) : code === 'origin_not_allowed' ? T.counterRefused : T.counterFailed));
      }
      return !!f;
    }

    // A browser driven by a program is counted as a robot, and does not ping.
    const robot = navigator.webdriver === true;
    post(robot ? { webdriver: true } : null, true).then((ok) => {
      if (!ok || robot) return;
      // A ping a minute while visible; back from hidden, at once if a minute passed.
      let pings = 0;
      let last = Date.now();
      let timer = 0;
      const plan = () => {
        clearTimeout(timer);
        if (pings < MAX_PINGS && document.visibilityState === 'visible') {
          timer = setTimeout(ping, Math.max(0, last + PING_MS - Date.now()));
        }
      };
      const ping = () => {
        pings++;
        last = Date.now();
        plan();
        post({ ping: true });
      };
      document.addEventListener('visibilitychange', plan);
      plan();
    });
  }

  // At load and when added later.
  const mounted = new WeakSet();
  const KINDS = [['data-thamdo-poll', mount], ['data-thamdo-visits', mountCounter]];
  function scan(node) {
    if (node.nodeType !== 1) return;
    for (const [attr, start] of KINDS) {
      const found = Array.from(node.querySelectorAll(`[${attr}]`));
      if (node.hasAttribute(attr)) found.unshift(node);
      for (const el of found) {
        if (!mounted.has(el)) {
          mounted.add(el);
          start(el);
        }
      }
    }
  }
  scan(document.documentElement);
  new MutationObserver((records) => {
    for (const r of records) r.addedNodes.forEach(scan);
    if (records.some((r) => r.removedNodes.length)) lives.forEach((check) => check());
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
