// Settings read back from the database are checked (src/db/settings.ts): a stored value that does
// not fit is logged once, by key and never with the value, and the default applies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { prepared } from '../../src/db/index.js';
import { setting, settingOrInit } from '../../src/db/settings.js';
import { DEFAULT_WHISPER_TEMPLATES, notificationSwitches, saveNotificationSwitches, whisperTemplates } from '../../src/settings.js';
import { startApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

function store(key: string, text: string): void {
  prepared(app.db, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, text);
}
const warningsAbout = (key: string) => app.logs.filter((line) => line.setting === key);

describe('a stored setting that does not fit', () => {
  test('notification switches of the wrong type are logged once and read as off', () => {
    store('notifications.enabled', '{"email":"yes","telegram":1}');
    assert.deepEqual(notificationSwitches(app.db), { email: false, telegram: false });
    assert.deepEqual(notificationSwitches(app.db), { email: false, telegram: false });
    const warnings = warningsAbout('notifications.enabled');
    assert.equal(warnings.length, 1, 'one warning, not one per read');
    assert.equal(warnings[0]!.level, 'warn');
    assert.match(String(warnings[0]!.problem), /email/);
    assert.doesNotMatch(JSON.stringify(warnings[0]), /yes/);
    // Saving a good value puts things right without a restart.
    saveNotificationSwitches(app.db, { email: true, telegram: false });
    assert.deepEqual(notificationSwitches(app.db), { email: true, telegram: false });
  });

  test('whisper templates that are not JSON fall back to the seed texts', () => {
    store('game.whisper_templates', '{"request": "[Help] {message}",');
    assert.deepEqual(whisperTemplates(app.db), DEFAULT_WHISPER_TEMPLATES);
    assert.equal(warningsAbout('game.whisper_templates').length, 1);
    store('game.whisper_templates', '{"request": 42}');
    assert.deepEqual(whisperTemplates(app.db), DEFAULT_WHISPER_TEMPLATES);
    assert.equal(warningsAbout('game.whisper_templates').length, 2, 'a different bad value is reported again');
  });

  test('a bad session secret is replaced, and the log never shows the stored text', () => {
    store('session_secret', '"short-secret-text"');
    const secret = settingOrInit(app.db, 'session_secret', z.string().min(32), 'a'.repeat(43));
    assert.equal(secret, 'a'.repeat(43));
    assert.equal(setting(app.db, 'session_secret', z.string()), 'a'.repeat(43));
    store('session_secret', 'not-json-secret-text');
    assert.equal(setting(app.db, 'session_secret', z.string()), undefined);
    const logged = JSON.stringify(warningsAbout('session_secret'));
    assert.equal(warningsAbout('session_secret').length, 2);
    assert.doesNotMatch(logged, /short-secret-text|not-json-secret-text/);
  });
});
