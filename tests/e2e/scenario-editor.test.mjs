// Browser test of the scenario editor (SPEC D2, D3): import a gallery
// scenario, edit it in the form, the visual editor and the HTML source,
// see an unknown merge field refused at its field, regenerate the text part,
// preview with sample data, save, reload, and send it in a campaign; then a
// scenario from scratch with red flags, deleted after a confirmation, and
// the refusal to delete a scenario a campaign uses.
//
//   KUNREN_BIN=build/kunren node --test tests/e2e/scenario-editor.test.mjs

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { server, useServerAndBrowser, withPage, login, goTo, apiOk, waitFor } from './server.mjs';

useServerAndBrowser();

const NEW_SUBJECT = 'e2e 【至急】{{姓}} 様 パスワード更新のお願い';
const OLD_SENTENCE = 'お疲れさまです。情報システム部 ヘルプデスクです。';
const NEW_SENTENCE = 'いつもお世話になっております。システム管理室です。';

/* ---------- the API, as a script would use it ---------- */

let apiKey = '';
let listId = 0;
const shared = { scenarioId: 0 };

const call = (method, path, body) => apiOk(apiKey, method, path, body);


before(async () => {
  // Root hooks do not wait for each other: wait for server.mjs's server.
  await waitFor('the server', () => /^Ready\.$/m.test(server.log) && server.consoleUrl, 60_000);
  const key = /API key:\s+(\S+)/.exec(server.log);
  assert.ok(key, `the server printed no API key:\n${server.log}`);
  apiKey = key[1];
  const list = await call('POST', '/lists', { name: 'e2e シナリオ編集の対象者' });
  listId = list.id;
  await call('POST', `/lists/${listId}/import`, [
    '姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象',
    '山田,太郎,taro.yamada@example.jp,営業部,課長,,,,', ''].join('\r\n'));
});

/* ---------- page helpers ---------- */

const source = (page) => page.getByLabel('HTMLパート', { exact: true });
const visual = (page) => page.frameLocator('iframe[data-editor="visual"]');

/** Waits until the HTML source textarea satisfies pred. */
async function waitForSource(page, pred, what) {
  await waitFor(what, async () => pred(await source(page).inputValue()), 10_000);
}

async function openEditorFromList(page, galleryId) {
  await goTo(page, '訓練シナリオ');
  await page.getByRole('tab', { name: 'インポート済み' }).click();
  const row = page.locator(`#imported-scenarios tr[data-gallery="${galleryId}"]`);
  await row.waitFor();
  await row.getByRole('link', { name: /^編集/ }).click();
  await page.waitForURL(/#\/scenarios\/\d+$/);
  await page.locator('iframe[data-editor="visual"]').waitFor();
  await visual(page).locator('body').waitFor();
}

/* ---------- tests ---------- */

test('an imported scenario edited in the form, the visual editor and the source', { timeout: 120_000 }, async () => {
  await withPage('scenario-edit', async ({ page }) => {
    await login(page);

    // Import from the gallery.
    await goTo(page, '訓練シナリオ');
    const galleryCard = page.locator('[data-scenario="ja-password-expiry"]');
    await galleryCard.getByRole('button', { name: /^インポート/ }).click();
    await page.locator('.toast', { hasText: 'インポートしました' }).waitFor();
    await openEditorFromList(page, 'ja-password-expiry');
    shared.scenarioId = Number(/#\/scenarios\/(\d+)$/.exec(page.url())[1]);

    // The visual editor is sandboxed without scripts; the preview frame too.
    const frame = page.locator('iframe[data-editor="visual"]');
    assert.equal(await frame.getAttribute('sandbox'), 'allow-same-origin');

    // The subject in the form; a sentence in the visual editor, followed by the source.
    await page.getByLabel('件名', { exact: true }).fill(NEW_SUBJECT);
    assert.ok((await source(page).inputValue()).includes(OLD_SENTENCE));
    const para = visual(page).locator('p', { hasText: OLD_SENTENCE });
    await para.selectText();
    await page.keyboard.type(NEW_SENTENCE);
    await waitForSource(page, (v) => v.includes(NEW_SENTENCE) && !v.includes(OLD_SENTENCE), 'the source follows the visual editor');

    // Bold and a merge field from the menu, at the caret in the visual editor.
    await visual(page).locator('p', { hasText: NEW_SENTENCE }).selectText();
    await page.getByRole('button', { name: '太字' }).click();
    await waitForSource(page, (v) => v.includes(`<b>${NEW_SENTENCE}</b>`), 'bold reaches the source');
    await page.keyboard.press('End');
    await page.getByLabel('差し込み項目を挿入').selectOption('{{役職}}');
    await waitForSource(page, (v) => v.includes('{{役職}}'), 'the merge field reaches the source');

    // An unknown merge field typed in the source: the visual editor follows, saving is refused at the field.
    const good = await source(page).inputValue();
    await source(page).fill(good.replace(NEW_SENTENCE, `${NEW_SENTENCE}{{部長}}`));
    await visual(page).locator('p', { hasText: '{{部長}}' }).waitFor();
    await page.locator('#editor-save').click();
    const htmlField = page.locator('.field[data-field="html"]');
    await htmlField.locator('.error').waitFor({ state: 'visible' });
    assert.match(await htmlField.locator('.error').textContent(), /部長/);
    assert.equal(await source(page).getAttribute('aria-invalid'), 'true');
    assert.equal((await call('GET', `/scenarios/${shared.scenarioId}`)).subject !== NEW_SUBJECT, true, 'nothing was stored');

    // Script in the source never runs and never reaches the visual editor.
    await source(page).fill(good.replace('</body>',
      '<script>parent.document.title = "pwned"</script><p id="evil" onclick="parent.document.title = \'pwned\'"><a href="javascript:parent.document.title = \'pwned\'">x</a></p></body>'));
    const evil = visual(page).locator('#evil');
    await evil.waitFor();
    assert.equal(await visual(page).locator('script').count(), 0);
    assert.equal(await evil.getAttribute('onclick'), null);
    assert.equal(await evil.locator('a').getAttribute('href'), null);
    await evil.click();
    assert.notEqual(await page.title(), 'pwned');

    // Fixed: the text part regenerated from the HTML.
    await source(page).fill(good);
    await visual(page).locator('p', { hasText: '{{部長}}' }).waitFor({ state: 'detached' });
    const text = page.getByLabel('テキストパート', { exact: true });
    await page.getByRole('button', { name: 'HTMLからテキストを再生成' }).click();
    await waitFor('the regenerated text', async () => (await text.inputValue()).includes(NEW_SENTENCE), 10_000);
    assert.ok(!(await text.inputValue()).includes('<'), 'the text part has no tags');

    // Preview with sample merge data.
    await page.getByRole('button', { name: 'プレビューを表示' }).click();
    const subject = page.locator('#editor-preview .preview-subject');
    await subject.waitFor();
    assert.match(await subject.textContent(), /山田 様/);
    const previewFrame = page.locator('#editor-preview iframe.preview-html');
    assert.equal(await previewFrame.getAttribute('sandbox'), '');
    await page.frameLocator('#editor-preview iframe.preview-html').locator('body', { hasText: '山田' }).waitFor();
    assert.equal(await htmlField.locator('.error').isHidden(), true, 'the old error is gone');

    // Save, reload, and the changes are there.
    await page.locator('#editor-save').click();
    await page.locator('#editor-messages .alert-success', { hasText: '保存しました' }).waitFor();
    await page.reload();
    await page.locator('iframe[data-editor="visual"]').waitFor();
    await page.getByLabel('件名', { exact: true }).waitFor();
    assert.equal(await page.getByLabel('件名', { exact: true }).inputValue(), NEW_SUBJECT);
    const saved = await source(page).inputValue();
    assert.ok(saved.includes(`<b>${NEW_SENTENCE}`) && saved.includes('{{役職}}'), `the saved HTML:\n${saved}`);
    assert.ok(!saved.includes('{{部長}}'));
    await visual(page).locator('b', { hasText: NEW_SENTENCE }).waitFor();
    assert.ok((await page.getByLabel('テキストパート', { exact: true }).inputValue()).includes(NEW_SENTENCE));
  });

  // A campaign sends the edited scenario.
  const sc = await call('GET', `/scenarios/${shared.scenarioId}`);
  const c = await call('POST', '/campaigns', {
    name: 'e2e 編集したシナリオ', scenario_id: sc.id, list_ids: [listId], test_only: false, exclusion_seconds: 0,
    sender: { name: sc.sender_name, local: sc.sender_local, domain: sc.sender_domain },
  });
  await call('POST', `/campaigns/${c.id}/launch`, {});
  const mail = await waitFor('the mail in the outbox', async () => {
    const items = (await call('GET', '/outbox')).items || [];
    return items.find((m) => String(m.to).includes('taro.yamada@example.jp'));
  });
  assert.equal(mail.subject, 'e2e 【至急】山田 様 パスワード更新のお願い');
  const full = await call('GET', `/outbox/${mail.id}`);
  assert.ok(full.html.includes(NEW_SENTENCE) && full.html.includes('課長'), 'the mail carries the edited HTML, merged');
  assert.ok(full.text.includes(NEW_SENTENCE), 'and the regenerated text part');
});

test('a scenario from scratch with red flags; deleting asks first and refuses one in use', { timeout: 90_000 }, async () => {
  await withPage('scenario-new', async ({ page }) => {
    await login(page);
    await goTo(page, '訓練シナリオ');
    await page.getByRole('tab', { name: 'インポート済み' }).click();
    await page.getByRole('link', { name: '新規作成' }).click();
    await page.getByRole('heading', { level: 1, name: '新規シナリオ' }).waitFor();

    // Missing name and subject: refused at the fields.
    await page.locator('#editor-save').click();
    await page.locator('.field[data-field="name"] .error').waitFor({ state: 'visible' });

    await page.getByLabel('シナリオ名', { exact: true }).fill('e2e 手作りのシナリオ');
    await page.getByLabel('件名', { exact: true }).fill('e2e 手作りの件名');
    await page.getByLabel('ジャンル').selectOption({ label: '通知系' });
    await page.getByLabel('差出人名').fill('宅配便センター');
    await page.getByLabel('差出人アドレス（@の前）').fill('info');
    await page.getByLabel('差出人ドメイン').fill('kunren-parcel.example');
    await page.getByLabel('教育用ページのURL（任意）').fill('https://learn.kunren-edu.example/phishing');
    await page.getByRole('button', { name: '見分けるポイントを追加' }).click();
    await page.getByLabel('見分けるポイント 1 の箇所').selectOption('sender');
    await page.getByLabel('見分けるポイント 1 の説明').fill('差出人のドメインが実在の宅配会社と違います。');
    await page.getByRole('button', { name: '見分けるポイントを追加' }).click();
    await page.getByLabel('見分けるポイント 2 の説明').fill('消すポイント');
    await page.getByRole('button', { name: '見分けるポイント 2 を削除' }).click();
    await page.locator('#editor-save').click();
    await page.waitForURL(/#\/scenarios\/\d+$/);
    await page.getByRole('heading', { level: 1, name: 'e2e 手作りのシナリオ' }).waitFor();
    const id = Number(/#\/scenarios\/(\d+)$/.exec(page.url())[1]);
    const stored = await call('GET', `/scenarios/${id}`);
    assert.equal(stored.genre, '通知系');
    assert.equal(stored.sender_domain, 'kunren-parcel.example');
    assert.equal(stored.education_url, 'https://learn.kunren-edu.example/phishing');
    assert.deepEqual(stored.red_flags, [{ part: 'sender', text: '差出人のドメインが実在の宅配会社と違います。' }]);
    assert.equal(await page.getByLabel('見分けるポイント 1 の箇所').inputValue(), 'sender');

    // Delete: cancel keeps it, confirm removes it.
    await page.locator('#editor-delete').click();
    await page.getByRole('dialog').getByRole('button', { name: 'キャンセル' }).click();
    assert.match(page.url(), new RegExp(`#/scenarios/${id}$`));
    await page.locator('#editor-delete').click();
    await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
    await page.waitForURL(/#\/gallery\?tab=imported$/);
    await page.locator('#imported-scenarios').waitFor();
    assert.equal(await page.locator('#imported-scenarios tr', { hasText: 'e2e 手作りのシナリオ' }).count(), 0);

    // The scenario the first test sent in a campaign cannot be deleted.
    assert.ok(shared.scenarioId, 'the first test ran');
    await page.goto(`${server.consoleUrl}#/scenarios/${shared.scenarioId}`);
    await page.locator('#editor-delete').click();
    await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
    const refusal = page.locator('#editor-messages [role="alert"]');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /訓練で使われているため削除できません/);
    assert.ok(await call('GET', `/scenarios/${shared.scenarioId}`), 'still there');
  });
});
