// The recipients of one list, made for 100,000 of them: server-side search
// (debounced), sortable column headers, offset paging with a page size and a
// jump to a page, a checkbox column for deleting selected rows, and the
// add / edit modal and delete of single recipients. The view's state (q,
// sort, order, page, size) is kept in the URL with replaceState, so a reload
// or a language switch shows the same page.

import { h, replace, formatCount, debounce, uid } from '../dom.js';
import { t, has } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  card, field, input, select, checkbox, button, busy, emptyState, errorAlert, toast, confirmDialog,
  openModal, tag, spinner,
} from '../ui.js';
import { sortableTh } from './list-import.js';

export const PAGE_SIZES = [50, 100, 500];
const DEFAULT_SIZE = 100;
const SEARCH_DELAY = 300;

/** The editable fields in the template's order; the keys of their labels are recipient.<name>. */
export const TEXT_FIELDS = ['last_name', 'first_name', 'email', 'department', 'position', 'field1', 'field2', 'field3'];
const SORT_KEYS = new Set([...TEXT_FIELDS, 'is_test', 'id']);

/** The view state from the URL query, with defaults and bounds. */
export function viewState(query = {}) {
  const size = PAGE_SIZES.includes(Number(query.size)) ? Number(query.size) : DEFAULT_SIZE;
  const page = Math.max(1, Math.floor(Number(query.page)) || 1);
  return {
    q: typeof query.q === 'string' ? query.q : '',
    sort: SORT_KEYS.has(query.sort) ? query.sort : 'id',
    order: query.order === 'desc' ? 'desc' : 'asc',
    size,
    page,
  };
}

/** The URL query of a view state, leaving out the defaults. */
export function viewQuery(state) {
  const q = {};
  if (state.q) q.q = state.q;
  if (state.sort !== 'id') q.sort = state.sort;
  if (state.order !== 'asc') q.order = state.order;
  if (state.page > 1) q.page = String(state.page);
  if (state.size !== DEFAULT_SIZE) q.size = String(state.size);
  return q;
}

/** "1–100" of the page; 0 rows give "0–0". */
export function pageRange(page, size, total) {
  if (!total) return { from: 0, to: 0 };
  const from = (page - 1) * size + 1;
  return { from: Math.min(from, total), to: Math.min(page * size, total) };
}

export function pageCount(size, total) {
  return Math.max(1, Math.ceil((Number(total) || 0) / size));
}

/* ---------- the add / edit form ---------- */

/** The text of a field error from the API: its code when we know it, else a fitting sentence. */
function fieldErrorText(d) {
  if (d.code && has(`problem.${d.code}`)) return t(`problem.${d.code}`);
  const msg = String(d.message || d.reason || '');
  if (/long/i.test(msg)) return t('problem.too_long');
  if (d.field === 'email') return /empty|missing|required/i.test(msg) ? t('problem.missing_email') : t('problem.invalid_email');
  return msg || t('errors.invalid');
}

/**
 * Opens the recipient form as a modal: empty to add, filled to edit.
 * Resolves when it closes; calls onSaved(recipient) after a save.
 */
export function recipientModal(listId, recipient, onSaved) {
  const editing = Boolean(recipient);
  const formId = uid('recipient-form');
  const controls = {};
  const fields = {};
  for (const name of TEXT_FIELDS) {
    const attrs = {
      name, maxlength: name === 'email' ? 254 : 256, autocomplete: 'off', spellcheck: 'false',
      value: recipient ? recipient[name] || '' : '',
    };
    if (name === 'email') Object.assign(attrs, { inputmode: 'email', required: true });
    controls[name] = input(attrs);
    fields[name] = field(t(`recipient.${name}`), controls[name], { name });
  }
  const test = checkbox(t('recipient.is_test_label'), { name: 'is_test', checked: Boolean(recipient && recipient.is_test) });
  const testErr = h('p', { class: 'error', id: uid('f-error'), hidden: true });
  const testHelp = h('p', { class: 'help', id: uid('f-help') }, t('recipient.is_test_help'));
  test.box.setAttribute('aria-describedby', `${testHelp.id} ${testErr.id}`);
  const testField = h('div', { class: 'field', dataset: { field: 'is_test' } },
    h('span', { class: 'label', 'aria-hidden': 'true' }, t('recipient.test')), test.el, testHelp, testErr);
  testField.setError = (text) => {
    testErr.textContent = text || '';
    testErr.hidden = !text;
    testField.classList.toggle('has-error', Boolean(text));
  };
  fields.is_test = testField;
  const formError = h('div', { 'aria-live': 'polite' });

  const values = () => {
    const v = {};
    for (const name of TEXT_FIELDS) v[name] = controls[name].value.trim();
    v.is_test = test.box.checked;
    return v;
  };
  const changed = (v) => {
    if (!editing) return v;
    const out = {};
    for (const [k, val] of Object.entries(v)) {
      const old = k === 'is_test' ? Boolean(recipient.is_test) : recipient[k] || '';
      if (val !== old) out[k] = val;
    }
    return out;
  };
  const clearErrors = () => {
    for (const f of Object.values(fields)) f.setError('');
    replace(formError);
  };
  const showError = (err) => {
    if (err.status === 409 && err.code === 'exists') {
      fields.email.setError(t('recipient.exists'));
      controls.email.focus();
      return;
    }
    const known = err.details.filter((d) => d && fields[d.field]);
    if (known.length) {
      for (const d of known) fields[d.field].setError(fieldErrorText(d));
      const first = controls[known[0].field] || test.box;
      first.focus();
      return;
    }
    replace(formError, errorAlert(err));
  };

  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: formId, id: 'recipient-save' },
    editing ? t('recipient.save') : t('recipient.add'));
  const cancel = button('secondary', t('common.cancel'), () => modal.close());
  const form = h('form', {
    id: formId, class: 'recipient-form', novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, async () => {
        clearErrors();
        const v = values();
        if (!v.email) {
          fields.email.setError(t('problem.missing_email'));
          controls.email.focus();
          return;
        }
        const body = changed(v);
        try {
          let saved = recipient;
          if (!editing) saved = await api.post(`/lists/${listId}/recipients`, body);
          else if (Object.keys(body).length) saved = await api.patch(`/lists/${listId}/recipients/${recipient.id}`, body);
          modal.close();
          toast(t(editing ? 'recipient.saved' : 'recipient.added', { email: (saved && saved.email) || v.email }), 'success');
          onSaved(saved);
        } catch (err) {
          showError(err);
        }
      });
    },
  },
  h('div', { class: 'form-grid form-grid-2' },
    fields.last_name, fields.first_name,
    h('div', { class: 'span-all' }, fields.email),
    fields.department, fields.position),
  h('div', { class: 'form-grid form-grid-3' }, fields.field1, fields.field2, fields.field3),
  testField, formError);

  const modal = openModal({
    title: editing ? t('recipient.edit_title') : t('recipient.add_title'),
    body: form, footer: [cancel, save], size: 'md',
  });
  modal.dialog.id = 'recipient-dialog';
  controls.last_name.focus();
  return modal;
}

/* ---------- the table ---------- */

const COLUMNS = [
  ...TEXT_FIELDS.map((name) => ({ key: name, label: `recipient.${name}` })),
  { key: 'is_test', label: 'recipient.test' },
];

/**
 * The recipients card. `ctx.query` gives the initial view; `onChanged` is
 * called after a change of the list's content (to refresh the counts).
 * `writable` false (a read-only account): no selection, add, edit or delete.
 * Returns {el, reload, dispose}.
 */
export function recipientsCard(list, { query, basePath, onChanged, writable = true }) {
  const listId = list.id;
  const state = viewState(query);
  const selected = new Set();
  let items = [];
  let total = 0;
  let seq = 0;

  const status = h('span', { class: 'card-status', 'aria-hidden': 'true' });
  const search = input({
    type: 'search', name: 'q', value: state.q, autocomplete: 'off', id: 'recipient-search',
    placeholder: t('recipients.search_placeholder'),
  });
  const searchField = field(t('recipients.search'), search, { name: 'q' });
  searchField.classList.add('field-search');
  const sizeSelect = select(PAGE_SIZES.map((n) => ({ value: String(n), label: t('recipients.per_page_n', { n }), selected: n === state.size })),
    { name: 'size', id: 'page-size' });
  const sizeField = field(t('recipients.per_page'), sizeSelect, { name: 'size' });
  const selectionInfo = h('span', { class: 'selection-info', id: 'selection-info', 'aria-live': 'polite' });
  const clearSel = button('ghost', t('recipients.clear_selection'), () => { selected.clear(); draw(); },
    { class: 'btn-sm', hidden: true, id: 'clear-selection' });
  const deleteSel = button('danger', t('recipients.delete_selected'), () => deleteSelected(),
    { class: 'btn-sm', id: 'delete-selected', disabled: true });
  const addBtn = button('primary', t('recipients.add'), () => recipientModal(listId, null, () => reload(true)),
    { id: 'add-recipient', class: 'btn-sm' });

  const body = h('div', { class: 'recipients-body' }, h('div', { class: 'loading' }, spinner(), t('common.loading')));
  const pager = h('nav', { class: 'pager', 'aria-label': t('pager.label'), id: 'pager' });
  const errorBox = h('div');

  function syncUrl() {
    const qs = new URLSearchParams(viewQuery(state)).toString();
    const url = `#${basePath}${qs ? `?${qs}` : ''}`;
    if (window.location.hash !== url) window.history.replaceState(window.history.state, '', url);
  }

  async function load() {
    const mine = ++seq;
    body.setAttribute('aria-busy', 'true');
    replace(status, spinner(true));
    try {
      const res = await api.get(`/lists/${listId}/recipients`, {
        q: state.q || undefined, sort: state.sort, order: state.order,
        limit: state.size, offset: (state.page - 1) * state.size,
      });
      if (mine !== seq) return;
      items = res.items || [];
      total = Number.isFinite(res.total) ? res.total : items.length;
      // A page past the end (after deletes, or an old URL): go to the last one.
      const last = pageCount(state.size, total);
      if (state.page > last) {
        state.page = last;
        syncUrl();
        load();
        return;
      }
      replace(errorBox);
      draw();
    } catch (err) {
      if (mine !== seq) return;
      replace(errorBox, errorAlert(err));
      // Nothing drawn yet: the error replaces the loading indicator.
      if (body.querySelector('.loading')) replace(body);
    } finally {
      if (mine === seq) {
        body.removeAttribute('aria-busy');
        replace(status);
      }
    }
  }

  function reload(contentChanged) {
    load();
    if (contentChanged && onChanged) onChanged();
  }

  function setState(patch) {
    Object.assign(state, patch);
    syncUrl();
    load();
  }

  // A new search starts a new selection: rows chosen before may no longer be in view.
  function searchFor(q) {
    if (q === state.q) return;
    selected.clear();
    setState({ q, page: 1 });
  }
  const runSearch = debounce(() => searchFor(search.value.trim()), SEARCH_DELAY);
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      runSearch.cancel();
      searchFor(search.value.trim());
    }
  });
  sizeSelect.addEventListener('change', () => {
    const size = Number(sizeSelect.value);
    // Keep the first row of the current page in view.
    const first = (state.page - 1) * state.size;
    setState({ size, page: Math.floor(first / size) + 1 });
  });

  function onSort(key, order) {
    setState({ sort: key, order, page: 1 });
  }

  async function deleteOne(r) {
    const ok = await confirmDialog(t('recipient.delete_title'), t('recipient.delete_text', { email: r.email }),
      t('recipient.delete'));
    if (!ok) return;
    try {
      await api.del(`/lists/${listId}/recipients/${r.id}`);
      selected.delete(r.id);
      toast(t('recipient.deleted', { email: r.email }), 'success');
      reload(true);
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  }

  async function deleteSelected() {
    const ids = [...selected];
    if (!ids.length) return;
    const n = formatCount(ids.length);
    const ok = await confirmDialog(t('recipients.delete_selected_title', { n }),
      t('recipients.delete_selected_text', { n, name: list.name }), t('recipients.delete_n', { n }));
    if (!ok) return;
    await busy(deleteSel, async () => {
      try {
        const res = await api.post(`/lists/${listId}/recipients/delete`, { ids });
        selected.clear();
        const missing = Array.isArray(res.not_found) ? res.not_found.length : 0;
        toast(missing
          ? t('recipients.deleted_some', { n: formatCount(res.deleted), missing: formatCount(missing) })
          : t('recipients.deleted_n', { n: formatCount(res.deleted) }), 'success');
        reload(true);
      } catch (err) {
        toast(errorMessage(err), 'error');
      }
    });
    drawSelection();
  }

  function row(r, i) {
    const box = h('input', {
      type: 'checkbox', class: 'row-check', checked: selected.has(r.id),
      'aria-label': t('recipients.select_row', { email: r.email }),
      onchange: (e) => {
        if (e.target.checked) selected.add(r.id);
        else selected.delete(r.id);
        drawSelection();
        e.target.closest('tr').classList.toggle('is-selected', e.target.checked);
      },
    });
    // Row 1 is the header; aria-rowindex places the page within the whole result.
    const rowIndex = (state.page - 1) * state.size + i + 2;
    return h('tr', {
      dataset: { email: r.email, id: r.id }, class: selected.has(r.id) ? 'is-selected' : null, 'aria-rowindex': rowIndex,
    },
      writable ? h('td', { class: 'check-col' }, box) : null,
      ...TEXT_FIELDS.map((k) => h('td', { class: k === 'email' ? 'email' : null }, r[k] || '')),
      h('td', null, r.is_test ? tag(t('lists.test_target')) : ''),
      writable && h('td', { class: 'row-actions' },
        button('ghost', t('recipient.edit'), () => recipientModal(listId, r, () => reload(true)),
          { class: 'btn-sm', 'aria-label': t('recipient.edit_named', { email: r.email }), dataset: { action: 'edit' } }),
        button('ghost', t('recipient.delete'), () => deleteOne(r),
          { class: 'btn-sm btn-ghost-danger', 'aria-label': t('recipient.delete_named', { email: r.email }), dataset: { action: 'delete' } })));
  }

  let pageBox = null;
  function drawSelection() {
    const n = selected.size;
    selectionInfo.textContent = n ? t('recipients.selected', { n: formatCount(n) }) : '';
    deleteSel.disabled = n === 0;
    clearSel.hidden = n === 0;
    if (pageBox) {
      const onPage = items.filter((r) => selected.has(r.id)).length;
      pageBox.checked = items.length > 0 && onPage === items.length;
      pageBox.indeterminate = onPage > 0 && onPage < items.length;
    }
  }

  function table() {
    pageBox = !writable ? null : h('input', {
      type: 'checkbox', id: 'select-page', 'aria-label': t('recipients.select_page'),
      onchange: (e) => {
        for (const r of items) {
          if (e.target.checked) selected.add(r.id);
          else selected.delete(r.id);
        }
        draw();
      },
    });
    const sortState = { key: state.sort, dir: state.order };
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'recipients-table', 'aria-rowcount': total + 1 },
        h('caption', { class: 'visually-hidden' }, t('recipients.caption', { name: list.name })),
        h('thead', null, h('tr', { 'aria-rowindex': 1 },
          writable ? h('th', { scope: 'col', class: 'check-col' }, pageBox) : null,
          COLUMNS.map((c) => sortableTh(t(c.label), c.key, sortState, onSort)),
          writable ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('common.actions'))) : null)),
        h('tbody', null, items.map((r, i) => row(r, i)))));
  }

  function pagerView() {
    const pages = pageCount(state.size, total);
    const { from, to } = pageRange(state.page, state.size, total);
    const pageInput = input({
      type: 'number', min: 1, max: pages, value: String(state.page), class: 'page-input', id: 'page-input',
      name: 'page', inputmode: 'numeric',
    });
    const go = (page) => setState({ page: Math.min(pages, Math.max(1, page)) });
    return [
      h('span', { class: 'pager-range', id: 'pager-range' },
        t('pager.range', { from: formatCount(from), to: formatCount(to), total: formatCount(total) })),
      h('div', { class: 'pager-controls' },
        button('secondary', t('pager.prev'), () => go(state.page - 1),
          { class: 'btn-sm', id: 'page-prev', disabled: state.page <= 1 }),
        h('form', {
          class: 'pager-jump', novalidate: true,
          onsubmit: (e) => {
            e.preventDefault();
            const n = Math.floor(Number(pageInput.value));
            if (Number.isFinite(n) && n >= 1) go(n);
            else pageInput.value = String(state.page);
          },
        },
        h('label', { for: pageInput.id }, t('pager.page')), pageInput,
        h('span', { class: 'muted' }, t('pager.of', { pages: formatCount(pages) })),
        h('button', { type: 'submit', class: 'btn btn-secondary btn-sm', id: 'page-go' }, t('pager.go'))),
        button('secondary', t('pager.next'), () => go(state.page + 1),
          { class: 'btn-sm', id: 'page-next', disabled: state.page >= pages })),
    ];
  }

  function draw() {
    if (!total) {
      pageBox = null;
      replace(body, state.q
        ? emptyState(t('recipients.no_match_title'), t('recipients.no_match_text', { q: state.q }), null, 'users')
        : emptyState(t('lists.no_recipients_title'), t('lists.no_recipients_text'), null, 'users'));
      replace(pager);
      pager.hidden = true;
    } else {
      replace(body, table());
      pager.hidden = false;
      replace(pager, pagerView());
    }
    drawSelection();
  }

  const toolbar = h('div', { class: 'toolbar' },
    searchField, sizeField,
    writable ? h('div', { class: 'toolbar-selection' }, selectionInfo, clearSel, deleteSel) : null);

  const el = card(t('lists.recipients'), [
    toolbar, errorBox, body, pager,
  ], {
    actions: h('div', { class: 'btn-group' }, status, writable ? addBtn : null),
    attrs: { id: 'recipients-card', class: 'recipients-card' },
  });
  load();
  return { el, reload: () => reload(false), dispose: () => { runSearch.cancel(); seq += 1; } };
}
