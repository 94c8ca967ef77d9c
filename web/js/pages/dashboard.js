// Dashboard (訓練一覧): every campaign with its state and main counts.

import { h, replace, formatTime, formatCount } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, card, table, stateBadge, linkButton, emptyState, errorAlert, canWrite } from '../ui.js';

export const titleKey = 'dashboard.title';

function row(c) {
  const n = c.counts || {};
  return h('tr', { dataset: { campaign: c.id } },
    h('td', { class: 'wrap' }, h('a', { href: `#/campaigns/${encodeURIComponent(c.id)}` }, c.name)),
    h('td', null, stateBadge(c.state)),
    h('td', { class: 'num' }, formatCount(n.targets)),
    h('td', { class: 'num' }, formatCount(n.sent)),
    h('td', { class: 'num' }, formatCount(n.opened)),
    h('td', { class: 'num' }, formatCount(n.clicked)),
    h('td', { class: 'num' }, formatCount(n.submitted)),
    h('td', { class: 'nowrap muted' }, formatTime(c.created_at)));
}

async function loadAll() {
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

export async function render({ main, user }) {
  // A read-only account gets no way to create a campaign.
  const writable = canWrite(user);
  const newBtn = writable ? linkButton('primary', t('dashboard.new'), '#/campaigns/new', { id: 'new-campaign' }) : null;
  const header = pageHeader(t('dashboard.title'), { subtitle: t('dashboard.subtitle'), actions: newBtn });
  let body;
  try {
    const items = await loadAll();
    if (!items.length) {
      body = card(null, emptyState(t('dashboard.empty_title'), t('dashboard.empty_text'),
        writable ? linkButton('primary', t('dashboard.new'), '#/campaigns/new') : null, 'flag'));
    } else {
      body = card(null, table([
        { label: t('campaign.name') },
        { label: t('campaign.state') },
        { label: t('stat.targets'), class: 'num' },
        { label: t('stat.sent'), class: 'num' },
        { label: t('stat.opened'), class: 'num' },
        { label: t('stat.clicked'), class: 'num' },
        { label: t('stat.submitted'), class: 'num' },
        { label: t('common.created_at') },
      ], items.map(row), { id: 'campaigns-table' }), { flush: true });
    }
  } catch (err) {
    body = errorAlert(err);
  }
  replace(main, header, body);
}
