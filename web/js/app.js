// Entry point: loads the dictionary, asks the server who is logged in, draws
// the app shell (side navigation + header) and runs the hash router.

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

const routes = [
  { path: '/login', page: loginPage, public: true },
  { path: '/campaigns', page: dashboardPage, nav: 'campaigns' },
  { path: '/campaigns/new', page: newCampaignPage, nav: 'new' },
  { path: '/campaigns/:id', page: campaignPage, nav: 'campaigns' },
  { path: '/results', page: trendsPage, nav: 'results' },
  { path: '/lists', page: listsPage, nav: 'lists' },
  { path: '/lists/:id', page: listsPage, nav: 'lists' },
  { path: '/gallery', page: galleryPage, nav: 'gallery' },
  { path: '/scenarios/:id', page: scenarioEditorPage, nav: 'gallery' },
  { path: '/outbox', page: outboxPage, nav: 'outbox' },
  { path: '/outbox/:id', page: outboxPage, nav: 'outbox' },
  { path: '/sending', page: sendingPage, nav: 'sending' },
];

const NAV = [
  { id: 'campaigns', href: '#/campaigns', key: 'nav.campaigns', icon: 'flag' },
  { id: 'new', href: '#/campaigns/new', key: 'nav.new_campaign', icon: 'plus' },
  { id: 'results', href: '#/results', key: 'nav.results', icon: 'chart' },
  { id: 'lists', href: '#/lists', key: 'nav.lists', icon: 'users' },
  { id: 'gallery', href: '#/gallery', key: 'nav.gallery', icon: 'grid' },
  { id: 'outbox', href: '#/outbox', key: 'nav.outbox', icon: 'mail' },
  { id: 'sending', href: '#/sending', key: 'nav.sending', icon: 'send' },
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
  return h('div', { class: 'shell' },
    h('a', { class: 'btn btn-primary skip-link', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); } },
      t('common.skip_to_content')),
    h('nav', { class: 'sidenav', 'aria-label': t('nav.label') },
      h('a', { class: 'brand', href: '#/campaigns' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '訓'), 'Kunren'),
      h('ul', null, NAV.map((n) => h('li', null,
        h('a', { href: n.href, 'aria-current': n.id === navId ? 'page' : null, dataset: { nav: n.id } },
          icon(n.icon), h('span', null, t(n.key)))))),
      h('div', { class: 'sidenav-foot' }, t('app.tagline'))),
    h('header', { class: 'topbar' },
      h('span', { class: 'topbar-tenant' }, user.tenant_name || ''),
      h('span', { class: 'topbar-user' }, user.username ? t('header.signed_in_as', { user: user.username }) : ''),
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
    navigate(session.user ? '/campaigns' : '/login');
    return;
  }
  const { route, params } = found;
  if (!route.public && !session.user) {
    navigate('/login');
    return;
  }
  if (route.public && session.user) {
    navigate('/campaigns');
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
  document.title = `${t(route.page.titleKey)} — Kunren`;
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
  await initI18n();
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
