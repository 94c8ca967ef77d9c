// Campaign page (訓練結果), the dashboard a manager reads: state, the
// delivery panel (campaign-delivery.js: counts per delivery state, the send
// curve, pause / resume / cancel, changing the schedule), the
// exclusion switch (メールチェックシステム除外, remembered per campaign) that
// applies to every number, request and download on the page; the three
// downloads; stat tiles; the funnel and the timeline; the breakdown by 部署 /
// 役職 / 項目; the targets with their event histories; the share links.
// While the campaign sends or runs, everything refreshes every 2 seconds.

import { h, replace, formatTime } from '../dom.js';
import { t } from '../i18n.js';
import { api, apiUrl, errorMessage } from '../api.js';
import { pageHeader, card, button, busy, stateBadge, errorAlert, toast, canWrite } from '../ui.js';
import { funnel } from '../funnel.js';
import {
  statTiles, exclusionSwitch, loadExclusion, saveExclusion, excludeParam, downloadsGroup, timelineView,
  breakdownView,
} from '../results.js';
import { targetsView } from './campaign-targets.js';
import { sharesCard } from './campaign-shares.js';
import { deliveryPanel } from './campaign-delivery.js';
import { liveCard } from './campaign-live.js';

export const titleKey = 'campaign.title';

const POLL_MS = 2000;
/** States in which results come in: refreshed every tick. Others every SLOW_TICKS ticks. */
const LIVE = ['scheduled', 'sending', 'running', 'paused'];
const SLOW_TICKS = 15;

/** A slot whose content is redrawn only when its data changed (keeps open <details>, hover). */
function keyedSlot(attrs, draw) {
  const el = h('div', attrs);
  let key = null;
  el.show = (data) => {
    const k = JSON.stringify(data);
    if (k === key) return;
    key = k;
    replace(el, draw(data));
  };
  el.fail = (err) => {
    key = null;
    replace(el, errorAlert(err));
  };
  return el;
}

export async function render({ main, params, user }) {
  const id = encodeURIComponent(params.id);
  let exclude = loadExclusion(String(params.id));
  const ex = () => excludeParam(exclude);
  let campaign;
  try {
    campaign = await api.get(`/campaigns/${id}`, { exclude: ex() });
  } catch (err) {
    replace(main, pageHeader(t('campaign.title')), errorAlert(err));
    return undefined;
  }

  const badgeSlot = h('span', { id: 'campaign-state' });
  const subtitle = h('span');
  const stats = statTiles();
  const funnelSlot = keyedSlot({ id: 'funnel' }, (counts) => funnel(counts));
  const timelineSlot = keyedSlot({ id: 'timeline' }, (tl) => timelineView(tl));
  const pollError = h('div', { 'aria-live': 'polite' });

  const downloads = downloadsGroup((file, query) => apiUrl(`/campaigns/${id}/${file}`, { ...query, exclude: ex() }));
  const breakdown = breakdownView({
    load: async (by) => ((await api.get(`/campaigns/${id}/breakdown`, { by, exclude: ex() })) || {}).items,
  });
  const targets = targetsView({ campaignId: id, exclude: ex, seconds: () => campaign.exclusion_seconds });
  const switchEl = exclusionSwitch({
    on: exclude,
    seconds: campaign.exclusion_seconds,
    onChange: (on) => {
      exclude = on;
      saveExclusion(String(params.id), on);
      downloads.update();
      refresh().catch((err) => replace(pollError, errorAlert(err)));
      breakdown.refresh();
      targets.reset();
    },
  });

  const launchBtn = button('primary', t('campaign.launch'), () => busy(launchBtn, async () => {
    try {
      const c = await api.post(`/campaigns/${id}/launch`);
      toast(c && c.state === 'scheduled'
        ? t('new.scheduled', { name: campaign.name, at: formatTime(c.delivery && c.delivery.next_due) })
        : t('new.launched', { name: campaign.name }), 'success');
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
    await refreshAll().catch(() => {});
  }), { id: 'launch' });
  const delivery = deliveryPanel({
    campaignId: id, user, onChanged: () => refreshAll().catch((err) => replace(pollError, errorAlert(err))),
  });

  // new events as they come (SSE, or polling): the numbers follow at once
  let liveRefresh = null;
  const live = liveCard({
    campaignId: id,
    onEvents: () => {
      clearTimeout(liveRefresh);
      liveRefresh = setTimeout(() => refreshAll().catch(() => {}), 200);
    },
  });

  let lastState = '';
  function showCampaign(c) {
    campaign = c;
    if (c.state !== lastState) {
      lastState = c.state;
      replace(badgeSlot, stateBadge(c.state));
    }
    const bits = [`${t('campaign.scenario')}: ${c.scenario_name || ''}`, `${t('common.created_at')}: ${formatTime(c.created_at)}`];
    if (c.launched_at) bits.push(`${t('campaign.launched_at')}: ${formatTime(c.launched_at)}`);
    if (c.finished_at) bits.push(`${t('campaign.finished_at')}: ${formatTime(c.finished_at)}`);
    if (c.test_only) bits.push(t('campaign.test_only'));
    subtitle.textContent = bits.join(' ・ ');
    launchBtn.hidden = c.state !== 'draft' || !canWrite(user);
    delivery.update(c);
    stats.update(c);
    funnelSlot.show(c.counts || {});
    live.update(c);
  }

  /** The campaign and its timeline (the tiles, the funnel, the chart). */
  let refreshSeq = 0;
  async function refresh() {
    const mine = ++refreshSeq;
    const [c, tl] = await Promise.all([
      api.get(`/campaigns/${id}`, { exclude: ex() }),
      api.get(`/campaigns/${id}/timeline`, { exclude: ex() }).catch((err) => ({ failed: err })),
    ]);
    // A newer refresh (the switch was flipped meanwhile) wins.
    if (mine !== refreshSeq) return;
    showCampaign(c);
    if (tl && tl.failed) timelineSlot.fail(tl.failed);
    else timelineSlot.show(tl);
    replace(pollError);
    await delivery.refreshPlan();
  }

  /** Everything on the page; quiet refreshes keep what is shown when a request fails. */
  async function refreshAll(quiet = true) {
    await refresh();
    breakdown.refresh();
    await targets.refresh((campaign.counts || {}).targets, quiet);
  }

  const header = pageHeader(campaign.name, { badge: badgeSlot, actions: [launchBtn] });
  header.querySelector('.title-row').parentNode.appendChild(h('p', { class: 'subtitle' }, subtitle));
  replace(main,
    header,
    delivery.el,
    h('section', { class: 'results-bar', 'aria-label': t('campaign.results_controls') }, switchEl, downloads),
    pollError,
    stats,
    live.el,
    h('div', { class: 'grid-2' },
      card(t('campaign.funnel'), [funnelSlot, h('p', { class: 'muted small mb-0' }, t('campaign.funnel_note'))],
        { attrs: { id: 'funnel-card' } }),
      card(t('timeline.title'), [timelineSlot, h('p', { class: 'muted small mb-0' }, t('timeline.note'))],
        { attrs: { id: 'timeline-card' } })),
    card(t('breakdown.title'), breakdown.el, { actions: breakdown.actions, attrs: { id: 'breakdown-card' } }),
    card(t('campaign.targets'), [targets.toolbar, targets.body, targets.pager], { attrs: { id: 'targets-card' } }),
    sharesCard(id, { writable: canWrite(user) }));
  showCampaign(campaign);
  try {
    await refresh();
    await targets.refresh((campaign.counts || {}).targets, false);
  } catch (err) {
    replace(pollError, errorAlert(err));
  }

  // Live updates while the page is open.
  let stopped = false;
  let timer;
  let ticks = 0;
  async function tick() {
    ticks += 1;
    try {
      // A hidden tab skips the fetch; the next visible tick catches up.
      const due = LIVE.includes(campaign.state) || ticks % SLOW_TICKS === 0;
      if (due && !document.hidden) await refreshAll();
    } catch (err) {
      if (!stopped) replace(pollError, errorAlert(err, { title: t('campaign.poll_failed') }));
    } finally {
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    }
  }
  timer = setTimeout(tick, POLL_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
    targets.dispose();
    delivery.dispose();
    live.dispose();
    clearTimeout(liveRefresh);
  };
}
