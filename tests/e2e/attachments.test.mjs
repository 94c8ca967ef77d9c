// Browser test of the scenario editor's attachment section (issue 5, SPEC
// D5): a person opens an attachment scenario, sees a broken file refused
// with the reason, uploads a real PDF (made by LibreOffice here), picks it,
// chooses a password zip, saves, and downloads the sample — a zip that
// `unzip -P` opens to a PDF `qpdf --check` accepts.
//
//   KUNREN_BIN=build/kunren node --test tests/e2e/attachments.test.mjs

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { server, useServerAndBrowser, withPage, login, apiOk, waitFor } from './server.mjs';

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
