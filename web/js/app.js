// Entry point: loads the dictionary and the branding, asks the server who is
// logged in, draws the app shell (side navigation by role + header) and runs
// the hash router. Routes a role may not open lead to its home page.

import { h, replace } from './dom.js';
import { initI18n, t, has, setLang, currentLang, onLangChange } from './i18n.js';
import { api, setCsrfToken } from './api.js';
import { parseHash, matchRoute, navigate } from './router.js';
import { icon, toast, loading } from './ui.js';
import * as loginPage from './pages/login.js';
import * as dashboardPage from './pages/dashboard.js';
import * as listsPage from './pages/lists.js';
import * as galleryPage from './pages/gallery.js';
import * as scenarioEditorPage from './pages/scenario-editor.js';
import * as newCampaignPage from './pages/campaign-new.js';
import * as campaignPage from './pages/campaign.js';
import * as outboxPage from './pages/outbox.js';
import * as trendsPage from './pages/trends.js';
import * as sendingPage from './pages/sending.js';
import * as educationPage from './pages/education.js';
import * as resetPage from './pages/password-reset.js';
import * as accountPage from './pages/account.js';
import * as usersPage from './pages/users.js';
import * as tenantPage from './pages/tenant.js';
import * as auditPage from './pages/audit.js';
import * as webhooksPage from './pages/webhooks.js';
import * as opTenantsPage from './pages/operator-tenants.js';
import * as opDeletionsPage from './pages/operator-deletions.js';
import * as opNodesPage from './pages/operator-nodes.js';
import * as opBrandingPage from './pages/operator-branding.js';
import * as opDomainsPage from './pages/operator-domains.js';
import * as opAuditPage from './pages/operator-audit.js';
import { navFor, homePath, routeAllowed } from './nav.js';
import { loadBranding, branding, brandMark } from './branding.js';

// public: no login (login: only when logged out); area: 'operator' for the
// operator's pages, 'any' for every role, else the tenant's pages (nav.js).
const routes = [
  { path: '/login', page: loginPage, public: true, loggedOutOnly: true },
  { path: '/forgot', page: resetPage, public: true },
  { path: '/reset/:token', page: resetPage, public: true },
  { path: '/campaigns', page: dashboardPage, nav: 'campaigns' },
  { path: '/campaigns/new', page: newCampaignPage, nav: 'new', write: true },
  { path: '/campaigns/:id', page: campaignPage, nav: 'campaigns' },
  { path: '/results', page: trendsPage, nav: 'results' },
  { path: '/lists', page: listsPage, nav: 'lists' },
  { path: '/lists/:id', page: listsPage, nav: 'lists' },
  { path: '/gallery', page: galleryPage, nav: 'gallery' },
  { path: '/scenarios/:id', page: scenarioEditorPage, nav: 'gallery' },
  { path: '/outbox', page: outboxPage, nav: 'outbox' },
  { path: '/outbox/:id', page: outboxPage, nav: 'outbox' },
  { path: '/sending', page: sendingPage, nav: 'sending' },
  { path: '/education', page: educationPage, nav: 'education' },
  { path: '/tenant', page: tenantPage, nav: 'tenant' },
  { path: '/users', page: usersPage, nav: 'users', owner: true },
  { path: '/audit', page: auditPage, nav: 'audit' },
  { path: '/webhooks', page: webhooksPage, nav: 'webhooks' },
  { path: '/account', page: accountPage, nav: 'account', area: 'any' },
  { path: '/operator/tenants', page: opTenantsPage, nav: 'op-tenants', area: 'operator' },
  { path: '/operator/deletions', page: opDeletionsPage, nav: 'op-deletions', area: 'operator' },
  { path: '/operator/nodes', page: opNodesPage, nav: 'op-nodes', area: 'operator' },
  { path: '/operator/branding', page: opBrandingPage, nav: 'op-branding', area: 'operator' },
  { path: '/operator/domains', page: opDomainsPage, nav: 'op-domains', area: 'operator' },
  { path: '/operator/audit', page: opAuditPage, nav: 'op-audit', area: 'operator' },
];

const app = document.getElementById('app');
const session = { user: null };
let dispose = null;
let renderSeq = 0;

/** Called by the login page after a successful login. */
export function setSession(user, csrf) {
  session.user = user;
  setCsrfToken(csrf);
}

async function logout() {
  try {
    await api.post('/logout');
  } catch {
    /* the session may already be gone; either way we are logged out */
  }
  setSession(null, null);
  navigate('/login');
}

function langSwitch() {
  const other = currentLang() === 'ja' ? 'en' : 'ja';
  return h('button', {
    type: 'button', class: 'btn btn-secondary btn-sm', id: 'lang-switch',
    lang: other, 'aria-label': t('header.switch_language'),
    onclick: () => setLang(other),
  }, t(`lang.${other}`));
}

function shell(navId, main) {
  const user = session.user || {};
  const nav = navFor(user);
  const home = `#${homePath(user)}`;
  const item = (n) => h('li', null,
    h('a', { href: n.href, 'aria-current': n.id === navId ? 'page' : null, dataset: { nav: n.id } },
      icon(n.icon), h('span', null, t(n.key))));
  const main_ = nav.filter((n) => !n.section);
  const admin = nav.filter((n) => n.section === 'admin');
  return h('div', { class: 'shell' },
    h('a', { class: 'btn btn-primary skip-link', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); } },
      t('common.skip_to_content')),
    h('nav', { class: 'sidenav', 'aria-label': t('nav.label') },
      h('a', { class: 'brand', href: home }, brandMark('brand-logo'), h('span', { class: 'brand-name' }, branding().service_name)),
      h('ul', null, main_.map(item)),
      admin.length ? h('p', { class: 'sidenav-section', 'aria-hidden': 'true' }, user.role === 'operator' ? t('nav.section_self') : t('nav.section_admin')) : null,
      admin.length ? h('ul', null, admin.map(item)) : null,
      h('div', { class: 'sidenav-foot' }, t('app.tagline'))),
    h('header', { class: 'topbar' },
      h('span', { class: 'topbar-tenant' }, user.role === 'operator' ? t('header.operator') : (user.tenant_name || '')),
      h('a', { class: 'topbar-user', href: '#/account', id: 'topbar-account' },
        user.username ? t('header.signed_in_as', { user: user.username }) : ''),
      langSwitch(),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: logout }, t('header.logout'))),
    main);
}

async function render() {
  if (dispose) {
    try { dispose(); } catch { /* a page's cleanup must not block navigation */ }
    dispose = null;
  }
  const { path, query } = parseHash(window.location.hash);
  const found = matchRoute(routes, path);
  if (!found) {
    navigate(homePath(session.user));
    return;
  }
  const { route, params } = found;
  if (!route.public && !session.user) {
    navigate('/login');
    return;
  }
  if (route.loggedOutOnly && session.user) {
    navigate(homePath(session.user));
    return;
  }
  if (!route.public && !routeAllowed(route, session.user)) {
    navigate(homePath(session.user));
    return;
  }
  const main = h('main', { class: 'main', id: 'main', tabindex: '-1' });
  if (route.public) {
    main.classList.add('main-bare');
    replace(app, main);
  }
  else replace(app, shell(route.nav, main));
  replace(main, loading());
  const ctx = { params, query, main, user: session.user, setSession, navigate };
  document.title = `${t(route.page.titleKey)} — ${branding().service_name}`;
  const seq = ++renderSeq;
  const cleanup = await route.page.render(ctx);
  if (seq !== renderSeq) {
    // Navigated away while the page was loading: stop it at once.
    if (typeof cleanup === 'function') cleanup();
    return;
  }
  if (typeof cleanup === 'function') dispose = cleanup;
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
}

function renderSafely() {
  render().catch((err) => {
    console.error(err);
    toast(t('errors.generic'), 'error');
  });
}

async function boot() {
  await Promise.all([initI18n(), loadBranding()]);
  try {
    const me = await api.get('/me');
    setSession(me.user, me.csrf_token);
  } catch {
    setSession(null, null);
  }
  window.addEventListener('hashchange', renderSafely);
  window.addEventListener('kunren:unauthorized', () => {
    if (!session.user) return;
    setSession(null, null);
    toast(t('errors.session_expired'), 'error');
    navigate('/login');
  });
  onLangChange(renderSafely);
  renderSafely();
}

boot().catch((err) => {
  console.error(err);
  // The dictionary itself may be what failed to load: fall back to both languages.
  const text = has('errors.boot') ? t('errors.boot') : 'Kunren を開始できませんでした / The console could not start.';
  replace(app, h('p', { class: 'alert alert-error', role: 'alert' }, text));
});
