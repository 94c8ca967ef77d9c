// ブランド設定 (#/operator/branding, the operator only): the service name, the
// primary colour and the support contact every login page and console shows
// (PUT /operator/branding), and the logo (PUT /operator/branding/logo, a PNG
// or SVG of at most 256 KiB). A save applies the new branding at once.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, apiUrl, errorMessage } from '../api.js';
import { pageHeader, card, field, input, busy, errorAlert, toast, filePicker } from '../ui.js';
import { loadBranding, parseHexColor } from '../branding.js';

export const titleKey = 'branding.title';
export const MAX_LOGO = 256 * 1024;

/** The content type of a logo file, or '' when it is neither PNG nor SVG. */
export function logoType(file) {
  const name = String((file && file.name) || '').toLowerCase();
  const type = String((file && file.type) || '').toLowerCase();
  if (type === 'image/png' || name.endsWith('.png')) return 'image/png';
  if (type === 'image/svg+xml' || name.endsWith('.svg')) return 'image/svg+xml';
  return '';
}

/** Why a logo file cannot be sent (dictionary key), or ''. */
export function logoProblem(file) {
  if (!file) return 'branding.logo_required';
  if (!logoType(file)) return 'branding.logo_type';
  if (file.size > MAX_LOGO) return 'branding.logo_too_large';
  return '';
}

/** PUT /operator/branding of the form's values; the colour as lower-case #rrggbb. */
export function brandingBody(v) {
  const rgb = parseHexColor(v.primary_color);
  const color = rgb ? `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}` : String(v.primary_color || '').trim();
  return { service_name: String(v.service_name || '').trim(), primary_color: color, support_contact: String(v.support_contact || '').trim() };
}

function rerender() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export async function render({ main }) {
  let b;
  try {
    b = await api.get('/operator/branding');
  } catch (err) {
    replace(main, pageHeader(t('branding.title')), errorAlert(err));
    return;
  }
  const c = {
    service_name: input({ name: 'service_name', value: b.service_name || '', maxlength: '100' }),
    primary_color: input({ name: 'primary_color', value: b.primary_color || '#1f4e79', maxlength: '7', spellcheck: 'false', class: 'color-text' }),
    support_contact: input({ name: 'support_contact', value: b.support_contact || '', maxlength: '300' }),
  };
  const picker = h('input', { type: 'color', class: 'color-swatch', value: parseHexColor(c.primary_color.value) ? brandingBody({ primary_color: c.primary_color.value }).primary_color : '#1f4e79', 'aria-label': t('branding.color_picker') });
  picker.addEventListener('input', () => { c.primary_color.value = picker.value; });
  c.primary_color.addEventListener('input', () => {
    if (parseHexColor(c.primary_color.value)) picker.value = brandingBody({ primary_color: c.primary_color.value }).primary_color;
  });
  const f = {
    service_name: field(t('branding.service_name'), c.service_name, { help: t('branding.service_name_help') }),
    primary_color: field(t('branding.primary_color'), c.primary_color, { help: t('branding.primary_color_help'), body: h('div', { class: 'input-group' }, picker, c.primary_color) }),
    support_contact: field(t('branding.support_contact'), c.support_contact, { help: t('branding.support_contact_help') }),
  };
  const top = h('div', { 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'branding-save' }, t('branding.save'));
  const form = h('form', {
    novalidate: true, id: 'branding-form',
    onsubmit: async (e) => {
      e.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(top);
      if (!c.service_name.value.trim()) {
        f.service_name.setError(t('branding.name_required'));
        c.service_name.focus();
        return;
      }
      if (!parseHexColor(c.primary_color.value)) {
        f.primary_color.setError(t('branding.color_invalid'));
        c.primary_color.focus();
        return;
      }
      await busy(save, async () => {
        try {
          await api.put('/operator/branding', brandingBody(Object.fromEntries(Object.entries(c).map(([k, el]) => [k, el.value]))));
          await loadBranding();
          toast(t('branding.saved'), 'success');
          rerender();
        } catch (err) {
          const rest = [];
          for (const d of err.details || []) {
            if (d && f[d.field]) f[d.field].setError(d.message || errorMessage(err));
            else rest.push(d);
          }
          if (rest.length || !(err.details || []).length) replace(top, errorAlert({ ...err, details: rest }));
        }
      });
    },
  }, top, f.service_name, f.primary_color, f.support_contact, h('div', { class: 'form-actions' }, save));

  /* the logo */
  const preview = h('div', { class: 'logo-preview', id: 'logo-preview' },
    b.has_logo ? h('img', { src: `${apiUrl('/branding/logo')}?v=${Date.now()}`, alt: t('branding.logo_current') }) : h('p', { class: 'muted mb-0' }, t('branding.no_logo')));
  const file = filePicker({ name: 'logo', accept: 'image/png,image/svg+xml,.png,.svg', id: 'logo-file' });
  const logoField = field(t('branding.logo_file'), file.input, { help: t('branding.logo_help'), body: file.el });
  const upload = h('button', { type: 'submit', class: 'btn btn-primary', id: 'logo-upload' }, t('branding.logo_upload'));
  const logoTop = h('div', { 'aria-live': 'polite' });
  const logoForm = h('form', {
    novalidate: true, id: 'logo-form',
    onsubmit: async (e) => {
      e.preventDefault();
      logoField.setError('');
      replace(logoTop);
      const chosen = file.input.files && file.input.files[0];
      const problem = logoProblem(chosen);
      if (problem) {
        logoField.setError(t(problem));
        return;
      }
      await busy(upload, async () => {
        try {
          await api.raw('PUT', '/operator/branding/logo', chosen, logoType(chosen));
          await loadBranding();
          toast(t('branding.logo_saved'), 'success');
          rerender();
        } catch (err) {
          replace(logoTop, errorAlert(err));
        }
      });
    },
  }, preview, logoTop, logoField, h('div', { class: 'form-actions' }, upload));

  replace(main,
    pageHeader(t('branding.title'), { subtitle: t('branding.subtitle') }),
    card(t('branding.settings'), form, { attrs: { id: 'branding-card' } }),
    card(t('branding.logo'), logoForm, { attrs: { id: 'logo-card' } }));
}
