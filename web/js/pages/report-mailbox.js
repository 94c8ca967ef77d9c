// The report mailbox card of the 送信設定 page (報告, SPEC F1): the IMAP
// mailbox where people forward suspicious mail. Kunren reads its unseen mail
// every minute and records 報告 for the drill mails it finds; other mail is
// left unseen. The password is write-only (設定済み when stored; when a
// change of server or user drops it, the form asks for it again). 接続テスト
// logs in and selects the folder. Read-only accounts see the settings only.

import { h, replace, formatTime } from '../dom.js';
import { t } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import { card, field, input, select, checkbox, button, busy, errorAlert, alert, toast, confirmDialog, canWrite } from '../ui.js';

const PORTS = { tls: 993, starttls: 143, none: 143 };

/** The PUT body of the form's values; a password only when typed. */
export function mailboxBody(v) {
  const port = String(v.port ?? '').trim();
  const body = {
    host: String(v.host || '').trim(),
    port: /^\d+$/.test(port) ? Number(port) : port,
    security: v.security,
    verify_tls: Boolean(v.verify_tls),
    username: String(v.username || '').trim(),
    folder: String(v.folder || '').trim() || 'INBOX',
    enabled: Boolean(v.enabled),
  };
  if (v.password) body.password = v.password;
  return body;
}

export function reportMailboxCard(user) {
  const writable = canWrite(user);
  const holder = h('div', { id: 'report-mailbox' });
  const msg = h('div', { 'aria-live': 'polite', id: 'report-mailbox-alert' });

  function form(mb) {
    const c = {
      host: input({ name: 'host', value: mb ? mb.host : '', autocomplete: 'off', disabled: !writable }),
      port: input({ name: 'port', value: mb ? String(mb.port) : '993', inputmode: 'numeric', disabled: !writable }),
      security: select(['tls', 'starttls', 'none'].map((s) => ({
        value: s, label: t(`report_mailbox.security_${s}`), selected: (mb ? mb.security : 'tls') === s,
      })), { name: 'security', disabled: !writable }),
      username: input({ name: 'username', value: mb ? mb.username : '', autocomplete: 'off', disabled: !writable }),
      password: input({ name: 'password', type: 'password', autocomplete: 'new-password', disabled: !writable,
        placeholder: mb && mb.has_password ? t('report_mailbox.password_set') : '' }),
      folder: input({ name: 'folder', value: mb ? mb.folder : 'INBOX', disabled: !writable }),
    };
    const verify = checkbox(t('report_mailbox.verify_tls'), { name: 'verify_tls', checked: mb ? mb.verify_tls : true, disabled: !writable });
    const enabled = checkbox(t('report_mailbox.enabled'), { name: 'enabled', checked: mb ? mb.enabled : true, disabled: !writable });
    const f = {};
    for (const k of Object.keys(c)) f[k] = field(t(`report_mailbox.${k}`), c[k], { name: k });
    c.security.addEventListener('change', () => {
      if (Object.values(PORTS).includes(Number(c.port.value)) || !c.port.value) c.port.value = String(PORTS[c.security.value]);
    });
    const values = () => ({
      host: c.host.value, port: c.port.value, security: c.security.value, username: c.username.value,
      password: c.password.value, folder: c.folder.value, verify_tls: verify.box.checked, enabled: enabled.box.checked,
    });
    const save = button('primary', t('report_mailbox.save'), () => busy(save, async () => {
      replace(msg);
      Object.values(f).forEach((x) => x.setError(''));
      try {
        const r = await api.put('/report-mailbox', mailboxBody(values()));
        toast(t('report_mailbox.saved'), 'success');
        await load();
        // a new host, port, security or user without a password: the stored
        // one was dropped (it is only sent where it was entered for)
        if (r && r.password_cleared) {
          replace(msg, alert('warning', h('span', { id: 'report-mailbox-password-cleared' }, t('report_mailbox.password_cleared'))));
        }
      } catch (err) {
        const d = (err.details || [])[0];
        if (d && f[d.field]) f[d.field].setError(d.message);
        else replace(msg, errorAlert(err));
      }
    }), { id: 'report-mailbox-save' });
    const test = button('secondary', t('report_mailbox.test'), () => busy(test, async () => {
      replace(msg);
      try {
        const r = await api.post('/report-mailbox/test');
        replace(msg, r.ok ? alert('success', t('report_mailbox.test_ok', { n: r.unseen }))
          : alert('error', t('report_mailbox.test_failed', { error: r.error })));
      } catch (err) {
        replace(msg, errorAlert(err));
      }
    }), { id: 'report-mailbox-test', disabled: !mb });
    const del = button('danger', t('report_mailbox.delete'), async () => {
      if (!await confirmDialog(t('report_mailbox.delete_title'), t('report_mailbox.delete_text'), t('report_mailbox.delete'))) return;
      try {
        await api.del('/report-mailbox');
        toast(t('report_mailbox.deleted'), 'success');
        await load();
      } catch (err) {
        replace(msg, errorAlert(err));
      }
    }, { id: 'report-mailbox-delete', disabled: !mb });
    const status = mb ? h('p', { class: 'muted small', id: 'report-mailbox-status' },
      mb.last_poll_at
        ? t('report_mailbox.last_poll', { at: formatTime(mb.last_poll_at), reported: mb.last_reported, ignored: mb.last_ignored })
        : t('report_mailbox.never_polled'),
      mb.last_error ? h('span', { class: 'error', id: 'report-mailbox-error' }, ` ${t('report_mailbox.last_error')}: ${mb.last_error}`) : null)
      : h('p', { class: 'muted small' }, t('report_mailbox.none'));
    return h('form', { id: 'report-mailbox-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); save.click(); } },
      status,
      h('div', { class: 'form-grid form-grid-3' }, f.host, f.port, f.security),
      h('div', { class: 'form-grid' }, f.username, f.password),
      h('div', { class: 'form-grid' }, f.folder, h('div', null, verify.el, enabled.el)),
      writable ? h('div', { class: 'form-actions' }, save, test, del) : null);
  }

  async function load() {
    try {
      const r = await api.get('/report-mailbox');
      replace(holder, form(r.mailbox));
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }
  load().catch((err) => toast(errorMessage(err), 'error'));
  return card(t('report_mailbox.title'), [h('p', { class: 'muted small' }, t('report_mailbox.lead')), msg, holder],
    { attrs: { id: 'report-mailbox-card' } });
}
