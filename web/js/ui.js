// Components of the design system, built with h(): buttons, badges, cards,
// form fields, alerts, tables, tabs, toasts, modals, empty states, spinners.

import { h, s, replace, uid } from './dom.js';
import { t, tv } from './i18n.js';
import { errorMessage } from './api.js';

/* ---------- icons (stroke paths on a 24×24 grid) ---------- */
const ICONS = {
  flag: ['M5 21V4', 'M5 4h11l-2 4 2 4H5'],
  plus: ['M12 5v14', 'M5 12h14'],
  users: ['M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M2 21v-1a7 7 0 0 1 14 0v1', 'M16 3.5a4 4 0 0 1 0 7', 'M19 14a6 6 0 0 1 3 6v1'],
  grid: ['M4 4h7v7H4z', 'M13 4h7v7h-7z', 'M4 13h7v7H4z', 'M13 13h7v7h-7z'],
  mail: ['M3 6h18v12H3z', 'M3 7l9 6 9-6'],
  chevron: ['M9 6l6 6-6 6'],
  back: ['M15 6l-6 6 6 6'],
  inbox: ['M3 13l3-8h12l3 8v6H3z', 'M3 13h5l1 3h6l1-3h5'],
  chart: ['M4 4v16h16', 'M7 15l4-5 3 3 5-6'],
  link: ['M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1', 'M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1'],
  lock: ['M6 11h12v9H6z', 'M8 11V8a4 4 0 0 1 8 0v3'],
  send: ['M21 3L10 14', 'M21 3l-7 18-4-7-7-4z'],
  doc: ['M6 3h9l4 4v14H6z', 'M14 3v5h5', 'M9 13h7', 'M9 17h7'],
  people: ['M8 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z', 'M2 20v-1a6 6 0 0 1 12 0v1', 'M16 11a3 3 0 1 0 0-6', 'M18 20v-1a5 5 0 0 0-2.5-4.3', 'M20 8v6', 'M17 11h6'],
  list: ['M8 6h13', 'M8 12h13', 'M8 18h13', 'M3.5 6h.01', 'M3.5 12h.01', 'M3.5 18h.01'],
  building: ['M4 21V4h10v17', 'M14 9h6v12', 'M2 21h20', 'M7 8h4', 'M7 12h4', 'M7 16h4'],
  trash: ['M4 7h16', 'M10 11v6', 'M14 11v6', 'M6 7l1 13h10l1-13', 'M9 7V4h6v3'],
  palette: ['M12 3a9 9 0 1 0 0 18c1.5 0 2-1 2-2s-1-2 0-3 2-1 3-1h1a3 3 0 0 0 3-3 9 9 0 0 0-9-9z', 'M7.5 11h.01', 'M10 7h.01', 'M15 7.5h.01'],
  server: ['M4 4h16v7H4z', 'M4 13h16v7H4z', 'M8 7.5h.01', 'M8 16.5h.01'],
  globe: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M3 12h18', 'M12 3c3 3.5 3 14.5 0 18', 'M12 3c-3 3.5-3 14.5 0 18'],
};

/** Whether the account may change things (read-only accounts get 403 read_only on every change). */
export function canWrite(user) {
  return Boolean(user) && user.role !== 'readonly';
}

export function icon(name, cls = 'nav-icon') {
  return s('svg', { class: cls, viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
    (ICONS[name] || []).map((d) => s('path', { d, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' })));
}

/* ---------- buttons ---------- */
/** button('primary', label, onClick, attrs) — variant: primary, secondary, danger, ghost. */
export function button(variant, label, onclick, attrs = {}) {
  const cls = ['btn', `btn-${variant}`, attrs.class];
  return h('button', { type: 'button', ...attrs, class: cls, onclick }, label);
}

/** A link styled as a button. */
export function linkButton(variant, label, href, attrs = {}) {
  return h('a', { ...attrs, class: ['btn', `btn-${variant}`, attrs.class], href }, label);
}

/** Disables a button and shows a spinner in it while fn runs. */
export async function busy(btn, fn) {
  const spin = spinner(true);
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  btn.prepend(spin);
  try {
    return await fn();
  } finally {
    spin.remove();
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

/* ---------- badges ---------- */
export function statusBadge(status) {
  return h('span', { class: ['badge', `badge--${status}`], dataset: { status } }, tv('status', status));
}

export function stateBadge(state) {
  return h('span', { class: ['badge', `badge--${state}`], dataset: { state } }, tv('state', state));
}

export function tag(text) {
  return h('span', { class: 'tag' }, text);
}

/* ---------- layout pieces ---------- */
export function pageHeader(title, { subtitle, actions, badge } = {}) {
  return h('header', { class: 'page-header' },
    h('div', null,
      h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, title), badge),
      subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
    actions ? h('div', { class: 'page-actions' }, actions) : null);
}

export function card(title, body, { actions, flush, attrs } = {}) {
  return h('section', { ...attrs, class: ['card', flush && 'card-flush', attrs && attrs.class] },
    title ? h('div', { class: 'card-header' }, h('h2', null, title), actions || null) : null,
    h('div', { class: 'card-body' }, body));
}

/** A table in a scrolling wrapper with a sticky header. cols: [{label, class}] */
export function table(cols, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { ...attrs, class: ['table', attrs.class] },
      h('thead', null, h('tr', null, cols.map((c) =>
        h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', null, rows)));
}

/* ---------- forms ---------- */
/**
 * A labelled form field. `control` is the input/select element (its id is
 * set here); help and error texts are tied to it with aria-describedby.
 * `body` replaces the control in the layout when it wraps it (file picker).
 * Returns the wrapper with .setError(text) to show or clear an error.
 */
export function field(label, control, { help, name, body } = {}) {
  const id = control.id || uid('f');
  control.id = id;
  const helpEl = help ? h('p', { class: 'help', id: `${id}-help` }, help) : null;
  const errEl = h('p', { class: 'error', id: `${id}-error`, hidden: true });
  const describe = [helpEl && helpEl.id, errEl.id].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describe);
  const wrap = h('div', { class: 'field', dataset: name ? { field: name } : {} },
    h('label', { for: id }, label), body || control, helpEl, errEl);
  wrap.setError = (text) => {
    errEl.textContent = text || '';
    errEl.hidden = !text;
    wrap.classList.toggle('has-error', Boolean(text));
    if (text) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  return wrap;
}

export function input(attrs = {}) {
  return h('input', { type: 'text', ...attrs, class: ['input', attrs.class] });
}

export function select(options, attrs = {}) {
  return h('select', { ...attrs, class: ['select', attrs.class] },
    options.map((o) => h('option', { value: o.value, selected: o.selected }, o.label)));
}

/** A file input drawn as a "choose file" button plus the chosen name, in the UI's language. */
export function filePicker(attrs = {}) {
  const inputEl = h('input', { type: 'file', ...attrs, class: 'file-input' });
  const name = h('span', { class: 'file-name', 'aria-hidden': 'true' });
  const show = () => {
    const f = inputEl.files && inputEl.files[0];
    name.textContent = f ? f.name : t('common.no_file');
    name.classList.toggle('has-file', Boolean(f));
  };
  inputEl.addEventListener('change', show);
  show();
  const el = h('div', { class: 'file-picker' }, inputEl,
    h('span', { class: 'btn btn-secondary btn-sm', 'aria-hidden': 'true' }, t('common.choose_file')), name);
  return { input: inputEl, el, reset: () => { inputEl.value = ''; show(); } };
}

export function checkbox(label, attrs = {}) {
  const box = h('input', { type: 'checkbox', ...attrs });
  return { box, el: h('label', { class: 'check' }, box, h('span', null, label)) };
}

/* ---------- alerts ---------- */
/** The error as the user sees it: message, the API's code, and its details. */
export function errorAlert(err, { title } = {}) {
  const details = (err && err.details) || [];
  const items = details
    .filter((d) => d && (d.message || d.reason))
    .map((d) => h('li', null, d.field ? `${d.field}: ` : '', d.message || d.reason));
  return h('div', { class: 'alert alert-error', role: 'alert' },
    title ? h('h3', null, title) : null,
    h('div', null, errorMessage(err)),
    items.length ? h('ul', null, items) : null,
    err && err.code ? h('div', { class: 'code' }, `${t('errors.code')}: ${err.code}`) : null);
}

export function alert(kind, ...content) {
  return h('div', { class: ['alert', `alert-${kind}`], role: kind === 'error' ? 'alert' : 'status' }, content);
}

/* ---------- spinner, loading, empty ---------- */
export function spinner(small) {
  return h('span', { class: 'spinner', role: small ? null : 'status', 'aria-hidden': small ? 'true' : null },
    small ? null : h('span', { class: 'visually-hidden' }, t('common.loading')));
}

export function loading() {
  return h('div', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('common.loading'));
}

export function emptyState(title, text, action, iconName = 'inbox') {
  return h('div', { class: 'empty' }, icon(iconName, 'empty-icon'),
    h('h3', null, title), text ? h('p', null, text) : null, action || null);
}

/* ---------- tabs ---------- */
/** tabs([{id, label, render: () => node}]) with roving arrow-key focus. */
export function tabs(items, { label } = {}) {
  const base = uid('tab');
  const panel = h('div', { role: 'tabpanel', class: 'tab-panel', tabindex: '0' });
  const buttons = items.map((item, i) => h('button', {
    type: 'button', role: 'tab', class: 'tab', id: `${base}-${item.id}`,
    'aria-controls': `${base}-panel`, dataset: { tab: item.id },
    onclick: () => choose(i),
    onkeydown: (e) => {
      const dir = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!dir) return;
      e.preventDefault();
      const next = (i + dir + items.length) % items.length;
      choose(next);
      buttons[next].focus();
    },
  }, item.label));
  panel.id = `${base}-panel`;
  function choose(i) {
    buttons.forEach((b, k) => {
      b.setAttribute('aria-selected', String(k === i));
      b.tabIndex = k === i ? 0 : -1;
    });
    panel.setAttribute('aria-labelledby', buttons[i].id);
    replace(panel, items[i].render());
  }
  const el = h('div', { class: 'tabs' },
    h('div', { role: 'tablist', 'aria-label': label || null }, buttons), panel);
  if (items.length) choose(0);
  el.select = (id) => choose(Math.max(0, items.findIndex((x) => x.id === id)));
  return el;
}

/* ---------- toasts ---------- */
export function toast(message, kind = 'info', timeout = 6000) {
  const host = document.getElementById('toasts');
  if (!host) return;
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': t('common.close') }, '×');
  const el = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    h('div', { class: 'toast-msg' }, message), close);
  const remove = () => el.remove();
  close.addEventListener('click', remove);
  host.appendChild(el);
  if (timeout) setTimeout(remove, timeout);
}

/* ---------- modal ---------- */
/**
 * openModal({title, body, footer, size}) shows a native <dialog>. Returns
 * {dialog, close}. The dialog is removed from the page when closed.
 */
export function openModal({ title, body, footer, size, onClose }) {
  const titleId = uid('modal-title');
  const dialog = h('dialog', { class: ['modal', size && `modal-${size}`], 'aria-labelledby': titleId });
  const close = () => dialog.close();
  dialog.appendChild(h('div', { class: 'modal-inner' },
    h('div', { class: 'modal-header' },
      h('h2', { id: titleId }, title),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'), onclick: close }, '×')),
    h('div', { class: 'modal-body' }, body),
    footer ? h('div', { class: 'modal-footer' }, footer) : null));
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (onClose) onClose();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** Asks for confirmation; resolves true or false. */
export function confirmDialog(title, text, okLabel, variant = 'danger') {
  return new Promise((resolve) => {
    let answer = false;
    const ok = button(variant, okLabel, () => { answer = true; m.close(); });
    const cancel = button('secondary', t('common.cancel'), () => m.close());
    const m = openModal({
      title, size: 'sm', body: h('p', null, text), footer: [cancel, ok],
      onClose: () => resolve(answer),
    });
    cancel.focus();
  });
}
