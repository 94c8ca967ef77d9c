// Browser test of 報告 and live results (SPEC F1, F5, G8): the campaign page
// shows new events without a reload (EventSource on /campaigns/{id}/live) —
// an open, then a report through the report link — and the report figures;
// the report mailbox form on 送信設定 saves, keeps the password write-only,
// shows field errors and the result of 接続テスト. (The IMAP poller itself is
// tested against a real Dovecot in tests/integration/test_reporting.py.)
//
//   KUNREN_BIN=build/kunren node --test tests/e2e/reporting.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { server, useServerAndBrowser, withPage, login, goTo } from './server.mjs';
import { mailboxBody } from '../../web/js/pages/report-mailbox.js';

useServerAndBrowser();

/** The JSON API with the page's session (cookie + CSRF token). */
async function apiCall(page, method, path, body, type = 'application/json') {
  return page.evaluate(async ([m, p, b, ty]) => {
    const me = await (await fetch('/api/v1/me')).json();
    const res = await fetch(`/api/v1${p}`, {
      method: m,
      headers: { 'X-CSRF-Token': me.csrf_token, ...(b === null ? {} : { 'Content-Type': ty }) },
      body: b === null ? undefined : (ty === 'application/json' ? JSON.stringify(b) : b),
    });
    return { status: res.status, json: await res.json().catch(() => null) };
  }, [method, path, body, type]);
}

async function ok(page, method, path, body = null, type) {
  const r = await apiCall(page, method, path, body, type);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

test('mailboxBody sends the password only when typed', () => {
  const b = mailboxBody({ host: ' imap.example.jp ', port: '993', security: 'tls', verify_tls: true, username: 'u',
    password: '', folder: '', enabled: true });
  assert.deepEqual(b, { host: 'imap.example.jp', port: 993, security: 'tls', verify_tls: true, username: 'u',
    folder: 'INBOX', enabled: true });
  assert.equal(mailboxBody({ password: 'pw', port: 'x' }).password, 'pw');
  assert.equal(mailboxBody({ password: 'pw', port: 'x' }).port, 'x');
});

test('the campaign page shows new events live, and the report figures', { timeout: 120_000 }, async () => {
  await withPage('reporting-live', async ({ page }) => {
    await login(page);
    // a drill made through the API (the full console flow is drill.test.mjs)
    const list = await ok(page, 'POST', '/lists', { name: 'e2e 報告' });
    await ok(page, 'POST', `/lists/${list.id}/import`, [
      '姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象',
      '山田,太郎,taro.yamada@example.jp,営業部,課長,,,,',
      '佐藤,花子,hanako.sato@example.jp,総務部,主任,,,,',
      '鈴木,一郎,ichiro.suzuki@example.jp,開発部,,,,,',
      '',
    ].join('\r\n'), 'text/csv; charset=utf-8');
    const scenario = await ok(page, 'POST', '/scenarios', { gallery_id: 'ja-password-expiry' });
    const campaign = await ok(page, 'POST', '/campaigns', {
      name: 'e2e 報告訓練', scenario_id: scenario.id, list_ids: [list.id],
      sender: { name: '情報システム部', local: 'it-support', domain: 'kunren-sys.example' },
      test_only: false, exclusion_seconds: 0,
    });
    await ok(page, 'POST', `/campaigns/${campaign.id}/launch`, {});
    let targets = [];
    for (let i = 0; i < 100; i++) {
      targets = (await ok(page, 'GET', `/campaigns/${campaign.id}/targets`)).items;
      if (targets.length === 3 && targets.every((x) => x.rid && x.sent_at)) break;
      await page.waitForTimeout(200);
    }
    const rid = targets[0].rid;
    assert.ok(rid, 'the targets have rids');

    await page.goto(`${server.consoleUrl}#/campaigns/${campaign.id}`);
    await page.getByRole('heading', { level: 1, name: 'e2e 報告訓練' }).waitFor();
    await page.locator('#live-status[data-mode="stream"]').waitFor();
    const url = page.url();

    // the target opens the mail: the event appears without a reload
    const open = await fetch(`${server.trackerUrl}o/${rid}.gif`);
    assert.equal(open.status, 200);
    await page.locator('#live-events li[data-kind="opened"]').waitFor();

    // the report link: asking records nothing, the button reports
    const ask = await fetch(`${server.trackerUrl}r/${rid}`);
    assert.match(await ask.text(), /このメールを報告しますか/);
    const done = await fetch(`${server.trackerUrl}r/${rid}`, { method: 'POST' });
    assert.equal(done.status, 200);
    await page.locator('#live-events li[data-kind="reported"]').waitFor();
    await page.waitForFunction(() => /\(1\/3\)/.test(document.querySelector('[data-testid="report-rate"]')?.textContent || ''));
    assert.notEqual((await page.locator('[data-testid="report-first"]').textContent()).trim(), '—');
    assert.equal(page.url(), url, 'no navigation happened');
  });
});

test('the report mailbox form', { timeout: 60_000 }, async () => {
  await withPage('reporting-mailbox', async ({ page }) => {
    await login(page);
    await goTo(page, '送信設定');
    const card = page.locator('#report-mailbox-card');
    await card.locator('#report-mailbox-form').waitFor();
    await card.getByText('設定されていません。').waitFor();

    // a bad host is shown at its field
    await card.getByLabel('IMAP サーバー').fill('imap example');
    await card.getByLabel('ポート').fill('143');
    await card.getByLabel('暗号化').selectOption('none');
    await card.locator('#report-mailbox-save').click();
    await card.locator('[data-field="host"].has-error').waitFor();

    // saved: the password is never shown again, only that one is set
    await card.getByLabel('IMAP サーバー').fill('127.0.0.1');
    await card.getByLabel('ポート').fill('1'); // nothing listens there
    await card.getByLabel('ユーザー名').fill('security');
    await card.getByLabel('パスワード').fill('imap-secret-e2e');
    await card.locator('#report-mailbox-save').click();
    await card.locator('#report-mailbox-status').waitFor();
    const pw = card.getByLabel('パスワード');
    assert.equal(await pw.inputValue(), '');
    assert.match(await pw.getAttribute('placeholder'), /設定済み/);
    const got = await apiCall(page, 'GET', '/report-mailbox', null);
    assert.equal(got.json.mailbox.has_password, true);
    assert.ok(!JSON.stringify(got.json).includes('imap-secret-e2e'));

    // 接続テスト says why it failed
    await card.locator('#report-mailbox-test').click();
    await card.locator('#report-mailbox-alert .alert-error').waitFor();
    assert.match(await card.locator('#report-mailbox-alert').textContent(), /接続できませんでした/);

    // deleted
    await card.locator('#report-mailbox-delete').click();
    await page.locator('dialog').getByRole('button', { name: '削除' }).click();
    await card.getByText('設定されていません。').waitFor();
  });
});
