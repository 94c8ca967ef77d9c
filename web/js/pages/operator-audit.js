// 監査ログ（全テナント） (#/operator/audit, the operator only): every tenant's
// audit entries, newest first, with the tenant's name; the same view as the
// tenant's own log (pages/audit.js).

import { replace } from '../dom.js';
import { t } from '../i18n.js';
import { pageHeader, card } from '../ui.js';
import { auditView } from './audit.js';

export const titleKey = 'audit.op_title';

export async function render({ main }) {
  // Each entry carries its tenant's name (a deleted tenant shows as its number).
  const view = auditView({ path: '/operator/audit', withTenant: true });
  await view.load();
  replace(main,
    pageHeader(t('audit.op_title'), { subtitle: t('audit.op_subtitle') }),
    card(null, view.el, { attrs: { id: 'audit-card' } }));
}
