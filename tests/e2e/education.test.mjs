// Browser test of 教育資料 (#/education, SPEC D9): the built-in Japanese
// 訓練前の注意, an edit of its title and body saved and still there after a
// reload, the English default, the PDF download (starts with %PDF), the
// page's own checks before asking, and a read-only account (made with the
// CLI) that sees the text and the downloads but no 保存. The pure parts of
// the page are checked first, without a browser.
//
//   KUNREN_BIN=$PWD/build/kunren node --test tests/e2e/education.test.mjs

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { server, dbEnv, useServerAndBrowser, withPage, login, goTo, apiOk } from './server.mjs';
import { educationChoice, educationDownloads, educationProblems } from '../../web/js/pages/education.js';

useServerAndBrowser();

const BIN = resolve(process.env.KUNREN_BIN || 'build/kunren');
const VIEWER = { username: 'e2e-edu-viewer', password: 'e2e-edu-viewer-password-1' };
const NEW_TITLE = 'e2e 訓練前のお願い';
const NEW_BODY = '来週、訓練メールが届きます。\n落ち着いて確認してください。\n\n怪しいと思ったら情報システム部へ報告してください。';

/* ---------- the pure parts (no browser) ---------- */

test('the kind and language come from the hash, with fallbacks', () => {
  assert.deepEqual(educationChoice({}, 'ja'), { kind: 'before', lang: 'ja' });
  assert.deepEqual(educationChoice({}, 'en'), { kind: 'before', lang: 'en' }, 'the console language by default');
  assert.deepEqual(educationChoice({ kind: 'after', lang: 'en' }, 'ja'), { kind: 'after', lang: 'en' });
  assert.deepEqual(educationChoice({ kind: 'during', lang: 'fr' }, 'de'), { kind: 'before', lang: 'ja' });
  assert.deepEqual(educationDownloads('after', 'en'), {
    html: '/api/v1/education/after.html?lang=en', pdf: '/api/v1/education/after.pdf?lang=en',
  });
});

test('the page refuses an empty, long or multi-line title and an empty or long body', () => {
  assert.deepEqual(educationProblems('題', '本文'), {});
  assert.deepEqual(educationProblems(' ', ''), { title: 'education.err_title', body: 'education.err_body' });
  assert.deepEqual(educationProblems('あ'.repeat(200), 'x'), {}, '200 characters, counted as characters');
  assert.deepEqual(educationProblems('𠮷'.repeat(200), 'x'), {}, 'characters outside the BMP count once');
  assert.deepEqual(educationProblems('あ'.repeat(201), 'x'), { title: 'education.err_title_long' });
  assert.deepEqual(educationProblems('一行目\n二行目', 'x'), { title: 'education.err_title_line' });
  assert.deepEqual(educationProblems('題', 'x'.repeat(20001)), { body: 'education.err_body_long' });
});

/* ---------- the server side: a read-only account made with the CLI ---------- */

async function waitFor(what, fn, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs `kunren <args>` on the test server's data folder (the CLI and the server share the database). */
function cli(args, env = {}) {
  const r = spawnSync(BIN, args, {
    cwd: server.dir, encoding: 'utf8', timeout: 30_000,
    env: { ...process.env, KUNREN_DATA: join(server.dir, 'data'), ...dbEnv(), ...env },
  });
  assert.equal(r.status, 0, `kunren ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

let apiKey = '';

const call = (method, path) => apiOk(apiKey, method, path);

before(async () => {
  // Root hooks do not wait for each other: wait for server.mjs's server.
  await waitFor('the server', () => /^Ready\.$/m.test(server.log) && server.consoleUrl);
  const key = /API key:\s+(\S+)/.exec(server.log);
  assert.ok(key, `the server printed no API key:\n${server.log}`);
  apiKey = key[1];
  const me = await call('GET', '/me');
  cli(['user', 'add', String(me.user.tenant_id), VIEWER.username, 'readonly'], { KUNREN_NEW_PASSWORD: VIEWER.password });
});

/* ---------- the browser ---------- */

async function loginAs(page, username, password) {
  await page.goto(server.consoleUrl);
  await page.getByLabel('ユーザー名').fill(username);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();
}

/** Fetches a download link of the page with the page's own cookie: {status, type, disposition, bytes}. */
async function fetchFromPage(page, href) {
  return page.evaluate(async (url) => {
    const res = await fetch(url, { credentials: 'same-origin' });
    const buf = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'),
      bytes: Array.from(buf.slice(0, 8)), size: buf.length,
    };
  }, href);
}

test('a trainer reads the built-in text, edits and saves it, and downloads the PDF', { timeout: 120_000 }, async () => {
  await withPage('education-edit', async ({ page }) => {
    await login(page);
    await goTo(page, '教育資料');
    const title = page.getByLabel('タイトル', { exact: true });
    const body = page.getByLabel('本文', { exact: true });
    const state = page.locator('#education-state');

    // The built-in Japanese 訓練前の注意.
    assert.equal(await page.getByLabel('種類').inputValue(), 'before');
    assert.equal(await page.getByLabel('言語', { exact: true }).inputValue(), 'ja');
    assert.equal(await title.inputValue(), '訓練前の注意：不審なメールの見分け方');
    assert.match(await body.inputValue(), /■ 差出人を確かめる\n/);
    assert.match(await body.inputValue(), /\n\n■ リンクの行き先を確かめる\n/, 'paragraphs are separated by blank lines');
    assert.equal(await state.getAttribute('data-edited'), 'false');
    assert.match(await state.textContent(), /組み込みの文面/);
    assert.equal(await page.locator('#education-pdf').getAttribute('href'), '/api/v1/education/before.pdf?lang=ja');
    assert.equal(await page.locator('#education-html').getAttribute('href'), '/api/v1/education/before.html?lang=ja');

    // An empty title is refused at its field before asking.
    await title.fill('');
    let puts = 0;
    page.on('request', (r) => { if (r.method() === 'PUT') puts += 1; });
    await page.getByRole('button', { name: '保存', exact: true }).click();
    await page.locator('[data-field="title"] .error', { hasText: 'タイトルを入力してください' }).waitFor();
    assert.equal(await title.getAttribute('aria-invalid'), 'true');
    assert.equal(puts, 0, 'nothing was sent');

    // Edit and save.
    await title.fill(NEW_TITLE);
    await body.fill(NEW_BODY);
    const put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith('/api/v1/education/before'));
    await page.getByRole('button', { name: '保存', exact: true }).click();
    const res = await put;
    assert.equal(res.status(), 200);
    assert.deepEqual(JSON.parse(res.request().postData()), { lang: 'ja', title: NEW_TITLE, body: NEW_BODY });
    await page.locator('.toast', { hasText: '訓練前の注意（日本語）を保存しました' }).waitFor();
    assert.equal(await state.getAttribute('data-edited'), 'true');
    assert.equal(await title.getAttribute('aria-invalid'), null, 'the error is gone');

    // A reload shows the edit.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: '教育資料' }).waitFor();
    assert.equal(await title.inputValue(), NEW_TITLE);
    assert.equal(await body.inputValue(), NEW_BODY);
    assert.equal(await state.getAttribute('data-edited'), 'true');
    assert.match(await state.textContent(), /最終更新 \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}/);

    // English: its own default, untouched by the Japanese edit; the choice is kept in the hash.
    await page.getByLabel('言語', { exact: true }).selectOption('en');
    await page.waitForFunction(() => (document.getElementById('education-title') || {}).value?.startsWith('Before the drill'));
    assert.equal(await title.inputValue(), 'Before the drill: how to spot a phishing email');
    assert.equal(await state.getAttribute('data-edited'), 'false');
    assert.match(page.url(), /#\/education\?kind=before&lang=en$/);
    const pdfHref = await page.locator('#education-pdf').getAttribute('href');
    assert.equal(pdfHref, '/api/v1/education/before.pdf?lang=en');

    // The PDF of the shown kind and language, through the link.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#education-pdf').click()]);
    assert.equal(download.suggestedFilename(), 'before-the-drill.pdf');
    const file = await download.path();
    assert.equal(readFileSync(file).subarray(0, 5).toString('latin1'), '%PDF-');

    // The Japanese PDF and HTML with the page's cookie: the saved text.
    const pdf = await fetchFromPage(page, '/api/v1/education/before.pdf?lang=ja');
    assert.equal(pdf.status, 200);
    assert.equal(Buffer.from(pdf.bytes).subarray(0, 4).toString('latin1'), '%PDF');
    assert.match(pdf.disposition, /attachment/);
    const html = await page.evaluate(async () => (await fetch('/api/v1/education/before.html?lang=ja')).text());
    assert.ok(html.includes(NEW_TITLE), 'the HTML download carries the saved title');

    // 訓練後の振り返り: the after-drill default, and unsaved edits are not lost without asking.
    await page.getByLabel('言語', { exact: true }).selectOption('ja');
    await page.waitForFunction((t) => (document.getElementById('education-title') || {}).value === t, NEW_TITLE);
    await body.fill(`${NEW_BODY}\n\n追記`);
    await page.getByLabel('種類').selectOption('after');
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'キャンセル' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() => (document.getElementById('education-kind') || {}).value === 'before');
    assert.equal(await page.getByLabel('種類').inputValue(), 'before', 'cancelled: the choice goes back');
    assert.match(await body.inputValue(), /追記$/);
    await page.getByLabel('種類').selectOption('after');
    await dialog.getByRole('button', { name: '破棄して開く' }).click();
    await page.waitForFunction(() => (document.getElementById('education-title') || {}).value?.startsWith('訓練後'));
    assert.equal(await state.getAttribute('data-edited'), 'false');
    assert.equal(await page.locator('#education-pdf').getAttribute('href'), '/api/v1/education/after.pdf?lang=ja');
  });
});

test('a read-only account reads the text and downloads it, without 保存', { timeout: 90_000 }, async () => {
  await withPage('education-readonly', async ({ page }) => {
    await loginAs(page, VIEWER.username, VIEWER.password);
    await goTo(page, '教育資料');
    assert.equal(await page.getByLabel('タイトル', { exact: true }).inputValue(), NEW_TITLE, 'the tenant\'s edit');
    assert.match(await page.locator('#main').textContent(), /閲覧専用のアカウント/);
    assert.equal(await page.getByRole('button', { name: '保存' }).count(), 0);
    assert.equal(await page.locator('#education-save').count(), 0);
    assert.equal(await page.getByLabel('タイトル', { exact: true }).getAttribute('readonly'), '');
    assert.equal(await page.getByLabel('本文', { exact: true }).getAttribute('readonly'), '');
    await page.locator('#education-html').waitFor();
    const pdf = await fetchFromPage(page, await page.locator('#education-pdf').getAttribute('href'));
    assert.equal(pdf.status, 200);
    assert.equal(Buffer.from(pdf.bytes).subarray(0, 4).toString('latin1'), '%PDF');
  });
});
