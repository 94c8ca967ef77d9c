// Recipient lists (配信リスト).
//   #/lists      the overview: create, rename and delete lists, with their counts;
//   #/lists/:id  one list: its recipients (list-recipients.js), CSV import and
//                bulk delete by a file of addresses (list-import.js), export as
//                CSV in UTF-8 or Shift_JIS, rename and delete.
// A read-only account sees the lists and their recipients, and exports them,
// with no control that changes anything.

import { h, replace, formatTime, formatCount } from '../dom.js';
import { t } from '../i18n.js';
import { api, apiUrl } from '../api.js';
import {
  pageHeader, card, field, input, button, linkButton, busy, emptyState, errorAlert, alert, toast,
  confirmDialog, loading, openModal, icon, canWrite,
} from '../ui.js';
import { recipientsCard } from './list-recipients.js';
import { importCard, bulkDeleteCard } from './list-import.js';

export const titleKey = 'lists.title';

/* ---------- shared: rename and delete ---------- */

function nameError(err) {
  const d = err.details.find((x) => x.field === 'name');
  if (!d) return '';
  const msg = String(d.message || '');
  if (/empty|missing|required/i.test(msg)) return t('lists.name_required');
  if (/long|at most|bytes/i.test(msg)) return t('lists.name_too_long');
  return msg || t('errors.invalid');
}

/** The rename modal; onRenamed(list) after a save. */
function renameModal(list, onRenamed) {
  const name = input({ name: 'name', required: true, maxlength: 200, autocomplete: 'off', value: list.name, id: 'rename-name' });
  const nameField = field(t('lists.name'), name, { name: 'name' });
  const formError = h('div');
  const formId = 'rename-form';
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: formId, id: 'rename-save' }, t('lists.rename_save'));
  const form = h('form', {
    id: formId, novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      nameField.setError('');
      replace(formError);
      const value = name.value.trim();
      if (!value) {
        nameField.setError(t('lists.name_required'));
        name.focus();
        return;
      }
      if (value === list.name) {
        modal.close();
        return;
      }
      busy(save, async () => {
        try {
          const renamed = await api.patch(`/lists/${list.id}`, { name: value });
          modal.close();
          toast(t('lists.renamed', { name: renamed.name }), 'success');
          onRenamed(renamed);
        } catch (err) {
          const fe = nameError(err);
          if (fe) {
            nameField.setError(fe);
            name.focus();
          } else {
            replace(formError, errorAlert(err));
          }
        }
      });
    },
  }, nameField, formError);
  const modal = openModal({
    title: t('lists.rename_title'), size: 'sm', body: form,
    footer: [button('secondary', t('common.cancel'), () => modal.close()), save],
  });
  modal.dialog.id = 'rename-dialog';
  name.focus();
  name.select();
}

/**
 * Asks, then deletes the list. A list that a campaign uses cannot go: the
 * 409 in_use is shown in `alertBox`. Resolves true when deleted.
 */
async function deleteList(list, alertBox) {
  replace(alertBox);
  const ok = await confirmDialog(t('lists.delete_title'), t('lists.delete_text', { name: list.name }), t('lists.delete'));
  if (!ok) return false;
  try {
    await api.del(`/lists/${list.id}`);
    toast(t('lists.deleted', { name: list.name }), 'success');
    return true;
  } catch (err) {
    if (err.status === 409 && err.code === 'in_use') {
      replace(alertBox, alert('error',
        h('h3', null, t('lists.in_use_title', { name: list.name })),
        h('div', null, t('lists.in_use_text'))));
    } else {
      replace(alertBox, errorAlert(err));
    }
    alertBox.scrollIntoView({ block: 'nearest' });
    return false;
  }
}

/* ---------- #/lists ---------- */

function createForm(navigate) {
  const name = input({ name: 'name', required: true, maxlength: 200, autocomplete: 'off' });
  const nameField = field(t('lists.name'), name, { name: 'name' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('lists.create'));
  const formError = h('div');
  async function onSubmit(e) {
    e.preventDefault();
    nameField.setError('');
    replace(formError);
    if (!name.value.trim()) {
      nameField.setError(t('lists.name_required'));
      name.focus();
      return;
    }
    await busy(submit, async () => {
      try {
        const list = await api.post('/lists', { name: name.value.trim() });
        toast(t('lists.created', { name: list.name }), 'success');
        navigate(`/lists/${list.id}`);
      } catch (err) {
        const fe = nameError(err);
        if (fe) nameField.setError(fe);
        else replace(formError, errorAlert(err));
      }
    });
  }
  return h('form', { class: 'inline-form', id: 'create-list', novalidate: true, onsubmit: onSubmit },
    nameField, submit, formError);
}

function listsTable(lists, { onRename, onDelete, writable }) {
  if (!lists.length) return emptyState(t('lists.empty_title'), t('lists.empty_text'), null, 'users');
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table', id: 'lists' },
      h('caption', { class: 'visually-hidden' }, t('lists.all')),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, t('lists.name')),
        h('th', { scope: 'col', class: 'num' }, t('lists.recipient_count')),
        h('th', { scope: 'col', class: 'num' }, t('lists.test_count')),
        h('th', { scope: 'col' }, t('common.created_at')),
        writable ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('common.actions'))) : null)),
      h('tbody', null, lists.map((l) => h('tr', { dataset: { list: l.id } },
        h('td', { class: 'wrap' }, h('a', { href: `#/lists/${encodeURIComponent(l.id)}`, class: 'list-link' }, l.name)),
        h('td', { class: 'num' }, formatCount(l.recipient_count)),
        h('td', { class: 'num' }, formatCount(l.test_count)),
        h('td', { class: 'nowrap muted' }, formatTime(l.created_at)),
        writable && h('td', { class: 'row-actions' },
          button('ghost', t('lists.rename'), () => onRename(l),
            { class: 'btn-sm', 'aria-label': t('lists.rename_named', { name: l.name }), dataset: { action: 'rename' } }),
          button('ghost', t('lists.delete_short'), () => onDelete(l),
            { class: 'btn-sm btn-ghost-danger', 'aria-label': t('lists.delete_named', { name: l.name }), dataset: { action: 'delete' } })))))));
}

async function renderOverview(ctx) {
  const writable = canWrite(ctx.user);
  const header = pageHeader(t('lists.title'), {
    subtitle: t('lists.subtitle'),
    actions: linkButton('secondary', t('lists.template'), apiUrl('/lists/template.csv'), { download: 'template.csv', id: 'template-link' }),
  });
  const alertBox = h('div', { id: 'lists-alert' });
  const holder = h('div', null, loading());
  async function refresh() {
    try {
      const res = await api.get('/lists', { limit: 500 });
      replace(holder, listsTable(res.items || [], {
        writable,
        onRename: (l) => renameModal(l, refresh),
        onDelete: async (l) => { if (await deleteList(l, alertBox)) refresh(); },
      }));
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }
  await refresh();
  replace(ctx.main, header,
    writable ? card(t('lists.new'), createForm(ctx.navigate)) : alert('info', t('lists.readonly')),
    alertBox,
    card(t('lists.all'), holder, { flush: true, attrs: { id: 'lists-card' } }));
}

/* ---------- #/lists/:id ---------- */

function summary(list) {
  return [
    h('span', null, t('lists.recipient_count'), ' ', h('strong', { id: 'recipient-count' }, formatCount(list.recipient_count))),
    h('span', null, t('lists.test_count'), ' ', h('strong', { id: 'test-count' }, formatCount(list.test_count))),
    h('span', null, t('common.created_at'), ' ', formatTime(list.created_at)),
  ];
}

function exportGroup(list) {
  const url = (encoding) => apiUrl(`/lists/${list.id}/export.csv`, { encoding });
  const fileName = `${String(list.name).replace(/[\\/:*?"<>|]/g, '_')}.csv`;
  return h('div', { class: 'btn-group export-group', role: 'group', 'aria-labelledby': 'export-label' },
    h('span', { class: 'muted small', id: 'export-label' }, t('lists.export')),
    linkButton('secondary', t('lists.export_utf8'), url('utf8'), { class: 'btn-sm', id: 'export-utf8', download: fileName }),
    linkButton('secondary', t('lists.export_sjis'), url('cp932'), { class: 'btn-sm', id: 'export-sjis', download: fileName }));
}

async function renderDetail(ctx) {
  const id = ctx.params.id;
  const writable = canWrite(ctx.user);
  let list;
  try {
    list = await api.get(`/lists/${id}`);
  } catch (err) {
    replace(ctx.main, h('a', { class: 'back-link', href: '#/lists' }, icon('back', 'back-icon'), t('lists.back')),
      pageHeader(t('lists.title')), errorAlert(err));
    return undefined;
  }
  const alertBox = h('div', { id: 'list-alert' });
  const sub = h('p', { class: 'summary', id: 'list-summary' }, summary(list));
  const title = h('span', { id: 'list-title' }, list.name);
  const exportHolder = h('div', null, exportGroup(list));

  async function refreshSummary() {
    try {
      list = await api.get(`/lists/${id}`);
      replace(sub, summary(list));
      title.textContent = list.name;
      replace(exportHolder, exportGroup(list));
    } catch {
      /* the counts stay as they were; the next change tries again */
    }
  }

  const rename = button('secondary', t('lists.rename'), () => renameModal(list, (renamed) => {
    list = { ...list, ...renamed };
    title.textContent = list.name;
    document.title = `${list.name} — Kunren`;
    replace(exportHolder, exportGroup(list));
  }), { id: 'rename-list' });
  const del = button('danger', t('lists.delete'), async () => {
    if (await deleteList(list, alertBox)) ctx.navigate('/lists');
  }, { id: 'delete-list' });

  const header = h('header', { class: 'page-header' },
    h('div', null,
      h('a', { class: 'back-link', href: '#/lists' }, icon('back', 'back-icon'), t('lists.back')),
      h('h1', { tabindex: '-1' }, title),
      sub),
    h('div', { class: 'page-actions' }, exportHolder, writable ? [rename, del] : null));

  const recipients = recipientsCard(list, {
    query: ctx.query, basePath: `/lists/${encodeURIComponent(id)}`, onChanged: refreshSummary, writable,
  });
  const reloadAll = () => { recipients.reload(); refreshSummary(); };
  replace(ctx.main, header, alertBox,
    recipients.el,
    writable ? [importCard(list, reloadAll), bulkDeleteCard(list, reloadAll)] : null);
  document.title = `${list.name} — Kunren`;
  return recipients.dispose;
}

export async function render(ctx) {
  if (ctx.params.id) return renderDetail(ctx);
  return renderOverview(ctx);
}
