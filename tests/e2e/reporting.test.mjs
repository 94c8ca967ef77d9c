// Browser test of 報告 and live results (SPEC F1, F5, G8): the campaign page
// shows new events without a reload (EventSource on /campaigns/{id}/live) —
// an open, then a report through the report link, each naming the target
// by name and address — and the report figures;
// the report mailbox form on 送信設定 saves, keeps the password write-only,
// shows field errors and the result of 接続テスト. (The IMAP poller itself is
// tested against a real Dovecot in tests/integration/test_reporting.py.)
//
//   KUNREN_BIN=build/kunren node --test tests/e2e/reporting.test.mjs

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { server, useServerAndBrowser, withPage, login, goTo, apiOk, apiCall, waitFor } from './server.mjs';
import { mailboxBody } from '../../web/js/pages/report-mailbox.js';

useServerAndBrowser();

/* The API, as a script would use it: with the key the first start printed. */
let apiKey = '';
const ok = (method, path, body) => apiOk(apiKey, method, path, body);

before(async () => {
  // Root hooks do not wait for each other: wait for server.mjs's server.
  await waitFor('the server', () => /^Ready\.$/m.test(server.log) && server.consoleUrl, 60_000);
  const key = /API key:\s+(\S+)/.exec(server.log);
  assert.ok(key, `the server printed no API key:\n${server.log}`);
  apiKey = key[1];
});

/** The live card's line of an event, once shown: its kind, and who it names. */
async function liveLine(page, kind) {
  const li = page.locator(`#live-events li[data-kind="${kind}"]`).first();
  await li.waitFor();
  const who = li.locator('.live-target');
  return { targetId: await who.getAttribute('data-target-id'), text: (await who.textContent()).trim() };
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
    const list = await ok('POST', '/lists', { name: 'e2e 報告' });
    await ok('POST', `/lists/${list.id}/import`, [
      '姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象',
      '山田,太郎,taro.yamada@example.jp,営業部,課長,,,,',
      '佐藤,花子,hanako.sato@example.jp,総務部,主任,,,,',
      '鈴木,一郎,ichiro.suzuki@example.jp,開発部,,,,,',
      '',
    ].join('\r\n'));
    const scenario = await ok('POST', '/scenarios', { gallery_id: 'ja-password-expiry' });
    const campaign = await ok('POST', '/campaigns', {
      name: 'e2e 報告訓練', scenario_id: scenario.id, list_ids: [list.id],
      sender: { name: '情報システム部', local: 'it-support', domain: 'kunren-sys.example' },
      test_only: false, exclusion_seconds: 0,
    });
    await ok('POST', `/campaigns/${campaign.id}/launch`, {});
    const targets = await waitFor('the targets sent', async () => {
      const items = (await ok('GET', `/campaigns/${campaign.id}/targets`)).items;
      return items.length === 3 && items.every((x) => x.rid && x.sent_at) ? items : null;
    });
    const target = targets[0];
    const rid = target.rid;
    // How the live card names a target: "姓 名 <address>", never its id.
    const who = `${target.last_name} ${target.first_name} <${target.email}>`;

    await page.goto(`${server.consoleUrl}#/campaigns/${campaign.id}`);
    await page.getByRole('heading', { level: 1, name: 'e2e 報告訓練' }).waitFor();
    await page.locator('#live-status[data-mode="stream"]').waitFor();
    const url = page.url();

    // the target opens the mail: the event appears without a reload
    const open = await fetch(`${server.trackerUrl}o/${rid}.gif`);
    assert.equal(open.status, 200);
    const opened = await liveLine(page, 'opened');
    assert.equal(opened.text, who, 'the open names the target');
    assert.equal(opened.targetId, String(target.id));
    assert.doesNotMatch(opened.text, /対象者 #/);

    // the report link: asking records nothing, the button reports
    const ask = await fetch(`${server.trackerUrl}r/${rid}`);
    assert.match(await ask.text(), /このメールを報告しますか/);
    const done = await fetch(`${server.trackerUrl}r/${rid}`, { method: 'POST' });
    assert.equal(done.status, 200);
    const reported = await liveLine(page, 'reported');
    assert.equal(reported.text, who, 'the report names the target');
    assert.equal(reported.targetId, String(target.id));
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
    // STARTTLS: plain IMAP is refused unless the server allows it (report_imap_allow_plain)
    await card.getByLabel('暗号化').selectOption('starttls');
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
    const got = await apiCall(apiKey, 'GET', '/report-mailbox');
    assert.equal(got.json.mailbox.has_password, true);
    assert.ok(!JSON.stringify(got.json).includes('imap-secret-e2e'));

    // 接続テスト says why it failed
    await card.locator('#report-mailbox-test').click();
    await card.locator('#report-mailbox-alert .alert-error').waitFor();
    assert.match(await card.locator('#report-mailbox-alert').textContent(), /接続できませんでした/);

    // another port without the password: the stored one is dropped, and the form says to enter it again
    await card.getByLabel('ポート').fill('2');
    await card.locator('#report-mailbox-save').click();
    await card.locator('#report-mailbox-password-cleared').waitFor();
    assert.match(await card.locator('#report-mailbox-alert .alert-warning').textContent(), /パスワードをもう一度入力/);
    assert.equal((await apiCall(apiKey, 'GET', '/report-mailbox')).json.mailbox.has_password, false);
    assert.doesNotMatch(await card.getByLabel('パスワード').getAttribute('placeholder') || '', /設定済み/);

    // deleted
    await card.locator('#report-mailbox-delete').click();
    await page.locator('dialog').getByRole('button', { name: '削除' }).click();
    await card.getByText('設定されていません。').waitFor();
  });
});
