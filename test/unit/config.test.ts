import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, SECRET_VARIABLES, VARIABLES } from '../../src/config.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { tempDir } from '../helpers/app.js';

function errorsOf(env: Record<string, string>, cwd = tempDir()): string[] {
  const result = loadConfig(env, cwd);
  assert.equal(result.ok, false, 'expected the config to be refused');
  return result.ok ? [] : result.errors;
}

function configOf(env: Record<string, string>, cwd = tempDir()) {
  const result = loadConfig(env, cwd);
  if (!result.ok) assert.fail(result.errors.join('\n'));
  return result.config;
}

describe('loadConfig', () => {
  test('nothing set gives a working default config', () => {
    const dir = tempDir();
    const config = configOf({}, dir);
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.appUrl, 'http://localhost:3000');
    assert.equal(config.databasePath, path.join(dir, 'data/app.db'));
    assert.equal(config.uploadsDir, path.join(dir, 'uploads'));
    assert.equal(config.uploads.maxBytes, 10 * 1024 * 1024);
    assert.equal(config.uploads.maxFiles, 5);
    assert.equal(config.game.whisperMax, 200);
    assert.equal(config.game.whisperVisibilitySeconds, 30);
    assert.equal(config.game.apiToken, undefined);
    assert.equal(config.game.ticketSupportEnabled, true, 'seed 002 default');
    assert.equal(config.game.closeOnLogoutDefault, true, 'seed 002 default');
    assert.equal(config.discord.token, undefined);
    assert.deepEqual(config.discord.staffRoleIds, []);
    assert.equal(config.telegram.apiRoot, 'https://api.telegram.org');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.mail.from, 'ticketbridge <noreply@localhost>');
  });

  test('PORT=abc is one line naming PORT and the value', () => {
    assert.deepEqual(errorsOf({ PORT: 'abc' }), ['PORT must be a whole number from 0 to 65535 (got "abc")']);
  });

  test('GAME_TEXT_ENCODING must be a code page iconv-lite knows; GAME_WHISPER_MAX at most 254 bytes', () => {
    assert.deepEqual(errorsOf({ GAME_TEXT_ENCODING: 'klingon' }), [
      'GAME_TEXT_ENCODING must be a code page iconv-lite knows, such as utf-8, cp1252, cp1250, cp1251, cp1254, cp874, gbk, big5, euc-kr or shift_jis (got "klingon")',
    ]);
    assert.deepEqual(errorsOf({ GAME_WHISPER_MAX: '255' }), ['GAME_WHISPER_MAX must be a whole number from 20 to 254 (got "255")']);
    assert.deepEqual(errorsOf({ GAME_TICKETS_WITHOUT_DISCORD: 'yes' }), ['GAME_TICKETS_WITHOUT_DISCORD must be true or false (got "yes")']);
    const result = loadConfig({ GAME_TEXT_ENCODING: 'CP1251', GAME_TICKETS_WITHOUT_DISCORD: 'true' }, tempDir());
    assert.ok(result.ok);
    assert.equal(result.config.game.textEncoding, 'cp1251');
    assert.equal(result.config.game.ticketsWithoutDiscord, true);
  });

  test('every bad value gets its own line', () => {
    const errors = errorsOf({ PORT: '70000', LOG_LEVEL: 'loud', TZ: 'Mars/Olympus', UPLOAD_MAX_FILES: '-1', APP_URL: 'ftp://x' });
    assert.equal(errors.length, 5);
    for (const name of ['PORT', 'LOG_LEVEL', 'TZ', 'UPLOAD_MAX_FILES', 'APP_URL']) {
      assert.equal(errors.filter((line) => line.startsWith(`${name} `)).length, 1, name);
    }
  });

  test('a bad secret is named but its value is never echoed', () => {
    const errors = errorsOf({ GAME_API_TOKEN: 'short-secret', SESSION_SECRET: 'tiny', SMTP_URL: 'http://user:pw@x' });
    assert.equal(errors.length, 3);
    for (const line of errors) assert.doesNotMatch(line, /short-secret|tiny|user:pw/);
  });

  test('empty values mean "not set"', () => {
    const config = configOf({ PORT: '', SMTP_URL: '', DISCORD_TOKEN: '  ' });
    assert.equal(config.port, 3000);
    assert.equal(config.mail.smtpUrl, undefined);
    assert.equal(config.discord.token, undefined);
  });

  test('APP_URL loses its trailing slash; https APP_URL is kept', () => {
    assert.equal(configOf({ APP_URL: 'https://support.example.org/' }).appUrl, 'https://support.example.org');
  });

  test('Discord ids are checked, and token and guild come together', () => {
    assert.deepEqual(configOf({ DISCORD_STAFF_ROLE_IDS: '111111111111111111, 222222222222222222' }).discord.staffRoleIds, [
      '111111111111111111',
      '222222222222222222',
    ]);
    assert.match(errorsOf({ DISCORD_STAFF_ROLE_IDS: '111111111111111111,admins' })[0]!, /^DISCORD_STAFF_ROLE_IDS /);
    assert.match(errorsOf({ DISCORD_TOKEN: 'x'.repeat(40) })[0]!, /^DISCORD_GUILD_ID must be set/);
    assert.match(errorsOf({ DISCORD_GUILD_ID: '123456789012345678' })[0]!, /^DISCORD_TOKEN must be set/);
    const config = configOf({ DISCORD_TOKEN: 'x'.repeat(40), DISCORD_GUILD_ID: '123456789012345678', DISCORD_API_URL: 'http://127.0.0.1:9/api' });
    assert.equal(config.discord.apiUrl, 'http://127.0.0.1:9/api');
  });

  test('a .env file fills in what the environment lacks; the environment wins', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '.env'), 'PORT=4100\nHOST=0.0.0.0\n# comment\nLOG_LEVEL="warn"\n');
    const config = configOf({ HOST: '127.0.0.2' }, dir);
    assert.equal(config.port, 4100);
    assert.equal(config.host, '127.0.0.2');
    assert.equal(config.logLevel, 'warn');
    assert.deepEqual(errorsOf({}, (fs.writeFileSync(path.join(dir, '.env'), 'PORT=abc\n'), dir)), [
      'PORT must be a whole number from 0 to 65535 (got "abc")',
    ]);
  });

  test('channels.conf values are read; a malformed file is one line naming file and line', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'conf'));
    fs.writeFileSync(path.join(dir, 'conf/channels.conf'), '// Ticket Support System\nragnasync_ticket_support_system_enabled: false\n');
    assert.equal(configOf({}, dir).game.ticketSupportEnabled, false);
    assert.equal(configOf({}, dir).game.closeOnLogoutDefault, true);

    fs.writeFileSync(path.join(dir, 'conf/channels.conf'), 'ragnasync_ticket_support_system_enabled: true\nthis is not a setting\n');
    const errors = errorsOf({}, dir);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^CHANNELS_CONF .*conf\/channels\.conf:2: expected "key: value"/);

    fs.writeFileSync(path.join(dir, 'conf/channels.conf'), 'ragnasync_ticket_support_system_close_on_logout: maybe\n');
    assert.match(errorsOf({}, dir)[0]!, /channels\.conf:1: ragnasync_ticket_support_system_close_on_logout must be true\/false/);
  });

  test('backups are off by default; BACKUP_* and LOG_FORMAT are checked with a clear line', () => {
    const dir = tempDir();
    const defaults = configOf({}, dir);
    assert.deepEqual(defaults.backup, { dir: undefined, intervalHours: 24, keep: 7 });
    assert.equal(defaults.logFormat, undefined, 'unset: chosen by whether stdout is a terminal');
    const set = configOf({ BACKUP_DIR: 'backups', BACKUP_INTERVAL_HOURS: '0.5', BACKUP_KEEP: '30', LOG_FORMAT: 'pretty' }, dir);
    assert.deepEqual(set.backup, { dir: path.join(dir, 'backups'), intervalHours: 0.5, keep: 30 });
    assert.equal(set.logFormat, 'pretty');
    assert.deepEqual(errorsOf({ BACKUP_INTERVAL_HOURS: 'daily', BACKUP_KEEP: '0', LOG_FORMAT: 'xml' }), [
      'LOG_FORMAT must be pretty or json (got "xml")',
      'BACKUP_INTERVAL_HOURS must be a number of hours from 0.01 to 8760, such as 24 or 0.5 (got "daily")',
      'BACKUP_KEEP must be a whole number from 1 to 1000 (got "0")',
    ]);
    assert.deepEqual(errorsOf({ BACKUP_INTERVAL_HOURS: '0' }), ['BACKUP_INTERVAL_HOURS must be a number of hours from 0.01 to 8760, such as 24 or 0.5 (got "0")']);
  });

  test('CHANNELS_CONF points elsewhere', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'other.conf'), 'ragnasync_ticket_support_system_close_on_logout: off\n');
    assert.equal(configOf({ CHANNELS_CONF: 'other.conf' }, dir).game.closeOnLogoutDefault, false);
  });
});

describe('.env.example', () => {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, '.env.example'), 'utf8');
  const lines = text.split('\n');

  test('lists every variable the app reads, once, marked Required or Optional, and nothing else', () => {
    const listed = lines.filter((line) => /^[A-Z_]+=/.test(line)).map((line) => line.split('=')[0]);
    assert.deepEqual([...listed].sort(), Object.keys(VARIABLES).sort());
    for (const name of listed) {
      const index = lines.findIndex((line) => line.startsWith(`${name}=`));
      const comments = [];
      for (let i = index - 1; i >= 0 && lines[i]!.startsWith('#'); i -= 1) comments.push(lines[i]);
      assert.ok(comments.some((c) => /\b(Optional|Required)\b/.test(c!)), `${name} is marked Required/Optional`);
    }
  });

  test('the defaults it shows are the defaults the app uses', () => {
    const dir = tempDir();
    const example = Object.fromEntries(lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split(/=(.*)/s).slice(0, 2)));
    const config = configOf(example as Record<string, string>, dir);
    const defaults = configOf({}, dir);
    assert.deepEqual({ ...config, timeZone: '' }, { ...defaults, timeZone: '' });
  });

  test('secrets have no value in the example', () => {
    for (const name of SECRET_VARIABLES) assert.ok(lines.includes(`${name}=`), name);
  });
});
