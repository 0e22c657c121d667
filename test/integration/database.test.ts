import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { recordAudit } from '../../src/audit.js';
import { recentAuditRows } from '../../src/db/audit.js';
import { MigrationError, openDatabase, prepared, SchemaTooNewError } from '../../src/db/index.js';
import { listMigrations } from '../../src/db/migrate.js';
import { setting, settingOrInit } from '../../src/db/settings.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { tempDir } from '../helpers/app.js';

const EXPECTED_TABLES = [
  'attachments',
  'audit_log',
  'discord_guild_channels',
  'discord_outbox',
  'game_requests',
  'game_whispers',
  'messages',
  'notification_outbox',
  'schema_migrations',
  'sessions',
  'settings',
  'tickets',
  'user_tokens',
  'users',
];

describe('opening and migrating', () => {
  test('a new file gets the whole schema, WAL, foreign keys and a busy timeout', () => {
    const file = path.join(tempDir(), 'nested', 'app.db');
    const { db, migrations } = openDatabase(file);
    try {
      assert.deepEqual(migrations.applied, listMigrations(MIGRATIONS_DIR).map((m) => m.version));
      const tables = (prepared(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
      for (const table of EXPECTED_TABLES) assert.ok(tables.includes(table), table);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
      const columns = (db.pragma('table_info(discord_guild_channels)') as { name: string }[]).map((c) => c.name);
      assert.ok(columns.includes('ticket_close_on_logout'), 'seed 002 § Database');
      const versions = prepared(db, 'SELECT version, name FROM schema_migrations ORDER BY version').all();
      assert.deepEqual(versions[0], { version: 1, name: 'init' });
    } finally {
      db.close();
    }
  });

  test('opening again applies nothing', () => {
    const file = path.join(tempDir(), 'app.db');
    openDatabase(file).db.close();
    const { db, migrations } = openDatabase(file);
    db.close();
    assert.deepEqual(migrations.applied, []);
  });

  test('a database newer than this build is refused', () => {
    const file = path.join(tempDir(), 'app.db');
    const { db } = openDatabase(file);
    prepared(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run();
    db.close();
    assert.throws(() => openDatabase(file), (err: unknown) => err instanceof SchemaTooNewError && /schema version 999, newer than/.test(err.message));
  });

  test('a failing migration is rolled back whole and names its file', () => {
    const dir = tempDir();
    const migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
    const real = listMigrations(MIGRATIONS_DIR);
    for (const m of real) fs.copyFileSync(m.file, path.join(migrations, path.basename(m.file)));
    const brokenName = `${String(real.length + 1).padStart(3, '0')}_broken.sql`;
    fs.writeFileSync(path.join(migrations, brokenName), 'CREATE TABLE half (id INTEGER);\nTHIS IS NOT SQL;\n');
    const file = path.join(dir, 'app.db');
    assert.throws(
      () => openDatabase(file, { migrationsDir: migrations }),
      (err: unknown) => err instanceof MigrationError && err.message.includes(`${brokenName} failed and was rolled back`),
    );
    const { db } = openDatabase(file); // the real migrations all landed; the broken one left nothing
    try {
      assert.equal(prepared(db, "SELECT 1 FROM sqlite_master WHERE name = 'half'").get(), undefined);
      assert.deepEqual(prepared(db, 'SELECT MAX(version) AS v FROM schema_migrations').get(), { v: real.length });
    } finally {
      db.close();
    }
  });

  test('migration files must be numbered without gaps', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '001_a.sql'), '');
    fs.writeFileSync(path.join(dir, '003_c.sql'), '');
    assert.throws(() => listMigrations(dir), /without gaps/);
    fs.writeFileSync(path.join(dir, 'notes.sql'), '');
    assert.throws(() => listMigrations(dir), /must look like 001_name\.sql/);
  });
});

describe('schema rules', () => {
  test('the audit log is append-only', () => {
    const { db } = openDatabase(path.join(tempDir(), 'app.db'));
    try {
      const id = recordAudit(db, { actor: { id: null, name: 'someone' }, action: 'test.event', ip: '127.0.0.1', details: { a: 1 } });
      assert.throws(() => prepared(db, "UPDATE audit_log SET action = 'changed' WHERE id = ?").run(id), /append-only/);
      assert.throws(() => prepared(db, 'DELETE FROM audit_log WHERE id = ?').run(id), /append-only/);
      const row = recentAuditRows(db, 1)[0]!;
      assert.equal(row.action, 'test.event');
      assert.equal(row.details, '{"a":1}');
    } finally {
      db.close();
    }
  });

  test('one open game ticket per character; a closed one does not count', () => {
    const { db } = openDatabase(path.join(tempDir(), 'app.db'));
    try {
      const insert = prepared(
        db,
        "INSERT INTO tickets (source, subject, status, game_account_id, game_char_id, game_char_name, created_at, updated_at) VALUES ('game', 's', ?, 2000001, 150001, 'Hero', 0, 0)",
      );
      insert.run('closed');
      insert.run('open');
      assert.throws(() => insert.run('in_progress'), /UNIQUE/);
      assert.throws(() => prepared(db, "INSERT INTO tickets (source, subject, created_at, updated_at) VALUES ('game', 's', 0, 0)").run(), /CHECK/);
      assert.throws(() => prepared(db, "INSERT INTO tickets (subject, status, created_at, updated_at) VALUES ('s', 'lost', 0, 0)").run(), /CHECK/);
    } finally {
      db.close();
    }
  });

  test('settings keep JSON values; settingOrInit keeps the first value', () => {
    const { db } = openDatabase(path.join(tempDir(), 'app.db'));
    try {
      assert.equal(settingOrInit(db, 'k', z.string(), 'first'), 'first');
      assert.equal(settingOrInit(db, 'k', z.string(), 'second'), 'first');
      assert.equal(setting(db, 'missing', z.string()), undefined);
    } finally {
      db.close();
    }
  });
});
