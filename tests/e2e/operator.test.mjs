// Browser test of the operator's area (issue 9): the operator logs in with
// the operator account and gets its own navigation instead of the tenant
// pages; creates a tenant with its owner (the owner's password shown once),
// and that owner logs in and sees the licence; edits the licence, suspends
// the tenant (its owner can no longer log in), resumes it, renews the
// service period; brands the deployment (name, colour, support contact,
// logo) and the login page shows it; manages the training domains; reads
// the all-tenant audit log; deletes the tenant after typing its name, and
// the deletion log has it. A tenant's owner is kept out of the operator's
// pages. The first tests need no server: the pure parts of the operator pages.
//
//   KUNREN_BIN=$PWD/build/kunren node --test tests/e2e/operator.test.mjs

import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { server, useServerAndBrowser, withPage, csvFile } from './server.mjs';
import { initI18n } from '../../web/js/i18n.js';
import { newTenantBody, tenantPatchBody, deleteConfirmed, wholeNumber } from '../../web/js/pages/operator-tenants.js';
import { domainBody, CHECKS } from '../../web/js/pages/operator-domains.js';
import { logoType, logoProblem, brandingBody, MAX_LOGO } from '../../web/js/pages/operator-branding.js';
import { reasonLabel } from '../../web/js/pages/operator-deletions.js';

const web = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const TENANT = { name: 'e2e 株式会社カワセミ', owner: 'e2e-kawasemi-owner', email: 'owner@kawasemi.example.jp', password: '' };
const BRAND = { name: 'e2e 標的型メール訓練サービス', color: '#8a2be2', contact: '情報システム部 内線 1234' };
// A 2×2 PNG (red, green / blue, white).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

before(async () => {
  const realFetch = globalThis.fetch;
  globalThis.document = globalThis.document || { documentElement: {} };
  globalThis.fetch = async (url, opts) => {
    if (String(url).startsWith('/i18n/')) return { ok: true, json: async () => JSON.parse(readFileSync(join(web, String(url)), 'utf8')) };
    return realFetch(url, opts);
  };
  await initI18n();
});

/* ---------- the pure parts (no browser) ---------- */

test('the tenant forms build the API\'s bodies', () => {
  assert.deepEqual(newTenantBody({
    name: ' e2e 商事 ', time_zone: '', licence: 'unique_addresses', quota: ' 300 ', owner_username: ' boss ', owner_email: ' boss@x.jp ',
  }), { name: 'e2e 商事', time_zone: 'Asia/Tokyo', licence: 'unique_addresses', quota: 300, owner: { username: 'boss', email: 'boss@x.jp' } });
  assert.equal(newTenantBody({ name: 'a', licence: 'trial', quota: '', owner_username: 'b' }).quota, 0, 'empty quota: unlimited');
  assert.equal(wholeNumber('12x'), '12x', 'what the API will name in its error');
  assert.deepEqual(tenantPatchBody({ name: 'x', licence: 'send_count', quota: '1000', suspended: true, retention_days: '', period_end: '2027-03-31' }),
    { name: 'x', licence: 'send_count', quota: 1000, suspended: true, retention_days: 0, period_end: '2027-03-31' });
  assert.equal('period_end' in tenantPatchBody({ name: 'x', licence: 'trial', quota: '0', retention_days: '0', period_end: '' }), false);
  assert.equal(deleteConfirmed('e2e 商事', 'e2e 商事'), true);
  assert.equal(deleteConfirmed('e2e 商事 ', 'e2e 商事'), false, 'exactly the name');
  assert.equal(deleteConfirmed('', ''), false);
});

test('domains, branding and the deletion log', () => {
  assert.deepEqual(domainBody({ domain: ' Training.Example.JP. ', note: ' 2026年度 ', spf: 'ok', dkim: 'bogus' }),
    { domain: 'training.example.jp', note: '2026年度', spf: 'ok', dkim: 'unknown', dmarc: 'unknown' });
  assert.deepEqual(CHECKS, ['spf', 'dkim', 'dmarc']);
  assert.equal(logoType({ name: 'logo.PNG', type: '' }), 'image/png');
  assert.equal(logoType({ name: 'x', type: 'image/svg+xml' }), 'image/svg+xml');
  assert.equal(logoType({ name: 'logo.gif', type: 'image/gif' }), '');
  assert.equal(logoProblem(null), 'branding.logo_required');
  assert.equal(logoProblem({ name: 'a.jpg', type: 'image/jpeg', size: 10 }), 'branding.logo_type');
  assert.equal(logoProblem({ name: 'a.png', type: 'image/png', size: MAX_LOGO + 1 }), 'branding.logo_too_large');
  assert.equal(logoProblem({ name: 'a.svg', type: 'image/svg+xml', size: MAX_LOGO }), '');
  assert.deepEqual(brandingBody({ service_name: ' 訓練 ', primary_color: '#ABC', support_contact: ' 内線 1 ' }),
    { service_name: '訓練', primary_color: '#aabbcc', support_contact: '内線 1' });
  assert.equal(reasonLabel('deleted by the operator'), '運用管理者による削除');
  assert.equal(reasonLabel('service period ended'), 'サービス期間の終了');
  assert.equal(reasonLabel('requested by the tenant'), 'テナントの申し込み');
  assert.equal(reasonLabel('something else'), 'something else');
});

/* ---------- the browser ---------- */

describe('in the browser', () => {
  useServerAndBrowser();
  let operatorPassword = '';
  const shared = { tenantId: 0 };

  before(async () => {
    const m = /Operator login:\s+operator \/ (\S+)/.exec(server.log);
    assert.ok(m, `the server printed no operator login:\n${server.log}`);
    operatorPassword = m[1];
  });

  async function submitLogin(page, username, password) {
    await page.goto(server.consoleUrl);
    await page.getByLabel('ユーザー名').fill(username);
    await page.getByLabel('パスワード').fill(password);
    await page.getByRole('button', { name: 'ログイン' }).click();
  }

  async function loginOperator(page) {
    await submitLogin(page, 'operator', operatorPassword);
    await page.getByRole('heading', { level: 1, name: 'テナント管理' }).waitFor();
  }

  async function goTo(page, link) {
    await page.getByRole('navigation', { name: 'メインメニュー' }).getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: link, exact: true }).waitFor();
  }

  /** GET from inside the page with its session. */
  function pageGet(page, path) {
    return page.evaluate(async (p) => {
      const r = await fetch(`/api/v1${p}`, { credentials: 'same-origin' });
      return { status: r.status, body: await r.json().catch(() => null) };
    }, path);
  }

  function row(page) {
    return page.locator(`#tenants-table tr[data-name="${TENANT.name}"]`);
  }

  test('the operator gets its own navigation; the tenant pages are not there', { timeout: 60_000 }, async () => {
    await withPage('operator-nav', async ({ page }) => {
      await loginOperator(page);
      const nav = page.getByRole('navigation', { name: 'メインメニュー' });
      const links = await nav.getByRole('link').evaluateAll((as) => as.map((a) => a.textContent.trim()));
      for (const l of ['テナント管理', '削除記録', 'ノード', 'ブランド設定', '訓練用ドメイン', '監査ログ（全テナント）', 'アカウント設定']) {
        assert.ok(links.includes(l), `${l} in ${links}`);
      }
      for (const l of ['訓練一覧', '配信リスト', 'ユーザー管理', '契約情報']) assert.ok(!links.includes(l), `no ${l}`);
      assert.equal(await page.locator('.topbar-tenant').textContent(), '運用管理');
      // A typed tenant route leads back to the operator's home.
      await page.goto(`${server.consoleUrl}#/lists`);
      // テナント管理 is the page before too: wait for the way home first
      await page.waitForURL(/#\/operator\/tenants$/);
      await page.getByRole('heading', { level: 1, name: 'テナント管理' }).waitFor();
      // The demo tenant is listed with its usage.
      await page.locator('#tenants-table tr[data-name="デモ株式会社"]').waitFor();
    });
  });

  test('the operator creates a tenant; its owner logs in with the password shown once', { timeout: 120_000 }, async () => {
    await withPage('operator-create', async ({ page, context }) => {
      await loginOperator(page);
      await page.getByRole('button', { name: 'テナントを作成' }).click();
      const dialog = page.locator('#tenant-create-dialog');
      // Required fields first.
      await dialog.locator('#tenant-create-save').click();
      assert.equal(await dialog.locator('.has-error').count(), 3, 'name, owner and address are required');
      await dialog.getByLabel('テナント名').fill(TENANT.name);
      await dialog.getByLabel('タイムゾーン').fill('Asia/Tokyo');
      await dialog.getByLabel('プラン').selectOption({ label: '送信数プラン' });
      await dialog.getByLabel('送信可能数').fill('500');
      // A user name that is taken: the API's error at its field.
      await dialog.getByLabel('オーナーのユーザー名').fill('demo');
      await dialog.getByLabel('オーナーのメールアドレス').fill(TENANT.email);
      await dialog.locator('#tenant-create-save').click();
      const ownerInput = dialog.getByLabel('オーナーのユーザー名');
      await page.waitForFunction((el) => el.getAttribute('aria-invalid') === 'true', await ownerInput.elementHandle());
      await ownerInput.fill(TENANT.owner);
      const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/operator/tenants') && r.request().method() === 'POST' && r.status() === 201);
      await dialog.locator('#tenant-create-save').click();
      const body = await (await created).json();
      shared.tenantId = body.tenant.id;
      const pw = dialog.locator('#owner-password');
      await pw.waitFor();
      TENANT.password = await pw.inputValue();
      assert.equal(TENANT.password, body.owner_password);
      assert.match(await dialog.textContent(), /今だけ表示されます/);
      await dialog.getByRole('button', { name: '閉じる' }).last().click();

      const r = row(page);
      await r.waitFor();
      assert.match(await r.textContent(), /送信数プラン/);
      assert.match(await r.textContent(), /500 通/);
      assert.equal(await r.locator('[data-testid="usage"]').textContent(), '0 通');
      assert.equal(await r.locator('[data-testid="state"]').textContent(), '利用中');
      assert.equal(body.tenant.licence, 'send_count');
      assert.equal(body.tenant.quota, 500);
      assert.ok(body.tenant.period_end, 'a service period');

      // The owner, in another browser.
      const other = await context.browser().newContext({ locale: 'ja-JP' });
      try {
        const owner = await other.newPage();
        owner.setDefaultTimeout(20_000);
        await submitLogin(owner, TENANT.owner, TENANT.password);
        await owner.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();
        assert.equal(await owner.locator('.topbar-tenant').textContent(), TENANT.name);
        await goTo(owner, '契約情報');
        assert.equal(await owner.locator('#tenant-licence').textContent(), '送信数プラン');
        assert.equal(await owner.locator('#tenant-quota').textContent(), '500 通');
        assert.equal(await owner.locator('[data-testid="remaining"]').textContent(), '500 通');
        // The owner is kept out of the operator's pages, in the console and by the API.
        await owner.goto(`${server.consoleUrl}#/operator/tenants`);
        await owner.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();
        const api = await pageGet(owner, '/operator/tenants');
        assert.equal(api.status, 403);
        assert.equal(api.body.error.code, 'operator_only');
      } finally {
        await other.close();
      }
    });
  });

  test('edit the licence, suspend (the owner can no longer log in), resume, renew', { timeout: 120_000 }, async () => {
    await withPage('operator-edit', async ({ page }) => {
      await loginOperator(page);
      await row(page).locator('[data-action="edit"]').click();
      const dialog = page.locator('#tenant-edit-dialog');
      await dialog.getByLabel('プラン').selectOption({ label: '送信数無制限プラン（アドレス数）' });
      await dialog.getByLabel('送信可能数').fill('300');
      await dialog.getByLabel('結果の保存日数').fill('90');
      await dialog.getByLabel('利用を停止する').check();
      await dialog.locator('#tenant-edit-save').click();
      await dialog.waitFor({ state: 'detached' });
      await page.waitForFunction((name) => {
        const td = document.querySelector(`#tenants-table tr[data-name="${name}"] [data-testid="state"]`);
        return td && td.textContent === '利用停止';
      }, TENANT.name);
      const one = (await pageGet(page, `/operator/tenants/${shared.tenantId}`)).body;
      assert.equal(one.licence, 'unique_addresses');
      assert.equal(one.quota, 300);
      assert.equal(one.retention_days, 90);
      assert.equal(one.suspended, true);
      assert.match(await row(page).textContent(), /300 アドレス/);

      await withPage('operator-suspended-owner', async ({ page: owner }) => {
        await submitLogin(owner, TENANT.owner, TENANT.password);
        const box = owner.locator('#login-error');
        await box.waitFor({ state: 'visible' });
        assert.equal(await box.textContent(), 'このテナントは利用停止中です。サービスの管理者にお問い合わせください。');
      });

      await row(page).locator('[data-action="edit"]').click();
      await dialog.getByLabel('利用を停止する').uncheck();
      await dialog.locator('#tenant-edit-save').click();
      await dialog.waitFor({ state: 'detached' });
      await page.waitForFunction((name) => {
        const td = document.querySelector(`#tenants-table tr[data-name="${name}"] [data-testid="state"]`);
        return td && td.textContent === '利用中';
      }, TENANT.name);

      // Renew: asked first, then a new period.
      const before = (await pageGet(page, `/operator/tenants/${shared.tenantId}`)).body;
      await row(page).locator('[data-action="renew"]').click();
      await page.getByRole('dialog').getByRole('button', { name: 'キャンセル' }).click();
      await row(page).locator('[data-action="renew"]').click();
      const renewed = page.waitForResponse((r) => r.url().endsWith(`/operator/tenants/${shared.tenantId}/renew`));
      await page.getByRole('dialog').getByRole('button', { name: '更新' }).click();
      assert.equal((await renewed).status(), 200);
      await page.getByText(`${TENANT.name} を更新しました。`).waitFor();
      const after = (await pageGet(page, `/operator/tenants/${shared.tenantId}`)).body;
      assert.ok(after.period_start >= before.period_start, `${after.period_start} ≥ ${before.period_start}`);
      assert.ok(after.period_end, 'a period end');
    });
    await withPage('operator-resumed-owner', async ({ page: owner }) => {
      await submitLogin(owner, TENANT.owner, TENANT.password);
      await owner.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();
      await goTo(owner, '契約情報');
      assert.equal(await owner.locator('#tenant-licence').textContent(), '送信数無制限プラン（アドレス数）');
    });
  });

  test('branding: name, colour, support contact and logo reach the login page', { timeout: 120_000 }, async () => {
    await withPage('operator-branding', async ({ page }) => {
      await loginOperator(page);
      await goTo(page, 'ブランド設定');
      const form = page.locator('#branding-form');
      await form.getByLabel('サービス名').fill(BRAND.name);
      await form.getByLabel('メインカラー').fill('blue');
      await form.locator('#branding-save').click();
      await form.getByText('#RRGGBB の形式で入力してください。').waitFor();
      await form.getByLabel('メインカラー').fill(BRAND.color.toUpperCase());
      await form.getByLabel('問い合わせ先').fill(BRAND.contact);
      const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/operator/branding') && r.request().method() === 'PUT');
      await form.locator('#branding-save').click();
      const req = (await saved).request();
      assert.deepEqual(JSON.parse(req.postData()), { service_name: BRAND.name, primary_color: BRAND.color, support_contact: BRAND.contact });
      await page.getByText('ブランド設定を保存しました。').waitFor();
      // The console takes the new branding at once.
      await page.waitForFunction((name) => document.querySelector('.brand-name').textContent === name, BRAND.name);

      // The logo: a JPEG is refused in the page, the PNG goes.
      const bad = csvFile('logo.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
      await page.locator('#logo-file').setInputFiles(bad);
      await page.locator('#logo-upload').click();
      await page.getByText('PNG または SVG の画像を選んでください。').waitFor();
      await page.locator('#logo-file').setInputFiles(csvFile('logo.png', PNG));
      const up = page.waitForResponse((r) => r.url().endsWith('/api/v1/operator/branding/logo'));
      await page.locator('#logo-upload').click();
      const upRes = await up;
      if (upRes.status() !== 200) assert.fail(`logo upload → ${upRes.status()} ${await upRes.text().catch(() => '')}`);
      assert.equal(upRes.request().headers()['content-type'], 'image/png');
      await page.getByText('ロゴを保存しました。').waitFor();
    });

    await withPage('operator-branded-login', async ({ page }) => {
      await page.goto(server.consoleUrl);
      await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
      assert.equal(await page.locator('#login-brand [data-testid="service-name"]').textContent(), BRAND.name);
      assert.equal(await page.locator('#login-support').textContent(), `お問い合わせ先: ${BRAND.contact}`);
      const logo = page.locator('#login-brand img.login-logo');
      await logo.waitFor();
      await page.waitForFunction(() => {
        const img = document.querySelector('#login-brand img.login-logo');
        return img && img.complete && img.naturalWidth === 2;
      });
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--c-primary').trim()), BRAND.color);
      assert.match(await page.title(), new RegExp(BRAND.name));
      const b = await pageGet(page, '/branding');
      assert.deepEqual(b.body, { service_name: BRAND.name, primary_color: BRAND.color, support_contact: BRAND.contact, has_logo: true });
    });
  });

  test('training domains: add with record states, edit, delete', { timeout: 60_000 }, async () => {
    await withPage('operator-domains', async ({ page }) => {
      await loginOperator(page);
      await goTo(page, '訓練用ドメイン');
      await page.getByRole('button', { name: 'ドメインを追加' }).click();
      const dialog = page.locator('#domain-dialog');
      await dialog.getByLabel('ドメイン').fill('Kunren-Training.example.jp');
      await dialog.getByLabel('メモ').fill('e2e 2026年度用');
      await dialog.getByLabel('SPF').selectOption('ok');
      await dialog.getByLabel('DKIM').selectOption('missing');
      await dialog.locator('#domain-save').click();
      await dialog.waitFor({ state: 'detached' });
      const r = page.locator('#domains-table tr[data-domain="kunren-training.example.jp"]');
      await r.waitFor();
      const states = () => r.locator('[data-check]').evaluateAll((bs) => Object.fromEntries(bs.map((b) => [b.dataset.check, b.dataset.state])));
      assert.deepEqual(await states(), { spf: 'ok', dkim: 'missing', dmarc: 'unknown' });
      assert.match(await r.textContent(), /SPF 設定済み/);

      await r.locator('[data-action="edit"]').click();
      await dialog.getByLabel('DMARC').selectOption('ok');
      await dialog.locator('#domain-save').click();
      await dialog.waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.querySelector('#domains-table [data-check="dmarc"]').dataset.state === 'ok');
      const api = (await pageGet(page, '/operator/domains')).body.items.find((d) => d.domain === 'kunren-training.example.jp');
      assert.deepEqual([api.spf, api.dkim, api.dmarc, api.note], ['ok', 'missing', 'ok', 'e2e 2026年度用']);

      await r.locator('[data-action="delete"]').click();
      await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
      await r.waitFor({ state: 'detached' });
      assert.equal((await pageGet(page, '/operator/domains')).body.items.length, 0);
    });
  });

  test('the all-tenant audit log names the tenants', { timeout: 60_000 }, async () => {
    await withPage('operator-audit', async ({ page }) => {
      await loginOperator(page);
      await goTo(page, '監査ログ（全テナント）');
      const rows = page.locator('#audit-table tbody tr');
      await rows.first().waitFor();
      const entries = await rows.evaluateAll((trs) => trs.map((tr) => ({
        action: tr.dataset.action, tenant: tr.children[1].textContent, label: tr.children[3].textContent,
      })));
      const create = entries.find((e) => e.action === 'tenant.create');
      assert.ok(create, 'tenant.create is there');
      assert.equal(create.label, 'テナントの作成');
      const ownerLogin = entries.find((e) => e.action === 'login' && e.tenant === TENANT.name);
      assert.ok(ownerLogin, `the owner's login under the tenant's name: ${JSON.stringify(entries.slice(0, 20))}`);
      assert.ok(entries.some((e) => e.action === 'tenant.update'), 'the edit');
      assert.ok(entries.some((e) => e.action === 'branding.update'), 'the branding');
      assert.ok(entries.some((e) => e.action === 'domain.delete'), 'the domain');
    });
  });

  test('the nodes: this server alone, running, in mode all', { timeout: 60_000 }, async () => {
    await withPage('operator-nodes', async ({ page }) => {
      await loginOperator(page);
      await goTo(page, 'ノード');
      const rows = page.locator('#nodes-table tbody tr');
      await rows.first().waitFor();
      assert.equal(await rows.count(), 1, 'one server, one node');
      const r = rows.first();
      assert.equal(await r.getAttribute('data-self'), '1', 'marked as this console\'s node');
      assert.match(await r.textContent(), /稼働中/);
      assert.match(await r.textContent(), /この画面のノード/);
      assert.equal(await r.locator('td[data-mode]').textContent(), 'all');
      assert.match(await r.textContent(), /\d+ 秒前/);
      const res = (await pageGet(page, '/operator/nodes')).body;
      assert.equal(await r.getAttribute('data-node'), res.this_node);
    });
  });

  test('delete a tenant after typing its name; the deletion log has it', { timeout: 60_000 }, async () => {
    await withPage('operator-delete', async ({ page }) => {
      await loginOperator(page);
      await row(page).locator('[data-action="delete"]').click();
      const dialog = page.locator('#tenant-delete-dialog');
      const confirm = dialog.locator('#tenant-delete-confirm');
      assert.equal(await confirm.isDisabled(), true);
      const typed = dialog.getByLabel(/確認のため/);
      await typed.fill(TENANT.name.slice(0, -1));
      assert.equal(await confirm.isDisabled(), true, 'not the whole name');
      await typed.fill(TENANT.name);
      assert.equal(await confirm.isDisabled(), false);
      const del = page.waitForResponse((r) => r.url().endsWith(`/operator/tenants/${shared.tenantId}`) && r.request().method() === 'DELETE');
      await confirm.click();
      assert.equal((await del).status(), 200);
      await row(page).waitFor({ state: 'detached' });
      assert.equal((await pageGet(page, `/operator/tenants/${shared.tenantId}`)).status, 404);

      await goTo(page, '削除記録');
      const logRow = page.locator(`#deletions-table tr[data-tenant="${shared.tenantId}"]`);
      await logRow.waitFor();
      assert.match(await logRow.textContent(), new RegExp(TENANT.name));
      assert.match(await logRow.textContent(), /運用管理者による削除/);
      const log = (await pageGet(page, '/operator/deletions')).body.items.find((d) => d.tenant_id === shared.tenantId);
      assert.ok(log.rows > 0, `rows deleted: ${log.rows}`);
    });
    await withPage('operator-deleted-owner', async ({ page }) => {
      await submitLogin(page, TENANT.owner, TENANT.password);
      const box = page.locator('#login-error');
      await box.waitFor({ state: 'visible' });
      assert.equal(await box.textContent(), 'ユーザー名またはパスワードが正しくありません。');
    });
  });
});
