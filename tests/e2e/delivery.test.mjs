// Browser test of the delivery screens (issue 6): the schedule editor of the
// new campaign form with its planned send curve (POST /schedule/preview),
// the API's field error at the right window, launch, the delivery panel of
// the campaign page (counts, plan, pause, resume, changing the schedule and
// the sending profile, cancel), the 送信設定 page (profiles with a
// write-only password, テスト送信 through a small SMTP server of this test,
// 409 in_use, delete; the DKIM record; the usage) and what a read-only
// account sees there. The first tests need no browser: the pure parts of
// schedule.js, plan-chart.js, the delivery panel and the profiles page,
// imported straight from web/js.
//
//   KUNREN_BIN=$PWD/build/kunren node --test tests/e2e/delivery.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { server, dbEnv, useServerAndBrowser, withPage, login, goTo, apiOk, waitFor } from './server.mjs';
import { initI18n } from '../../web/js/i18n.js';
import { formatTime } from '../../web/js/dom.js';
import {
  formFromSchedule, scheduleFromForm, parseScheduleField, scheduleMessage, localProblems, zonedNow, addDaysAt,
  isoToLocalInput, scheduleSummary,
} from '../../web/js/schedule.js';
import { planLayout, axisLabels, bucketText } from '../../web/js/plan-chart.js';
import { deliveryTiles, deliveryActions, draftPreviewBody } from '../../web/js/pages/campaign-delivery.js';
import { suggestedPort, profileBody } from '../../web/js/pages/sending.js';
import { profileOptions } from '../../web/js/pages/campaign-new.js';

useServerAndBrowser();

const web = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const BIN = resolve(process.env.KUNREN_BIN || 'build/kunren');
const LIST_NAME = 'e2e 配信スケジュールの対象者';
const CAMPAIGN = 'e2e 分散配信の訓練';
const TARGETS = 12;
const PROFILE_PASSWORD = 'e2e-Relay-Pa55word!';
const VIEWER = { username: 'e2e-viewer', password: 'e2e-viewer-password-1' };
const WINDOWS = [[9 * 60, 12 * 60], [13 * 60, 17 * 60]];

/* ---------- the pure parts (no browser) ---------- */

before(async () => {
  // i18n.js fetches /i18n/<lang>.json and sets <html lang>: serve the dictionaries from the
  // checkout, and leave every other fetch (the API calls below) to Node's own.
  const realFetch = globalThis.fetch;
  globalThis.document = globalThis.document || { documentElement: {} };
  globalThis.fetch = async (url, opts) => {
    if (String(url).startsWith('/i18n/')) {
      return { ok: true, json: async () => JSON.parse(readFileSync(join(web, String(url)), 'utf8')) };
    }
    return realFetch(url, opts);
  };
  await initI18n();
});

test('the schedule form and the API schedule convert both ways', () => {
  const api = {
    mode: 'spread', start_at: '2026-12-01T08:30:00+09:00', rate: null, spread_until: '2026-12-04T18:00:00+09:00',
    windows: [{ from: '09:00', to: '12:00' }, { from: '22:00', to: '24:00' }],
    weekdays: ['fri', 'mon', 'tue'], skip_holidays: true, order: 'random', domain_rate: { count: 5, per: 'minute' },
    ends_at: '2026-12-20T18:00:00+09:00',
  };
  const f = formFromSchedule(api);
  assert.equal(f.mode, 'spread');
  assert.equal(f.startAt, '2026-12-01T08:30');
  assert.equal(f.spreadUntil, '2026-12-04T18:00');
  assert.deepEqual(f.windows, [{ from: '09:00', to: '12:00' }, { from: '22:00', to: '00:00' }], '24:00 is 00:00 in a time input');
  assert.deepEqual(f.weekdays, ['mon', 'tue', 'fri'], 'Monday first');
  const back = scheduleFromForm(f);
  assert.deepEqual(back, {
    mode: 'spread', start_at: '2026-12-01T08:30', spread_until: '2026-12-04T18:00',
    windows: [{ from: '09:00', to: '12:00' }, { from: '22:00', to: '24:00' }],
    weekdays: ['mon', 'tue', 'fri'], skip_holidays: true, order: 'random',
    domain_rate: { count: 5, per: 'minute' }, ends_at: '2026-12-20T18:00',
  });
  // Defaults: bulk, now, any time, every day; only the chosen mode's keys are sent.
  const d = scheduleFromForm(formFromSchedule(null));
  assert.deepEqual(d, {
    mode: 'bulk', start_at: null, windows: [], weekdays: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    skip_holidays: false, order: 'list', domain_rate: null, ends_at: null,
  });
  const rate = scheduleFromForm({ ...formFromSchedule(null), mode: 'rate', rateCount: ' 30 ', ratePer: 'minute', domainCount: 'x' });
  assert.deepEqual(rate.rate, { count: 30, per: 'minute' });
  assert.equal(rate.spread_until, undefined);
  assert.deepEqual(rate.domain_rate, { count: 'x', per: 'minute' }, 'text the API refuses at its field');
  assert.equal(isoToLocalInput('2026-12-04T18:00:00Z'), '2026-12-04T18:00');
  assert.equal(isoToLocalInput(null), '');
});

test('API error fields and messages find their place in the schedule form', () => {
  assert.deepEqual(parseScheduleField('schedule.windows[1].to'), { key: 'windows', index: 1, part: 'to' });
  assert.deepEqual(parseScheduleField('schedule.windows'), { key: 'windows', index: null, part: '' });
  assert.deepEqual(parseScheduleField('schedule.rate.count'), { key: 'rate', index: null, part: 'count' });
  assert.deepEqual(parseScheduleField('schedule'), { key: '', index: null, part: '' });
  assert.equal(parseScheduleField('list_ids'), null);
  assert.equal(scheduleMessage('must be after from'), '終了時刻は開始時刻より後にしてください。');
  assert.equal(scheduleMessage('overlaps an earlier window'), 'ほかの時間帯と重なっています。');
  assert.match(scheduleMessage('the schedule allows no time to send at all'), /配信できる時間がありません/);
  assert.equal(scheduleMessage('something new'), 'something new', 'unknown messages are shown as they are');
  const f = { ...formFromSchedule(null), mode: 'spread', spreadUntil: '2026-11-28T09:00', endsAt: '2026-11-29T09:00' };
  assert.deepEqual(localProblems(f, '2026-11-28T09:00').map((p) => p.field), ['schedule.spread_until']);
  assert.deepEqual(localProblems(f, '2026-11-27T09:00'), []);
});

test('the tenant\'s wall clock and dates', () => {
  const at = new Date(Date.UTC(2026, 10, 28, 15, 30)); // 2026-11-29 00:30 in Tokyo
  assert.equal(zonedNow('Asia/Tokyo', at), '2026-11-29T00:30');
  assert.equal(zonedNow('UTC', at), '2026-11-28T15:30');
  assert.equal(addDaysAt('2026-11-29T00:30', 3, '18:00'), '2026-12-02T18:00');
  assert.equal(addDaysAt('2026-12-30T10:00', 5, '09:00'), '2027-01-04T09:00');
  const sum = scheduleSummary({
    mode: 'spread', spread_until: '2026-12-04T18:00:00+09:00', windows: [{ from: '09:00', to: '12:00' }],
    weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], skip_holidays: true, order: 'list', domain_rate: null,
  });
  assert.equal(sum, '期間で均等配信（2026/12/04 18:00 まで） ・ 配信開始と同時に送信 ・ 09:00〜12:00 ・ 月火水木金 ・ 祝日を除く ・ リスト順');
});

test('the plan chart lays sparse buckets out on a time axis in the tenant\'s time', () => {
  const curve = {
    targets: 5, first: '2026-11-30T09:00:00+09:00', last: '2026-12-03T16:10:00+09:00', bucket_seconds: 3600,
    buckets: [
      { at: '2026-12-03T16:00:00+09:00', planned: 1, sent: 0 },
      { at: '2026-11-30T09:00:00+09:00', planned: 2, sent: 1 },
      { at: '2026-11-30T13:00:00+09:00', planned: 1, sent: 0 },
    ],
  };
  const lay = planLayout(curve);
  assert.equal(lay.slots, 3 * 24 + 7 + 1, 'one slot per hour from the first bucket to the last');
  assert.deepEqual(lay.bars.map((b) => b.slot), [0, 4, 79], 'sorted, gaps kept');
  assert.equal(lay.max, 3, 'sent and planned stack');
  assert.deepEqual(lay.bars[0].label.lines, ['11/30', '09:00']);
  // Over more than two days the axis is labelled by day (with the weekday) at midnight.
  const labels = axisLabels(lay, 10);
  assert.deepEqual(labels.map((l) => l.lines), [['11/30', '月'], ['12/1', '火'], ['12/2', '水'], ['12/3', '木']]);
  assert.deepEqual(labels.slice(1).map((l) => l.pos), [15, 39, 63], 'slots from 09:00 to midnight');
  assert.equal(bucketText(3600), '1 時間');
  assert.equal(bucketText(900), '15 分');
  assert.equal(bucketText(86400), '1 日');
  assert.equal(planLayout({ buckets: [] }).slots, 0);
  assert.deepEqual(axisLabels(planLayout({ buckets: [] }), 8), []);
});

test('the delivery panel: tiles add up, buttons follow the state and the role', () => {
  const d = { pending: 7, claimed: 1, sending: 1, sent: 20, error: 2, uncertain: 1, cancelled: 3, retrying: 2, next_due: null };
  const tiles = deliveryTiles(d);
  assert.deepEqual(tiles, { pending: 5, sending: 2, sent: 20, error: 2, uncertain: 1, retrying: 2, cancelled: 3 });
  const targets = 7 + 1 + 1 + 20 + 2 + 1 + 3;
  assert.equal(Object.values(tiles).reduce((a, b) => a + b, 0), targets);
  assert.deepEqual(deliveryActions('sending'), { pause: true, resume: false, cancel: true, edit: true });
  assert.deepEqual(deliveryActions('scheduled'), { pause: true, resume: false, cancel: true, edit: true });
  assert.deepEqual(deliveryActions('paused'), { pause: false, resume: true, cancel: true, edit: true });
  assert.deepEqual(deliveryActions('running'), { pause: false, resume: false, cancel: true, edit: true });
  assert.deepEqual(deliveryActions('finished'), { pause: false, resume: false, cancel: false, edit: false });
  assert.deepEqual(deliveryActions('sending', false), { pause: false, resume: false, cancel: false, edit: false });
  const body = draftPreviewBody({ schedule: { mode: 'bulk', rate: null, windows: [], weekdays: ['mon'] }, list_ids: [3], test_only: true });
  assert.deepEqual(body.list_ids, [3]);
  assert.equal(body.test_only, true);
  assert.equal('rate' in body.schedule, false, 'a null rate is not sent back');
});

test('the profile form: the port follows the security, the password is write-only', () => {
  assert.equal(suggestedPort('587', 'tls'), 465);
  assert.equal(suggestedPort('465', 'starttls'), 587);
  assert.equal(suggestedPort('', 'none'), 25);
  assert.equal(suggestedPort('2525', 'tls'), 2525, 'a port the trainer typed stays');
  const v = {
    name: ' 社内リレー ', host: 'smtp.example.jp', port: '587', security: 'starttls', verify_tls: true,
    username: 'kunren', password: '', helo: '', connections: '2', per_connection: '100',
  };
  const keep = profileBody(v, { isNew: false });
  assert.equal('password' in keep, false, 'an empty password field keeps the stored one');
  assert.equal(keep.name, '社内リレー');
  assert.equal(keep.port, 587);
  assert.equal(profileBody(v, { isNew: false, removePassword: true }).password, '');
  assert.equal(profileBody({ ...v, password: 'secret' }, { isNew: true }).password, 'secret');
  assert.equal(keep.from_address, '', 'an empty 既定の差出人 clears it');
  assert.equal(profileBody({ ...v, from_address: ' 訓練事務局 <drill@example.jp> ' }).from_address, '訓練事務局 <drill@example.jp>');
  const opts = profileOptions([{ id: 4, name: 'A', host: 'h', port: 25, shared: true }], 4);
  assert.equal(opts[0].value, '');
  assert.equal(opts[1].selected, true);
  assert.match(opts[1].label, /共用/);
});

/* ---------- the API, a relay, and accounts, as a script would set them up ---------- */

let apiKey = '';
const shared = { scenarioName: '', listId: 0, campaignId: 0, timeZone: 'Asia/Tokyo', tenantId: 1 };
const relay = { server: null, port: 0, mails: [], auth: [] };

const call = (method, path, body) => apiOk(apiKey, method, path, body);


/** Runs `kunren <args>` on the test server's data folder (the CLI and the server share the database). */
function cli(args, env = {}) {
  const r = spawnSync(BIN, args, {
    cwd: server.dir, encoding: 'utf8', timeout: 30_000,
    env: { ...process.env, KUNREN_DATA: join(server.dir, 'data'), ...dbEnv(), ...env },
  });
  assert.equal(r.status, 0, `kunren ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A small SMTP relay: EHLO with AUTH PLAIN, MAIL, RCPT, DATA; keeps the mails and the logins. */
function startRelay() {
  relay.server = createServer((sock) => {
    sock.setEncoding('latin1');
    let buf = '';
    let inData = false;
    let data = '';
    let authNext = false;
    const say = (line) => sock.write(`${line}\r\n`);
    say('220 e2e-relay ESMTP ready');
    sock.on('data', (chunk) => {
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          data += buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          relay.mails.push(data);
          data = '';
          say('250 2.0.0 Ok: queued as E2E0001');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.split(' ')[0].toUpperCase();
        if (authNext) {
          authNext = false;
          relay.auth.push(Buffer.from(line, 'base64').toString('utf8'));
          say('235 2.7.0 Authentication successful');
        } else if (verb === 'EHLO') {
          sock.write('250-e2e-relay\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n');
        } else if (verb === 'HELO') {
          say('250 e2e-relay');
        } else if (verb === 'AUTH') {
          const ir = line.split(' ')[2];
          if (ir) {
            relay.auth.push(Buffer.from(ir, 'base64').toString('utf8'));
            say('235 2.7.0 Authentication successful');
          } else {
            authNext = true;
            say('334 ');
          }
        } else if (verb === 'DATA') {
          inData = true;
          say('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'QUIT') {
          say('221 2.0.0 Bye');
          sock.end();
          return;
        } else {
          say('250 2.0.0 Ok');
        }
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((r) => relay.server.listen(0, '127.0.0.1', () => {
    relay.port = relay.server.address().port;
    r();
  }));
}

before(async () => {
  // Root hooks do not wait for each other: wait for server.mjs's server.
  await waitFor('the server', () => /^Ready\.$/m.test(server.log) && server.consoleUrl, 60_000);
  const key = /API key:\s+(\S+)/.exec(server.log);
  assert.ok(key, `the server printed no API key:\n${server.log}`);
  apiKey = key[1];
  const me = await call('GET', '/me');
  shared.timeZone = me.user.time_zone || 'Asia/Tokyo';
  shared.tenantId = me.user.tenant_id;
  const list = await call('POST', '/lists', { name: LIST_NAME });
  shared.listId = list.id;
  const rows = ['姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象'];
  for (let i = 1; i <= TARGETS; i += 1) {
    rows.push(`試験,${i}号,taisho${i}@${i % 2 ? 'example.jp' : 'example.co.jp'},${i % 3 ? '営業部' : '総務部'},,,,,`);
  }
  await call('POST', `/lists/${shared.listId}/import`, `${rows.join('\r\n')}\r\n`);
  const sc = await call('POST', '/scenarios', { gallery_id: 'ja-password-expiry' });
  shared.scenarioName = sc.name;
  // The operator's side: a read-only account and a DKIM key, made with the CLI.
  cli(['user', 'add', String(shared.tenantId), VIEWER.username, 'readonly'], { KUNREN_NEW_PASSWORD: VIEWER.password });
  cli(['dkim', 'add', 'example.jp', 'e2e2026']);
  await startRelay();
});

after(() => new Promise((r) => (relay.server ? relay.server.close(() => r()) : r())));

/* ---------- page helpers ---------- */

async function loginAs(page, username, password, heading = '訓練一覧') {
  await page.goto(server.consoleUrl);
  await page.getByLabel('ユーザー名').fill(username);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** The next POST /schedule/preview whose body satisfies pred: {status, body, curve}. */
async function previewResponse(page, pred) {
  const res = await page.waitForResponse((r) => {
    if (!r.url().endsWith('/api/v1/schedule/preview') || r.request().method() !== 'POST') return false;
    try {
      return pred(JSON.parse(r.request().postData() || '{}'));
    } catch {
      return false;
    }
  }, { timeout: 15_000 });
  return { status: res.status(), body: JSON.parse(res.request().postData()), json: await res.json() };
}

/** The bars of a plan chart as the page draws them. */
async function bars(page, scope) {
  return page.locator(`${scope} g.plan-bucket`).evaluateAll((gs) => gs.map((g) => ({
    at: g.dataset.at, planned: Number(g.dataset.planned), sent: Number(g.dataset.sent), seconds: Number(g.dataset.seconds),
    title: g.querySelector('title').textContent,
  })));
}

/** Whether a bar (its start in the tenant's wall-clock time) lies on a weekday inside a window. */
function insideWindows(bar) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(bar.at);
  assert.ok(m, `a bar's time: ${bar.at}`);
  const minutes = Number(m[4]) * 60 + Number(m[5]);
  const end = minutes + bar.seconds / 60;
  const dow = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDay();
  return dow >= 1 && dow <= 5 && WINDOWS.some(([from, to]) => minutes >= from && end <= to);
}

async function stateOf(page) {
  return page.locator('#campaign-state [data-state]').getAttribute('data-state');
}

async function waitForState(page, states) {
  await page.waitForFunction((want) => {
    const el = document.querySelector('#campaign-state [data-state]');
    return el && want.includes(el.dataset.state);
  }, states, { timeout: 15_000, polling: 200 });
}

/* ---------- the browser ---------- */

test('a spread schedule over two windows on weekdays: planned curve, field error, launch, pause, resume, change', { timeout: 180_000 }, async () => {
  await withPage('delivery-schedule', async ({ page }) => {
    await login(page);
    await goTo(page, '訓練作成');
    const form = page.locator('#campaign-form');
    await form.getByLabel('訓練シナリオ').selectOption({ label: shared.scenarioName });
    await page.waitForFunction(() => document.querySelector('input[name="sender_local"]').value !== '');
    await form.getByLabel('訓練名').fill(CAMPAIGN);
    assert.match(await page.locator('#plan-preview').textContent(), /配信リストを選ぶと/);

    // Choosing the list draws the default curve (一括配信: every target at once).
    const first = previewResponse(page, (b) => b.schedule && b.schedule.mode === 'bulk');
    await form.getByLabel(new RegExp(`^${LIST_NAME}`)).check();
    const bulk = await first;
    assert.equal(bulk.status, 200);
    assert.deepEqual(bulk.body.list_ids, [shared.listId]);
    assert.equal(bulk.json.targets, TARGETS);
    await page.locator('#plan-chart g.plan-bucket').first().waitFor();

    // 期間で均等配信 until four days from now, 09:00–12:00 and 13:00–17:00, Monday to Friday.
    const until = addDaysAt(zonedNow(shared.timeZone), 4, '18:00');
    await form.getByRole('radio', { name: /期間で均等配信/ }).check();
    await form.getByLabel('配信の終了日時').fill(until);
    assert.equal(await form.getByText('時間帯の指定はありません').isVisible(), true);
    await form.getByRole('button', { name: '時間帯を追加' }).click();
    await form.getByRole('button', { name: '時間帯を追加' }).click();
    await form.getByLabel('時間帯 1 の開始時刻').fill('09:00');
    await form.getByLabel('時間帯 1 の終了時刻').fill('12:00');
    await form.getByLabel('時間帯 2 の開始時刻').fill('13:00');
    await form.getByLabel('時間帯 2 の終了時刻').fill('17:00');
    const final = previewResponse(page, (b) => b.schedule.mode === 'spread' && b.schedule.weekdays.length === 5
      && b.schedule.windows.length === 2 && b.schedule.windows[1].to === '17:00');
    await form.getByRole('button', { name: '平日（月〜金）' }).click();
    assert.equal(await form.getByRole('checkbox', { name: '土曜日' }).isChecked(), false);
    assert.equal(await form.getByRole('checkbox', { name: '日曜日' }).isChecked(), false);
    assert.equal(await form.getByRole('checkbox', { name: '水曜日' }).isChecked(), true);
    const spread = await final;
    assert.equal(spread.status, 200, JSON.stringify(spread.json));
    assert.deepEqual(spread.body.schedule.windows, [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:00' }]);
    assert.deepEqual(spread.body.schedule.weekdays, ['mon', 'tue', 'wed', 'thu', 'fri']);
    assert.equal(spread.body.schedule.spread_until, until);
    const curve = spread.json;
    assert.equal(curve.targets, TARGETS);
    assert.ok(curve.bucket_seconds <= 3600, `buckets of at most an hour over four days: ${curve.bucket_seconds}`);

    // The page draws exactly that answer: the counts, the first and last time, one bar per bucket.
    await page.waitForFunction((want) => {
      const last = document.querySelector('#plan-preview [data-testid="plan-last"]');
      return last && last.textContent === want.last
        && document.querySelectorAll('#plan-chart g.plan-bucket').length === want.n;
    }, { last: formatTime(curve.last), n: curve.buckets.length }, { timeout: 10_000 });
    assert.equal((await page.locator('[data-testid="plan-targets"]').textContent()).trim(), `${TARGETS} 件`);
    assert.equal(await page.locator('[data-testid="plan-first"]').textContent(), formatTime(curve.first));
    const drawn = await bars(page, '#plan-chart');
    assert.equal(drawn.reduce((n, b) => n + b.planned, 0), TARGETS, 'every target is in a bar');
    const outside = drawn.filter((b) => !insideWindows(b));
    assert.deepEqual(outside, [], 'no bar outside the windows or on a weekend');
    assert.match(drawn[0].title, /予定 \d+ 件/);
    assert.ok(await page.locator('#plan-chart svg text.chart-axis').count() > 2, 'the axes are labelled');

    // A window that ends before it starts: the API's error at that window's end, no curve.
    const bad = previewResponse(page, (b) => b.schedule.windows.length === 2 && b.schedule.windows[1].to === '11:00');
    await form.getByLabel('時間帯 2 の終了時刻').fill('11:00');
    const refused = await bad;
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.details[0].field, 'schedule.windows[1].to');
    const row = form.locator('.window-row[data-window="1"]');
    await row.locator('.error').waitFor({ state: 'visible' });
    assert.equal(await row.locator('.error').textContent(), '終了時刻は開始時刻より後にしてください。');
    assert.equal(await form.getByLabel('時間帯 2 の終了時刻').getAttribute('aria-invalid'), 'true');
    assert.equal(await form.getByLabel('時間帯 2 の開始時刻').getAttribute('aria-invalid'), null);
    assert.equal(await form.locator('.window-row[data-window="0"] .error').isVisible(), false);
    await page.locator('#plan-preview[data-state="invalid"]').waitFor();

    // Fixed: the error goes and the curve comes back.
    const fixed = previewResponse(page, (b) => b.schedule.windows.length === 2 && b.schedule.windows[1].to === '17:00');
    await form.getByLabel('時間帯 2 の終了時刻').fill('17:00');
    assert.equal((await fixed).status, 200);
    await row.locator('.error').waitFor({ state: 'hidden' });
    await page.locator('#plan-preview[data-state="ready"] #plan-chart').waitFor();

    // Launch: 予約済み (nothing allowed right now) or 配信中, and the delivery panel.
    await form.getByRole('button', { name: '作成して配信' }).click();
    await page.waitForURL(/#\/campaigns\/\d+$/);
    shared.campaignId = Number(/#\/campaigns\/(\d+)$/.exec(page.url())[1]);
    await page.getByRole('heading', { level: 1, name: CAMPAIGN }).waitFor();
    await waitForState(page, ['scheduled', 'sending']);
    assert.match(await page.locator('#campaign-state').textContent(), /予約済み|配信中/);
    const stored = await call('GET', `/campaigns/${shared.campaignId}`);
    assert.deepEqual(stored.schedule.windows, [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:00' }]);
    assert.equal(stored.schedule.mode, 'spread');
    assert.equal(stored.target_count, TARGETS);

    const panel = page.locator('#delivery-card');
    await panel.getByRole('heading', { name: '配信状況' }).waitFor();
    for (const label of ['未送信', '送信中', '送信済み', '送信エラー', '不明', '再送待ち', '取消']) {
      assert.equal(await panel.locator('.dcount-label', { hasText: label }).count() >= 1, true, label);
    }
    const counts = await panel.locator('.dcount-value').allTextContents();
    assert.equal(counts.reduce((n, v) => n + Number(v.replace(/,/g, '')), 0), TARGETS, `the tiles add up: ${counts}`);
    const tip = panel.getByRole('button', { name: '「不明」とは' });
    await tip.focus();
    await panel.getByRole('tooltip').waitFor({ state: 'visible' });
    assert.match(await panel.getByRole('tooltip').textContent(), /サーバーが停止した.*再送はしません/);
    assert.match(await panel.locator('#next-due').textContent(), /次回の送信予定：\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}/);
    assert.match(await panel.locator('#schedule-summary').textContent(), /期間で均等配信.*09:00〜12:00、13:00〜17:00.*月火水木金/);
    await panel.locator('#campaign-plan g.plan-bucket').first().waitFor();
    const planned = await bars(page, '#campaign-plan');
    assert.equal(planned.reduce((n, b) => n + b.planned + b.sent, 0), TARGETS);
    assert.deepEqual(planned.filter((b) => !insideWindows(b)), [], 'the launched plan keeps to the windows');
    await panel.locator('.chart-legend [data-series="sent"]').waitFor();

    // 一時停止, then 再開.
    const before = await stateOf(page);
    await panel.getByRole('button', { name: '一時停止' }).click();
    await waitForState(page, ['paused']);
    assert.equal(await page.locator('#campaign-state').textContent(), '一時停止');
    await panel.getByRole('button', { name: '再開' }).waitFor();
    assert.equal(await panel.getByRole('button', { name: '一時停止' }).isVisible(), false);
    assert.match(await panel.locator('#next-due').textContent(), /一時停止中/);
    assert.equal((await call('GET', `/campaigns/${shared.campaignId}`)).state, 'paused');
    await panel.getByRole('button', { name: '再開' }).click();
    await waitForState(page, ['scheduled', 'sending']);
    assert.ok(['scheduled', 'sending'].includes(before));
    await panel.getByRole('button', { name: '一時停止' }).waitFor();
    assert.equal(await panel.getByRole('button', { name: '再開' }).isVisible(), false);

    // 配信設定を変更: the same editor, filled with the stored schedule; a third window is refused
    // at its field by the API, then the order is changed and saved (PATCH).
    await panel.getByRole('button', { name: '配信設定を変更' }).click();
    const dialog = page.locator('#delivery-edit-dialog');
    await dialog.getByLabel('時間帯 2 の終了時刻').waitFor();
    assert.equal(await dialog.getByLabel('時間帯 1 の開始時刻').inputValue(), '09:00');
    assert.equal(await dialog.getByLabel('時間帯 2 の終了時刻').inputValue(), '17:00');
    assert.equal(await dialog.getByRole('radio', { name: /期間で均等配信/ }).isChecked(), true);
    assert.equal(await dialog.getByRole('checkbox', { name: '土曜日' }).isChecked(), false);
    assert.equal(await dialog.getByLabel(new RegExp(`^${LIST_NAME}`)).isChecked(), true);
    await dialog.getByRole('button', { name: '時間帯を追加' }).click();
    await dialog.getByLabel('時間帯 3 の開始時刻').fill('10:00');
    await dialog.getByLabel('時間帯 3 の終了時刻').fill('11:00');
    const patchRefused = page.waitForResponse((r) => r.url().endsWith(`/api/v1/campaigns/${shared.campaignId}`) && r.request().method() === 'PATCH');
    await dialog.getByRole('button', { name: '変更を保存' }).click();
    assert.equal((await patchRefused).status(), 400);
    await dialog.locator('.window-row[data-window="2"] .error').waitFor({ state: 'visible' });
    assert.equal(await dialog.locator('.window-row[data-window="2"] .error').textContent(), 'ほかの時間帯と重なっています。');
    await dialog.getByRole('button', { name: '時間帯 3 を削除' }).click();
    await dialog.getByLabel('配信順').selectOption('random');
    const patched = page.waitForResponse((r) => r.url().endsWith(`/api/v1/campaigns/${shared.campaignId}`) && r.request().method() === 'PATCH');
    await dialog.getByRole('button', { name: '変更を保存' }).click();
    assert.equal((await patched).status(), 200);
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() => /ランダム/.test(document.querySelector('#schedule-summary').textContent));
    const changed = await call('GET', `/campaigns/${shared.campaignId}`);
    assert.equal(changed.schedule.order, 'random');
    assert.equal(changed.schedule.windows.length, 2);
    assert.equal(changed.target_count, TARGETS);
  });
});

test('送信設定: a profile with a write-only password, テスト送信, in use, DKIM and usage', { timeout: 120_000 }, async () => {
  assert.ok(shared.campaignId, 'the campaign of the test before');
  await withPage('delivery-profiles', async ({ context, page }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.consoleUrl).origin });
    const seen = [];
    page.on('response', async (r) => {
      if (!r.url().includes('/api/v1/sending-profiles')) return;
      seen.push(await r.text().catch(() => ''));
    });
    await login(page);
    await goTo(page, '送信設定');
    await page.locator('#profiles-card').getByText('送信設定はまだありません').waitFor();

    // Create: the relay of this test, no encryption, a login.
    await page.getByRole('button', { name: '送信設定を追加' }).click();
    const dialog = page.locator('#profile-dialog');
    await dialog.getByLabel('名前').fill('e2e 社内リレー');
    await dialog.getByLabel('SMTP サーバー').fill('127.0.0.1');
    assert.equal(await dialog.getByLabel('ポート').inputValue(), '587');
    assert.equal(await dialog.getByLabel('サーバー証明書を検証する').isChecked(), true, 'verify_tls is on by default');
    await dialog.getByLabel('暗号化').selectOption('tls');
    assert.equal(await dialog.getByLabel('ポート').inputValue(), '465', 'the usual port follows the security');
    await dialog.getByLabel('暗号化').selectOption('none');
    await dialog.getByLabel('ポート').fill(String(relay.port));
    await dialog.getByLabel('ユーザー名').fill('kunren-e2e');
    await dialog.getByLabel('パスワード', { exact: true }).fill(PROFILE_PASSWORD);
    await dialog.getByLabel('同時接続数').fill('3');
    await dialog.getByRole('button', { name: '追加', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator('#profiles-table tr', { hasText: 'e2e 社内リレー' });
    await row.waitFor();
    assert.match(await row.textContent(), new RegExp(`127\\.0\\.0\\.1:${relay.port}`));
    assert.match(await row.textContent(), /なし（暗号化しない）/);
    assert.match(await row.locator('[data-testid="profile-auth"]').textContent(), /kunren-e2e.*設定済み/);
    assert.match(await row.textContent(), /3 本 × 100 通/);
    const created = (await call('GET', '/sending-profiles')).items.find((p) => p.name === 'e2e 社内リレー');
    assert.equal(created.has_password, true);
    assert.equal(created.security, 'none');

    // Edit: the password field is empty with 設定済み as its placeholder; saving without typing
    // one keeps it, and no request or page ever carries it.
    await row.getByRole('button', { name: '「e2e 社内リレー」を編集' }).click();
    const edit = page.locator('#profile-dialog');
    const pw = edit.getByLabel('パスワード', { exact: true });
    assert.equal(await pw.inputValue(), '');
    assert.equal(await pw.getAttribute('placeholder'), '設定済み');
    assert.equal(await pw.getAttribute('type'), 'password');
    const patch = page.waitForRequest((r) => r.method() === 'PATCH' && r.url().includes('/api/v1/sending-profiles/'));
    await edit.getByLabel('1 接続あたりの送信数').fill('50');
    await edit.getByRole('button', { name: '変更を保存' }).click();
    const sentBody = JSON.parse((await patch).postData());
    assert.equal('password' in sentBody, false, 'an untouched password is not sent');
    await edit.waitFor({ state: 'detached' });
    await page.locator('#profiles-table tr', { hasText: '3 本 × 50 通' }).waitFor();
    assert.equal((await call('GET', `/sending-profiles/${created.id}`)).has_password, true);
    assert.equal((await page.content()).includes(PROFILE_PASSWORD), false, 'the page never shows the password');
    assert.equal(seen.some((text) => text.includes(PROFILE_PASSWORD)), false, 'no answer carries the password');

    // テスト送信 through the relay: ok and its reply; the relay got the login with the password.
    await row.getByRole('button', { name: '「e2e 社内リレー」でテスト送信' }).click();
    const test = page.locator('#profile-test-dialog');
    await test.getByLabel('宛先').fill('kakunin@example.jp');
    await test.getByRole('button', { name: '送信', exact: true }).click();
    const result = test.locator('[data-testid="test-result"]');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-ok'), 'true');
    assert.match(await result.textContent(), /送信できました/);
    assert.match(await result.locator('pre').textContent(), /250/);
    assert.equal(relay.mails.length >= 1, true, 'the relay got the test mail');
    assert.ok(relay.auth.some((a) => a.includes('kunren-e2e') && a.includes(PROFILE_PASSWORD)), 'the stored password reached the relay');
    await test.getByRole('button', { name: '閉じる' }).first().click();

    // The campaign of the test before now sends through it: the profile is in use.
    await page.goto(`${server.consoleUrl}#/campaigns/${shared.campaignId}`);
    const panel = page.locator('#delivery-card');
    await panel.getByRole('button', { name: '配信設定を変更' }).click();
    const change = page.locator('#delivery-edit-dialog');
    await change.getByLabel('送信設定', { exact: true }).selectOption({ label: `e2e 社内リレー（127.0.0.1:${relay.port}）` });
    await change.getByRole('button', { name: '変更を保存' }).click();
    await change.waitFor({ state: 'detached' });
    await page.waitForFunction(() => /送信設定：e2e 社内リレー/.test(document.querySelector('#schedule-summary').textContent));
    assert.equal((await call('GET', `/campaigns/${shared.campaignId}`)).profile_id, created.id);

    await goTo(page, '送信設定');
    await page.getByRole('button', { name: '「e2e 社内リレー」を削除' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
    const alertBox = page.locator('#profiles-alert .alert-error');
    await alertBox.waitFor();
    assert.match(await alertBox.textContent(), /送信設定「e2e 社内リレー」は削除できません.*終了していない訓練/);
    await page.locator('#profiles-table tr', { hasText: 'e2e 社内リレー' }).waitFor();

    // The DKIM record with its copy buttons, and the usage of the period.
    const dkim = page.locator('#dkim-card [data-dkim]');
    await dkim.waitFor();
    assert.match(await dkim.textContent(), /example\.jp/);
    assert.equal(await dkim.locator('.dns-name').textContent(), 'e2e2026._domainkey.example.jp');
    const txt = await dkim.locator('.dns-txt').textContent();
    assert.match(txt, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/);
    await dkim.getByRole('button', { name: 'example.jp の TXT レコードの値をコピー' }).click();
    await page.getByText('コピーしました。').first().waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), txt);
    const usage = await call('GET', '/usage');
    assert.equal(await page.locator('[data-testid="usage-sends"]').textContent(), String(usage.sends));
    assert.equal(await page.locator('[data-testid="usage-addresses"]').textContent(), String(usage.addresses));

    // 中止 asks first; cancelled, the campaign is over and the profile can go.
    await page.goto(`${server.consoleUrl}#/campaigns/${shared.campaignId}`);
    await panel.getByRole('button', { name: '訓練を中止' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'キャンセル' }).click();
    assert.notEqual(await stateOf(page), 'cancelled');
    await panel.getByRole('button', { name: '訓練を中止' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '訓練を中止' }).click();
    await waitForState(page, ['cancelled']);
    assert.equal(await panel.getByRole('button', { name: '配信設定を変更' }).isVisible(), false);
    assert.equal(await panel.getByRole('button', { name: '一時停止' }).isVisible(), false);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="delivery-cancelled"]').textContent) > 0
      || Number(document.querySelector('[data-testid="delivery-sent"]').textContent) === 12);

    await goTo(page, '送信設定');
    await page.getByRole('button', { name: '「e2e 社内リレー」を削除' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
    await page.locator('#profiles-card').getByText('送信設定はまだありません').waitFor();
  });
});

test('a read-only account sees the sending settings without a button to change them', { timeout: 90_000 }, async () => {
  const profile = await call('POST', '/sending-profiles', {
    name: 'e2e 閲覧用リレー', host: 'smtp.example.jp', port: 587, username: 'viewer-check', password: PROFILE_PASSWORD,
  });
  await withPage('delivery-readonly', async ({ page }) => {
    await loginAs(page, VIEWER.username, VIEWER.password);
    await goTo(page, '送信設定');
    const row = page.locator(`#profiles-table tr[data-profile="${profile.id}"]`);
    await row.waitFor();
    assert.match(await row.locator('[data-testid="profile-auth"]').textContent(), /viewer-check.*設定済み/);
    assert.match(await page.locator('#main').textContent(), /閲覧専用のアカウントのため/);
    assert.equal(await page.getByRole('button', { name: '送信設定を追加' }).count(), 0);
    assert.equal(await page.locator('#profiles-table button').count(), 0, 'no 編集, 削除 or テスト送信');
    assert.equal((await page.content()).includes(PROFILE_PASSWORD), false);
    await page.locator('#dkim-card .dns-name', { hasText: 'e2e2026._domainkey.example.jp' }).waitFor();
    await page.locator('#usage-card [data-testid="usage-sends"]').waitFor();

    // In English too.
    await page.locator('#lang-switch').click();
    await page.getByRole('heading', { level: 1, name: 'Sending' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'DKIM records' }).waitFor();
    assert.match(await row.locator('[data-testid="profile-auth"]').textContent(), /Set/);
    await page.locator('#lang-switch').click();
    await page.getByRole('heading', { level: 1, name: '送信設定' }).waitFor();

    // The campaign page: the delivery panel without its buttons.
    await page.goto(`${server.consoleUrl}#/campaigns/${shared.campaignId}`);
    await page.locator('#delivery-card .dcount-value').first().waitFor();
    for (const id of ['#pause', '#resume', '#cancel', '#delivery-edit', '#launch']) {
      assert.equal(await page.locator(id).isVisible(), false, id);
    }
  });
  await call('DELETE', `/sending-profiles/${profile.id}`);
});

test('送信設定: the 既定の差出人 is typed in the dialog, checked by the server and saved', { timeout: 90_000 }, async () => {
  await withPage('delivery-profile-sender', async ({ page }) => {
    await login(page);
    await goTo(page, '送信設定');
    await page.getByRole('button', { name: '送信設定を追加' }).click();
    const dialog = page.locator('#profile-dialog');
    await dialog.getByLabel('名前').fill('e2e 差出人つきリレー');
    await dialog.getByLabel('SMTP サーバー').fill('smtp.example.jp');
    const from = dialog.getByLabel('既定の差出人（任意）');
    assert.equal(await from.getAttribute('placeholder'), '訓練事務局 <drill@example.jp>');
    // Not an address: the server's 400 names from_address and the message stands under the field.
    await from.fill('訓練事務局 drill');
    await dialog.getByRole('button', { name: '追加', exact: true }).click();
    await dialog.locator('[data-field="from_address"] .error:not([hidden])').waitFor();
    assert.equal(await from.getAttribute('aria-invalid'), 'true');
    assert.equal((await call('GET', '/sending-profiles')).items.some((p) => p.name === 'e2e 差出人つきリレー'), false,
      'nothing is stored');
    await from.fill('訓練事務局 <Drill@Example.JP>');
    await dialog.getByRole('button', { name: '追加', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator('#profiles-table tr', { hasText: 'e2e 差出人つきリレー' });
    await row.waitFor();
    assert.equal(await row.locator('[data-testid="profile-from"]').textContent(), '既定の差出人：訓練事務局 <Drill@example.jp>');
    const saved = (await call('GET', '/sending-profiles')).items.find((p) => p.name === 'e2e 差出人つきリレー');
    assert.equal(saved.from_address, '訓練事務局 <Drill@example.jp>');

    // Edit: the dialog shows it; a new one is saved.
    await row.getByRole('button', { name: '「e2e 差出人つきリレー」を編集' }).click();
    const edit = page.locator('#profile-dialog');
    assert.equal(await edit.getByLabel('既定の差出人（任意）').inputValue(), '訓練事務局 <Drill@example.jp>');
    await edit.getByLabel('既定の差出人（任意）').fill('soumu@example.jp');
    await edit.getByRole('button', { name: '変更を保存' }).click();
    await edit.waitFor({ state: 'detached' });
    await row.locator('[data-testid="profile-from"]', { hasText: '既定の差出人：soumu@example.jp' }).waitFor();
    assert.equal((await call('GET', `/sending-profiles/${saved.id}`)).from_address, 'soumu@example.jp');

    // 訓練作成 with the three sender fields emptied and that profile chosen: the campaign
    // takes the profile's default sender (the launch is held back: the relay is made up).
    await page.route('**/api/v1/campaigns/*/launch', (r) => r.abort());
    await goTo(page, '訓練作成');
    const form = page.locator('#campaign-form');
    await form.getByLabel('訓練シナリオ').selectOption({ label: shared.scenarioName });
    await page.waitForFunction(() => document.querySelector('input[name="sender_local"]').value !== '');
    await form.getByLabel('訓練名').fill('e2e 既定の差出人で作成');
    await form.getByLabel(new RegExp(`^${LIST_NAME}`)).check();
    for (const name of ['sender_name', 'sender_local', 'sender_domain']) await form.locator(`input[name="${name}"]`).fill('');
    await form.locator('select[name="profile_id"]').selectOption(String(saved.id));
    const created = page.waitForResponse((r) => /\/api\/v1\/campaigns$/.test(r.url()) && r.request().method() === 'POST');
    await form.getByRole('button', { name: '作成して配信' }).click();
    const answer = await created;
    assert.equal(answer.status(), 201);
    assert.equal('sender' in JSON.parse(answer.request().postData()), false, 'empty fields send no sender');
    const campaign = await answer.json();
    assert.deepEqual(campaign.sender, { name: '', local: 'soumu', domain: 'example.jp' });
    await call('POST', `/campaigns/${campaign.id}/cancel`);
  });
});
