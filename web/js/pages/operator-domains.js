// 訓練用ドメイン (#/operator/domains, the operator only): the sender domains
// offered for training mail, each with a note and the state of its SPF, DKIM
// and DMARC records (ok, missing, unknown); add, edit and delete.

import { h, replace } from '../dom.js';
import { t, tv } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, select, button, busy, table, errorAlert, toast, confirmDialog, openModal, loading,
  emptyState,
} from '../ui.js';

export const titleKey = 'domains.title';
export const CHECKS = ['spf', 'dkim', 'dmarc'];
export const STATES = ['ok', 'missing', 'unknown'];

/** The request body of the domain form. */
export function domainBody(v) {
  const body = { domain: String(v.domain || '').trim().toLowerCase().replace(/\.$/, ''), note: String(v.note || '').trim() };
  for (const k of CHECKS) body[k] = STATES.includes(v[k]) ? v[k] : 'unknown';
  return body;
}

export function dnsBadge(check, state) {
  const s = STATES.includes(state) ? state : 'unknown';
  return h('span', { class: ['badge', `badge--dns-${s}`], dataset: { check, state: s }, title: `${check.toUpperCase()}: ${tv('dns_state', s)}` },
    `${check.toUpperCase()} ${tv('dns_state', s)}`);
}

function domainDialog(d, onSaved) {
  const isNew = !d;
  const v = d || { domain: '', note: '', spf: 'unknown', dkim: 'unknown', dmarc: 'unknown' };
  const c = {
    domain: input({ name: 'domain', value: v.domain, maxlength: '253', autocomplete: 'off', spellcheck: 'false', placeholder: 'training.example.jp' }),
    note: input({ name: 'note', value: v.note || '', maxlength: '300', autocomplete: 'off' }),
  };
  for (const k of CHECKS) c[k] = select(STATES.map((s) => ({ value: s, label: tv('dns_state', s), selected: s === v[k] })), { name: k });
  const f = {
    domain: field(t('domains.domain'), c.domain),
    note: field(t('domains.note'), c.note, { help: t('domains.note_help') }),
    spf: field('SPF', c.spf), dkim: field('DKIM', c.dkim), dmarc: field('DMARC', c.dmarc),
  };
  const top = h('div', { 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: 'domain-form', id: 'domain-save' }, isNew ? t('domains.add') : t('domains.save'));
  const form = h('form', {
    id: 'domain-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      if (!c.domain.value.trim()) {
        f.domain.setError(t('domains.domain_required'));
        c.domain.focus();
        return;
      }
      const body = domainBody(Object.fromEntries(Object.entries(c).map(([k, el]) => [k, el.value])));
      await busy(save, async () => {
        try {
          if (isNew) await api.post('/operator/domains', body);
          else await api.patch(`/operator/domains/${encodeURIComponent(d.id)}`, body);
          modal.close();
          toast(t(isNew ? 'domains.added' : 'domains.saved', { domain: body.domain }), 'success');
          onSaved();
        } catch (err) {
          const rest = [];
          for (const x of err.details || []) {
            if (x && f[x.field]) f[x.field].setError(x.message || errorMessage(err));
            else rest.push(x);
          }
          if (rest.length || !(err.details || []).length) replace(top, errorAlert({ ...err, details: rest }));
        }
      });
    },
  }, top, f.domain, f.note, h('p', { class: 'muted small' }, t('domains.states_help')), h('div', { class: 'form-grid form-grid-3' }, f.spf, f.dkim, f.dmarc));
  const modal = openModal({
    title: isNew ? t('domains.add_title') : t('domains.edit_title', { domain: v.domain }), body: form, size: 'md',
    footer: [button('secondary', t('common.cancel'), () => modal.close()), save],
  });
  modal.dialog.id = 'domain-dialog';
  c.domain.focus();
}

export async function render({ main }) {
  const holder = h('div', null, loading());
  const alertBox = h('div', { 'aria-live': 'polite' });

  async function reload() {
    try {
      const res = await api.get('/operator/domains');
      const items = (res && res.items) || [];
      replace(holder, items.length ? table([
        { label: t('domains.domain') }, { label: t('domains.note') }, { label: t('domains.records') },
        { label: h('span', { class: 'visually-hidden' }, t('common.actions')) },
      ], items.map((d) => h('tr', { dataset: { domain: d.domain } },
        h('td', null, h('code', null, d.domain)),
        h('td', { class: 'wrap' }, d.note || ''),
        h('td', null, h('div', { class: 'tags' }, CHECKS.map((k) => dnsBadge(k, d[k])))),
        h('td', { class: 'row-actions' },
          button('ghost', t('domains.edit'), () => domainDialog(d, reload), { class: 'btn-sm', 'aria-label': t('domains.edit_named', { domain: d.domain }), dataset: { action: 'edit' } }),
          button('ghost', t('domains.delete'), () => remove(d), { class: 'btn-sm btn-ghost-danger', 'aria-label': t('domains.delete_named', { domain: d.domain }), dataset: { action: 'delete' } })))),
      { id: 'domains-table' }) : emptyState(t('domains.empty'), t('domains.empty_text'), null, 'globe'));
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }

  async function remove(d) {
    replace(alertBox);
    const ok = await confirmDialog(t('domains.delete_title'), t('domains.delete_text', { domain: d.domain }), t('domains.delete'));
    if (!ok) return;
    try {
      await api.del(`/operator/domains/${encodeURIComponent(d.id)}`);
      toast(t('domains.deleted', { domain: d.domain }), 'success');
    } catch (err) {
      replace(alertBox, errorAlert(err));
    }
    await reload();
  }

  await reload();
  replace(main,
    pageHeader(t('domains.title'), {
      subtitle: t('domains.subtitle'),
      actions: button('primary', t('domains.add'), () => domainDialog(null, reload), { id: 'domain-add' }),
    }),
    alertBox,
    card(null, holder, { attrs: { id: 'domains-card' }, flush: true }));
}
