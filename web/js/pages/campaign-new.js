// New campaign (訓練作成): name, scenario, lists, sender, the delivery
// schedule (schedule.js) with its planned send curve (POST /schedule/preview,
// redrawn after every change), the sending profile and "test targets only";
// "作成して配信" creates the campaign, launches it and opens its page.

import { h, replace, formatCount, formatTime, debounce } from '../dom.js';
import { t } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  pageHeader, card, field, input, select, checkbox, linkButton, busy, errorAlert, alert, toast, spinner,
} from '../ui.js';
import { scheduleEditor } from '../schedule.js';
import { planChart, planSummary } from '../plan-chart.js';

export const titleKey = 'new.title';

// API field names (details[].field) → our form's field keys.
const FIELD_ALIASES = {
  name: 'name',
  scenario_id: 'scenario', scenario: 'scenario',
  list_ids: 'lists', lists: 'lists',
  'sender.name': 'sender_name', sender_name: 'sender_name',
  'sender.local': 'sender_local', sender_local: 'sender_local',
  'sender.domain': 'sender_domain', sender_domain: 'sender_domain', sender: 'sender_domain',
  profile_id: 'profile',
};

const PREVIEW_DELAY_MS = 400;

/** The sending profile choice: the server's relay, then the tenant's own and the shared ones. */
export function profileOptions(profiles, selectedId) {
  const sel = selectedId === null || selectedId === undefined ? '' : String(selectedId);
  return [{ value: '', label: t('profiles.server_default'), selected: sel === '' }].concat((profiles || []).map((p) => ({
    value: String(p.id),
    label: `${p.name}（${p.host}:${p.port}）${p.shared ? t('profiles.shared_suffix') : ''}`,
    selected: sel === String(p.id),
  })));
}

/** The planned send curve of a schedule, drawn again after every change (debounced). */
export function planPreview({ body, onFieldErrors }) {
  const out = h('div', { class: 'plan-preview', id: 'plan-preview', 'aria-live': 'polite' },
    h('p', { class: 'muted mb-0' }, t('plan.pick_lists')));
  const status = h('span', { class: 'card-status' });
  let seq = 0;
  async function run() {
    const mine = ++seq;
    const b = body();
    if (!b) {
      out.dataset.state = 'idle';
      replace(out, h('p', { class: 'muted mb-0' }, t('plan.pick_lists')));
      return;
    }
    if (b.problems && b.problems.length) {
      out.dataset.state = 'invalid';
      onFieldErrors(b.problems);
      replace(out, h('p', { class: 'muted mb-0' }, t('plan.fix_errors')));
      return;
    }
    replace(status, spinner(true));
    out.setAttribute('aria-busy', 'true');
    try {
      const curve = await api.post('/schedule/preview', b.json);
      if (mine !== seq) return;
      onFieldErrors([]);
      out.dataset.state = 'ready';
      replace(out, planSummary(curve), curve.targets
        ? planChart(curve, { id: 'plan-chart' })
        : h('p', { class: 'muted mb-0' }, t('plan.no_targets')));
    } catch (err) {
      if (mine !== seq) return;
      const rest = onFieldErrors(err.details || []);
      out.dataset.state = 'invalid';
      replace(out, rest.length || !(err.details || []).length
        ? errorAlert({ ...err, details: rest })
        : h('p', { class: 'muted mb-0' }, t('plan.fix_errors')));
    } finally {
      if (mine === seq) {
        replace(status);
        out.removeAttribute('aria-busy');
      }
    }
  }
  const later = debounce(run, PREVIEW_DELAY_MS);
  return { el: out, status, run, later, dispose: () => { later.cancel(); seq += 1; } };
}

export async function loadAll(path) {
  const items = [];
  let after;
  for (let page = 0; page < 20; page += 1) {
    const res = await api.get(path, { limit: 500, after });
    items.push(...(res.items || []));
    if (!res.next_after) break;
    after = res.next_after;
  }
  return items;
}

/** The lists as checkboxes (those in `checked` ticked), with .values() and .setError(text). */
export function listsFieldset(lists, checked = []) {
  const boxes = [];
  const error = h('p', { class: 'error', id: 'lists-error', hidden: true });
  const content = lists.length
    ? h('div', { class: 'checks' }, lists.map((l) => {
      const c = checkbox(`${l.name} (${t('lists.count', { n: formatCount(l.recipient_count) })})`,
        { name: 'list_ids', value: String(l.id), dataset: { list: l.id }, checked: checked.includes(Number(l.id)) });
      boxes.push(c.box);
      return c.el;
    }))
    : h('p', { class: 'muted' }, t('new.no_lists'), ' ', h('a', { href: '#/lists' }, t('new.go_lists')));
  const fs = h('fieldset', { class: 'field', dataset: { field: 'lists' }, 'aria-describedby': 'lists-error' },
    h('legend', null, t('new.lists')), content, error);
  fs.setError = (text) => {
    error.textContent = text || '';
    error.hidden = !text;
    fs.classList.toggle('has-error', Boolean(text));
  };
  fs.values = () => boxes.filter((b) => b.checked).map((b) => Number(b.value));
  return fs;
}

export async function render({ main, query, navigate, user }) {
  const header = pageHeader(t('new.title'), { subtitle: t('new.subtitle') });
  let scenarios;
  let lists;
  let profiles;
  try {
    [scenarios, lists, profiles] = await Promise.all([loadAll('/scenarios'), loadAll('/lists'),
      api.get('/sending-profiles').then((r) => (r && r.items) || [])]);
  } catch (err) {
    replace(main, header, errorAlert(err));
    return undefined;
  }

  const c = {
    name: input({ name: 'name', required: true, maxlength: 200, autocomplete: 'off' }),
    scenario: select([{ value: '', label: t('new.pick_scenario') }].concat(
      scenarios.map((sc) => ({ value: String(sc.id), label: sc.name, selected: String(sc.id) === query.scenario }))),
    { name: 'scenario_id', required: true }),
    sender_name: input({ name: 'sender_name', autocomplete: 'off' }),
    sender_local: input({ name: 'sender_local', autocomplete: 'off', spellcheck: 'false' }),
    sender_domain: input({ name: 'sender_domain', autocomplete: 'off', spellcheck: 'false' }),
  };
  const testOnly = checkbox(t('new.test_only'), { name: 'test_only', id: 'test-only' });
  c.profile = select(profileOptions(profiles, null), { name: 'profile_id', id: 'profile' });
  const schedule = scheduleEditor({ timeZone: user && user.time_zone, onChange: () => preview.later() });
  const f = {
    name: field(t('new.name'), c.name, { name: 'name', help: t('new.name_help') }),
    scenario: field(t('new.scenario'), c.scenario, { name: 'scenario' }),
    lists: listsFieldset(lists),
    sender_name: field(t('new.sender_name'), c.sender_name, { name: 'sender_name' }),
    sender_local: field(t('new.sender_local'), c.sender_local, { name: 'sender_local' }),
    sender_domain: field(t('new.sender_domain'), c.sender_domain, { name: 'sender_domain' }),
    profile: field(t('profiles.choose'), c.profile, { name: 'profile', help: t('profiles.choose_help') }),
  };
  const formError = h('div', { id: 'form-error' });
  const preview = planPreview({
    body: () => {
      const listIds = f.lists.values();
      if (!listIds.length) return null;
      return {
        problems: schedule.localProblems(),
        json: { schedule: schedule.value(), list_ids: listIds, test_only: testOnly.box.checked },
      };
    },
    onFieldErrors: (details) => {
      schedule.clearErrors();
      return schedule.setErrors(details);
    },
  });
  f.lists.addEventListener('change', () => preview.later());
  testOnly.box.addEventListener('change', () => preview.later());

  async function applyScenario() {
    const id = c.scenario.value;
    if (!id) return;
    let sc = scenarios.find((x) => String(x.id) === id) || {};
    if (sc.sender_local === undefined) {
      try { sc = await api.get(`/scenarios/${encodeURIComponent(id)}`); } catch { return; }
    }
    c.sender_name.value = sc.sender_name || '';
    c.sender_local.value = sc.sender_local || '';
    c.sender_domain.value = sc.sender_domain || '';
    if (!c.name.value.trim()) c.name.value = sc.name || '';
  }
  c.scenario.addEventListener('change', applyScenario);
  if (c.scenario.value) applyScenario();

  function clearErrors() {
    Object.values(f).forEach((x) => x.setError(''));
    schedule.clearErrors();
    replace(formError);
  }

  function validate() {
    let ok = true;
    if (!c.name.value.trim()) { f.name.setError(t('new.err_name')); ok = false; }
    if (!c.scenario.value) { f.scenario.setError(t('new.err_scenario')); ok = false; }
    if (!f.lists.values().length) { f.lists.setError(t('new.err_lists')); ok = false; }
    return ok;
  }

  function showApiError(err) {
    const other = [];
    for (const d of schedule.setErrors(err.details)) {
      const key = FIELD_ALIASES[d.field];
      if (key && f[key]) f[key].setError(d.message || errorMessage(err));
      else other.push(d);
    }
    if (other.length || !err.details.length) {
      const shown = Object.assign(Object.create(Object.getPrototypeOf(err)), err, { details: other });
      replace(formError, errorAlert(shown));
    }
    const firstBad = main.querySelector('.has-error input, .has-error select, input[aria-invalid="true"]');
    if (firstBad) firstBad.focus();
  }

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'create-launch' }, t('new.submit'));
  async function onSubmit(e) {
    e.preventDefault();
    clearErrors();
    const local = schedule.localProblems();
    if (!validate() || local.length) {
      schedule.setErrors(local);
      const firstBad = main.querySelector('.has-error input, .has-error select, input[aria-invalid="true"]');
      if (firstBad) firstBad.focus();
      return;
    }
    preview.later.cancel();
    await busy(submit, async () => {
      let campaign;
      try {
        const sender = { name: c.sender_name.value.trim(), local: c.sender_local.value.trim(), domain: c.sender_domain.value.trim() };
        campaign = await api.post('/campaigns', {
          name: c.name.value.trim(),
          scenario_id: Number(c.scenario.value),
          list_ids: f.lists.values(),
          // all three empty: the sending profile's default sender (from_address) applies
          ...(sender.name || sender.local || sender.domain ? { sender } : {}),
          test_only: testOnly.box.checked,
          exclusion_seconds: 0,
          schedule: schedule.value(),
          profile_id: c.profile.value ? Number(c.profile.value) : null,
        });
      } catch (err) {
        showApiError(err);
        return;
      }
      try {
        const launched = await api.post(`/campaigns/${campaign.id}/launch`);
        if (launched && launched.state === 'scheduled') {
          toast(t('new.scheduled', { name: campaign.name, at: formatTime(launched.delivery && launched.delivery.next_due) }), 'success');
        } else {
          toast(t('new.launched', { name: campaign.name }), 'success');
        }
      } catch (err) {
        toast(t('new.launch_failed', { message: errorMessage(err) }), 'error', 10000);
      }
      navigate(`/campaigns/${campaign.id}`);
    });
  }

  const noScenarios = scenarios.length ? null
    : alert('info', t('new.no_scenarios'), ' ', h('a', { href: '#/gallery' }, t('new.go_gallery')));
  const form = h('form', { id: 'campaign-form', novalidate: true, onsubmit: onSubmit },
    formError,
    card(t('new.section_what'), [
      f.name,
      f.scenario,
      h('p', { class: 'small' }, linkButton('ghost', t('new.import_from_gallery'), '#/gallery', { id: 'to-gallery' })),
      f.lists,
    ]),
    card(t('new.section_sender'), [
      h('p', { class: 'muted small' }, t('new.sender_help')),
      h('div', { class: 'form-grid' }, f.sender_name, f.sender_local, f.sender_domain),
    ]),
    card(t('sched.title'), schedule.el, { attrs: { id: 'schedule-card' } }),
    card(t('plan.title'), [preview.el, h('p', { class: 'muted small mb-0 plan-note' }, t('plan.note'))],
      { actions: preview.status, attrs: { id: 'plan-card' } }),
    card(t('new.section_delivery'), [
      f.profile,
      testOnly.el,
      h('p', { class: 'help muted small' }, t('new.test_only_help')),
    ]),
    h('div', { class: 'form-actions' }, linkButton('secondary', t('common.cancel'), '#/campaigns'), submit));
  replace(main, header, noScenarios, form);
  return preview.dispose;
}
