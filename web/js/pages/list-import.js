// The file cards of a recipient list: CSV import (the detected encoding, the
// counts, and on 422 a problem table to fix the file from, downloadable as
// CSV, with "skip bad rows and import") and bulk delete by a file of
// addresses.

import { h, replace, formatCount, downloadBlob } from '../dom.js';
import { t, has } from '../i18n.js';
import { api, apiUrl } from '../api.js';
import { csvBlob } from '../csv.js';
import {
  card, field, button, linkButton, busy, errorAlert, alert, toast, confirmDialog, filePicker,
} from '../ui.js';

/** The reason of an import problem in the UI's language (by its code), else the server's text. */
export function problemReason(p) {
  if (p.code && has(`problem.${p.code}`)) return t(`problem.${p.code}`);
  return p.reason || p.message || '';
}

/** Sorts problems by line (then column), ascending or descending, without changing the input. */
export function sortProblems(problems, key, dir) {
  const sign = dir === 'desc' ? -1 : 1;
  const cmp = key === 'column'
    ? (a, b) => String(a.column ?? '').localeCompare(String(b.column ?? ''), 'ja') || (a.line ?? 0) - (b.line ?? 0)
    : (a, b) => (a.line ?? 0) - (b.line ?? 0) || String(a.column ?? '').localeCompare(String(b.column ?? ''), 'ja');
  return problems.map((p, i) => [p, i]).sort(([a, i], [b, j]) => sign * cmp(a, b) || i - j).map(([p]) => p);
}

/** Rows of the downloadable problem list: header, then line, column, value, reason. */
export function problemRows(problems) {
  return [[t('import.line'), t('import.column'), t('import.value'), t('import.reason')],
    ...problems.map((p) => [p.line ?? '', p.column ?? '', p.value ?? '', problemReason(p)])];
}

/** A header cell whose button sorts the table; aria-sort tells the current order. */
export function sortableTh(label, key, state, onSort, attrs = {}) {
  const active = state.key === key;
  const dir = active ? state.dir : null;
  return h('th', {
    scope: 'col', ...attrs, 'aria-sort': active ? (dir === 'desc' ? 'descending' : 'ascending') : null,
  }, h('button', {
    type: 'button', class: ['sort-btn', active && `is-${dir}`], dataset: { sort: key },
    onclick: () => onSort(key, active && dir === 'asc' ? 'desc' : 'asc'),
  }, label, h('span', { class: 'sort-icon', 'aria-hidden': 'true' })));
}

/**
 * The problem table with its count, sort by line or column and the CSV
 * download. `total` is the server's count when it listed fewer.
 */
export function problemsView(problems, { id, title, total, fileName }) {
  const state = { key: 'line', dir: 'asc' };
  const holder = h('div');
  function draw() {
    const rows = sortProblems(problems, state.key, state.dir).map((p) => h('tr', { dataset: { line: p.line ?? '' } },
      h('td', { class: 'num' }, p.line ?? ''),
      h('td', null, p.column ?? ''),
      h('td', { class: 'wrap' }, p.value ? h('code', null, p.value) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'wrap' }, problemReason(p))));
    const onSort = (key, dir) => { state.key = key; state.dir = dir; draw(); };
    replace(holder, h('div', { class: 'table-wrap problems-wrap' },
      h('table', { class: 'table table-compact', id },
        h('caption', { class: 'visually-hidden' }, title),
        h('thead', null, h('tr', null,
          sortableTh(t('import.line'), 'line', state, onSort, { class: 'num' }),
          sortableTh(t('import.column'), 'column', state, onSort),
          h('th', { scope: 'col' }, t('import.value')),
          h('th', { scope: 'col' }, t('import.reason')))),
        h('tbody', null, rows))));
  }
  draw();
  const download = button('secondary', t('import.download_problems'),
    () => downloadBlob(fileName, csvBlob(problemRows(sortProblems(problems, 'line', 'asc')))),
    { class: 'btn-sm', dataset: { download: id } });
  const count = total > problems.length
    ? t('import.problem_count_partial', { n: formatCount(problems.length), total: formatCount(total) })
    : t('import.problem_count', { n: formatCount(problems.length) });
  return h('div', { class: 'problems' },
    h('div', { class: 'problems-head' }, h('h3', null, title), h('span', { class: 'muted small', id: `${id}-count` }, count), download),
    holder);
}

/** The total number of problems: the server's message says it when more than the listed ones exist. */
function problemTotal(err) {
  const m = /(\d+)\s+problem/.exec(err.serverMessage || '');
  return Math.max(err.details.length, m ? Number(m[1]) : 0);
}

const ENCODINGS = { 'utf-8': 'UTF-8', cp932: 'Shift_JIS (CP932)', 'utf-16le': 'UTF-16 LE', 'utf-16be': 'UTF-16 BE' };

function importDone(res, fileName) {
  const skipped = Array.isArray(res.skipped) ? res.skipped : [];
  const lines = [
    h('strong', null, t('import.done', {
      imported: formatCount(res.imported), updated: formatCount(res.updated),
      skipped: formatCount(skipped.length), total: formatCount(res.total),
    })),
  ];
  if (res.encoding) {
    lines.push(h('div', { id: 'import-encoding' }, t('import.encoding', { encoding: ENCODINGS[res.encoding] || res.encoding })));
  }
  if (res.duplicates) lines.push(h('div', null, t('import.duplicates', { n: formatCount(res.duplicates) })));
  const out = [alert('success', ...lines)];
  if (skipped.length) {
    out.push(problemsView(skipped, {
      id: 'import-skipped', title: t('import.skipped', { n: formatCount(skipped.length) }),
      total: skipped.length, fileName: t('import.problems_file', { name: fileName }),
    }));
  }
  return out;
}

/** The import card. `onImported` reloads the recipients and the counts. */
export function importCard(list, onImported) {
  const picker = filePicker({ name: 'csv', accept: '.csv,.txt,.tsv,text/csv,text/plain,text/tab-separated-values' });
  const file = picker.input;
  const fileField = field(t('import.file'), file, { help: t('import.help'), body: picker.el });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'import-submit' }, t('import.submit'));
  const result = h('div', { id: 'import-result', 'aria-live': 'polite' });
  const baseName = () => String(list.name).replace(/[\\/:*?"<>|]/g, '_');

  async function send(skip) {
    fileField.setError('');
    // The last answer goes as soon as a new import starts.
    if (!skip) replace(result);
    const f = file.files && file.files[0];
    if (!f) {
      fileField.setError(t('import.choose_file'));
      file.focus();
      return;
    }
    const bytes = await f.arrayBuffer();
    try {
      const res = await api.raw('POST', `/lists/${list.id}/import`, bytes, 'text/csv',
        skip ? { skip_invalid: 1 } : undefined);
      replace(result, importDone(res, baseName()));
      toast(t('import.done_short'), 'success');
      picker.reset();
      onImported();
    } catch (err) {
      if (err.status === 422 && err.details.some((d) => d.line !== undefined)) {
        const skipBtn = button('secondary', t('import.skip_invalid'), () => busy(skipBtn, () => send(true)),
          { id: 'import-skip' });
        const total = problemTotal(err);
        replace(result,
          alert('error', h('h3', null, t('import.invalid_title')),
            h('div', null, t('import.invalid_text', { n: formatCount(total) }))),
          problemsView(err.details, {
            id: 'import-problems', title: t('import.problems_title'), total,
            fileName: t('import.problems_file', { name: baseName() }),
          }),
          h('div', { class: 'form-actions' }, skipBtn));
      } else {
        replace(result, errorAlert(err));
      }
    }
  }

  const form = h('form', {
    id: 'import-form', novalidate: true,
    onsubmit: (e) => { e.preventDefault(); busy(submit, () => send(false)); },
  }, fileField, h('div', { class: 'btn-group' }, submit,
    linkButton('ghost', t('lists.template'), apiUrl('/lists/template.csv'), { download: 'template.csv' })));
  return card(t('import.title'), [form, result], { attrs: { id: 'import-card' } });
}

function bulkDone(res) {
  const notFound = Array.isArray(res.not_found) ? res.not_found : [];
  const parts = [h('strong', null, t('bulk.done', { n: formatCount(res.deleted) }))];
  if (notFound.length) {
    parts.push(h('details', { class: 'not-found' },
      h('summary', null, t('bulk.not_found', { n: formatCount(notFound.length) })),
      h('ul', { class: 'plain-list' }, notFound.map((a) => h('li', null, h('code', null, String(a)))))));
  }
  return alert(notFound.length ? 'warning' : 'success', ...parts);
}

/** Bulk delete by a file whose メールアドレス/email column (or first column) lists the addresses. */
export function bulkDeleteCard(list, onDeleted) {
  const picker = filePicker({ name: 'addresses', accept: '.csv,.txt,.tsv,text/csv,text/plain,text/tab-separated-values' });
  const file = picker.input;
  const fileField = field(t('bulk.file'), file, { help: t('bulk.help'), body: picker.el });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger', id: 'bulk-delete-submit' }, t('bulk.submit'));
  const result = h('div', { id: 'bulk-delete-result', 'aria-live': 'polite' });

  async function send() {
    fileField.setError('');
    replace(result);
    const f = file.files && file.files[0];
    if (!f) {
      fileField.setError(t('bulk.choose_file'));
      file.focus();
      return;
    }
    const ok = await confirmDialog(t('bulk.confirm_title'), t('bulk.confirm_text', { file: f.name, name: list.name }),
      t('bulk.submit'));
    if (!ok) return;
    const bytes = await f.arrayBuffer();
    await busy(submit, async () => {
      try {
        const res = await api.raw('POST', `/lists/${list.id}/recipients/delete`, bytes, 'text/csv');
        replace(result, bulkDone(res));
        toast(t('bulk.done', { n: formatCount(res.deleted) }), 'success');
        picker.reset();
        onDeleted();
      } catch (err) {
        replace(result, errorAlert(err));
      }
    });
  }

  const form = h('form', { id: 'bulk-delete-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); send(); } },
    fileField, h('div', { class: 'btn-group' }, submit));
  return card(t('bulk.title'), [form, result], { attrs: { id: 'bulk-delete-card' } });
}
