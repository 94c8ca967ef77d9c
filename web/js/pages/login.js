// Login (ログイン): user name and password; errors are shown in the form.

import { h, replace } from '../dom.js';
import { t, currentLang, setLang } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import { field, input, busy } from '../ui.js';

export const titleKey = 'login.title';

export function render(ctx) {
  const user = input({ name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = input({ name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const errorBox = h('div', { class: 'alert alert-error', role: 'alert', id: 'login-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('login.submit'));

  async function onSubmit(e) {
    e.preventDefault();
    errorBox.hidden = true;
    if (!user.value.trim() || !pass.value) {
      replace(errorBox, t('login.required'));
      errorBox.hidden = false;
      return;
    }
    await busy(submit, async () => {
      try {
        const res = await api.post('/login', { username: user.value.trim(), password: pass.value });
        ctx.setSession(res.user, res.csrf_token);
        ctx.navigate('/campaigns');
      } catch (err) {
        replace(errorBox, errorMessage(err));
        errorBox.hidden = false;
        pass.value = '';
        pass.focus();
      }
    });
  }

  const other = currentLang() === 'ja' ? 'en' : 'ja';
  const form = h('form', { novalidate: true, onsubmit: onSubmit, 'aria-describedby': 'login-error' },
    errorBox,
    field(t('login.username'), user),
    field(t('login.password'), pass),
    submit);

  replace(ctx.main, h('div', { class: 'login-page' },
    h('section', { class: 'card login-card' },
      h('div', { class: 'card-body' },
        h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '訓'), 'Kunren'),
        h('h1', { class: 'mb-3', tabindex: '-1' }, t('login.title')),
        h('p', { class: 'muted small' }, t('login.lead')),
        form,
        h('div', { class: 'login-lang' },
          h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'lang-switch', lang: other, onclick: () => setLang(other) },
            t(`lang.${other}`)))))));
  user.focus();
}
