// Browser test of the scenario editor's attachment section (issue 5, SPEC
// D5): a person opens an attachment scenario, sees a broken file refused
// with the reason, uploads a real PDF (made by LibreOffice here), picks it,
// chooses a password zip, saves, and downloads the sample — a zip that
// `unzip -P` opens to a PDF `qpdf --check` accepts.  Then the campaign page
// of a launched attachment drill: a target whose PDF link (/p/<rid>) and
// file beacon (/f/<rid>.png) reached the tracker shows both as ファイル開封
// in its history, each with how it came in (PDF内リンククリック, and
// ファイルを開いたときの通信 for the picture).
//
//   KUNREN_BIN=build/kunren node --test tests/e2e/attachments.test.mjs

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { server, useServerAndBrowser, withPage, login, apiOk, waitFor, PERSON_UA } from './server.mjs';

useServerAndBrowser();

let apiKey = '';

const call = (method, path, body) => apiOk(apiKey, method, path, body);


/** A genuine PDF: LibreOffice converts a text file, with a profile of its own. */
function makePdf(dir) {
  const txt = join(dir, '業務手順書.txt');
  writeFileSync(txt, '業務手順書\n第1章 はじめに\n');
  const profile = mkdtempSync(join(tmpdir(), 'kunren-lo-'));
  try {
    execFileSync('soffice', ['--headless', '--norestore', `-env:UserInstallation=file://${profile}`,
      '--convert-to', 'pdf', '--outdir', dir, txt], { stdio: 'pipe', timeout: 180_000 });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  return join(dir, '業務手順書.pdf');
}

let scenarioId = 0;

before(async () => {
  await waitFor('the server', () => /^Ready\.$/m.test(server.log) && server.consoleUrl, 60_000);
  apiKey = /API key:\s+(\S+)/.exec(server.log)[1];
  const sc = await call('POST', '/scenarios', {
    name: 'e2e 添付ファイル訓練', type: '添付ファイル型', subject: '{{姓}} 様 資料送付',
    html: '<html><body><p>{{姓}} 様</p><p>資料を添付します。</p></body></html>',
    text: '{{姓}} 様\n資料を添付します。\nパスワード: {{パスワード}}\n',
    explain_html: '<html><body><h1>訓練です</h1></body></html>',
    attachment: { kind: 'docx', filename: '資料.docx', title: '資料', body: ['本文'] },
  });
  scenarioId = sc.id;
});

test('a trainer uploads a PDF, picks a password zip, saves and downloads the sample', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kunren-e2e-att-'));
  const pdf = makePdf(dir);
  const junk = join(dir, '壊れた.pdf');
  writeFileSync(junk, Buffer.from('this is not a PDF at all, only text pretending'));
  await withPage('attachments', async ({ page }) => {
    await login(page);
    await page.goto(`${server.consoleUrl}#/scenarios/${scenarioId}`);
    await page.getByRole('heading', { level: 1, name: 'e2e 添付ファイル訓練' }).waitFor();
    const section = page.locator('#attachment-section');
    await section.waitFor();

    await page.getByLabel('ファイルの作り方').selectOption('upload');
    // a broken file: refused, the reason shown, nothing to pick
    await page.locator('#attachment-file').setInputFiles(junk);
    await page.getByRole('button', { name: 'アップロード', exact: true }).click();
    const err = page.locator('#attachment-file-error');
    await err.waitFor();
    assert.match(await err.textContent(), /壊れた\.pdf: .*PDF/);
    assert.equal((await call('GET', '/uploads')).items.length, 0);

    // the real one: uploaded, picked, its kind and name taken over
    await page.locator('#attachment-file').setInputFiles(pdf);
    await page.getByRole('button', { name: 'アップロード', exact: true }).click();
    await waitFor('the upload to be picked', async () => (await page.getByLabel('使うファイル').inputValue()) !== '');
    assert.equal(await err.isHidden(), true);
    assert.equal(await page.getByLabel('種類').inputValue(), 'pdf');
    await page.getByLabel('ファイル名').fill('業務手順書_{{姓}}.pdf');
    await page.getByLabel('圧縮').selectOption('password');
    await page.getByRole('button', { name: '保存', exact: true }).click();
    await page.locator('#editor-messages').getByText('保存しました').waitFor();

    const [upload] = (await call('GET', '/uploads')).items;
    assert.equal(upload.name, '業務手順書.pdf');
    assert.equal(upload.size, statSync(pdf).size);
    const saved = await call('GET', `/scenarios/${scenarioId}`);
    assert.deepEqual(saved.attachment, {
      kind: 'pdf', filename: '業務手順書_{{姓}}.pdf', source: 'upload', upload: upload.id, archive: 'password',
    });

    // the sample: a password zip for the made-up 山田 太郎
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: '見本をダウンロード' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), '業務手順書_山田.zip');
    const zip = join(dir, 'sample.zip');
    await download.saveAs(zip);
    // the sample's rid is "sample": its password is the short-rid one (content_zip_password)
    execFileSync('unzip', ['-q', '-P', 'Kr000000', '-d', join(dir, 'out'), zip]);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['業務手順書_山田.pdf']);
    execFileSync('qpdf', ['--check', join(dir, 'out', '業務手順書_山田.pdf')], { stdio: 'pipe' });
  });
  rmSync(dir, { recursive: true, force: true });
});

test('a target\'s file opens show in its history with how they came in', { timeout: 120_000 }, async () => {
  // a drill made through the API (the console flow is drill.test.mjs)
  const list = await call('POST', '/lists', { name: 'e2e 添付ファイル開封' });
  await call('POST', `/lists/${list.id}/import`, [
    '姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象',
    '山田,太郎,taro.yamada@example.jp,営業部,課長,,,,',
    '佐藤,花子,hanako.sato@example.jp,総務部,主任,,,,',
    '',
  ].join('\r\n'));
  const sc = await call('POST', '/scenarios', {
    name: 'e2e PDF 添付訓練', type: '添付ファイル型', subject: '{{姓}} 様 請求書送付',
    html: '<html><body><p>{{姓}} 様</p><p>請求書を添付します。</p></body></html>',
    text: '{{姓}} 様\n請求書を添付します。\n',
    explain_html: '<html><body><h1>訓練です</h1></body></html>',
    attachment: { kind: 'pdf', filename: '請求書.pdf', title: '請求書', body: ['ご確認ください。'] },
  });
  const campaign = await call('POST', '/campaigns', {
    name: 'e2e 添付ファイル開封', scenario_id: sc.id, list_ids: [list.id],
    sender: { name: '経理部', local: 'keiri', domain: 'kunren-sys.example' },
    test_only: false, exclusion_seconds: 0,
  });
  await call('POST', `/campaigns/${campaign.id}/launch`, {});
  const targets = await waitFor('the targets sent', async () => {
    const items = (await call('GET', `/campaigns/${campaign.id}/targets`)).items;
    return items.length === 2 && items.every((x) => x.rid && x.sent_at) ? items : null;
  });
  const target = targets.find((x) => x.email === 'taro.yamada@example.jp');
  const other = targets.find((x) => x.email !== target.email);

  // the person clicks the link inside the PDF, then a viewer fetches the
  // file's beacon picture: what the tracker sees from the file
  const headers = { 'User-Agent': PERSON_UA };
  const link = await fetch(`${server.trackerUrl}p/${target.rid}`, { headers, redirect: 'manual' });
  assert.equal(link.status, 303);
  assert.match(link.headers.get('location'), new RegExp(`/e/${target.rid}$`));
  const beacon = await fetch(`${server.trackerUrl}f/${target.rid}.png`, { headers });
  assert.equal(beacon.status, 200);
  assert.equal(beacon.headers.get('content-type'), 'image/png');
  await beacon.arrayBuffer();
  // stored (the tracker commits in groups) before the page is looked at
  await waitFor('both file opens stored', async () => {
    const items = (await call('GET', `/campaigns/${campaign.id}/targets`)).items;
    const evs = items.find((x) => x.id === target.id).events || [];
    return evs.filter((e) => e.kind === 'file_opened').length === 2;
  });

  await withPage('attachments-file-open', async ({ page }) => {
    await login(page);
    await page.goto(`${server.consoleUrl}#/campaigns/${campaign.id}`);
    await page.getByRole('heading', { level: 1, name: 'e2e 添付ファイル開封' }).waitFor();
    const row = page.locator(`#targets-table tr[data-target="${target.id}"]`);
    await row.waitFor();
    assert.equal((await row.locator('.target-status').textContent()).trim(), 'ファイル開封');

    // expand the row: its history lists the two file opens, each labelled
    const expander = page.getByRole('button', { name: '山田 太郎 のイベントを表示' });
    await expander.click();
    assert.equal(await expander.getAttribute('aria-expanded'), 'true');
    const history = page.locator(`#${await expander.getAttribute('aria-controls')}`);
    const opens = history.locator('tr[data-kind="file_opened"]');
    await waitFor('two file opens in the history', async () => (await opens.count()) === 2);

    const viaLink = opens.filter({ has: page.locator('.event-via[data-via="pdf_link"]') });
    const viaImage = opens.filter({ has: page.locator('.event-via[data-via="image"]') });
    assert.equal(await viaLink.count(), 1);
    assert.equal(await viaImage.count(), 1);
    for (const [ev, label] of [[viaLink, 'PDF内リンククリック'], [viaImage, 'ファイルを開いたときの通信']]) {
      assert.equal((await ev.locator('td').nth(1).locator('.event-via').textContent()).trim(), label);
      assert.match(await ev.locator('td').nth(1).textContent(), /^ファイル開封/);
      // a person's open, not a mail-check system's
      assert.equal(await ev.getAttribute('data-machine'), 'false');
    }
    assert.equal(await history.locator('tr[data-kind="clicked"]').count(), 0, 'a PDF link is no mail link click');

    // the other target was sent the same file and opened nothing
    const otherExp = page.locator(`#targets-table tr[data-target="${other.id}"] button.expander`);
    await otherExp.click();
    const otherHistory = page.locator(`#${await otherExp.getAttribute('aria-controls')}`);
    await otherHistory.locator('tr[data-kind="sent"]').waitFor();
    assert.equal(await otherHistory.locator('tr[data-kind="file_opened"]').count(), 0);
    assert.equal(await otherHistory.locator('.event-via').count(), 0);
  });
});
