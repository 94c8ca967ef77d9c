// Recipient lists (配信リスト): create lists; per list import a CSV (with the
// table of problems on 422 and the option to skip bad rows), the recipients
// table, the template download, and delete.

import { h, replace, formatTime, formatCount } from '../dom.js';
import { t } from '../i18n.js';
import { api, apiUrl, errorMessage } from '../api.js';
import {
  pageHeader, card, table, field, input, button, linkButton, busy, emptyState,
  errorAlert, alert, toast, confirmDialog, loading, tag, filePicker,
} from '../ui.js';

export const titleKey = 'lists.title';

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
        const fe = err.details.find((d) => d.field === 'name');
        if (fe) nameField.setError(fe.message || errorMessage(err));
        else replace(formError, errorAlert(err));
      }
    });
  }
  return h('form', { class: 'inline-form', id: 'create-list', novalidate: true, onsubmit: onSubmit },
    nameField, submit, formError);
}

function listNav(lists, currentId) {
  if (!lists.length) return emptyState(t('lists.empty_title'), t('lists.empty_text'), null, 'users');
  return h('ul', { class: 'list-nav', id: 'lists' }, lists.map((l) => h('li', null,
    h('a', {
      href: `#/lists/${encodeURIComponent(l.id)}`,
      'aria-current': String(l.id) === String(currentId) ? 'page' : null,
      dataset: { list: l.id },
    },
    h('span', null, h('strong', null, l.name), h('br'),
      h('span', { class: 'meta' }, formatTime(l.created_at))),
    h('span', { class: 'meta' }, t('lists.count', { n: formatCount(l.recipient_count) }))))));
}

function problemsTable(problems, id) {
  return table([
    { label: t('import.line'), class: 'num' },
    { label: t('import.column') },
    { label: t('import.value') },
    { label: t('import.reason') },
  ], problems.map((p) => h('tr', null,
    h('td', { class: 'num' }, p.line ?? ''),
    h('td', null, p.column ?? ''),
    h('td', { class: 'wrap' }, h('code', null, p.value ?? '')),
    h('td', { class: 'wrap' }, p.reason || p.message || ''))), { id, class: 'table-compact' });
}

function recipientRow(r) {
  return h('tr', { dataset: { email: r.email } },
    h('td', null, r.last_name || ''),
    h('td', null, r.first_name || ''),
    h('td', null, r.email),
    h('td', null, r.department || ''),
    h('td', null, r.position || ''),
    h('td', null, r.field1 || ''),
    h('td', null, r.field2 || ''),
    h('td', null, r.field3 || ''),
    h('td', null, r.is_test ? tag(t('lists.test_target')) : ''));
}

/** The recipients card: first page, then "more" while the API has more. */
function recipientsCard(listId) {
  const tbody = h('tbody');
  const more = button('secondary', t('common.load_more'), () => loadPage(), { hidden: true });
  const holder = h('div', null, loading());
  let after;
  let shown = false;
  async function loadPage() {
    try {
      const res = await api.get(`/lists/${listId}/recipients`, { limit: 500, after });
      for (const r of res.items || []) tbody.appendChild(recipientRow(r));
      after = res.next_after;
      more.hidden = !after;
      if (!tbody.children.length) {
        replace(holder, emptyState(t('lists.no_recipients_title'), t('lists.no_recipients_text'), null, 'users'));
      } else if (!shown) {
        shown = true;
        const cols = ['recipient.last_name', 'recipient.first_name', 'recipient.email', 'recipient.department',
          'recipient.position', 'recipient.field1', 'recipient.field2', 'recipient.field3', 'recipient.test'];
        replace(holder, h('div', { class: 'table-wrap' },
          h('table', { class: 'table', id: 'recipients-table' },
            h('thead', null, h('tr', null, cols.map((k) => h('th', { scope: 'col' }, t(k))))), tbody)));
      }
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }
  loadPage();
  return card(t('lists.recipients'), [holder, h('div', { class: 'form-actions' }, more)], { flush: true });
}

function importCard(list, reload) {
  const picker = filePicker({ name: 'csv', accept: '.csv,text/csv' });
  const file = picker.input;
  const fileField = field(t('import.file'), file, { help: t('import.help'), body: picker.el });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'import-submit' }, t('import.submit'));
  const result = h('div', { id: 'import-result', 'aria-live': 'polite' });

  async function send(skip) {
    fileField.setError('');
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
      const done = [alert('success', t('import.done', {
        imported: formatCount(res.imported), updated: formatCount(res.updated), total: formatCount(res.total),
      }))];
      if (res.skipped && res.skipped.length) {
        done.push(h('h3', { class: 'mb-3' }, t('import.skipped', { n: res.skipped.length })),
          problemsTable(res.skipped, 'import-skipped'));
      }
      replace(result, done);
      toast(t('import.done_short'), 'success');
      picker.reset();
      reload();
    } catch (err) {
      if (err.status === 422 && err.details.some((d) => d.line !== undefined)) {
        const skipBtn = button('secondary', t('import.skip_invalid'), () => busy(skipBtn, () => send(true)),
          { id: 'import-skip' });
        replace(result,
          alert('error', h('h3', null, t('import.invalid_title')),
            h('div', null, t('import.invalid_text', { n: err.details.length }))),
          problemsTable(err.details, 'import-problems'),
          h('div', { class: 'form-actions' }, skipBtn));
      } else {
        replace(result, errorAlert(err));
      }
    }
  }

  const form = h('form', { id: 'import-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); busy(submit, () => send(false)); } },
    fileField, h('div', { class: 'btn-group' }, submit,
      linkButton('ghost', t('lists.template'), apiUrl('/lists/template.csv'), { download: 'template.csv' })));
  return card(t('import.title'), [form, result]);
}

function summaryCard(list, ctx) {
  const del = button('danger', t('lists.delete'), async () => {
    const ok = await confirmDialog(t('lists.delete_title'), t('lists.delete_text', { name: list.name }), t('lists.delete'));
    if (!ok) return;
    try {
      await api.del(`/lists/${list.id}`);
      toast(t('lists.deleted', { name: list.name }), 'success');
      ctx.navigate('/lists');
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  }, { id: 'delete-list' });
  return card(list.name, h('dl', { class: 'kv mb-0' },
    h('dt', null, t('lists.recipient_count')), h('dd', { id: 'recipient-count' }, formatCount(list.recipient_count)),
    h('dt', null, t('lists.test_count')), h('dd', null, formatCount(list.test_count)),
    h('dt', null, t('common.created_at')), h('dd', null, formatTime(list.created_at))), { actions: del });
}

/** The right-hand side for one list; the import result stays while the rest reloads. */
async function listDetail(id, ctx, refreshNav) {
  let list;
  try {
    list = await api.get(`/lists/${id}`);
  } catch (err) {
    return errorAlert(err);
  }
  const summary = h('div', null, summaryCard(list, ctx));
  const recipients = h('div', null, recipientsCard(id));
  async function reload() {
    try {
      replace(summary, summaryCard(await api.get(`/lists/${id}`), ctx));
    } catch (err) {
      replace(summary, errorAlert(err));
    }
    replace(recipients, recipientsCard(id));
    refreshNav();
  }
  return h('div', null, summary, importCard(list, reload), recipients);
}

export async function render(ctx) {
  const { main, params } = ctx;
  const header = pageHeader(t('lists.title'), {
    subtitle: t('lists.subtitle'),
    actions: linkButton('secondary', t('lists.template'), apiUrl('/lists/template.csv'), { download: 'template.csv', id: 'template-link' }),
  });
  const navHolder = h('div', null, loading());
  async function refreshNav() {
    try {
      const res = await api.get('/lists', { limit: 500 });
      replace(navHolder, listNav(res.items || [], params.id));
    } catch (err) {
      replace(navHolder, errorAlert(err));
    }
  }
  const left = h('div', null,
    card(t('lists.new'), createForm(ctx.navigate)),
    card(t('lists.all'), navHolder, { flush: true }));
  const right = params.id
    ? await listDetail(params.id, ctx, refreshNav)
    : card(null, emptyState(t('lists.pick_title'), t('lists.pick_text'), null, 'users'));
  await refreshNav();
  replace(main, header, h('div', { class: 'split' }, left, h('div', null, right)));
}
