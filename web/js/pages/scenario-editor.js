// シナリオ編集: edit a tenant's scenario (an imported gallery copy or one
// written from scratch) — attributes, sender, subject, the HTML part in a
// visual editor beside its source, the text part (regenerated from the HTML
// on request), the landing and explanation pages, the attachment (see
// attachment-editor.js) and the red flags; preview
// with sample data, save, delete. Trainer HTML is only ever shown inside
// sandboxed iframes (see html-editor.js).

import { h, replace } from '../dom.js';
import { t, tv } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, select, button, linkButton, busy, errorAlert, alert,
  toast, tabs, confirmDialog, canWrite,
} from '../ui.js';
import { GENRES, TYPES, LEVELS, LANGS, attrLabel } from './gallery.js';
import { htmlEditor } from '../html-editor.js';
import { attachmentEditor } from './attachment-editor.js';

export const titleKey = 'editor.title';

export const FLAG_PARTS = ['sender', 'subject', 'body', 'link', 'attachment'];
export const MAX_RED_FLAGS = 10;
const TEXT_FIELDS = ['name', 'description', 'genre', 'type', 'level', 'lang', 'subject',
  'sender_name', 'sender_local', 'sender_domain', 'html', 'text', 'landing_html', 'explain_html',
  'education_url'];

/** The form field an API error detail is about: "red_flags[2].text" → "red_flags". */
export function detailField(name) {
  return String(name || '').split(/[.[]/)[0];
}

/** A new scenario's starting content (valid as it is: a link to {{URL}}). */
function blankScenario() {
  return {
    name: '', description: '', genre: 'その他', type: 'URLリンク型', level: '初級', lang: 'ja',
    subject: '', sender_name: '', sender_local: '', sender_domain: '',
    html: `<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n</head>\n<body>\n<p>{{姓}} {{名}} 様</p>\n<p>${t('editor.new_body')}</p>\n<p><a href="{{URL}}">${t('editor.link_text')}</a></p>\n</body>\n</html>\n`,
    text: `{{姓}} {{名}} 様\n\n${t('editor.new_body')}\n{{URL}}\n`,
    landing_html: '',
    education_url: '',
    explain_html: `<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n</head>\n<body>\n<h1>${t('editor.new_explain')}</h1>\n</body>\n</html>\n`,
    red_flags: [],
  };
}

function attrSelect(kind, map, value, name) {
  const values = Object.keys(map);
  if (value && !values.includes(value)) values.push(value);
  return select(values.map((v) => ({ value: v, label: attrLabel(kind, v), selected: v === value })), { name });
}

function textarea(value, attrs = {}) {
  const el = h('textarea', { rows: '8', spellcheck: 'false', ...attrs, class: ['textarea', attrs.class] });
  el.value = value || '';
  return el;
}

function sandboxFrame(html, title, cls) {
  // sandbox="" : no scripts, no same origin, no forms, no popups.
  return h('iframe', { class: ['frame', cls], sandbox: '', srcdoc: html || '', title, referrerpolicy: 'no-referrer' });
}

/* ---------- red flags ---------- */

function redFlagsEditor(initial) {
  const list = h('ol', { class: 'flag-list' });
  const rows = [];
  const addBtn = button('secondary', t('editor.flag_add'), () => addRow({ part: 'body', text: '' }, true),
    { class: 'btn-sm', id: 'flag-add' });

  function renumber() {
    rows.forEach((r, i) => {
      r.part.setAttribute('aria-label', t('editor.flag_part_n', { n: i + 1 }));
      r.text.setAttribute('aria-label', t('editor.flag_text_n', { n: i + 1 }));
      r.remove.setAttribute('aria-label', t('editor.flag_remove_n', { n: i + 1 }));
    });
    addBtn.disabled = rows.length >= MAX_RED_FLAGS;
  }

  function addRow(flag, focus) {
    const row = {
      part: select(FLAG_PARTS.map((p) => ({ value: p, label: tv('flag', p), selected: p === flag.part })), { class: 'flag-part' }),
      text: input({ value: flag.text || '', class: 'flag-text', maxlength: '1000' }),
    };
    row.remove = button('ghost', t('editor.flag_remove'), () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
      renumber();
    }, { class: 'btn-sm' });
    row.el = h('li', { class: 'flag-row' }, row.part, row.text, row.remove);
    rows.push(row);
    list.appendChild(row.el);
    renumber();
    if (focus) row.text.focus();
  }

  (initial || []).forEach((f) => addRow(f, false));
  renumber();
  return {
    el: h('div', { class: 'flag-editor' }, list, addBtn),
    focus: () => (rows[0] ? rows[0].text : addBtn).focus(),
    value: () => rows.map((r) => ({ part: r.part.value, text: r.text.value.trim() })),
  };
}

/* ---------- the form ---------- */

function buildForm(sc, writable) {
  const c = {
    name: input({ name: 'name', value: sc.name, maxlength: '200', required: true }),
    description: textarea(sc.description, { name: 'description', rows: '3', spellcheck: 'true' }),
    genre: attrSelect('genre', GENRES, sc.genre, 'genre'),
    type: attrSelect('type', TYPES, sc.type, 'type'),
    level: attrSelect('level', LEVELS, sc.level, 'level'),
    lang: attrSelect('lang', LANGS, sc.lang, 'lang'),
    subject: input({ name: 'subject', value: sc.subject, maxlength: '998' }),
    sender_name: input({ name: 'sender_name', value: sc.sender_name, maxlength: '200' }),
    sender_local: input({ name: 'sender_local', value: sc.sender_local, maxlength: '64', autocomplete: 'off' }),
    sender_domain: input({ name: 'sender_domain', value: sc.sender_domain, maxlength: '253', autocomplete: 'off' }),
    text: textarea(sc.text, { name: 'text', rows: '14', class: 'code' }),
    landing_html: textarea(sc.landing_html, { name: 'landing_html', rows: '12', class: 'code' }),
    explain_html: textarea(sc.explain_html, { name: 'explain_html', rows: '12', class: 'code' }),
    education_url: input({ name: 'education_url', value: sc.education_url || '', maxlength: '2000', type: 'url',
      placeholder: 'https://', autocomplete: 'off' }),
  };
  const html = htmlEditor({ value: sc.html });
  const flags = redFlagsEditor(sc.red_flags);
  const attachment = attachmentEditor(sc, { scenarioId: sc.id, writable });
  c.type.addEventListener('change', () => attachment.setType(c.type.value));
  const fields = { attachment: attachment.field };
  const f = (name, label, opts) => { fields[name] = field(label, c[name], { name, ...opts }); return fields[name]; };
  const regen = button('secondary', t('editor.regenerate_text'), () => busy(regen, async () => {
    try {
      const res = await api.post('/scenarios/text-from-html', { html: html.value() });
      c.text.value = res.text || '';
      fields.text.setError('');
      toast(t('editor.text_regenerated'), 'success');
    } catch (err) {
      fields.text.setError(errorMessage(err));
    }
  }), { class: 'btn-sm', id: 'regenerate-text' });

  fields.html = field(t('editor.html'), html.source, { name: 'html', body: html.el });
  fields.red_flags = h('div', { class: 'field', dataset: { field: 'red_flags' } });
  const flagsError = h('p', { class: 'error', hidden: true, id: 'red-flags-error' });
  fields.red_flags.append(flags.el, flagsError);
  fields.red_flags.setError = (text) => {
    flagsError.textContent = text || '';
    flagsError.hidden = !text;
    fields.red_flags.classList.toggle('has-error', Boolean(text));
  };

  const sections = [
    card(t('editor.section_basic'), [
      f('name', t('scenario.name')),
      f('description', t('scenario.description')),
      h('div', { class: 'form-grid' },
        f('genre', t('scenario.genre')), f('type', t('scenario.type')),
        f('level', t('scenario.level')), f('lang', t('scenario.lang'))),
    ]),
    card(t('editor.section_mail'), [
      h('div', { class: 'form-grid' },
        f('sender_name', t('editor.sender_name')),
        f('sender_local', t('editor.sender_local'), { help: t('editor.sender_local_help') }),
        f('sender_domain', t('editor.sender_domain'))),
      f('subject', t('scenario.subject')),
      fields.html,
      f('text', t('editor.text'), { help: t('editor.text_help') }),
      h('div', { class: 'form-actions form-actions-start' }, regen),
    ]),
    card(t('editor.section_pages'), [
      f('landing_html', t('editor.landing'), { help: t('editor.landing_help') }),
      f('explain_html', t('editor.explain')),
      f('education_url', t('editor.education_url'), { help: t('editor.education_url_help') }),
    ]),
    card(t('attach.section'), attachment.el),
    card(t('preview.red_flags'), fields.red_flags),
  ];

  return {
    sections,
    fields,
    html,
    flags,
    controls: c,
    value() {
      const out = {};
      for (const k of TEXT_FIELDS) out[k] = k === 'html' ? html.value() : c[k].value;
      out.name = out.name.trim();
      if (!out.landing_html.trim()) out.landing_html = null;
      out.red_flags = flags.value();
      out.attachment = attachment.value();
      return out;
    },
  };
}

/* ---------- errors ---------- */

/** Shows each detail by its field; returns the details no field took. */
function showFieldErrors(form, err) {
  const rest = [];
  for (const d of (err && err.details) || []) {
    const wrap = form.fields[detailField(d.field)];
    const text = d.message || d.reason || '';
    if (wrap && text) wrap.setError(text);
    else rest.push(d);
  }
  return rest;
}

function clearFieldErrors(form) {
  Object.values(form.fields).forEach((w) => w.setError(''));
}

function focusFirstError(main) {
  const bad = main.querySelector('.field.has-error textarea, .field.has-error input, .field.has-error select');
  if (bad) bad.focus();
}

/* ---------- preview ---------- */

function renderPreview(out, res) {
  const items = [
    { id: 'html', label: t('preview.html'), render: () => sandboxFrame(res.html, t('preview.html'), 'preview-html') },
    { id: 'text', label: t('preview.text'), render: () => h('pre', { class: 'text-part preview-text' }, res.text || '') },
  ];
  if (res.landing_html) {
    items.push({ id: 'landing', label: t('preview.landing'), render: () => sandboxFrame(res.landing_html, t('preview.landing'), 'preview-landing') });
  }
  items.push({ id: 'explain', label: t('preview.explain'), render: () => sandboxFrame(res.explain_html, t('preview.explain'), 'preview-explain') });
  replace(out,
    h('dl', { class: 'kv' }, h('dt', null, t('scenario.subject')), h('dd', { class: 'preview-subject' }, res.subject || '')),
    tabs(items, { label: t('gallery.preview') }));
}

/* ---------- the page ---------- */

async function loadScenario(id) {
  if (id === 'new') return blankScenario();
  return api.get(`/scenarios/${encodeURIComponent(id)}`);
}

export async function render({ main, params, navigate, user }) {
  const isNew = params.id === 'new';
  const writable = canWrite(user);
  if (isNew && !writable) {
    navigate('/gallery?tab=imported');
    return undefined;
  }
  let sc;
  try {
    sc = await loadScenario(params.id);
  } catch (err) {
    replace(main, pageHeader(t('editor.title')), errorAlert(err));
    return undefined;
  }
  const form = buildForm(sc, writable);
  const messages = h('div', { id: 'editor-messages', 'aria-live': 'polite' });
  const previewOut = h('div', { id: 'editor-preview' }, h('p', { class: 'muted' }, t('editor.preview_hint')));

  function fail(err, title) {
    const rest = showFieldErrors(form, err);
    replace(messages, errorAlert({ ...err, details: rest }, { title }));
    focusFirstError(main);
  }

  async function preview() {
    clearFieldErrors(form);
    replace(messages);
    const v = form.value();
    const body = { subject: v.subject, html: v.html, text: v.text, explain_html: v.explain_html };
    if (v.landing_html) body.landing_html = v.landing_html;
    try {
      renderPreview(previewOut, await api.post('/scenarios/preview', body));
      previewOut.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      fail(err, t('editor.preview_failed'));
    }
  }

  async function save() {
    clearFieldErrors(form);
    replace(messages);
    const v = form.value();
    try {
      if (isNew) {
        const { red_flags: flags, ...rest } = v;
        const created = await api.post('/scenarios', rest);
        if (flags.length) await api.patch(`/scenarios/${created.id}`, { red_flags: flags });
        toast(t('editor.created', { name: created.name }), 'success');
        navigate(`/scenarios/${created.id}`);
        return;
      }
      const saved = await api.patch(`/scenarios/${encodeURIComponent(sc.id)}`, v);
      sc = saved || { ...sc, ...v };
      heading.textContent = sc.name;
      replace(messages, alert('success', t('editor.saved')));
      toast(t('editor.saved'), 'success');
    } catch (err) {
      fail(err, t('editor.save_failed'));
    }
  }

  async function remove() {
    const ok = await confirmDialog(t('editor.delete_title'), t('editor.delete_confirm', { name: sc.name }), t('editor.delete'));
    if (!ok) return;
    try {
      await api.del(`/scenarios/${encodeURIComponent(sc.id)}`);
      toast(t('editor.deleted', { name: sc.name }), 'success');
      navigate('/gallery?tab=imported');
    } catch (err) {
      replace(messages, err.code === 'in_use'
        ? alert('error', h('strong', null, t('editor.delete_in_use')), h('div', null, err.serverMessage || ''))
        : errorAlert(err, { title: t('editor.delete_failed') }));
      messages.scrollIntoView({ block: 'nearest' });
    }
  }

  const saveBtn = button('primary', t('editor.save'), () => busy(saveBtn, save), { id: 'editor-save' });
  const previewBtn = button('secondary', t('editor.preview_run'), () => busy(previewBtn, preview), { class: 'btn-sm', id: 'editor-preview-btn' });
  const actions = [
    linkButton('ghost', t('editor.back'), '#/gallery?tab=imported'),
    isNew || !writable ? null : button('danger', t('editor.delete'), remove, { id: 'editor-delete' }),
    writable ? saveBtn : null,
  ];
  const header = pageHeader(isNew ? t('editor.new_title') : sc.name, {
    subtitle: sc.gallery_id ? t('editor.from_gallery', { id: sc.gallery_id }) : t('editor.subtitle'),
    actions,
  });
  const heading = header.querySelector('h1');
  const formEl = h('form', { class: 'editor-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); if (writable) busy(saveBtn, save); } },
    writable ? form.sections : h('fieldset', { class: 'readonly-fieldset', disabled: true }, form.sections));
  replace(main, header, writable ? null : alert('info', t('editor.readonly')), messages,
    h('div', { class: 'editor-layout' },
      h('div', { class: 'editor-main' }, formEl),
      h('aside', { class: 'editor-side' },
        card(t('editor.preview_title'), previewOut, { actions: previewBtn }))));
  return () => form.html.dispose();
}
