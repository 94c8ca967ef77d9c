// Browser test of a whole drill, as a trainer and a target would do it:
// the real server (KUNREN_BIN, default build/kunren) in outbox mode on a
// fresh data folder, driven by Debian's Chromium through playwright-core.
//
//   KUNREN_BIN=build/kunren node --test tests/e2e/
//
// E2E_ARTIFACTS=<dir> keeps a screenshot of the page of any failing test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  server, useServerAndBrowser, withPage, login, goTo, createList, csvFile,
} from './server.mjs';

useServerAndBrowser();

/* ---------- helpers ---------- */

/** Waits until the stat tile shows the count. */
async function waitForStat(page, stat, value) {
  await page.waitForFunction(([s, v]) => {
    const el = document.querySelector(`[data-stat="${s}"] .stat-value`);
    return el && el.textContent.trim() === v;
  }, [stat, String(value)], { timeout: 15_000, polling: 250 });
}

/* ---------- tests ---------- */

test('a wrong password shows an error in the login form', async () => {
  await withPage('wrong-password', async ({ page }) => {
    await page.goto(server.consoleUrl);
    await page.getByLabel('ユーザー名').fill('demo');
    await page.getByLabel('パスワード').fill(`${server.password}-wrong`);
    await page.getByRole('button', { name: 'ログイン' }).click();
    const error = page.locator('#login-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /ユーザー名またはパスワードが正しくありません/);
    assert.match(page.url(), /#\/login$/);
    assert.equal(await page.getByLabel('パスワード').inputValue(), '');
  });
});

test('a CSV with a bad address shows the problem with its line number', async () => {
  await withPage('bad-csv', async ({ page }) => {
    await login(page);
    await createList(page, 'e2e 不正な CSV');
    const file = csvFile('bad.csv', [
      '姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象',
      '田中,次郎,jiro.tanaka@example.jp,経理部,,,,,',
      '高橋,三郎,not-an-address,経理部,,,,,',
      '',
    ].join('\r\n'));
    await page.getByLabel('CSV ファイル').setInputFiles(file);
    await page.getByRole('button', { name: '取り込む', exact: true }).click();
    const problems = page.locator('#import-problems');
    await problems.waitFor();
    const row = problems.locator('tbody tr', { hasText: 'not-an-address' });
    assert.equal(await row.count(), 1);
    assert.equal((await row.locator('td').first().textContent()).trim(), '3');
    // Nothing was imported…
    await page.getByText('宛先がまだありません').waitFor();
    // …until the trainer skips the bad row.
    await page.getByRole('button', { name: '不正な行をスキップして取り込む' }).click();
    await page.locator('#recipients-table tbody tr[data-email="jiro.tanaka@example.jp"]').waitFor();
    assert.equal(await page.locator('#recipients-table tbody tr').count(), 1);

    // Deleting the list asks first, then the list is gone.
    await page.locator('#delete-list').click();
    await page.getByRole('dialog').getByRole('button', { name: 'リストを削除' }).click();
    await page.waitForURL(/#\/lists$/);
    await page.getByRole('heading', { level: 2, name: 'リスト一覧' }).waitFor();
    assert.equal(await page.locator('#lists a', { hasText: 'e2e 不正な CSV' }).count(), 0);
  });
});

test('a whole drill: list, scenario, campaign, mail, click, form, results', { timeout: 180_000 }, async () => {
  await withPage('drill', async ({ context, page }) => {
    await login(page);

    // The language switch: English, remembered, and back to Japanese.
    await page.locator('#lang-switch').click();
    await page.getByRole('heading', { level: 1, name: 'Campaigns' }).waitFor();
    assert.ok(await page.getByRole('navigation').getByRole('link', { name: 'Recipient lists' }).isVisible());
    assert.equal(await page.evaluate(() => localStorage.getItem('kunren.lang')), 'en');
    await page.locator('#lang-switch').click();
    await page.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();

    // A list with three Japanese recipients from a UTF-8 CSV.
    const listName = 'e2e 営業部';
    await createList(page, listName);
    const file = csvFile('recipients.csv', [
      '姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象',
      '山田,太郎,taro.yamada@example.jp,営業部,課長,,,,',
      '佐藤,花子,hanako.sato@example.jp,総務部,主任,,,,1',
      '鈴木,一郎,ichiro.suzuki@example.jp,開発部,,,,,',
      '',
    ].join('\r\n'));
    await page.getByLabel('CSV ファイル').setInputFiles(file);
    await page.getByRole('button', { name: '取り込む', exact: true }).click();
    await page.locator('#import-result .alert-success').waitFor();
    const recipients = page.locator('#recipients-table tbody tr');
    await page.locator('#recipients-table tbody tr[data-email="ichiro.suzuki@example.jp"]').waitFor();
    assert.equal(await recipients.count(), 3);
    const taroRow = page.locator('#recipients-table tbody tr[data-email="taro.yamada@example.jp"]');
    assert.match(await taroRow.textContent(), /山田.*太郎.*営業部.*課長/);

    // The gallery: search, preview ja-password-expiry, import it.
    await goTo(page, '訓練シナリオ');
    const card = page.locator('[data-scenario="ja-password-expiry"]');
    await card.waitFor();
    // Facet counts in the filters; choosing a type filters the cards.
    const typeSelect = page.locator('select[name="type"]');
    const attachOption = typeSelect.locator('option[value="添付ファイル型"]');
    await page.waitForFunction(() => /\(\d+\)/.test(document.querySelector('select[name="type"] option[value="添付ファイル型"]').textContent));
    const attachCount = Number(/\((\d+)\)/.exec(await attachOption.textContent())[1]);
    assert.ok(attachCount >= 30, `attachment scenarios counted: ${attachCount}`);
    await typeSelect.selectOption('添付ファイル型');
    // the exact count line (a bare number could match the unfiltered count, e.g. 30 in 130)
    await page.locator('#gallery-results').getByText(`${attachCount} 件のシナリオ`, { exact: true }).waitFor();
    assert.equal(await card.count(), 0, 'a link-type scenario is filtered out');
    await typeSelect.selectOption('');
    await page.getByLabel('キーワード検索').fill('パスワード');
    await card.waitFor();
    await card.locator('[data-preview="ja-password-expiry"]').click();
    const preview = page.locator('dialog#preview');
    await preview.locator('.preview-subject').waitFor();
    const subject = (await preview.locator('.preview-subject').textContent()).trim();
    assert.match(subject, /[\u3040-\u30ff\u4e00-\u9fff]/, 'the subject is Japanese');
    assert.equal(await preview.locator('iframe.preview-html').getAttribute('sandbox'), '');
    await preview.getByRole('tab', { name: '見分けるポイント' }).click();
    assert.ok(await preview.locator('.red-flags li').count() > 0, 'the scenario lists red flags');
    const scenarioName = (await preview.locator('h2').first().textContent()).trim();
    await preview.locator('#preview-import').click();
    await preview.waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: 'インポート済み' }).click();
    await page.locator('#imported-scenarios tr[data-gallery="ja-password-expiry"]').waitFor();

    // A campaign with that scenario and list, created and launched.
    await goTo(page, '訓練作成');
    const form = page.locator('#campaign-form');
    await form.getByLabel('訓練シナリオ').selectOption({ label: scenarioName });
    await page.waitForFunction(() => document.querySelector('input[name="sender_local"]').value !== '');
    assert.notEqual(await form.getByLabel('ドメイン').inputValue(), '', 'the sender domain is prefilled');
    const campaignName = 'e2e パスワード訓練';
    await form.getByLabel('訓練名').fill(campaignName);
    await form.getByLabel(new RegExp(`^${listName}`)).check();
    await form.getByRole('button', { name: '作成して配信' }).click();
    await page.waitForURL(/#\/campaigns\/\d+$/);
    const campaignUrl = page.url();
    await page.getByRole('heading', { level: 1, name: campaignName }).waitFor();
    await waitForStat(page, 'targets', 3);
    await waitForStat(page, 'sent', 3);

    // The Outbox: Taro's mail, its Japanese body, and the link in it.
    await goTo(page, 'アウトボックス');
    const mailRow = page.locator('#outbox-table tr[data-to*="taro.yamada@example.jp"]');
    await mailRow.waitFor();
    await mailRow.getByRole('button').click();
    await page.locator('#mail-view').waitFor();
    assert.equal((await page.locator('.mail-subject').textContent()).trim(), subject);
    const frameEl = page.locator('iframe.mail-html');
    assert.equal(await frameEl.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox');
    const mail = page.frameLocator('iframe.mail-html');
    await mail.locator('body').waitFor();
    const body = await mail.locator('body').innerText();
    assert.match(body, /山田/, 'the merge fields are filled in');
    assert.match(body, /[\u3040-\u30ff\u4e00-\u9fff]{4}/, 'the body is Japanese');
    const link = mail.locator(`a[href^="${server.trackerUrl}"]`).first();
    const [landing] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await landing.waitForLoadState();
    assert.ok(landing.url().startsWith(server.trackerUrl), `the link goes to the tracker: ${landing.url()}`);

    // The target fills the fake form and sends it, then sees the explanation.
    const landingForm = landing.locator('form').first();
    await landingForm.waitFor();
    const inputs = landingForm.locator('input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=checkbox]):not([type=radio])');
    const n = await inputs.count();
    assert.ok(n > 0, 'the landing page has fields to fill');
    for (let i = 0; i < n; i += 1) await inputs.nth(i).fill(`e2e-${i}`);
    const submit = landingForm.locator('[type=submit]');
    if (await submit.count()) await submit.first().click();
    else await landingForm.evaluate((f) => f.requestSubmit());
    await landing.waitForURL((u) => u.pathname.startsWith('/e/'));
    assert.match(await landing.locator('body').innerText(), /訓練/);
    // The explanation page shows the mail received and its red flags.
    const review = landing.locator('section.kunren-review');
    await review.waitFor();
    assert.match(await review.innerText(), /あなたが受け取ったメール/);
    assert.ok(await review.locator('ol li').count() > 0, 'the red flags are listed');
    await landing.close();

    // Back on the campaign page, the counts come in live.
    await page.goto(campaignUrl);
    await waitForStat(page, 'opened', 1);
    await waitForStat(page, 'clicked', 1);
    await waitForStat(page, 'submitted', 1);
    const target = page.locator('#targets-table tbody tr[data-email="taro.yamada@example.jp"]');
    await target.locator('.badge--submitted').waitFor();
    await target.locator('button.expander').click();
    const events = page.locator('#targets-table tr.detail-row:not([hidden])');
    await events.locator('.badge--clicked').first().waitFor();
    assert.ok(await events.locator('.badge--submitted').count() > 0);

    // 訓練結果.csv: UTF-8 with BOM and the SPEC G3 header.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#results-csv').click()]);
    const bytes = readFileSync(await download.path());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the CSV starts with the UTF-8 BOM');
    const text = bytes.subarray(3).toString('utf8');
    assert.ok(text.startsWith('訓練名,識別コード,'), `the CSV header: ${text.slice(0, 60)}`);
    assert.match(text, /taro\.yamada@example\.jp/);
  });
});
