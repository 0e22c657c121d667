// Ordered migrations, Miniflux-style: files migrations/NNN_name.sql, applied in order, each in its
// own transaction together with its version row. Landed migrations never change.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export interface MigrationReport {
  /** Versions applied by this call, in order. */
  applied: number[];
  /** Schema version after the call. */
  version: number;
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `the database is at schema version ${databaseVersion}, newer than this ticketbridge knows (${knownVersion}); ` +
        'run a newer release or restore a backup',
    );
    this.name = 'SchemaTooNewError';
  }
}

export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export function listMigrations(dir: string): Migration[] {
  const migrations = fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d{3})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) throw new MigrationError(`migration file name must look like 001_name.sql: ${file}`);
      return { version: Number(match[1]), name: match[2] as string, file: path.join(dir, file) };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new MigrationError(`migrations must be numbered 001, 002, ... without gaps; found ${path.basename(migration.file)}`);
    }
  });
  return migrations;
}

export function schemaVersion(db: Database.Database): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
  )`);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

export function migrate(db: Database.Database, dir: string): MigrationReport {
  const migrations = listMigrations(dir);
  const known = migrations.length;
  const current = schemaVersion(db);
  if (current > known) throw new SchemaTooNewError(current, known);

  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations.slice(current)) {
    const sql = fs.readFileSync(migration.file, 'utf8');
    try {
      db.transaction(() => {
        db.exec(sql);
        record.run(migration.version, migration.name, Date.now());
      }).immediate();
    } catch (err) {
      throw new MigrationError(
        `migration ${path.basename(migration.file)} failed and was rolled back: ${(err as Error).message}`,
        { cause: err },
      );
    }
    applied.push(migration.version);
  }
  return { applied, version: Math.max(current, known) };
}
