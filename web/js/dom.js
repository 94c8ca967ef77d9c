// Small DOM helpers. Everything that comes from data goes in as text nodes or
// attribute values, never as HTML, so nothing needs escaping by hand.

const SVG_NS = 'http://www.w3.org/2000/svg';

function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (name === 'value' && 'value' in el) {
      el.value = value;
    } else if (name === 'checked' || name === 'selected' || name === 'srcdoc') {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** h('button', {class: 'btn', onclick: fn}, 'text', otherNode, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** Removes all children of el, then appends the given ones. */
export function replace(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
  return el;
}

let idCounter = 0;
/** A document-unique id for tying labels, help and errors to inputs. */
export function uid(prefix = 'k') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Formats an API time ("2026-11-27T21:45:00+09:00") as "2026/11/27 21:45",
 * keeping the wall-clock time the API gives (the tenant's zone).
 */
export function formatTime(iso) {
  if (!iso) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(String(iso));
  if (m) return `${m[1]}/${m[2]}/${m[3]} ${m[4]}:${m[5]}`;
  // A mail Date header ("Sat, 28 Nov 2026 06:59:02 +0900"), also wall-clock.
  const r = /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})/.exec(String(iso));
  const month = r && MONTHS.indexOf(r[2].toLowerCase()) + 1;
  if (month) return `${r[3]}/${String(month).padStart(2, '0')}/${r[1].padStart(2, '0')} ${r[4]}:${r[5]}`;
  return String(iso);
}

/** The same with seconds ("2026/11/27 21:45:07"), for event histories. */
export function formatTimeSeconds(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})/.exec(String(iso || ''));
  if (m) return `${m[1]}/${m[2]}/${m[3]} ${m[4]}:${m[5]}:${m[6]}`;
  return formatTime(iso);
}

/** A fraction 0..1 as "12.5%" (one decimal, trailing ".0" dropped). */
export function formatRate(fraction) {
  const n = Number(fraction);
  if (!Number.isFinite(n)) return '0%';
  const pct = Math.round(n * 1000) / 10;
  return `${pct}%`;
}

/** A count with thousands separators. */
export function formatCount(n) {
  const v = Number(n) || 0;
  return v.toLocaleString('en-US');
}

/** Full name in Japanese order (姓 名), trimmed. */
export function fullName(p) {
  return [p.last_name, p.first_name].filter((x) => x).join(' ');
}

/** fn delayed until `ms` have passed without another call; .cancel() drops a pending call. */
export function debounce(fn, ms) {
  let timer = null;
  const run = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  run.cancel = () => { clearTimeout(timer); timer = null; };
  return run;
}

/** Saves a Blob made in the page as a file (an <a download> on an object URL). */
export function downloadBlob(fileName, blob) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: fileName, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
