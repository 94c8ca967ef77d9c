// Unit tests of the results pieces' pure functions, imported straight from
// web/js (no server, no browser): chart ticks and positions, timeline buckets
// in the tenant's wall-clock time, funnel rates, breakdown sorting, the
// target search and paging scan, the share answer's shapes, durations, share
// link hours and states, and the across-campaigns choice.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  niceTicks, xAt, yAt, labelIndexes, isoOffsetMinutes, bucketLabel, timelineBuckets,
} from '../../web/js/chart.js';
import { funnelRows } from '../../web/js/funnel.js';
import {
  statRate, sortBreakdown, groupRate, matchesTarget, scanTargets, normalizeShare, formatDuration, excludeParam,
} from '../../web/js/results.js';
import { parseHours, shareState, absoluteUrl } from '../../web/js/pages/campaign-shares.js';
import { launchedCampaigns, initialChoice, shortName } from '../../web/js/pages/trends.js';
import { readToken, shareUrl, retryMinutes } from '../../web/js/share.js';
import { initI18n } from '../../web/js/i18n.js';

const web = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

before(async () => {
  // i18n.js fetches /i18n/<lang>.json and sets <html lang>: serve it from the checkout.
  globalThis.document = { documentElement: {} };
  globalThis.fetch = async (url) => ({
    ok: true, json: async () => JSON.parse(readFileSync(join(web, String(url)), 'utf8')),
  });
  await initI18n();
});

test('niceTicks gives round steps that cover the maximum', () => {
  assert.deepEqual(niceTicks(3, 4, { integer: true }).ticks, [0, 1, 2, 3]);
  assert.deepEqual(niceTicks(0, 4, { integer: true }).ticks, [0, 1]);
  assert.deepEqual(niceTicks(97, 4, { integer: true }).ticks, [0, 25, 50, 75, 100]);
  assert.deepEqual(niceTicks(9, 4, { integer: true }).ticks, [0, 5, 10]);
  const r = niceTicks(0.333, 4);
  assert.equal(r.step, 0.1);
  assert.deepEqual(r.ticks, [0, 0.1, 0.2, 0.3, 0.4]);
  assert.equal(niceTicks(1, 4).max, 1);
  for (const max of [1, 7, 12, 55, 1234, 0.05]) {
    const t = niceTicks(max, 4, { integer: max >= 1 });
    assert.ok(t.max >= max, `${max} covered by ${t.max}`);
    assert.ok(t.ticks.length <= 7, `${max}: ${t.ticks}`);
  }
});

test('positions: a single category is centred, values map bottom to top', () => {
  assert.equal(xAt(0, 1, 0, 100), 50);
  assert.equal(xAt(0, 3, 10, 100), 10);
  assert.equal(xAt(2, 3, 10, 100), 110);
  assert.equal(yAt(0, 10, 0, 200), 200);
  assert.equal(yAt(10, 10, 0, 200), 0);
  assert.equal(yAt(20, 10, 0, 200), 0, 'clamped');
  assert.deepEqual(labelIndexes(5, 8), [0, 1, 2, 3, 4]);
  const many = labelIndexes(100, 8);
  assert.ok(many.length <= 9 && many[0] === 0 && many[many.length - 1] === 99, String(many));
});

test('timeline buckets keep the tenant wall-clock time and fill the gaps', () => {
  assert.equal(isoOffsetMinutes('2026-11-27T21:00:00+09:00'), 540);
  assert.equal(isoOffsetMinutes('2026-11-27T21:00:00-05:30'), -330);
  assert.equal(isoOffsetMinutes('2026-11-27T21:00:00Z'), 0);
  const ms = Date.parse('2026-11-27T21:00:00+09:00');
  assert.deepEqual(bucketLabel(ms, 540, 3600), { lines: ['11/27', '21:00'], title: '2026/11/27 21:00' });
  assert.deepEqual(bucketLabel(ms, 540, 86400), { lines: ['11/27'], title: '2026/11/27' });

  const b = timelineBuckets({
    bucket_seconds: 3600,
    items: [
      { at: '2026-11-28T00:00:00+09:00', opened: 2 },
      { at: '2026-11-27T22:00:00+09:00', sent: 5, opened: 1 },
    ],
  });
  assert.deepEqual(b.map((x) => x.label.title), ['2026/11/27 22:00', '2026/11/27 23:00', '2026/11/28 00:00']);
  assert.deepEqual(b.map((x) => x.counts.opened), [1, 0, 2]);
  assert.equal(b[0].counts.sent, 5);
  assert.equal(b[1].counts.clicked, 0);
  assert.deepEqual(timelineBuckets({ bucket_seconds: 3600, items: [] }), []);
  assert.deepEqual(timelineBuckets(null), []);
});

test('funnel rates: sent of targets, reactions of sent', () => {
  const rows = funnelRows({ targets: 10, sent: 8, opened: 4, clicked: 2, submitted: 1 }, 100);
  assert.deepEqual(rows.map((r) => r.step), ['targets', 'sent', 'opened', 'clicked', 'submitted']);
  assert.equal(rows[0].rate, null);
  assert.equal(rows[1].rate, 0.8);
  assert.equal(rows[2].rate, 0.5);
  assert.equal(rows[4].rate, 1 / 8);
  assert.equal(rows[1].width, 80);
  assert.equal(funnelRows({ targets: 100000, sent: 100000, submitted: 1 }, 100)[4].width, 3, 'a non-zero step stays visible');
  assert.equal(funnelRows({}, 100)[2].rate, 0);
});

test('stat rates follow the API and fall back to counts', () => {
  const c = { counts: { targets: 4, sent: 2, opened: 1, reported: 1 }, rates: { opened: 0.5 } };
  assert.equal(statRate('targets', c), '');
  assert.equal(statRate('sent', c), '50%');
  assert.equal(statRate('opened', c), '50%');
  assert.equal(statRate('reported', c), '50%');
  assert.equal(statRate('clicked', { counts: {} }), '0%');
  assert.equal(excludeParam(true), 'on');
  assert.equal(excludeParam(false), 'off');
});

test('breakdown rows sort by name, count or rate, stably', () => {
  const items = [
    { value: '営業部', targets: 10, sent: 10, clicked: 2 },
    { value: '総務部', targets: 2, sent: 2, clicked: 1 },
    { value: '開発部', targets: 10, sent: 10, clicked: 2 },
    { value: '', targets: 1, sent: 0, clicked: 0 },
  ];
  assert.equal(groupRate(items[1], 'clicked'), 0.5);
  assert.equal(groupRate(items[3], 'clicked'), 0);
  const names = (rows) => rows.map((r) => r.value);
  assert.deepEqual(names(sortBreakdown(items, 'clicked', 'desc', 'rate')), ['総務部', '営業部', '開発部', '']);
  assert.deepEqual(names(sortBreakdown(items, 'clicked', 'desc', 'count')), ['営業部', '開発部', '総務部', '']);
  assert.deepEqual(names(sortBreakdown(items, 'targets', 'asc')), ['', '総務部', '営業部', '開発部']);
  assert.deepEqual(names(sortBreakdown(items, 'value', 'asc')), [...names(items)].sort((a, b) => a.localeCompare(b, 'ja')));
  assert.equal(items[0].value, '営業部', 'the input is not changed');
});

test('target search matches names, addresses and groups, ignoring case', () => {
  const t = { email: 'Taro.Yamada@example.jp', last_name: '山田', first_name: '太郎', department: '営業部', position: '課長', field1: 'Tokyo' };
  for (const q of ['', 'taro', 'EXAMPLE', '山田 太郎', '山田太郎', '営業', '課長', 'tokyo']) assert.ok(matchesTarget(t, q), q);
  for (const q of ['hanako', '総務']) assert.ok(!matchesTarget(t, q), q);
});

test('scanTargets fills a page across server pages, with or without server-side search', async () => {
  const all = Array.from({ length: 12 }, (_, i) => ({ id: i + 1, email: i % 3 === 0 ? `match${i}@x.jp` : `other${i}@x.jp` }));
  const calls = [];
  // A server that ignores q and pages by 4.
  const ignoring = async (after) => {
    calls.push(after);
    const rest = all.filter((x) => x.id > (after ?? 0));
    const items = rest.slice(0, 4);
    return { items, next_after: rest.length > 4 ? items[items.length - 1].id : null };
  };
  const p1 = await scanTargets(ignoring, { q: 'match', size: 2 });
  assert.deepEqual(p1.items.map((x) => x.id), [1, 4]);
  assert.equal(p1.next, 4);
  const p2 = await scanTargets(ignoring, { q: 'match', size: 2, after: p1.next });
  assert.deepEqual(p2.items.map((x) => x.id), [7, 10]);
  const p3 = await scanTargets(ignoring, { q: 'match', size: 2, after: p2.next });
  assert.deepEqual(p3.items, []);
  assert.equal(p3.next, null);
  // Without a search it is one request per page.
  calls.length = 0;
  const plain = await scanTargets(ignoring, { q: '', size: 4 });
  assert.deepEqual(plain.items.map((x) => x.id), [1, 2, 3, 4]);
  assert.equal(plain.next, 4);
  assert.equal(calls.length, 1);
  // The last page of a server that filters itself ends the paging.
  const filtering = async () => ({ items: all.filter((x) => x.email.startsWith('match')), next_after: null });
  const f = await scanTargets(filtering, { q: 'match', size: 10 });
  assert.equal(f.items.length, 4);
  assert.equal(f.next, null);
  // The request cap: more may follow.
  const capped = await scanTargets(ignoring, { q: 'nothing', size: 2, maxRequests: 2 });
  assert.deepEqual(capped, { items: [], next: 8 });
});

test('normalizeShare reads the share answer in the shapes it may have', () => {
  const counts = { targets: 3, sent: 3, opened: 1 };
  const items = [{ value: '営業部', targets: 3 }];
  const a = normalizeShare({
    campaign: { name: 'A', counts, exclusion_seconds: 60 },
    breakdowns: { department: { by: 'department', items }, position: [] },
    timeline: { bucket_seconds: 3600, items: [{ at: '2026-11-27T21:00:00+09:00', sent: 3 }] },
  });
  assert.equal(a.campaign.name, 'A');
  assert.deepEqual(a.breakdowns.department, items);
  assert.deepEqual(a.breakdowns.position, []);
  assert.equal(a.timeline.items.length, 1);
  assert.equal(normalizeShare({ tenant_name: 'デモ株式会社', campaign: { name: 'A' } }).tenant, 'デモ株式会社');
  const b = normalizeShare({ name: 'B', counts, breakdowns: [{ by: 'department', items }, { by: 'bogus', items }], timeline: [] });
  assert.equal(b.campaign.name, 'B');
  assert.deepEqual(Object.keys(b.breakdowns), ['department']);
  assert.deepEqual(b.timeline.items, []);
  const c = normalizeShare({ summary: { name: 'C' }, counts, rates: { opened: 1 / 3 } });
  assert.equal(c.campaign.name, 'C');
  assert.deepEqual(c.campaign.counts, counts);
  assert.deepEqual(normalizeShare(null).breakdowns, {});
});

test('durations in words, in Japanese', () => {
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(undefined), '—');
  assert.equal(formatDuration(45), '45 秒');
  assert.equal(formatDuration(754), '12 分');
  assert.equal(formatDuration(3 * 3600 + 5 * 60 + 9), '3 時間 5 分');
  assert.equal(formatDuration(2 * 86400 + 4 * 3600), '2 日 4 時間');
});

test('share link hours and states', () => {
  assert.equal(parseHours('1'), 1);
  assert.equal(parseHours(' 8760 '), 8760);
  for (const bad of ['0', '8761', '1.5', '-1', '', 'abc', null]) assert.equal(parseHours(bad), null, String(bad));
  const now = Date.parse('2026-11-27T12:00:00+09:00');
  assert.equal(shareState({ expires_at: '2026-11-27T13:00:00+09:00' }, now), 'active');
  assert.equal(shareState({ expires_at: '2026-11-27T11:59:00+09:00' }, now), 'expired');
  assert.equal(shareState({ expires_at: '2026-11-27T13:00:00+09:00', revoked: true }, now), 'revoked');
  // The API may give the link as a path of the console.
  assert.equal(absoluteUrl('/share.html#tok', 'http://127.0.0.1:8080/#/campaigns/1'), 'http://127.0.0.1:8080/share.html#tok');
  assert.equal(absoluteUrl('https://kunren.example/share.html#tok', 'http://127.0.0.1:8080/'), 'https://kunren.example/share.html#tok');
});

test('the share page reads its token and builds only /api/v1/share/ URLs', () => {
  assert.equal(readToken('#abc_DEF-123'), 'abc_DEF-123');
  assert.equal(readToken('#a%2Fb'), 'a/b');
  assert.equal(readToken(''), '');
  assert.equal(shareUrl('tok'), '/api/v1/share/tok');
  assert.equal(shareUrl('a/b', 'results.csv', { encoding: 'cp932', password: 'p&w d' }),
    '/api/v1/share/a%2Fb/results.csv?encoding=cp932&password=p%26w+d');
  assert.equal(shareUrl('tok', 'report.xlsx', { password: '' }), '/api/v1/share/tok/report.xlsx');
  assert.equal(retryMinutes('900'), 15);
  assert.equal(retryMinutes('30'), 1);
  assert.equal(retryMinutes(null), null);
});

test('across campaigns: launched ones oldest first, the choice from the URL or the newest', () => {
  const cs = launchedCampaigns([
    { id: 3, state: 'running', launched_at: '2026-11-03T09:00:00+09:00' },
    { id: 1, state: 'draft', launched_at: null },
    { id: 2, state: 'finished', launched_at: '2026-10-01T09:00:00+09:00' },
    { id: 4, state: 'finished', launched_at: '2026-11-20T09:00:00+09:00' },
  ]);
  assert.deepEqual(cs.map((c) => c.id), [2, 3, 4]);
  assert.deepEqual(initialChoice({ c: '4,1,x,2' }, cs), ['4', '2']);
  assert.deepEqual(initialChoice({}, cs, 2), ['3', '4']);
  assert.equal(shortName('2026年度 第1回 パスワード期限切れ訓練', 8), '2026年度 …');
  assert.equal(shortName('短い', 8), '短い');
});
