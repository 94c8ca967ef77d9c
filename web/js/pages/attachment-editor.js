// The scenario editor's attachment section (docs/SCENARIOS.md, "The
// attachment declaration"): a file Kunren generates (kind, file name with
// merge fields, title, paragraphs, table) or one of the trainer's uploads
// (picked or uploaded here; the server checks it and says what is wrong),
// the archive it travels in, and a sample copy to download. Shown only for
// 添付ファイル型 and 複合型 scenarios.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, apiUrl, errorMessage } from '../api.js';
import { field, input, select, button, busy, filePicker, toast } from '../ui.js';

const KINDS = ['docx', 'xlsx', 'pdf'];
const ARCHIVES = ['none', 'zip', 'password', 'aes'];
const CELL_SEP = '|';

function options(values, current, label) {
  return values.map((v) => ({ value: v, label: label(v), selected: v === current }));
}

/** Table text: one row a line, cells separated by "|". */
function tableToText(rows) {
  return (rows || []).map((r) => r.join(` ${CELL_SEP} `)).join('\n');
}

function textToTable(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean)
    .map((l) => l.split(CELL_SEP).map((c) => c.trim()));
}

/**
 * attachmentEditor(sc, {scenarioId, writable}) → {el, value(), setType(type),
 * setError(text), fields}: value() is the declaration to send (null for a
 * URLリンク型 scenario).
 */
export function attachmentEditor(sc, { scenarioId, writable }) {
  const a = sc.attachment || {};
  const uploaded = a.upload !== undefined || a.source === 'upload';
  const c = {
    source: select(options(['generated', 'upload'], uploaded ? 'upload' : 'generated', (v) => t(`attach.source_${v}`)),
      { name: 'attachment_source', id: 'attachment-source' }),
    kind: select(options(KINDS, a.kind || 'docx', (v) => v), { name: 'attachment_kind', id: 'attachment-kind' }),
    filename: input({ name: 'attachment_filename', id: 'attachment-filename', value: a.filename || '', maxlength: '120',
      placeholder: t('attach.filename_placeholder') }),
    title: input({ name: 'attachment_title', id: 'attachment-title', value: a.title || '', maxlength: '200' }),
    body: h('textarea', { name: 'attachment_body', id: 'attachment-body', rows: '6', class: 'textarea' }),
    table: h('textarea', { name: 'attachment_table', id: 'attachment-table', rows: '5', class: 'textarea code' }),
    archive: select(options(ARCHIVES, a.archive || 'none', (v) => t(`attach.archive_${v}`)),
      { name: 'attachment_archive', id: 'attachment-archive' }),
    upload: select([], { name: 'attachment_upload', id: 'attachment-upload' }),
  };
  c.body.value = (a.body || []).join('\n');
  c.table.value = tableToText(a.table);

  let uploads = [];
  const picker = filePicker({ id: 'attachment-file', accept: '.docx,.xlsx,.pdf' });
  const uploadError = h('p', { class: 'error', id: 'attachment-file-error', role: 'alert', hidden: true });
  function showUploadError(text) {
    uploadError.textContent = text || '';
    uploadError.hidden = !text;
  }

  function fillUploads(selected) {
    replace(c.upload, h('option', { value: '' }, t('attach.upload_none')),
      uploads.map((u) => h('option', { value: String(u.id), selected: String(u.id) === String(selected) },
        `${u.name} (${u.kind}, ${Math.max(1, Math.round(u.size / 1024))} KB)`)));
  }

  async function loadUploads(selected) {
    try {
      uploads = ((await api.get('/uploads')) || {}).items || [];
    } catch (err) {
      uploads = [];
      showUploadError(errorMessage(err));
    }
    fillUploads(selected);
  }

  /** The chosen upload decides the kind, and the file name when there is none yet. */
  function adoptUpload() {
    const u = uploads.find((x) => String(x.id) === c.upload.value);
    if (!u) return;
    c.kind.value = u.kind;
    if (!c.filename.value.trim()) c.filename.value = u.name;
  }
  c.upload.addEventListener('change', adoptUpload);

  const uploadBtn = button('secondary', t('attach.upload'), () => busy(uploadBtn, async () => {
    showUploadError('');
    const f = picker.input.files && picker.input.files[0];
    if (!f) {
      showUploadError(t('attach.upload_choose'));
      return;
    }
    try {
      const u = await api.raw('POST', '/uploads', f, 'application/octet-stream', { name: f.name });
      toast(t('attach.uploaded', { name: u.name }), 'success');
      picker.reset();
      await loadUploads(u.id);
      adoptUpload();
    } catch (err) {
      const d = (err.details || [])[0];
      showUploadError(d && d.message ? `${f.name}: ${d.message}` : `${f.name}: ${errorMessage(err)}`);
    }
  }), { class: 'btn-sm', id: 'attachment-upload-btn' });

  const fields = {
    filename: field(t('attach.filename'), c.filename, { help: t('attach.filename_help') }),
    title: field(t('attach.title'), c.title),
    body: field(t('attach.body'), c.body, { help: t('attach.body_help') }),
    table: field(t('attach.table'), c.table, { help: t('attach.table_help') }),
  };
  const generated = h('div', { class: 'attach-generated' }, fields.title, fields.body, fields.table);
  const fromUpload = h('div', { class: 'attach-upload' },
    field(t('attach.upload_pick'), c.upload),
    h('div', { class: 'field' }, h('label', { for: picker.input.id }, t('attach.upload_new')), picker.el,
      h('p', { class: 'help' }, t('attach.upload_help')),
      writable ? h('div', { class: 'form-actions form-actions-start' }, uploadBtn) : null, uploadError));
  const sample = scenarioId
    ? h('a', { class: 'btn btn-secondary btn-sm', id: 'attachment-sample', download: '',
      href: apiUrl(`/scenarios/${encodeURIComponent(scenarioId)}/attachment/sample`) }, t('attach.sample'))
    : null;
  const errorEl = h('p', { class: 'error', id: 'attachment-error', hidden: true });
  const el = h('div', { class: 'field attach-editor', dataset: { field: 'attachment' } },
    h('div', { class: 'form-grid' }, field(t('attach.source'), c.source), field(t('attach.kind'), c.kind),
      field(t('attach.archive'), c.archive, { help: t('attach.archive_help') })),
    fields.filename, generated, fromUpload,
    h('div', { class: 'form-actions form-actions-start' }, sample,
      h('span', { class: 'help' }, scenarioId ? t('attach.sample_help') : t('attach.sample_after_save'))),
    errorEl);

  function sync() {
    const up = c.source.value === 'upload';
    generated.hidden = up;
    fromUpload.hidden = !up;
    c.kind.disabled = up; // the upload's kind
  }
  c.source.addEventListener('change', sync);
  sync();
  loadUploads(a.upload);

  let type = sc.type;
  const section = h('div', { id: 'attachment-section' }, el);
  section.hidden = type === 'URLリンク型';

  el.setError = (text) => {
    errorEl.textContent = text || '';
    errorEl.hidden = !text;
    el.classList.toggle('has-error', Boolean(text));
  };

  return {
    el: section,
    field: el,
    setType(v) {
      type = v;
      section.hidden = type === 'URLリンク型';
    },
    value() {
      if (type === 'URLリンク型') return null;
      const out = { kind: c.kind.value, filename: c.filename.value.trim() };
      if (c.source.value === 'upload') {
        out.source = 'upload';
        out.upload = Number(c.upload.value) || 0;
      } else {
        out.title = c.title.value.trim();
        const body = c.body.value.split('\n').map((l) => l.trim()).filter(Boolean);
        const table = textToTable(c.table.value);
        if (body.length) out.body = body;
        if (table.length) out.table = table;
      }
      if (c.archive.value !== 'none') out.archive = c.archive.value;
      return out;
    },
  };
}
