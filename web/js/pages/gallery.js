// Gallery and scenarios (訓練シナリオ): filter and search the built-in
// gallery, preview a scenario (mail, text part, red flags, landing and
// explanation pages in sandboxed frames), import it, and list the imported ones.
// A read-only account previews and lists, without import, edit or new.

import { h, replace, formatTime } from '../dom.js';
import { t, tv } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, table, field, input, select, button, linkButton, busy, emptyState,
  errorAlert, toast, openModal, tabs, tag, loading, canWrite,
} from '../ui.js';

export const titleKey = 'gallery.title';

// API values (as the gallery stores them) → dictionary keys.
export const GENRES = { 社内業務連絡: 'internal', '社外/取引先': 'partner', 外部組織: 'external', 通知系: 'notification', その他: 'other' };
export const TYPES = { URLリンク型: 'link', 添付ファイル型: 'attachment', 複合型: 'combined' };
export const LEVELS = { 初級: 'beginner', 中級: 'intermediate', 上級: 'advanced' };
export const LANGS = { ja: 'ja', en: 'en' };

/** The translated label of a gallery attribute value (unknown values as they are). */
export function attrLabel(kind, value) {
  const map = { genre: GENRES, type: TYPES, level: LEVELS, lang: LANGS }[kind];
  const key = map && map[value];
  return key ? t(`${kind}.${key}`) : String(value ?? '');
}

function scenarioTags(sc) {
  return h('div', { class: 'tags' },
    ['genre', 'type', 'level', 'lang'].filter((k) => sc[k]).map((k) => tag(attrLabel(k, sc[k]))));
}

export function senderText(name, local, domain) {
  const addr = local || domain ? `${local || ''}@${domain || ''}` : '';
  if (name && addr) return `${name} <${addr}>`;
  return name || addr;
}

function escapeHtml(v) {
  return String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** Fills merge fields ({{姓}}, {{url}}…) with sample values for the preview. */
function previewMerge(html, sc) {
  const samples = {
    姓: t('preview.sample_last_name'), last_name: t('preview.sample_last_name'),
    名: t('preview.sample_first_name'), first_name: t('preview.sample_first_name'),
    メールアドレス: 'yamada.taro@example.jp', email: 'yamada.taro@example.jp',
    部署: t('preview.sample_department'), department: t('preview.sample_department'),
    役職: t('preview.sample_position'), position: t('preview.sample_position'),
    // Links go nowhere in the gallery's sandboxed frame: neither a click nor a report.
    URL: '#', url: '#', 報告URL: '#', report_url: '#',
    送信元名: sc.sender_name || '', sender_name: sc.sender_name || '',
    送信元アドレス: `${sc.sender_local || ''}@${sc.sender_domain || ''}`,
    sender_email: `${sc.sender_local || ''}@${sc.sender_domain || ''}`,
    送信日: '2026/11/27', send_date: '2026/11/27', パスワード: 'Kr7xQ2pM', password: 'Kr7xQ2pM',
  };
  return String(html || '').replace(/\{\{\s*([^}|\s]+)\s*(\|[^}]*)?\}\}/g,
    (all, name) => (Object.prototype.hasOwnProperty.call(samples, name) ? escapeHtml(samples[name]) : ''));
}

function frame(html, title, cls) {
  // sandbox="" : no scripts, no same-origin, no forms, no popups.
  return h('iframe', { class: ['frame', cls], sandbox: '', srcdoc: html, title, referrerpolicy: 'no-referrer' });
}

async function importScenario(id, onImported) {
  try {
    const sc = await api.post('/scenarios', { gallery_id: id });
    toast(t('gallery.imported', { name: sc.name || id }), 'success');
    onImported(sc);
    return sc;
  } catch (err) {
    toast(errorMessage(err), 'error');
    return null;
  }
}

async function showPreview(id, onImported) {
  const body = h('div', null, loading());
  const importBtn = !onImported ? null : button('primary', t('gallery.import'), () => busy(importBtn, async () => {
    if (await importScenario(id, onImported)) m.close();
  }), { id: 'preview-import' });
  const m = openModal({
    title: t('gallery.preview'),
    body,
    footer: [button('secondary', t('common.close'), () => m.close()), importBtn],
  });
  m.dialog.id = 'preview';
  try {
    const sc = await api.get(`/gallery/${encodeURIComponent(id)}`);
    m.dialog.querySelector('h2').textContent = sc.name;
    const items = [
      { id: 'html', label: t('preview.html'), render: () => frame(previewMerge(sc.html, sc), t('preview.html'), 'preview-html') },
      { id: 'text', label: t('preview.text'), render: () => h('pre', { class: 'text-part preview-text' }, previewMerge(sc.text, sc)) },
      {
        id: 'flags', label: t('preview.red_flags'),
        render: () => ((sc.red_flags || []).length
          ? h('ul', { class: 'red-flags' }, sc.red_flags.map((f) =>
            h('li', null, tag(tv('flag', f.part)), h('span', null, f.text))))
          : h('p', { class: 'muted' }, t('preview.no_red_flags'))),
      },
    ];
    if (sc.landing_html) {
      items.push({ id: 'landing', label: t('preview.landing'), render: () => frame(previewMerge(sc.landing_html, sc), t('preview.landing')) });
    }
    items.push({ id: 'explain', label: t('preview.explain'), render: () => frame(previewMerge(sc.explain_html, sc), t('preview.explain')) });
    replace(body,
      h('dl', { class: 'kv' },
        h('dt', null, t('scenario.subject')), h('dd', { class: 'preview-subject' }, sc.subject),
        h('dt', null, t('scenario.sender')), h('dd', { class: 'preview-sender' }, senderText(sc.sender_name, sc.sender_local, sc.sender_domain)),
        h('dt', null, t('scenario.description')), h('dd', null, sc.description || ''),
        h('dt', null, t('scenario.attributes')), h('dd', null, scenarioTags(sc))),
      tabs(items, { label: t('gallery.preview') }));
  } catch (err) {
    replace(body, errorAlert(err));
  }
}

function scenarioCard(sc, onImported) {
  const importBtn = !onImported ? null : button('primary', t('gallery.import'), () => busy(importBtn, () => importScenario(sc.id, onImported)),
    { class: 'btn-sm', 'aria-label': `${t('gallery.import')}: ${sc.name}` });
  return h('article', { class: 'card scenario-card', dataset: { scenario: sc.id } },
    h('div', { class: 'card-body' },
      h('h3', null, sc.name),
      scenarioTags(sc),
      h('p', { class: 'desc mb-0' }, sc.description || ''),
      h('div', { class: 'subject' }, h('span', { class: 'muted' }, `${t('scenario.subject')}: `), sc.subject)),
    h('div', { class: 'card-foot' },
      button('secondary', t('gallery.preview'), () => showPreview(sc.id, onImported),
        { class: 'btn-sm', 'aria-label': `${t('gallery.preview')}: ${sc.name}`, dataset: { preview: sc.id } }),
      importBtn));
}

function filterSelect(kind, map) {
  const options = [{ value: '', label: t('common.all') }].concat(
    Object.keys(map).map((v) => ({ value: v, label: attrLabel(kind, v) })));
  return select(options, { name: kind });
}

/** "社内業務連絡 (38)": how many scenarios each choice would show with the other filters. */
export function facetLabel(base, n) {
  return `${base} (${n || 0})`;
}

function showFacetCounts(controls, facets) {
  for (const kind of ['genre', 'type', 'level', 'lang']) {
    for (const opt of controls[kind].options) {
      if (!opt.value) continue;
      opt.textContent = facetLabel(attrLabel(kind, opt.value), (facets[kind] || {})[opt.value]);
    }
  }
}

function galleryPanel(onImported) {
  const controls = {
    genre: filterSelect('genre', GENRES),
    type: filterSelect('type', TYPES),
    level: filterSelect('level', LEVELS),
    lang: filterSelect('lang', LANGS),
    q: input({ type: 'search', name: 'q', placeholder: t('gallery.search_placeholder'), autocomplete: 'off' }),
  };
  const results = h('div', { id: 'gallery-results', 'aria-live': 'polite' }, loading());
  let seq = 0;
  async function load() {
    const mine = ++seq;
    const query = Object.fromEntries(Object.entries(controls).map(([k, el]) => [k, el.value.trim()]));
    try {
      const res = await api.get('/gallery', query);
      if (mine !== seq) return;
      const items = res.items || [];
      showFacetCounts(controls, res.facets || {});
      replace(results, items.length
        ? [h('p', { class: 'muted small' }, t('gallery.count', { n: items.length })),
          h('div', { class: 'gallery-grid' }, items.map((sc) => scenarioCard(sc, onImported)))]
        : emptyState(t('gallery.none_title'), t('gallery.none_text'), null, 'grid'));
    } catch (err) {
      if (mine === seq) replace(results, errorAlert(err));
    }
  }
  let timer;
  controls.q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 300); });
  for (const k of ['genre', 'type', 'level', 'lang']) controls[k].addEventListener('change', load);
  const form = h('form', { class: 'filters card-body', role: 'search', onsubmit: (e) => { e.preventDefault(); load(); } },
    field(t('scenario.genre'), controls.genre),
    field(t('scenario.type'), controls.type),
    field(t('scenario.level'), controls.level),
    field(t('scenario.lang'), controls.lang),
    h('div', { class: 'field-search' }, field(t('gallery.search'), controls.q)));
  load();
  return h('div', null, h('div', { class: 'card' }, form), results);
}

function newButton() {
  return linkButton('primary', t('gallery.new_scenario'), '#/scenarios/new', { class: 'btn-sm', id: 'scenario-new' });
}

function importedPanel(writable) {
  const holder = h('div', { id: 'imported-scenarios' }, loading());
  async function load() {
    try {
      const res = await api.get('/scenarios', { limit: 500 });
      const items = res.items || [];
      replace(holder, writable ? h('div', { class: 'form-actions form-actions-start mb-3' }, newButton()) : null, items.length
        ? card(null, table([
          { label: t('scenario.name') },
          { label: t('scenario.subject') },
          { label: t('scenario.attributes') },
          { label: t('common.created_at') },
          writable ? { label: t('common.actions') } : null,
        ].filter(Boolean), items.map((sc) => h('tr', { dataset: { scenario: sc.id, gallery: sc.gallery_id || '' } },
          h('td', { class: 'wrap' }, h('strong', null, sc.name), sc.gallery_id ? h('div', { class: 'muted small' }, sc.gallery_id) : null),
          h('td', { class: 'wrap' }, sc.subject || ''),
          h('td', { class: 'wrap' }, scenarioTags(sc)),
          h('td', { class: 'nowrap muted' }, formatTime(sc.created_at)),
          writable && h('td', { class: 'nowrap' },
            h('div', { class: 'btn-row' },
              linkButton('secondary', t('gallery.edit'), `#/scenarios/${encodeURIComponent(sc.id)}`,
                { class: 'btn-sm', 'aria-label': `${t('gallery.edit')}: ${sc.name}`, dataset: { edit: sc.id } }),
              linkButton('secondary', t('gallery.use'), `#/campaigns/new?scenario=${encodeURIComponent(sc.id)}`, { class: 'btn-sm' })))))),
        { flush: true })
        : card(null, emptyState(t('gallery.no_imported_title'), t('gallery.no_imported_text'), writable ? newButton() : null, 'grid')));
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }
  load();
  holder.reload = load;
  return holder;
}

export async function render({ main, query, user }) {
  const writable = canWrite(user);
  const imported = importedPanel(writable);
  // A read-only account previews the gallery but imports nothing.
  const onImported = writable ? () => imported.reload() : null;
  const gallery = galleryPanel(onImported);
  const view = tabs([
    { id: 'gallery', label: t('gallery.tab_gallery'), render: () => gallery },
    { id: 'imported', label: t('gallery.tab_imported'), render: () => imported },
  ], { label: t('gallery.title') });
  if (query.tab === 'imported') view.select('imported');
  replace(main, pageHeader(t('gallery.title'), { subtitle: t('gallery.subtitle') }), view);
}
