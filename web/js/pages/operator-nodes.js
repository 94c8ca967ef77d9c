// ノード (#/operator/nodes, the operator only): the `kunren serve` processes
// on this database (docs/internals/NODES.md), when each started and last said
// it was alive — by the database's clock — and the one this console talks to.

import { h, replace, formatTimeSeconds, formatCount } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, card, table, errorAlert, emptyState } from '../ui.js';

export const titleKey = 'nodes.title';

export async function render({ main }) {
  let body;
  let subtitle = t('nodes.subtitle');
  try {
    const res = await api.get('/operator/nodes');
    const items = (res && res.items) || [];
    if (res && res.lease_seconds) subtitle = t('nodes.subtitle_lease', { n: formatCount(res.lease_seconds) });
    body = items.length ? table([
      { label: t('nodes.id') }, { label: t('nodes.place') }, { label: t('nodes.mode') },
      { label: t('nodes.started') }, { label: t('nodes.seen') }, { label: t('nodes.state') },
    ], items.map((n) => h('tr', { dataset: { node: n.id, alive: n.alive ? '1' : '0', self: n.id === res.this_node ? '1' : '0' } },
      h('td', null, h('code', null, n.id),
        n.id === res.this_node ? h('span', { class: 'muted small', dataset: { self: '1' } }, ` ${t('nodes.this')}`) : null),
      h('td', null, n.place),
      h('td', { dataset: { mode: n.mode } }, n.mode),
      h('td', { class: 'nowrap' }, formatTimeSeconds(n.started_at)),
      h('td', { class: 'nowrap', title: formatTimeSeconds(n.seen_at) }, t('nodes.seen_ago', { n: formatCount(n.seen_seconds_ago) })),
      h('td', null, n.alive
        ? h('span', { class: 'badge badge--active' }, t('nodes.alive'))
        : h('span', { class: 'badge badge--suspended' }, t('nodes.silent'))))), { id: 'nodes-table' })
      : emptyState(t('nodes.empty'), t('nodes.empty_text'), null, 'server');
  } catch (err) {
    body = errorAlert(err);
  }
  replace(main,
    pageHeader(t('nodes.title'), { subtitle }),
    card(null, body, { attrs: { id: 'nodes-card' }, flush: true }));
}
