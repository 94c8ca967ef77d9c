// Browser test of the recipient lists (配信リスト) as a trainer uses them with
// what HR departments export: a Shift_JIS file saved by Excel, a broken file
// fixed after reading the problem table, a list of 250 to search, sort and
// page through, single recipients added, edited and deleted, selected rows
// and a file of addresses deleted, renaming, the in_use refusal, and export.
// The server and browser come from server.mjs (see there for KUNREN_BIN).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useServerAndBrowser, withPage, login, goTo, createList } from './server.mjs';

useServerAndBrowser();

const BOM = [0xef, 0xbb, 0xbf];
const HEADER = '姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象';

/*
 * A file as Excel on Japanese Windows saves "CSV (コンマ区切り)": Shift_JIS
 * (CP932), CRLF, no BOM. The bytes come from `iconv -f UTF-8 -t CP932` of:
 *   姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象
 *   山田,太郎①,taro.yamada@example.jp,㈱本社 営業部,課長,10～12月,,,1
 *   髙橋,花子,hanako.takahashi@example.jp,総務部,主任,㈱サンプル,②,,
 * ①/② (0x8740/0x8741), ㈱ (0x878A), ～ (0x8160, FULLWIDTH TILDE) and 髙
 * (0xFBFC, IBM extension) exist only in CP932, not in plain Shift_JIS.
 */
const CP932_HEX = [
  '90a92c96bc2c8381815b838b83418368838c83582c95948f902c96f090452c8d8096da2c8d8096da322c8d8096da332c83658358836791ce8fdb0d0a',
  '8e5293632c91be985987402c7461726f2e79616d616461406578616d706c652e6a702c878a967b8ed02089638bc695942c89db92b72c3130816031328c8e2c2c2c310d0a',
  'fbfc8bb42c89d48e712c68616e616b6f2e74616b616861736869406578616d706c652e6a702c918d96b195942c8ee594432c878a835483938376838b2c87412c2c0d0a',
].join('');

/* ---------- helpers ---------- */

const recipientRow = (page, email) => page.locator(`#recipients-table tbody tr[data-email="${email}"]`);

/** Chooses a file (bytes or text) in the import form and imports it. */
async function chooseAndImport(page, name, content) {
  const buffer = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  await page.getByLabel('CSV ファイル').setInputFiles({ name, mimeType: 'text/csv', buffer });
  await page.getByRole('button', { name: '取り込む', exact: true }).click();
}

/** Imports and waits for the success message; returns its text. */
async function importOk(page, name, content) {
  await chooseAndImport(page, name, content);
  const done = page.locator('#import-result .alert-success');
  await done.waitFor();
  return (await done.textContent()).trim();
}

async function pagerRange(page) {
  return (await page.locator('#pager-range').textContent()).trim();
}

/** Waits until the pager shows the range (the table has been redrawn). */
async function waitForRange(page, text) {
  await page.waitForFunction((want) => {
    const el = document.querySelector('#pager-range');
    return el && el.textContent.trim() === want && !document.querySelector('.recipients-body[aria-busy]');
  }, text);
}

async function columnTexts(page, index) {
  return page.locator('#recipients-table tbody tr').evaluateAll(
    (rows, i) => rows.map((r) => r.children[i].textContent.trim()), index);
}

/** Clicks a link that downloads; returns the bytes. */
async function download(page, locator) {
  const [dl] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  return readFileSync(await dl.path());
}

/** 250 recipients in five departments, as Excel's "Unicode text": UTF-16 LE with BOM, tab-separated. */
function bigListUtf16() {
  const depts = ['営業部', '総務部', '経理部', '開発部', '人事部'];
  const lines = [HEADER.split(',').join('\t')];
  for (let i = 1; i <= 250; i += 1) {
    const id = String(i).padStart(3, '0');
    const [last, first] = i === 137 ? ['小鳥遊', '一葉'] : ['社員', `${id}号`];
    lines.push([last, first, `user${id}@example.jp`, depts[i % 5], '', '', '', '', ''].join('\t'));
  }
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf16le')]);
}

/* ---------- tests ---------- */

test('a Shift_JIS (CP932) file from Excel keeps ①, ㈱ and ～; export in UTF-8 and Shift_JIS', async () => {
  await withPage('lists-cp932', async ({ page }) => {
    await login(page);
    await createList(page, 'e2e Excel の CSV');
    const done = await importOk(page, 'excel-sjis.csv', Buffer.from(CP932_HEX, 'hex'));
    assert.match(done, /新規 2 件、上書き 0 件、スキップ 0 件/);
    assert.match(await page.locator('#import-encoding').textContent(), /Shift_JIS \(CP932\)/);

    const taro = recipientRow(page, 'taro.yamada@example.jp');
    await taro.waitFor();
    const taroCells = await taro.locator('td').allTextContents();
    assert.deepEqual(taroCells.slice(1, 10).map((s) => s.trim()),
      ['山田', '太郎①', 'taro.yamada@example.jp', '㈱本社 営業部', '課長', '10～12月', '', '', 'テスト対象']);
    const hanako = await recipientRow(page, 'hanako.takahashi@example.jp').locator('td').allTextContents();
    assert.deepEqual(hanako.slice(1, 10).map((s) => s.trim()),
      ['髙橋', '花子', 'hanako.takahashi@example.jp', '総務部', '主任', '㈱サンプル', '②', '', '']);
    assert.equal((await page.locator('#recipient-count').textContent()).trim(), '2');
    assert.equal((await page.locator('#test-count').textContent()).trim(), '1');

    // Export: UTF-8 with BOM and the template's header…
    const utf8 = await download(page, page.locator('#export-utf8'));
    assert.deepEqual([...utf8.subarray(0, 3)], BOM, 'the UTF-8 export starts with the BOM');
    const text = utf8.subarray(3).toString('utf8');
    assert.ok(text.startsWith(`${HEADER}\r\n`) || text.startsWith(`${HEADER}\n`), `the header: ${text.slice(0, 80)}`);
    assert.match(text, /山田,太郎①,taro\.yamada@example\.jp,㈱本社 営業部,課長,10～12月,,,1/);
    assert.match(text, /髙橋,花子,hanako\.takahashi@example\.jp/);
    // …and Shift_JIS (CP932) without BOM, which Excel opens as it is.
    const sjis = await download(page, page.locator('#export-sjis'));
    assert.notDeepEqual([...sjis.subarray(0, 3)], BOM);
    assert.ok(sjis.subarray(0, 16).equals(Buffer.from(CP932_HEX, 'hex').subarray(0, 16)), 'the header in CP932 bytes');
    const decoded = new TextDecoder('shift_jis').decode(sjis);
    assert.match(decoded, /太郎①/);
    assert.match(decoded, /㈱サンプル,②/);
  });
});

test('a broken file shows its problems by line, as a table and as CSV; the fixed file imports', async () => {
  await withPage('lists-broken', async ({ page }) => {
    await login(page);
    await createList(page, 'e2e 修正する CSV');
    const rows = [
      HEADER,
      '田中,次郎,jiro.tanaka@example.jp,経理部,,,,,',
      '高橋,三郎,saburo.takahashi@@example.jp,経理部,,,,,',
      '伊藤,四郎,shiro.ito@example.jp,人事部,,,,,2',
    ];
    // Excel's "CSV UTF-8": with BOM.
    await chooseAndImport(page, 'broken.csv', `\ufeff${rows.join('\r\n')}\r\n`);
    const problems = page.locator('#import-problems');
    await problems.waitFor();
    assert.match(await page.locator('#import-result [role="alert"]').textContent(), /2 件の問題/);
    assert.equal((await page.locator('#import-problems-count').textContent()).trim(), '2 件');
    const lines = () => problems.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.children[0].textContent.trim()));
    assert.deepEqual(await lines(), ['3', '4']);
    const bad = problems.locator('tbody tr[data-line="3"] td');
    assert.equal((await bad.nth(1).textContent()).trim(), 'メールアドレス');
    assert.equal((await bad.nth(2).textContent()).trim(), 'saburo.takahashi@@example.jp');
    const flag = problems.locator('tbody tr[data-line="4"] td');
    assert.equal((await flag.nth(1).textContent()).trim(), 'テスト対象');
    assert.equal((await flag.nth(2).textContent()).trim(), '2');
    assert.match(await flag.nth(3).textContent(), /テスト対象|1/);

    // Sorted by line, the other way round and back.
    const lineHeader = problems.locator('thead th').first();
    assert.equal(await lineHeader.getAttribute('aria-sort'), 'ascending');
    await lineHeader.getByRole('button').click();
    assert.equal(await problems.locator('thead th').first().getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await lines(), ['4', '3']);
    await problems.locator('thead th').first().getByRole('button').click();
    assert.deepEqual(await lines(), ['3', '4']);

    // The problems as CSV, made in the page: UTF-8 with BOM, in line order.
    const csv = await download(page, page.getByRole('button', { name: '問題の一覧を CSV でダウンロード' }));
    assert.deepEqual([...csv.subarray(0, 3)], BOM);
    const csvLines = csv.subarray(3).toString('utf8').split('\r\n');
    assert.equal(csvLines[0], '行,列,値,理由');
    assert.match(csvLines[1], /^3,メールアドレス,saburo\.takahashi@@example\.jp,/);
    assert.match(csvLines[2], /^4,テスト対象,2,/);

    // Nothing was written.
    await page.getByText('宛先がまだありません').waitFor();
    assert.equal((await page.locator('#recipient-count').textContent()).trim(), '0');

    // The trainer fixes both lines and imports again.
    rows[2] = '高橋,三郎,saburo.takahashi@example.jp,経理部,,,,,';
    rows[3] = '伊藤,四郎,shiro.ito@example.jp,人事部,,,,,1';
    const done = await importOk(page, 'fixed.csv', `\ufeff${rows.join('\r\n')}\r\n`);
    assert.match(done, /新規 3 件、上書き 0 件、スキップ 0 件/);
    assert.match(await page.locator('#import-encoding').textContent(), /UTF-8/);
    assert.equal(await page.locator('#import-problems').count(), 0, 'the problem table is gone');
    await recipientRow(page, 'saburo.takahashi@example.jp').waitFor();
    assert.equal(await page.locator('#recipients-table tbody tr').count(), 3);
    assert.equal((await page.locator('#test-count').textContent()).trim(), '1');

    // Importing the same file again overwrites (上書き).
    assert.match(await importOk(page, 'fixed.csv', `\ufeff${rows.join('\r\n')}\r\n`), /新規 0 件、上書き 3 件/);
  });
});

test('250 recipients: search, sort by 部署 and page through 100 at a time', { timeout: 120_000 }, async () => {
  await withPage('lists-paging', async ({ page }) => {
    await login(page);
    await createList(page, 'e2e 250 名');
    const done = await importOk(page, 'unicode-text.txt', bigListUtf16());
    assert.match(done, /新規 250 件/);
    assert.match(await page.locator('#import-encoding').textContent(), /UTF-16/);
    await waitForRange(page, '1–100 / 250 件');

    // Page size 50, then 100.
    await page.getByLabel('表示件数').selectOption('50');
    await waitForRange(page, '1–50 / 250 件');
    assert.equal(await page.locator('#recipients-table tbody tr').count(), 50);
    assert.match(page.url(), /size=50/);
    await page.getByLabel('表示件数').selectOption('100');
    await waitForRange(page, '1–100 / 250 件');
    assert.equal(await page.locator('#recipients-table tbody tr').count(), 100);
    assert.ok(await page.locator('#page-prev').isDisabled());

    // Next, next: the last page has 50 and no next.
    await page.getByRole('button', { name: '次へ' }).click();
    await waitForRange(page, '101–200 / 250 件');
    assert.equal((await columnTexts(page, 3))[0], 'user101@example.jp');
    await page.getByRole('button', { name: '次へ' }).click();
    await waitForRange(page, '201–250 / 250 件');
    assert.equal(await page.locator('#recipients-table tbody tr').count(), 50);
    assert.ok(await page.locator('#page-next').isDisabled());
    // Jump to page 2, then back.
    await page.getByLabel('ページ', { exact: true }).fill('2');
    await page.getByRole('button', { name: '移動' }).click();
    await waitForRange(page, '101–200 / 250 件');
    await page.getByRole('button', { name: '前へ' }).click();
    await waitForRange(page, '1–100 / 250 件');
    assert.equal((await columnTexts(page, 3))[0], 'user001@example.jp');

    // A reload keeps the page (the state is in the URL).
    await page.getByRole('button', { name: '次へ' }).click();
    await waitForRange(page, '101–200 / 250 件');
    await page.reload();
    await waitForRange(page, '101–200 / 250 件');

    // Search (server-side, as the trainer types).
    await page.getByLabel('宛先を検索').fill('小鳥遊');
    await waitForRange(page, '1–1 / 1 件');
    assert.deepEqual(await columnTexts(page, 3), ['user137@example.jp']);
    await page.getByLabel('宛先を検索').fill('zzz-nobody');
    await page.getByRole('heading', { name: '一致する宛先がありません' }).waitFor();
    await page.getByLabel('宛先を検索').fill('');
    await waitForRange(page, '1–100 / 250 件');

    // Sort by 部署: each department is one run of rows; descending starts elsewhere.
    const dept = page.locator('#recipients-table thead th', { hasText: '部署' });
    await dept.getByRole('button').click();
    await page.waitForFunction(() => document.querySelector('#recipients-table thead th[aria-sort="ascending"]')?.textContent.includes('部署'));
    await waitForRange(page, '1–100 / 250 件');
    const asc = await columnTexts(page, 4);
    const runs = asc.filter((d, i) => i === 0 || d !== asc[i - 1]);
    assert.equal(new Set(runs).size, runs.length, `departments are grouped: ${runs.join(' ')}`);
    assert.deepEqual(runs.length, 2, 'two departments of 50 on the first page');
    await dept.getByRole('button').click();
    await page.waitForFunction(() => document.querySelector('#recipients-table thead th[aria-sort="descending"]')?.textContent.includes('部署'));
    await waitForRange(page, '1–100 / 250 件');
    const desc = await columnTexts(page, 4);
    assert.notEqual(desc[0], asc[0]);
    assert.ok(!desc.slice(0, 100).includes(asc[0]), 'the first department ascending is last descending');
  });
});

test('add (with a field error first), edit and delete recipients; delete selected rows and by a file', async () => {
  await withPage('lists-edit', async ({ page }) => {
    await login(page);
    await createList(page, 'e2e 手入力');
    await importOk(page, 'four.csv', [
      HEADER,
      'A,一,a1@example.jp,営業部,,,,,',
      'B,二,b2@example.jp,営業部,,,,,',
      'C,三,c3@example.jp,営業部,,,,,',
      'D,四,d4@example.jp,営業部,,,,,',
      '',
    ].join('\r\n'));
    await recipientRow(page, 'd4@example.jp').waitFor();

    // Add: a bad address comes back as an error at the field.
    await page.getByRole('button', { name: '宛先を追加' }).click();
    const dialog = page.locator('#recipient-dialog');
    await dialog.getByLabel('姓').fill('中村');
    await dialog.getByLabel('名', { exact: true }).fill('五郎');
    await dialog.getByLabel('メールアドレス').fill('goro.nakamura@@example.jp');
    await dialog.getByLabel('部署').fill('開発部');
    await dialog.getByLabel('役職').fill('主任');
    await dialog.getByLabel('項目', { exact: true }).fill('東京');
    await dialog.getByLabel('テスト対象にする').check();
    await dialog.getByRole('button', { name: '追加' }).click();
    const emailError = dialog.locator('[data-field="email"] .error');
    await emailError.waitFor({ state: 'visible' });
    assert.match(await emailError.textContent(), /メールアドレス/);
    assert.equal(await dialog.getByLabel('メールアドレス').getAttribute('aria-invalid'), 'true');
    await dialog.getByLabel('メールアドレス').fill('goro.nakamura@example.jp');
    await dialog.getByRole('button', { name: '追加' }).click();
    await dialog.waitFor({ state: 'detached' });
    const goro = recipientRow(page, 'goro.nakamura@example.jp');
    await goro.waitFor();
    assert.match(await goro.textContent(), /中村.*五郎.*開発部.*主任.*東京.*テスト対象/);
    assert.equal((await page.locator('#recipient-count').textContent()).trim(), '5');

    // The same address again: 409 exists, shown at the address.
    await page.getByRole('button', { name: '宛先を追加' }).click();
    await dialog.getByLabel('メールアドレス').fill('goro.nakamura@example.jp');
    await dialog.getByRole('button', { name: '追加' }).click();
    await emailError.waitFor({ state: 'visible' });
    assert.match(await emailError.textContent(), /すでにリストにあります/);
    await dialog.getByRole('button', { name: 'キャンセル' }).click();
    await dialog.waitFor({ state: 'detached' });

    // Edit: the form comes filled; change 役職 and drop テスト対象.
    await goro.getByRole('button', { name: 'goro.nakamura@example.jp を編集' }).click();
    assert.equal(await dialog.getByLabel('姓').inputValue(), '中村');
    assert.ok(await dialog.getByLabel('テスト対象にする').isChecked());
    await dialog.getByLabel('役職').fill('係長');
    await dialog.getByLabel('テスト対象にする').uncheck();
    await dialog.getByRole('button', { name: '変更を保存' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() => /係長/.test(document.querySelector('#recipients-table tr[data-email="goro.nakamura@example.jp"]')?.textContent || ''));
    assert.doesNotMatch(await goro.textContent(), /テスト対象/);
    assert.equal((await page.locator('#test-count').textContent()).trim(), '0');

    // Delete one.
    await recipientRow(page, 'a1@example.jp').getByRole('button', { name: 'a1@example.jp を削除' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '削除', exact: true }).click();
    await recipientRow(page, 'a1@example.jp').waitFor({ state: 'detached' });

    // Delete two selected rows; the dialog states the count.
    await recipientRow(page, 'b2@example.jp').getByRole('checkbox').check();
    await recipientRow(page, 'c3@example.jp').getByRole('checkbox').check();
    assert.equal((await page.locator('#selection-info').textContent()).trim(), '2 件を選択中');
    await page.getByRole('button', { name: '選択した宛先を削除' }).click();
    const confirm = page.getByRole('dialog');
    assert.match(await confirm.textContent(), /2 件の宛先を削除しますか/);
    await confirm.getByRole('button', { name: '2 件を削除' }).click();
    await recipientRow(page, 'c3@example.jp').waitFor({ state: 'detached' });
    assert.equal(await recipientRow(page, 'b2@example.jp').count(), 0);
    await page.waitForFunction(() => document.querySelector('#recipient-count').textContent.trim() === '2');
    assert.equal(await page.locator('#recipients-table tbody tr').count(), 2);

    // Select all on the page, then clear.
    await page.getByLabel('このページの宛先をすべて選択').check();
    assert.equal((await page.locator('#selection-info').textContent()).trim(), '2 件を選択中');
    await page.getByRole('button', { name: '選択を解除' }).click();
    assert.ok(await page.locator('#delete-selected').isDisabled());

    // Delete by a file of addresses: one found, one not.
    await page.getByLabel('削除するアドレスのファイル').setInputFiles({
      name: 'remove.csv', mimeType: 'text/csv',
      buffer: Buffer.from('メールアドレス\r\nd4@example.jp\r\nnobody@example.jp\r\n', 'utf8'),
    });
    await page.getByRole('button', { name: '一括削除', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: '一括削除' }).click();
    const result = page.locator('#bulk-delete-result');
    await result.locator('.alert').waitFor();
    assert.match(await result.textContent(), /1 件の宛先を削除しました/);
    assert.match(await result.textContent(), /見つからなかったアドレス：1 件/);
    await recipientRow(page, 'd4@example.jp').waitFor({ state: 'detached' });
    assert.deepEqual(await columnTexts(page, 3), ['goro.nakamura@example.jp']);
  });
});

test('rename a list; a list that a campaign uses cannot be deleted, and says why', async () => {
  await withPage('lists-rename', async ({ page }) => {
    await login(page);
    await createList(page, 'e2e 改名前');
    await importOk(page, 'one.csv', `${HEADER}\r\n山田,太郎,taro@example.jp,,,,,,\r\n`);
    const listId = /#\/lists\/(\d+)/.exec(page.url())[1];

    // Rename on the list's page.
    await page.locator('#rename-list').click();
    const dialog = page.locator('#rename-dialog');
    await dialog.getByLabel('リスト名').fill('   ');
    await dialog.getByRole('button', { name: '変更を保存' }).click();
    await dialog.getByText('リスト名を入力してください。').waitFor();
    await dialog.getByLabel('リスト名').fill('e2e 改名後');
    await dialog.getByRole('button', { name: '変更を保存' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('heading', { level: 1, name: 'e2e 改名後' }).waitFor();

    // A draft campaign on this list (through the API, as a script would).
    await page.evaluate(async (id) => {
      const me = await (await fetch('/api/v1/me')).json();
      const post = async (path, body) => {
        const res = await fetch(`/api/v1${path}`, {
          method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }, body: JSON.stringify(body),
        });
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res.json();
      };
      const g = await (await fetch('/api/v1/gallery/ja-password-expiry')).json();
      const sc = await post('/scenarios', { gallery_id: 'ja-password-expiry' });
      await post('/campaigns', {
        name: 'e2e 使用中', scenario_id: sc.id, list_ids: [Number(id)],
        sender: { name: g.sender_name, local: g.sender_local, domain: g.sender_domain },
      });
    }, listId);

    // The overview shows the new name; deleting is refused with the reason.
    await goTo(page, '配信リスト');
    const row = page.locator(`#lists tr[data-list="${listId}"]`);
    assert.match(await row.textContent(), /e2e 改名後/);
    await row.getByRole('button', { name: 'リスト「e2e 改名後」を削除' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'リストを削除' }).click();
    const refusal = page.locator('#lists-alert [role="alert"]');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /リスト「e2e 改名後」は削除できません/);
    assert.match(await refusal.textContent(), /訓練で使われています/);
    assert.equal(await row.count(), 1, 'the list is still there');

    // Rename from the overview too.
    await row.getByRole('button', { name: 'リスト「e2e 改名後」の名前を変更' }).click();
    await page.locator('#rename-dialog').getByLabel('リスト名').fill('e2e 使用中のリスト');
    await page.locator('#rename-dialog').getByRole('button', { name: '変更を保存' }).click();
    await page.waitForFunction((id) => document.querySelector(`#lists tr[data-list="${id}"]`)?.textContent.includes('e2e 使用中のリスト'), listId);
  });
});
