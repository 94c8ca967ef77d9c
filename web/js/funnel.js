// The campaign funnel (配信件数 → メール送信 → メール開封 → リンククリック →
// データ送信) drawn as SVG: centred bars whose width is the count relative to
// the number of targets, joined by soft trapezoids. The rates are the ones of
// the stat tiles: メール送信 of 配信件数, the reactions of メール送信. The SVG has
// a <title> and a <desc> that says every step in words.

import { s, uid, formatCount, formatRate } from './dom.js';
import { t } from './i18n.js';

export const FUNNEL_STEPS = ['targets', 'sent', 'opened', 'clicked', 'submitted'];
const WIDTH = 720;
const LABEL_W = 130;
const VALUE_W = 140;
const ROW_H = 26;
const GAP = 10;

/**
 * The rows of the funnel: {step, n, rate, width, y}. `rate` is null for
 * 配信件数, sent/targets for メール送信 and n/sent for the reactions.
 */
export function funnelRows(counts, barArea = WIDTH - LABEL_W - VALUE_W) {
  const c = counts || {};
  const targets = Number(c.targets) || 0;
  const sent = Number(c.sent) || 0;
  return FUNNEL_STEPS.map((step, i) => {
    const n = Number(c[step]) || 0;
    let rate = null;
    if (step === 'sent') rate = targets ? n / targets : 0;
    else if (step !== 'targets') rate = sent ? n / sent : 0;
    const width = Math.max((n / Math.max(targets, 1)) * barArea, n > 0 ? 3 : 0);
    return { step, n, rate, width, y: i * (ROW_H + GAP) };
  });
}

function valueText(r) {
  return r.rate === null ? formatCount(r.n) : `${formatCount(r.n)} (${formatRate(r.rate)})`;
}

export function funnel(counts) {
  const barArea = WIDTH - LABEL_W - VALUE_W;
  const centre = LABEL_W + barArea / 2;
  const height = FUNNEL_STEPS.length * (ROW_H + GAP) - GAP;
  const rows = funnelRows(counts, barArea);
  const titleId = uid('funnel-title');
  const descId = uid('funnel-desc');
  const svg = s('svg', {
    class: 'funnel', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'xMidYMid meet',
  },
  s('title', { id: titleId }, t('campaign.funnel')),
  s('desc', { id: descId }, rows.map((r) => `${t(`stat.${r.step}`)} ${valueText(r)}`).join(t('chart.separator'))));
  rows.forEach((r, i) => {
    const next = rows[i + 1];
    if (next) {
      // The joint between this bar and the next one.
      svg.appendChild(s('polygon', {
        class: `f-bar--${next.step}`, opacity: '0.18',
        points: [
          [centre - r.width / 2, r.y + ROW_H], [centre + r.width / 2, r.y + ROW_H],
          [centre + next.width / 2, next.y], [centre - next.width / 2, next.y],
        ].map((p) => p.join(',')).join(' '),
      }));
    }
    const g = s('g', { 'data-step': r.step });
    g.appendChild(s('rect', { class: 'f-track', x: LABEL_W, y: r.y, width: barArea, height: ROW_H, rx: 4 }));
    g.appendChild(s('rect', { class: `f-bar--${r.step}`, x: centre - r.width / 2, y: r.y, width: r.width, height: ROW_H, rx: 4 }));
    g.appendChild(s('text', { class: 'f-label', x: 0, y: r.y + ROW_H / 2, 'dominant-baseline': 'middle' }, t(`stat.${r.step}`)));
    g.appendChild(s('text', {
      class: 'f-value', x: WIDTH, y: r.y + ROW_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle',
    }, valueText(r)));
    svg.appendChild(g);
  });
  return svg;
}
