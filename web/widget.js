/* widget.js - the thamdo poll widget and visitor counter, served as /widget.js.
 *
 * Owns: finding every element with data-thamdo-poll or data-thamdo-visits (at
 * load and when added later), rendering its poll (or counter) in an open shadow root (the CSS below, texts in
 * Vietnamese or, with data-lang="en", English), and voting through the JSON
 * API with the reader's cookie (credentials: 'include'). The reader's state
 * comes only from the API, never from the host page. Every poll text goes in
 * with textContent, never as HTML.
 *
 * Views of one widget: loading -> form (not voted, poll open) or results
 * (voted, or poll closed/upcoming); the form's "Xem kết quả" shows the
 * results with a way back; a poll with allow_change offers "Thay đổi lựa
 * chọn" (change my vote) after voting. A counter records this page view
 * (POST /api/v1/visits, data-site picks the site) and then shows the figures.
 * Messages (errors, "vote recorded") go to one
 * aria-live region under the view; a failure of the service adds a Retry
 * button that repeats the action that failed.
 *
 * Plain ES2018, one IIFE, no globals, no build step; keep it under 8 KiB
 * gzipped (the browser tests check). */
(() => {
  'use strict';

  const script = document.currentScript;
  const SCRIPT_ORIGIN = script && script.src ? new URL(script.src).origin : '';
  const TIMEOUT_MS = 15000; // a slow mobile network, not a dead one

  const TEXTS = {
    vi: {
      loading: 'Đang tải cuộc thăm dò…',
      vote: 'Bình chọn',
      sending: 'Đang gửi…',
      see: 'Xem kết quả',
      back: 'Quay lại bình chọn',
      max: (n) => `Chọn tối đa ${n} phương án.`,
      none: 'Vui lòng chọn một phương án.',
      votes: (s) => `${s} phiếu`,
      total: (s) => `Tổng: ${s} phiếu`,
      mine: 'Bạn đã chọn',
      thanks: 'Cảm ơn bạn đã tham gia bình chọn!',
      later: 'Kết quả sẽ được công bố sau.',
      closed: 'Cuộc thăm dò đã kết thúc.',
      upcoming: 'Cuộc thăm dò chưa bắt đầu.',
      recorded: 'Đã ghi nhận bình chọn của bạn.',
      changed: 'Đã cập nhật lựa chọn của bạn.',
      change: 'Thay đổi lựa chọn',
      counter: [['today', 'Hôm nay'], ['yesterday', 'Hôm qua'], ['this_week', 'Tuần này'],
        ['this_month', 'Tháng này'], ['total', 'Tất cả'], ['online', 'Đang truy cập']],
      counterFailed: 'Chưa tải được số lượt truy cập.',
      counting: 'Đang tải…',
      retry: 'Thử lại',
      retrying: 'Đang thử lại…',
      err: {
        already_voted: 'Bạn đã bình chọn trong cuộc thăm dò này.',
        too_many_options: (n) => `Bạn chỉ được chọn tối đa ${n} phương án.`,
        no_option: 'Vui lòng chọn một phương án.',
        invalid_option: 'Phương án đã chọn không còn trong cuộc thăm dò. Vui lòng tải lại trang.',
        poll_not_found: 'Không tìm thấy cuộc thăm dò.',
        origin_not_allowed: 'Không thể bình chọn từ trang này.',
        busy: 'Hệ thống đang bận, vui lòng thử lại sau ít phút.',
        other: 'Không gửi được bình chọn. Vui lòng tải lại trang và thử lại.',
      },
    },
    en: {
      loading: 'Loading the poll…',
      vote: 'Vote',
      sending: 'Sending…',
      see: 'See results',
      back: 'Back to the poll',
      max: (n) => `Choose up to ${n} options.`,
      none: 'Please choose an option.',
      votes: (s, n) => `${s} ${n === 1 ? 'vote' : 'votes'}`,
      total: (s, n) => `Total: ${s} ${n === 1 ? 'vote' : 'votes'}`,
      mine: 'Your choice',
      thanks: 'Thank you for voting!',
      later: 'The results will be published later.',
      closed: 'This poll is closed.',
      upcoming: 'This poll has not opened yet.',
      recorded: 'Your vote has been recorded.',
      changed: 'Your vote has been changed.',
      change: 'Change my vote',
      counter: [['today', 'Today'], ['yesterday', 'Yesterday'], ['this_week', 'This week'],
        ['this_month', 'This month'], ['total', 'Total'], ['online', 'Online now']],
      counterFailed: 'The visitor counter could not be loaded.',
      counting: 'Loading…',
      retry: 'Try again',
      retrying: 'Trying again…',
      err: {
        already_voted: 'You have already voted in this poll.',
        too_many_options: (n) => `You can choose at most ${n} options.`,
        no_option: 'Please choose an option.',
        invalid_option: 'The option you chose is no longer in this poll. Please reload the page.',
        poll_not_found: 'Poll not found.',
        origin_not_allowed: 'Votes cannot be sent from this page.',
        busy: 'The service is busy. Please try again in a few minutes.',
        other: 'Your vote could not be sent. Please reload the page and try again.',
      },
    },
  };

  // Colours: text #1f2933 and muted #52606d on white are 14.7:1 and 6.4:1,
  // white on the accent #0b5394 is 8.2:1, the error red #a61b1b is 7.4:1.
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

  let sheet = null; // one constructed stylesheet shared by every widget (no CSP trouble)
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

  /** h('p', {class: 'm'}, 'text', child, [children]) - an element; null/false children are skipped. */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    const add = (kid) => {
      if (Array.isArray(kid)) kid.forEach(add);
      else if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
    };
    kids.forEach(add);
    return el;
  }

  /** One request to the API; resolves {status, data} (status 0: network error or timeout). */
  async function api(base, method, path, body) {
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = setTimeout(() => ctl && ctl.abort(), TIMEOUT_MS);
    try {
      const init = { method, credentials: 'include', signal: ctl ? ctl.signal : undefined };
      if (body) {
        init.headers = { 'Content-Type': 'application/json' };
        init.body = JSON.stringify(body);
      }
      const res = await fetch(base + path, init);
      let data = null;
      try {
        data = await res.json();
      } catch (e) {
        // not JSON (a proxy's error page): the status decides
      }
      return { status: res.status, data };
    } catch (e) {
      return { status: 0, data: null };
    } finally {
      clearTimeout(timer);
    }
  }

  const sameSet = (a, b) => Array.isArray(a) && a.length === b.length && b.every((x) => a.indexOf(x) >= 0);

  /** The error code of a failed answer; 'busy' when trying again later may help. */
  function errorCode(r) {
    if (!r.status || r.status >= 500 || r.status === 429) return 'busy';
    return (r.data && r.data.error && r.data.error.code) || 'other';
  }

  // ------------------------------------------------------------ one widget
  function mount(el) {
    let root;
    try {
      root = el.attachShadow({ mode: 'open' });
    } catch (e) {
      return; // already has a shadow root (widget.js loaded twice) or cannot have one
    }
    addStyle(root);
    const id = el.getAttribute('data-thamdo-poll') || '';
    const lang = /^en\b/i.test(el.getAttribute('data-lang') || '') ? 'en' : 'vi';
    const T = TEXTS[lang];
    const nf = new Intl.NumberFormat(lang === 'en' ? 'en-US' : 'vi-VN');
    const base = (el.getAttribute('data-thamdo-base') || SCRIPT_ORIGIN || location.origin).replace(/\/+$/, '');
    const path = `/api/v1/polls/${encodeURIComponent(id)}`;

    const view = h('div', null, h('p', { class: 'm' }, T.loading));
    const msg = h('p', { class: 'msg', 'aria-live': 'polite' });
    const retry = h('button', { type: 'button', class: 's', hidden: true, onclick: onRetry }, T.retry);
    const wrap = h('div', { class: 'w', lang, 'aria-busy': 'true' }, view, msg, retry);
    root.append(wrap);

    let poll = null; // the GET answer, updated by votes
    let form = null; // kept while the reader switches to the results and back
    let inputs = [];
    let submit = null;
    let busy = false;
    let again = null; // the action the Retry button repeats
    let unsure = false; // a vote failed on the way: it may have been counted all the same

    let shown = view; // the element now in the view's place
    /**
     * Replaces the view and clears the message and Retry; moves focus into the new view (or to
     * target) when focus was in the widget, so that keyboard and screen reader users follow.
     */
    function replaceView(node, target) {
      const hadFocus = !!root.activeElement;
      wrap.replaceChild(node, shown);
      shown = node;
      if (hadFocus) (target || node).focus();
      say('');
      retry.hidden = true;
    }

    let sayTimer = 0;
    /** Shows and announces a message (kind 'err' or 'ok'); '' clears it. */
    function say(text, kind) {
      clearTimeout(sayTimer);
      msg.textContent = ''; // emptied first so that the same text is announced again
      msg.className = kind ? `msg ${kind}` : 'msg';
      if (text) sayTimer = setTimeout(() => { msg.textContent = text; }, 60);
    }

    function fail(code, action) {
      const e = T.err;
      const text = code === 'too_many_options' ? e.too_many_options(nf.format(poll.max_choices)) : e[code] || e.other;
      say(text, 'err');
      again = code === 'busy' ? action : null;
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

    async function load() {
      busy = true;
      wrap.setAttribute('aria-busy', 'true');
      const r = await api(base, 'GET', path);
      busy = false;
      wrap.setAttribute('aria-busy', 'false');
      if (r.status === 200 && r.data && Array.isArray(r.data.options)) {
        poll = r.data;
        if (poll.voted || poll.status !== 'open') showResults(false);
        else showForm();
      } else {
        view.textContent = ''; // no "loading" any more; load() runs only while view is shown
        fail(errorCode(r), load);
      }
    }

    function showForm() {
      if (!form) form = buildForm();
      if (poll.voted) {
        // changing a vote (allow_change): start from the recorded choice
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
        // at most max checked: the other boxes are disabled until one is unchecked
        const full = inputs.filter((i) => i.checked).length >= max;
        inputs.forEach((i) => {
          i.disabled = full && !i.checked;
          i.parentNode.classList.toggle('off', i.disabled);
        });
      };
      submit = h('button', { type: 'submit' }, T.vote);
      return h('form', { novalidate: true, tabindex: '-1', onsubmit: onSubmit, onchange: multi ? limit : null },
        h('fieldset', { 'aria-describedby': multi ? 'hint' : null },
          h('legend', null, poll.question),
          multi ? h('p', { class: 'm', id: 'hint' }, T.max(nf.format(max))) : null,
          labels),
        h('div', { class: 'act' },
          submit,
          poll.results ? h('button', { type: 'button', class: 's', onclick: () => showResults(true) }, T.see) : null));
    }

    function onSubmit(ev) {
      ev.preventDefault();
      sendChoice();
    }

    /** Sends what is checked in the form now (Retry comes back here: the choice is kept). */
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
      busy = true;
      say(''); // Retry stays (disabled while it runs) and keeps the focus it may have
      submit.setAttribute('aria-disabled', 'true');
      submit.textContent = T.sending;
      wrap.setAttribute('aria-busy', 'true');
      const r = await api(base, 'POST', `${path}/votes`, { options: chosen });
      busy = false;
      submit.removeAttribute('aria-disabled');
      submit.textContent = T.vote;
      wrap.setAttribute('aria-busy', 'false');
      let code = r.status === 200 || r.status === 201 ? (r.data ? 'ok' : 'busy') : errorCode(r);
      if (code === 'already_voted' && r.data && unsure && sameSet(r.data.choice, chosen)) {
        code = 'ok'; // the attempt that seemed to fail was counted: this is that vote
      }
      if (code === 'ok' || (code === 'already_voted' && r.data)) {
        poll.voted = true;
        poll.choice = r.data.choice || chosen;
        poll.results = r.data.results || null;
        showResults(false);
        if (code === 'ok') say(r.data && r.data.changed ? T.changed : T.recorded, 'ok');
        else say(T.err.already_voted, 'err');
      } else if (code === 'busy') {
        unsure = true;
        fail(code, sendChoice);
      } else if (code === 'poll_closed' || code === 'poll_not_open') {
        poll.status = code === 'poll_closed' ? 'closed' : 'upcoming';
        showResults(false); // the view says so; focus moves there
      } else {
        fail(code); // the reader's choice or the page must change: no Retry
      }
    }

    /** The results view; peek: from the form's "Xem kết quả", with a way back. */
    function showResults(peek) {
      const res = poll.results;
      const mine = poll.choice || [];
      const status = poll.status === 'closed' ? T.closed : poll.status === 'upcoming' ? T.upcoming : '';
      const chosenLabels = poll.options.filter((o) => mine.indexOf(o.id) >= 0).map((o) => o.label);
      const back = peek
        ? h('button', { type: 'button', class: 's', onclick: showForm }, T.back)
        : poll.voted && poll.allow_change && poll.status === 'open'
          ? h('button', { type: 'button', class: 's', onclick: showForm }, T.change)
          : null;
      replaceView(h('div', { tabindex: '-1' },
        h('p', { class: 'q' }, poll.question),
        status ? h('p', null, status) : null,
        res ? bars(res, mine) : null,
        !res && poll.voted ? h('p', { class: 'm' }, T.later) : null,
        !res && chosenLabels.length ? h('p', null, `✓ ${T.mine}: ${chosenLabels.join(', ')}`) : null,
        poll.voted ? h('p', { class: 'thx' }, T.thanks) : null,
        back ? h('div', { class: 'act' }, back) : null));
    }

    function bars(res, mine) {
      return [
        h('ul', null, res.options.map((o) => {
          const me = mine.indexOf(o.id) >= 0;
          const count = `${T.votes(nf.format(o.votes), o.votes)} (${o.percent}%)`;
          const fill = h('span');
          fill.style.width = `${Math.max(0, Math.min(100, o.percent))}%`;
          return h('li', { class: me ? 'me' : null },
            h('div', { class: 'top', 'aria-hidden': 'true' },
              h('span', null, o.label),
              me ? h('span', { class: 'tag' }, `✓ ${T.mine}`) : null,
              h('span', { class: 'n' }, count)),
            h('div', { class: 'bar', role: 'img', 'aria-label': `${o.label}: ${count}${me ? ` - ${T.mine}` : ''}` }, fill));
        })),
        h('p', { class: 'tot' }, T.total(nf.format(res.total), res.total)),
      ];
    }

    if (/^[a-z0-9-]{1,64}$/.test(id)) load();
    else {
      wrap.setAttribute('aria-busy', 'false');
      view.textContent = '';
      say(T.err.poll_not_found, 'err');
    }
  }

  // ------------------------------------------------------------ one counter
  function mountCounter(el) {
    let root;
    try {
      root = el.attachShadow({ mode: 'open' });
    } catch (e) {
      return;
    }
    addStyle(root);
    const lang = /^en\b/i.test(el.getAttribute('data-lang') || '') ? 'en' : 'vi';
    const T = TEXTS[lang];
    const nf = new Intl.NumberFormat(lang === 'en' ? 'en-US' : 'vi-VN');
    const base = (el.getAttribute('data-thamdo-base') || SCRIPT_ORIGIN || location.origin).replace(/\/+$/, '');
    const site = el.getAttribute('data-site');
    const path = `/api/v1/visits${site ? `?site=${encodeURIComponent(site)}` : ''}`;
    const wrap = h('div', { class: 'w', lang, 'aria-busy': 'true' }, h('p', { class: 'm' }, T.counting));
    root.append(wrap);
    (async () => {
      await api(base, 'POST', path); // this page view; the figures below include it
      const r = await api(base, 'GET', path);
      wrap.setAttribute('aria-busy', 'false');
      wrap.textContent = '';
      if (r.status === 200 && r.data) {
        wrap.append(h('dl', null, T.counter.map(([key, label]) => [
          h('dt', null, label), h('dd', null, nf.format(Number(r.data[key]) || 0))])));
      } else {
        wrap.append(h('p', { class: 'm' }, T.counterFailed));
      }
    })();
  }

  // ------------------------------------------------------------ finding the widgets
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
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
