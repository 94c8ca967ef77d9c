// The share page (share.html#<token>, 訓練結果共有リンク, SPEC G7) for someone
// without an account: it asks for the password when the link has one, then
// shows the campaign's results read-only — tiles, funnel, timeline,
// breakdowns — and the three downloads, with the campaign's exclusion
// setting. It talks only to /api/v1/share/<token>…, never loads the
// console (app.js), and links nowhere. The password stays in memory.

import { h, replace, formatTime, formatCount } from './dom.js';
import { initI18n, t, has, setLang, currentLang, onLangChange } from './i18n.js';
import { card, field, input, busy, loading } from './ui.js';
import { funnel } from './funnel.js';
import {
  statTiles, downloadsGroup, timelineView, breakdownView, normalizeShare, BREAKDOWN_BYS,
} from './results.js';

const BASE = '/api/v1/share/';

/** The token of share.html#<token> (percent-decoded, trimmed), or ''. */
export function readToken(hash) {
  const raw = String(hash || '').replace(/^#/, '').trim();
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The URL of the share answer or one of its downloads (`file`: results.csv, …). */
export function shareUrl(token, file, query = {}) {
  let url = BASE + encodeURIComponent(token) + (file ? `/${file}` : '');
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.append(k, String(v));
  const q = qs.toString();
  if (q) url += `?${q}`;
  return url;
}

/** Minutes to wait from a Retry-After header (seconds), at least 1; null without one. */
export function retryMinutes(header) {
  const n = Number(header);
  return Number.isFinite(n) && n > 0 ? Math.max(1, Math.ceil(n / 60)) : null;
}

const page = { token: '', password: '', data: null, view: null };

async function fetchShare() {
  const headers = { Accept: 'application/json' };
  if (page.password) headers['X-Share-Password'] = page.password;
  let res;
  try {
    res = await fetch(shareUrl(page.token), {
      headers, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
    });
  } catch {
    return { status: 0, code: 'network' };
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.ok) return { status: res.status, body };
  const code = (body && body.error && body.error.code) || '';
  return { status: res.status, code, retryAfter: res.headers.get('Retry-After') };
}

/* ---------- the frame: brand, read-only tag, language ---------- */

function frame(...content) {
  const other = currentLang() === 'ja' ? 'en' : 'ja';
  const main = h('main', { class: 'share-main', id: 'main', tabindex: '-1' }, content);
  return h('div', { class: 'share-shell' },
    h('header', { class: 'share-top' },
      h('span', { class: 'share-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '訓'), 'Kunren'),
      h('span', { class: 'tag' }, t('shared.readonly')),
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm', id: 'lang-switch', lang: other,
        'aria-label': t('header.switch_language'), onclick: () => setLang(other),
      }, t(`lang.${other}`))),
    main);
}

function show(view, ...content) {
  page.view = view;
  replace(document.getElementById('app'), frame(...content));
  document.title = `${t('shared.title')} — Kunren`;
  const heading = document.querySelector('#main h1');
  if (heading) heading.focus({ preventScroll: true });
}

/* ---------- problems: gone, throttled, broken ---------- */

const PROBLEMS = {
  gone: ['shared.gone_title', 'shared.gone_text'],
  invalid: ['shared.invalid_title', 'shared.invalid_text'],
  throttled: ['shared.throttled_title', 'shared.throttled_text'],
  error: ['shared.error_title', 'shared.error_text'],
};

function showProblem(kind, detail) {
  const [title, text] = PROBLEMS[kind];
  const mins = kind === 'throttled' ? retryMinutes(detail) : null;
  const retry = kind === 'error' || kind === 'throttled'
    ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'share-retry', onclick: () => openShare() }, t('shared.retry'))
    : null;
  show(['problem', kind, detail], h('section', { class: 'card share-card', id: 'share-problem', dataset: { problem: kind } },
    h('div', { class: 'card-body' },
      h('h1', { class: 'mb-3', tabindex: '-1' }, t(title)),
      h('p', { class: 'alert alert-error', role: 'alert' }, t(text),
        mins ? ` ${t('shared.retry_in', { n: formatCount(mins) })}` : ''),
      retry)));
}

/* ---------- the password ---------- */

function showPrompt(problem, retryAfter) {
  const pass = input({ type: 'password', name: 'password', autocomplete: 'current-password', id: 'share-password', required: true });
  const errorBox = h('div', { class: 'alert alert-error', role: 'alert', id: 'share-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'share-open' }, t('shared.open'));
  const say = (key, vars) => {
    replace(errorBox, t(key, vars));
    errorBox.hidden = false;
  };
  const sayProblem = (p, after) => {
    if (p === 'wrong') say('shared.wrong_password');
    else if (p === 'throttled') {
      const mins = retryMinutes(after);
      say('shared.throttled_text');
      if (mins) errorBox.append(` ${t('shared.retry_in', { n: formatCount(mins) })}`);
    }
  };
  const form = h('form', {
    novalidate: true, 'aria-describedby': 'share-error',
    onsubmit: (e) => {
      e.preventDefault();
      errorBox.hidden = true;
      if (!pass.value) {
        say('shared.password_missing');
        pass.focus();
        return;
      }
      busy(submit, async () => {
        page.password = pass.value;
        const r = await fetchShare();
        if (r.status === 200) {
          handle(r);
          return;
        }
        page.password = '';
        if (r.status === 401) sayProblem('wrong');
        else if (r.status === 429) sayProblem('throttled', r.retryAfter);
        else {
          handle(r);
          return;
        }
        pass.value = '';
        pass.focus();
      });
    },
  }, errorBox, field(t('shared.password'), pass), submit);
  show(['prompt', problem], h('section', { class: 'card share-card', id: 'share-prompt' },
    h('div', { class: 'card-body' },
      h('h1', { class: 'mb-3', tabindex: '-1' }, t('shared.password_title')),
      h('p', { class: 'muted small' }, t('shared.password_lead')),
      form)));
  sayProblem(problem, retryAfter);
  pass.focus();
}

/* ---------- the results ---------- */

// The link's own choice (fixed by the trainer who made it), not a switch here.
function exclusionNote(c) {
  const off = c.exclude === false || c.exclude === 'off';
  const seconds = Number(c.exclusion_seconds) || 0;
  if (off) return t('shared.exclusion_off');
  if (!seconds) return t('shared.exclusion_none');
  return t('shared.exclusion_on', { seconds: formatCount(seconds) });
}

function showResults() {
  const { campaign: c, breakdowns, timeline, tenant } = page.data;
  const stats = statTiles();
  stats.update(c);
  const query = (q) => (page.password ? { ...q, password: page.password } : q);
  const downloads = downloadsGroup((file, q) => shareUrl(page.token, file, query(q)));
  const bys = BREAKDOWN_BYS.filter((by) => breakdowns[by]);
  const meta = [];
  if (tenant) meta.push(t('shared.by_tenant', { tenant }));
  if (c.scenario_name) meta.push(`${t('campaign.scenario')}: ${c.scenario_name}`);
  if (c.launched_at) meta.push(`${t('campaign.launched_at')}: ${formatTime(c.launched_at)}`);
  if (c.finished_at) meta.push(`${t('campaign.finished_at')}: ${formatTime(c.finished_at)}`);
  const parts = [
    h('header', { class: 'page-header' },
      h('div', null,
        h('p', { class: 'share-kicker' }, t('shared.title')),
        h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, c.name || t('shared.title')),
          c.state ? h('span', { class: ['badge', `badge--${c.state}`] }, has(`state.${c.state}`) ? t(`state.${c.state}`) : c.state) : null),
        meta.length ? h('p', { class: 'subtitle' }, meta.join(' ・ ')) : null)),
    h('section', { class: 'results-bar', 'aria-label': t('campaign.results_controls') },
      h('p', { class: 'exclusion-note mb-0', id: 'share-exclusion' }, exclusionNote(c)), downloads),
    stats,
    h('div', { class: 'grid-2' },
      card(t('campaign.funnel'), [h('div', { id: 'funnel' }, funnel(c.counts || {})), h('p', { class: 'muted small mb-0' }, t('campaign.funnel_note'))]),
      card(t('timeline.title'), [h('div', { id: 'timeline' }, timelineView(timeline)),
        h('p', { class: 'muted small mb-0' }, t('timeline.note'))])),
  ];
  if (bys.length) {
    const view = breakdownView({ bys, load: async (by) => breakdowns[by] });
    parts.push(card(t('breakdown.title'), view.el, { actions: view.actions, attrs: { id: 'breakdown-card' } }));
  }
  parts.push(h('p', { class: 'muted small share-foot' }, t('shared.foot')));
  show(['results'], ...parts);
}

/* ---------- flow ---------- */

function handle(r) {
  if (r.status === 200) {
    page.data = normalizeShare(r.body);
    // the link's exclusion comes beside the campaign, not in it
    if (r.body && typeof r.body.exclude === 'boolean') page.data.campaign.exclude = r.body.exclude;
    showResults();
  } else if (r.status === 401) {
    showPrompt(r.code === 'wrong_password' && page.password ? 'wrong' : null);
  } else if (r.status === 404) {
    showProblem('gone');
  } else if (r.status === 429) {
    showProblem('throttled', r.retryAfter);
  } else {
    showProblem('error');
  }
}

async function openShare() {
  if (!page.token) {
    showProblem('invalid');
    return;
  }
  replace(document.getElementById('app'), loading());
  handle(await fetchShare());
}

/** A language switch redraws what is shown from what is kept (no new request). */
function redraw() {
  const [view, a, b] = page.view || [];
  if (view === 'results') showResults();
  else if (view === 'prompt') showPrompt(a);
  else if (view === 'problem') showProblem(a, b);
}

async function boot() {
  await initI18n();
  page.token = readToken(window.location.hash);
  onLangChange(redraw);
  // A new #token in the same tab is another link: start again.
  window.addEventListener('hashchange', () => {
    page.token = readToken(window.location.hash);
    page.password = '';
    page.data = null;
    openShare();
  });
  await openShare();
}

if (typeof document !== 'undefined' && document.getElementById('app')) {
  boot().catch(() => {
    const text = has('shared.error_text') ? t('shared.error_text') : 'Kunren を開始できませんでした / The page could not start.';
    replace(document.getElementById('app'), h('p', { class: 'alert alert-error', role: 'alert' }, text));
  });
}
