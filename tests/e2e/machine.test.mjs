// Browser test of machine events (issue 7, SPEC F6). A person in Chromium
// opens the mail's HTML (the beacon loads), clicks its first link and sends
// the landing page's form: no event of theirs is a machine's, and the
// browser never requests the hidden link. Gmail's image proxy loads another
// target's beacon: a machine event with the reason scanner_ua. In the
// console the proxy's open is greyed in the target's history with its
// reason in Japanese, and the exclusion switch changes the opened tile.
// The server and browser come from server.mjs (see there for KUNREN_BIN).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { server, useServerAndBrowser, withPage, login, PERSON_UA, apiOk, waitFor } from './server.mjs';

useServerAndBrowser();

const GMAIL_UA = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';
const PEOPLE = [
  { last: '山田', first: '太郎', email: 'taro.yamada@example.jp', dept: '営業部' },
  { last: '佐藤', first: '花子', email: 'hanako.sato@example.jp', dept: '総務部' },
];
const NAME = 'e2e 機械判定';

let apiKey = '';
const ok = (method, path, body, want = 200) => apiOk(apiKey, method, path, body, want);


const drill = { campaign: null, mails: {} };

async function targets(exclude = 'off') {
  const r = await ok('GET', `/campaigns/${drill.campaign.id}/targets?exclude=${exclude}`);
  return Object.fromEntries(r.items.map((t) => [t.email, t]));
}

const reactions = (t) => t.events.filter((e) => !['sent', 'send_error'].includes(e.kind));

before(async () => {
  await waitFor('the server', () => /^Ready\.$/m.test(server.log) && server.consoleUrl, 60_000);
  apiKey = /API key:\s+(\S+)/.exec(server.log)[1];
  const list = await ok('POST', '/lists', { name: 'e2e 機械判定の対象者' }, 201);
  const csv = ['姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象',
    ...PEOPLE.map((p) => `${p.last},${p.first},${p.email},${p.dept},,,,,`), ''].join('\r\n');
  await ok('POST', `/lists/${list.id}/import`, csv);
  const scenario = await ok('POST', '/scenarios', { gallery_id: 'ja-password-expiry' }, 201);
  const c = await ok('POST', '/campaigns', {
    name: NAME, scenario_id: scenario.id, list_ids: [list.id], test_only: false, exclusion_seconds: 0,
    sender: { name: '情報システム部', local: 'it', domain: 'example.net' },
  }, 201);
  await ok('POST', `/campaigns/${c.id}/launch`, {});
  await waitFor('running', async () => (await ok('GET', `/campaigns/${c.id}`)).state === 'running');
  const items = await waitFor('mails', async () => {
    const l = (await ok('GET', '/outbox')).items || [];
    return l.length >= PEOPLE.length ? l : null;
  });
  for (const item of items) {
    const m = await ok('GET', `/outbox/${item.id}`);
    const p = PEOPLE.find((x) => String(m.to).includes(x.email));
    if (p) drill.mails[p.email] = m.html;
  }
  drill.campaign = c;
});

test('a person in Chromium opens, clicks and submits: no machine event, the hidden link untouched', { timeout: 90_000 }, async () => {
  await withPage('machine-person', async ({ page }) => {
    // the browser says what a person's Chrome says (server.mjs: --user-agent)
    assert.equal(await page.evaluate(() => navigator.userAgent), PERSON_UA);
    const html = drill.mails['taro.yamada@example.jp'];
    assert.match(html, /\?l=0\.\d+" style="display:none" aria-hidden="true" tabindex="-1"><\/a>/, 'the hidden link');
    const requested = [];
    page.on('request', (r) => requested.push(r.url()));
    const beacon = page.waitForResponse((r) => r.url().includes('/o/'));
    await page.setContent(html);
    await beacon;
    // the mail's link opens in this page (mail clients open a tab; the same request)
    await page.evaluate(() => document.querySelectorAll('a[target]').forEach((a) => a.removeAttribute('target')));
    const link = page.locator(`a[href^="${server.trackerUrl}"][href*="l=1."]`).first();
    assert.ok(await link.isVisible(), 'the first link is visible');
    assert.equal(await page.locator(`a[href*="l=0."]`).isVisible(), false, 'the hidden link is not');
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/c/')), link.click()]);
    const form = page.locator('form').first();
    await form.waitFor();
    const inputs = form.locator('input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=checkbox]):not([type=radio])');
    for (let i = 0; i < await inputs.count(); i += 1) await inputs.nth(i).fill(`e2e-${i}`);
    const submit = form.locator('[type=submit]');
    if (await submit.count()) await submit.first().click();
    else await form.evaluate((f) => f.requestSubmit());
    await page.waitForURL((u) => u.pathname.startsWith('/e/'));
    assert.ok(!requested.some((u) => /[?&]l=0\./.test(u)), `the browser requested the hidden link: ${requested}`);

    const t = await waitFor('the person\'s events', async () => {
      const all = await targets();
      const ev = reactions(all['taro.yamada@example.jp']);
      return ev.some((e) => e.kind === 'submitted') ? ev : null;
    });
    assert.deepEqual([...new Set(t.map((e) => e.kind))], ['opened', 'clicked', 'submitted']);
    for (const e of t) assert.deepEqual([e.machine, e.reasons, e.counted], [false, [], true], JSON.stringify(e));
  });
});

test('the image proxy\'s open is greyed with its reason, and the switch changes the tile', { timeout: 90_000 }, async () => {
  const open = /src="([^"]*\/o\/[A-Za-z0-9_-]+\.gif)"/.exec(drill.mails['hanako.sato@example.jp'])[1];
  const res = await fetch(open.replace(/&amp;/g, '&'), { headers: { 'User-Agent': GMAIL_UA } });
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  const proxy = reactions((await targets())['hanako.sato@example.jp']);
  assert.deepEqual(proxy.map((e) => [e.kind, e.machine, e.reasons]), [['opened', true, ['scanner_ua']]]);
  const on = await ok('GET', `/campaigns/${drill.campaign.id}?exclude=on`);
  const off = await ok('GET', `/campaigns/${drill.campaign.id}?exclude=off`);
  assert.deepEqual([on.counts.opened, off.counts.opened], [1, 2]);

  await withPage('machine-console', async ({ page }) => {
    await login(page);
    await page.goto(`${server.consoleUrl}#/campaigns/${drill.campaign.id}`);
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor();
    const tile = (v) => page.waitForFunction((want) => {
      const el = document.querySelector('#stats [data-stat="opened"] .stat-value');
      return el && el.textContent.trim() === want;
    }, String(v), { timeout: 15_000, polling: 200 });
    await tile(1);
    const hanako = page.locator('#targets-table tbody tr[data-email="hanako.sato@example.jp"]');
    await hanako.locator('button.expander').click();
    const row = page.locator('#targets-table tr.detail-row:not([hidden]) tr[data-kind="opened"][data-machine="true"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-reasons'), 'scanner_ua');
    assert.match(await row.getAttribute('class'), /is-machine/, 'greyed');
    assert.match(await row.innerText(), /機械判定/);
    assert.match(await row.innerText(), /メールスキャナー・画像プロキシのユーザーエージェント/);
    // Taro's events are a person's: no badge
    const taro = page.locator('#targets-table tbody tr[data-email="taro.yamada@example.jp"]');
    await taro.locator('button.expander').click();
    await page.locator('#targets-table tr.detail-row:not([hidden]) tr[data-kind="submitted"]').first().waitFor();
    assert.equal(await page.locator('#targets-table tr.detail-row:not([hidden]) tr[data-machine="true"]').count(), 1);

    const sw = page.getByRole('switch', { name: 'メールチェックシステム除外' });
    await sw.click();
    await tile(2);
    await sw.click();
    await tile(1);
  });
});
