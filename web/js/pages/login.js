// Login (ログイン) in one or two steps. The deployment's branding (service
// name, logo, colour, support contact) heads the card. User name and password
// first (POST /login); when the account has a second factor the answer is
// {second_factor, challenge} and the second step asks for the 6-digit code
// (mailed, or from the authenticator app) and sends it with the challenge to
// POST /login/second. Errors are shown in the form: wrong name or password
// (401), locked until a time (423), throttled (429), suspended tenant (403).
// パスワードを忘れた場合 leads to #/forgot.

import { h, replace, formatTime } from '../dom.js';
import { t, currentLang, setLang } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import { field, input, busy } from '../ui.js';
import { branding, brandMark } from '../branding.js';
import { homePath } from '../nav.js';

export const titleKey = 'login.title';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/** The time a 423 locked answer names (details[].field "locked_until"), or ''. */
export function lockedUntil(err) {
  const details = (err && err.details) || [];
  const d = details.find((x) => x && x.field === 'locked_until') || details[0];
  if (!d) return '';
  for (const v of [d.value, d.message, d.until, d.at]) {
    if (typeof v === 'string' && ISO_TIME.test(v.trim())) return v.trim();
  }
  return '';
}

/** What the login form says about a failed step (both steps share it). */
export function loginErrorText(err, step = 'password') {
  const status = err && err.status;
  if (status === 423 || (err && err.code === 'locked')) {
    const until = lockedUntil(err);
    return until ? t('login.locked_until', { time: formatTime(until) }) : t('errors.locked');
  }
  if (status === 429 || (err && err.code === 'throttled')) return t('errors.throttled');
  if (err && err.code === 'suspended') return t('errors.suspended');
  if (status === 401) return step === 'code' ? t('login.code_failed') : t('errors.login_failed');
  return errorMessage(err);
}

/** The label of the code field for the API's second_factor. */
export function codeLabel(kind) {
  return kind === 'totp' ? t('login.code_totp') : t('login.code_mail');
}

/** A typed code without spaces or hyphens ("123 456" → "123456"). */
export function cleanCode(text) {
  return String(text ?? '').replace(/[\s-]/g, '');
}

export function brandHeader(title) {
  const b = branding();
  return [
    h('div', { class: 'login-brand', id: 'login-brand' }, brandMark('login-logo'), h('span', { dataset: { testid: 'service-name' } }, b.service_name)),
    h('h1', { class: 'mb-3', tabindex: '-1' }, title),
  ];
}

export function supportFooter() {
  const b = branding();
  const other = currentLang() === 'ja' ? 'en' : 'ja';
  return [
    b.support_contact ? h('p', { class: 'login-support small muted', id: 'login-support' },
      t('login.support', { contact: b.support_contact })) : null,
    h('div', { class: 'login-lang' },
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'lang-switch', lang: other, onclick: () => setLang(other) },
        t(`lang.${other}`))),
  ];
}

/** The card of the public pages (login, forgotten password, reset). */
export function publicCard(ctx, title, ...body) {
  replace(ctx.main, h('div', { class: 'login-page' },
    h('section', { class: 'card login-card' },
      h('div', { class: 'card-body' }, brandHeader(title), body, supportFooter()))));
}

export function render(ctx) {
  const errorBox = h('div', { class: 'alert alert-error', role: 'alert', id: 'login-error', hidden: true });
  const showError = (text) => {
    replace(errorBox, text);
    errorBox.hidden = !text;
  };
  const done = (res) => {
    ctx.setSession(res.user, res.csrf_token);
    ctx.navigate(homePath(res.user));
  };

  /* ---------- step 1: user name and password ---------- */
  const user = input({ name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = input({ name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('login.submit'));

  async function onSubmit(e) {
    e.preventDefault();
    showError('');
    if (!user.value.trim() || !pass.value) {
      showError(t('login.required'));
      return;
    }
    await busy(submit, async () => {
      try {
        const res = await api.post('/login', { username: user.value.trim(), password: pass.value });
        pass.value = '';
        if (res && res.second_factor && res.challenge) secondStep(res.second_factor, res.challenge);
        else done(res);
      } catch (err) {
        showError(loginErrorText(err, 'password'));
        pass.value = '';
        pass.focus();
      }
    });
  }

  const passwordForm = h('form', { novalidate: true, id: 'login-form', onsubmit: onSubmit, 'aria-describedby': 'login-error' },
    field(t('login.username'), user),
    field(t('login.password'), pass),
    submit,
    h('p', { class: 'login-forgot small' }, h('a', { href: '#/forgot', id: 'forgot-link' }, t('login.forgot'))));

  const holder = h('div', null, passwordForm);

  /* ---------- step 2: the code ---------- */
  function secondStep(kind, challenge) {
    const code = input({
      name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: '9', required: true,
      spellcheck: 'false', class: 'code-input',
    });
    const send = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('login.verify'));
    const restart = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'login-restart' }, t('login.restart'));
    restart.addEventListener('click', () => {
      showError('');
      replace(holder, passwordForm);
      user.focus();
    });
    const form = h('form', {
      novalidate: true, id: 'code-form', dataset: { factor: kind }, 'aria-describedby': 'login-error',
      onsubmit: async (e) => {
        e.preventDefault();
        showError('');
        const value = cleanCode(code.value);
        if (!/^\d{6}$/.test(value)) {
          showError(t('login.code_required'));
          code.focus();
          return;
        }
        await busy(send, async () => {
          try {
            done(await api.post('/login/second', { challenge, code: value }));
          } catch (err) {
            showError(loginErrorText(err, 'code'));
            code.value = '';
            code.focus();
          }
        });
      },
    },
    h('p', { class: 'small' }, kind === 'totp' ? t('login.second_totp_lead') : t('login.second_mail_lead')),
    field(codeLabel(kind), code),
    send,
    h('p', { class: 'login-forgot small' }, restart));
    replace(holder, form);
    code.focus();
  }

  publicCard(ctx, t('login.title'), h('p', { class: 'muted small' }, t('login.lead')), errorBox, holder);
  user.focus();
}
