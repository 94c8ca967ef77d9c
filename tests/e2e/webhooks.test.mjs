// Browser test of Webhook 連携 (issue 11): a trainer adds a webhook (the
// signing secret shown once), sends a test and reads the delivery log, edits
// it, sees a field error, and deletes it — against a real receiver on
// 127.0.0.1, which checks the signature with the secret the page showed.
// (Events, retries, private addresses and tenants: tests/integration/test_webhooks.py.)
//
//   KUNREN_BIN=build/kunren node --test tests/e2e/webhooks.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { server, useServerAndBrowser, withPage, login, goTo, waitFor } from './server.mjs';
import { webhookBody, KINDS } from '../../web/js/pages/webhooks.js';

// The receiver is on this machine: this file's server may deliver there
// (each test file runs in its own process, with its own server).
process.env.KUNREN_WEBHOOK_ALLOW_PRIVATE = 'true';
useServerAndBrowser();

const received = [];
let receiver;
let receiverUrl = '';

before(async () => {
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('受け取りました');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}/kunren-hook`;
});

after(() => new Promise((r) => receiver.close(r)));

/** What a receiver does: the HMAC-SHA256 of "<t>.<body>" with the secret. */
function signatureOk(req, secret) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(req.headers['kunren-signature'] || '');
  if (!m) return false;
  const want = createHmac('sha256', secret).update(`${m[1]}.`).update(req.body).digest();
  return timingSafeEqual(want, Buffer.from(m[2], 'hex'));
}

test('webhookBody: the request of the form', () => {
  assert.deepEqual(webhookBody({ url: ' https://h.example/x ', description: ' SIEM ', kinds: ['clicked', 'opened'], enabled: true }),
    { url: 'https://h.example/x', description: 'SIEM', kinds: ['opened', 'clicked'], enabled: true });
  assert.deepEqual(webhookBody({ url: 'u', kinds: KINDS, enabled: false, rotate_secret: true }).kinds, [], 'every kind is sent as []');
  assert.equal(webhookBody({ url: 'u', rotate_secret: true }).rotate_secret, true);
  assert.equal('rotate_secret' in webhookBody({ url: 'u' }), false);
});

test('a trainer adds a webhook, tests it, reads the log, edits and deletes it', { timeout: 120_000 }, async () => {
  await waitFor('the server', () => server.consoleUrl, 60_000);
  await withPage('webhooks', async ({ page }) => {
    await login(page);
    await goTo(page, 'Webhook 連携');
    await page.getByText('Webhook はまだありません').waitFor();

    // a wrong URL: the field says why, nothing is made
    await page.locator('#webhook-add').click();
    const dialog = page.locator('#webhook-dialog');
    await dialog.getByLabel('送信先 URL').fill('ftp://files.example.jp/');
    await page.locator('#webhook-save').click();
    await dialog.locator('.field.has-error').filter({ hasText: 'http or https' }).waitFor();
    // the right one, for メール開封 and リンククリック only
    await dialog.getByLabel('送信先 URL').fill(receiverUrl);
    await dialog.getByLabel('説明').fill('SIEM 連携テスト');
    await dialog.getByLabel('メール開封').check();
    await dialog.getByLabel('リンククリック').check();
    await page.locator('#webhook-save').click();
    const secretField = page.locator('#webhook-secret');
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9]{32}$/);
    await dialog.getByText('今だけ表示されます').waitFor();
    await dialog.getByRole('button', { name: '閉じる' }).first().click();

    const row = page.locator('#webhooks-table tr[data-webhook]');
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    assert.match(await row.textContent(), /kunren-hook/);
    assert.match(await row.textContent(), /SIEM 連携テスト/);
    assert.match(await row.textContent(), /メール開封、リンククリック/);
    assert.match(await row.textContent(), /有効/);
    // the log of the only webhook is open, still empty
    await page.getByText('まだ送信していません').waitFor();

    // テスト送信: delivered, in the log with the receiver's answer
    await row.locator('[data-action="test"]').click();
    await page.getByText('テスト送信が届きました（HTTP 200）').waitFor();
    const logRow = page.locator('#webhook-deliveries-table tr[data-kind="ping"]');
    await logRow.first().waitFor();
    const text = await logRow.first().textContent();
    assert.match(text, /テスト送信/);
    assert.match(text, /送信済み/);
    assert.match(text, /受け取りました/);
    assert.equal((await logRow.first().locator('[data-col="status"]').textContent()).trim(), '200');
    await waitFor('the ping at the receiver', () => received.length >= 1);
    const ping = received[0];
    assert.ok(signatureOk(ping, secret), 'the signature checks out with the secret the page showed');
    assert.equal(ping.headers['kunren-event'], 'ping');
    assert.equal(JSON.parse(ping.body).type, 'ping');
    assert.equal(JSON.parse(ping.body).delivery_id, ping.headers['kunren-delivery']);

    // the secret is never shown again
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Webhook 連携' }).waitFor();
    await page.locator('#webhooks-table').waitFor();
    assert.equal((await page.content()).includes(secret), false, 'the secret is on the page again');

    // edit: switched off, all kinds
    await page.locator('#webhooks-table tr[data-webhook] [data-action="edit"]').click();
    const edit = page.locator('#webhook-dialog');
    await edit.getByLabel('有効にする').uncheck();
    await edit.getByLabel('メール開封').uncheck();
    await edit.getByLabel('リンククリック').uncheck();
    await page.locator('#webhook-save').click();
    await page.getByText('Webhook を保存しました').waitFor();
    await page.locator('#webhooks-table td[data-enabled="false"]').waitFor();
    assert.match(await page.locator('#webhooks-table tr[data-webhook]').textContent(), /すべて/);

    // delete, after a confirmation
    await page.locator('#webhooks-table tr[data-webhook] [data-action="delete"]').click();
    await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
    await page.getByText('Webhook を削除しました').waitFor();
    await page.getByText('Webhook はまだありません').waitFor();
  });
});
