// Results across campaigns (#/results, 訓練結果の推移, SPEC G8): choose
// campaigns, see the trend of the click, submit and report rates, each
// campaign's numbers with its time to first report, the people who clicked
// in more than one of them, and download 訓練結果(累計).csv for the choice.
// The choice is kept in the URL (?c=1,2,3), the exclusion switch in
// localStorage like on the campaign page.

import { h, replace, formatTime, formatCount, formatRate, fullName, debounce } from '../dom.js';
import { t } from '../i18n.js';
import { api, apiUrl } from '../api.js';
import { pageHeader, card, checkbox, button, emptyState, errorAlert, linkButton, select, field, table, spinner, canWrite } from '../ui.js';
import { lineChart } from '../chart.js';
import { exclusionSwitch, loadExclusion, saveExclusion, excludeParam, formatDuration } from '../results.js';

export const titleKey = 'trends.title';

const TREND_RATES = ['clicked', 'submitted', 'reported'];
const DEFAULT_CHOICE = 5;
const EXCLUSION_KEY = 'results';
const NAME_CHARS = 12;

/** The campaigns that have results: launched ones, oldest first. */
export function launchedCampaigns(items) {
  return items.filter((c) => c.launched_at && c.state !== 'draft')
    .sort((a, b) => String(a.launched_at).localeCompare(String(b.launched_at)) || a.id - b.id);
}

/** The ids of ?c=1,2,3 that exist, else the newest few. */
export function initialChoice(query, campaigns, fallback = DEFAULT_CHOICE) {
  const known = new Set(campaigns.map((c) => String(c.id)));
  const asked = String((query && query.c) || '').split(',').map((x) => x.trim()).filter((x) => known.has(x));
  if (asked.length) return asked;
  return campaigns.slice(-fallback).map((c) => String(c.id));
}

/** A campaign name cut to fit under a chart's x axis. */
export function shortName(name, max = NAME_CHARS) {
  const chars = [...String(name || '')];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

function datePart(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ''));
  return m ? `${m[1]}/${m[2]}/${m[3]}` : '';
}

function trendChart(campaigns) {
  const categories = campaigns.map((c) => ({
    lines: [datePart(c.launched_at), shortName(c.name)],
    title: `${c.name} (${datePart(c.launched_at)})`,
  }));
  const series = TREND_RATES.map((k) => ({
    key: k, label: t(`trends.rate_${k}`), values: campaigns.map((c) => Number((c.rates || {})[k]) || 0),
  }));
  const desc = campaigns.map((c) => `${c.name}: ${series.map((sr) => `${sr.label} ${formatRate((c.rates || {})[sr.key])}`).join(t('chart.separator'))}`)
    .join(' / ');
  return lineChart({ id: 'trend-chart', title: t('trends.chart'), desc, categories, series, format: formatRate, width: 600 });
}

function campaignsTable(campaigns) {
  return table([
    { label: t('campaign.name') },
    { label: t('campaign.launched_at') },
    { label: t('stat.sent'), class: 'num' },
    ...TREND_RATES.map((k) => ({ label: t(`trends.rate_${k}`), class: 'num' })),
    { label: t('trends.first_report'), class: 'num' },
  ], campaigns.map((c) => h('tr', { dataset: { campaign: c.id } },
    h('td', { class: 'wrap' }, h('a', { href: `#/campaigns/${encodeURIComponent(c.id)}` }, c.name)),
    h('td', { class: 'nowrap' }, formatTime(c.launched_at)),
    h('td', { class: 'num' }, formatCount(c.sent)),
    TREND_RATES.map((k) => h('td', { class: 'num', dataset: { rate: k } }, formatRate((c.rates || {})[k]))),
    h('td', { class: 'num', dataset: { col: 'first_report' } }, formatDuration(c.first_report_seconds)))),
  { id: 'trends-table' });
}

function repeatTable(people, chosen) {
  if (!people.length) return h('p', { class: 'muted mb-0', id: 'repeat-none' }, t('trends.no_repeat'));
  return table([
    { label: t('target.name') },
    { label: t('target.email') },
    { label: t('target.department') },
    { label: t('trends.clicked_in'), class: 'num' },
  ], people.map((p) => h('tr', { dataset: { email: p.email } },
    h('td', null, fullName(p)),
    h('td', null, p.email),
    h('td', null, p.department || ''),
    h('td', { class: 'num' }, t('trends.clicked_n', { n: formatCount(p.campaigns), of: formatCount(chosen) })))),
  { id: 'repeat-clickers' });
}

async function loadCampaigns() {
  const items = [];
  let after;
  for (let page = 0; page < 20; page += 1) {
    const res = await api.get('/campaigns', { limit: 500, after });
    items.push(...(res.items || []));
    if (!res.next_after) break;
    after = res.next_after;
  }
  return items;
}

export async function render({ main, query, user }) {
  const header = pageHeader(t('trends.title'), { subtitle: t('trends.subtitle') });
  let campaigns;
  try {
    campaigns = launchedCampaigns(await loadCampaigns());
  } catch (err) {
    replace(main, header, errorAlert(err));
    return undefined;
  }
  if (!campaigns.length) {
    replace(main, header, card(null, emptyState(t('trends.none_title'), t('trends.none_text'),
      canWrite(user) ? linkButton('primary', t('dashboard.new'), '#/campaigns/new') : null, 'flag')));
    return undefined;
  }

  const chosen = new Set(initialChoice(query, campaigns));
  let exclude = loadExclusion(EXCLUSION_KEY);
  let seq = 0;

  const boxes = campaigns.map((c) => {
    const cb = checkbox('', { name: 'campaign', value: String(c.id), checked: chosen.has(String(c.id)) });
    replace(cb.el.lastChild, h('span', { class: 'pick-name' }, c.name),
      h('span', { class: 'pick-meta small muted' }, `${formatTime(c.launched_at)} ・ ${t('trends.sent_n', { n: formatCount((c.counts || {}).sent) })}`));
    cb.box.addEventListener('change', () => {
      if (cb.box.checked) chosen.add(String(c.id));
      else chosen.delete(String(c.id));
      changed();
    });
    return cb;
  });
  const setAll = (on) => {
    for (const cb of boxes) cb.box.checked = on;
    chosen.clear();
    if (on) for (const c of campaigns) chosen.add(String(c.id));
    changed();
  };
  const picker = h('fieldset', { class: 'campaign-picker', id: 'campaign-picker' },
    h('legend', { class: 'visually-hidden' }, t('trends.choose')),
    h('div', { class: 'picker-actions' },
      button('ghost', t('trends.select_all'), () => setAll(true), { class: 'btn-sm', id: 'select-all' }),
      button('ghost', t('trends.select_none'), () => setAll(false), { class: 'btn-sm', id: 'select-none' })),
    h('div', { class: 'picker-list' }, boxes.map((cb) => cb.el)));

  const enc = select([
    { value: 'utf8', label: t('download.utf8') }, { value: 'cp932', label: t('download.cp932') },
  ], { name: 'encoding', id: 'cumulative-encoding', class: 'select-inline' });
  const encField = field(t('download.encoding'), enc);
  encField.classList.add('field-inline');
  const csvLink = linkButton('secondary', t('trends.download_csv'), '#', {
    id: 'cumulative-csv', download: '訓練結果(累計).csv', class: 'btn-sm',
  });
  const ids = () => campaigns.map((c) => String(c.id)).filter((x) => chosen.has(x));
  function updateLink() {
    const list = ids();
    if (list.length) {
      csvLink.href = apiUrl('/results/cumulative.csv', { campaigns: list.join(','), encoding: enc.value, exclude: excludeParam(exclude) });
      csvLink.removeAttribute('aria-disabled');
    } else {
      csvLink.removeAttribute('href');
      csvLink.setAttribute('aria-disabled', 'true');
    }
  }
  enc.addEventListener('change', updateLink);
  const switchEl = exclusionSwitch({
    on: exclude,
    onChange: (on) => {
      exclude = on;
      saveExclusion(EXCLUSION_KEY, on);
      changed(true);
    },
  });

  const chartBody = h('div', { id: 'trend' });
  const tableBody = h('div', { id: 'trend-campaigns' });
  const repeatBody = h('div', { id: 'repeat' });
  const status = h('span', { class: 'card-status', 'aria-hidden': 'true' });
  const errorBox = h('div', { 'aria-live': 'polite' });

  function syncUrl() {
    const list = ids();
    const url = `#/results${list.length ? `?c=${list.join(',')}` : ''}`;
    if (window.location.hash !== url) window.history.replaceState(window.history.state, '', url);
  }

  async function load() {
    const mine = ++seq;
    const list = ids();
    if (!list.length) {
      const note = h('p', { class: 'muted mb-0' }, t('trends.choose_some'));
      replace(chartBody, note);
      replace(tableBody);
      replace(repeatBody);
      replace(errorBox);
      return;
    }
    replace(status, spinner(true));
    try {
      const res = await api.get('/results/trends', { campaigns: list.join(','), exclude: excludeParam(exclude) });
      if (mine !== seq) return;
      const rows = launchedCampaigns((res && res.campaigns) || []);
      replace(chartBody, rows.length ? trendChart(rows) : h('p', { class: 'muted mb-0' }, t('trends.choose_some')));
      replace(tableBody, campaignsTable(rows));
      replace(repeatBody, repeatTable((res && res.repeat_clickers) || [], list.length));
      replace(errorBox);
    } catch (err) {
      if (mine !== seq) return;
      replace(errorBox, errorAlert(err));
    } finally {
      if (mine === seq) replace(status);
    }
  }
  const loadSoon = debounce(load, 250);
  function changed(now) {
    syncUrl();
    updateLink();
    if (now) {
      loadSoon.cancel();
      load();
    } else {
      loadSoon();
    }
  }

  replace(main,
    header,
    h('section', { class: 'results-bar', 'aria-label': t('campaign.results_controls') }, switchEl,
      h('div', { class: 'downloads', role: 'group', 'aria-label': t('download.title') },
        h('span', { class: 'downloads-title' }, t('download.title')), csvLink, encField)),
    errorBox,
    h('div', { class: 'trends-layout' },
      card(t('trends.choose'), picker, { attrs: { id: 'picker-card' } }),
      h('div', { class: 'trends-main' },
        card(t('trends.chart'), [chartBody, h('p', { class: 'muted small mb-0' }, t('trends.rates_note'))], { actions: status, attrs: { id: 'trend-card' } }),
        card(t('trends.campaigns'), tableBody, { flush: true, attrs: { id: 'trend-campaigns-card' } }),
        card(t('trends.repeat'), [h('p', { class: 'muted small' }, t('trends.repeat_note')), repeatBody], { attrs: { id: 'repeat-card' } }))));
  syncUrl();
  updateLink();
  await load();
  return () => loadSoon.cancel();
}
