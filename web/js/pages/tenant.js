// 契約情報 (#/tenant, every tenant role): the licence (送信数プラン, 送信数無制限
// プラン（アドレス数）, トライアル), its quota, the usage of the service period and
// what remains, the period itself, and the deletion of all data: the day
// after the period ends, or earlier when the owner asks for a date (POST
// /tenant/deletion; withdrawn with DELETE). Only the owner sees those
// buttons, under a warning that every piece of data goes.

import { h, replace, formatTime, formatCount } from '../dom.js';
import { t } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import { pageHeader, card, field, input, button, busy, errorAlert, alert, toast, confirmDialog } from '../ui.js';
import { isOwner } from '../nav.js';

export const titleKey = 'tenant.title';
export const LICENCES = ['send_count', 'unique_addresses', 'trial'];

/** The date part of an API time ("2027-03-31T23:59:59+09:00" → "2027/03/31"). */
export function dateText(iso) {
  return iso ? formatTime(iso).slice(0, 10) : '—';
}

/** The date part of an API time for a date input ("2027-03-31T23:59:59+09:00" → "2027-03-31"). */
export function dateInputValue(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(String(iso || ''));
  return m ? m[1] : '';
}

/**
 * The numbers of the licence card: which usage counts (sends for 送信数プラン,
 * distinct addresses for the address plan, sends on a trial), the quota
 * ('unlimited' for 0) and what remains (null when unlimited).
 */
export function licenceSummary(tn) {
  const x = tn || {};
  const licence = LICENCES.includes(x.licence) ? x.licence : 'send_count';
  const counts = licence === 'unique_addresses' ? 'addresses' : 'sends';
  const usage = x.usage || {};
  const used = Number(usage[counts]) || 0;
  const quota = Number(x.quota) || 0;
  const unlimited = quota === 0;
  let remaining = null;
  if (!unlimited) remaining = x.remaining === null || x.remaining === undefined ? Math.max(0, quota - used) : Number(x.remaining);
  const fraction = unlimited ? null : Math.min(1, quota ? used / quota : 0);
  return { licence, counts, used, quota, unlimited, remaining, fraction };
}

/** A number of sends or addresses with its unit: "10,000 通" / "500 アドレス". */
export function countText(n, counts) {
  return t(counts === 'addresses' ? 'tenant.n_addresses' : 'tenant.n_sends', { n: formatCount(n) });
}

/** The quota in words: a count with its unit, or "無制限" for 0. */
export function quotaText(quota, counts) {
  return Number(quota) ? countText(quota, counts) : t('tenant.unlimited');
}

/**
 * The earliest date that may be asked for: today in the tenant's zone (the
 * data then goes at the coming midnight), as YYYY-MM-DD.
 */
export function earliestDeletionDate(timeZone, now = new Date()) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: timeZone || 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

function licenceView(tn) {
  const s = licenceSummary(tn);
  const stat = (label, value, testid) => h('div', { class: 'stat' },
    h('dt', { class: 'stat-label' }, label), h('dd', { class: 'stat-value', dataset: { testid } }, value));
  return h('div', null,
    h('dl', { class: 'kv' },
      h('dt', null, t('tenant.name')), h('dd', { id: 'tenant-name' }, tn.name || '—'),
      h('dt', null, t('tenant.licence')), h('dd', { id: 'tenant-licence', dataset: { licence: s.licence } }, t(`licence.${s.licence}`)),
      h('dt', null, t('tenant.quota')), h('dd', { id: 'tenant-quota' }, quotaText(s.quota, s.counts)),
      h('dt', null, t('tenant.period')), h('dd', { id: 'tenant-period' }, t('tenant.period_value', { from: dateText(tn.period_start), to: dateText(tn.period_end) })),
      h('dt', null, t('tenant.time_zone')), h('dd', null, tn.time_zone || '—')),
    s.licence === 'trial' ? alert('info', t('tenant.trial_note')) : null,
    h('dl', { class: 'usage', id: 'tenant-usage' },
      stat(t('tenant.used_sends'), formatCount((tn.usage || {}).sends), 'used-sends'),
      stat(t('tenant.used_addresses'), formatCount((tn.usage || {}).addresses), 'used-addresses'),
      stat(t('tenant.remaining'), s.unlimited ? t('tenant.unlimited') : countText(s.remaining, s.counts), 'remaining')),
    s.fraction === null ? null : h('progress', {
      class: ['quota-meter', s.fraction >= 0.9 && 'is-high'], id: 'tenant-meter', max: String(s.quota), value: String(Math.min(s.used, s.quota)),
      'aria-label': t('tenant.meter', { used: formatCount(s.used), quota: formatCount(s.quota) }),
    }),
    h('p', { class: 'muted small mb-0' }, t(`tenant.counts_${s.counts}`)));
}

function deletionView(tn, owner, reload) {
  const scheduled = Boolean(tn.delete_at);
  const parts = [
    h('p', { id: 'tenant-deletion-state', dataset: { scheduled: String(scheduled) } }, scheduled
      ? t('tenant.deletion_requested', { at: formatTime(tn.delete_at) })
      : (tn.period_end ? t('tenant.deletion_default', { date: dateText(tn.period_end) }) : t('tenant.deletion_none'))),
  ];
  if (!owner) {
    parts.push(h('p', { class: 'muted small mb-0' }, t('tenant.deletion_owner_only')));
    return parts;
  }
  parts.push(alert('warning', h('strong', null, t('tenant.deletion_warning_title')), h('div', null, t('tenant.deletion_warning'))));
  // From today (deleted at the next midnight) to the end of the service period.
  const date = input({ name: 'deletion_date', type: 'date', min: earliestDeletionDate(tn.time_zone), max: dateInputValue(tn.period_end) || null });
  const dateField = field(t('tenant.deletion_date'), date, { help: t('tenant.deletion_date_help') });
  const ask = h('button', { type: 'submit', class: 'btn btn-danger', id: 'deletion-request' }, t('tenant.deletion_request'));
  const top = h('div', { 'aria-live': 'polite' });
  const form = h('form', {
    novalidate: true, class: 'inline-form', id: 'deletion-form',
    onsubmit: async (e) => {
      e.preventDefault();
      dateField.setError('');
      replace(top);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) {
        dateField.setError(t('tenant.deletion_date_required'));
        date.focus();
        return;
      }
      const ok = await confirmDialog(t('tenant.deletion_confirm_title'), t('tenant.deletion_confirm_text', { date: date.value.replace(/-/g, '/') }), t('tenant.deletion_request'));
      if (!ok) return;
      await busy(ask, async () => {
        try {
          await api.post('/tenant/deletion', { date: date.value });
          toast(t('tenant.deletion_saved'), 'success');
          await reload();
        } catch (err) {
          const d = (err.details || []).find((x) => x && x.field === 'date');
          if (d) dateField.setError(d.message || errorMessage(err));
          else replace(top, errorAlert(err));
        }
      });
    },
  }, dateField, ask);
  parts.push(top, form);
  if (scheduled) {
    const withdraw = button('secondary', t('tenant.deletion_withdraw'), async () => {
      await busy(withdraw, async () => {
        try {
          await api.del('/tenant/deletion');
          toast(t('tenant.deletion_withdrawn'), 'success');
          await reload();
        } catch (err) {
          replace(top, errorAlert(err));
        }
      });
    }, { id: 'deletion-withdraw' });
    parts.push(h('div', { class: 'form-actions' }, withdraw));
  }
  return parts;
}

export async function render({ main, user }) {
  const owner = isOwner(user);
  const licenceHolder = h('div');
  const deletionHolder = h('div');

  async function reload() {
    try {
      const tn = await api.get('/tenant');
      replace(licenceHolder, licenceView(tn));
      replace(deletionHolder, deletionView(tn, owner, reload));
    } catch (err) {
      replace(licenceHolder, errorAlert(err));
      replace(deletionHolder);
    }
  }

  await reload();
  replace(main,
    pageHeader(t('tenant.title'), { subtitle: t('tenant.subtitle') }),
    card(t('tenant.licence_title'), licenceHolder, { attrs: { id: 'tenant-licence-card' } }),
    card(t('tenant.deletion_title'), deletionHolder, { attrs: { id: 'tenant-deletion-card' } }));
}
