// A secret shown once (an API key, a generated password): a read-only field
// with a copy button and the warning that it cannot be shown again.

import { h } from './dom.js';
import { t } from './i18n.js';
import { button, toast } from './ui.js';

/** Copies text to the clipboard; selecting the field is the fallback where the clipboard is refused. */
export async function copyText(text, inputEl) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (inputEl) inputEl.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/**
 * onceSecret({title, label, value, id}) → an alert box with the value in a
 * read-only input (id `id`), a コピー button and the shown-once warning.
 */
export function onceSecret({ title, label, value, id, warning }) {
  const field = h('input', {
    class: 'input secret-value', id, readonly: true, value, 'aria-label': label, spellcheck: 'false', autocomplete: 'off',
  });
  field.addEventListener('focus', () => field.select());
  const copy = button('secondary', t('secret.copy'), async () => {
    const ok = await copyText(value, field);
    toast(ok ? t('secret.copied') : t('secret.copy_failed'), ok ? 'success' : 'error');
  }, { 'aria-label': t('secret.copy_named', { label }), dataset: { action: 'copy' } });
  return h('div', { class: 'alert alert-warning secret-once', role: 'status' },
    title ? h('h3', null, title) : null,
    h('div', { class: 'secret-row' }, field, copy),
    h('p', { class: 'small mb-0' }, warning || t('secret.once_warning')));
}
