// Browser test of the results a manager reads (issue 8): two drills run
// through the API — campaign A (no exclusion time) and campaign B
// (exclusion_seconds = 3600, so every reaction is a mail-check system's) —
// with the targets acting through the tracker URLs of their mails in the
// outbox. Then, in the browser: the dashboard's numbers against GET
// /campaigns/{id}, the exclusion switch, the breakdown by 部署, the target
// search, filter and event history, share links opened in a fresh context
// (password prompt, wrong password, results, download, throttling, a revoked
// link refused), and the results across both campaigns with the cumulative
// CSV. The server and browser come from server.mjs (see there for KUNREN_BIN).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { server, useServerAndBrowser, withPage, login, goTo, apiCall, waitFor } from './server.mjs';

useServerAndBrowser();

const BOM = [0xef, 0xbb, 0xbf];
const CHROME_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const IPHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const PEOPLE = [
  { last: '山田', first: '太郎', email: 'taro.yamada@example.jp', dept: '営業部', pos: '課長' },
  { last: '佐藤', first: '花子', email: 'hanako.sato@example.jp', dept: '営業部', pos: '主任' },
  { last: '鈴木', first: '一郎', email: 'ichiro.suzuki@example.jp', dept: '総務部', pos: '' },
  { last: '高橋', first: '次郎', email: 'jiro.takahashi@example.jp', dept: '開発部', pos: '部長' },
];
const NAME_A = 'e2e 結果 A（除外なし）';
const NAME_B = 'e2e 結果 B（除外 3600 秒）';
const SHARE_PASSWORD = 'share-Pass-2026';

/* ---------- the API, as a script would use it ---------- */

let apiKey = '';

const call = (method, path, body) => apiCall(apiKey, method, path, body);

async function ok(method, path, body, want = 200) {
  const r = await call(method, path, body);
  assert.equal(r.status, want, `${method} ${path} → ${r.status} ${r.text.slice(0, 400)}`);
  return r.json;
}

/** The mails in the outbox as {id, to, html}. */
async function outboxMails() {
  const list = await ok('GET', '/outbox');
  return Promise.all((list.items || []).map(async (m) => ({ ...(await ok('GET', `/outbox/${m.id}`)), id: m.id })));
}

/** The open beacon and the link of a mail, both on the tracker. */
function trackerUrls(html) {
  const open = /src="([^"]*\/o\/[A-Za-z0-9_-]+\.gif)"/.exec(html);
  const click = /href="([^"]*\/c\/[A-Za-z0-9_-]+(?:\?[^"]*)?)"/.exec(html); // ?l=1.n: the first link
  assert.ok(open && click, `no tracker URLs in the mail:\n${html.slice(0, 800)}`);
  const fix = (u) => new URL(u.replace(/&amp;/g, '&'), server.trackerUrl).href;
  return { open: fix(open[1]), click: fix(click[1]) };
}

async function hit(url, { method = 'GET', ua = CHROME_UA, form } = {}) {
  const init = { method, headers: { 'User-Agent': ua }, redirect: 'manual' };
  if (form) {
    init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, init);
  await res.arrayBuffer();
  assert.ok(res.status < 400, `${method} ${url} → ${res.status}`);
}


/** Creates and launches a campaign; waits until all its mails are written; returns it and its mails by address. */
async function launch(name, exclusionSeconds, listId, scenario, seen) {
  const c = await ok('POST', '/campaigns', {
    name, scenario_id: scenario.id, list_ids: [listId], test_only: false, exclusion_seconds: exclusionSeconds,
    sender: { name: scenario.sender_name || '情報システム部', local: scenario.sender_local || 'it', domain: scenario.sender_domain || 'example.net' },
  }, 201);
  await ok('POST', `/campaigns/${c.id}/launch`, {});
  await waitFor(`${name} running`, async () => (await ok('GET', `/campaigns/${c.id}`)).state === 'running');
  const mails = await waitFor(`${name} mails`, async () => {
    const fresh = (await outboxMails()).filter((m) => !seen.has(m.id));
    return fresh.length === PEOPLE.length ? fresh : null;
  });
  const byEmail = {};
  for (const m of mails) {
    seen.add(m.id);
    const p = PEOPLE.find((x) => String(m.to).includes(x.email));
    assert.ok(p, `mail to ${m.to}`);
    byEmail[p.email] = trackerUrls(m.html || '');
  }
  return { campaign: c, urls: byEmail };
}

const drill = {};

before(async () => {
  // Root hooks do not wait for each other: wait for server.mjs's server.
  await waitFor('the server', () => /^Ready\.$/m.test(server.log) && server.consoleUrl, 60_000);
  const key = /API key:\s+(\S+)/.exec(server.log);
  assert.ok(key, `the server printed no API key:\n${server.log}`);
  apiKey = key[1];
  const list = await ok('POST', '/lists', { name: 'e2e 結果の対象者' }, 201);
  const csv = ['姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象',
    ...PEOPLE.map((p) => `${p.last},${p.first},${p.email},${p.dept},${p.pos},,,,`), ''].join('\r\n');
  await ok('POST', `/lists/${list.id}/import`, csv);
  const scenario = await ok('POST', '/scenarios', { gallery_id: 'ja-password-expiry' }, 201);
  const seen = new Set();

  // A: Taro opens, clicks (from a phone too) and sends the form; Hanako opens and clicks; Ichiro opens.
  drill.a = await launch(NAME_A, 0, list.id, scenario, seen);
  const ua = drill.a.urls;
  await hit(ua['taro.yamada@example.jp'].open);
  await hit(ua['taro.yamada@example.jp'].click);
  await hit(ua['taro.yamada@example.jp'].click, { ua: IPHONE_UA });
  await hit(ua['taro.yamada@example.jp'].click, { method: 'POST', form: { user: 'taro', password: 'not-kept' } });
  await hit(ua['hanako.sato@example.jp'].open);
  await hit(ua['hanako.sato@example.jp'].click);
  await hit(ua['ichiro.suzuki@example.jp'].open);

  // B (3600 s exclusion): Taro and Hanako open at once, Hanako clicks at once: all machine events.
  drill.b = await launch(NAME_B, 3600, list.id, scenario, seen);
  const ub = drill.b.urls;
  await hit(ub['taro.yamada@example.jp'].open);
  await hit(ub['hanako.sato@example.jp'].open);
  await hit(ub['hanako.sato@example.jp'].click);

  await waitFor('A counts', async () => (await ok('GET', `/campaigns/${drill.a.campaign.id}`)).counts.submitted === 1);
  await waitFor('B counts', async () => (await ok('GET', `/campaigns/${drill.b.campaign.id}?exclude=off`)).counts.clicked === 1);
});

/* ---------- browser helpers ---------- */

const campaignUrl = (c) => `${server.consoleUrl}#/campaigns/${c.id}`;

async function tileText(page, stat) {
  return page.evaluate((s) => {
    const el = document.querySelector(`#stats [data-stat="${s}"]`);
    return el && { value: el.querySelector('.stat-value').textContent.trim(), rate: el.querySelector('.stat-rate').textContent.trim() };
  }, stat);
}

async function waitForTile(page, stat, value) {
  await page.waitForFunction(([s, v]) => {
    const el = document.querySelector(`#stats [data-stat="${s}"] .stat-value`);
    return el && el.textContent.trim() === v;
  }, [stat, String(value)], { timeout: 15_000, polling: 200 });
}

const pct = (f) => `${Math.round(Number(f) * 1000) / 10}%`;

/** The downloaded file's bytes. */
async function download(page, locator) {
  const [d] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  return readFileSync(await d.path());
}

/** Opens a campaign's page and waits for its tiles to show the API's targets. */
async function openCampaign(page, c) {
  await page.goto(campaignUrl(c));
  await page.getByRole('heading', { level: 1, name: c.name }).waitFor();
  await waitForTile(page, 'targets', PEOPLE.length);
}

/* ---------- tests ---------- */

test('the dashboard shows the numbers of GET /campaigns/{id}, the timeline and the breakdown by 部署', { timeout: 120_000 }, async () => {
  await withPage('results-dashboard', async ({ page }) => {
    await login(page);
    const c = drill.a.campaign;
    await openCampaign(page, c);
    const api = await ok('GET', `/campaigns/${c.id}?exclude=on`);
    assert.deepEqual(
      { targets: 4, sent: 4, opened: 3, clicked: 2, submitted: 1 },
      { targets: api.counts.targets, sent: api.counts.sent, opened: api.counts.opened, clicked: api.counts.clicked, submitted: api.counts.submitted },
      'the drill gave the expected counts');
    for (const k of ['targets', 'sent', 'opened', 'clicked', 'file_opened', 'submitted', 'reported']) {
      await waitForTile(page, k, api.counts[k]);
      const tile = await tileText(page, k);
      if (k === 'targets') continue;
      const want = k === 'sent' ? pct(api.counts.sent / api.counts.targets) : pct(api.rates[k]);
      assert.equal(tile.rate, want, `rate of ${k}`);
    }
    assert.equal((await page.locator('#stats [data-stat="reported"] .stat-label').textContent()).trim(), '報告');

    // The funnel and the timeline are SVG with a title and a description.
    const funnelSvg = page.locator('#funnel svg[role="img"]');
    assert.match(await funnelSvg.locator(':scope > desc').textContent(), /リンククリック 2/);
    const chart = page.locator('#timeline-chart svg[role="img"]');
    await chart.waitFor();
    assert.equal((await chart.locator(':scope > title').textContent()).trim(), '反応の時間推移');
    assert.match(await chart.locator(':scope > desc').textContent(), /メール開封 3/);
    assert.ok(await chart.locator('path.chart-line--clicked, g.chart-points--clicked circle').count() > 0, 'a clicked series');
    // Its axis is in the tenant's time: the hour of the API's first bucket.
    const tl = await ok('GET', `/campaigns/${c.id}/timeline?exclude=on`);
    const hour = /T(\d{2}):/.exec(tl.items[0].at)[1];
    assert.ok((await chart.locator('.chart-axis').allTextContents()).some((x) => x.includes(`${hour}:00`)), `an axis label at ${hour}:00`);

    // Breakdown by 部署: the groups with their counts.
    const card = page.locator('#breakdown-card');
    await card.getByRole('tab', { name: '部署' }).click();
    const table = card.locator('#breakdown-table[data-by="department"]');
    await table.waitFor();
    const bd = await ok('GET', `/campaigns/${c.id}/breakdown?by=department&exclude=on`);
    assert.deepEqual(bd.items.map((x) => x.value).sort(), ['営業部', '総務部', '開発部'].sort());
    for (const g of bd.items) {
      const row = table.locator(`tbody tr[data-value="${g.value}"]`);
      for (const k of ['targets', 'sent', 'opened', 'clicked', 'submitted']) {
        assert.equal((await row.locator(`td[data-col="${k}"] .n`).textContent()).trim(), String(g[k]), `${g.value} ${k}`);
      }
    }
    const sales = table.locator('tbody tr[data-value="営業部"]');
    assert.equal((await sales.locator('td[data-col="clicked"] .n').textContent()).trim(), '2');
    assert.equal((await sales.locator('td[data-col="clicked"] .rate').textContent()).trim(), '100%');
    // Sorting by 部署 name, then by clicks (the rate) descending.
    await table.locator('button[data-sort="value"]').click();
    const names = await card.locator('#breakdown-table tbody th').allTextContents();
    assert.deepEqual(names, [...names].sort((x, y) => x.localeCompare(y, 'ja')));
    await card.locator('button[data-sort="clicked"]').click();
    await card.locator('button[data-sort="clicked"]').click();
    assert.equal((await card.locator('#breakdown-table tbody th').first().textContent()).trim(), '営業部');
    assert.equal(await card.locator('th[aria-sort]').getAttribute('aria-sort'), 'descending');
    await card.getByRole('tab', { name: '役職' }).click();
    await card.locator('#breakdown-table[data-by="position"] tbody tr[data-value="課長"]').waitFor();
  });
});

test('the targets: search, status filter, event history with IP, device and user agent', { timeout: 60_000 }, async () => {
  await withPage('results-targets', async ({ page }) => {
    await login(page);
    await openCampaign(page, drill.a.campaign);
    const rows = page.locator('#targets-table tbody tr:not(.detail-row)');
    await page.waitForFunction(() => document.querySelectorAll('#targets-table tbody tr[data-target]').length === 4);
    assert.match(await page.locator('#targets-range').textContent(), /1–4 \/ 4/);

    await page.getByLabel('対象者を検索').fill('花子');
    await page.waitForFunction(() => document.querySelectorAll('#targets-table tbody tr[data-target]').length === 1);
    assert.equal(await rows.first().getAttribute('data-email'), 'hanako.sato@example.jp');
    await page.getByLabel('対象者を検索').fill('');
    await page.waitForFunction(() => document.querySelectorAll('#targets-table tbody tr[data-target]').length === 4);

    await page.locator('#status-filter').selectOption('submitted');
    await page.waitForFunction(() => document.querySelectorAll('#targets-table tbody tr[data-target]').length === 1);
    const taro = page.locator('#targets-table tbody tr[data-email="taro.yamada@example.jp"]');
    await taro.locator('.badge--submitted').waitFor();
    await taro.locator('button.expander').click();
    const events = page.locator('#targets-table tr.detail-row:not([hidden])');
    await events.locator('tr[data-kind="clicked"]').first().waitFor();
    const kinds = await events.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.kind));
    for (const k of ['opened', 'clicked', 'submitted']) assert.ok(kinds.includes(k), `event ${k} in ${kinds}`);
    const text = await events.innerText();
    assert.match(text, /127\.0\.0\.1/, 'the IP address');
    assert.match(text, /iPhone/, 'the user agent of the phone');
    assert.match(text, /Chrome/, 'the browser');
    assert.equal(await events.locator('.badge--machine').count(), 0, 'no machine events without an exclusion time');
  });
});

test('exclusion ON/OFF changes the tiles of a 3600-second campaign, is remembered and reaches the downloads', { timeout: 60_000 }, async () => {
  await withPage('results-exclusion', async ({ page }) => {
    await login(page);
    const c = drill.b.campaign;
    const on = await ok('GET', `/campaigns/${c.id}?exclude=on`);
    const off = await ok('GET', `/campaigns/${c.id}?exclude=off`);
    assert.equal(on.counts.opened, 0, 'ON: the opens within 3600 s are left out');
    assert.equal(off.counts.opened, 2, 'OFF: the opens count');
    await openCampaign(page, c);
    const sw = page.getByRole('switch', { name: 'メールチェックシステム除外' });
    assert.equal(await sw.getAttribute('aria-checked'), 'true', 'ON by default');
    await waitForTile(page, 'opened', on.counts.opened);
    await waitForTile(page, 'clicked', on.counts.clicked);
    assert.match(await page.locator('#results-csv').getAttribute('href'), /exclude=on/);

    await sw.click();
    assert.equal(await sw.getAttribute('aria-checked'), 'false');
    await waitForTile(page, 'opened', off.counts.opened);
    await waitForTile(page, 'clicked', off.counts.clicked);
    for (const id of ['#results-csv', '#events-csv', '#report-xlsx']) {
      assert.match(await page.locator(id).getAttribute('href'), /exclude=off/, id);
    }
    // The breakdown follows the switch too.
    await page.locator('#breakdown-table tbody tr[data-value="営業部"] td[data-col="opened"] .n', { hasText: '2' }).waitFor();

    // The events are marked 機械判定.
    const hanako = page.locator('#targets-table tbody tr[data-email="hanako.sato@example.jp"]');
    await hanako.locator('button.expander').click();
    const events = page.locator('#targets-table tr.detail-row:not([hidden])');
    await events.locator('tr[data-kind="opened"] .badge--machine').waitFor();
    assert.equal(await events.locator('tr[data-kind="clicked"][data-machine="true"]').count(), 1);

    // Remembered for this campaign after a reload, not for the other one.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: c.name }).waitFor();
    assert.equal(await page.getByRole('switch', { name: 'メールチェックシステム除外' }).getAttribute('aria-checked'), 'false');
    await waitForTile(page, 'opened', off.counts.opened);
    await openCampaign(page, drill.a.campaign);
    assert.equal(await page.getByRole('switch', { name: 'メールチェックシステム除外' }).getAttribute('aria-checked'), 'true');

    // イベント.csv in Shift_JIS follows the encoding choice.
    await openCampaign(page, c);
    await page.locator('#download-encoding').selectOption('cp932');
    assert.match(await page.locator('#events-csv').getAttribute('href'), /encoding=cp932/);
    assert.match(await page.locator('#results-csv').getAttribute('href'), /encoding=cp932.*exclude=off|exclude=off.*encoding=cp932/);
    assert.doesNotMatch(await page.locator('#report-xlsx').getAttribute('href'), /encoding=/);
    const sjis = await download(page, page.locator('#events-csv'));
    assert.notDeepEqual([...sjis.subarray(0, 3)], BOM, 'Shift_JIS has no BOM');
    const eventsCsv = new TextDecoder('shift_jis').decode(sjis);
    assert.ok(eventsCsv.startsWith('訓練名,識別コード,姓,名,メールアドレス,部署,役職,IPアドレス,日時,ステータス,OS,ブラウザ,項目,項目2,項目3,機械判定,判定理由\r\n'),
      eventsCsv.slice(0, 120));
    assert.match(eventsCsv.split('\r\n')[1], /訓練作成/, 'the 訓練作成 row first');
    const xlsx = await download(page, page.locator('#report-xlsx'));
    assert.equal(xlsx.subarray(0, 2).toString('latin1'), 'PK', '報告書 is a zip (xlsx)');
  });
});

/** Opens share.html#token in a fresh context (no cookies); fn gets the page and every request URL. */
async function inFreshContext(name, url, fn) {
  await withPage(name, async ({ context, page }) => {
    assert.deepEqual(await context.cookies(), [], 'a fresh context has no cookies');
    const requests = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(url);
    await fn(page, requests);
    const api = requests.filter((p) => p.startsWith('/api/'));
    assert.ok(api.length > 0, 'the share page asked the API');
    assert.deepEqual(api.filter((p) => !p.startsWith('/api/v1/share/')), [], 'only /api/v1/share/… is called');
    assert.ok(!requests.includes('/js/app.js'), 'the console is not loaded');
  });
}

test('a share link with a password, opened without an account; a revoked link is refused', { timeout: 120_000 }, async () => {
  const c = drill.a.campaign;
  let shareUrl = '';
  let revokedUrl = '';
  await withPage('results-share-create', async ({ page }) => {
    await login(page);
    await openCampaign(page, c);
    const card = page.locator('#shares-card');
    await card.locator('#shares-empty').waitFor();
    await card.getByLabel('有効期間（時間）').fill('0');
    await card.getByRole('button', { name: '共有リンクを作成' }).click();
    await card.getByText('有効期間は 1〜8,760 の整数で入力してください。').waitFor();
    await card.getByLabel('有効期間（時間）').fill('2');
    await card.getByLabel('パスワード（任意）').fill(SHARE_PASSWORD);
    await card.getByRole('button', { name: '共有リンクを作成' }).click();
    shareUrl = await card.locator('#share-url').inputValue();
    assert.match(shareUrl, /\/share\.html#[^#\s]{16,}$/);
    assert.equal(await card.locator('#share-copy').count(), 1, 'a copy button');
    await card.locator('#shares-table tbody tr').first().waitFor();
    assert.match(await card.locator('#shares-table tbody tr').first().innerText(), /あり/);

    // A second link without a password, revoked right away.
    await card.getByLabel('パスワード（任意）').fill('');
    await card.getByRole('button', { name: '共有リンクを作成' }).click();
    await page.waitForFunction((first) => {
      const v = document.querySelector('#share-url');
      return v && v.value && v.value !== first;
    }, shareUrl);
    revokedUrl = await card.locator('#share-url').inputValue();
    await page.waitForFunction(() => document.querySelectorAll('#shares-table tbody tr').length === 2);
    const plain = card.locator('#shares-table tbody tr', { hasText: 'なし' });
    await plain.getByRole('button', { name: /無効にする/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: '無効にする' }).click();
    await card.locator('#shares-table tbody tr[data-state="revoked"]').waitFor();
    assert.match(await card.locator('#shares-table tbody tr[data-state="revoked"]').innerText(), /無効化済み/);
  });

  // The API refuses the revoked link with 404.
  const token = revokedUrl.split('#')[1];
  const gone = await fetch(new URL(`api/v1/share/${encodeURIComponent(token)}`, server.consoleUrl));
  assert.equal(gone.status, 404, 'a revoked link is 404');

  const api = await ok('GET', `/campaigns/${c.id}`);
  await inFreshContext('results-share-open', shareUrl, async (page) => {
    await page.getByRole('heading', { level: 1, name: 'パスワードを入力してください' }).waitFor();
    await page.getByLabel('パスワード').fill('wrong-password');
    await page.getByRole('button', { name: '結果を表示' }).click();
    await page.locator('#share-error', { hasText: 'パスワードが正しくありません。' }).waitFor();
    await page.getByLabel('パスワード').fill(SHARE_PASSWORD);
    await page.getByRole('button', { name: '結果を表示' }).click();
    await page.getByRole('heading', { level: 1, name: c.name }).waitFor();
    for (const k of ['targets', 'sent', 'opened', 'clicked', 'submitted']) await waitForTile(page, k, api.counts[k]);
    await page.locator('#funnel, svg.funnel').first().waitFor();
    await page.locator('#timeline-chart svg.chart').waitFor();
    await page.locator('#breakdown-table tbody tr[data-value="営業部"]').waitFor();
    assert.equal(await page.locator('nav, a[href^="#/"]').count(), 0, 'no navigation into the console');
    const href = await page.locator('#results-csv').getAttribute('href');
    assert.match(href, /^\/api\/v1\/share\/[^/]+\/results\.csv\?/);
    assert.match(href, new RegExp(`password=${encodeURIComponent(SHARE_PASSWORD)}`));
    const bytes = await download(page, page.locator('#results-csv'));
    assert.deepEqual([...bytes.subarray(0, 3)], BOM);
    const csv = bytes.subarray(3).toString('utf8');
    assert.ok(csv.startsWith('訓練名,識別コード,'), csv.slice(0, 80));
    assert.match(csv, /taro\.yamada@example\.jp/);
    // The other two downloads answer too, with the password in the URL.
    for (const id of ['#events-csv', '#report-xlsx']) {
      const url = new URL(await page.locator(id).getAttribute('href'), server.consoleUrl);
      assert.equal(url.searchParams.get('password'), SHARE_PASSWORD, id);
      const res = await fetch(url);
      assert.equal(res.status, 200, `${id}: ${url.pathname}`);
      await res.arrayBuffer();
    }
  });

  // The open was counted.
  const links = await ok('GET', `/campaigns/${c.id}/shares`);
  const withPassword = links.items.find((l) => l.has_password);
  assert.ok(withPassword.access_count >= 1, `access_count ${withPassword.access_count}`);

  await inFreshContext('results-share-revoked', revokedUrl, async (page) => {
    await page.getByRole('heading', { level: 1, name: 'このリンクは使えません' }).waitFor();
    assert.equal(await page.locator('#share-problem').getAttribute('data-problem'), 'gone');
  });
});

test('a share link locks after wrong passwords and says so', { timeout: 60_000 }, async () => {
  const link = await ok('POST', `/campaigns/${drill.b.campaign.id}/share`, { hours: 1, password: 'right-one-123' }, 201);
  // The API may give the URL relative to the console ("/share.html#…").
  await inFreshContext('results-share-throttled', new URL(link.url, server.consoleUrl).href, async (page) => {
    await page.getByRole('heading', { level: 1, name: 'パスワードを入力してください' }).waitFor();
    let locked = false;
    for (let i = 0; i < 8 && !locked; i += 1) {
      await page.getByLabel('パスワード').fill(`wrong-${i}`);
      await page.getByRole('button', { name: '結果を表示' }).click();
      await page.waitForFunction(() => {
        const b = document.querySelector('#share-open');
        const e = document.querySelector('#share-error');
        return b && !b.disabled && e && !e.hidden;
      });
      locked = /一時的に開けません/.test(await page.locator('#share-error').textContent());
    }
    assert.ok(locked, 'the page says the link is locked for a while (429)');
  });
});

test('a share link made with 含める counts machine events: its view says 除外：OFF', { timeout: 90_000 }, async () => {
  // Campaign B: every reaction falls in its 3600 s, so the two settings differ.
  const c = drill.b.campaign;
  const on = (await ok('GET', `/campaigns/${c.id}?exclude=on`)).counts;
  const off = (await ok('GET', `/campaigns/${c.id}?exclude=off`)).counts;
  assert.deepEqual([on.opened, on.clicked, off.opened, off.clicked], [0, 0, 2, 1], 'B counts');
  let shareUrl = '';
  await withPage('results-share-machine', async ({ page }) => {
    await login(page);
    await openCampaign(page, c);
    const card = page.locator('#shares-card');
    await card.getByLabel('有効期間（時間）').fill('1');
    await card.getByLabel('メールチェックシステムの反応').selectOption({ label: '含める' });
    await card.getByRole('button', { name: '共有リンクを作成' }).click();
    await card.locator('#share-url').waitFor();
    shareUrl = await card.locator('#share-url').inputValue();
    assert.match(await card.locator('#share-created').innerText(), /メールチェックシステム：含める/);
    // the list shows the new link with its setting
    await card.locator('#shares-table td[data-exclude="false"]').waitFor();
  });
  const links = (await ok('GET', `/campaigns/${c.id}/shares`)).items;
  assert.equal(links.filter((l) => l.exclude === false).length, 1, 'one link includes machine events');

  await inFreshContext('results-share-machine-open', shareUrl, async (page) => {
    await page.getByRole('heading', { level: 1, name: c.name }).waitFor();
    await page.locator('#share-exclusion', { hasText: 'メールチェックシステム除外：OFF' }).waitFor();
    // the numbers are the ones with machine events, not the campaign's own setting's
    for (const k of ['targets', 'sent', 'opened', 'clicked']) await waitForTile(page, k, off[k]);
  });
});

test('results across two campaigns: the trend, repeat clickers and 訓練結果(累計).csv', { timeout: 90_000 }, async () => {
  await withPage('results-trends', async ({ page }) => {
    await login(page);
    await goTo(page, '結果の推移', '訓練結果の推移');
    const picker = page.locator('#campaign-picker');
    for (const c of [drill.a.campaign, drill.b.campaign]) {
      const box = picker.getByRole('checkbox', { name: new RegExp(c.name.replace(/[()（）]/g, '.')) });
      if (!(await box.isChecked())) await box.check();
    }
    const table = page.locator('#trends-table');
    await page.waitForFunction(() => document.querySelectorAll('#trends-table tbody tr').length === 2);
    for (const c of [drill.a.campaign, drill.b.campaign]) await table.locator(`tr[data-campaign="${c.id}"]`).waitFor();
    const chart = page.locator('#trend-chart svg[role="img"]');
    for (const k of ['clicked', 'submitted', 'reported']) {
      assert.equal(await chart.locator(`g.chart-points--${k} circle`).count(), 2, `two points of ${k}`);
    }
    const desc = await chart.locator(':scope > desc').textContent();
    assert.ok(desc.includes(NAME_A) && desc.includes(NAME_B), desc);
    const trends = await ok('GET', `/results/trends?campaigns=${drill.a.campaign.id},${drill.b.campaign.id}&exclude=on`);
    const a = trends.campaigns.find((x) => x.id === drill.a.campaign.id);
    assert.equal((await table.locator(`tr[data-campaign="${a.id}"] td[data-rate="clicked"]`).textContent()).trim(), pct(a.rates.clicked));

    // With the exclusion OFF, Hanako clicked in both.
    await page.getByRole('switch', { name: 'メールチェックシステム除外' }).click();
    await page.locator('#repeat-clickers tr[data-email="hanako.sato@example.jp"]').waitFor();
    assert.match(await page.locator('#cumulative-csv').getAttribute('href'), /exclude=off/);

    const href = await page.locator('#cumulative-csv').getAttribute('href');
    assert.match(href, new RegExp(`campaigns=(${drill.a.campaign.id}%2C${drill.b.campaign.id}|${drill.a.campaign.id},${drill.b.campaign.id})`));
    const bytes = await download(page, page.locator('#cumulative-csv'));
    assert.deepEqual([...bytes.subarray(0, 3)], BOM);
    const lines = bytes.subarray(3).toString('utf8').trim().split(/\r\n/);
    assert.equal(lines[0], '姓,名,メールアドレス,部署,役職,項目,項目2,項目3,メール送信,メール開封,リンククリック,ファイル開封,データ送信');
    const hanako = lines.find((l) => l.includes('hanako.sato@example.jp'));
    assert.ok(hanako, lines.join('\n'));
    assert.equal(hanako.split(',')[8], '2', 'Hanako got two mails');
    assert.equal(lines.length, 1 + PEOPLE.length, 'one row per address');
  });
});
