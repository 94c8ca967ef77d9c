// 教育資料 (#/education, every tenant role): the awareness texts handed to the
// targets — 訓練前の注意 (`before`) and 訓練後の振り返り (`after`), each in
// Japanese and English (GET /education/{kind}?lang=). The built-in text is
// shown until the tenant saves its own (a note says which); 保存 is PUT
// /education/{kind} with the API's field errors at their field. The HTML and
// PDF downloads are plain links to the API (same-origin GETs with the session
// cookie) and give the saved text. The choice of kind and language is kept in
// the hash (?kind=&lang=) with replaceState, so a reload keeps it. Read-only
// accounts see the text and the downloads without 保存.

import { h, replace, formatTime } from '../dom.js';
import { t, currentLang } from '../i18n.js';
import { api, apiUrl, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, select, linkButton, busy, errorAlert, alert, toast, confirmDialog, canWrite, loading,
} from '../ui.js';

export const titleKey = 'education.title';
export const KINDS = ['before', 'after'];
export const LANGS = ['ja', 'en'];
export const TITLE_MAX = 200;
export const BODY_MAX = 20000;

/** The kind and language to show from the hash's query (unknown values fall back). */
export function educationChoice(query, uiLang) {
  const q = query || {};
  const kind = KINDS.includes(q.kind) ? q.kind : 'before';
  let lang = 'ja';
  if (LANGS.includes(q.lang)) lang = q.lang;
  else if (LANGS.includes(uiLang)) lang = uiLang;
  return { kind, lang };
}

/** The download links' URLs for a kind and language. */
export function educationDownloads(kind, lang) {
  const k = encodeURIComponent(kind);
  return { html: apiUrl(`/education/${k}.html`, { lang }), pdf: apiUrl(`/education/${k}.pdf`, { lang }) };
}

/**
 * The problems the page finds before asking: {field: dictionary key}. The
 * title is one line of 1–200 characters, the body 1–20000 (counted as the
 * server counts: characters, not UTF-16 units).
 */
export function educationProblems(title, body) {
  const out = {};
  const ti = String(title || '');
  const bo = String(body || '');
  if (!ti.trim()) out.title = 'education.err_title';
  else if ([...ti].length > TITLE_MAX) out.title = 'education.err_title_long';
  else if (/[\r\n]/.test(ti)) out.title = 'education.err_title_line';
  if (!bo.trim()) out.body = 'education.err_body';
  else if ([...bo].length > BODY_MAX) out.body = 'education.err_body_long';
  return out;
}

function stateNote(doc) {
  if (!doc.edited) return alert('info', t('education.builtin_note'));
  return h('p', { class: 'muted small mb-0' }, t('education.edited_note', { at: doc.updated_at ? formatTime(doc.updated_at) : '—' }));
}

export async function render({ main, query, user }) {
  const writable = canWrite(user);
  let choice = educationChoice(query, currentLang());
  let loaded = null; // the text as the server has it, to see unsaved edits
  let loadSeq = 0;

  const kindSel = select(KINDS.map((k) => ({ value: k, label: t(`education.kind_${k}`), selected: k === choice.kind })),
    { name: 'kind', id: 'education-kind' });
  const langSel = select(LANGS.map((l) => ({ value: l, label: t(`lang.${l}`), selected: l === choice.lang })),
    { name: 'lang', id: 'education-lang' });
  const titleIn = input({ name: 'title', id: 'education-title', maxlength: String(TITLE_MAX), required: true, autocomplete: 'off', readonly: writable ? null : true });
  const bodyIn = h('textarea', {
    name: 'body', id: 'education-body', class: 'textarea', rows: '18', required: true, readonly: writable ? null : true,
  });
  const f = {
    title: field(t('education.field_title'), titleIn, { name: 'title' }),
    body: field(t('education.field_body'), bodyIn, { name: 'body', help: t('education.body_help') }),
  };
  const note = h('div', { id: 'education-state', 'aria-live': 'polite' });
  const top = h('div', { id: 'education-alert', 'aria-live': 'polite' });
  const htmlLink = linkButton('secondary', t('education.download_html'), '#', { download: '', id: 'education-html' });
  const pdfLink = linkButton('secondary', t('education.download_pdf'), '#', { download: '', id: 'education-pdf' });
  const save = writable ? h('button', { type: 'submit', class: 'btn btn-primary', id: 'education-save' }, t('education.save')) : null;
  const editor = h('div', { id: 'education-editor' }, loading());

  const dirty = () => Boolean(loaded) && writable && (titleIn.value !== loaded.title || bodyIn.value !== loaded.body);

  function keepInHash() {
    const url = `#/education?kind=${encodeURIComponent(choice.kind)}&lang=${encodeURIComponent(choice.lang)}`;
    if (window.location.hash !== url) window.history.replaceState(window.history.state, '', url);
  }

  function showDoc(doc) {
    loaded = { title: doc.title || '', body: doc.body || '' };
    titleIn.value = loaded.title;
    bodyIn.value = loaded.body;
    replace(note, stateNote(doc));
    note.dataset.edited = String(Boolean(doc.edited));
  }

  async function load() {
    const links = educationDownloads(choice.kind, choice.lang);
    htmlLink.href = links.html;
    pdfLink.href = links.pdf;
    replace(top);
    Object.values(f).forEach((x) => x.setError(''));
    const seq = ++loadSeq;
    try {
      const doc = await api.get(`/education/${encodeURIComponent(choice.kind)}`, { lang: choice.lang });
      if (seq !== loadSeq) return; // a newer choice is loading
      showDoc(doc || {});
      replace(editor, form);
    } catch (err) {
      if (seq !== loadSeq) return;
      loaded = null;
      replace(editor, errorAlert(err));
    }
  }

  async function change() {
    const next = { kind: kindSel.value, lang: langSel.value };
    if (dirty()) {
      const ok = await confirmDialog(t('education.discard_title'), t('education.discard_text'), t('education.discard'));
      if (!ok) {
        kindSel.value = choice.kind;
        langSel.value = choice.lang;
        return;
      }
    }
    choice = next;
    keepInHash();
    replace(editor, loading());
    await load();
  }
  kindSel.addEventListener('change', change);
  langSel.addEventListener('change', change);

  const form = h('form', {
    id: 'education-form', novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      if (!writable) return;
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      const problems = educationProblems(titleIn.value, bodyIn.value);
      for (const [name, key] of Object.entries(problems)) f[name].setError(t(key, { n: name === 'title' ? TITLE_MAX : BODY_MAX }));
      if (problems.title || problems.body) {
        (problems.title ? titleIn : bodyIn).focus();
        return;
      }
      busy(save, async () => {
        try {
          const doc = await api.put(`/education/${encodeURIComponent(choice.kind)}`,
            { lang: choice.lang, title: titleIn.value.trim(), body: bodyIn.value });
          showDoc(doc || {});
          toast(t('education.saved', { kind: t(`education.kind_${choice.kind}`), lang: t(`lang.${choice.lang}`) }), 'success');
        } catch (err) {
          const rest = [];
          for (const d of err.details) {
            if (d && f[d.field]) f[d.field].setError(d.message || errorMessage(err));
            else rest.push(d);
          }
          if (rest.length || !err.details.length) replace(top, errorAlert({ ...err, details: rest }));
          const bad = form.querySelector('.has-error input, .has-error textarea');
          if (bad) bad.focus();
        }
      });
    },
  }, note, f.title, f.body, save ? h('div', { class: 'form-actions' }, save) : null);

  keepInHash();
  await load();
  replace(main,
    pageHeader(t('education.title'), { subtitle: t('education.subtitle') }),
    writable ? null : alert('info', t('education.readonly')),
    top,
    card(t('education.choose'), [
      h('div', { class: 'form-grid' },
        field(t('education.kind'), kindSel, { name: 'kind' }),
        field(t('education.lang'), langSel, { name: 'lang', help: t('education.lang_help') })),
      h('div', { class: 'btn-group', role: 'group', 'aria-label': t('education.downloads') }, htmlLink, pdfLink),
      h('p', { class: 'muted small mb-0' }, t('education.downloads_help')),
    ], { attrs: { id: 'education-choice' } }),
    card(t('education.text'), editor, { attrs: { id: 'education-card' } }));
  return undefined;
}
