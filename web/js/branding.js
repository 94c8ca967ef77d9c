// The deployment's branding (GET /api/v1/branding, no login needed): service
// name, primary colour, support contact and whether there is a logo. Loaded
// once at start, applied to the page (the colour as --c-primary and its
// hover and soft shades), and reloaded after the operator saves a change.

import { h } from './dom.js';
import { api, apiUrl } from './api.js';

export const DEFAULT_BRANDING = Object.freeze({
  service_name: 'Kunren', primary_color: '', support_contact: '', has_logo: false,
});

let current = { ...DEFAULT_BRANDING };
let logoVersion = 0;

/** "#1f4e79" or "#abc" as [r, g, b], or null for anything else. */
export function parseHexColor(text) {
  const v = String(text ?? '').trim();
  let m = /^#([0-9a-f]{6})$/i.exec(v);
  if (m) return [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
  m = /^#([0-9a-f]{3})$/i.exec(v);
  if (m) return [...m[1]].map((c) => parseInt(c + c, 16));
  return null;
}

function hex(rgb) {
  return `#${rgb.map((c) => Math.max(0, Math.min(255, Math.round(c))).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The three primary shades of a brand colour: the colour itself, a darker
 * hover (15% towards black) and a soft background (90% towards white).
 * null when the colour is not a hex colour.
 */
export function colorShades(text) {
  const rgb = parseHexColor(text);
  if (!rgb) return null;
  return {
    primary: hex(rgb),
    hover: hex(rgb.map((c) => c * 0.85)),
    soft: hex(rgb.map((c) => c + (255 - c) * 0.9)),
  };
}

/** The branding answer with defaults for what is missing or unusable. */
export function normalizeBranding(b) {
  const x = b && typeof b === 'object' ? b : {};
  const name = typeof x.service_name === 'string' && x.service_name.trim() ? x.service_name.trim() : DEFAULT_BRANDING.service_name;
  return {
    service_name: name,
    primary_color: parseHexColor(x.primary_color) ? String(x.primary_color).trim() : '',
    support_contact: typeof x.support_contact === 'string' ? x.support_contact.trim() : '',
    has_logo: Boolean(x.has_logo),
  };
}

function apply() {
  const root = document.documentElement;
  const shades = colorShades(current.primary_color);
  for (const [name, value] of [['--c-primary', shades && shades.primary], ['--c-primary-hover', shades && shades.hover],
    ['--c-primary-soft', shades && shades.soft]]) {
    if (value) root.style.setProperty(name, value);
    else root.style.removeProperty(name);
  }
}

/** Loads the branding (errors leave the defaults) and applies it. */
export async function loadBranding() {
  try {
    current = normalizeBranding(await api.get('/branding'));
  } catch {
    current = { ...DEFAULT_BRANDING };
  }
  logoVersion += 1;
  apply();
  return current;
}

export function branding() {
  return current;
}

/** The brand mark: the logo when there is one, else the 訓 square. */
export function brandMark(cls = 'brand-logo') {
  if (current.has_logo) {
    return h('img', { class: cls, src: `${apiUrl('/branding/logo')}?v=${logoVersion}`, alt: '' });
  }
  return h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '訓');
}
