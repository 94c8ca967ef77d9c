// Static checks of the console's dictionaries (no server, no browser):
// ja.json and en.json have the same keys, no empty strings, the same
// {placeholders}, and every key the code asks for exists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const web = join(root, 'web');
const ja = JSON.parse(readFileSync(join(web, 'i18n', 'ja.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(web, 'i18n', 'en.json'), 'utf8'));

function jsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return jsFiles(p);
    return name.endsWith('.js') ? [p] : [];
  });
}

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('ja.json and en.json have the same keys in the same order', () => {
  assert.deepEqual(Object.keys(en), Object.keys(ja));
});

test('no dictionary entry is empty and placeholders match', () => {
  for (const key of Object.keys(ja)) {
    assert.ok(typeof ja[key] === 'string' && ja[key].trim(), `ja: ${key} is empty`);
    assert.ok(typeof en[key] === 'string' && en[key].trim(), `en: ${key} is empty`);
    assert.deepEqual(placeholders(en[key]), placeholders(ja[key]), `placeholders differ in ${key}`);
  }
});

test('the status and state labels are the ones the product uses', () => {
  const expected = {
    'status.pending': '未送信', 'status.sent': 'メール送信', 'status.send_error': '送信エラー',
    'status.opened': 'メール開封', 'status.file_opened': 'ファイル開封', 'status.clicked': 'リンククリック',
    'status.submitted': 'データ送信', 'status.created': '訓練作成', 'status.reported': '報告',
    'state.draft': '下書き', 'state.scheduled': '予約済み', 'state.sending': '配信中', 'state.running': '実施中',
    'state.finished': '終了', 'state.cancelled': '中止', 'state.paused': '一時停止',
  };
  for (const [key, text] of Object.entries(expected)) assert.equal(ja[key], text, key);
});

test('the keys built at run time exist', () => {
  const families = {
    genre: ['internal', 'partner', 'external', 'notification', 'other'],
    type: ['link', 'attachment', 'combined'],
    level: ['beginner', 'intermediate', 'advanced'],
    lang: ['ja', 'en'],
    flag: ['sender', 'subject', 'body', 'link', 'attachment'],
    stat: ['targets', 'sent', 'opened', 'clicked', 'file_opened', 'submitted'],
  };
  for (const [area, names] of Object.entries(families)) {
    for (const name of names) assert.ok(`${area}.${name}` in ja, `${area}.${name}`);
  }
});

test('every literal key used by the console exists', () => {
  // Strings shaped like keys whose prefix is no dictionary area
  // ('sender.name', 'kunren.lang') are API field names or storage keys.
  const areas = new Set(Object.keys(ja).map((k) => k.split('.')[0]));
  const used = new Set();
  for (const file of jsFiles(join(web, 'js'))) {
    const src = readFileSync(file, 'utf8');
    // t('a.b'), labels in arrays ('target.name', …) and key: 'nav.x' entries.
    for (const m of src.matchAll(/['`]((?:[a-z0-9_]+)\.(?:[a-z0-9_]+))['`]/g)) {
      if (!areas.has(m[1].split('.')[0])) continue;
      used.add(m[1]);
    }
  }
  assert.ok(used.size > 100, `found only ${used.size} keys; is the scan broken?`);
  const missing = [...used].filter((k) => !(k in ja));
  assert.deepEqual(missing, []);
});
