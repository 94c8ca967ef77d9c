// 削除記録 (#/operator/deletions, the operator only): what the deletion of a
// tenant removed — by the operator, at the end of the service period, or at
// the date the tenant asked for — kept after the tenant is gone.

import { h, replace, formatTimeSeconds, formatCount } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, card, table, errorAlert, emptyState } from '../ui.js';

export const titleKey = 'deletions.title';

const REASONS = {
  'deleted by the operator': 'deletion_reason.operator',
  'requested by the tenant': 'deletion_reason.requested',
  'service period ended': 'deletion_reason.period_end',
  'creation failed': 'deletion_reason.creation_failed',
};

/** The reason the API logs (English) in the console's language; others as they are. */
export function reasonLabel(reason) {
  const key = REASONS[String(reason || '')];
  return key ? t(key) : String(reason || '');
}

export async function render({ main }) {
  let body;
  try {
    const res = await api.get('/operator/deletions');
    const items = (res && res.items) || [];
    body = items.length ? table([
      { label: t('deletions.at') }, { label: t('deletions.tenant') }, { label: t('deletions.reason') },
      { label: t('deletions.rows'), class: 'num' }, { label: t('deletions.files'), class: 'num' },
    ], items.map((d) => h('tr', { dataset: { tenant: d.tenant_id } },
      h('td', { class: 'nowrap' }, formatTimeSeconds(d.at)),
      h('td', null, h('strong', null, d.tenant_name), h('span', { class: 'muted small' }, ` #${d.tenant_id}`)),
      h('td', null, reasonLabel(d.reason)),
      h('td', { class: 'num' }, formatCount(d.rows)),
      h('td', { class: 'num' }, formatCount(d.files)))), { id: 'deletions-table' })
      : emptyState(t('deletions.empty'), t('deletions.empty_text'), null, 'trash');
  } catch (err) {
    body = errorAlert(err);
  }
  replace(main,
    pageHeader(t('deletions.title'), { subtitle: t('deletions.subtitle') }),
    card(null, body, { attrs: { id: 'deletions-card' }, flush: true }));
}
