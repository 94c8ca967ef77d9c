// The campaign funnel (配信件数 → メール送信 → メール開封 → リンククリック →
// データ送信) drawn as SVG: centred bars whose width is the count relative to
// the number of targets, joined by soft trapezoids.

import { s } from './dom.js';
import { t } from './i18n.js';
import { formatCount, formatRate } from './dom.js';

const STEPS = ['targets', 'sent', 'opened', 'clicked', 'submitted'];
const WIDTH = 720;
const LABEL_W = 130;
const VALUE_W = 130;
const ROW_H = 26;
const GAP = 10;

export function funnel(counts) {
  const c = counts || {};
  const total = Math.max(Number(c.targets) || 0, 1);
  const barArea = WIDTH - LABEL_W - VALUE_W;
  const centre = LABEL_W + barArea / 2;
  const height = STEPS.length * (ROW_H + GAP) - GAP;
  const rows = STEPS.map((step, i) => {
    const n = Number(c[step]) || 0;
    const w = Math.max((n / total) * barArea, n > 0 ? 3 : 0);
    return { step, n, w, y: i * (ROW_H + GAP) };
  });
  const svg = s('svg', {
    class: 'funnel', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': t('campaign.funnel'),
    preserveAspectRatio: 'xMidYMid meet',
  });
  rows.forEach((r, i) => {
    const next = rows[i + 1];
    if (next) {
      // The joint between this bar and the next one.
      svg.appendChild(s('polygon', {
        class: `f-bar--${next.step}`, opacity: '0.18',
        points: [
          [centre - r.w / 2, r.y + ROW_H], [centre + r.w / 2, r.y + ROW_H],
          [centre + next.w / 2, next.y], [centre - next.w / 2, next.y],
        ].map((p) => p.join(',')).join(' '),
      }));
    }
    svg.appendChild(s('rect', { class: 'f-track', x: LABEL_W, y: r.y, width: barArea, height: ROW_H, rx: 4 }));
    svg.appendChild(s('rect', { class: `f-bar--${r.step}`, x: centre - r.w / 2, y: r.y, width: r.w, height: ROW_H, rx: 4 }));
    svg.appendChild(s('text', { class: 'f-label', x: 0, y: r.y + ROW_H / 2, 'dominant-baseline': 'middle' }, t(`stat.${r.step}`)));
    const rate = r.step === 'targets' ? '' : ` (${formatRate(r.n / total)})`;
    svg.appendChild(s('text', {
      class: 'f-value', x: WIDTH, y: r.y + ROW_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle',
    }, `${formatCount(r.n)}${rate}`));
  });
  return svg;
}
