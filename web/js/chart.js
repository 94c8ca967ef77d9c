// Line charts drawn as SVG by our own code: the campaign timeline (events per
// hour or day) and the trend across campaigns (rates per campaign). The x
// axis is a row of evenly spaced categories; every series is one line.
// The SVG carries <title> and <desc>; the legend is HTML, and the numbers
// are also in a table under a <details>, so nothing is only in the picture.
//
// The pure parts (ticks, positions, buckets, wall-clock labels) are exported
// for the unit tests.

import { h, s, uid, formatCount } from './dom.js';
import { t } from './i18n.js';

const WIDTH = 760;
const HEIGHT = 280;
const MARGIN = { left: 56, right: 24, top: 16, bottom: 52 };
const MAX_X_LABELS = 8;
const MAX_POINTS_DRAWN = 80;

/**
 * Ticks for an axis from 0 to at least max: about `count` steps of 1, 2,
 * (2.5,) 5 × 10^n. With `integer`, steps are whole numbers. An empty axis
 * (max 0) still gets 0 and one step.
 */
export function niceTicks(max, count = 4, { integer = false } = {}) {
  const m = Number(max);
  let step;
  if (!(m > 0)) {
    step = integer ? 1 : 0.25;
  } else {
    const raw = m / count;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const steps = [1, 2, 2.5, 5, 10].map((k) => Number((k * mag).toPrecision(12)))
      .filter((v) => !integer || Number.isInteger(v));
    step = steps.find((v) => v >= raw * (1 - 1e-9)) || steps[steps.length - 1];
    if (integer) step = Math.max(1, step);
  }
  const n = m > 0 ? Math.ceil(m / step - 1e-9) : 1;
  const ticks = [];
  for (let i = 0; i <= n; i += 1) ticks.push(Number((i * step).toPrecision(12)));
  return { max: ticks[ticks.length - 1], step, ticks };
}

/** The x position of category i of n inside the plot (a single one is centred). */
export function xAt(i, n, left = MARGIN.left, width = WIDTH - MARGIN.left - MARGIN.right) {
  if (n <= 1) return left + width / 2;
  return left + (i * width) / (n - 1);
}

/** The y position of value v on an axis 0..max drawn from bottom to top. */
export function yAt(v, max, top = MARGIN.top, height = HEIGHT - MARGIN.top - MARGIN.bottom) {
  const frac = max > 0 ? Math.min(Math.max(Number(v) || 0, 0) / max, 1) : 0;
  return top + height - frac * height;
}

/** Which category indexes get an x label: at most `max`, evenly spread, the last one included. */
export function labelIndexes(n, max = MAX_X_LABELS) {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const every = Math.ceil((n - 1) / (max - 1));
  const out = [];
  for (let i = 0; i < n; i += every) out.push(i);
  if (out[out.length - 1] !== n - 1) {
    // Keep the last label; drop the one before it when they would touch.
    if (n - 1 - out[out.length - 1] < every / 2) out.pop();
    out.push(n - 1);
  }
  return out;
}

/* ---------- time in the tenant's zone ---------- */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** The offset in minutes written in an ISO time ("+09:00" → 540; "Z" or none → 0). */
export function isoOffsetMinutes(iso) {
  const m = ISO.exec(String(iso || ''));
  if (!m || !m[7] || m[7] === 'Z') return 0;
  const sign = m[7][0] === '-' ? -1 : 1;
  const digits = m[7].slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
}

/** Wall-clock parts {y, mo, d, hh, mm} of a unix time (ms) at an offset in minutes. */
export function wallClock(ms, offsetMinutes) {
  const d = new Date(ms + offsetMinutes * 60_000);
  return {
    y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), hh: d.getUTCHours(), mm: d.getUTCMinutes(),
  };
}

const pad = (n) => String(n).padStart(2, '0');

/**
 * The axis label of a bucket starting at `ms` in the zone of `offset`:
 * ['11/27', '21:00'] for hours, ['11/27'] for days; `title` is the full
 * "2026/11/27 21:00" (or "2026/11/27").
 */
export function bucketLabel(ms, offset, bucketSeconds) {
  const w = wallClock(ms, offset);
  const day = `${w.mo}/${w.d}`;
  const date = `${w.y}/${pad(w.mo)}/${pad(w.d)}`;
  if (bucketSeconds >= 86_400) return { lines: [day], title: date };
  const time = `${pad(w.hh)}:${pad(w.mm)}`;
  return { lines: [day, time], title: `${date} ${time}` };
}

export const TIMELINE_KINDS = ['sent', 'opened', 'clicked', 'file_opened', 'submitted', 'reported'];
const MAX_FILLED_BUCKETS = 2000;

/**
 * The timeline answer as evenly spaced buckets: sorted by time, gaps the API
 * left out filled with zeros (up to a sane number of buckets), each with its
 * label in the tenant's wall-clock time (the offset the API writes).
 * Returns [{ms, label: {lines, title}, counts: {kind: n}}].
 */
export function timelineBuckets(timeline) {
  const bucket = Number(timeline && timeline.bucket_seconds) || 3600;
  const rows = ((timeline && timeline.items) || [])
    .map((it) => ({ it, ms: Date.parse(it.at), offset: isoOffsetMinutes(it.at) }))
    .filter((r) => Number.isFinite(r.ms))
    .sort((a, b) => a.ms - b.ms);
  if (!rows.length) return [];
  const step = bucket * 1000;
  const span = Math.round((rows[rows.length - 1].ms - rows[0].ms) / step);
  const byMs = new Map(rows.map((r) => [r.ms, r]));
  const fill = span < MAX_FILLED_BUCKETS;
  const out = [];
  const push = (ms, offset, it) => {
    const counts = {};
    for (const k of TIMELINE_KINDS) counts[k] = Number(it && it[k]) || 0;
    out.push({ ms, label: bucketLabel(ms, offset, bucket), counts });
  };
  if (!fill) {
    for (const r of rows) push(r.ms, r.offset, r.it);
    return out;
  }
  let offset = rows[0].offset;
  for (let i = 0; i <= span; i += 1) {
    const ms = rows[0].ms + i * step;
    const r = byMs.get(ms);
    if (r) offset = r.offset;
    push(ms, offset, r && r.it);
  }
  // Items off the grid (a bucket size that does not divide the gaps) are not lost.
  for (const r of rows) if (!out.some((b) => b.ms === r.ms)) push(r.ms, r.offset, r.it);
  out.sort((a, b) => a.ms - b.ms);
  return out;
}

/* ---------- drawing ---------- */

/** A short legend swatch: a line in the series' colour and dash. */
function swatch(key) {
  return s('svg', { class: 'chart-swatch', viewBox: '0 0 28 10', 'aria-hidden': 'true', focusable: 'false' },
    s('line', { class: `chart-line chart-line--${key}`, x1: 1, y1: 5, x2: 27, y2: 5 }));
}

function axisLabel(x, y, lines, attrs) {
  return s('text', { class: 'chart-axis', x, y, ...attrs },
    lines.map((line, i) => s('tspan', { x, dy: i ? '1.2em' : 0 }, line)));
}

/**
 * lineChart({title, desc, categories: [{lines: [..], title}], series: [{key,
 * label, values: [..]}], format: (v) => text, integer, id, width}) → an element
 * with the SVG, an HTML legend and a data table under <details>.
 */
export function lineChart({ title, desc, categories, series, format = formatCount, integer = false, id, width = WIDTH }) {
  const n = categories.length;
  const plotW = width - MARGIN.left - MARGIN.right;
  const x = (i) => xAt(i, n, MARGIN.left, plotW);
  const maxValue = Math.max(0, ...series.flatMap((sr) => sr.values.map((v) => Number(v) || 0)));
  const axis = niceTicks(maxValue, 4, { integer });
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'xMidYMid meet',
  }, s('title', { id: titleId }, title), s('desc', { id: descId }, desc));

  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const bottom = HEIGHT - MARGIN.bottom;
  for (const v of axis.ticks) {
    const y = yAt(v, axis.max);
    svg.appendChild(s('line', { class: v === 0 ? 'chart-base' : 'chart-grid', x1: left, x2: right, y1: y, y2: y }));
    svg.appendChild(s('text', { class: 'chart-axis', x: left - 8, y, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, format(v)));
  }
  for (const i of labelIndexes(n, Math.max(2, Math.floor(plotW / 90)))) {
    svg.appendChild(s('line', { class: 'chart-tick', x1: x(i), x2: x(i), y1: bottom, y2: bottom + 4 }));
    svg.appendChild(axisLabel(x(i), bottom + 18, categories[i].lines, { 'text-anchor': 'middle' }));
  }
  for (const sr of series) {
    const pts = sr.values.map((v, i) => [x(i), yAt(v, axis.max)]);
    if (pts.length > 1) {
      svg.appendChild(s('path', {
        class: `chart-line chart-line--${sr.key}`,
        d: pts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join(' '),
      }));
    }
    if (pts.length <= MAX_POINTS_DRAWN) {
      const g = s('g', { class: `chart-points chart-points--${sr.key}`, 'data-series': sr.key });
      pts.forEach(([px, py], i) => g.appendChild(s('circle', { cx: px.toFixed(1), cy: py.toFixed(1), r: 3.5 },
        s('title', null, `${categories[i].title} ${sr.label}: ${format(sr.values[i])}`))));
      svg.appendChild(g);
    }
  }

  const legend = h('ul', { class: 'chart-legend' }, series.map((sr) =>
    h('li', { dataset: { series: sr.key } }, swatch(sr.key), h('span', null, sr.label))));
  const data = h('details', { class: 'chart-data' },
    h('summary', null, t('chart.show_data')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table table-compact' },
      h('caption', { class: 'visually-hidden' }, title),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('chart.category')),
        series.map((sr) => h('th', { scope: 'col', class: 'num' }, sr.label)))),
      h('tbody', null, categories.map((c, i) => h('tr', null,
        h('th', { scope: 'row', class: 'nowrap' }, c.title),
        series.map((sr) => h('td', { class: 'num' }, format(sr.values[i])))))))));
  return h('figure', { class: 'chart-figure', id }, svg, legend, data);
}
