// The share links card of the campaign page (訓練結果共有リンク, SPEC G7):
// create a link valid for N hours with an optional password, show its URL
// once with a copy button, list the campaign's links (expiry, password,
// access count, revoked) and revoke one.

import { h, replace, formatTime, formatCount } from '../dom.js';
import { t } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import { card, field, input, select, button, busy, errorAlert, toast, confirmDialog, table } from '../ui.js';

export const MAX_SHARE_HOURS = 8760;
const MIN_PASSWORD = 8;
const DEFAULT_HOURS = 72;

/** The hours typed in the form as a whole number 1–8760, or null. */
export function parseHours(text) {
  const v = String(text ?? '').trim();
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n >= 1 && n <= MAX_SHARE_HOURS ? n : null;
}

/** active, expired or revoked, as of `now` (ms). */
export function shareState(link, now = Date.now()) {
  if (link.revoked) return 'revoked';
  const exp = Date.parse(link.expires_at);
  if (Number.isFinite(exp) && exp <= now) return 'expired';
  return 'active';
}

/** The link as a full URL: the API may give it relative to the console ("/share.html#…"). */
export function absoluteUrl(url, base) {
  try {
    return new URL(String(url || ''), base).href;
  } catch {
    return String(url || '');
  }
}

/** Copies text to the clipboard; the selected input is the fallback where the API is missing. */
async function copyText(text, inputEl) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    inputEl.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** What the link's viewer sees of machine events (fixed with the link; SPEC F6). */
function machineLabel(link) {
  return link.exclude === false ? t('shares.machine_included') : t('shares.machine_excluded');
}

function createdView(created) {
  const link = { ...created, url: absoluteUrl(created.url, window.location.href) };
  const urlInput = h('input', {
    class: 'input share-url-input', id: 'share-url', readonly: true, value: link.url, 'aria-label': t('shares.url'),
    spellcheck: 'false',
  });
  urlInput.addEventListener('focus', () => urlInput.select());
  const copy = button('secondary', t('shares.copy'), async () => {
    const ok = await copyText(link.url, urlInput);
    toast(ok ? t('shares.copied') : t('shares.copy_failed'), ok ? 'success' : 'error');
  }, { id: 'share-copy' });
  return h('div', { class: 'alert alert-success share-created', role: 'status' },
    h('h3', null, t('shares.created')),
    h('p', null, t('shares.created_text')),
    h('div', { class: 'share-url' }, urlInput, copy),
    h('p', { class: 'small mb-0' }, t('shares.created_meta', {
      expires: formatTime(link.expires_at),
      password: link.has_password ? t('shares.password_yes') : t('shares.password_no'),
      machine: machineLabel(link),
    })));
}

/** The campaign's share links card; `writable` false (read-only account): the list only. */
export function sharesCard(campaignId, { writable = true } = {}) {
  const hours = input({
    type: 'number', name: 'hours', min: '1', max: String(MAX_SHARE_HOURS), step: '1', value: String(DEFAULT_HOURS),
    id: 'share-hours', inputmode: 'numeric', required: true,
  });
  const hoursField = field(t('shares.hours'), hours, { help: t('shares.hours_help') });
  const password = input({ type: 'password', name: 'share_password', autocomplete: 'new-password', id: 'share-password' });
  const passwordField = field(t('shares.password'), password, { help: t('shares.password_help') });
  // The campaign's own setting (excluded) unless the trainer chooses otherwise.
  const machine = select([
    { value: 'on', label: t('shares.machine_excluded'), selected: true },
    { value: 'off', label: t('shares.machine_included') },
  ], { name: 'exclude', id: 'share-exclude' });
  const machineField = field(t('shares.machine'), machine, { help: t('shares.machine_help') });
  const createBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'share-create' }, t('shares.create'));
  const created = h('div', { id: 'share-created' });
  const formError = h('div', { 'aria-live': 'polite' });
  const list = h('div', { id: 'shares' });

  async function reload() {
    try {
      const res = await api.get(`/campaigns/${campaignId}/shares`);
      drawList((res && res.items) || []);
    } catch (err) {
      replace(list, errorAlert(err));
    }
  }

  async function revoke(link) {
    const ok = await confirmDialog(t('shares.revoke_title'), t('shares.revoke_text', { created: formatTime(link.created_at) }), t('shares.revoke'));
    if (!ok) return;
    try {
      await api.del(`/shares/${encodeURIComponent(link.id)}`);
      toast(t('shares.revoked_done'), 'success');
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
    await reload();
  }

  function drawList(items) {
    if (!items.length) {
      replace(list, h('p', { class: 'muted mb-0', id: 'shares-empty' }, t('shares.none')));
      return;
    }
    const now = Date.now();
    replace(list, table([
      { label: t('common.created_at') },
      { label: t('shares.expires_at') },
      { label: t('shares.has_password') },
      { label: t('shares.machine') },
      { label: t('shares.access_count'), class: 'num' },
      { label: t('shares.state') },
      writable ? { label: h('span', { class: 'visually-hidden' }, t('common.actions')) } : null,
    ].filter(Boolean), items.map((link) => {
      const st = shareState(link, now);
      return h('tr', { dataset: { share: link.id, state: st } },
        h('td', { class: 'nowrap' }, formatTime(link.created_at)),
        h('td', { class: 'nowrap' }, formatTime(link.expires_at)),
        h('td', null, link.has_password ? t('shares.password_yes') : t('shares.password_no')),
        h('td', { dataset: { exclude: String(link.exclude !== false) } }, machineLabel(link)),
        h('td', { class: 'num' }, formatCount(link.access_count)),
        h('td', null, h('span', { class: ['badge', `badge--share-${st}`] }, t(`shares.state_${st}`))),
        writable && h('td', { class: 'row-actions' }, st === 'revoked' ? null : button('ghost', t('shares.revoke'), () => revoke(link), {
          class: 'btn-sm btn-ghost-danger', 'aria-label': t('shares.revoke_named', { created: formatTime(link.created_at) }),
        })));
    }), { id: 'shares-table', class: 'table-compact' }));
  }

  const form = h('form', {
    id: 'share-form', class: 'share-form', novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      busy(createBtn, async () => {
        hoursField.setError('');
        passwordField.setError('');
        replace(formError);
        if (password.value && [...password.value].length < MIN_PASSWORD) {
          passwordField.setError(t('shares.password_short', { n: MIN_PASSWORD }));
          password.focus();
          return;
        }
        const n = parseHours(hours.value);
        if (n === null) {
          hoursField.setError(t('shares.hours_invalid', { max: formatCount(MAX_SHARE_HOURS) }));
          hours.focus();
          return;
        }
        const body = { hours: n, exclude: machine.value !== 'off' };
        if (password.value) body.password = password.value;
        try {
          const link = await api.post(`/campaigns/${campaignId}/share`, body);
          password.value = '';
          replace(created, createdView(link));
          created.querySelector('#share-url').focus();
        } catch (err) {
          const byField = { hours: hoursField, password: passwordField };
          const known = err.details.filter((d) => d && byField[d.field]);
          for (const d of known) byField[d.field].setError(d.message || errorMessage(err));
          if (known.length) (known[0].field === 'password' ? password : hours).focus();
          else replace(formError, errorAlert(err));
          return;
        }
        await reload();
      });
    },
  }, h('div', { class: 'inline-form share-form-row' }, hoursField, passwordField, machineField, createBtn), formError);

  const el = card(t('shares.title'), [
    h('p', { class: 'muted small' }, t('shares.lead')), writable ? [form, created] : null, h('h3', { class: 'subheading' }, t('shares.list')), list,
  ], { attrs: { id: 'shares-card' } });
  reload();
  return el;
}
