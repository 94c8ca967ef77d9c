// The targets card of the campaign page (訓練結果): search, status filter,
// server-side pages (next_after cursors, previous/next, page size), and
// rows that expand to the target's whole event history — time, kind (with
// how a file open came in: PDF内リンククリック or the picture), IP,
// OS, browser, device, user agent, and the 機械判定 badge on events the
// exclusion rules count as a mail-check system's. Rows are keyed by target,
// so the 2-second refresh keeps open rows open and focus where it is.

import { h, replace, formatTime, formatTimeSeconds, formatCount, fullName, uid, debounce } from '../dom.js';
import { t, tv } from '../i18n.js';
import { api } from '../api.js';
import {
  field, input, select, button, statusBadge, emptyState, errorAlert, icon, spinner,
} from '../ui.js';
import { scanTargets } from '../results.js';

export const TARGET_STATUSES = ['pending', 'sent', 'send_error', 'opened', 'file_opened', 'clicked', 'submitted'];
const PAGE_SIZES = [50, 100, 500];
const DEFAULT_SIZE = 100;
const SEARCH_DELAY = 300;
const COLS = 7;

/** The reasons the API gives for an event ("scanner_ua", "fast", …), in words. */
function machineReasons(ev, seconds) {
  const raw = ev.reasons || ev.machine_reasons || [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.filter(Boolean).map((r) => {
    if (r === 'fast') return t('event.machine_window', { seconds: formatCount(seconds) });
    return typeof r === 'string' ? tv('reason', r) : String(r.reason || r.code || '');
  });
}

function machineBadge(ev, seconds) {
  const reasons = machineReasons(ev, seconds);
  const why = reasons.length ? reasons.join(t('chart.separator'))
    : t('event.machine_window', { seconds: formatCount(seconds) });
  return h('span', { class: 'machine' },
    h('span', { class: 'badge badge--machine', title: why }, t('event.machine')),
    h('span', { class: 'machine-why small muted' }, why));
}

/** A person's event with a hint only (a click with no open): shown, not judged. */
function machineHint(ev, seconds) {
  const reasons = machineReasons(ev, seconds);
  if (!reasons.length) return '';
  return h('span', { class: 'machine-why machine-hint small muted', dataset: { hint: 'true' } },
    `${t('event.hint')}: ${reasons.join(t('chart.separator'))}`);
}

/**
 * How a ファイル開封 came in, under the kind's badge: the link in a PDF
 * (PDF内リンククリック, the dependable PDF signal) or the file's beacon
 * picture. Other vias (a report's imap/link) show no sub-label.
 */
function viaLabel(ev) {
  if (ev.kind !== 'file_opened' || (ev.via !== 'pdf_link' && ev.via !== 'image')) return null;
  return h('div', { class: 'small muted event-via', dataset: { via: ev.via } }, t(`event.via_${ev.via}`));
}

function eventRow(ev, seconds) {
  const fields = Array.isArray(ev.fields) && ev.fields.length
    ? h('div', { class: 'small muted' }, t('event.fields', { fields: ev.fields.join(', ') })) : null;
  const codes = Array.isArray(ev.reasons) ? ev.reasons.join(' ') : '';
  return h('tr', { dataset: { kind: ev.kind, machine: ev.machine ? 'true' : 'false', reasons: codes }, class: ev.machine ? 'is-machine' : null },
    h('td', { class: 'nowrap' }, formatTimeSeconds(ev.at)),
    h('td', null, statusBadge(ev.kind), viaLabel(ev), fields),
    h('td', { class: 'nowrap' }, ev.ip || ''),
    h('td', null, ev.os || ''),
    h('td', null, ev.browser || ''),
    h('td', null, ev.device || ''),
    h('td', { class: 'wrap ua' }, ev.user_agent ? h('code', null, ev.user_agent) : ''),
    h('td', null, ev.machine ? machineBadge(ev, seconds) : machineHint(ev, seconds)));
}

function eventsTable(target, seconds) {
  const events = target.events || [];
  const parts = [];
  if (target.error) parts.push(h('p', { class: 'alert alert-error small wrap' }, `${t('target.error')}: ${target.error}`));
  if (!events.length) {
    parts.push(h('p', { class: 'muted small mb-0' }, t('target.no_events')));
    return parts;
  }
  parts.push(h('table', { class: 'table table-compact events' },
    h('caption', { class: 'visually-hidden' }, t('target.events_of', { name: fullName(target) || target.email })),
    h('thead', null, h('tr', null,
      ['event.at', 'event.kind', 'event.ip', 'event.os', 'event.browser', 'event.device', 'event.user_agent', 'event.judgement']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', null, events.map((ev) => eventRow(ev, seconds)))));
  return parts;
}

/** The table body with keyed rows: update(targets) redraws only what changed. */
function targetRows(getSeconds) {
  const tbody = h('tbody');
  const rows = new Map();   // target id → {row, detail, key, expanded, exp, target}
  let order = '';

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
      if (entry.expanded) replace(entry.detail.firstChild, eventsTable(entry.target, getSeconds()));
    });
    entry.row = h('tr', { dataset: { target: target.id, email: target.email } }, h('td', null, exp));
    entry.detail = h('tr', { class: 'detail-row', id: detailId, hidden: true }, h('td', { colspan: String(COLS) }));
    return entry;
  }

  function fill(entry, target) {
    entry.target = target;
    entry.exp.setAttribute('aria-label', t('target.show_events', { name: fullName(target) || target.email }));
    while (entry.row.children.length > 1) entry.row.lastChild.remove();
    const machine = (target.events || []).filter((e) => e.machine).length;
    entry.row.append(
      h('td', null, fullName(target)),
      h('td', null, target.email),
      h('td', null, target.department || ''),
      h('td', null, target.position || ''),
      h('td', { class: 'target-status' }, statusBadge(target.status),
        machine ? h('span', { class: 'machine-count small muted' }, t('target.machine_count', { n: machine })) : null),
      h('td', { class: 'nowrap muted' }, formatTime(target.sent_at)));
    if (entry.expanded) replace(entry.detail.firstChild, eventsTable(target, getSeconds()));
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

  /** Redraws the open rows (the exclusion switch changed what counts as a machine's). */
  function redrawOpen() {
    for (const entry of rows.values()) if (entry.expanded) replace(entry.detail.firstChild, eventsTable(entry.target, getSeconds()));
  }
  return { tbody, update, redrawOpen };
}

/**
 * The targets card's parts. opts: campaignId, exclude() → 'on'|'off',
 * seconds() → the campaign's exclusion seconds. Returns {toolbar, body,
 * pager, refresh(total), reset()}: refresh reloads the shown page (total is
 * the campaign's target count, shown when nothing is filtered).
 */
export function targetsView({ campaignId, exclude, seconds }) {
  const state = { q: '', status: '', size: DEFAULT_SIZE, cursors: [null], page: 0, next: null, count: 0 };
  let total = null;
  let seq = 0;

  const search = input({
    type: 'search', name: 'q', autocomplete: 'off', id: 'target-search', placeholder: t('targets.search_placeholder'),
  });
  const searchField = field(t('targets.search'), search);
  searchField.classList.add('field-search');
  const statusFilter = select([{ value: '', label: t('common.all') }]
    .concat(TARGET_STATUSES.map((st) => ({ value: st, label: t(`status.${st}`) }))), { name: 'status', class: 'status-filter', id: 'status-filter' });
  const sizeSelect = select(PAGE_SIZES.map((n) => ({ value: String(n), label: t('recipients.per_page_n', { n }), selected: n === DEFAULT_SIZE })),
    { name: 'size', id: 'targets-size' });
  const busyMark = h('span', { class: 'card-status', 'aria-hidden': 'true' });
  const toolbar = h('div', { class: 'toolbar targets-toolbar' },
    searchField, field(t('campaign.filter_status'), statusFilter), field(t('recipients.per_page'), sizeSelect), busyMark);

  const table = targetRows(seconds);
  const tableEl = h('div', { class: 'table-wrap' },
    h('table', { class: 'table', id: 'targets-table' },
      h('caption', { class: 'visually-hidden' }, t('campaign.targets')),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('target.events'))),
        ['target.name', 'target.email', 'target.department', 'target.position', 'target.status', 'target.sent_at']
          .map((k) => h('th', { scope: 'col' }, t(k))))),
      table.tbody));
  const empty = h('div');
  const errorBox = h('div', { 'aria-live': 'polite' });
  const body = h('div', { class: 'targets-body' }, errorBox, tableEl, empty);
  const range = h('span', { class: 'pager-range', id: 'targets-range', 'aria-live': 'polite' });
  const prev = button('secondary', t('pager.prev'), () => go(-1), { class: 'btn-sm', id: 'targets-prev' });
  const next = button('secondary', t('pager.next'), () => go(1), { class: 'btn-sm', id: 'targets-next' });
  const pager = h('nav', { class: 'pager targets-pager', 'aria-label': t('pager.label'), id: 'targets-pager' },
    range, h('div', { class: 'pager-controls' }, prev, next));

  const filtered = () => Boolean(state.q.trim() || state.status);

  function drawPager() {
    const from = state.count ? state.page * state.size + 1 : 0;
    const to = state.page * state.size + state.count;
    if (!filtered() && total !== null) {
      range.textContent = t('pager.range', { from: formatCount(from), to: formatCount(to), total: formatCount(total) });
    } else {
      range.textContent = t('targets.range', { from: formatCount(from), to: formatCount(to) });
    }
    prev.disabled = state.page === 0;
    next.disabled = state.next === null;
    pager.hidden = state.page === 0 && state.next === null && !state.count;
  }

  function drawEmpty() {
    if (state.count) {
      replace(empty);
      tableEl.hidden = false;
      return;
    }
    tableEl.hidden = true;
    const text = filtered() ? t('targets.no_match_text') : t('campaign.no_targets_text');
    replace(empty, emptyState(filtered() ? t('targets.no_match_title') : t('campaign.no_targets_title'), text, null, 'users'));
  }

  async function load(quiet) {
    const mine = ++seq;
    if (!quiet) replace(busyMark, spinner(true));
    try {
      const q = state.q.trim();
      const res = await scanTargets((after) => api.get(`/campaigns/${campaignId}/targets`, {
        status: state.status || undefined, q: q || undefined, limit: q ? 500 : state.size, after: after ?? undefined,
        exclude: exclude(),
      }), { q, size: state.size, after: state.cursors[state.page] });
      if (mine !== seq) return;
      // A page emptied under us (filters changed what it holds): back to the first.
      if (!res.items.length && state.page > 0 && !quiet) {
        state.page = 0;
        state.cursors = [null];
        load(false);
        return;
      }
      state.count = res.items.length;
      state.next = res.next;
      state.cursors[state.page + 1] = res.next;
      table.update(res.items);
      replace(errorBox);
      drawEmpty();
      drawPager();
    } catch (err) {
      if (mine !== seq) return;
      replace(errorBox, errorAlert(err, quiet ? { title: t('campaign.poll_failed') } : undefined));
      if (!quiet) throw err;
    } finally {
      if (mine === seq) replace(busyMark);
    }
  }

  function go(dir) {
    const page = state.page + dir;
    if (page < 0 || (dir > 0 && state.next === null)) return;
    state.page = page;
    load(false).then(() => tableEl.scrollIntoView({ block: 'nearest' })).catch(() => {});
  }

  function reset() {
    state.page = 0;
    state.cursors = [null];
    return load(false).catch(() => {});
  }

  const onSearch = debounce(() => {
    state.q = search.value;
    reset();
  }, SEARCH_DELAY);
  search.addEventListener('input', onSearch);
  statusFilter.addEventListener('change', () => {
    state.status = statusFilter.value;
    reset();
  });
  sizeSelect.addEventListener('change', () => {
    state.size = Number(sizeSelect.value) || DEFAULT_SIZE;
    reset();
  });

  return {
    toolbar,
    body,
    pager,
    /** Reloads the shown page; `n` is the campaign's number of targets. */
    refresh: (n, quiet = true) => {
      total = Number.isFinite(Number(n)) ? Number(n) : null;
      return load(quiet);
    },
    /** The exclusion switch changed: statuses and the machine badges change with it. */
    reset: () => {
      table.redrawOpen();
      return reset();
    },
    dispose: () => onSearch.cancel(),
  };
}
