// Browser test of idempotency keys (issue 11, docs/API.md "Idempotency keys")
// as a trainer meets them: a double click on 作成 makes one list; when the
// answer to 作成 is lost on the way (the server made the list, the browser
// saw a network error) pressing 作成 again shows the list that was made
// instead of making a second one; two identical creations at once from the
// console's own API module make one object.  The server and browser come
// from server.mjs (see there for KUNREN_BIN).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { server, useServerAndBrowser, withPage, login, goTo, apiOk } from './server.mjs';

useServerAndBrowser();

const apiKey = () => /API key:\s+(\S+)/.exec(server.log)[1];

async function listsNamed(name) {
  const page = await apiOk(apiKey(), 'GET', '/lists?limit=500');
  return page.items.filter((l) => l.name === name);
}

test('作成 をダブルクリックしてもリストは 1 つだけ作られる', async () => {
  await withPage('idempotency-double-click', async ({ page }) => {
    await login(page);
    await goTo(page, '配信リスト');
    const posts = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/lists')) posts.push(r.headers()['idempotency-key']);
    });
    await page.getByLabel('リスト名').fill('ダブルクリックのリスト');
    await page.getByRole('button', { name: '作成', exact: true }).dblclick();
    await page.waitForURL(/#\/lists\/[^/?]+$/);
    await page.getByRole('heading', { level: 1, name: 'ダブルクリックのリスト' }).waitFor();
    assert.ok(posts.length >= 1 && posts.every((k) => /^[0-9a-f]{32}$/.test(k)), `keys sent: ${posts}`);
    assert.equal(new Set(posts).size, 1, 'every POST of the double click carries the same key');

    await goTo(page, '配信リスト');
    await page.locator('#lists a.list-link', { hasText: 'ダブルクリックのリスト' }).first().waitFor();
    assert.equal(await page.locator('#lists a.list-link', { hasText: 'ダブルクリックのリスト' }).count(), 1);
    assert.equal((await listsNamed('ダブルクリックのリスト')).length, 1);
  });
});

test('作成の応答が届かなくても、もう一度押すと同じリストが開く', async () => {
  await withPage('idempotency-lost-answer', async ({ page }) => {
    await login(page);
    await goTo(page, '配信リスト');
    const seen = [];
    // The first answer is lost on the way back: the server has made the
    // list, the browser sees the connection reset.
    await page.route('**/api/v1/lists', async (route) => {
      const req = route.request();
      if (req.method() !== 'POST') return route.continue();
      const key = req.headers()['idempotency-key'];
      const answer = await route.fetch();
      seen.push({ key, status: answer.status(), replayed: answer.headers()['idempotency-replayed'] || null,
        body: await answer.text() });
      if (seen.length === 1) return route.abort('connectionreset');
      return route.fulfill({ response: answer });
    });

    await page.getByLabel('リスト名').fill('応答が届かなかったリスト');
    await page.getByRole('button', { name: '作成', exact: true }).click();
    // The person sees the network error, and the list is made already.
    await page.getByRole('alert').filter({ hasText: 'サーバーに接続できません' }).waitFor();
    assert.equal((await listsNamed('応答が届かなかったリスト')).length, 1);

    // Trying again: the same request, the same key, the first answer.
    await page.getByRole('button', { name: '作成', exact: true }).click();
    await page.waitForURL(/#\/lists\/[^/?]+$/);
    await page.getByRole('heading', { level: 1, name: '応答が届かなかったリスト' }).waitFor();
    assert.equal(seen.length, 2, JSON.stringify(seen));
    assert.equal(seen[0].status, 201);
    assert.equal(seen[1].status, 201);
    assert.equal(seen[1].key, seen[0].key, 'the retry reuses the key');
    assert.equal(seen[0].replayed, null);
    assert.equal(seen[1].replayed, 'true');
    assert.equal(seen[1].body, seen[0].body, 'the retry gets the first answer');
    const made = await listsNamed('応答が届かなかったリスト');
    assert.equal(made.length, 1, 'one list, not two');
    assert.ok(page.url().endsWith(`#/lists/${made[0].id}`), page.url());

    // Making a list of the same name again on purpose later is a new request.
    await page.unroute('**/api/v1/lists');
    await goTo(page, '配信リスト');
    await page.getByLabel('リスト名').fill('応答が届かなかったリスト');
    await page.getByRole('button', { name: '作成', exact: true }).click();
    await page.waitForURL((u) => /#\/lists\/[^/?]+$/.test(u.hash) && !u.hash.endsWith(`/${made[0].id}`));
    assert.equal((await listsNamed('応答が届かなかったリスト')).length, 2);
  });
});

test('同じ作成を同時に 2 回送っても 1 つだけ作られる', async () => {
  await withPage('idempotency-concurrent', async ({ page }) => {
    await login(page);
    // The console's own API module (the page's instance: its session and CSRF token).
    const ids = await page.evaluate(async () => {
      const { api } = await import('/js/api.js');
      const body = { name: '同時に作ったリスト' };
      const [a, b] = await Promise.all([api.post('/lists', body), api.post('/lists', body)]);
      return [a.id, b.id];
    });
    assert.equal(ids[0], ids[1], 'both calls answer with the same list');
    const made = await listsNamed('同時に作ったリスト');
    assert.deepEqual(made.map((l) => l.id), [ids[0]]);
  });
});
