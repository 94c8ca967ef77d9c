// Who sees which pages: the side navigation of a tenant account (ユーザー管理
// only for the owner) and of the operator (whose navigation replaces the
// tenant pages), the home page of each, and whether a route is open to a user.

import { canWrite } from './ui.js';

/** Navigation entries: id, href, dictionary key, icon, and who sees it. */
const TENANT_NAV = [
  { id: 'campaigns', href: '#/campaigns', key: 'nav.campaigns', icon: 'flag' },
  { id: 'new', href: '#/campaigns/new', key: 'nav.new_campaign', icon: 'plus', write: true },
  { id: 'results', href: '#/results', key: 'nav.results', icon: 'chart' },
  { id: 'lists', href: '#/lists', key: 'nav.lists', icon: 'users' },
  { id: 'gallery', href: '#/gallery', key: 'nav.gallery', icon: 'grid' },
  { id: 'education', href: '#/education', key: 'nav.education', icon: 'doc' },
  { id: 'outbox', href: '#/outbox', key: 'nav.outbox', icon: 'mail' },
  { id: 'sending', href: '#/sending', key: 'nav.sending', icon: 'send' },
  { id: 'tenant', href: '#/tenant', key: 'nav.tenant', icon: 'doc', section: 'admin' },
  { id: 'users', href: '#/users', key: 'nav.users', icon: 'people', section: 'admin', owner: true },
  { id: 'audit', href: '#/audit', key: 'nav.audit', icon: 'list', section: 'admin' },
  { id: 'webhooks', href: '#/webhooks', key: 'nav.webhooks', icon: 'link', section: 'admin' },
  { id: 'account', href: '#/account', key: 'nav.account', icon: 'lock', section: 'admin' },
];

const OPERATOR_NAV = [
  { id: 'op-tenants', href: '#/operator/tenants', key: 'nav.op_tenants', icon: 'building' },
  { id: 'op-deletions', href: '#/operator/deletions', key: 'nav.op_deletions', icon: 'trash' },
  { id: 'op-nodes', href: '#/operator/nodes', key: 'nav.op_nodes', icon: 'server' },
  { id: 'op-branding', href: '#/operator/branding', key: 'nav.op_branding', icon: 'palette' },
  { id: 'op-domains', href: '#/operator/domains', key: 'nav.op_domains', icon: 'globe' },
  { id: 'op-audit', href: '#/operator/audit', key: 'nav.op_audit', icon: 'list' },
  { id: 'account', href: '#/account', key: 'nav.account', icon: 'lock', section: 'admin' },
];

export function isOperator(user) {
  return Boolean(user) && user.role === 'operator';
}

export function isOwner(user) {
  return Boolean(user) && user.role === 'owner';
}

/** The navigation entries the user sees, in order. */
export function navFor(user) {
  if (isOperator(user)) return OPERATOR_NAV;
  return TENANT_NAV.filter((n) => (!n.owner || isOwner(user)) && (!n.write || canWrite(user)));
}

/** Where a user lands after logging in (and on an unknown route). */
export function homePath(user) {
  if (!user) return '/login';
  return isOperator(user) ? '/operator/tenants' : '/campaigns';
}

/**
 * Whether the user may open a route: `area` is 'operator' (operator only),
 * 'any' (every logged-in role: the account page) or the tenant pages
 * (every role but the operator); `owner` routes are for the owner only,
 * `write` routes (訓練作成) not for read-only accounts.
 */
export function routeAllowed(route, user) {
  if (!user) return false;
  if (route.area === 'any') return true;
  if (route.area === 'operator') return isOperator(user);
  if (isOperator(user)) return false;
  if (route.owner) return isOwner(user);
  if (route.write) return canWrite(user);
  return true;
}
