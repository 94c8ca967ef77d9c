// テナント管理 (#/operator/tenants, the operator only): every tenant with its
// licence, usage, what remains, its service period, accounts and state; create
// one with its owner (the owner's generated password shown once), edit
// (licence, quota, suspended, period end, retention), start the next service
// period (renew), delete everything of a tenant after its name is typed.

import { h, replace, formatCount } from '../dom.js';
import { t } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, select, checkbox, button, busy, table, errorAlert, toast, confirmDialog, openModal,
  loading, emptyState,
} from '../ui.js';
import { onceSecret } from '../secret.js';
import { LICENCES, licenceSummary, quotaText, countText, dateText, dateInputValue } from './tenant.js';

export const titleKey = 'optenants.title';

export const TIME_ZONES = ['Asia/Tokyo', 'UTC', 'Asia/Seoul', 'Asia/Shanghai', 'Asia/Singapore', 'Asia/Bangkok',
  'Asia/Kolkata', 'Europe/London', 'Europe/Paris', 'America/New_York', 'America/Los_Angeles', 'Australia/Sydney'];

/** A whole number typed in a form, or the text as typed (the API names it in its error). */
export function wholeNumber(text) {
  const v = String(text ?? '').trim();
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** POST /operator/tenants of the create form's values. */
export function newTenantBody(v) {
  const owner = { username: String(v.owner_username || '').trim(), email: String(v.owner_email || '').trim() };
  return {
    name: String(v.name || '').trim(),
    time_zone: String(v.time_zone || '').trim() || 'Asia/Tokyo',
    licence: v.licence,
    quota: wholeNumber(v.quota === '' || v.quota === undefined ? '0' : v.quota),
    owner,
  };
}

/** PATCH /operator/tenants/{id} of the edit form's values. */
export function tenantPatchBody(v) {
  const body = {
    name: String(v.name || '').trim(),
    licence: v.licence,
    quota: wholeNumber(v.quota === '' ? '0' : v.quota),
    suspended: Boolean(v.suspended),
    retention_days: wholeNumber(v.retention_days === '' ? '0' : v.retention_days),
  };
  if (v.period_end) body.period_end = v.period_end;
  return body;
}

/** The delete button opens only when the tenant's name is typed exactly. */
export function deleteConfirmed(typed, name) {
  return String(typed ?? '') === String(name ?? '') && String(name ?? '') !== '';
}

const FIELD_MAP = { name: 'name', time_zone: 'time_zone', licence: 'licence', quota: 'quota', suspended: 'suspended',
  period_end: 'period_end', retention_days: 'retention_days', 'owner.username': 'owner_username', 'owner.email': 'owner_email',
  owner_username: 'owner_username', owner_email: 'owner_email' };

function placeErrors(err, f, top) {
  const rest = [];
  for (const d of err.details || []) {
    const key = d && FIELD_MAP[d.field];
    if (key && f[key]) f[key].setError(err.code === 'exists' ? t('errors.exists') : (d.message || errorMessage(err)));
    else rest.push(d);
  }
  if (rest.length || !(err.details || []).length) replace(top, errorAlert({ ...err, details: rest }));
  const bad = top.parentElement && top.parentElement.querySelector('.has-error input, .has-error select');
  if (bad) bad.focus();
}

function licenceSelect(current) {
  return select(LICENCES.map((l) => ({ value: l, label: t(`licence.${l}`), selected: l === current })), { name: 'licence' });
}

function zoneInput(value) {
  const listId = 'tz-options';
  return [
    input({ name: 'time_zone', value, list: listId, autocomplete: 'off', spellcheck: 'false' }),
    h('datalist', { id: listId }, TIME_ZONES.map((z) => h('option', { value: z }))),
  ];
}

function createDialog(onCreated) {
  const [zone, zones] = zoneInput('Asia/Tokyo');
  const c = {
    name: input({ name: 'name', maxlength: '200', autocomplete: 'off' }),
    time_zone: zone,
    licence: licenceSelect('send_count'),
    quota: input({ name: 'quota', type: 'number', min: '0', step: '1', value: '1000', inputmode: 'numeric' }),
    owner_username: input({ name: 'owner_username', maxlength: '64', autocomplete: 'off', spellcheck: 'false' }),
    owner_email: input({ name: 'owner_email', type: 'email', maxlength: '254', autocomplete: 'off', spellcheck: 'false' }),
  };
  const f = {
    name: field(t('optenants.name'), c.name),
    time_zone: field(t('optenants.time_zone'), c.time_zone, { help: t('optenants.time_zone_help') }),
    licence: field(t('optenants.licence'), c.licence),
    quota: field(t('optenants.quota'), c.quota, { help: t('optenants.quota_help') }),
    owner_username: field(t('optenants.owner_username'), c.owner_username),
    owner_email: field(t('optenants.owner_email'), c.owner_email, { help: t('optenants.owner_email_help') }),
  };
  const top = h('div', { 'aria-live': 'polite' });
  const body = h('div');
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: 'tenant-create-form', id: 'tenant-create-save' }, t('optenants.create'));
  const close = button('secondary', t('common.cancel'), () => modal.close());
  const form = h('form', {
    id: 'tenant-create-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      const missing = ['name', 'owner_username', 'owner_email'].filter((k) => !c[k].value.trim());
      missing.forEach((k) => f[k].setError(t('optenants.required')));
      if (missing.length) {
        c[missing[0]].focus();
        return;
      }
      const values = Object.fromEntries(Object.entries(c).map(([k, el]) => [k, el.value]));
      await busy(save, async () => {
        try {
          const res = await api.post('/operator/tenants', newTenantBody(values));
          const tn = res.tenant || {};
          replace(body, h('p', null, t('optenants.created_text', { name: tn.name || values.name, owner: values.owner_username.trim() })),
            onceSecret({ title: t('optenants.owner_password_title'), label: t('optenants.owner_password'), value: res.owner_password, id: 'owner-password', warning: t('optenants.owner_password_once') }));
          save.remove();
          close.textContent = t('common.close');
          onCreated();
        } catch (err) {
          placeErrors(err, f, top);
        }
      });
    },
  }, top, f.name,
  h('div', { class: 'form-grid' }, f.time_zone, f.licence, f.quota), zones,
  h('h3', { class: 'subheading' }, t('optenants.owner')),
  h('div', { class: 'form-grid' }, f.owner_username, f.owner_email));
  c.licence.addEventListener('change', () => {
    if (c.licence.value === 'trial') c.quota.value = '0';
  });
  replace(body, form);
  const modal = openModal({ title: t('optenants.create_title'), body, size: 'md', footer: [close, save] });
  modal.dialog.id = 'tenant-create-dialog';
  c.name.focus();
}

function editDialog(tn, onSaved) {
  const c = {
    name: input({ name: 'name', value: tn.name || '', maxlength: '200', autocomplete: 'off' }),
    licence: licenceSelect(tn.licence),
    quota: input({ name: 'quota', type: 'number', min: '0', step: '1', value: String(tn.quota ?? 0), inputmode: 'numeric' }),
    period_end: input({ name: 'period_end', type: 'date', value: dateInputValue(tn.period_end) }),
    retention_days: input({ name: 'retention_days', type: 'number', min: '0', step: '1', value: String(tn.retention_days ?? 0), inputmode: 'numeric' }),
  };
  const suspended = checkbox(t('optenants.suspended_label'), { name: 'suspended', checked: Boolean(tn.suspended) });
  const f = {
    name: field(t('optenants.name'), c.name),
    licence: field(t('optenants.licence'), c.licence),
    quota: field(t('optenants.quota'), c.quota, { help: t('optenants.quota_help') }),
    period_end: field(t('optenants.period_end'), c.period_end, { help: t('optenants.period_end_help') }),
    retention_days: field(t('optenants.retention_days'), c.retention_days, { help: t('optenants.retention_help') }),
  };
  const suspendedErr = h('p', { class: 'error', hidden: true });
  f.suspended = h('div', { class: 'field' }, suspended.el, h('p', { class: 'help' }, t('optenants.suspended_help')), suspendedErr);
  f.suspended.setError = (text) => { suspendedErr.textContent = text || ''; suspendedErr.hidden = !text; };
  const top = h('div', { 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: 'tenant-edit-form', id: 'tenant-edit-save' }, t('optenants.save'));
  const form = h('form', {
    id: 'tenant-edit-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      const values = Object.fromEntries(Object.entries(c).map(([k, el]) => [k, el.value]));
      values.suspended = suspended.box.checked;
      await busy(save, async () => {
        try {
          await api.patch(`/operator/tenants/${encodeURIComponent(tn.id)}`, tenantPatchBody(values));
          modal.close();
          toast(t('optenants.saved', { name: values.name || tn.name }), 'success');
          onSaved();
        } catch (err) {
          placeErrors(err, f, top);
        }
      });
    },
  }, top, f.name, h('div', { class: 'form-grid' }, f.licence, f.quota),
  h('div', { class: 'form-grid' }, f.period_end, f.retention_days), f.suspended);
  const modal = openModal({
    title: t('optenants.edit_title', { name: tn.name }), body: form, size: 'md',
    footer: [button('secondary', t('common.cancel'), () => modal.close()), save],
  });
  modal.dialog.id = 'tenant-edit-dialog';
  c.name.focus();
}

function deleteDialog(tn, onDeleted) {
  const typed = input({ name: 'confirm_name', autocomplete: 'off', spellcheck: 'false' });
  const typedField = field(t('optenants.delete_type', { name: tn.name }), typed);
  const top = h('div', { 'aria-live': 'polite' });
  const del = h('button', { type: 'submit', class: 'btn btn-danger', form: 'tenant-delete-form', id: 'tenant-delete-confirm', disabled: true }, t('optenants.delete'));
  typed.addEventListener('input', () => { del.disabled = !deleteConfirmed(typed.value, tn.name); });
  const form = h('form', {
    id: 'tenant-delete-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (!deleteConfirmed(typed.value, tn.name)) return;
      await busy(del, async () => {
        try {
          await api.del(`/operator/tenants/${encodeURIComponent(tn.id)}`);
          modal.close();
          toast(t('optenants.deleted', { name: tn.name }), 'success');
          onDeleted();
        } catch (err) {
          replace(top, errorAlert(err));
        }
      });
      del.disabled = !deleteConfirmed(typed.value, tn.name);
    },
  },
  h('div', { class: 'alert alert-error', role: 'alert' }, h('strong', null, t('optenants.delete_warning_title')),
    h('div', null, t('optenants.delete_warning', { name: tn.name }))),
  top, typedField);
  const modal = openModal({
    title: t('optenants.delete_title', { name: tn.name }), body: form, size: 'sm',
    footer: [button('secondary', t('common.cancel'), () => modal.close()), del],
  });
  modal.dialog.id = 'tenant-delete-dialog';
  typed.focus();
}

function tenantsTable(items, actions) {
  if (!items.length) return emptyState(t('optenants.empty'), null, null, 'building');
  return table([
    { label: t('optenants.name') }, { label: t('optenants.licence') }, { label: t('optenants.quota') },
    { label: t('optenants.usage'), class: 'num' }, { label: t('optenants.remaining'), class: 'num' },
    { label: t('optenants.period') }, { label: t('optenants.accounts'), class: 'num' }, { label: t('optenants.state') },
    { label: h('span', { class: 'visually-hidden' }, t('common.actions')) },
  ], items.map((tn) => {
    const s = licenceSummary(tn);
    return h('tr', { dataset: { tenant: tn.id, name: tn.name } },
      h('td', null, h('strong', null, tn.name), h('div', { class: 'muted small' }, tn.time_zone || '')),
      h('td', null, t(`licence.${s.licence}`)),
      h('td', null, quotaText(s.quota, s.counts)),
      h('td', { class: 'num', dataset: { testid: 'usage' } }, countText(s.used, s.counts)),
      h('td', { class: 'num' }, s.unlimited ? '—' : countText(s.remaining, s.counts)),
      h('td', { class: 'nowrap' }, `${dateText(tn.period_start)} – ${dateText(tn.period_end)}`,
        tn.delete_at ? h('div', { class: 'small muted' }, t('optenants.delete_at', { date: dateText(tn.delete_at) })) : null),
      h('td', { class: 'num' }, formatCount(tn.accounts)),
      h('td', { dataset: { testid: 'state' } }, tn.suspended
        ? h('span', { class: 'badge badge--suspended' }, t('optenants.suspended'))
        : h('span', { class: 'badge badge--active' }, t('optenants.active'))),
      h('td', { class: 'row-actions' },
        button('ghost', t('optenants.edit'), () => actions.edit(tn), { class: 'btn-sm', 'aria-label': t('optenants.edit_named', { name: tn.name }), dataset: { action: 'edit' } }),
        button('ghost', t('optenants.renew'), () => actions.renew(tn), { class: 'btn-sm', 'aria-label': t('optenants.renew_named', { name: tn.name }), dataset: { action: 'renew' } }),
        button('ghost', t('optenants.delete'), () => actions.remove(tn), { class: 'btn-sm btn-ghost-danger', 'aria-label': t('optenants.delete_named', { name: tn.name }), dataset: { action: 'delete' } })));
  }), { id: 'tenants-table' });
}

export async function render({ main }) {
  const holder = h('div', null, loading());
  const alertBox = h('div', { 'aria-live': 'polite' });

  async function reload() {
    try {
      const res = await api.get('/operator/tenants');
      replace(holder, tenantsTable((res && res.items) || [], {
        edit: (tn) => editDialog(tn, reload),
        renew,
        remove: (tn) => deleteDialog(tn, reload),
      }));
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }

  async function renew(tn) {
    replace(alertBox);
    const ok = await confirmDialog(t('optenants.renew_title', { name: tn.name }), t('optenants.renew_text'), t('optenants.renew'), 'primary');
    if (!ok) return;
    try {
      await api.post(`/operator/tenants/${encodeURIComponent(tn.id)}/renew`);
      toast(t('optenants.renewed', { name: tn.name }), 'success');
    } catch (err) {
      replace(alertBox, errorAlert(err));
    }
    await reload();
  }

  await reload();
  replace(main,
    pageHeader(t('optenants.title'), {
      subtitle: t('optenants.subtitle'),
      actions: button('primary', t('optenants.create'), () => createDialog(reload), { id: 'tenant-create' }),
    }),
    alertBox,
    card(null, holder, { attrs: { id: 'tenants-card' }, flush: true }));
}
