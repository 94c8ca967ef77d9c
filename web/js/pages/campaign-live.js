// The live card of the campaign page (SPEC F5, G8): the newest events as they
// are recorded (live.js: server-sent events, or polling when the stream
// cannot be used), and the 報告 figures — report rate, the first report and
// the median time from delivery to report.

import { h, replace, formatTimeSeconds, formatRate } from '../dom.js';
import { t, has } from '../i18n.js';
import { card } from '../ui.js';
import { liveEvents } from '../live.js';

const SHOWN = 20;

/** Who the event is about: "山田 太郎 <taro@…>", the address alone, or the id (older servers). */
export function targetLabel(e) {
  if (!e.target_id) return null;
  if (e.name && e.email) return `${e.name} <${e.email}>`;
  return e.name || e.email || t('live.target', { id: e.target_id });
}

function kindLabel(kind) {
  return has(`status.${kind}`) ? t(`status.${kind}`) : kind;
}

/** "1 分 5 秒" / "1m 5s" from seconds. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(Number(seconds));
  const hTot = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts = [];
  if (hTot) parts.push(t('live.hours', { n: hTot }));
  if (m) parts.push(t('live.minutes', { n: m }));
  if (sec || !parts.length) parts.push(t('live.seconds', { n: sec }));
  return parts.join(' ');
}

function reportingView(r) {
  if (!r) return h('p', { class: 'muted' }, '—');
  const tile = (label, value, testid) => h('div', { class: 'stat' },
    h('dt', { class: 'stat-label' }, label),
    h('dd', { class: 'stat-value', dataset: { testid } }, value));
  return h('dl', { class: 'usage', id: 'reporting' },
    tile(t('live.report_rate'), `${formatRate(r.rate)} (${r.reported}/${r.sent})`, 'report-rate'),
    tile(t('live.first_report'), formatDuration(r.first_seconds), 'report-first'),
    tile(t('live.median_report'), formatDuration(r.median_seconds), 'report-median'));
}

/**
 * liveCard({campaignId, onEvents}) → {el, update(campaign), dispose()}.
 * onEvents(list) is called after new events are shown (the page refreshes
 * its numbers then).
 */
export function liveCard({ campaignId, onEvents }) {
  const list = h('ol', { class: 'live-events', id: 'live-events', 'aria-live': 'polite' });
  const status = h('p', { class: 'muted small mb-0', id: 'live-status' }, t('live.connecting'));
  const reporting = h('div', { id: 'reporting-slot' });
  const shown = [];

  const feed = liveEvents(campaignId, (events) => {
    for (const e of events) shown.unshift(e);
    shown.splice(SHOWN);
    replace(list, shown.map((e) => h('li', { dataset: { eventId: String(e.id), kind: e.kind } },
      h('time', null, formatTimeSeconds(e.at)), ' ',
      h('strong', null, kindLabel(e.kind)), ' ',
      e.target_id ? h('span', { class: 'live-target', dataset: { targetId: String(e.target_id) } }, targetLabel(e)) : null,
      e.detail && e.detail.via ? h('span', { class: 'muted' }, ` (${e.detail.via})`) : null)));
    if (onEvents) onEvents(events);
  });
  const modeTimer = setInterval(() => {
    const m = feed.mode();
    status.textContent = m === 'stream' ? t('live.streaming') : m === 'polling' ? t('live.polling') : t('live.connecting');
    status.dataset.mode = m;
  }, 500);

  const el = h('div', { class: 'grid-2' },
    card(t('live.title'), [list, status], { attrs: { id: 'live-card' } }),
    card(t('live.report_title'), [reporting, h('p', { class: 'muted small mb-0' }, t('live.report_note'))],
      { attrs: { id: 'report-card' } }));
  let key = '';
  return {
    el,
    update(c) {
      const k = JSON.stringify(c.reporting || null);
      if (k !== key) {
        key = k;
        replace(reporting, reportingView(c.reporting));
      }
    },
    dispose() {
      clearInterval(modeTimer);
      feed.close();
    },
  };
}
