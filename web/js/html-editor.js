// The HTML part's editor: a simple visual editor (a sandboxed iframe in
// design mode) beside the HTML source (a textarea), kept in sync both ways.
//
// The trainer's HTML never enters the console's DOM. The visual side is an
// <iframe sandbox="allow-same-origin"> (no allow-scripts: nothing in it can
// run), which the console scripts from outside; what goes into it is first
// cleaned of <script>, other active elements, on* attributes and
// javascript: URLs, so no script would run even if the sandbox were lifted.

import { h, uid } from './dom.js';
import { t } from './i18n.js';

/** The merge fields offered by the insert menu (SPEC D4). */
export const MERGE_FIELDS = ['姓', '名', 'メールアドレス', '部署', '役職', '項目', '項目2', '項目3', 'URL', '送信元名',
  '送信元アドレス', '送信日', 'パスワード', '報告URL'];

const ACTIVE_ELEMENTS = 'script, iframe, frame, frameset, object, embed, applet, noscript, base, meta[http-equiv]';
const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'xlink:href', 'background'];
const NEUTRAL_PREFIX = 'data-kunren-';

/** True for a URL that would run script when followed or loaded. */
export function isScriptUrl(value) {
  // Browsers ignore control characters and spaces inside the scheme.
  const v = String(value || '').replace(/[\u0000-\u0020\u007f]/g, '').toLowerCase();
  return v.startsWith('javascript:') || v.startsWith('vbscript:') || v.startsWith('data:text/html');
}

/** Removes active elements, on* attributes and script URLs from a parsed document. */
export function cleanDocument(doc) {
  doc.querySelectorAll(ACTIVE_ELEMENTS).forEach((el) => el.remove());
  doc.querySelectorAll('*').forEach((el) => {
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      const handler = name.startsWith('on') || name.startsWith(NEUTRAL_PREFIX);
      if (handler || (URL_ATTRS.includes(name) && isScriptUrl(attr.value))) {
        el.removeAttribute(attr.name);
      }
    }
  });
  return doc;
}

/** The document as HTML source, with its doctype when it has one. */
export function serializeDocument(doc) {
  const dt = doc.doctype ? `<!DOCTYPE ${doc.doctype.name}>\n` : '';
  return dt + doc.documentElement.outerHTML;
}

/**
 * Renames on* attributes inside tags (onclick= → data-kunren-onclick=)
 * before parsing: Chrome checks an inline handler against the console's CSP
 * as soon as a parser sets it, even in an inert document, and logs a
 * violation. Text between tags is left alone. This only avoids that noise;
 * cleanDocument is what removes handlers.
 */
export function neutralizeHandlers(html) {
  return String(html || '').replace(/<[a-zA-Z][^>]*>/g,
    (tag) => tag.replace(/([\s"'/])(on[a-z0-9_-]*\s*=)/gi, `$1${NEUTRAL_PREFIX}$2`));
}

/** Trainer HTML made safe to show in the visual editor. */
export function cleanHtml(html) {
  const doc = new DOMParser().parseFromString(neutralizeHandlers(html), 'text/html');
  return serializeDocument(cleanDocument(doc));
}

function escapeText(v) {
  return String(v).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

/**
 * htmlEditor({value, onChange}) → {el, source, value(), setValue(html)}.
 * onChange(html) runs after an edit on either side.
 */
export function htmlEditor({ value, onChange }) {
  const sourceId = uid('html-source');
  const source = h('textarea', {
    class: 'textarea code', id: sourceId, rows: '22', spellcheck: 'false', name: 'html',
    dataset: { editor: 'source' },
  });
  source.value = value || '';
  const frame = h('iframe', {
    class: 'frame visual-frame', sandbox: 'allow-same-origin', title: t('editor.visual_title'),
    referrerpolicy: 'no-referrer', dataset: { editor: 'visual' },
  });
  let syncTimer = null;

  const visualDoc = () => frame.contentDocument;

  function changed() {
    if (onChange) onChange(source.value);
  }

  // Visual → source: the edited document, serialized.
  function pullFromVisual() {
    const doc = visualDoc();
    if (!doc || !doc.documentElement) return;
    source.value = serializeDocument(doc);
    changed();
  }

  // Source → visual: a fresh, cleaned document in design mode.
  function pushToVisual() {
    frame.srcdoc = cleanHtml(source.value);
  }

  frame.addEventListener('load', () => {
    const doc = visualDoc();
    if (!doc) return;
    doc.designMode = 'on';
    doc.addEventListener('input', pullFromVisual);
  });
  source.addEventListener('input', () => {
    clearTimeout(syncTimer);
    syncTimer = setTimeout(pushToVisual, 300);
    changed();
  });

  function command(name, arg) {
    const doc = visualDoc();
    if (!doc) return;
    frame.contentWindow.focus();
    doc.execCommand(name, false, arg);
    pullFromVisual();
  }

  function insertLink() {
    const doc = visualDoc();
    if (!doc) return;
    const sel = doc.getSelection();
    if (sel && !sel.isCollapsed) command('createLink', '{{URL}}');
    else command('insertHTML', `<a href="{{URL}}">${escapeText(t('editor.link_text'))}</a>`);
  }

  const mergeSelect = h('select', {
    class: 'select select-sm', 'aria-label': t('editor.insert_field'), dataset: { editor: 'merge' },
    onchange: (e) => {
      const name = e.target.value;
      e.target.value = '';
      if (name) command('insertText', `{{${name}}}`);
    },
  }, h('option', { value: '' }, t('editor.insert_field')),
  MERGE_FIELDS.map((f) => h('option', { value: f }, `{{${f}}}`)));

  // mousedown would move the focus (and the selection) out of the frame.
  const keepSelection = { onmousedown: (e) => e.preventDefault() };
  const toolbar = h('div', { class: 'editor-toolbar', role: 'toolbar', 'aria-label': t('editor.toolbar') },
    h('button', { type: 'button', class: 'btn btn-secondary btn-sm', ...keepSelection, onclick: () => command('bold') },
      h('strong', null, t('editor.bold'))),
    h('button', { type: 'button', class: 'btn btn-secondary btn-sm', ...keepSelection, onclick: insertLink },
      t('editor.link')),
    mergeSelect);

  const el = h('div', { class: 'html-editor' },
    h('div', { class: 'html-editor-pane' },
      h('div', { class: 'label' }, t('editor.visual')),
      toolbar, frame),
    h('div', { class: 'html-editor-pane' },
      h('div', { class: 'label' }, t('editor.source')),
      source));
  pushToVisual();

  return {
    el,
    source,
    frame,
    value: () => source.value,
    setValue(html) {
      source.value = html || '';
      pushToVisual();
    },
    dispose: () => clearTimeout(syncTimer),
  };
}
