// Unit tests of the console's pure functions, imported straight from web/js
// (no server, no browser): time and rate formatting, the hash router, the
// <base target="_blank"> insertion used for mails in the Outbox, the CSV the
// browser makes, and the recipients view's paging state.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime, formatRate, formatCount, fullName } from '../../web/js/dom.js';
import { parseHash, matchRoute } from '../../web/js/router.js';
import { withBaseTarget } from '../../web/js/pages/outbox.js';
import { csvCell, toCsv, csvBlob } from '../../web/js/csv.js';
import { sortProblems, problemRows } from '../../web/js/pages/list-import.js';
import { viewState, viewQuery, pageRange, pageCount } from '../../web/js/pages/list-recipients.js';
import { isScriptUrl, neutralizeHandlers } from '../../web/js/html-editor.js';
import { detailField } from '../../web/js/pages/scenario-editor.js';

test('formatTime keeps the wall-clock time the API gives', () => {
  assert.equal(formatTime('2026-11-27T21:45:00+09:00'), '2026/11/27 21:45');
  assert.equal(formatTime('2026-01-02T03:04:59Z'), '2026/01/02 03:04');
  assert.equal(formatTime('Sat, 28 Nov 2026 06:59:02 +0900'), '2026/11/28 06:59');
  assert.equal(formatTime('1 Feb 2027 09:05:00 +0000'), '2027/02/01 09:05');
  assert.equal(formatTime(''), '');
  assert.equal(formatTime(null), '');
  assert.equal(formatTime('yesterday'), 'yesterday');
});

test('formatRate shows one decimal at most', () => {
  assert.equal(formatRate(0), '0%');
  assert.equal(formatRate(1), '100%');
  assert.equal(formatRate(1 / 3), '33.3%');
  assert.equal(formatRate(0.125), '12.5%');
  assert.equal(formatRate(undefined), '0%');
  assert.equal(formatCount(12345), '12,345');
  assert.equal(fullName({ last_name: '山田', first_name: '太郎' }), '山田 太郎');
  assert.equal(fullName({ last_name: '', first_name: '太郎' }), '太郎');
});

test('the router parses hashes and matches patterns', () => {
  assert.deepEqual(parseHash(''), { path: '/', query: {} });
  assert.deepEqual(parseHash('#/campaigns/new?scenario=3'), { path: '/campaigns/new', query: { scenario: '3' } });
  const routes = [{ path: '/campaigns/new' }, { path: '/campaigns/:id' }, { path: '/lists' }];
  assert.equal(matchRoute(routes, '/campaigns/new').route, routes[0]);
  const m = matchRoute(routes, '/campaigns/42');
  assert.equal(m.route, routes[1]);
  assert.deepEqual(m.params, { id: '42' });
  assert.equal(matchRoute(routes, '/lists/').route, routes[2]);
  assert.equal(matchRoute(routes, '/nope'), null);
});

test('withBaseTarget puts <base target="_blank"> first in the head', () => {
  const base = '<base target="_blank">';
  assert.equal(withBaseTarget('<html><head><title>x</title></head><body>b</body></html>'),
    `<html><head>${base}<title>x</title></head><body>b</body></html>`);
  assert.equal(withBaseTarget('<HTML lang="ja"><HEAD lang="ja"><meta charset="utf-8"></HEAD></HTML>'),
    `<HTML lang="ja"><HEAD lang="ja">${base}<meta charset="utf-8"></HEAD></HTML>`);
  assert.equal(withBaseTarget('<html lang="ja"><body>b</body></html>'),
    `<html lang="ja"><head>${base}</head><body>b</body></html>`);
  const bare = withBaseTarget('<p>hello</p>');
  assert.ok(bare.includes(`<head><meta charset="utf-8">${base}</head>`));
  assert.ok(bare.includes('<body><p>hello</p></body>'));
  // <header> is not <head>.
  assert.ok(withBaseTarget('<header>h</header>').includes(`${base}</head><body><header>h</header>`));
});

test('toCsv quotes like RFC 4180, ends rows with CRLF and defuses formulas', async () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell(3), '3');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(undefined), '');
  assert.equal(toCsv([['行', '値'], [3, '㈱①～']]), '行,値\r\n3,㈱①～\r\n');
  const bytes = new Uint8Array(await csvBlob([['姓']]).arrayBuffer());
  assert.deepEqual([...bytes], [0xef, 0xbb, 0xbf, ...Buffer.from('姓\r\n')]);
});

test('import problems sort by line or column, stably, either way', () => {
  const p = [
    { line: 4, column: 'テスト対象', value: '2' },
    { line: 3, column: 'メールアドレス', value: 'a@@b' },
    { line: 3, column: '姓', value: 'x' },
    { line: 10, column: 'メールアドレス', value: '' },
  ];
  const key = (list) => list.map((x) => `${x.line}:${x.column}`);
  assert.deepEqual(key(sortProblems(p, 'line', 'asc')), ['3:メールアドレス', '3:姓', '4:テスト対象', '10:メールアドレス']);
  assert.deepEqual(key(sortProblems(p, 'line', 'desc')), ['10:メールアドレス', '4:テスト対象', '3:姓', '3:メールアドレス']);
  assert.deepEqual(key(sortProblems(p, 'column', 'asc')).map((k) => k.split(':')[1]),
    [...p.map((x) => x.column)].sort((a, b) => a.localeCompare(b, 'ja')));
  assert.equal(p[0].line, 4, 'the input is not changed');
  const rows = problemRows([{ line: 3, column: 'メールアドレス', value: 'a@@b', code: 'none', reason: 'bad' }]);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[1], [3, 'メールアドレス', 'a@@b', 'bad']);
});

test('the recipients view state comes from the URL with defaults and bounds', () => {
  assert.deepEqual(viewState({}), { q: '', sort: 'id', order: 'asc', size: 100, page: 1 });
  assert.deepEqual(viewState({ q: '山田', sort: 'department', order: 'desc', size: '500', page: '3' }),
    { q: '山田', sort: 'department', order: 'desc', size: 500, page: 3 });
  // Unknown columns, sizes and pages fall back.
  assert.deepEqual(viewState({ sort: 'password', order: 'up', size: '7', page: '-2' }),
    { q: '', sort: 'id', order: 'asc', size: 100, page: 1 });
  assert.deepEqual(viewQuery(viewState({})), {});
  assert.deepEqual(viewQuery({ q: 'x', sort: 'email', order: 'desc', size: 50, page: 2 }),
    { q: 'x', sort: 'email', order: 'desc', size: '50', page: '2' });
  assert.deepEqual(pageRange(1, 100, 100000), { from: 1, to: 100 });
  assert.deepEqual(pageRange(3, 100, 250), { from: 201, to: 250 });
  assert.deepEqual(pageRange(1, 50, 0), { from: 0, to: 0 });
  assert.equal(pageCount(100, 250), 3);
  assert.equal(pageCount(100, 100000), 1000);
  assert.equal(pageCount(50, 0), 1);
});

test('the HTML editor recognises URLs that would run script', () => {
  assert.equal(isScriptUrl('javascript:alert(1)'), true);
  assert.equal(isScriptUrl(' JavaScript:alert(1)'), true);
  assert.equal(isScriptUrl('java\tscript:alert(1)'), true);
  assert.equal(isScriptUrl('vbscript:msgbox'), true);
  assert.equal(isScriptUrl('data:text/html,<script>1</script>'), true);
  assert.equal(isScriptUrl('{{URL}}'), false);
  assert.equal(isScriptUrl('https://example.jp/javascript:'), false);
  assert.equal(isScriptUrl(''), false);
});

test('inline handlers are renamed inside tags only, before parsing', () => {
  assert.equal(neutralizeHandlers('<p id="e" onclick="x()">onclick=text</p>'),
    '<p id="e" data-kunren-onclick="x()">onclick=text</p>');
  assert.equal(neutralizeHandlers('<img/onerror=alert(1) src=x><a title="x"ONMOUSEOVER=1>'),
    '<img/data-kunren-onerror=alert(1) src=x><a title="x"data-kunren-ONMOUSEOVER=1>');
  assert.equal(neutralizeHandlers('<a href="{{URL}}" data-on="1">{{姓}}</a>'), '<a href="{{URL}}" data-on="1">{{姓}}</a>');
  assert.equal(neutralizeHandlers(null), '');
});

test('an API error detail is shown at its form field', () => {
  assert.equal(detailField('html'), 'html');
  assert.equal(detailField('red_flags[2].text'), 'red_flags');
  assert.equal(detailField('red_flags.1'), 'red_flags');
  assert.equal(detailField(undefined), '');
});

test('#/scenarios/new and #/scenarios/12 reach the scenario editor', () => {
  const routes = [{ path: '/scenarios/:id', page: 'editor' }];
  assert.deepEqual(matchRoute(routes, '/scenarios/new').params, { id: 'new' });
  assert.deepEqual(matchRoute(routes, '/scenarios/12').params, { id: '12' });
});
