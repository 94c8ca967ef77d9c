// Campaign page (訓練結果): state, stat tiles, funnel, the targets table with
// each target's events, the results CSV, launch/cancel. While the page is
// open it polls the campaign and its targets every 2 seconds.

import { h, replace, formatTime, formatCount, formatRate, fullName, uid } from '../dom.js';
import { t } from '../i18n.js';
import { api, apiUrl, errorMessage } from '../api.js';
import {
  pageHeader, card, select, field, button, linkButton, busy, stateBadge, statusBadge, emptyState,
  errorAlert, toast, confirmDialog, icon,
} from '../ui.js';
import { funnel } from '../funnel.js';

export const titleKey = 'campaign.title';

const POLL_MS = 2000;
const STATS = ['targets', 'sent', 'opened', 'clicked', 'file_opened', 'submitted'];
const STATUSES = ['pending', 'sent', 'send_error', 'opened', 'file_opened', 'clicked', 'submitted'];
const ACTIVE = ['draft', 'scheduled', 'sending', 'running', 'paused'];

function statRate(step, campaign) {
  const counts = campaign.counts || {};
  if (step === 'targets') return '';
  if (step === 'sent') return formatRate((Number(counts.sent) || 0) / Math.max(Number(counts.targets) || 0, 1));
  return formatRate((campaign.rates || {})[step]);
}

/** The stat tiles, built once and updated in place. */
function statTiles() {
  const tiles = {};
  const el = h('div', { class: 'stats', id: 'stats' }, STATS.map((step) => {
    const value = h('div', { class: 'stat-value' }, '0');
    const rate = h('div', { class: 'stat-rate' });
    tiles[step] = { value, rate };
    return h('div', { class: 'stat', dataset: { stat: step } },
      h('div', { class: 'stat-label' }, t(`stat.${step}`)), value, rate);
  }));
  el.update = (campaign) => {
    for (const step of STATS) {
      tiles[step].value.textContent = formatCount((campaign.counts || {})[step]);
      tiles[step].rate.textContent = statRate(step, campaign);
    }
  };
  return el;
}

function eventsTable(target) {
  const events = target.events || [];
  const parts = [];
  if (target.error) parts.push(h('p', { class: 'alert alert-error small wrap' }, `${t('target.error')}: ${target.error}`));
  if (!events.length) {
    parts.push(h('p', { class: 'muted small mb-0' }, t('target.no_events')));
    return parts;
  }
  parts.push(h('table', { class: 'table table-compact events' },
    h('thead', null, h('tr', null, ['event.kind', 'event.at', 'event.ip', 'event.os', 'event.browser', 'event.device']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', null, events.map((ev) => h('tr', { dataset: { kind: ev.kind } },
      h('td', null, statusBadge(ev.kind)),
      h('td', { class: 'nowrap' }, formatTime(ev.at)),
      h('td', null, ev.ip || ''),
      h('td', null, ev.os || ''),
      h('td', null, ev.browser || ''),
      h('td', null, ev.device || ''))))));
  return parts;
}

/** The targets table with keyed rows, so polling keeps expanders and focus. */
function targetsTable() {
  const tbody = h('tbody');
  const rows = new Map();   // target id → {row, detail, cells, key, expanded}
  let order = '';
  const COLS = 7;

  function makeEntry(target) {
    const detailId = uid('events');
    const exp = h('button', {
      type: 'button', class: 'expander', 'aria-expanded': 'false', 'aria-controls': detailId,
    }, icon('chevron', ''));
    const entry = { row: null, detail: null, key: '', expanded: false, exp, target };
    exp.addEventListener('click', () => {
      entry.expanded = !entry.expanded;
      exp.setAttribute('aria-expanded', String(entry.expanded));
      entry.detail.hidden = !entry.expanded;
      if (entry.expanded) replace(entry.detail.firstChild, eventsTable(entry.target));
    });
    entry.row = h('tr', { dataset: { target: target.id, email: target.email } }, h('td', null, exp));
    entry.detail = h('tr', { class: 'detail-row', id: detailId, hidden: true },
      h('td', { colspan: String(COLS) }));
    return entry;
  }

  function fill(entry, target) {
    entry.target = target;
    entry.exp.setAttribute('aria-label', t('target.show_events', { name: fullName(target) || target.email }));
    while (entry.row.children.length > 1) entry.row.lastChild.remove();
    entry.row.append(
      h('td', null, fullName(target)),
      h('td', null, target.email),
      h('td', null, target.department || ''),
      h('td', null, target.position || ''),
      h('td', { class: 'target-status' }, statusBadge(target.status)),
      h('td', { class: 'nowrap muted' }, formatTime(target.sent_at)));
    if (entry.expanded) replace(entry.detail.firstChild, eventsTable(target));
  }

  function update(targets) {
    const seen = new Set();
    for (const target of targets) {
      const id = String(target.id);
      seen.add(id);
      let entry = rows.get(id);
      if (!entry) { entry = makeEntry(target); rows.set(id, entry); }
      const key = JSON.stringify(target);
      if (key !== entry.key) { entry.key = key; fill(entry, target); }
    }
    for (const [id, entry] of rows) {
      if (!seen.has(id)) { entry.row.remove(); entry.detail.remove(); rows.delete(id); }
    }
    const newOrder = targets.map((x) => x.id).join(',');
    if (newOrder !== order) {
      order = newOrder;
      for (const target of targets) {
        const entry = rows.get(String(target.id));
        tbody.append(entry.row, entry.detail);
      }
    }
  }

  const el = h('div', { class: 'table-wrap' },
    h('table', { class: 'table', id: 'targets-table' },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('target.events'))),
        ['target.name', 'target.email', 'target.department', 'target.position', 'target.status', 'target.sent_at']
          .map((k) => h('th', { scope: 'col' }, t(k))))),
      tbody));
  el.update = update;
  return el;
}

async function loadTargets(id, status) {
  const items = [];
  let after;
  for (let page = 0; page < 50; page += 1) {
    const res = await api.get(`/campaigns/${id}/targets`, { status, limit: 500, after });
    items.push(...(res.items || []));
    if (!res.next_after) break;
    after = res.next_after;
  }
  return items;
}

export async function render({ main, params }) {
  const id = encodeURIComponent(params.id);
  let campaign;
  try {
    campaign = await api.get(`/campaigns/${id}`);
  } catch (err) {
    replace(main, pageHeader(t('campaign.title')), errorAlert(err));
    return undefined;
  }

  const badgeSlot = h('span', { id: 'campaign-state' });
  const subtitle = h('span');
  const stats = statTiles();
  const funnelSlot = h('div', { id: 'funnel' });
  const table = targetsTable();
  const tableSlot = h('div', null, table);
  const empty = emptyState(t('campaign.no_targets_title'), t('campaign.no_targets_text'), null, 'users');
  const pollError = h('div', { 'aria-live': 'polite' });
  const statusFilter = select([{ value: '', label: t('common.all') }]
    .concat(STATUSES.map((st) => ({ value: st, label: t(`status.${st}`) }))), { name: 'status', class: 'status-filter' });

  const launchBtn = button('primary', t('campaign.launch'), () => busy(launchBtn, async () => {
    try {
      await api.post(`/campaigns/${id}/launch`);
      toast(t('new.launched', { name: campaign.name }), 'success');
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
    await refresh();
  }), { id: 'launch' });
  const cancelBtn = button('danger', t('campaign.cancel'), async () => {
    const ok = await confirmDialog(t('campaign.cancel_title'), t('campaign.cancel_text', { name: campaign.name }), t('campaign.cancel'));
    if (!ok) return;
    await busy(cancelBtn, async () => {
      try {
        await api.post(`/campaigns/${id}/cancel`);
        toast(t('campaign.cancelled'), 'success');
      } catch (err) {
        toast(errorMessage(err), 'error');
      }
      await refresh();
    });
  }, { id: 'cancel' });
  const csvLink = linkButton('secondary', t('campaign.download_csv'), apiUrl(`/campaigns/${id}/results.csv`),
    { id: 'results-csv', download: '訓練結果.csv' });

  let lastState = '';
  function showCampaign(c) {
    campaign = c;
    if (c.state !== lastState) {
      lastState = c.state;
      replace(badgeSlot, stateBadge(c.state));
    }
    const bits = [`${t('campaign.scenario')}: ${c.scenario_name || ''}`, `${t('common.created_at')}: ${formatTime(c.created_at)}`];
    if (c.launched_at) bits.push(`${t('campaign.launched_at')}: ${formatTime(c.launched_at)}`);
    if (c.test_only) bits.push(t('campaign.test_only'));
    subtitle.textContent = bits.join(' ・ ');
    launchBtn.hidden = c.state !== 'draft';
    cancelBtn.hidden = !ACTIVE.includes(c.state);
    stats.update(c);
    replace(funnelSlot, funnel(c.counts));
  }

  async function refresh() {
    const [c, targets] = await Promise.all([api.get(`/campaigns/${id}`), loadTargets(id, statusFilter.value)]);
    showCampaign(c);
    table.update(targets);
    const wantEmpty = !targets.length;
    if (wantEmpty !== tableSlot.contains(empty)) replace(tableSlot, wantEmpty ? empty : table);
    replace(pollError);
  }

  statusFilter.addEventListener('change', () => refresh().catch(() => {}));

  const header = pageHeader(campaign.name, { badge: badgeSlot, actions: [launchBtn, csvLink, cancelBtn] });
  header.querySelector('.title-row').parentNode.appendChild(h('p', { class: 'subtitle' }, subtitle));
  replace(main,
    header,
    pollError,
    stats,
    card(t('campaign.funnel'), [funnelSlot, h('p', { class: 'muted small mb-0' }, t('campaign.funnel_note'))]),
    card(t('campaign.targets'), tableSlot, {
      flush: true,
      actions: h('div', { class: 'inline-form' }, field(t('campaign.filter_status'), statusFilter)),
    }));
  try {
    await refresh();
  } catch (err) {
    replace(pollError, errorAlert(err));
  }

  // Live updates while the page is open.
  let stopped = false;
  let timer;
  async function tick() {
    try {
      // A hidden tab skips the fetch; the next visible tick catches up.
      if (!document.hidden) await refresh();
    } catch (err) {
      if (!stopped) replace(pollError, errorAlert(err, { title: t('campaign.poll_failed') }));
    } finally {
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    }
  }
  timer = setTimeout(tick, POLL_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
