// Shared by the browser tests: the real server (KUNREN_BIN, default
// build/kunren) in outbox mode on a fresh data folder, Debian's Chromium
// through playwright-core, and the steps every test needs (log in, follow the
// navigation, create a list).
//
//   KUNREN_BIN=build/kunren node --test tests/e2e/
//
// E2E_ARTIFACTS=<dir> keeps a screenshot of the page of any failing test.
//
// KUNREN_TEST_PG=postgres://postgres@127.0.0.1:PORT/postgres (as printed by
// scripts/pg-test-cluster start) runs the servers on PostgreSQL: each one gets
// a new database (kt_<random>, made with psql, dropped when it stops) through
// KUNREN_DATABASE_URL, as in the integration suite (kunren_testlib).

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

const BIN = resolve(process.env.KUNREN_BIN || 'build/kunren');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_TIMEOUT = 20_000;
const PG_BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';

export const server = { proc: null, dir: null, consoleUrl: '', trackerUrl: '', password: '', log: '', dbUrl: '' };
let browser;

/* ---------- the database ---------- */

function psql(url, sql) {
  execFileSync(join(PG_BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** On PostgreSQL (KUNREN_TEST_PG set): a new database's URL; '' on SQLite (kunren.db in the data folder). */
export function createTestDatabase() {
  const base = process.env.KUNREN_TEST_PG;
  if (!base) return '';
  const name = `kt_${randomBytes(8).toString('hex')}`;
  psql(base, `CREATE DATABASE "${name}"`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops a database of createTestDatabase (its server stopped). */
export function dropTestDatabase(url) {
  if (!url) return;
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  try {
    psql(process.env.KUNREN_TEST_PG, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } catch { /* left for the cluster's removal */ }
}

/** The environment that points a server or the CLI at a database of createTestDatabase. */
export function dbEnv(url = server.dbUrl) {
  return url ? { KUNREN_DATABASE_URL: url } : {};
}

/* ---------- server ---------- */

function startServer() {
  server.dir = mkdtempSync(join(tmpdir(), 'kunren-e2e-'));
  server.password = randomBytes(12).toString('base64url');
  server.dbUrl = createTestDatabase();
  const env = {
    ...process.env,
    KUNREN_DATA: join(server.dir, 'data'),
    ...dbEnv(),
    KUNREN_CONSOLE_LISTEN: '127.0.0.1:0',
    KUNREN_TRACKER_LISTEN: '127.0.0.1:0',
    KUNREN_INITIAL_PASSWORD: server.password,
    KUNREN_SMTP_URL: '',
    KUNREN_TRACKER_URL: '',
  };
  // cwd is the temp folder, so no kunren.conf of the checkout is read.
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
      const t = /Kunren tracker:\s+(\S+)/.exec(out);
      if (c) server.consoleUrl = c[1].replace(/\/?$/, '/');
      if (t) server.trackerUrl = t[1].replace(/\/?$/, '/');
      if (/^Ready\.$/m.test(out) && server.consoleUrl && server.trackerUrl) {
        clearTimeout(timer);
        server.proc.removeAllListeners('exit');
        server.proc.on('exit', (code, sig) => { server.log += `\n[server exited: code ${code}, signal ${sig}]\n`; });
        resolveReady();
      }
    });
  });
}

/** Stops the server with SIGTERM (SIGKILL after 5 s); returns how it ended. */
async function stopServer() {
  const p = server.proc;
  let ended = 'not started';
  if (p && p.exitCode === null && p.signalCode === null) {
    const exited = new Promise((r) => p.once('exit', (code, sig) => r(sig ? `signal ${sig}` : `code ${code}`)));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5_000);
    ended = await exited;
    clearTimeout(timer);
  } else if (p) {
    ended = `already gone (code ${p.exitCode}, signal ${p.signalCode})`;
  }
  if (server.dir) rmSync(server.dir, { recursive: true, force: true });
  dropTestDatabase(server.dbUrl);
  server.dbUrl = '';
  return ended;
}

/** Registers the file's before/after hooks: one server and one browser for all its tests. */
export const PERSON_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
  + 'Chrome/131.0.0.0 Safari/537.36';

/* Polls fn until it returns something truthy (every 200 ms, at most ms). */
export async function waitFor(what, fn, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/* One JSON API call with an API key: a string body goes as CSV, anything
 * else as JSON.  Returns { status, json, text } (json null when not JSON). */
export async function apiCall(key, method, path, body) {
  const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
  let payload;
  if (typeof body === 'string') {
    headers['Content-Type'] = 'text/csv';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(new URL(`api/v1${path}`, server.consoleUrl), { method, headers, body: payload });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, json, text };
}

/* The same, asserting the status (want, or any 2xx); returns the JSON. */
export async function apiOk(key, method, path, body, want) {
  const r = await apiCall(key, method, path, body);
  const good = want === undefined ? r.status < 300 : r.status === want;
  assert.ok(good, `${method} ${path} → ${r.status} ${r.text.slice(0, 400)}`);
  return r.json;
}

export function useServerAndBrowser() {
  before(async () => {
    assert.ok(existsSync(BIN), `${BIN} does not exist: build it first (make) or set KUNREN_BIN`);
    await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
        // The browser plays the people of the drills: headless Chromium's own user agent
        // (HeadlessChrome) is a bot's, whose events are machine events (SPEC F6) left out of
        // the numbers by default. The flag reaches every request, sandboxed frames too.
        `--user-agent=${PERSON_UA}`],
    });
  });

  after(async () => {
    if (browser) await browser.close();
    const ended = await stopServer();
    // SIGTERM stops the server cleanly (docs/API.md).
    assert.equal(ended, 'code 0', `the server did not stop cleanly:\n${server.log.slice(-4000)}`);
  });
}

/* ---------- pages ---------- */

/** Runs fn with a fresh context and page; on failure keeps a screenshot and shows the server log. */
export async function withPage(name, fn) {
  const context = await browser.newContext({ acceptDownloads: true, locale: 'ja-JP', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT);
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

export async function login(page) {
  await page.goto(server.consoleUrl);
  await page.getByLabel('ユーザー名').fill('demo');
  await page.getByLabel('パスワード').fill(server.password);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.getByRole('heading', { level: 1, name: '訓練一覧' }).waitFor();
}

/** Follows a link of the side navigation and waits for the page's heading. */
export async function goTo(page, link, heading = link) {
  await page.getByRole('navigation', { name: 'メインメニュー' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}

/** Creates a list on the overview and waits for its own page. */
export async function createList(page, name) {
  await goTo(page, '配信リスト');
  await page.getByLabel('リスト名').fill(name);
  await page.getByRole('button', { name: '作成', exact: true }).click();
  await page.waitForURL(/#\/lists\/[^/?]+$/);
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** Writes a file into the server's temp folder (text as UTF-8, or bytes); returns its path. */
export function csvFile(name, content) {
  const path = join(server.dir, name);
  writeFileSync(path, content);
  return path;
}
