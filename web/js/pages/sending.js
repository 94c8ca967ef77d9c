// 送信設定 (SPEC E7): the sending profiles (SMTP relays) of the tenant and the
// shared ones of the operator (read-only here); create and edit in a dialog
// (the password is write-only: the form shows 設定済み when one is stored and
// sends one only when typed), delete (409 in_use shown), テスト送信 with the
// relay's reply. Below: the DKIM records to publish (GET /dkim-keys, with copy
// buttons) and the usage of the current service period (GET /usage).
// A read-only account sees everything and no button that changes anything.

import { h, replace, formatCount, formatTime } from '../dom.js';
import { t } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, select, checkbox, button, busy, table, emptyState, errorAlert, alert,
  toast, confirmDialog, openModal, loading, canWrite,
} from '../ui.js';
import { reportMailboxCard } from './report-mailbox.js';

export const titleKey = 'profiles.title';

export const SECURITIES = ['starttls', 'tls', 'none'];
const DEFAULT_PORTS = { none: 25, starttls: 587, tls: 465 };
const FIELDS = ['name', 'from_address', 'host', 'port', 'security', 'verify_tls', 'username', 'password', 'helo', 'connections', 'per_connection'];

/** The port to suggest when the security changes: the usual one, unless the trainer typed another. */
export function suggestedPort(port, security) {
  const p = Number(port);
  const usual = Object.values(DEFAULT_PORTS);
  if (!String(port ?? '').trim() || usual.includes(p)) return DEFAULT_PORTS[security] || p;
  return p;
}

/**
 * The request body of the form's values. A password is sent only when one is
 * typed (PATCH keeps the stored one otherwise), or "" to remove it.
 */
export function profileBody(v, { isNew, removePassword } = {}) {
  const num = (x) => (/^\d+$/.test(String(x ?? '').trim()) ? Number(String(x).trim()) : String(x ?? '').trim());
  const body = {
    name: String(v.name || '').trim(),
    host: String(v.host || '').trim(),
    port: num(v.port),
    security: v.security,
    verify_tls: Boolean(v.verify_tls),
    username: String(v.username || '').trim(),
    helo: String(v.helo || '').trim(),
    connections: num(v.connections),
    per_connection: num(v.per_connection),
    from_address: String(v.from_address || '').trim(),
  };
  if (v.password) body.password = v.password;
  else if (removePassword && !isNew) body.password = '';
  return body;
}

/* ---------- copy ---------- */

async function copyText(text, fallbackEl) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(fallbackEl);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

function copyButton(text, codeEl, label) {
  return button('ghost', t('dkim.copy'), async () => {
    const ok = await copyText(text, codeEl);
    toast(ok ? t('dkim.copied') : t('dkim.copy_failed'), ok ? 'success' : 'error');
  }, { class: 'btn-sm', 'aria-label': label });
}

/* ---------- the profile dialog ---------- */

function profileDialog(profile, onSaved) {
  const isNew = !profile;
  const p = profile || {
    name: '', host: '', port: 587, security: 'starttls', verify_tls: true, username: '', has_password: false,
    helo: '', connections: 2, per_connection: 100, from_address: '',
  };
  const c = {
    name: input({ name: 'name', value: p.name, maxlength: '200', required: true, autocomplete: 'off' }),
    from_address: input({
      name: 'from_address', value: p.from_address || '', maxlength: '500', autocomplete: 'off', spellcheck: 'false',
      placeholder: t('profiles.from_address_placeholder'),
    }),
    host: input({ name: 'host', value: p.host, maxlength: '253', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'smtp.example.jp' }),
    port: input({ name: 'port', type: 'number', min: '1', max: '65535', value: String(p.port), inputmode: 'numeric' }),
    security: select(SECURITIES.map((x) => ({ value: x, label: t(`profiles.security_${x}`), selected: x === p.security })), { name: 'security' }),
    username: input({ name: 'username', value: p.username, maxlength: '256', autocomplete: 'off', spellcheck: 'false' }),
    password: input({
      name: 'password', type: 'password', autocomplete: 'new-password', maxlength: '1024',
      placeholder: p.has_password ? t('profiles.password_set') : '',
    }),
    helo: input({ name: 'helo', value: p.helo, maxlength: '255', autocomplete: 'off', spellcheck: 'false' }),
    connections: input({ name: 'connections', type: 'number', min: '1', max: '32', value: String(p.connections), inputmode: 'numeric' }),
    per_connection: input({ name: 'per_connection', type: 'number', min: '1', max: '100000', value: String(p.per_connection), inputmode: 'numeric' }),
  };
  const verify = checkbox(t('profiles.verify_tls'), { name: 'verify_tls', checked: p.verify_tls !== false });
  const removePw = checkbox(t('profiles.password_remove'), { name: 'password_remove' });
  c.security.addEventListener('change', () => {
    c.port.value = String(suggestedPort(c.port.value, c.security.value));
  });
  const f = {
    name: field(t('profiles.name'), c.name, { name: 'name' }),
    from_address: field(t('profiles.from_address'), c.from_address, { name: 'from_address', help: t('profiles.from_address_help') }),
    host: field(t('profiles.host'), c.host, { name: 'host' }),
    port: field(t('profiles.port'), c.port, { name: 'port' }),
    security: field(t('profiles.security'), c.security, { name: 'security', help: t('profiles.security_help') }),
    username: field(t('profiles.username'), c.username, { name: 'username', help: t('profiles.username_help') }),
    password: field(t('profiles.password'), c.password, {
      name: 'password', help: p.has_password ? t('profiles.password_help_set') : t('profiles.password_help'),
    }),
    helo: field(t('profiles.helo'), c.helo, { name: 'helo', help: t('profiles.helo_help') }),
    connections: field(t('profiles.connections'), c.connections, { name: 'connections', help: t('profiles.connections_help') }),
    per_connection: field(t('profiles.per_connection'), c.per_connection, { name: 'per_connection', help: t('profiles.per_connection_help') }),
  };
  const verifyWrap = h('div', { class: 'field', dataset: { field: 'verify_tls' } }, verify.el, h('p', { class: 'help' }, t('profiles.verify_tls_help')));
  const verifyError = h('p', { class: 'error', hidden: true });
  verifyWrap.appendChild(verifyError);
  f.verify_tls = verifyWrap;
  verifyWrap.setError = (text) => { verifyError.textContent = text || ''; verifyError.hidden = !text; };
  const formError = h('div', { 'aria-live': 'polite' });
  const formId = 'profile-form';
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: formId, id: 'profile-save' },
    isNew ? t('profiles.create') : t('profiles.save'));

  const form = h('form', {
    id: formId, novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(formError);
      if (!c.name.value.trim()) f.name.setError(t('profiles.err_name'));
      if (!c.host.value.trim()) f.host.setError(t('profiles.err_host'));
      if (!c.name.value.trim() || !c.host.value.trim()) {
        (c.name.value.trim() ? c.host : c.name).focus();
        return;
      }
      busy(save, async () => {
        const values = Object.fromEntries(FIELDS.filter((k) => c[k]).map((k) => [k, c[k].value]));
        values.verify_tls = verify.box.checked;
        const body = profileBody(values, { isNew, removePassword: removePw.box.checked });
        try {
          const saved = isNew
            ? await api.post('/sending-profiles', body)
            : await api.patch(`/sending-profiles/${encodeURIComponent(p.id)}`, body);
          c.password.value = '';
          modal.close();
          toast(t(isNew ? 'profiles.created' : 'profiles.saved', { name: saved.name }), 'success');
          onSaved(saved);
        } catch (err) {
          const rest = [];
          for (const d of err.details) {
            if (d && f[d.field]) f[d.field].setError(d.message || errorMessage(err));
            else rest.push(d);
          }
          if (rest.length || !err.details.length) replace(formError, errorAlert({ ...err, details: rest }));
          const bad = form.querySelector('.has-error input, .has-error select');
          if (bad) bad.focus();
        }
      });
    },
  },
  formError,
  h('div', { class: 'form-grid' }, f.name, f.from_address),
  h('div', { class: 'form-grid form-grid-3' }, f.host, f.port, f.security),
  f.verify_tls,
  h('div', { class: 'form-grid' }, f.username, h('div', null, f.password, p.has_password ? removePw.el : null)),
  h('div', { class: 'form-grid form-grid-3' }, f.helo, f.connections, f.per_connection));
  const modal = openModal({
    title: isNew ? t('profiles.new_title') : t('profiles.edit_title', { name: p.name }), body: form, size: 'md',
    footer: [button('secondary', t('common.cancel'), () => modal.close()), save],
  });
  modal.dialog.id = 'profile-dialog';
  c.name.focus();
}

/* ---------- テスト送信 ---------- */

function testDialog(profile) {
  const to = input({ name: 'to', type: 'email', autocomplete: 'email', required: true, spellcheck: 'false' });
  const from = input({ name: 'from', type: 'email', autocomplete: 'off', spellcheck: 'false' });
  const toField = field(t('profiles.test_to'), to, { name: 'to' });
  const fromField = field(t('profiles.test_from'), from, { name: 'from', help: t('profiles.test_from_help') });
  const result = h('div', { id: 'test-result', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary', form: 'profile-test-form', id: 'test-send' }, t('profiles.test_send'));
  const form = h('form', {
    id: 'profile-test-form', novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      toField.setError('');
      fromField.setError('');
      replace(result);
      if (!to.value.trim()) {
        toField.setError(t('profiles.err_to'));
        to.focus();
        return;
      }
      busy(send, async () => {
        const body = { to: to.value.trim() };
        if (from.value.trim()) body.from = from.value.trim();
        try {
          const res = await api.post(`/sending-profiles/${encodeURIComponent(profile.id)}/test`, body);
          replace(result, h('div', {
            class: ['alert', res.ok ? 'alert-success' : 'alert-error'], role: res.ok ? 'status' : 'alert',
            dataset: { testid: 'test-result', ok: String(Boolean(res.ok)) },
          },
          h('h3', null, res.ok ? t('profiles.test_ok') : t('profiles.test_failed')),
          h('p', { class: 'small mb-0' }, t('profiles.test_reply')),
          h('pre', { class: 'test-reply' }, res.reply || '—')));
        } catch (err) {
          const byField = { to: toField, from: fromField };
          const known = err.details.filter((d) => d && byField[d.field]);
          for (const d of known) byField[d.field].setError(d.message || errorMessage(err));
          if (!known.length) replace(result, errorAlert(err));
        }
      });
    },
  }, h('p', { class: 'muted small' }, t('profiles.test_lead', { name: profile.name })), toField, fromField, result);
  const modal = openModal({
    title: t('profiles.test_title'), body: form, size: 'sm',
    footer: [button('secondary', t('common.close'), () => modal.close()), send],
  });
  modal.dialog.id = 'profile-test-dialog';
  to.focus();
}

/* ---------- the profiles table ---------- */

function securityText(p) {
  return t(`profiles.security_${SECURITIES.includes(p.security) ? p.security : 'none'}`);
}

function profilesTable(items, { writable, onEdit, onDelete, onTest }) {
  if (!items.length) return emptyState(t('profiles.empty_title'), t('profiles.empty_text'), null, 'send');
  return table([
    { label: t('profiles.name') },
    { label: t('profiles.server') },
    { label: t('profiles.security') },
    { label: t('profiles.auth') },
    { label: t('profiles.connections_col') },
    { label: h('span', { class: 'visually-hidden' }, t('common.actions')) },
  ], items.map((p) => h('tr', { dataset: { profile: p.id, shared: String(Boolean(p.shared)) } },
    h('td', null, h('strong', null, p.name), ' ',
      p.shared ? h('span', { class: 'tag', title: t('profiles.shared_help') }, t('profiles.shared')) : null,
      p.from_address ? h('div', { class: 'muted small', dataset: { testid: 'profile-from' } },
        t('profiles.from_address_value', { from: p.from_address })) : null),
    h('td', null, h('code', null, `${p.host}:${p.port}`), p.helo ? h('div', { class: 'muted small' }, `HELO ${p.helo}`) : null),
    h('td', null, securityText(p), p.security === 'none' ? null
      : h('div', { class: 'muted small' }, p.verify_tls ? t('profiles.verify_on') : t('profiles.verify_off'))),
    h('td', { dataset: { testid: 'profile-auth' } },
      p.username ? h('div', null, p.username) : h('div', { class: 'muted' }, t('profiles.no_login')),
      p.has_password ? h('span', { class: 'badge badge-plain badge--password' }, t('profiles.password_set'))
        : h('span', { class: 'muted small' }, t('profiles.password_none'))),
    h('td', { class: 'nowrap' }, t('profiles.connections_value', { n: formatCount(p.connections), per: formatCount(p.per_connection) })),
    h('td', { class: 'row-actions' }, writable ? [
      button('ghost', t('profiles.test'), () => onTest(p), { class: 'btn-sm', 'aria-label': t('profiles.test_named', { name: p.name }), dataset: { action: 'test' } }),
      p.shared ? null : button('ghost', t('profiles.edit'), () => onEdit(p),
        { class: 'btn-sm', 'aria-label': t('profiles.edit_named', { name: p.name }), dataset: { action: 'edit' } }),
      p.shared ? null : button('ghost', t('profiles.delete'), () => onDelete(p),
        { class: 'btn-sm btn-ghost-danger', 'aria-label': t('profiles.delete_named', { name: p.name }), dataset: { action: 'delete' } }),
    ] : null))), { id: 'profiles-table' });
}

/* ---------- DKIM and usage ---------- */

function dkimView(items) {
  if (!items.length) {
    return h('div', { id: 'dkim-empty' }, h('p', { class: 'muted' }, t('dkim.empty')),
      h('p', { class: 'muted small mb-0' }, t('dkim.empty_how'), ' ', h('code', null, 'kunren dkim add DOMAIN SELECTOR')));
  }
  return h('div', { class: 'dkim-list', id: 'dkim-list' }, items.map((k) => {
    const nameEl = h('code', { class: 'dns-name' }, k.dns_name);
    const txtEl = h('code', { class: 'dns-txt' }, k.dns_txt);
    return h('section', { class: 'dkim-key', dataset: { dkim: k.id } },
      h('dl', { class: 'kv' },
        h('dt', null, t('dkim.domain')), h('dd', null, k.domain),
        h('dt', null, t('dkim.selector')), h('dd', null, k.selector),
        h('dt', null, t('dkim.algorithm')), h('dd', null, k.algorithm),
        h('dt', null, t('dkim.dns_name')), h('dd', { class: 'dns-row' }, nameEl,
          copyButton(k.dns_name, nameEl, t('dkim.copy_name', { domain: k.domain }))),
        h('dt', null, t('dkim.dns_txt')), h('dd', { class: 'dns-row' }, txtEl,
          copyButton(k.dns_txt, txtEl, t('dkim.copy_txt', { domain: k.domain })))));
  }));
}

function usageView(u) {
  return h('div', null,
    h('dl', { class: 'usage', id: 'usage' },
      h('div', { class: 'stat' }, h('dt', { class: 'stat-label' }, t('usage.period_start')),
        h('dd', { class: 'stat-value usage-period', dataset: { testid: 'usage-period' } }, u.period_start ? formatTime(u.period_start).slice(0, 10) : '—')),
      h('div', { class: 'stat' }, h('dt', { class: 'stat-label' }, t('usage.sends')),
        h('dd', { class: 'stat-value', dataset: { testid: 'usage-sends' } }, formatCount(u.sends))),
      h('div', { class: 'stat' }, h('dt', { class: 'stat-label' }, t('usage.addresses')),
        h('dd', { class: 'stat-value', dataset: { testid: 'usage-addresses' } }, formatCount(u.addresses)))),
    h('p', { class: 'muted small mb-0' }, t('usage.note')));
}

/* ---------- the page ---------- */

export async function render({ main, user }) {
  const writable = canWrite(user);
  const addBtn = writable ? button('primary', t('profiles.add'), () => profileDialog(null, reload), { id: 'profile-add' }) : null;
  const header = pageHeader(t('profiles.title'), { subtitle: t('profiles.subtitle'), actions: addBtn });
  const alertBox = h('div', { id: 'profiles-alert', 'aria-live': 'polite' });
  const holder = h('div', null, loading());
  const dkimHolder = h('div', null, loading());
  const usageHolder = h('div', null, loading());

  async function remove(p) {
    replace(alertBox);
    const ok = await confirmDialog(t('profiles.delete_title'), t('profiles.delete_text', { name: p.name }), t('profiles.delete'));
    if (!ok) return;
    try {
      await api.del(`/sending-profiles/${encodeURIComponent(p.id)}`);
      toast(t('profiles.deleted', { name: p.name }), 'success');
      await reload();
    } catch (err) {
      replace(alertBox, err.status === 409 && err.code === 'in_use'
        ? alert('error', h('h3', null, t('profiles.in_use_title', { name: p.name })), h('div', null, t('profiles.in_use_text')))
        : errorAlert(err));
      alertBox.scrollIntoView({ block: 'nearest' });
    }
  }

  async function reload() {
    try {
      const res = await api.get('/sending-profiles');
      replace(holder, profilesTable((res && res.items) || [], {
        writable, onEdit: (p) => profileDialog(p, reload), onDelete: remove, onTest: testDialog,
      }));
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }

  await Promise.all([
    reload(),
    api.get('/dkim-keys').then((r) => replace(dkimHolder, dkimView((r && r.items) || [])))
      .catch((err) => replace(dkimHolder, errorAlert(err))),
    api.get('/usage').then((u) => replace(usageHolder, usageView(u || {})))
      .catch((err) => replace(usageHolder, errorAlert(err))),
  ]);
  replace(main, header,
    writable ? null : alert('info', t('profiles.readonly')),
    alertBox,
    card(t('profiles.list'), [h('p', { class: 'muted small' }, t('profiles.lead')), holder], { attrs: { id: 'profiles-card' } }),
    card(t('dkim.title'), [h('p', { class: 'muted small' }, t('dkim.lead')), dkimHolder], { attrs: { id: 'dkim-card' } }),
    card(t('usage.title'), usageHolder, { attrs: { id: 'usage-card' } }),
    reportMailboxCard(user));
  return undefined;
}
