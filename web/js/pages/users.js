// ユーザー管理 (#/users, the owner only; the navigation hides it from others
// and the API answers 403 owner_only): the tenant's accounts, add one
// (共同作成 or 内容確認; the generated password shown once), change the role
// or the address, delete after a confirmation (not oneself).

import { h, replace } from '../dom.js';
import { t, tv } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, select, button, busy, table, errorAlert, toast, confirmDialog, openModal, loading,
  emptyState,
} from '../ui.js';
import { onceSecret } from '../secret.js';

export const titleKey = 'users.title';

export const NEW_ROLES = ['full', 'readonly'];

/** The role choices for an account: full and readonly, and owner kept for an owner. */
export function roleOptions(current) {
  const roles = current === 'owner' ? ['owner', ...NEW_ROLES] : NEW_ROLES;
  return roles.map((r) => ({ value: r, label: tv('role', r), selected: r === (current || 'full') }));
}

/** What may be done with an account row: nobody deletes themself; the operator is never listed. */
export function userActions(row, me) {
  const self = Boolean(me) && row.id === me.id;
  return { edit: true, remove: !self, self };
}

function fieldErrors(err, fields, top) {
  const rest = [];
  for (const d of err.details || []) {
    if (d && fields[d.field]) fields[d.field].setError(err.code === 'exists' ? t('errors.exists') : (d.message || errorMessage(err)));
    else rest.push(d);
  }
  if (rest.length || !(err.details || []).length) replace(top, errorAlert({ ...err, details: rest }));
}

function addDialog(onAdded) {
  const username = input({ name: 'username', autocomplete: 'off', spellcheck: 'false', maxlength: '64', required: true });
  const email = input({ name: 'email', type: 'email', autocomplete: 'off', spellcheck: 'false', maxlength: '254' });
  const role = select(roleOptions('full'), { name: 'role' });
  const f = {
    username: field(t('users.username'), username, { help: t('users.username_help') }),
    email: field(t('users.email'), email, { help: t('users.email_help') }),
    role: field(t('users.role'), role, { help: t('users.role_help') }),
  };
  const top = h('div', { 'aria-live': 'polite' });
  const body = h('div');
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: 'user-add-form', id: 'user-add-save' }, t('users.add'));
  const close = button('secondary', t('common.cancel'), () => modal.close());
  const form = h('form', {
    id: 'user-add-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      const missing = [['username', username, 'users.username_required'], ['email', email, 'users.email_required']]
        .filter(([, el]) => !el.value.trim());
      for (const [k, , key] of missing) f[k].setError(t(key));
      if (missing.length) {
        missing[0][1].focus();
        return;
      }
      await busy(save, async () => {
        try {
          const res = await api.post('/users', { username: username.value.trim(), email: email.value.trim(), role: role.value });
          const u = res.user || {};
          replace(body, h('p', null, t('users.added_text', { user: u.username || username.value.trim(), role: tv('role', u.role || role.value) })),
            onceSecret({ title: t('users.password_once_title'), label: t('users.password'), value: res.password, id: 'new-user-password', warning: t('users.password_once') }));
          save.remove();
          close.textContent = t('common.close');
          onAdded();
        } catch (err) {
          fieldErrors(err, f, top);
        }
      });
    },
  }, top, f.username, f.email, f.role);
  replace(body, form);
  const modal = openModal({ title: t('users.add_title'), body, size: 'sm', footer: [close, save] });
  modal.dialog.id = 'user-add-dialog';
  username.focus();
}

function editDialog(row, onSaved) {
  const email = input({ name: 'email', type: 'email', value: row.email || '', autocomplete: 'off', spellcheck: 'false', maxlength: '254' });
  const role = select(roleOptions(row.role), { name: 'role' });
  const f = { email: field(t('users.email'), email), role: field(t('users.role'), role, { help: t('users.role_help') }) };
  const top = h('div', { 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: 'user-edit-form', id: 'user-edit-save' }, t('users.save'));
  const form = h('form', {
    id: 'user-edit-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      await busy(save, async () => {
        try {
          await api.patch(`/users/${encodeURIComponent(row.id)}`, { role: role.value, email: email.value.trim() });
          modal.close();
          toast(t('users.saved', { user: row.username }), 'success');
          onSaved();
        } catch (err) {
          fieldErrors(err, f, top);
        }
      });
    },
  }, top, f.role, f.email);
  const modal = openModal({
    title: t('users.edit_title', { user: row.username }), body: form, size: 'sm',
    footer: [button('secondary', t('common.cancel'), () => modal.close()), save],
  });
  modal.dialog.id = 'user-edit-dialog';
  role.focus();
}

export async function render({ main, user }) {
  const holder = h('div', null, loading());
  const alertBox = h('div', { 'aria-live': 'polite' });

  async function reload() {
    try {
      const res = await api.get('/users');
      const items = (res && res.items) || [];
      if (!items.length) {
        replace(holder, emptyState(t('users.empty'), null, null, 'people'));
        return;
      }
      replace(holder, table([
        { label: t('users.username') }, { label: t('users.email') }, { label: t('users.role') }, { label: t('users.factor') },
        { label: h('span', { class: 'visually-hidden' }, t('common.actions')) },
      ], items.map((u) => {
        const can = userActions(u, user);
        return h('tr', { dataset: { user: u.username } },
          h('td', null, h('strong', null, u.username), can.self ? h('span', { class: 'tag tag-self' }, t('users.you')) : null),
          h('td', null, u.email || h('span', { class: 'muted' }, '—')),
          h('td', { dataset: { role: u.role } }, tv('role', u.role)),
          h('td', null, tv('factor', u.second_factor || 'none')),
          h('td', { class: 'row-actions' },
            button('ghost', t('users.edit'), () => editDialog(u, reload),
              { class: 'btn-sm', 'aria-label': t('users.edit_named', { user: u.username }), dataset: { action: 'edit' } }),
            can.remove ? button('ghost', t('users.delete'), () => remove(u),
              { class: 'btn-sm btn-ghost-danger', 'aria-label': t('users.delete_named', { user: u.username }), dataset: { action: 'delete' } }) : null));
      }), { id: 'users-table' }));
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }

  async function remove(u) {
    replace(alertBox);
    const ok = await confirmDialog(t('users.delete_title'), t('users.delete_text', { user: u.username }), t('users.delete'));
    if (!ok) return;
    try {
      await api.del(`/users/${encodeURIComponent(u.id)}`);
      toast(t('users.deleted', { user: u.username }), 'success');
    } catch (err) {
      replace(alertBox, errorAlert(err));
    }
    await reload();
  }

  await reload();
  replace(main,
    pageHeader(t('users.title'), {
      subtitle: t('users.subtitle'),
      actions: button('primary', t('users.add'), () => addDialog(reload), { id: 'user-add' }),
    }),
    alertBox,
    card(t('users.list'), [h('p', { class: 'muted small' }, t('users.roles_lead')), holder], { attrs: { id: 'users-card' } }));
}
