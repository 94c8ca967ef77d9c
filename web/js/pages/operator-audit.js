// 監査ログ（全テナント） (#/operator/audit, the operator only): every tenant's
// audit entries, newest first, with the tenant's name; the same view as the
// tenant's own log (pages/audit.js).

import { replace } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, card } from '../ui.js';
import { auditView } from './audit.js';

export const titleKey = 'audit.op_title';

export async function render({ main }) {
  // The entries carry tenant ids; the names come from the tenant list (a deleted tenant stays a number).
  const names = new Map();
  try {
    const res = await api.get('/operator/tenants');
    for (const tn of (res && res.items) || []) names.set(tn.id, tn.name);
  } catch {
    /* ids alone are still an audit log */
  }
  const view = auditView({ path: '/operator/audit', withTenant: true, tenantName: (id) => names.get(id) });
  await view.load();
  replace(main,
    pageHeader(t('audit.op_title'), { subtitle: t('audit.op_subtitle') }),
    card(null, view.el, { attrs: { id: 'audit-card' } }));
}
