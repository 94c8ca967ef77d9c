// The planned send curve (配信予定グラフ) as an SVG bar chart: the answer of
// POST /schedule/preview (before launch) or GET /campaigns/{id}/plan (after),
// {targets, first, last, bucket_seconds, buckets: [{at, planned, sent}]}.
// The API lists only the buckets that hold mails; the chart lays them out on
// a time axis of equal slots, so closed hours, nights and weekends show as
// gaps. Axis labels are the tenant's wall-clock time (the offset the API
// writes). Every bar is a <g class="plan-bucket"> with data-at, data-planned
// and data-sent and a <title>; the numbers are also in a table under a
// <details>.

import { h, s, uid, formatCount, formatTime } from './dom.js';
import { t } from './i18n.js';
import { niceTicks, yAt, labelIndexes, isoOffsetMinutes, bucketLabel, wallClock } from './chart.js';

const WIDTH = 760;
const HEIGHT = 240;
const MARGIN = { left: 52, right: 16, top: 14, bottom: 48 };
const MAX_SLOTS = 2000;
const DAY_MS = 86_400_000;
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** "1 時間ごと" for a bucket size in seconds. */
export function bucketText(seconds) {
  const n = Number(seconds) || 0;
  if (n >= 604_800 && n % 604_800 === 0) return t('plan.bucket_weeks', { n: n / 604_800 });
  if (n >= 86_400 && n % 86_400 === 0) return t('plan.bucket_days', { n: n / 86_400 });
  if (n >= 3600 && n % 3600 === 0) return t('plan.bucket_hours', { n: n / 3600 });
  return t('plan.bucket_minutes', { n: Math.max(1, Math.round(n / 60)) });
}

/**
 * The curve laid out in slots of bucket_seconds from the first bucket:
 * {step (ms), slots, offset (minutes), max (largest bar), bars: [{slot, ms,
 * at, planned, sent, label, endLabel}]} — bars sorted by time.
 */
export function planLayout(curve) {
  const seconds = Number(curve && curve.bucket_seconds) || 3600;
  const step = seconds * 1000;
  const raw = ((curve && curve.buckets) || [])
    .map((b) => ({ b, ms: Date.parse(b.at) }))
    .filter((x) => Number.isFinite(x.ms))
    .sort((a, b) => a.ms - b.ms);
  if (!raw.length) return { step, seconds, slots: 0, offset: 0, max: 0, bars: [] };
  const ms0 = raw[0].ms;
  const offset = isoOffsetMinutes(raw[0].b.at);
  let slots = Math.round((raw[raw.length - 1].ms - ms0) / step) + 1;
  const evenly = slots <= MAX_SLOTS;
  if (!evenly) slots = raw.length;
  const bars = raw.map((x, i) => {
    const planned = Number(x.b.planned) || 0;
    const sent = Number(x.b.sent) || 0;
    const off = isoOffsetMinutes(x.b.at);
    return {
      slot: evenly ? Math.round((x.ms - ms0) / step) : i,
      ms: x.ms,
      at: x.b.at,
      planned,
      sent,
      label: bucketLabel(x.ms, off, seconds),
      endLabel: bucketLabel(x.ms + step, off, seconds),
    };
  });
  const max = Math.max(0, ...bars.map((b) => b.planned + b.sent));
  return { step, seconds, slots, offset, max, bars, ms0, evenly };
}

/**
 * Where the x axis gets its labels. A plan of hours or minutes over more
 * than two days is labelled at the start of each day (thinned to `max`),
 * with the day of the week, at the slot edge where the day begins; a shorter
 * one at evenly spread slots (their centre) with the date and time.
 * Returns [{pos (slot units from the left edge), lines}].
 */
export function axisLabels(lay, max) {
  if (!lay.slots) return [];
  const spanMs = lay.slots * lay.step;
  if (lay.evenly && lay.seconds < 86_400 && spanMs > 2 * DAY_MS) {
    const w = wallClock(lay.ms0, lay.offset);
    let midnight = lay.ms0 - (w.hh * 60 + w.mm) * 60_000;
    if (midnight < lay.ms0) midnight += DAY_MS;
    const days = [];
    // The first, partial day is labelled at the left edge when it has room.
    if (midnight > lay.ms0 && midnight - lay.ms0 > spanMs / 20) days.push(lay.ms0);
    for (let ms = midnight; ms < lay.ms0 + spanMs; ms += DAY_MS) days.push(ms);
    const every = Math.max(1, Math.ceil(days.length / Math.max(1, max)));
    return days.filter((_, i) => i % every === 0).map((ms) => {
      const d = wallClock(ms, lay.offset);
      const dow = new Date(Date.UTC(d.y, d.mo - 1, d.d)).getUTCDay();
      return { pos: (ms - lay.ms0) / lay.step, lines: [`${d.mo}/${d.d}`, t(`sched.day_${DAY_NAMES[dow]}`)] };
    });
  }
  const bySlot = new Map(lay.bars.map((b) => [b.slot, b]));
  return labelIndexes(lay.slots, max).map((i) => {
    const bar = bySlot.get(i);
    const label = bar ? bar.label : bucketLabel(lay.ms0 + i * lay.step, lay.offset, lay.seconds);
    return { pos: i + 0.5, lines: label.lines };
  });
}

/** The bar's time range for its title: "2026/11/30 09:00〜10:00" or "2026/11/30〜2026/12/01". */
function rangeText(bar, seconds) {
  if (seconds >= 86_400) return seconds === 86_400 ? bar.label.title : t('plan.range', { from: bar.label.title, to: bar.endLabel.title });
  const end = bar.endLabel.lines[1] === '00:00' ? '24:00' : bar.endLabel.lines[1];
  return t('plan.range', { from: bar.label.title, to: end });
}

/**
 * planSummary(curve) → the line above the chart: how many targets, the first
 * and last planned send, the bucket size. Elements carry data-testid.
 */
export function planSummary(curve) {
  const c = curve || {};
  return h('dl', { class: 'plan-summary' },
    h('div', null, h('dt', null, t('plan.targets')), h('dd', { dataset: { testid: 'plan-targets' } }, t('plan.count', { n: formatCount(c.targets) }))),
    h('div', null, h('dt', null, t('plan.first')), h('dd', { dataset: { testid: 'plan-first' } }, c.first ? formatTime(c.first) : '—')),
    h('div', null, h('dt', null, t('plan.last')), h('dd', { dataset: { testid: 'plan-last' } }, c.last ? formatTime(c.last) : '—')),
    h('div', null, h('dt', null, t('plan.bucket')), h('dd', null, bucketText(c.bucket_seconds))));
}

/**
 * planChart(curve, {title, withSent, id}) → a <figure> with the SVG, the
 * legend and the data table. withSent stacks 送信済み under 予定.
 */
export function planChart(curve, { title = t('plan.title'), withSent = false, id } = {}) {
  const lay = planLayout(curve);
  const titleId = uid('plan-title');
  const descId = uid('plan-desc');
  const c = curve || {};
  const desc = lay.bars.length
    ? t('plan.desc', { from: formatTime(c.first), to: formatTime(c.last), bucket: bucketText(lay.seconds), n: formatCount(c.targets) })
    : t('plan.empty');
  const svg = s('svg', {
    class: 'chart plan-chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'xMidYMid meet',
  }, s('title', { id: titleId }, title), s('desc', { id: descId }, desc));

  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const bottom = HEIGHT - MARGIN.bottom;
  const plotW = right - left;
  const plotH = bottom - MARGIN.top;
  const axis = niceTicks(lay.max, 4, { integer: true });
  const y = (v) => yAt(v, axis.max, MARGIN.top, plotH);
  for (const v of axis.ticks) {
    svg.appendChild(s('line', { class: v === 0 ? 'chart-base' : 'chart-grid', x1: left, x2: right, y1: y(v), y2: y(v) }));
    svg.appendChild(s('text', { class: 'chart-axis', x: left - 8, y: y(v), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, formatCount(v)));
  }

  const n = Math.max(1, lay.slots);
  const slotW = plotW / n;
  const barW = Math.max(1, Math.min(slotW * 0.8, 36));
  const xOf = (slot) => left + slot * slotW + slotW / 2;
  // Labels in the tenant's wall-clock time.
  for (const label of axisLabels(lay, Math.max(2, Math.floor(plotW / 64)))) {
    const x = left + label.pos * slotW;
    svg.appendChild(s('line', { class: 'chart-tick', x1: x, x2: x, y1: bottom, y2: bottom + 4 }));
    svg.appendChild(s('text', { class: 'chart-axis', x, y: bottom + 18, 'text-anchor': 'middle' },
      label.lines.map((line, k) => s('tspan', { x, dy: k ? '1.2em' : 0 }, line))));
  }
  const bars = s('g', { class: 'plan-bars' });
  for (const b of lay.bars) {
    const x = (xOf(b.slot) - barW / 2).toFixed(1);
    const ySent = y(b.sent);
    const yTop = y(b.sent + b.planned);
    const what = withSent
      ? t('plan.bar_title_sent', { range: rangeText(b, lay.seconds), planned: formatCount(b.planned), sent: formatCount(b.sent) })
      : t('plan.bar_title', { range: rangeText(b, lay.seconds), planned: formatCount(b.planned) });
    const g = s('g', { class: 'plan-bucket', 'data-at': b.at, 'data-planned': b.planned, 'data-sent': b.sent, 'data-seconds': lay.seconds },
      s('title', null, what));
    if (b.sent) g.appendChild(s('rect', { class: 'plan-bar plan-bar--sent', x, y: ySent.toFixed(1), width: barW.toFixed(1), height: Math.max(0, bottom - ySent).toFixed(1) }));
    if (b.planned) g.appendChild(s('rect', { class: 'plan-bar plan-bar--planned', x, y: yTop.toFixed(1), width: barW.toFixed(1), height: Math.max(0, ySent - yTop).toFixed(1) }));
    bars.appendChild(g);
  }
  svg.appendChild(bars);

  const series = withSent ? ['sent', 'planned'] : ['planned'];
  const legend = h('ul', { class: 'chart-legend' }, series.map((k) =>
    h('li', { dataset: { series: k } }, h('span', { class: ['plan-swatch', `plan-swatch--${k}`], 'aria-hidden': 'true' }), h('span', null, t(`plan.series_${k}`)))));
  const data = h('details', { class: 'chart-data' },
    h('summary', null, t('chart.show_data')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table table-compact' },
      h('caption', { class: 'visually-hidden' }, title),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('plan.time')),
        series.map((k) => h('th', { scope: 'col', class: 'num' }, t(`plan.series_${k}`))))),
      h('tbody', null, lay.bars.map((b) => h('tr', null,
        h('th', { scope: 'row', class: 'nowrap' }, rangeText(b, lay.seconds)),
        series.map((k) => h('td', { class: 'num' }, formatCount(b[k])))))))));
  return h('figure', { class: 'chart-figure plan-figure', id, dataset: { testid: 'plan-chart' } }, svg, legend, data);
}
