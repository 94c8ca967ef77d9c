// Dictionaries (web/i18n/<lang>.json, flat "area.key" → text) and the
// language switch. Japanese is the default; the choice is kept in localStorage.

const STORAGE_KEY = 'kunren.lang';
export const LANGS = ['ja', 'en'];

let lang = 'ja';
let dict = {};
const listeners = new Set();

function storedLang() {
  try {
    const v = window.localStorage.getItem(STORAGE_KEY);
    return LANGS.includes(v) ? v : 'ja';
  } catch {
    return 'ja';
  }
}

async function load(l) {
  const res = await fetch(`/i18n/${l}.json`, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`i18n: cannot load ${l} (${res.status})`);
  dict = await res.json();
  lang = l;
  document.documentElement.lang = l;
}

export async function initI18n() {
  await load(storedLang());
}

export function currentLang() {
  return lang;
}

export async function setLang(l) {
  if (!LANGS.includes(l) || l === lang) return;
  await load(l);
  try {
    window.localStorage.setItem(STORAGE_KEY, l);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  for (const fn of listeners) fn(l);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(dict, key);
}

/** t('lists.count', {n: 3}) — "{n}" placeholders are replaced by text. */
export function t(key, vars) {
  let text = has(key) ? dict[key] : key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (all, name) =>
      Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : all);
  }
  return text;
}

/** Translates an API value through a prefix ("status.opened"), else shows it as is. */
export function tv(prefix, value) {
  const key = `${prefix}.${value}`;
  return has(key) ? dict[key] : String(value ?? '');
}
