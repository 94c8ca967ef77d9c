// The delivery panel of the campaign page (配信状況, SPEC E1–E7): the targets
// per delivery state (未送信, 送信中, 送信済み, 送信エラー, 不明, 再送待ち, 取消),
// the next planned send, the schedule in one line, the send curve (sent and
// planned, from GET /campaigns/{id}/plan; a draft shows what a launch now
// would plan), the buttons 一時停止 / 再開 / 中止 by state, and the dialog
// that changes the schedule, the lists and the sending profile of a campaign
// that is not over (PATCH, with the same schedule editor as the new campaign
// form).

import { h, replace, uid, formatCount, formatTime } from '../dom.js';
import { t } from '../i18n.js';
import { api, errorMessage } from '../api.js';
import {
  button, busy, card, field, select, errorAlert, alert, toast, confirmDialog, openModal, loading, canWrite,
} from '../ui.js';
import { scheduleEditor, scheduleFromForm, formFromSchedule, scheduleSummary } from '../schedule.js';
import { planChart, planSummary } from '../plan-chart.js';
import { listsFieldset, loadAll, profileOptions } from './campaign-new.js';

/** The panel's counts, in the order shown. */
export const DELIVERY_KEYS = ['pending', 'sending', 'sent', 'error', 'uncertain', 'retrying', 'cancelled'];
export const PAUSABLE = ['scheduled', 'sending'];
/** States whose campaign may still be changed or cancelled (not finished, not cancelled). */
export const OPEN_STATES = ['draft', 'scheduled', 'sending', 'running', 'paused'];

/**
 * The API's delivery counts as the panel shows them: 未送信 without the
 * targets waiting for a retry (再送待ち, their own tile), 送信中 the claimed
 * and the sending ones, so the tiles add up to the targets.
 */
export function deliveryTiles(delivery) {
  const n = (k) => Number(delivery && delivery[k]) || 0;
  return {
    pending: Math.max(0, n('pending') - n('retrying')),
    sending: n('claimed') + n('sending'),
    sent: n('sent'),
    error: n('error'),
    uncertain: n('uncertain'),
    retrying: n('retrying'),
    cancelled: n('cancelled'),
  };
}

/** Which buttons the panel shows for a state (none for an account that may not change anything). */
export function deliveryActions(state, writable = true) {
  if (!writable) return { pause: false, resume: false, cancel: false, edit: false };
  return {
    pause: PAUSABLE.includes(state),
    resume: state === 'paused',
    cancel: OPEN_STATES.includes(state),
    edit: OPEN_STATES.includes(state),
  };
}

/** The request body of a draft's preview: what its launch now would plan. */
export function draftPreviewBody(c) {
  return {
    schedule: scheduleFromForm(formFromSchedule(c.schedule)),
    list_ids: c.list_ids || [],
    test_only: Boolean(c.test_only),
  };
}

function countTile(key) {
  const value = h('div', { class: 'dcount-value', dataset: { testid: `delivery-${key}` } }, '0');
  let label = h('div', { class: 'dcount-label' }, t(`delivery.${key}`));
  if (key === 'uncertain') {
    const tipId = uid('tip');
    label = h('div', { class: 'dcount-label' }, t('delivery.uncertain'),
      h('span', { class: 'tip-wrap' },
        h('button', { type: 'button', class: 'tip', 'aria-label': t('delivery.uncertain_what'), 'aria-describedby': tipId }, '?'),
        h('span', { class: 'tip-text', role: 'tooltip', id: tipId }, t('delivery.uncertain_help'))));
  }
  const el = h('div', { class: 'dcount', dataset: { delivery: key } }, label, value);
  return { el, value };
}

/** The dialog that changes the schedule, lists and profile (PATCH /campaigns/{id}). */
async function editDialog(campaign, user, onSaved) {
  const body = h('div', null, loading());
  const save = h('button', { type: 'submit', class: 'btn btn-primary', form: 'delivery-edit-form', id: 'delivery-edit-save' }, t('delivery.edit_save'));
  const modal = openModal({
    title: t('delivery.edit_title'), body,
    footer: [button('secondary', t('common.cancel'), () => modal.close()), save],
  });
  modal.dialog.id = 'delivery-edit-dialog';
  let lists;
  let profiles;
  try {
    [lists, profiles] = await Promise.all([loadAll('/lists'), api.get('/sending-profiles').then((r) => (r && r.items) || [])]);
  } catch (err) {
    replace(body, errorAlert(err));
    save.disabled = true;
    return;
  }
  const listsField = listsFieldset(lists, (campaign.list_ids || []).map(Number));
  const profile = select(profileOptions(profiles, campaign.profile_id), { name: 'profile_id' });
  const profileField = field(t('profiles.choose'), profile, { name: 'profile', help: t('profiles.choose_help') });
  const schedule = scheduleEditor({ initial: campaign.schedule, timeZone: user && user.time_zone });
  const formError = h('div', { 'aria-live': 'polite' });
  const form = h('form', {
    id: 'delivery-edit-form', novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, async () => {
        listsField.setError('');
        profileField.setError('');
        schedule.clearErrors();
        replace(formError);
        const listIds = listsField.values();
        if (!listIds.length) listsField.setError(t('new.err_lists'));
        const local = schedule.localProblems();
        schedule.setErrors(local);
        if (!listIds.length || local.length) {
          schedule.focusError();
          return;
        }
        try {
          const saved = await api.patch(`/campaigns/${encodeURIComponent(campaign.id)}`, {
            schedule: schedule.value(),
            list_ids: listIds,
            profile_id: profile.value ? Number(profile.value) : null,
          });
          modal.close();
          toast(t('delivery.edited'), 'success');
          onSaved(saved);
        } catch (err) {
          const rest = schedule.setErrors(err.details).filter((d) => {
            if (d && d.field === 'list_ids') { listsField.setError(d.message || errorMessage(err)); return false; }
            if (d && d.field === 'profile_id') { profileField.setError(d.message || errorMessage(err)); return false; }
            return true;
          });
          if (rest.length || !err.details.length) replace(formError, errorAlert({ ...err, details: rest }));
          schedule.focusError();
        }
      });
    },
  },
  alert('info', t('delivery.edit_note')),
  formError,
  h('h3', { class: 'subheading' }, t('sched.title')),
  schedule.el,
  h('h3', { class: 'subheading' }, t('new.section_delivery')),
  listsField,
  profileField);
  replace(body, form);
}

/**
 * deliveryPanel({campaignId, user, onChanged}) → {el, update(campaign),
 * refreshPlan(), dispose()}. update() is fed the campaign on every refresh of
 * the page; onChanged() asks the page to refresh after a button.
 */
export function deliveryPanel({ campaignId, user, onChanged }) {
  const writable = canWrite(user);
  let campaign = null;
  let stopped = false;
  const tiles = {};
  const counts = h('div', { class: 'delivery-counts', id: 'delivery-counts' }, DELIVERY_KEYS.map((k) => {
    tiles[k] = countTile(k);
    return tiles[k].el;
  }));
  const nextDue = h('p', { class: 'delivery-next', id: 'next-due' });
  const summary = h('p', { class: 'muted small', id: 'schedule-summary' });
  const planSlot = h('div', { id: 'delivery-plan', 'aria-live': 'off' });
  let planKey = null;
  let profiles = null;

  const pauseBtn = button('secondary', t('delivery.pause'), () => busy(pauseBtn, () => move('pause', 'delivery.paused')), { id: 'pause' });
  const resumeBtn = button('primary', t('delivery.resume'), () => busy(resumeBtn, () => move('resume', 'delivery.resumed')), { id: 'resume' });
  const cancelBtn = button('danger', t('campaign.cancel'), async () => {
    const ok = await confirmDialog(t('campaign.cancel_title'), t('campaign.cancel_text', { name: campaign.name }), t('campaign.cancel'));
    if (!ok) return;
    await busy(cancelBtn, () => move('cancel', 'campaign.cancelled'));
  }, { id: 'cancel' });
  const editBtn = button('secondary', t('delivery.edit'), () => editDialog(campaign, user, (saved) => {
    if (saved) update(saved);
    planKey = null;
    onChanged();
  }), { id: 'delivery-edit' });

  async function move(action, doneKey) {
    try {
      const c = await api.post(`/campaigns/${campaignId}/${action}`);
      toast(t(doneKey), 'success');
      if (c) update(c);
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
    planKey = null;
    await onChanged();
  }

  function profileName(id) {
    if (!id) return t('profiles.server_default');
    const p = (profiles || []).find((x) => String(x.id) === String(id));
    return p ? p.name : `#${id}`;
  }

  function update(c) {
    campaign = c;
    const n = deliveryTiles(c.delivery);
    for (const k of DELIVERY_KEYS) tiles[k].value.textContent = formatCount(n[k]);
    tiles.uncertain.el.classList.toggle('is-alert', n.uncertain > 0);
    tiles.error.el.classList.toggle('is-alert', n.error > 0);
    const due = c.delivery && c.delivery.next_due;
    let text;
    if (!OPEN_STATES.includes(c.state) || c.state === 'running') text = t('delivery.next_none');
    else if (c.state === 'draft') text = t('delivery.next_draft');
    else if (!due) text = t('delivery.next_none');
    else if (c.state === 'paused') text = t('delivery.next_paused', { at: formatTime(due) });
    else text = t('delivery.next', { at: formatTime(due) });
    nextDue.textContent = text;
    summary.textContent = t('delivery.summary', { schedule: scheduleSummary(c.schedule), profile: profileName(c.profile_id) });
    const a = deliveryActions(c.state, writable);
    pauseBtn.hidden = !a.pause;
    resumeBtn.hidden = !a.resume;
    cancelBtn.hidden = !a.cancel;
    editBtn.hidden = !a.edit;
  }

  /** The send curve; drawn again only when it changed. */
  async function refreshPlan() {
    if (!campaign || stopped) return;
    try {
      let curve;
      const draft = campaign.state === 'draft';
      if (draft) {
        const bodyJson = draftPreviewBody(campaign);
        const key = `draft:${JSON.stringify(bodyJson)}`;
        if (key === planKey) return;
        curve = await api.post('/schedule/preview', bodyJson);
        planKey = key;
      } else {
        curve = await api.get(`/campaigns/${campaignId}/plan`);
      }
      if (stopped) return;
      const key = JSON.stringify([draft, curve]);
      if (!draft && key === planKey) return;
      if (!draft) planKey = key;
      replace(planSlot,
        draft ? h('p', { class: 'muted small' }, t('delivery.plan_draft')) : null,
        planSummary(curve),
        curve.targets ? planChart(curve, { withSent: !draft, id: 'campaign-plan', title: t('delivery.plan_title') })
          : h('p', { class: 'muted mb-0' }, draft ? t('plan.no_targets') : t('delivery.plan_none')));
    } catch (err) {
      planKey = null;
      if (!stopped) replace(planSlot, errorAlert(err));
    }
  }

  api.get('/sending-profiles').then((r) => {
    profiles = (r && r.items) || [];
    if (campaign) update(campaign);
  }).catch(() => { profiles = []; });

  const el = card(t('delivery.title'), [
    counts,
    nextDue,
    summary,
    h('h3', { class: 'subheading' }, t('delivery.plan_title')),
    planSlot,
  ], {
    actions: h('div', { class: 'btn-group' }, pauseBtn, resumeBtn, editBtn, cancelBtn),
    attrs: { id: 'delivery-card' },
  });
  return { el, update, refreshPlan, dispose: () => { stopped = true; } };
}
