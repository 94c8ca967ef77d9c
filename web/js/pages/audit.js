// 監査ログ (#/audit, every tenant role): logins, failures, lock-outs, role
// changes, exports, share links and deletions, newest first, 100 at a time
// with さらに表示 (?before=<the oldest id shown>), and the whole log as CSV.
// The operator's all-tenant audit (#/operator/audit) is the same view over
// /operator/audit with a tenant column.

import { h, replace, formatTimeSeconds } from '../dom.js';
import { t, has } from '../i18n.js';
import { api, apiUrl } from '../api.js';
import { pageHeader, card, button, busy, table, errorAlert, loading, linkButton } from '../ui.js';

export const titleKey = 'audit.title';
export const PAGE = 100;

/**
 * The cursor of the next older page: the answer's own (next_before, or
 * next_after as lists give it) if it has one, else the last id when the page
 * was full; null when there is no more.
 */
export function nextBefore(res, limit = PAGE) {
  if (!res) return null;
  const items = Array.isArray(res.items) ? res.items : [];
  if (res.next_before !== undefined) return res.next_before ?? null;
  if (res.next_after !== undefined && res.next_after !== null) return res.next_after;
  if (items.length >= limit && items.length) return items[items.length - 1].id;
  return null;
}

/** The audit action in words ("login.failed" → ログイン失敗); unknown actions as they are. */
export function actionLabel(action) {
  const key = `audit_action.${String(action || '').replace(/[^a-z0-9_]/gi, '_')}`;
  return has(key) ? t(key) : String(action || '');
}

/** Entries not yet shown (a page boundary may repeat one), newest first. */
export function mergeEntries(shown, more) {
  const seen = new Set(shown.map((e) => e.id));
  return [...shown, ...more.filter((e) => !seen.has(e.id))].sort((a, b) => Number(b.id) - Number(a.id));
}

/** The audit table and its paging, over `path` (and `csvPath` for the download). */
export function auditView({ path, csvPath, withTenant, tenantName }) {
  let entries = [];
  let cursor = null;
  const holder = h('div', { id: 'audit' }, loading());
  const more = button('secondary', t('common.load_more'), () => busy(more, () => load(cursor)), { id: 'audit-more', hidden: true });
  const count = h('p', { class: 'muted small', id: 'audit-count', 'aria-live': 'polite' });

  function draw() {
    if (!entries.length) {
      replace(holder, h('p', { class: 'muted mb-0', id: 'audit-empty' }, t('audit.empty')));
      return;
    }
    const cols = [{ label: t('audit.at') }];
    if (withTenant) cols.push({ label: t('audit.tenant') });
    cols.push({ label: t('audit.user') }, { label: t('audit.action') }, { label: t('audit.detail') });
    replace(holder, table(cols, entries.map((e) => h('tr', { dataset: { id: e.id, action: e.action } },
      h('td', { class: 'nowrap' }, formatTimeSeconds(e.at)),
      withTenant ? h('td', null, e.tenant_id ? (e.tenant_name || (tenantName && tenantName(e.tenant_id)) || `#${e.tenant_id}`) : h('span', { class: 'muted' }, t('audit.no_tenant'))) : null,
      h('td', null, e.username || h('span', { class: 'muted' }, '—')),
      h('td', { title: e.action }, actionLabel(e.action)),
      h('td', { class: 'wrap' }, e.detail || ''))), { id: 'audit-table', class: 'table-compact' }));
  }

  async function load(before) {
    try {
      const res = await api.get(path, { limit: PAGE, before: before ?? undefined });
      const items = (res && res.items) || [];
      entries = mergeEntries(entries, items);
      cursor = nextBefore(res);
      more.hidden = cursor === null;
      count.textContent = t('audit.count', { n: entries.length });
      draw();
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }

  const download = csvPath ? h('div', { class: 'btn-group', role: 'group', 'aria-label': t('audit.csv') },
    linkButton('secondary', t('audit.csv_utf8'), apiUrl(csvPath), { download: '', id: 'audit-csv' }),
    linkButton('secondary', t('audit.csv_sjis'), apiUrl(csvPath, { encoding: 'cp932' }), { download: '', id: 'audit-csv-sjis' })) : null;
  return { el: h('div', null, count, holder, h('div', { class: 'form-actions' }, more)), download, load: () => load(null) };
}

export async function render({ main }) {
  const view = auditView({ path: '/audit', csvPath: '/audit.csv' });
  await view.load();
  replace(main,
    pageHeader(t('audit.title'), { subtitle: t('audit.subtitle'), actions: view.download }),
    card(null, view.el, { attrs: { id: 'audit-card' } }));
}
