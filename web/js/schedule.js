// The delivery schedule editor (配信スケジュール, SPEC E2–E4), used by the new
// campaign form and by the campaign page's edit dialog: 一括配信 / 分散配信 /
// 期間で均等配信, the start (予約), the time windows, the weekdays, holidays,
// the order, the per-domain limit and the end of the training period. It
// builds the API's `schedule` object, and shows the API's field errors
// (details[].field such as "schedule.windows[1].to") at the right input.
//
// Times in the form are the tenant's wall-clock time ("2026-12-04T18:00",
// no offset), which the API reads in the tenant's zone. The pure parts are
// exported for the unit tests.

import { h, replace, uid, formatTime } from './dom.js';
import { t } from './i18n.js';
import { field, input, select, checkbox, button } from './ui.js';

export const MODES = ['bulk', 'rate', 'spread'];
/** The API's day names in the order a Japanese calendar shows them (月 first). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
export const WORKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];
export const MAX_WINDOWS = 8;
const RATE_PERS = ['minute', 'hour'];
/** The first two windows a trainer adds: a Japanese working day around the lunch break. */
const FIRST_WINDOWS = [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:00' }];

/* ---------- pure helpers ---------- */

const pad = (n) => String(n).padStart(2, '0');

/** An API time ("2026-12-04T18:00:00+09:00") as a datetime-local value ("2026-12-04T18:00"), in the time it writes. */
export function isoToLocalInput(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(String(iso || ''));
  return m ? `${m[1]}T${m[2]}` : '';
}

/** "now" as a datetime-local value in the IANA zone given (the tenant's), else the browser's. */
export function zonedNow(timeZone, date = new Date()) {
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timeZone || undefined, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(date);
    const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day}T${p.hour === '24' ? '00' : p.hour}:${p.minute}`;
  } catch {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }
}

/** A datetime-local value `days` later, at the time of day `hhmm` ("18:00"). */
export function addDaysAt(local, days, hhmm) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(local || ''));
  if (!m) return '';
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${hhmm}`;
}

/** The form's state for an API schedule (missing keys get the API's defaults). */
export function formFromSchedule(schedule) {
  const s = schedule || {};
  const rate = s.rate || {};
  const dom = s.domain_rate || {};
  return {
    mode: MODES.includes(s.mode) ? s.mode : 'bulk',
    startAt: isoToLocalInput(s.start_at),
    rateCount: rate.count ? String(rate.count) : '100',
    ratePer: RATE_PERS.includes(rate.per) ? rate.per : 'hour',
    spreadUntil: isoToLocalInput(s.spread_until),
    // An input of type time cannot show 24:00: the end of the day is 00:00 there.
    windows: (Array.isArray(s.windows) ? s.windows : []).map((w) => ({
      from: w.from || '', to: w.to === '24:00' ? '00:00' : (w.to || ''),
    })),
    weekdays: Array.isArray(s.weekdays) ? WEEKDAYS.filter((d) => s.weekdays.includes(d)) : [...WEEKDAYS],
    skipHolidays: Boolean(s.skip_holidays),
    order: s.order === 'random' ? 'random' : 'list',
    domainCount: dom.count ? String(dom.count) : '',
    domainPer: RATE_PERS.includes(dom.per) ? dom.per : 'minute',
    endsAt: isoToLocalInput(s.ends_at),
  };
}

/** A count typed in the form: a number when it is one, else the text (the API names the field). */
function countValue(text) {
  const v = String(text ?? '').trim();
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** The API's schedule object for a form state. Only the chosen mode's own keys are sent. */
export function scheduleFromForm(f) {
  const out = { mode: f.mode, start_at: f.startAt || null };
  if (f.mode === 'rate') out.rate = { count: countValue(f.rateCount), per: f.ratePer };
  if (f.mode === 'spread' && f.spreadUntil) out.spread_until = f.spreadUntil;
  out.windows = f.windows.map((w) => ({ from: w.from, to: w.to === '00:00' ? '24:00' : w.to }));
  out.weekdays = WEEKDAYS.filter((d) => f.weekdays.includes(d));
  out.skip_holidays = Boolean(f.skipHolidays);
  out.order = f.order === 'random' ? 'random' : 'list';
  out.domain_rate = String(f.domainCount ?? '').trim() ? { count: countValue(f.domainCount), per: f.domainPer } : null;
  out.ends_at = f.endsAt || null;
  return out;
}

/**
 * Where an API detail's field belongs: "schedule.windows[1].to" →
 * {key: 'windows', index: 1, part: 'to'}; "schedule" → {key: ''}; null for
 * fields outside the schedule.
 */
export function parseScheduleField(name) {
  const m = /^schedule(?:\.([a-z_]+))?(?:\[(\d+)\])?(?:\.([a-z_]+))?$/.exec(String(name || ''));
  if (!m) return null;
  return { key: m[1] || '', index: m[2] === undefined ? null : Number(m[2]), part: m[3] || '' };
}

/** The API's (English) message about a schedule field in the console's language, when we know it. */
export function scheduleMessage(message) {
  const msg = String(message || '');
  const known = [
    [/must be after from/, 'sched.err_window_order'],
    [/overlaps an earlier window/, 'sched.err_window_overlap'],
    [/time of day/, 'sched.err_time'],
    [/at most 8 windows/, 'sched.err_windows_max'],
    [/at least one day/, 'sched.err_weekdays'],
    [/must be after start_at/, 'sched.err_after_start'],
    [/is required when mode/, 'sched.err_required'],
    [/date and time|between 1970/, 'sched.err_datetime'],
    [/whole number|integer/, 'sched.err_count'],
    [/allows no time to send/, 'sched.err_no_time'],
    [/does not fit/, 'sched.err_not_fit'],
  ];
  for (const [re, key] of known) if (re.test(msg)) return t(key);
  return msg;
}

/** Problems the form can see before asking the server: a spread end that has already passed. */
export function localProblems(f, nowLocal) {
  const out = [];
  if (f.mode === 'spread' && f.spreadUntil && nowLocal && f.spreadUntil <= nowLocal) {
    out.push({ field: 'schedule.spread_until', message: t('sched.err_past') });
  }
  if (f.endsAt && nowLocal && f.endsAt <= nowLocal) {
    out.push({ field: 'schedule.ends_at', message: t('sched.err_past') });
  }
  return out;
}

/** The window as the console shows it ("09:00〜12:00"). */
export function windowLabel(w) {
  return t('sched.window_range', { from: w.from, to: w.to });
}

/** A one-line summary of an API schedule for the campaign page. */
export function scheduleSummary(schedule) {
  const s = schedule || {};
  const parts = [];
  if (s.mode === 'rate' && s.rate) {
    parts.push(t('sched.sum_rate', { n: s.rate.count, per: t(`sched.per_${s.rate.per === 'minute' ? 'minute' : 'hour'}`) }));
  } else if (s.mode === 'spread') {
    parts.push(t('sched.sum_spread', { until: formatTime(s.spread_until) }));
  } else {
    parts.push(t('sched.mode_bulk'));
  }
  parts.push(s.start_at ? t('sched.sum_start', { at: formatTime(s.start_at) }) : t('sched.sum_start_now'));
  const windows = Array.isArray(s.windows) ? s.windows : [];
  parts.push(windows.length ? windows.map(windowLabel).join(t('chart.separator')) : t('sched.sum_any_time'));
  const days = Array.isArray(s.weekdays) ? WEEKDAYS.filter((d) => s.weekdays.includes(d)) : WEEKDAYS;
  if (days.length < 7) parts.push(days.map((d) => t(`sched.day_${d}`)).join(''));
  if (s.skip_holidays) parts.push(t('sched.skip_holidays_short'));
  parts.push(s.order === 'random' ? t('sched.order_random') : t('sched.order_list'));
  if (s.domain_rate) {
    parts.push(t('sched.sum_domain', { n: s.domain_rate.count, per: t(`sched.per_${s.domain_rate.per === 'minute' ? 'minute' : 'hour'}`) }));
  }
  if (s.ends_at) parts.push(t('sched.sum_ends', { at: formatTime(s.ends_at) }));
  return parts.join(' ・ ');
}

/* ---------- the editor ---------- */

/** A <fieldset> with a legend, help and an error line, and .setError(text). */
function group(legend, content, { help, name, cls } = {}) {
  const id = uid('grp');
  const helpEl = help ? h('p', { class: 'help', id: `${id}-help` }, help) : null;
  const errEl = h('p', { class: 'error', id: `${id}-error`, hidden: true });
  const fs = h('fieldset', {
    class: ['field', cls], dataset: name ? { sched: name } : {},
    'aria-describedby': [helpEl && helpEl.id, errEl.id].filter(Boolean).join(' '),
  }, h('legend', null, legend), content, helpEl, errEl);
  fs.setError = (text) => {
    errEl.textContent = text || '';
    errEl.hidden = !text;
    fs.classList.toggle('has-error', Boolean(text));
  };
  return fs;
}

/** The unit of a rate; named by `title` where an aria-label would clash with a field's label. */
function perSelect(value, label, nameAttr = 'aria-label') {
  return select(RATE_PERS.map((p) => ({ value: p, label: t(`sched.per_${p}`), selected: p === value })),
    { class: 'select-auto', [nameAttr]: label });
}

/**
 * scheduleEditor({initial, timeZone, onChange}) → {el, value(), state(),
 * setErrors(details) → details it did not show, clearErrors(), focusError()}.
 * onChange runs after every edit (typing, choosing, adding or removing a window).
 */
export function scheduleEditor({ initial, timeZone, onChange = () => {} } = {}) {
  const f0 = formFromSchedule(initial);
  const changed = () => onChange();

  /* 配信方法 */
  const modeName = uid('mode');
  const modeRadios = {};
  const modeOptions = h('div', { class: 'sched-modes' }, MODES.map((m) => {
    const radio = h('input', { type: 'radio', name: modeName, value: m, checked: m === f0.mode, dataset: { mode: m } });
    modeRadios[m] = radio;
    return h('label', { class: 'check sched-mode' }, radio,
      h('span', null, h('strong', null, t(`sched.mode_${m}`)), h('span', { class: 'help' }, t(`sched.mode_${m}_help`))));
  }));
  const modeGroup = group(t('sched.mode'), modeOptions, { name: 'mode' });

  const rateCount = input({ type: 'number', min: '1', max: '1000000', step: '1', inputmode: 'numeric', value: f0.rateCount, class: 'input-count' });
  const ratePer = perSelect(f0.ratePer, t('sched.rate_per'));
  rateCount.setAttribute('aria-label', t('sched.rate_count'));
  const rateGroup = group(t('sched.rate'), h('div', { class: 'input-group' }, rateCount, h('span', null, t('sched.count_unit')), ratePer),
    { name: 'rate', help: t('sched.rate_help') });

  const spreadUntil = input({ type: 'datetime-local', value: f0.spreadUntil });
  const spreadField = field(t('sched.spread_until'), spreadUntil, { name: 'spread_until', help: t('sched.spread_until_help') });

  const startAt = input({ type: 'datetime-local', value: f0.startAt });
  const startField = field(t('sched.start_at'), startAt, { name: 'start_at', help: t('sched.start_at_help') });

  /* 配信時間帯 */
  const rows = [];
  const windowList = h('ol', { class: 'window-list' });
  const noWindows = h('p', { class: 'muted small mb-0 window-none' }, t('sched.no_windows'));
  const addWindow = button('secondary', t('sched.window_add'), () => {
    addRow(nextWindow(), true);
    changed();
  }, { class: 'btn-sm', dataset: { action: 'add-window' } });
  const windowsGroup = group(t('sched.windows'), [noWindows, windowList, addWindow], { name: 'windows', help: t('sched.windows_help') });

  function nextWindow() {
    if (rows.length < FIRST_WINDOWS.length) return FIRST_WINDOWS[rows.length];
    const last = rows[rows.length - 1].to.value;
    if (!last || last === '00:00') return { from: '', to: '' };
    const [hh, mm] = last.split(':').map(Number);
    const end = Math.min(hh + 1, 24);
    return { from: last, to: end === 24 ? '00:00' : `${pad(end)}:${pad(mm)}` };
  }

  function renumber() {
    rows.forEach((r, i) => {
      r.el.dataset.window = String(i);
      r.from.setAttribute('aria-label', t('sched.window_from_n', { n: i + 1 }));
      r.to.setAttribute('aria-label', t('sched.window_to_n', { n: i + 1 }));
      r.remove.setAttribute('aria-label', t('sched.window_remove_n', { n: i + 1 }));
    });
    addWindow.disabled = rows.length >= MAX_WINDOWS;
    noWindows.hidden = rows.length > 0;
  }

  function addRow(w, focus) {
    const errId = uid('win-error');
    const row = {
      from: input({ type: 'time', step: '60', value: w.from, class: 'input-time', 'aria-describedby': errId }),
      to: input({ type: 'time', step: '60', value: w.to, class: 'input-time', 'aria-describedby': errId }),
      error: h('p', { class: 'error', id: errId, hidden: true }),
    };
    row.remove = button('ghost', t('sched.window_remove'), () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
      renumber();
      changed();
    }, { class: 'btn-sm btn-ghost-danger' });
    row.el = h('li', { class: 'window-row' },
      h('div', { class: 'window-inputs' }, row.from, h('span', { 'aria-hidden': 'true' }, '〜'), row.to, row.remove),
      row.error);
    row.setError = (part, text) => {
      row.error.textContent = text || '';
      row.error.hidden = !text;
      row.el.classList.toggle('has-error', Boolean(text));
      for (const c of [row.from, row.to]) c.removeAttribute('aria-invalid');
      if (text) (part === 'to' ? row.to : row.from).setAttribute('aria-invalid', 'true');
    };
    rows.push(row);
    windowList.appendChild(row.el);
    renumber();
    if (focus) row.from.focus();
  }
  f0.windows.forEach((w) => addRow(w, false));
  renumber();

  /* 曜日 */
  const dayBoxes = {};
  const days = h('div', { class: 'weekday-boxes' }, WEEKDAYS.map((d) => {
    const c = checkbox(t(`sched.day_${d}`), { value: d, checked: f0.weekdays.includes(d), dataset: { day: d } });
    dayBoxes[d] = c.box;
    c.box.setAttribute('aria-label', t(`sched.day_long_${d}`));
    return c.el;
  }));
  const setDays = (list) => {
    for (const d of WEEKDAYS) dayBoxes[d].checked = list.includes(d);
    changed();
  };
  const presets = h('div', { class: 'btn-group' },
    button('ghost', t('sched.preset_workdays'), () => setDays(WORKDAYS), { class: 'btn-sm', dataset: { action: 'workdays' } }),
    button('ghost', t('sched.preset_everyday'), () => setDays(WEEKDAYS), { class: 'btn-sm', dataset: { action: 'everyday' } }));
  const weekdaysGroup = group(t('sched.weekdays'), h('div', { class: 'weekday-row' }, days, presets), { name: 'weekdays' });

  const holidays = checkbox(t('sched.skip_holidays'), { checked: f0.skipHolidays });
  const holidaysError = h('p', { class: 'error', hidden: true });
  const holidaysWrap = h('div', { class: 'field', dataset: { sched: 'holidays' } },
    holidays.el, h('p', { class: 'help' }, t('sched.skip_holidays_help')), holidaysError);
  holidaysWrap.setError = (text) => {
    holidaysError.textContent = text || '';
    holidaysError.hidden = !text;
    holidaysWrap.classList.toggle('has-error', Boolean(text));
  };

  const order = select([
    { value: 'list', label: t('sched.order_list'), selected: f0.order === 'list' },
    { value: 'random', label: t('sched.order_random'), selected: f0.order === 'random' },
  ]);
  const orderField = field(t('sched.order'), order, { name: 'order', help: t('sched.order_help') });

  const domainCount = input({ type: 'number', min: '1', max: '1000000', step: '1', inputmode: 'numeric', value: f0.domainCount, class: 'input-count' });
  // Named by title: "ドメイン" in an aria-label would also match the sender's ドメイン field by label.
  domainCount.setAttribute('title', t('sched.domain_count'));
  const domainPer = perSelect(f0.domainPer, t('sched.domain_per'), 'title');
  const domainGroup = group(t('sched.domain_rate'), h('div', { class: 'input-group' }, domainCount, h('span', null, t('sched.count_unit')), domainPer),
    { name: 'domain_rate', help: t('sched.domain_rate_help') });

  const endsAt = input({ type: 'datetime-local', value: f0.endsAt });
  const endsField = field(t('sched.ends_at'), endsAt, { name: 'ends_at', help: t('sched.ends_at_help') });

  const generalError = h('div', { class: 'sched-general', 'aria-live': 'polite' });

  function currentMode() {
    return MODES.find((m) => modeRadios[m].checked) || 'bulk';
  }
  function showMode() {
    const mode = currentMode();
    rateGroup.hidden = mode !== 'rate';
    spreadField.hidden = mode !== 'spread';
    if (mode === 'spread' && !spreadUntil.value) spreadUntil.value = addDaysAt(zonedNow(timeZone), 7, '18:00');
  }
  showMode();

  const el = h('div', { class: 'sched-editor', dataset: { testid: 'schedule-editor' } },
    generalError,
    modeGroup,
    h('div', { class: 'form-grid' }, rateGroup, spreadField, startField),
    windowsGroup,
    weekdaysGroup,
    holidaysWrap,
    h('div', { class: 'form-grid' }, orderField, domainGroup, endsField));
  el.addEventListener('change', (e) => {
    if (e.target && e.target.name === modeName) showMode();
    changed();
  });
  el.addEventListener('input', (e) => {
    if (e.target && e.target.type !== 'radio' && e.target.type !== 'checkbox') changed();
  });

  // Where each API field's error goes.
  const byKey = {
    mode: modeGroup, start_at: startField, rate: rateGroup, spread_until: spreadField, windows: windowsGroup,
    weekdays: weekdaysGroup, skip_holidays: holidaysWrap, order: orderField, domain_rate: domainGroup, ends_at: endsField,
  };

  function state() {
    return {
      mode: currentMode(),
      startAt: startAt.value,
      rateCount: rateCount.value,
      ratePer: ratePer.value,
      spreadUntil: spreadUntil.value,
      windows: rows.map((r) => ({ from: r.from.value, to: r.to.value })),
      weekdays: WEEKDAYS.filter((d) => dayBoxes[d].checked),
      skipHolidays: holidays.box.checked,
      order: order.value,
      domainCount: domainCount.value,
      domainPer: domainPer.value,
      endsAt: endsAt.value,
    };
  }

  function clearErrors() {
    Object.values(byKey).forEach((w) => w.setError(''));
    rows.forEach((r) => r.setError('', ''));
    replace(generalError);
  }

  function setErrors(details) {
    const rest = [];
    for (const d of details || []) {
      const where = d && parseScheduleField(d.field);
      const text = scheduleMessage(d && (d.message || d.reason));
      if (!where || !text) {
        rest.push(d);
      } else if (where.key === 'windows' && where.index !== null && rows[where.index]) {
        rows[where.index].setError(where.part, text);
      } else if (byKey[where.key]) {
        byKey[where.key].setError(text);
      } else {
        replace(generalError, h('div', { class: 'alert alert-error', role: 'alert', dataset: { sched: 'general' } }, text));
      }
    }
    return rest;
  }

  function focusError() {
    const bad = el.querySelector('[aria-invalid="true"], .has-error input, .has-error select, .alert-error');
    if (bad && bad.focus) bad.focus();
  }

  return {
    el,
    state,
    value: () => scheduleFromForm(state()),
    localProblems: () => localProblems(state(), zonedNow(timeZone)),
    setErrors,
    clearErrors,
    focusError,
  };
}
