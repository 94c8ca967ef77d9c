// Browser test of the account screens (issue 9): login in one or two steps
// (a code mailed through a small SMTP server of this test, or the TOTP code
// of an authenticator app computed here with HMAC-SHA1), the lock-out after
// repeated failures, the password reset through the mailed link, アカウント
// 設定 (address, login notices, password, second factor, API keys, logging
// out everywhere), ユーザー管理, 契約情報 with the deletion request, 監査ログ
// with its paging and CSV, and what a read-only account sees (no edit action
// anywhere, and the server refuses its writes). The first tests need no
// browser: the pure helpers of the pages, imported straight from web/js.
//
// This file starts its own server (server.mjs's runs in outbox mode): the
// same binary with smtp_url pointing at the test's SMTP server.
//
//   KUNREN_BIN=$PWD/build/kunren node --test tests/e2e/accounts.test.mjs

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createTestDatabase, dropTestDatabase, dbEnv } from './server.mjs';
import { initI18n } from '../../web/js/i18n.js';
import { lockedUntil, loginErrorText, codeLabel, cleanCode } from '../../web/js/pages/login.js';
import { passwordMessage, newPasswordProblem } from '../../web/js/pages/password-reset.js';
import { svgDataUrl, groupSecret, factorChange } from '../../web/js/pages/account.js';
import { roleOptions, userActions } from '../../web/js/pages/users.js';
import { licenceSummary, quotaText, earliestDeletionDate, dateInputValue } from '../../web/js/pages/tenant.js';
import { nextBefore, mergeEntries, actionLabel } from '../../web/js/pages/audit.js';
import { navFor, homePath, routeAllowed } from '../../web/js/nav.js';
import { colorShades, normalizeBranding, parseHexColor } from '../../web/js/branding.js';
import { canWrite } from '../../web/js/ui.js';

const BIN = resolve(process.env.KUNREN_BIN || 'build/kunren');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const web = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const STEP_TIMEOUT = 20_000;

const DEMO_EMAIL = 'demo-owner@e2e.example.jp';
const USERS = {
  full: { username: 'e2e-full', email: 'full@e2e.example.jp', password: '' },
  totp: { username: 'e2e-totp', email: 'totp@e2e.example.jp', password: '' },
  viewer: { username: 'e2e-viewer', email: 'viewer@e2e.example.jp', password: '' },
  lock: { username: 'e2e-lock', email: 'lock@e2e.example.jp', password: '' },
  temp: { username: 'e2e-temp', email: 'temp@e2e.example.jp', password: '' },
};

/* ---------- TOTP (RFC 6238) and base32, as an authenticator app computes them ---------- */

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `not base32: ${c}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

function hotp(key, counter, digits = 6) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

const totpStep = (ms = Date.now()) => Math.floor(ms / 1000 / 30);
const totp = (secret, step) => hotp(base32Decode(secret), step);

/* ---------- the SMTP server: keeps every mail, decoded ---------- */

const smtp = { server: null, port: 0, mails: [] };

function decodeWords(text) {
  return text.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g, (all, charset, enc, data) => {
    if (enc.toUpperCase() === 'B') return Buffer.from(data, 'base64').toString('utf8');
    return Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (m, hx) => String.fromCharCode(parseInt(hx, 16))), 'latin1').toString('utf8');
  });
}

/** A message (latin1 string of its bytes) as {headers, text}: the text parts decoded and joined. */
function parseMessage(raw) {
  const cut = raw.indexOf('\r\n\r\n');
  const head = cut < 0 ? raw : raw.slice(0, cut);
  const body = cut < 0 ? '' : raw.slice(cut + 4);
  const headers = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const type = headers['content-type'] || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type);
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary[1]}`).slice(1).filter((p) => !p.startsWith('--'));
    return { headers, text: parts.map((p) => parseMessage(p.replace(/^\r\n/, '')).text).join('\n') };
  }
  const cte = (headers['content-transfer-encoding'] || '').toLowerCase();
  let bytes;
  if (cte === 'base64') bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (cte === 'quoted-printable') bytes = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (m, hx) => String.fromCharCode(parseInt(hx, 16))), 'latin1');
  else bytes = Buffer.from(body, 'latin1');
  return { headers, text: bytes.toString('utf8') };
}

function startSmtp() {
  smtp.server = createServer((sock) => {
    sock.setEncoding('latin1');
    let buf = '';
    let inData = false;
    let env = { from: '', to: [] };
    const say = (line) => sock.write(`${line}\r\n`);
    say('220 e2e-smtp ESMTP ready');
    sock.on('data', (chunk) => {
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const raw = buf.slice(0, end).replace(/\r\n\.\./g, '\r\n.');
          buf = buf.slice(end + 5);
          inData = false;
          const msg = parseMessage(raw);
          smtp.mails.push({ ...env, subject: decodeWords(msg.headers.subject || ''), headers: msg.headers, text: msg.text });
          env = { from: '', to: [] };
          say('250 2.0.0 Ok: queued');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO') sock.write('250-e2e-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
        else if (verb === 'HELO') say('250 e2e-smtp');
        else if (verb === 'MAIL') { env.from = (/<([^>]*)>/.exec(line) || [])[1] || ''; say('250 2.1.0 Ok'); }
        else if (verb === 'RCPT') { env.to.push((/<([^>]*)>/.exec(line) || [])[1] || ''); say('250 2.1.5 Ok'); }
        else if (verb === 'DATA') { inData = true; say('354 End data with <CR><LF>.<CR><LF>'); }
        else if (verb === 'QUIT') { say('221 2.0.0 Bye'); sock.end(); return; }
        else say('250 2.0.0 Ok');
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((r) => smtp.server.listen(0, '127.0.0.1', () => {
    smtp.port = smtp.server.address().port;
    r();
  }));
}

/** The first mail after `from` (an index into smtp.mails) that satisfies pred. */
async function mailFor(pred, from = 0, what = 'a mail', ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const m = smtp.mails.slice(from).find(pred);
    if (m) return m;
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}; got: ${JSON.stringify(smtp.mails.slice(from).map((x) => ({ to: x.to, subject: x.subject })))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/* ---------- the server and the browser ---------- */

const server = { proc: null, dir: '', consoleUrl: '', password: '', apiKey: '', log: '', dbUrl: '' };
let browser;

function startServer() {
  server.dir = mkdtempSync(join(tmpdir(), 'kunren-e2e-accounts-'));
  server.password = randomBytes(12).toString('base64url');
  server.dbUrl = createTestDatabase();
  const env = {
    ...process.env,
    KUNREN_DATA: join(server.dir, 'data'),
    ...dbEnv(server.dbUrl),
    KUNREN_CONSOLE_LISTEN: '127.0.0.1:0',
    KUNREN_TRACKER_LISTEN: '127.0.0.1:0',
    KUNREN_INITIAL_PASSWORD: server.password,
    KUNREN_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    KUNREN_TRACKER_URL: '',
    KUNREN_NOTICE_FROM: 'kunren@e2e.example.jp',
  };
  server.proc = spawn(BIN, ['serve'], { cwd: server.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolveReady, rejectReady) => {
    let out = '';
    const timer = setTimeout(() => rejectReady(new Error(`server not ready in 30 s:\n${server.log}`)), 30_000);
    const fail = (why) => { clearTimeout(timer); rejectReady(new Error(`${why}\n${server.log}`)); };
    server.proc.on('error', (e) => fail(`cannot start ${BIN}: ${e.message}`));
    server.proc.on('exit', (code, sig) => fail(`server exited early (code ${code}, signal ${sig})`));
    server.proc.stderr.on('data', (d) => { server.log += d; });
    server.proc.stdout.on('data', (d) => {
      server.log += d;
      out += d;
      const c = /Kunren console:\s+(\S+)/.exec(out);
      if (c) server.consoleUrl = c[1].replace(/\/?$/, '/');
      const k = /API key:\s+(\S+)/.exec(out);
      if (k) server.apiKey = k[1];
      if (/^Ready\.$/m.test(out) && server.consoleUrl) {
        clearTimeout(timer);
        server.proc.removeAllListeners('exit');
        server.proc.on('exit', (code, sig) => { server.log += `\n[server exited: code ${code}, signal ${sig}]\n`; });
        resolveReady();
      }
    });
  });
}

async function stopServer() {
  const p = server.proc;
  if (!p || p.exitCode !== null || p.signalCode !== null) return p ? `already gone (code ${p.exitCode})` : 'not started';
  const exited = new Promise((r) => p.once('exit', (code, sig) => r(sig ? `signal ${sig}` : `code ${code}`)));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5_000);
  const ended = await exited;
  clearTimeout(timer);
  return ended;
}

before(async () => {
  // i18n.js fetches /i18n/<lang>.json: serve the dictionaries from the checkout for the pure tests.
  const realFetch = globalThis.fetch;
  globalThis.document = globalThis.document || { documentElement: {} };
  globalThis.fetch = async (url, opts) => {
    if (String(url).startsWith('/i18n/')) return { ok: true, json: async () => JSON.parse(readFileSync(join(web, String(url)), 'utf8')) };
    return realFetch(url, opts);
  };
  await initI18n();
});

/** The browser part's hooks: the SMTP server, the Kunren server, Chromium. */
async function startAll() {
  assert.ok(existsSync(BIN), `${BIN} does not exist: build it first (make) or set KUNREN_BIN`);
  await startSmtp();
  await startServer();
  assert.ok(server.apiKey, `the server printed no API key:\n${server.log}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function stopAll() {
  if (browser) await browser.close();
  const ended = await stopServer();
  if (server.dir) rmSync(server.dir, { recursive: true, force: true });
  dropTestDatabase(server.dbUrl);
  await new Promise((r) => (smtp.server ? smtp.server.close(() => r()) : r()));
  assert.equal(ended, 'code 0', `the server did not stop cleanly:\n${server.log.slice(-4000)}`);
}

/** A fresh context and page; on failure a screenshot (E2E_ARTIFACTS) and the server log. */
async function withPage(name, fn, { lang } = {}) {
  const context = await browser.newContext({ acceptDownloads: true, locale: 'ja-JP', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT);
  if (lang) await context.addInitScript((l) => window.localStorage.setItem('kunren.lang', l), lang);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  try {
    await fn({ context, page });
    assert.deepEqual(problems, [], 'the console page reported errors');
  } catch (err) {
    const dir = process.env.E2E_ARTIFACTS;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true }).catch(() => {});
    }
    err.message += `\n--- page problems ---\n${problems.join('\n')}\n--- server output ---\n${server.log.slice(-4000)}`;
    throw err;
  } finally {
    await context.close();
  }
}

/** A call of the API as a script: the demo owner's API key. */
async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${server.apiKey}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(new URL(`api/v1${path}`, server.consoleUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path} → ${res.status} ${text.slice(0, 400)}`);
  return text ? JSON.parse(text) : null;
}

/** The API from inside the page, with the session cookie and the page's CSRF token: {status, body}. */
function pageCall(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const me = await fetch('/api/v1/me', { credentials: 'same-origin' });
    const token = me.ok ? (await me.json()).csrf_token : '';
    const r = await fetch(`/api/v1${p}`, {
      method: m, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token },
      body: b === null ? undefined : JSON.stringify(b),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, body: json };
  }, [method, path, body === undefined ? null : body]);
}

/** Fills and sends the first login step. */
async function submitLogin(page, username, password) {
  await page.goto(server.consoleUrl);
  await page.getByLabel('ユーザー名').fill(username);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン' }).click();
}

async function loginAs(page, username, password, heading = '訓練一覧') {
  await submitLogin(page, username, password);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

async function logout(page) {
  await page.getByRole('button', { name: 'ログアウト', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
}

async function goTo(page, link, heading = link) {
  await page.getByRole('navigation', { name: 'メインメニュー' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}

async function loginError(page) {
  const box = page.locator('#login-error');
  await box.waitFor({ state: 'visible' });
  return box.textContent();
}

/* ---------- the pure parts (no browser) ---------- */

test('the test\'s own TOTP is RFC 6238\'s', () => {
  // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits).
  assert.equal(hotp(Buffer.from('12345678901234567890'), Math.floor(59 / 30), 8), '94287082');
  assert.equal(hotp(Buffer.from('12345678901234567890'), Math.floor(1111111109 / 30), 8), '07081804');
  assert.deepEqual(base32Decode('GEZDGNBVGY3TQOJQ'), Buffer.from('1234567890'));
});

test('login errors: locked until a time, throttled, suspended, wrong code', () => {
  const locked = { status: 423, code: 'locked', details: [{ field: 'locked_until', message: 'too many failed logins', value: '2026-11-27T21:45:00+09:00' }] };
  assert.equal(lockedUntil(locked), '2026-11-27T21:45:00+09:00');
  assert.equal(loginErrorText(locked), 'ログインの失敗が続いたため、2026/11/27 21:45 までログインできません。');
  assert.equal(loginErrorText({ status: 423, code: 'locked', details: [{ field: 'locked_until', value: null }] }),
    'ログインの失敗が続いたため、しばらくログインできません。', 'no time: the general text');
  assert.match(loginErrorText({ status: 429, code: 'throttled', details: [] }), /ログイン失敗が多すぎます/);
  assert.match(loginErrorText({ status: 403, code: 'suspended', details: [] }), /利用停止中/);
  assert.equal(loginErrorText({ status: 401, code: 'login_failed', details: [] }), 'ユーザー名またはパスワードが正しくありません。');
  assert.equal(loginErrorText({ status: 401, code: 'login_failed', details: [] }, 'code'), 'コードが正しくないか、有効期限が切れています。');
  assert.equal(codeLabel('mail'), 'メールに送信した6桁のコード');
  assert.equal(codeLabel('totp'), '認証アプリの6桁のコード');
  assert.equal(cleanCode(' 123 456 '), '123456');
  assert.equal(cleanCode('123-456'), '123456');
});

test('passwords: the policy messages in Japanese, the checks before asking', () => {
  assert.equal(passwordMessage('The password must be at least 10 characters long.'), 'パスワードは 10 文字以上にしてください。');
  assert.equal(passwordMessage('The password must not contain the user name.'), 'ユーザー名を含むパスワードは使えません。');
  assert.equal(passwordMessage('The password is one of the most common passwords; choose another.'), 'よく知られたパスワードは使えません。');
  assert.equal(passwordMessage('The password must not be one character repeated.'), '同じ文字の繰り返しだけのパスワードは使えません。');
  assert.equal(passwordMessage('something new'), 'something new');
  assert.equal(newPasswordProblem('', ''), '新しいパスワードを入力してください。');
  assert.equal(newPasswordProblem('short', 'short'), 'パスワードは 10 文字以上にしてください。');
  assert.equal(newPasswordProblem('long enough 1', 'long enough 2'), '確認用のパスワードが一致しません。');
  assert.equal(newPasswordProblem('長いパスワードです１２３', '長いパスワードです１２３'), '');
});

test('the second factor: the QR code only as an SVG image, the secret in groups, what may change', () => {
  const svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="1" height="1"/></svg>';
  const url = svgDataUrl(svg);
  assert.ok(url.startsWith('data:image/svg+xml;charset=utf-8,%3C%3Fxml'), url);
  assert.equal(decodeURIComponent(url.slice(url.indexOf(',') + 1)), svg);
  assert.equal(svgDataUrl('<img src=x onerror=alert(1)>'), '', 'only SVG documents');
  assert.equal(svgDataUrl(''), '');
  assert.equal(groupSecret('JBSWY3DPEHPK3PXPJBSWY3DP'), 'JBSW Y3DP EHPK 3PXP JBSW Y3DP');
  assert.deepEqual(factorChange('mail', 'none', ''), { ok: false, problem: 'factor.mail_needs_email' });
  assert.deepEqual(factorChange('mail', 'none', 'a@b.jp'), { ok: true, problem: '' });
  assert.deepEqual(factorChange('none', 'none', ''), { ok: false, problem: 'factor.unchanged' });
  assert.deepEqual(factorChange('totp', 'totp', ''), { ok: false, problem: 'factor.totp_active' });
  assert.deepEqual(factorChange('totp', 'mail', 'a@b.jp'), { ok: true, problem: '' });
});

test('who sees what: navigation, home pages, routes, roles', () => {
  const owner = { role: 'owner' };
  const full = { role: 'full' };
  const viewer = { role: 'readonly' };
  const op = { role: 'operator' };
  const ids = (u) => navFor(u).map((n) => n.id);
  assert.deepEqual(ids(owner), ['campaigns', 'new', 'results', 'lists', 'gallery', 'education', 'outbox', 'sending', 'tenant', 'users', 'audit', 'webhooks', 'account']);
  assert.equal(ids(full).includes('users'), false, 'ユーザー管理 is the owner\'s');
  assert.equal(ids(viewer).includes('new'), false, 'no 訓練作成 for a read-only account');
  assert.deepEqual(ids(op), ['op-tenants', 'op-deletions', 'op-nodes', 'op-branding', 'op-domains', 'op-audit', 'account'], 'the operator\'s navigation replaces the tenant pages');
  assert.equal(homePath(op), '/operator/tenants');
  assert.equal(homePath(viewer), '/campaigns');
  assert.equal(homePath(null), '/login');
  assert.equal(routeAllowed({ owner: true }, full), false);
  assert.equal(routeAllowed({ owner: true }, owner), true);
  assert.equal(routeAllowed({ write: true }, viewer), false);
  assert.equal(routeAllowed({}, op), false, 'the operator has no tenant pages');
  assert.equal(routeAllowed({ area: 'operator' }, owner), false);
  assert.equal(routeAllowed({ area: 'any' }, op), true);
  assert.equal(canWrite(viewer), false);
  assert.equal(canWrite(full), true);
  assert.deepEqual(roleOptions('full').map((o) => [o.value, o.label, Boolean(o.selected)]), [['full', '共同作成', true], ['readonly', '内容確認', false]]);
  assert.deepEqual(roleOptions('owner').map((o) => o.value), ['owner', 'full', 'readonly']);
  assert.deepEqual(userActions({ id: 3 }, { id: 3 }), { edit: true, remove: false, self: true });
  assert.deepEqual(userActions({ id: 4 }, { id: 3 }), { edit: true, remove: true, self: false });
});

test('the licence card: what counts, the quota, what remains', () => {
  const sends = licenceSummary({ licence: 'send_count', quota: 1000, usage: { sends: 250, addresses: 40 }, remaining: 750 });
  assert.deepEqual(sends, { licence: 'send_count', counts: 'sends', used: 250, quota: 1000, unlimited: false, remaining: 750, fraction: 0.25 });
  const addr = licenceSummary({ licence: 'unique_addresses', quota: 100, usage: { sends: 900, addresses: 120 }, remaining: 0 });
  assert.equal(addr.counts, 'addresses');
  assert.equal(addr.remaining, 0);
  assert.equal(addr.fraction, 1);
  const open = licenceSummary({ licence: 'trial', quota: 0, usage: { sends: 5, addresses: 5 }, remaining: null });
  assert.equal(open.unlimited, true);
  assert.equal(open.remaining, null);
  assert.equal(quotaText(0, 'sends'), '無制限');
  assert.equal(quotaText(12000, 'sends'), '12,000 通');
  assert.equal(quotaText(500, 'addresses'), '500 アドレス');
  assert.equal(earliestDeletionDate('Asia/Tokyo', new Date(Date.UTC(2026, 10, 28, 15, 30))), '2026-11-29', 'the tenant\'s today');
  assert.equal(earliestDeletionDate('UTC', new Date(Date.UTC(2026, 10, 28, 15, 30))), '2026-11-28');
  assert.equal(dateInputValue('2027-03-31T23:59:59+09:00'), '2027-03-31');
  assert.equal(dateInputValue(null), '');
});

test('the audit log pages backwards and names its actions', () => {
  const full = Array.from({ length: 100 }, (_, i) => ({ id: 300 - i }));
  assert.equal(nextBefore({ items: full, next_before: 201 }), 201, 'the answer\'s own cursor');
  assert.equal(nextBefore({ items: full.slice(0, 10), next_before: null }), null);
  assert.equal(nextBefore({ items: full }), 201, 'a full page without a cursor: its last id');
  assert.equal(nextBefore({ items: full.slice(0, 3) }), null);
  assert.deepEqual(mergeEntries([{ id: 9 }, { id: 8 }], [{ id: 8 }, { id: 7 }, { id: 6 }]).map((e) => e.id), [9, 8, 7, 6]);
  assert.equal(actionLabel('login.failed'), 'ログイン失敗');
  assert.equal(actionLabel('user.role'), '権限の変更');
  assert.equal(actionLabel('something.new'), 'something.new', 'unknown actions as they are');
});

test('branding: colours and defaults', () => {
  assert.deepEqual(parseHexColor('#1F4E79'), [0x1f, 0x4e, 0x79]);
  assert.deepEqual(parseHexColor('#abc'), [0xaa, 0xbb, 0xcc]);
  assert.equal(parseHexColor('red'), null);
  assert.deepEqual(colorShades('#1f4e79'), { primary: '#1f4e79', hover: '#1a4267', soft: '#e9edf2' });
  assert.equal(colorShades('javascript:alert(1)'), null);
  assert.deepEqual(normalizeBranding({ service_name: '  ', primary_color: 'url(x)', support_contact: ' 内線 1234 ', has_logo: 1 }),
    { service_name: 'Kunren', primary_color: '', support_contact: '内線 1234', has_logo: true });
  assert.equal(normalizeBranding(null).service_name, 'Kunren');
});

/* ---------- the browser ---------- */

describe('in the browser, with a server that mails through the test\'s SMTP server', () => {
before(startAll);
after(stopAll);

test('the owner adds accounts (passwords shown once), changes a role and an address, deletes one', { timeout: 120_000 }, async () => {
  await withPage('accounts-users', async ({ page }) => {
    await loginAs(page, 'demo', server.password);
    // The login page was branded with the defaults.
    await goTo(page, 'ユーザー管理');
    const table = page.locator('#users-table');
    await table.locator('tr[data-user="demo"]').waitFor();
    assert.equal(await table.locator('tr[data-user="demo"] [data-action="delete"]').count(), 0, 'nobody deletes themself');

    for (const [key, role] of [['full', '共同作成'], ['totp', '共同作成'], ['viewer', '内容確認'], ['lock', '共同作成'], ['temp', '共同作成']]) {
      const u = USERS[key];
      await page.getByRole('button', { name: 'ユーザーを追加' }).click();
      const dialog = page.locator('#user-add-dialog');
      await dialog.getByLabel('ユーザー名').fill(u.username);
      if (u.email) await dialog.getByLabel('メールアドレス').fill(u.email);
      await dialog.getByLabel('権限').selectOption({ label: role });
      await dialog.locator('#user-add-save').click();
      const pw = dialog.locator('#new-user-password');
      await pw.waitFor();
      u.password = await pw.inputValue();
      assert.ok(u.password.length >= 10, `a generated password for ${u.username}: ${u.password}`);
      assert.match(await dialog.textContent(), /今だけ表示されます/);
      assert.equal(await dialog.getByRole('button', { name: /コピー/ }).count(), 1);
      await dialog.getByRole('button', { name: '閉じる' }).last().click();
      await table.locator(`tr[data-user="${u.username}"]`).waitFor();
    }
    assert.equal(await table.locator(`tr[data-user="${USERS.viewer.username}"] td[data-role]`).getAttribute('data-role'), 'readonly');

    // 共同作成 → 内容確認 and a new address for e2e-temp.
    await table.locator(`tr[data-user="${USERS.temp.username}"] [data-action="edit"]`).click();
    const edit = page.locator('#user-edit-dialog');
    await edit.getByLabel('権限').selectOption({ label: '内容確認' });
    await edit.getByLabel('メールアドレス').fill('temp2@e2e.example.jp');
    await edit.locator('#user-edit-save').click();
    await edit.waitFor({ state: 'detached' });
    await page.waitForFunction((name) => {
      const td = document.querySelector(`#users-table tr[data-user="${name}"] td[data-role]`);
      return td && td.dataset.role === 'readonly';
    }, USERS.temp.username);
    const api = await pageCall(page, 'GET', '/users');
    const temp = api.body.items.find((x) => x.username === USERS.temp.username);
    assert.equal(temp.role, 'readonly');
    assert.equal(temp.email, 'temp2@e2e.example.jp');

    // Delete asks first; cancel keeps the account.
    await table.locator(`tr[data-user="${USERS.temp.username}"] [data-action="delete"]`).click();
    await page.getByRole('dialog').getByRole('button', { name: 'キャンセル' }).click();
    assert.equal(await table.locator(`tr[data-user="${USERS.temp.username}"]`).count(), 1);
    await table.locator(`tr[data-user="${USERS.temp.username}"] [data-action="delete"]`).click();
    await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
    await table.locator(`tr[data-user="${USERS.temp.username}"]`).waitFor({ state: 'detached' });
    const after = await pageCall(page, 'GET', '/users');
    assert.equal(after.body.items.some((x) => x.username === USERS.temp.username), false);
  });
});

test('login with a mailed code: address, notices and 二段階認証 in アカウント設定, then back to none', { timeout: 120_000 }, async () => {
  await withPage('accounts-mail-code', async ({ page }) => {
    await loginAs(page, 'demo', server.password);
    await page.locator('#topbar-account').click();
    await page.getByRole('heading', { level: 1, name: 'アカウント設定' }).waitFor();
    // A mailed code needs an address first: the page says so.
    const factor = page.locator('#account-factor');
    await factor.getByRole('radio', { name: /メールで届くコード/ }).check();
    await factor.getByLabel('現在のパスワード').fill(server.password);
    await factor.locator('#factor-save').click();
    await factor.getByText('先にメールアドレスを登録してください').waitFor();

    const profile = page.locator('#account-profile');
    await profile.getByLabel('メールアドレス').fill(DEMO_EMAIL);
    await profile.getByLabel('ログインしたときにメールで通知する').check();
    await profile.locator('#profile-save').click();
    await page.getByText('アカウント設定を保存しました。').waitFor();
    const me = await pageCall(page, 'GET', '/me');
    assert.equal(me.body.user.email, DEMO_EMAIL);
    assert.equal(me.body.user.login_notify, true);

    await factor.getByRole('radio', { name: /メールで届くコード/ }).check();
    await factor.getByLabel('現在のパスワード').fill('not the password 123');
    await factor.locator('#factor-save').click();
    await factor.getByText('パスワードが正しくありません。').waitFor();
    await factor.getByLabel('現在のパスワード').fill(server.password);
    await factor.locator('#factor-save').click();
    await page.locator('#factor-state [data-factor="mail"]').waitFor();
    await logout(page);

    // Step 1 answers {second_factor: mail, challenge}: the code field, and a mail with the code.
    const mark = smtp.mails.length;
    const first = page.waitForResponse((r) => r.url().endsWith('/api/v1/login'));
    await submitLogin(page, 'demo', server.password);
    const answer = await (await first).json();
    assert.equal(answer.second_factor, 'mail');
    assert.ok(answer.challenge && !answer.user, 'no session before the code');
    const codeField = page.getByLabel('メールに送信した6桁のコード');
    await codeField.waitFor();
    const mail = await mailFor((m) => m.to.includes(DEMO_EMAIL) && /ログイン確認コード/.test(m.subject), mark, 'the login code');
    const code = (/login code: (\d{6})/.exec(mail.text) || [])[1];
    assert.ok(code, `a 6-digit code in the mail:\n${mail.text}`);
    // A wrong code first: refused, the step stays.
    await codeField.fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: '確認してログイン' }).click();
    assert.equal(await loginError(page), 'コードが正しくないか、有効期限が切れています。');
    await codeField.fill(code);
    await page.getByRole('button', { name: '確認してログイン' }).click();
    await page.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();
    // login_notify: a notice with the time, the address and the browser.
    const notice = await mailFor((m) => m.to.includes(DEMO_EMAIL) && /ログイン通知/.test(m.subject), mark, 'the login notice');
    assert.match(notice.text, /IPアドレス: 127\.0\.0\.1/);
    assert.match(notice.text, /Chrome/);

    // Back to the password alone (the other tests log in as demo).
    await page.locator('#topbar-account').click();
    await factor.getByRole('radio', { name: /なし/ }).check();
    await factor.getByLabel('現在のパスワード').fill(server.password);
    await factor.locator('#factor-save').click();
    await page.locator('#factor-state [data-factor="none"]').waitFor();
    await profile.getByLabel('ログインしたときにメールで通知する').uncheck();
    await profile.locator('#profile-save').click();
    await page.getByText('アカウント設定を保存しました。').waitFor();
  });
});

test('TOTP: set up with the shown secret, confirmed with a code, then the login asks for the app\'s code (once only)', { timeout: 120_000 }, async () => {
  const u = USERS.totp;
  let secret = '';
  let confirmStep = 0;
  await withPage('accounts-totp-setup', async ({ page }) => {
    await loginAs(page, u.username, u.password);
    await goTo(page, 'アカウント設定');
    const factor = page.locator('#account-factor');
    await factor.getByRole('radio', { name: /認証アプリ/ }).check();
    assert.equal(await factor.locator('#factor-save').textContent(), '認証アプリを設定');
    await factor.getByLabel('現在のパスワード').fill(u.password);
    const setup = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/totp'));
    await factor.locator('#factor-save').click();
    const answer = await (await setup).json();
    const qr = page.locator('#totp-qr');
    await qr.waitFor();
    // The QR code is an <img> of the SVG (a data: URL), drawn, and no SVG markup entered the page.
    assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;charset=utf-8,/);
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR image is drawn');
    assert.equal(await page.locator('#main svg:not(.nav-icon):not(.empty-icon)').count(), 0);
    secret = (await page.locator('#totp-secret').textContent()).replace(/\s+/g, '');
    assert.equal(secret, answer.secret);
    assert.match(answer.uri, new RegExp(`^otpauth://totp/.*secret=${secret}`));
    // A wrong code is refused at the field.
    confirmStep = totpStep();
    const good = totp(secret, confirmStep);
    await page.getByLabel('認証アプリの6桁のコード').fill(good === '123456' ? '654321' : '123456');
    await page.locator('#totp-confirm').click();
    await page.getByText('コードが正しくありません').waitFor();
    await page.getByLabel('認証アプリの6桁のコード').fill(good);
    await page.locator('#totp-confirm').click();
    await page.locator('#factor-state [data-factor="totp"]').waitFor();
    await page.getByText('認証アプリでの二段階認証を有効にしました。').waitFor();
  });

  await withPage('accounts-totp-login', async ({ page }) => {
    await submitLogin(page, u.username, u.password);
    const codeField = page.getByLabel('認証アプリの6桁のコード');
    await codeField.waitFor();
    assert.equal(await page.locator('#code-form').getAttribute('data-factor'), 'totp');
    // The code that confirmed the app was used: it does not log in again.
    await codeField.fill(totp(secret, confirmStep));
    await page.getByRole('button', { name: '確認してログイン' }).click();
    assert.equal(await loginError(page), 'コードが正しくないか、有効期限が切れています。');
    // The next code (the server accepts one step of clock skew either way) does.
    await codeField.fill(totp(secret, Math.max(confirmStep, totpStep()) + 1));
    await page.getByRole('button', { name: '確認してログイン' }).click();
    await page.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();
    const me = await pageCall(page, 'GET', '/me');
    assert.equal(me.body.user.second_factor, 'totp');
  });
});

test('a read-only account sees no edit action anywhere, and the server refuses its writes', { timeout: 120_000 }, async () => {
  const u = USERS.viewer;
  await call('POST', '/lists', { name: 'e2e 閲覧用のリスト' });
  await withPage('accounts-readonly', async ({ page }) => {
    await loginAs(page, u.username, u.password);
    const nav = page.getByRole('navigation', { name: 'メインメニュー' });
    assert.equal(await nav.getByRole('link', { name: '訓練作成' }).count(), 0);
    assert.equal(await nav.getByRole('link', { name: 'ユーザー管理' }).count(), 0);
    assert.equal(await page.locator('#new-campaign').count(), 0, 'no 新しい訓練 on the dashboard');

    await goTo(page, '配信リスト');
    await page.locator('#lists tr[data-list]').first().waitFor();
    assert.equal(await page.locator('#create-list').count(), 0);
    assert.equal(await page.locator('#lists [data-action]').count(), 0, 'no rename or delete');
    await page.locator('#lists .list-link').first().click();
    await page.locator('#recipients-card').waitFor();
    for (const sel of ['#rename-list', '#delete-list', '#add-recipient', '#import-form', '#bulk-delete-form', '#select-page']) {
      assert.equal(await page.locator(sel).count(), 0, `${sel} is not shown`);
    }
    assert.equal(await page.locator('#export-utf8').count(), 1, 'exporting is reading');

    await goTo(page, '訓練シナリオ');
    await page.locator('.scenario-card').first().waitFor();
    assert.equal(await page.getByRole('button', { name: /取り込む|インポート/ }).count(), 0, 'no import');
    await page.getByRole('tab', { name: /取り込み済み|インポート済み/ }).click();
    assert.equal(await page.locator('#scenario-new').count(), 0);

    await goTo(page, '送信設定');
    assert.equal(await page.locator('#profile-add').count(), 0);

    await goTo(page, '契約情報');
    await page.locator('#tenant-licence').waitFor();
    assert.equal(await page.locator('#deletion-form').count(), 0);
    assert.match(await page.locator('#tenant-deletion-card').textContent(), /オーナーだけ/);

    // Typed routes lead home: 訓練作成 and ユーザー管理.
    await page.goto(`${server.consoleUrl}#/campaigns/new`);
    await page.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();
    await page.goto(`${server.consoleUrl}#/users`);
    // 訓練一覧 is the page before too: wait for the way home first
    await page.waitForURL(/#\/campaigns$/);
    await page.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();

    // The server: every change refused with read_only (owner-only ones with a 403 too), with a valid CSRF token.
    const list = await pageCall(page, 'POST', '/lists', { name: 'e2e 作れないリスト' });
    assert.equal(list.status, 403);
    assert.equal(list.body.error.code, 'read_only');
    const tenantDel = await pageCall(page, 'POST', '/tenant/deletion', { date: '2030-01-01' });
    assert.equal(tenantDel.status, 403);
    const users = await pageCall(page, 'GET', '/users');
    assert.equal(users.status, 403);
    assert.equal(users.body.error.code, 'owner_only');
    // Reading is fine, and so is the account's own settings page.
    assert.equal((await pageCall(page, 'GET', '/lists')).status, 200);
    await goTo(page, 'アカウント設定');
    assert.equal(await page.locator('#account-role').textContent(), '内容確認');
  });
});

test('password reset through the mailed link: the same answer for anyone, policy errors at the field, the link used once', { timeout: 120_000 }, async () => {
  const u = USERS.full;
  await withPage('accounts-reset', async ({ page }) => {
    await page.goto(server.consoleUrl);
    await page.getByRole('link', { name: 'パスワードを忘れた場合' }).click();
    await page.getByRole('heading', { level: 1, name: 'パスワードの再設定' }).waitFor();

    // An unknown user name: the same confirmation, and no mail.
    const before = smtp.mails.length;
    await page.getByLabel('ユーザー名').fill('no-such-user');
    await page.getByRole('button', { name: '再設定用のリンクを送信' }).click();
    const sent = page.locator('#forgot-sent');
    await sent.waitFor();
    const unknownText = await sent.textContent();

    await page.getByRole('link', { name: 'ログイン画面に戻る' }).click();
    await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
    await page.getByRole('link', { name: 'パスワードを忘れた場合' }).click();
    // the login page has a ユーザー名 field too: fill the reset page's once it is drawn
    await page.getByRole('heading', { level: 1, name: 'パスワードの再設定' }).waitFor();
    await page.getByLabel('ユーザー名').fill(u.username);
    await page.getByRole('button', { name: '再設定用のリンクを送信' }).click();
    await sent.waitFor();
    assert.equal(await sent.textContent(), unknownText, 'the page tells nobody whether an account exists');
    const mail = await mailFor((m) => m.to.includes(u.email) && /パスワードの再設定/.test(m.subject), before, 'the reset mail');
    assert.equal(smtp.mails.slice(before).filter((m) => /パスワードの再設定/.test(m.subject)).length, 1, 'one mail: for the known user only');
    const link = (/(https?:\/\/\S+#\/reset\/\S+)/.exec(mail.text) || [])[1];
    assert.ok(link, `a reset link in the mail:\n${mail.text}`);
    assert.ok(link.startsWith(server.consoleUrl), `the link points at the console: ${link}`);

    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: '新しいパスワードの設定' }).waitFor();
    const pass = page.getByLabel('新しいパスワード', { exact: true });
    const again = page.getByLabel('新しいパスワード（確認）');
    // Too short: the page says so before asking.
    await pass.fill('short1');
    await again.fill('short1');
    await page.getByRole('button', { name: 'パスワードを設定' }).click();
    await page.getByText('パスワードは 10 文字以上にしてください。').waitFor();
    assert.equal(await pass.getAttribute('aria-invalid'), 'true');
    // The API's policy: the user name inside is refused at the field.
    const withName = `${u.username}-passphrase`;
    await pass.fill(withName);
    await again.fill(withName);
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/password-reset/finish'));
    await page.getByRole('button', { name: 'パスワードを設定' }).click();
    assert.equal((await refused).status(), 400);
    await page.getByText('ユーザー名を含むパスワードは使えません。').waitFor();
    const fresh = 'Kawasemi-Sora-2027!';
    await pass.fill(fresh);
    await again.fill(fresh);
    await page.getByRole('button', { name: 'パスワードを設定' }).click();
    await page.locator('#reset-done').waitFor();
    u.password = fresh;

    // The link is used up.
    await page.goto(`${server.consoleUrl}#/login`);
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: '新しいパスワードの設定' }).waitFor();
    await pass.fill('Another-Good-Pass-99');
    await again.fill('Another-Good-Pass-99');
    await page.getByRole('button', { name: 'パスワードを設定' }).click();
    await page.getByText('このリンクは使えません').waitFor();

    await loginAs(page, u.username, fresh);
  });
});

test('lock-out after repeated failures: the message names the time', { timeout: 120_000 }, async () => {
  const u = USERS.lock;
  await withPage('accounts-lockout', async ({ page }) => {
    for (let i = 1; i <= 5; i += 1) {
      await submitLogin(page, u.username, `wrong-password-${i}`);
      assert.equal(await loginError(page), 'ユーザー名またはパスワードが正しくありません。', `failure ${i}`);
    }
    // Locked: even the right password gets 423 with the time.
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/login'));
    await submitLogin(page, u.username, u.password);
    const res = await answer;
    assert.equal(res.status(), 423);
    const until = (await res.json()).error.details[0].value;
    const text = await loginError(page);
    assert.match(text, /^ログインの失敗が続いたため、\d{4}\/\d{2}\/\d{2} \d{2}:\d{2} までログインできません。$/);
    assert.ok(text.includes(until.slice(11, 16)), `the time ${until} in "${text}"`);
  });
});

test('契約情報: licence and usage as the API has them; the owner asks for deletion and withdraws', { timeout: 120_000 }, async () => {
  await withPage('accounts-tenant', async ({ page }) => {
    await loginAs(page, 'demo', server.password);
    await goTo(page, '契約情報');
    const tn = (await pageCall(page, 'GET', '/tenant')).body;
    const licence = { send_count: '送信数プラン', unique_addresses: '送信数無制限プラン（アドレス数）', trial: 'トライアル' }[tn.licence];
    assert.equal(await page.locator('#tenant-licence').textContent(), licence);
    assert.equal(await page.locator('[data-testid="used-sends"]').textContent(), String(tn.usage.sends));
    assert.equal(await page.locator('[data-testid="used-addresses"]').textContent(), String(tn.usage.addresses));
    assert.equal(await page.locator('#tenant-name').textContent(), tn.name);
    const card = page.locator('#tenant-deletion-card');
    assert.match(await card.textContent(), /すべてのデータが削除され/, 'the warning');

    const date = await page.locator('#deletion-form input[type="date"]').getAttribute('min');
    await page.getByLabel('削除する日').fill(date);
    await page.locator('#deletion-request').click();
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.textContent(), /元に戻せません/);
    await dialog.getByRole('button', { name: 'キャンセル' }).click();
    assert.equal((await pageCall(page, 'GET', '/tenant')).body.delete_at, null, 'cancelled: nothing asked');
    await page.locator('#deletion-request').click();
    await page.getByRole('dialog').getByRole('button', { name: '削除を申し込む' }).click();
    await page.locator('#tenant-deletion-state[data-scheduled="true"]').waitFor();
    const asked = (await pageCall(page, 'GET', '/tenant')).body;
    assert.ok(asked.delete_at, 'delete_at is set');
    assert.ok((await page.locator('#tenant-deletion-state').textContent()).includes(asked.delete_at.slice(0, 10).replace(/-/g, '/')));
    await page.locator('#deletion-withdraw').click();
    await page.locator('#tenant-deletion-state[data-scheduled="false"]').waitFor();
    assert.equal((await pageCall(page, 'GET', '/tenant')).body.delete_at, null);
  });
});

test('監査ログ: newest first, さらに表示 with ?before=, the CSV', { timeout: 120_000 }, async () => {
  // Enough entries for two pages: the owner's address changes, each one audited.
  for (let i = 0; i < 105; i += 1) await call('PATCH', '/me', { email: `demo-${i}@e2e.example.jp` });
  await call('PATCH', '/me', { email: DEMO_EMAIL });
  await withPage('accounts-audit', async ({ page }) => {
    await loginAs(page, 'demo', server.password);
    await goTo(page, '監査ログ');
    const rows = page.locator('#audit-table tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 100);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.id)));
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
    // The newest entry is this login.
    assert.equal(await rows.first().getAttribute('data-action'), 'login');
    assert.equal(await rows.first().locator('td').nth(2).textContent(), 'ログイン');
    const more = page.waitForRequest((r) => r.url().includes('/api/v1/audit?') && r.url().includes('before='));
    await page.locator('#audit-more').click();
    const req = await more;
    assert.equal(new URL(req.url()).searchParams.get('before'), String(ids[ids.length - 1]));
    await page.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length > 100);
    const all = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.id)));
    assert.equal(new Set(all).size, all.length, 'no entry twice');
    assert.deepEqual(all, [...all].sort((a, b) => b - a));
    // What the earlier tests did is there: failures, the lock, user changes, the reset.
    const actions = new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.action)));
    for (let i = 0; i < 10 && !actions.has('user.create'); i += 1) {
      if (await page.locator('#audit-more').isHidden()) break;
      await page.locator('#audit-more').click();
      await page.waitForTimeout(300);
      for (const a of await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.action))) actions.add(a);
    }
    for (const a of ['login', 'login.failed', 'login.locked', 'user.create', 'user.role', 'user.delete', 'password.reset', 'account.email']) {
      assert.ok(actions.has(a), `${a} is in the log (${[...actions].join(', ')})`);
    }
    // The CSV: the link and its content.
    assert.equal(await page.locator('#audit-csv').getAttribute('href'), '/api/v1/audit.csv');
    const csv = await page.evaluate(async () => {
      const r = await fetch('/api/v1/audit.csv');
      return { status: r.status, type: r.headers.get('Content-Type'), text: await r.text() };
    });
    assert.equal(csv.status, 200);
    assert.match(csv.type, /text\/csv/);
    assert.match(csv.text.replace(/^\uFEFF/, ''), /^日時,ユーザー,操作,詳細\r\n/);
    assert.ok(csv.text.includes('login.locked'));
  });
});

test('API keys (shown once, copied, working, deleted) and logging out everywhere', { timeout: 120_000 }, async () => {
  await withPage('accounts-keys', async ({ page, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await loginAs(page, 'demo', server.password);
    await goTo(page, 'アカウント設定');
    const keys = page.locator('#account-keys');
    await keys.getByRole('button', { name: 'キーを作成' }).click();
    await keys.getByText('名前を入力してください。').waitFor();
    await keys.getByLabel('名前').fill('e2e 集計スクリプト');
    await keys.getByRole('button', { name: 'キーを作成' }).click();
    const value = keys.locator('#api-key-value');
    await value.waitFor();
    const key = await value.inputValue();
    assert.ok(key.length >= 20, key);
    assert.match(await keys.locator('.secret-once').textContent(), /今だけ表示されます/);
    await keys.locator('.secret-once [data-action="copy"]').click();
    await page.getByText('コピーしました。').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
    const row = keys.locator('#api-keys tr', { hasText: 'e2e 集計スクリプト' });
    await row.waitFor();
    assert.equal(await row.locator('td').nth(2).textContent(), '未使用');
    // The key works for a script.
    const me = await fetch(new URL('api/v1/me', server.consoleUrl), { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).user.username, 'demo');
    // Deleted: it stops working.
    await row.locator('[data-action="delete"]').click();
    await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
    await row.waitFor({ state: 'detached' });
    const gone = await fetch(new URL('api/v1/me', server.consoleUrl), { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(gone.status, 401);

    // A second browser logged in as the same account.
    const other = await browser.newContext({ locale: 'ja-JP' });
    try {
      const page2 = await other.newPage();
      page2.setDefaultTimeout(STEP_TIMEOUT);
      await loginAs(page2, 'demo', server.password);
      await page.locator('#logout-all').click();
      await page.getByRole('dialog').getByRole('button', { name: 'すべての端末からログアウト' }).click();
      await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
      // The other browser's session is gone too: its next request leads to the login.
      await page2.getByRole('navigation', { name: 'メインメニュー' }).getByRole('link', { name: '配信リスト' }).click();
      await page2.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
    } finally {
      await other.close();
    }
  });
});

test('the account pages in English', { timeout: 60_000 }, async () => {
  await withPage('accounts-english', async ({ page }) => {
    await page.goto(server.consoleUrl);
    await page.locator('#lang-switch').click();
    await page.getByRole('link', { name: 'Forgot your password?' }).waitFor();
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill(server.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Your account', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    for (const text of ['Second factor', 'API keys', 'Log out everywhere', 'Change the password']) {
      assert.ok(await page.getByText(text, { exact: true }).first().isVisible(), text);
    }
    await page.getByRole('navigation').getByRole('link', { name: 'Licence', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Licence' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.locator('#audit-table tbody tr').first().waitFor();
    assert.equal(await page.locator('#audit-table tbody tr').first().locator('td').nth(2).textContent(), 'Login');
  });
});
});
