// Unit tests of the console's pure functions, imported straight from web/js
// (no server, no browser): time and rate formatting, the hash router, and
// the <base target="_blank"> insertion used for mails in the Outbox.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime, formatRate, formatCount, fullName } from '../../web/js/dom.js';
import { parseHash, matchRoute } from '../../web/js/router.js';
import { withBaseTarget } from '../../web/js/pages/outbox.js';

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
