// Webhook 連携 (#/webhooks, issue 11): the tenant's endpoints that receive
// every event as signed JSON (docs/API.md "Webhooks"). Add one (the signing
// secret is shown once), edit it (URL, description, the event kinds, on/off,
// a new secret on request), delete it, send a test (ping) and read the
// delivery log: each delivery's state, attempts, the receiver's answer and
// the time it took. Read-only accounts see the list and the log only.

import { h, replace, formatTime } from '../dom.js';
import { t, tv } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, checkbox, button, busy, table, errorAlert, toast, confirmDialog, openModal, loading,
  emptyState, canWrite,
} from '../ui.js';
import { onceSecret } from '../secret.js';

export const titleKey = 'webhooks.title';

/** The event kinds a webhook may ask for (the API's names), in SPEC F1 order. */
export const KINDS = ['created', 'sent', 'send_error', 'opened', 'clicked', 'file_opened', 'submitted', 'reported'];

/** The request body of the form's values: kinds [] means every kind. */
export function webhookBody(v) {
  const body = {
    url: String(v.url || '').trim(),
    description: String(v.description || '').trim(),
    kinds: KINDS.filter((k) => (v.kinds || []).includes(k)),
    enabled: Boolean(v.enabled),
  };
  if (body.kinds.length === KINDS.length) body.kinds = [];
  if (v.rotate_secret) body.rotate_secret = true;
  return body;
}

/** How a webhook's kinds read in the table: すべて for [] (or every kind). */
export function kindsText(kinds) {
  if (!kinds || !kinds.length || kinds.length === KINDS.length) return t('webhooks.kinds_all');
  return kinds.map((k) => tv('webhook_kind', k)).join('、');
}

function fieldErrors(err, fields, top) {
  const rest = [];
  for (const d of err.details || []) {
    if (d && fields[d.field]) fields[d.field].setError(d.message || errorMessage(err));
    else rest.push(d);
  }
  if (rest.length || !(err.details || []).length) replace(top, errorAlert({ ...err, details: rest }));
}

/** The add / edit dialog; `row` is the webhook to edit (none: add). */
function webhookDialog(row, onSaved) {
  const url = input({ name: 'url', type: 'url', value: row ? row.url : '', autocomplete: 'off', spellcheck: 'false',
    maxlength: '2048', placeholder: 'https://siem.example.co.jp/hooks/kunren', required: true });
  const description = input({ name: 'description', value: row ? row.description : '', maxlength: '200' });
  const chosen = row && row.kinds && row.kinds.length ? row.kinds : [];
  const boxes = KINDS.map((k) => ({ k, ...checkbox(tv('webhook_kind', k), { name: 'kinds', value: k, checked: chosen.includes(k) }) }));
  const enabled = checkbox(t('webhooks.enabled'), { name: 'enabled', checked: row ? row.enabled : true });
  const rotate = row ? checkbox(t('webhooks.rotate_secret'), { name: 'rotate_secret' }) : null;
  const kindsGroup = h('fieldset', { class: 'field', id: 'webhook-kinds' },
    h('legend', null, t('webhooks.kinds')), h('div', { class: 'checks' }, boxes.map((b) => b.el)),
    h('p', { class: 'help' }, t('webhooks.kinds_help')));
  const f = {
    url: field(t('webhooks.url'), url, { help: t('webhooks.url_help') }),
    description: field(t('webhooks.description'), description),
  };
  const kindsErr = h('p', { class: 'error', hidden: true });
  f.kinds = { setError: (text) => { kindsErr.textContent = text || ''; kindsErr.hidden = !text; } };
  f.enabled = { setError: () => {} };
  const top = h('div', { 'aria-live': 'polite' });
  const body = h('div');
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: 'webhook-form', id: 'webhook-save' },
    row ? t('webhooks.save') : t('webhooks.add'));
  const close = button('secondary', t('common.cancel'), () => modal.close());
  const form = h('form', {
    id: 'webhook-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      if (!url.value.trim()) {
        f.url.setError(t('webhooks.url_required'));
        url.focus();
        return;
      }
      const values = {
        url: url.value, description: description.value, enabled: enabled.box.checked,
        kinds: boxes.filter((b) => b.box.checked).map((b) => b.k), rotate_secret: rotate && rotate.box.checked,
      };
      await busy(save, async () => {
        try {
          const res = row ? await api.patch(`/webhooks/${encodeURIComponent(row.id)}`, webhookBody(values))
            : await api.post('/webhooks', webhookBody(values));
          onSaved(res);
          if (res.secret) {
            // shown once: the receiver verifies the Kunren-Signature header with it
            replace(body, h('p', null, row ? t('webhooks.rotated_text') : t('webhooks.added_text', { url: res.url })),
              onceSecret({ title: t('webhooks.secret_once_title'), label: t('webhooks.secret'), value: res.secret,
                id: 'webhook-secret', warning: t('webhooks.secret_once') }),
              h('p', { class: 'small muted' }, t('webhooks.signature_help')));
            save.remove();
            close.textContent = t('common.close');
          } else {
            modal.close();
            toast(t('webhooks.saved'), 'success');
          }
        } catch (err) {
          fieldErrors(err, f, top);
        }
      });
    },
  }, top, f.url, f.description, kindsGroup, kindsErr, h('div', null, enabled.el, rotate ? rotate.el : null));
  replace(body, form);
  const modal = openModal({ title: row ? t('webhooks.edit_title') : t('webhooks.add_title'), body, footer: [close, save] });
  modal.dialog.id = 'webhook-dialog';
  url.focus();
}

function stateCell(d) {
  return h('td', { dataset: { state: d.state } },
    h('span', { class: ['badge', d.state === 'delivered' ? 'badge--dns-ok' : d.state === 'failed' ? 'badge--dns-missing' : 'badge--pending'] },
      tv('webhook_state', d.state)),
    d.state === 'pending' && d.next_attempt_at
      ? h('div', { class: 'small muted' }, t('webhooks.next_attempt', { at: formatTime(d.next_attempt_at) })) : null);
}

/** The delivery log of one webhook, newest first, with さらに読み込む. */
function deliveryLog(w) {
  const rows = h('tbody');
  const more = h('div');
  const holder = h('div', { id: 'webhook-deliveries', dataset: { webhook: String(w.id) } }, loading());
  function row(d) {
    return h('tr', { dataset: { delivery: d.delivery_id, kind: d.kind } },
      h('td', null, formatTime(d.last_attempt_at || d.created_at)),
      h('td', null, tv('webhook_kind', d.kind)),
      stateCell(d),
      h('td', { class: 'num' }, String(d.attempts)),
      h('td', { class: 'num', dataset: { col: 'status' } }, d.response_status == null ? '—' : String(d.response_status)),
      h('td', { class: 'num' }, d.attempts ? t('webhooks.ms', { ms: d.duration_ms }) : '—'),
      h('td', { class: 'small' }, d.error || '', d.response_excerpt ? h('div', { class: 'muted' }, d.response_excerpt) : null));
  }
  async function page(after) {
    const q = after ? `?limit=50&after=${encodeURIComponent(after)}` : '?limit=50';
    const res = await api.get(`/webhooks/${encodeURIComponent(w.id)}/deliveries${q}`);
    for (const d of res.items || []) rows.appendChild(row(d));
    replace(more, res.next_after == null ? null
      : button('secondary', t('common.load_more'), (e) => busy(e.currentTarget, () => page(res.next_after)), { id: 'webhook-deliveries-more' }));
    return res;
  }
  async function reload() {
    try {
      replace(rows);
      const res = await page(null);
      if (!(res.items || []).length) {
        replace(holder, emptyState(t('webhooks.log_empty'), t('webhooks.log_empty_text'), null, 'inbox'));
        return;
      }
      replace(holder, h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'webhook-deliveries-table' },
        h('thead', null, h('tr', null, [t('webhooks.col_at'), t('webhooks.col_kind'), t('webhooks.col_state'),
          t('webhooks.col_attempts'), t('webhooks.col_status'), t('webhooks.col_duration'), t('webhooks.col_error')]
          .map((c) => h('th', { scope: 'col' }, c)))), rows)), more);
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }
  reload();
  const el = card(t('webhooks.log_title', { url: w.url }), [holder],
    { attrs: { id: 'webhook-log-card' }, actions: button('ghost', t('webhooks.reload'), () => reload(), { id: 'webhook-log-reload' }) });
  el.reload = reload;
  return el;
}

export async function render({ main, user }) {
  const writable = canWrite(user);
  const holder = h('div', null, loading());
  const alertBox = h('div', { 'aria-live': 'polite' });
  const logHolder = h('div');
  let shown = null; // the webhook whose log is open, and its card

  function showLog(w) {
    shown = { id: w.id, card: deliveryLog(w) };
    replace(logHolder, shown.card);
  }

  async function reload() {
    try {
      const res = await api.get('/webhooks');
      const items = (res && res.items) || [];
      if (!items.length) {
        replace(holder, emptyState(t('webhooks.empty'), t('webhooks.empty_text'), null, 'link'));
        replace(logHolder);
        shown = null;
        return;
      }
      replace(holder, table([
        { label: t('webhooks.url') }, { label: t('webhooks.kinds') }, { label: t('webhooks.state_col') },
        { label: t('common.created_at') }, { label: h('span', { class: 'visually-hidden' }, t('common.actions')) },
      ], items.map((w) => h('tr', { dataset: { webhook: String(w.id) } },
        h('td', null, h('code', null, w.url), w.description ? h('div', { class: 'small muted' }, w.description) : null),
        h('td', null, kindsText(w.kinds)),
        h('td', { dataset: { enabled: String(w.enabled) } }, w.enabled ? t('webhooks.on') : h('span', { class: 'muted' }, t('webhooks.off'))),
        h('td', null, formatTime(w.created_at)),
        h('td', { class: 'row-actions' },
          button('ghost', t('webhooks.log'), () => showLog(w), { class: 'btn-sm', dataset: { action: 'log' } }),
          writable ? button('ghost', t('webhooks.test'), (e) => test(e.currentTarget, w), { class: 'btn-sm', dataset: { action: 'test' } }) : null,
          writable ? button('ghost', t('webhooks.edit'), () => webhookDialog(w, () => reload()), { class: 'btn-sm', dataset: { action: 'edit' } }) : null,
          writable ? button('ghost', t('webhooks.delete'), () => remove(w),
            { class: 'btn-sm btn-ghost-danger', dataset: { action: 'delete' } }) : null))), { id: 'webhooks-table' }));
      const keep = shown && items.find((w) => w.id === shown.id);
      showLog(keep || items[0]);
    } catch (err) {
      replace(holder, errorAlert(err));
    }
  }

  async function test(btn, w) {
    replace(alertBox);
    await busy(btn, async () => {
      try {
        const d = await api.post(`/webhooks/${encodeURIComponent(w.id)}/test`, {});
        if (d.state === 'delivered') toast(t('webhooks.test_ok', { status: d.response_status }), 'success');
        else toast(t('webhooks.test_failed', { error: d.error }), 'error');
        showLog(w);
      } catch (err) {
        replace(alertBox, errorAlert(err));
      }
    });
  }

  async function remove(w) {
    replace(alertBox);
    const ok = await confirmDialog(t('webhooks.delete_title'), t('webhooks.delete_text', { url: w.url }), t('webhooks.delete'));
    if (!ok) return;
    try {
      await api.del(`/webhooks/${encodeURIComponent(w.id)}`);
      toast(t('webhooks.deleted'), 'success');
    } catch (err) {
      replace(alertBox, errorAlert(err));
    }
    await reload();
  }

  await reload();
  replace(main,
    pageHeader(t('webhooks.title'), {
      subtitle: t('webhooks.subtitle'),
      actions: writable ? button('primary', t('webhooks.add'), () => webhookDialog(null, () => reload()), { id: 'webhook-add' }) : null,
    }),
    alertBox,
    card(t('webhooks.list'), [h('p', { class: 'muted small' }, t('webhooks.lead')), holder], { attrs: { id: 'webhooks-card' } }),
    logHolder);
}
