// アカウント設定 (#/account, every role): the signed-in account's own settings.
// - プロフィール: address and login notices (PATCH /me).
// - パスワードの変更: current and new (POST /me/password; the API's field errors
//   at their inputs; the other sessions end).
// - 二段階認証: none / a mailed code (POST /me/second-factor with the password)
//   or an authenticator app: POST /me/totp gives the secret and its QR code
//   (an <img> of the SVG as a data: URL, never markup in the page), the code
//   of the app confirms it (POST /me/totp/confirm).
// - API キー: list, create (the key shown once with a copy button), delete.
// - すべての端末からログアウト (POST /logout-all).

import { h, replace, formatTime } from '../dom.js';
import { t, tv } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, button, busy, checkbox, table, errorAlert, alert, toast, confirmDialog, loading,
} from '../ui.js';
import { onceSecret } from '../secret.js';
import { passwordMessage, newPasswordProblem } from './password-reset.js';

export const titleKey = 'account.title';

export const FACTORS = ['none', 'mail', 'totp'];

/**
 * The QR code's SVG markup as an image URL. Only markup that is an SVG
 * document is accepted; shown through <img>, it can run nothing.
 */
export function svgDataUrl(svg) {
  const text = String(svg || '').trim();
  if (!/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/i.test(text)) return '';
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
}

/** A base32 secret in groups of four, as authenticator apps show it. */
export function groupSecret(secret) {
  return String(secret || '').replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

/** What the factor form may do: {ok, problem} for switching to `want` from `current`. */
export function factorChange(want, current, email) {
  if (!FACTORS.includes(want)) return { ok: false, problem: 'factor.choose' };
  if (want === 'mail' && !String(email || '').trim()) return { ok: false, problem: 'factor.mail_needs_email' };
  if (want === current) return { ok: false, problem: want === 'totp' ? 'factor.totp_active' : 'factor.unchanged' };
  return { ok: true, problem: '' };
}

/** A field error of an API answer ({field: setter}); returns whether one was placed. */
function placeErrors(err, fields) {
  let placed = false;
  for (const d of err.details || []) {
    if (d && fields[d.field]) {
      fields[d.field].setError(d.message ? passwordMessage(d.message) : errorMessage(err));
      placed = true;
    }
  }
  return placed;
}

async function refreshSession(ctx) {
  const me = await api.get('/me');
  ctx.setSession(me.user, me.csrf_token);
  ctx.user = me.user;
  return me.user;
}

/* ---------- プロフィール ---------- */

function profileCard(ctx, user) {
  const email = input({ name: 'email', type: 'email', value: user.email || '', autocomplete: 'email', spellcheck: 'false', maxlength: '254' });
  const emailField = field(t('account.email'), email, { help: t('account.email_help') });
  const notify = checkbox(t('account.login_notify'), { name: 'login_notify', checked: Boolean(user.login_notify) });
  const notifyError = h('p', { class: 'error', hidden: true });
  const notifyField = h('div', { class: 'field' }, notify.el, h('p', { class: 'help' }, t('account.login_notify_help')), notifyError);
  notifyField.setError = (text) => {
    notifyError.textContent = text || '';
    notifyError.hidden = !text;
    notifyField.classList.toggle('has-error', Boolean(text));
  };
  const top = h('div', { 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'profile-save' }, t('account.save'));
  const form = h('form', {
    novalidate: true, id: 'account-profile-form',
    onsubmit: async (e) => {
      e.preventDefault();
      emailField.setError('');
      notifyField.setError('');
      replace(top);
      if (notify.box.checked && !email.value.trim()) {
        notifyField.setError(t('account.notify_needs_email'));
        email.focus();
        return;
      }
      await busy(save, async () => {
        try {
          await api.patch('/me', { email: email.value.trim(), login_notify: notify.box.checked });
          await refreshSession(ctx);
          toast(t('account.saved'), 'success');
        } catch (err) {
          if (!placeErrors(err, { email: emailField, login_notify: notifyField })) replace(top, errorAlert(err));
        }
      });
    },
  },
  h('dl', { class: 'kv' },
    h('dt', null, t('account.username')), h('dd', { id: 'account-username' }, user.username),
    h('dt', null, t('account.role')), h('dd', { id: 'account-role' }, tv('role', user.role)),
    user.tenant_name ? [h('dt', null, t('account.tenant')), h('dd', null, user.tenant_name)] : null),
  top, emailField,
  notifyField,
  h('div', { class: 'form-actions' }, save));
  return card(t('account.profile'), form, { attrs: { id: 'account-profile' } });
}

/* ---------- パスワードの変更 ---------- */

function passwordCard() {
  const current = input({ name: 'current_password', type: 'password', autocomplete: 'current-password' });
  const next = input({ name: 'new_password', type: 'password', autocomplete: 'new-password' });
  const again = input({ name: 'new_password_again', type: 'password', autocomplete: 'new-password' });
  const f = {
    current: field(t('account.current_password'), current),
    new: field(t('account.new_password'), next, { help: t('password.policy') }),
    again: field(t('account.new_password_again'), again),
  };
  const top = h('div', { 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'password-save' }, t('account.change_password'));
  const form = h('form', {
    novalidate: true, id: 'account-password-form',
    onsubmit: async (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      if (!current.value) {
        f.current.setError(t('account.current_required'));
        current.focus();
        return;
      }
      const problem = newPasswordProblem(next.value, again.value);
      if (problem) {
        const target = problem === t('password.mismatch') ? 'again' : 'new';
        f[target].setError(problem);
        (target === 'again' ? again : next).focus();
        return;
      }
      await busy(save, async () => {
        try {
          await api.post('/me/password', { current: current.value, new: next.value });
          [current, next, again].forEach((x) => { x.value = ''; });
          toast(t('account.password_changed'), 'success');
        } catch (err) {
          if (placeErrors(err, f)) {
            const bad = form.querySelector('.has-error input');
            if (bad) bad.focus();
          } else {
            replace(top, errorAlert(err));
          }
        }
      });
    },
  },
  h('p', { class: 'muted small' }, t('account.password_lead')),
  top, h('div', { class: 'form-grid' }, f.current), h('div', { class: 'form-grid' }, f.new, f.again),
  h('div', { class: 'form-actions' }, save));
  return card(t('account.password_title'), form, { attrs: { id: 'account-password' } });
}

/* ---------- 二段階認証 ---------- */

function factorCard(ctx, user) {
  const body = h('div');
  const holder = card(t('factor.title'), body, { attrs: { id: 'account-factor' } });

  function draw(u) {
    const state = h('p', { id: 'factor-state' }, t('factor.current'), ' ',
      h('strong', { dataset: { factor: u.second_factor || 'none' } }, tv('factor', u.second_factor || 'none')));
    const radios = FACTORS.map((f) => {
      const r = h('input', { type: 'radio', name: 'second_factor', value: f, checked: f === (u.second_factor || 'none') });
      return { f, r, el: h('label', { class: 'check' }, r, h('span', null, tv('factor', f)),
        h('span', { class: 'muted small' }, ` — ${t(`factor.${f}_help`)}`)) };
    });
    const password = input({ name: 'factor_password', type: 'password', autocomplete: 'current-password' });
    const pwField = field(t('factor.password'), password, { help: t('factor.password_help') });
    const top = h('div', { 'aria-live': 'polite' });
    const go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'factor-save' }, t('factor.save'));
    const chosen = () => (radios.find((x) => x.r.checked) || {}).f;
    const label = () => { go.textContent = chosen() === 'totp' ? t('factor.totp_start') : t('factor.save'); };
    radios.forEach((x) => x.r.addEventListener('change', label));
    label();
    const form = h('form', {
      novalidate: true, id: 'factor-form',
      onsubmit: async (e) => {
        e.preventDefault();
        pwField.setError('');
        replace(top);
        const want = chosen();
        // The address may have been saved above since this card was drawn.
        const now = ctx.user || u;
        const check = factorChange(want, now.second_factor || 'none', now.email);
        if (!check.ok) {
          replace(top, alert(check.problem === 'factor.unchanged' ? 'info' : 'error', t(check.problem)));
          return;
        }
        if (!password.value) {
          pwField.setError(t('factor.password_required'));
          password.focus();
          return;
        }
        await busy(go, async () => {
          try {
            if (want === 'totp') {
              const setup = await api.post('/me/totp', { password: password.value });
              password.value = '';
              totpSetup(setup);
            } else {
              await api.post('/me/second-factor', { second_factor: want, password: password.value });
              password.value = '';
              const fresh = await refreshSession(ctx);
              toast(t('factor.saved', { factor: tv('factor', want) }), 'success');
              draw(fresh);
            }
          } catch (err) {
            const d = (err.details || []).find((x) => x && x.field);
            if (d && d.field === 'password') {
              pwField.setError(t('factor.password_wrong'));
              password.focus();
            } else if (d && d.field === 'second_factor' && want === 'mail') {
              replace(top, alert('error', t('factor.mail_needs_email')));
            } else {
              replace(top, errorAlert(err));
            }
          }
        });
      },
    },
    state,
    h('fieldset', { class: 'field' }, h('legend', null, t('factor.choose_label')), h('div', { class: 'checks' }, radios.map((x) => x.el))),
    top, pwField,
    h('div', { class: 'form-actions' }, go));
    replace(body, form);
  }

  function totpSetup(setup) {
    const src = svgDataUrl(setup.qr_svg);
    const code = input({ name: 'totp_code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '9', spellcheck: 'false', class: 'code-input' });
    const codeField = field(t('factor.totp_code'), code);
    const confirmBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'totp-confirm' }, t('factor.totp_confirm'));
    const cancel = button('secondary', t('common.cancel'), () => draw(ctx.user || user), { id: 'totp-cancel' });
    const form = h('form', {
      novalidate: true, id: 'totp-form',
      onsubmit: async (e) => {
        e.preventDefault();
        codeField.setError('');
        const value = code.value.replace(/[\s-]/g, '');
        if (!/^\d{6}$/.test(value)) {
          codeField.setError(t('login.code_required'));
          code.focus();
          return;
        }
        await busy(confirmBtn, async () => {
          try {
            await api.post('/me/totp/confirm', { code: value });
            const fresh = await refreshSession(ctx);
            toast(t('factor.totp_done'), 'success');
            draw(fresh);
          } catch (err) {
            const used = (err.details || []).some((d) => d && /used already/i.test(d.message || ''));
            codeField.setError(err.status !== 400 ? errorMessage(err) : t(used ? 'factor.totp_code_used' : 'factor.totp_code_wrong'));
            code.value = '';
            code.focus();
          }
        });
      },
    },
    h('ol', { class: 'totp-steps' },
      h('li', null, t('factor.totp_step_scan'),
        src ? h('img', { class: 'totp-qr', id: 'totp-qr', src, alt: t('factor.totp_qr_alt'), width: '200', height: '200' })
          : h('p', { class: 'muted' }, t('factor.totp_no_qr'))),
      h('li', null, t('factor.totp_step_key'),
        h('div', { class: 'secret-row' }, h('code', { class: 'totp-secret', id: 'totp-secret', dataset: { secret: setup.secret } }, groupSecret(setup.secret)))),
      h('li', null, t('factor.totp_step_code'), codeField)),
    h('div', { class: 'form-actions' }, cancel, confirmBtn));
    replace(body, form);
    code.focus();
  }

  draw(user);
  return holder;
}

/* ---------- API キー ---------- */

function keysCard() {
  const list = h('div', { id: 'api-keys' }, loading());
  const created = h('div', { id: 'api-key-created', 'aria-live': 'polite' });
  const label = input({ name: 'key_label', maxlength: '100', autocomplete: 'off' });
  const labelField = field(t('keys.label'), label, { help: t('keys.label_help') });
  const add = h('button', { type: 'submit', class: 'btn btn-primary', id: 'api-key-create' }, t('keys.create'));

  async function reload() {
    try {
      const res = await api.get('/me/api-keys');
      const items = (res && res.items) || [];
      if (!items.length) {
        replace(list, h('p', { class: 'muted mb-0', id: 'api-keys-empty' }, t('keys.none')));
        return;
      }
      replace(list, table([
        { label: t('keys.label') }, { label: t('common.created_at') }, { label: t('keys.last_used') },
        { label: h('span', { class: 'visually-hidden' }, t('common.actions')) },
      ], items.map((k) => h('tr', { dataset: { key: k.id } },
        h('td', null, k.label || '—'),
        h('td', null, formatTime(k.created_at)),
        h('td', null, k.last_used_at ? formatTime(k.last_used_at) : t('keys.never')),
        h('td', { class: 'row-actions' }, button('ghost', t('keys.delete'), () => remove(k),
          { class: 'btn-sm btn-ghost-danger', 'aria-label': t('keys.delete_named', { label: k.label || k.id }), dataset: { action: 'delete' } }))))));
    } catch (err) {
      replace(list, errorAlert(err));
    }
  }

  async function remove(k) {
    const ok = await confirmDialog(t('keys.delete_title'), t('keys.delete_text', { label: k.label || k.id }), t('keys.delete'));
    if (!ok) return;
    try {
      await api.del(`/me/api-keys/${encodeURIComponent(k.id)}`);
      toast(t('keys.deleted'), 'success');
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
    replace(created);
    await reload();
  }

  const form = h('form', {
    novalidate: true, class: 'inline-form', id: 'api-key-form',
    onsubmit: async (e) => {
      e.preventDefault();
      labelField.setError('');
      if (!label.value.trim()) {
        labelField.setError(t('keys.label_required'));
        label.focus();
        return;
      }
      await busy(add, async () => {
        try {
          const res = await api.post('/me/api-keys', { label: label.value.trim() });
          label.value = '';
          replace(created, onceSecret({ title: t('keys.created', { label: res.label }), label: t('keys.key'), value: res.key, id: 'api-key-value', warning: t('keys.once') }));
          await reload();
        } catch (err) {
          if (!placeErrors(err, { label: labelField })) labelField.setError(errorMessage(err));
        }
      });
    },
  }, labelField, add);
  reload();
  return card(t('keys.title'), [h('p', { class: 'muted small' }, t('keys.lead')), form, created, list], { attrs: { id: 'account-keys' } });
}

/* ---------- セッション ---------- */

function sessionsCard(ctx) {
  const btn = button('danger', t('account.logout_all'), async () => {
    const ok = await confirmDialog(t('account.logout_all'), t('account.logout_all_text'), t('account.logout_all'));
    if (!ok) return;
    await busy(btn, async () => {
      try {
        await api.post('/logout-all');
      } catch (err) {
        if (err.status !== 401) {
          toast(errorMessage(err), 'error');
          return;
        }
      }
      ctx.setSession(null, null);
      toast(t('account.logged_out_all'), 'success');
      ctx.navigate('/login');
    });
  }, { id: 'logout-all' });
  return card(t('account.sessions'), [h('p', { class: 'muted small' }, t('account.logout_all_lead')), btn], { attrs: { id: 'account-sessions' } });
}

export async function render(ctx) {
  let user = ctx.user;
  try {
    user = await refreshSession(ctx);
  } catch {
    /* the shell's user is good enough to draw the page */
  }
  ctx.user = user;
  replace(ctx.main,
    pageHeader(t('account.title'), { subtitle: t('account.subtitle') }),
    h('div', { class: 'grid-2' }, profileCard(ctx, user), passwordCard()),
    factorCard(ctx, user),
    keysCard(),
    sessionsCard(ctx));
}
