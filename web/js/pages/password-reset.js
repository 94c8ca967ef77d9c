// パスワードを忘れた場合 (#/forgot): the user name goes to POST
// /password-reset, and the page always says the same thing afterwards, so it
// tells nobody whether an account exists. The mailed link opens
// #/reset/<token>: a new password (twice) for POST /password-reset/finish;
// the policy's answer is shown at the password field, an unknown, used or
// expired link at the top with a way to ask for a new one.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import { field, input, busy, alert } from '../ui.js';
import { publicCard } from './login.js';

export const titleKey = 'reset.title';

/** The API's English policy messages (auth_password_problem) in the console's language; others as they are. */
export function passwordMessage(message) {
  const m = String(message || '');
  if (/is empty/i.test(m)) return t('password.required');
  if (/at least \d+ characters/i.test(m)) return t('password.too_short');
  if (/at most \d+ characters/i.test(m)) return t('password.too_long');
  if (/one character repeated/i.test(m)) return t('password.repeated');
  if (/user name/i.test(m)) return t('password.has_username');
  if (/common password|well-known/i.test(m)) return t('password.common');
  if (/UTF-8/i.test(m)) return t('password.invalid');
  return m || t('password.invalid');
}

/** Client-side checks before asking: both typed, the same, at least 10 characters. */
export function newPasswordProblem(password, confirm) {
  if (!password) return t('password.required');
  if ([...password].length < 10) return t('password.too_short');
  if (password !== confirm) return t('password.mismatch');
  return '';
}

function forgotPage(ctx) {
  const user = input({ name: 'username', autocomplete: 'username', required: true });
  const errorBox = h('div', { 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('reset.send'));
  const holder = h('div');
  const form = h('form', {
    novalidate: true, id: 'forgot-form',
    onsubmit: async (e) => {
      e.preventDefault();
      replace(errorBox);
      if (!user.value.trim()) {
        replace(errorBox, alert('error', t('reset.username_required')));
        user.focus();
        return;
      }
      await busy(send, async () => {
        try {
          await api.post('/password-reset', { username: user.value.trim() });
          replace(holder, h('div', { class: 'alert alert-success', role: 'status', id: 'forgot-sent' },
            h('h3', null, t('reset.sent_title')), h('p', { class: 'mb-0' }, t('reset.sent_text'))),
          h('p', { class: 'login-forgot small' }, h('a', { href: '#/login' }, t('reset.back_to_login'))));
        } catch (err) {
          replace(errorBox, alert('error', errorMessage(err)));
        }
      });
    },
  },
  h('p', { class: 'muted small' }, t('reset.lead')),
  errorBox,
  field(t('login.username'), user),
  send,
  h('p', { class: 'login-forgot small' }, h('a', { href: '#/login' }, t('reset.back_to_login'))));
  replace(holder, form);
  publicCard(ctx, t('reset.forgot_title'), holder);
  user.focus();
}

function finishPage(ctx, token) {
  const pass = input({ name: 'new_password', type: 'password', autocomplete: 'new-password', required: true });
  const again = input({ name: 'new_password_again', type: 'password', autocomplete: 'new-password', required: true });
  const passField = field(t('reset.new_password'), pass, { help: t('password.policy') });
  const againField = field(t('reset.new_password_again'), again);
  const top = h('div', { 'aria-live': 'polite', id: 'reset-error' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('reset.save'));
  const holder = h('div');
  const form = h('form', {
    novalidate: true, id: 'reset-form',
    onsubmit: async (e) => {
      e.preventDefault();
      passField.setError('');
      againField.setError('');
      replace(top);
      const problem = newPasswordProblem(pass.value, again.value);
      if (problem) {
        (problem === t('password.mismatch') ? againField : passField).setError(problem);
        (problem === t('password.mismatch') ? again : pass).focus();
        return;
      }
      await busy(save, async () => {
        try {
          await api.post('/password-reset/finish', { token, password: pass.value });
          pass.value = '';
          again.value = '';
          replace(holder, h('div', { class: 'alert alert-success', role: 'status', id: 'reset-done' },
            h('h3', null, t('reset.done_title')), h('p', { class: 'mb-0' }, t('reset.done_text'))),
          h('a', { class: 'btn btn-primary btn-block', href: '#/login', id: 'reset-login' }, t('reset.to_login')));
        } catch (err) {
          const d = (err.details || []).find((x) => x && x.field);
          if (d && d.field === 'password') {
            passField.setError(passwordMessage(d.message));
            pass.focus();
          } else if (d && d.field === 'token') {
            replace(top, alert('error', h('h3', null, t('reset.token_bad_title')), h('p', { class: 'mb-0' }, t('reset.token_bad_text')),
              h('p', { class: 'mb-0' }, h('a', { href: '#/forgot' }, t('reset.again')))));
          } else {
            replace(top, alert('error', errorMessage(err)));
          }
        }
      });
    },
  },
  h('p', { class: 'muted small' }, t('reset.finish_lead')),
  top, passField, againField, save);
  replace(holder, form);
  publicCard(ctx, t('reset.title'), holder);
  pass.focus();
}

export function render(ctx) {
  if (ctx.params && ctx.params.token) finishPage(ctx, ctx.params.token);
  else forgotPage(ctx);
}
