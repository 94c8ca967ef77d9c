// Outbox (送信済みメール): the mails Kunren "sent" while no relay is set up.
// A mail's HTML part is shown in a sandboxed frame without scripts or
// same-origin rights; <base target="_blank"> makes its links open in a new
// tab, and its images (the open beacon) load as in a mail client.

import { h, replace, formatTime } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, card, table, button, emptyState, errorAlert, tabs, loading } from '../ui.js';

export const titleKey = 'outbox.title';

/** Puts <base target="_blank"> at the start of the document's head. */
export function withBaseTarget(html) {
  const base = '<base target="_blank">';
  const src = String(html || '');
  if (/<head[\s>]/i.test(src)) return src.replace(/<head(\s[^>]*)?>/i, (m) => m + base);
  if (/<html[\s>]/i.test(src)) return src.replace(/<html(\s[^>]*)?>/i, (m) => `${m}<head>${base}</head>`);
  return `<!doctype html><html><head><meta charset="utf-8">${base}</head><body>${src}</body></html>`;
}

function mailView(mail) {
  const items = [];
  if (mail.html) {
    items.push({
      id: 'html', label: t('outbox.html'),
      render: () => h('iframe', {
        class: 'frame mail-html', title: t('outbox.html_frame', { subject: mail.subject }),
        sandbox: 'allow-popups allow-popups-to-escape-sandbox', srcdoc: withBaseTarget(mail.html),
      }),
    });
  }
  items.push({ id: 'text', label: t('outbox.text'), render: () => h('pre', { class: 'text-part mail-text' }, mail.text || '') });
  return h('div', { id: 'mail-view' },
    h('dl', { class: 'kv' },
      h('dt', null, t('outbox.from')), h('dd', null, mail.from),
      h('dt', null, t('outbox.to')), h('dd', { class: 'mail-to' }, mail.to),
      h('dt', null, t('outbox.subject')), h('dd', { class: 'mail-subject' }, mail.subject),
      h('dt', null, t('outbox.date')), h('dd', null, formatTime(mail.date))),
    tabs(items, { label: t('outbox.parts') }));
}

async function detail(id) {
  try {
    const mail = await api.get(`/outbox/${encodeURIComponent(id)}`);
    return card(mail.subject, mailView(mail), {
      actions: h('a', { class: 'btn btn-ghost btn-sm', href: '#/outbox' }, t('common.close')),
    });
  } catch (err) {
    return errorAlert(err);
  }
}

function subjectButton(m, selected, navigate) {
  return h('button', {
    type: 'button', class: 'row-link', onclick: () => navigate(`/outbox/${encodeURIComponent(m.id)}`),
    'aria-current': String(m.id) === String(selected) ? 'true' : null,
  }, m.subject || t('outbox.no_subject'));
}

/** One mail in the list: three columns, or one stacked cell beside an open mail. */
function mailRow(m, selected, navigate, compact) {
  const attrs = { class: String(m.id) === String(selected) ? 'is-selected' : null, dataset: { mail: m.id, to: m.to } };
  if (compact) {
    return h('tr', attrs, h('td', { class: 'wrap' },
      subjectButton(m, selected, navigate),
      h('div', { class: 'muted small' }, `${m.to} ・ ${formatTime(m.date)}`)));
  }
  return h('tr', attrs,
    h('td', { class: 'nowrap muted' }, formatTime(m.date)),
    h('td', null, m.to),
    h('td', { class: 'wrap' }, subjectButton(m, selected, navigate)));
}

export async function render({ main, params, navigate }) {
  const compact = Boolean(params.id);
  const listHolder = h('div', null, loading());
  const tbody = [];
  let after;
  const more = button('secondary', t('common.load_more'), () => loadPage(), { hidden: true });

  async function loadPage() {
    try {
      const res = await api.get('/outbox', { limit: 200, after });
      const rows = (res.items || []).map((m) => mailRow(m, params.id, navigate, compact));
      after = res.next_after;
      more.hidden = !after;
      if (!tbody.length && !rows.length) {
        replace(listHolder, emptyState(t('outbox.empty_title'), t('outbox.empty_text'), null, 'mail'));
        return;
      }
      if (!tbody.length) {
        tbody.push(...rows);
        const cols = compact ? [{ label: t('outbox.subject') }]
          : [{ label: t('outbox.date') }, { label: t('outbox.to') }, { label: t('outbox.subject') }];
        replace(listHolder, table(cols, rows, { id: 'outbox-table' }), h('div', { class: 'form-actions' }, more));
      } else {
        tbody.push(...rows);
        listHolder.querySelector('tbody').append(...rows);
      }
    } catch (err) {
      replace(listHolder, errorAlert(err));
    }
  }

  const header = pageHeader(t('outbox.title'), { subtitle: t('outbox.subtitle') });
  const [, right] = await Promise.all([loadPage(), params.id ? detail(params.id) : null]);
  const list = card(t('outbox.mails'), listHolder, { flush: true });
  replace(main, header, params.id ? h('div', { class: 'split split-wide' }, list, right) : list);
}
