// The pieces of a campaign's results that the console's 訓練結果 page and the
// share page (share.html) both show: stat tiles, the timeline chart, the
// breakdown tables by 部署 / 役職 / 項目, the three downloads, and the
// exclusion switch (メールチェックシステム除外). They take data, never fetch it,
// so the share page can feed them from its one answer.
//
// The pure parts (rates, sorting, target search, paging scans, durations,
// the share answer's shape) are exported for the unit tests.

import { h, replace, formatCount, formatRate } from './dom.js';
import { t } from './i18n.js';
import { tabs, select, field, linkButton, errorAlert, spinner } from './ui.js';
import { lineChart, timelineBuckets, TIMELINE_KINDS } from './chart.js';
import { sortableTh } from './pages/list-import.js';

/* ---------- stat tiles ---------- */

export const STAT_KEYS = ['targets', 'sent', 'opened', 'clicked', 'file_opened', 'submitted', 'reported'];

/** The rate under a tile: none for 配信件数, sent/targets for メール送信, the API's rate (of sent) for the rest. */
export function statRate(step, campaign) {
  const counts = (campaign && campaign.counts) || {};
  if (step === 'targets') return '';
  if (step === 'sent') {
    const targets = Number(counts.targets) || 0;
    return formatRate(targets ? (Number(counts.sent) || 0) / targets : 0);
  }
  const rates = (campaign && campaign.rates) || {};
  if (rates[step] !== undefined && rates[step] !== null) return formatRate(rates[step]);
  const sent = Number(counts.sent) || 0;
  return formatRate(sent ? (Number(counts[step]) || 0) / sent : 0);
}

/** The stat tiles, built once and updated in place with .update(campaign). */
export function statTiles() {
  const tiles = {};
  const el = h('div', { class: 'stats', id: 'stats' }, STAT_KEYS.map((step) => {
    const value = h('div', { class: 'stat-value' }, '0');
    const rate = h('div', { class: 'stat-rate' });
    tiles[step] = { value, rate };
    return h('div', { class: 'stat', dataset: { stat: step } },
      h('div', { class: 'stat-label' }, t(`stat.${step}`)), value, rate);
  }));
  el.update = (campaign) => {
    const counts = (campaign && campaign.counts) || {};
    for (const step of STAT_KEYS) {
      tiles[step].value.textContent = formatCount(counts[step]);
      let rate = statRate(step, campaign);
      if (step === 'targets' && Number(counts.errors) > 0) rate = t('stat.errors', { n: formatCount(counts.errors) });
      tiles[step].rate.textContent = rate;
    }
  };
  return el;
}

/* ---------- exclusion (メールチェックシステム除外) ---------- */

const EXCLUDE_KEY = 'kunren.exclude.';

/** The remembered switch of a campaign (or of another page's key): true (ON) unless saved OFF. */
export function loadExclusion(key) {
  try {
    return window.localStorage.getItem(EXCLUDE_KEY + key) !== 'off';
  } catch {
    return true;
  }
}

export function saveExclusion(key, on) {
  try {
    window.localStorage.setItem(EXCLUDE_KEY + key, on ? 'on' : 'off');
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

/** The API's parameter for the switch. */
export const excludeParam = (on) => (on ? 'on' : 'off');

/**
 * The switch as a button with role="switch". `seconds` is the campaign's
 * exclusion time (undefined across campaigns). onChange(on) after a flip.
 */
export function exclusionSwitch({ on, seconds, onChange, id = 'exclude-switch' }) {
  let value = Boolean(on);
  const stateText = h('span', { class: 'switch-state', 'aria-hidden': 'true' });
  const helpId = `${id}-help`;
  const btn = h('button', {
    type: 'button', role: 'switch', class: 'switch', id, 'aria-describedby': helpId,
  },
  h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' })),
  h('span', { class: 'switch-label' }, t('exclusion.label')), stateText);
  let help;
  if (seconds === undefined) help = t('exclusion.help_many');
  else if (Number(seconds) > 0) help = t('exclusion.help', { seconds: formatCount(seconds) });
  else help = t('exclusion.help_none');
  const set = (v) => {
    value = Boolean(v);
    btn.setAttribute('aria-checked', String(value));
    stateText.textContent = value ? 'ON' : 'OFF';
  };
  btn.addEventListener('click', () => {
    set(!value);
    onChange(value);
  });
  set(value);
  const el = h('div', { class: 'exclusion' }, btn, h('p', { class: 'help', id: helpId }, help));
  el.set = set;
  return el;
}

/* ---------- downloads ---------- */

export const DOWNLOADS = [
  { kind: 'results', file: 'results.csv', name: '訓練結果.csv', id: 'results-csv', label: 'download.results_csv', csv: true },
  { kind: 'events', file: 'events.csv', name: 'イベント.csv', id: 'events-csv', label: 'download.events_csv', csv: true },
  { kind: 'report', file: 'report.xlsx', name: '報告書.xlsx', id: 'report-xlsx', label: 'download.report_xlsx', csv: false },
];

/**
 * The three downloads with the CSV encoding (UTF-8 / Shift_JIS). hrefFor(file,
 * query) makes each URL; .update() redraws them after a change outside
 * (the exclusion switch).
 */
export function downloadsGroup(hrefFor) {
  const enc = select([
    { value: 'utf8', label: t('download.utf8') },
    { value: 'cp932', label: t('download.cp932') },
  ], { name: 'encoding', id: 'download-encoding', class: 'select-inline' });
  const links = DOWNLOADS.map((d) => ({
    d, a: linkButton('secondary', t(d.label), '#', { id: d.id, download: d.name, class: 'btn-sm' }),
  }));
  const update = () => {
    for (const { d, a } of links) a.href = hrefFor(d.file, d.csv ? { encoding: enc.value } : {});
  };
  enc.addEventListener('change', update);
  update();
  const encField = field(t('download.encoding'), enc);
  encField.classList.add('field-inline');
  const el = h('div', { class: 'downloads', role: 'group', 'aria-label': t('download.title') },
    h('span', { class: 'downloads-title' }, t('download.title')),
    links.map((x) => x.a), encField);
  el.update = update;
  return el;
}

/* ---------- timeline ---------- */

/** The timeline card's content: the chart, or a note when nothing happened yet. */
export function timelineView(timeline) {
  const buckets = timelineBuckets(timeline);
  const series = TIMELINE_KINDS
    .map((k) => ({ key: k, label: t(`stat.${k}`), values: buckets.map((b) => b.counts[k]) }))
    .filter((sr) => sr.values.some((v) => v > 0));
  if (!buckets.length || !series.length) return h('p', { class: 'muted mb-0', id: 'timeline-empty' }, t('timeline.empty'));
  const daily = (Number(timeline.bucket_seconds) || 3600) >= 86_400;
  const totals = series.map((sr) => `${sr.label} ${formatCount(sr.values.reduce((a, b) => a + b, 0))}`);
  const desc = `${t(daily ? 'timeline.desc_day' : 'timeline.desc_hour', {
    from: buckets[0].label.title, to: buckets[buckets.length - 1].label.title,
  })} ${totals.join(t('chart.separator'))}`;
  return lineChart({
    id: 'timeline-chart', title: t('timeline.title'), desc, integer: true,
    categories: buckets.map((b) => b.label), series,
  });
}

/* ---------- breakdown by 部署 / 役職 / 項目 ---------- */

export const BREAKDOWN_BYS = ['department', 'position', 'field1', 'field2', 'field3'];
export const BREAKDOWN_COLS = ['targets', 'sent', 'opened', 'clicked', 'file_opened', 'submitted', 'reported'];
const REACTIONS = new Set(['opened', 'clicked', 'file_opened', 'submitted', 'reported']);

/** A group's rate of one reaction: of its sent mails, like the tiles. */
export function groupRate(item, key) {
  const sent = Number(item.sent) || 0;
  return sent ? (Number(item[key]) || 0) / sent : 0;
}

/**
 * Sorts breakdown rows by a column without changing the input: 'value'
 * by name (Japanese collation), counts numerically; a reaction column by its
 * rate when basis is 'rate' (then by count). Ties keep the API's order.
 */
export function sortBreakdown(items, key, dir, basis = 'count') {
  const sign = dir === 'desc' ? -1 : 1;
  const num = (it) => Number(it[key]) || 0;
  let cmp;
  if (key === 'value') cmp = (a, b) => String(a.value ?? '').localeCompare(String(b.value ?? ''), 'ja');
  else if (basis === 'rate' && REACTIONS.has(key)) cmp = (a, b) => groupRate(a, key) - groupRate(b, key) || num(a) - num(b);
  else cmp = (a, b) => num(a) - num(b);
  return items.map((it, i) => [it, i]).sort(([a, i], [b, j]) => sign * cmp(a, b) || i - j).map(([it]) => it);
}

const byLabel = (by) => t(`recipient.${by}`);

function breakdownTable(items, state, onSort) {
  const rows = sortBreakdown(items, state.key, state.dir, state.basis).map((it) => {
    const value = it.value === null || it.value === undefined ? '' : String(it.value);
    return h('tr', { dataset: { value } },
      h('th', { scope: 'row', class: 'wrap' }, value || h('span', { class: 'muted' }, t('breakdown.none'))),
      BREAKDOWN_COLS.map((k) => h('td', { class: 'num', dataset: { col: k } },
        h('span', { class: 'n' }, formatCount(it[k])),
        REACTIONS.has(k) ? h('span', { class: 'rate' }, formatRate(groupRate(it, k))) : null)));
  });
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table breakdown-table', id: 'breakdown-table', dataset: { by: state.by } },
      h('caption', { class: 'visually-hidden' }, t('breakdown.caption', { by: byLabel(state.by) })),
      h('thead', null, h('tr', null,
        sortableTh(byLabel(state.by), 'value', { key: state.key, dir: state.dir }, onSort),
        BREAKDOWN_COLS.map((k) => sortableTh(t(`stat.${k}`), k, { key: state.key, dir: state.dir }, onSort, { class: 'num' })))),
      h('tbody', null, rows)));
}

/**
 * The breakdown card's body: tabs per field, a sortable table. load(by)
 * resolves with the rows of one field. .refresh() reloads the shown field
 * quietly (polling). `bys` limits the tabs (the share page shows the fields
 * its answer has).
 */
export function breakdownView({ load, bys = BREAKDOWN_BYS }) {
  const state = { by: bys[0], key: 'targets', dir: 'desc', basis: 'rate' };
  let items = [];
  let shown = null;   // the by and rows on screen: a quiet refresh with the same data draws nothing
  let seq = 0;
  const holder = h('div', { class: 'breakdown-body', id: 'breakdown' });
  const basis = select([
    { value: 'rate', label: t('breakdown.basis_rate'), selected: true },
    { value: 'count', label: t('breakdown.basis_count') },
  ], { name: 'basis', id: 'breakdown-basis', class: 'select-inline' });
  const basisField = field(t('breakdown.basis'), basis);
  basisField.classList.add('field-inline');

  function draw() {
    if (!items.length) {
      replace(holder, h('p', { class: 'muted mb-0 breakdown-empty' }, t('breakdown.empty')));
      return;
    }
    replace(holder, breakdownTable(items, state, (key, dir) => {
      state.key = key;
      state.dir = dir;
      draw();
      const btn = holder.querySelector(`button[data-sort="${key}"]`);
      if (btn) btn.focus();
    }));
  }

  async function reload(quiet) {
    const mine = ++seq;
    if (!quiet) replace(holder, h('div', { class: 'loading' }, spinner(true), t('common.loading')));
    try {
      const got = await load(state.by);
      if (mine !== seq) return;
      items = Array.isArray(got) ? got : [];
      const key = JSON.stringify([state.by, items]);
      if (quiet && key === shown) return;
      shown = key;
      draw();
    } catch (err) {
      if (mine !== seq) return;
      if (!quiet) replace(holder, errorAlert(err));
    }
  }

  basis.addEventListener('change', () => {
    state.basis = basis.value;
    draw();
  });
  const tabsEl = tabs(bys.map((by) => ({
    id: by, label: byLabel(by),
    render: () => {
      state.by = by;
      reload(false);
      return holder;
    },
  })), { label: t('breakdown.title') });
  return { el: tabsEl, actions: basisField, refresh: () => reload(true) };
}

/* ---------- targets: search and paging ---------- */

const TARGET_TEXT = ['email', 'last_name', 'first_name', 'department', 'position', 'field1', 'field2', 'field3', 'rid'];

/**
 * Whether a target matches the search text: a substring of one of its text
 * fields, or of its full name, ignoring case. The server may filter by q
 * itself; this check then keeps everything it sent.
 */
export function matchesTarget(target, q) {
  const needle = String(q || '').trim().toLowerCase();
  if (!needle) return true;
  const hay = TARGET_TEXT.map((k) => target[k]).filter((v) => typeof v === 'string');
  hay.push(`${target.last_name || ''} ${target.first_name || ''}`, `${target.last_name || ''}${target.first_name || ''}`);
  return hay.some((v) => v.toLowerCase().includes(needle));
}

/**
 * One page of targets from the server's id-ordered pages: fetchPage(after)
 * resolves with {items, next_after}. Without a search it is one request.
 * With one, the matching targets are collected over as many requests as it
 * takes to fill the page (at most maxRequests), so paging works whether or
 * not the server filters by q. Returns {items, next}: next is the `after` of
 * the following page, or null at the end.
 */
export async function scanTargets(fetchPage, { q, size, after = null, maxRequests = 20 }) {
  const items = [];
  let cursor = after;
  for (let n = 0; n < maxRequests; n += 1) {
    const res = (await fetchPage(cursor)) || {};
    const got = res.items || [];
    const more = res.next_after !== null && res.next_after !== undefined;
    for (let i = 0; i < got.length; i += 1) {
      if (!matchesTarget(got[i], q)) continue;
      items.push(got[i]);
      if (items.length === size) return { items, next: i < got.length - 1 || more ? got[i].id : null };
    }
    if (!more) return { items, next: null };
    cursor = res.next_after;
  }
  return { items, next: cursor };
}

/* ---------- across campaigns ---------- */

/** A time to first report in words: "45 秒", "12 分", "3 時間 5 分", "2 日 4 時間"; "—" without one. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || seconds === '' || !Number.isFinite(Number(seconds))) return '—';
  const n = Math.max(0, Math.round(Number(seconds)));
  if (n < 60) return t('duration.seconds', { n });
  const m = Math.floor(n / 60);
  if (m < 60) return t('duration.minutes', { m });
  const hours = Math.floor(m / 60);
  if (hours < 24) return t('duration.hours', { h: hours, m: m % 60 });
  return t('duration.days', { d: Math.floor(hours / 24), h: hours % 24 });
}

/* ---------- the share answer ---------- */

function breakdownItems(v) {
  if (Array.isArray(v)) return v;
  if (v && Array.isArray(v.items)) return v.items;
  return null;
}

/**
 * GET /share/{token} as {campaign, breakdowns: {by: items}, timeline, tenant}. The
 * summary may be the answer itself or under "campaign"/"summary"; the
 * breakdowns an object by field (arrays or {items}) or an array of {by,
 * items}; the timeline {bucket_seconds, items} or a bare array.
 */
export function normalizeShare(json) {
  const j = json || {};
  const campaign = [j.campaign, j.summary, j].find((c) => c && typeof c === 'object' && (c.counts || c.name)) || {};
  const merged = { ...campaign };
  if (!merged.counts && j.counts) merged.counts = j.counts;
  if (!merged.rates && j.rates) merged.rates = j.rates;
  const breakdowns = {};
  const raw = j.breakdowns || j.breakdown || campaign.breakdowns;
  if (Array.isArray(raw)) {
    for (const b of raw) if (b && BREAKDOWN_BYS.includes(b.by) && breakdownItems(b)) breakdowns[b.by] = breakdownItems(b);
  } else if (raw && typeof raw === 'object') {
    for (const by of BREAKDOWN_BYS) if (breakdownItems(raw[by])) breakdowns[by] = breakdownItems(raw[by]);
  }
  let timeline = j.timeline || campaign.timeline || null;
  if (Array.isArray(timeline)) timeline = { bucket_seconds: j.bucket_seconds, items: timeline };
  const tenant = String(j.tenant_name || campaign.tenant_name || '');
  return { campaign: merged, breakdowns, timeline: timeline || { items: [] }, tenant };
}
