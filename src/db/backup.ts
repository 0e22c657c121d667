// What the backup archives (src/backup.ts) need from SQLite: the online copy, the rows an archive
// must carry files for, the counts its manifest reports, the checks a restore runs on a copy, and
// the lock a running server holds so that a restore cannot replace its database under it.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS_DIR } from '../paths.js';
import { listMigrations } from './migrate.js';
import { prepared, type Db } from './index.js';

export interface BackupCounts {
  users: number;
  tickets: number;
  messages: number;
  attachments: number;
}

export interface AttachmentFile {
  storageName: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * SQLite online backup of `db` to `destination` (a new file), a page batch at a time so the
 * server keeps answering meanwhile. `shouldStop` is asked between batches; true aborts the copy.
 */
export async function onlineBackup(db: Db, destination: string, shouldStop: () => boolean = () => false): Promise<void> {
  await db.backup(destination, {
    progress: () => {
      if (shouldStop()) throw new Error('the backup was stopped');
      return 256;
    },
  });
}

function countsOf(db: Database.Database): BackupCounts {
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { users: count('users'), tickets: count('tickets'), messages: count('messages'), attachments: count('attachments') };
}

function attachmentFilesOf(db: Database.Database): AttachmentFile[] {
  return db
    .prepare('SELECT storage_name AS storageName, sha256, size_bytes AS sizeBytes FROM attachments ORDER BY id')
    .all() as AttachmentFile[];
}

export interface CopyFacts {
  counts: BackupCounts;
  files: AttachmentFile[];
  schemaVersion: number;
  /** `PRAGMA integrity_check`: ['ok'] when the file is sound, otherwise its first complaints. */
  integrity: string[];
}

/**
 * Opens the SQLite file at `file` (a copy just made, or one taken out of an archive) read-only and
 * reads what an archive's manifest says about it. Throws when it is not an SQLite database at all.
 */
export function inspectCopy(file: string): CopyFacts {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    let integrity: string[];
    try {
      integrity = (db.prepare('PRAGMA integrity_check(20)').all() as { integrity_check: string }[]).map((row) => row.integrity_check);
    } catch (err) {
      // A file damaged badly enough makes the check itself fail ("database disk image is malformed").
      integrity = [(err as Error).message];
    }
    if (integrity.length !== 1 || integrity[0] !== 'ok') return { counts: { users: 0, tickets: 0, messages: 0, attachments: 0 }, files: [], schemaVersion: 0, integrity };
    const version = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()
      ? ((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0)
      : 0;
    return { counts: countsOf(db), files: attachmentFilesOf(db), schemaVersion: version, integrity };
  } finally {
    db.close();
  }
}

/** The schema version this ticketbridge knows (its newest migration). */
export function knownSchemaVersion(): number {
  return listMigrations(MIGRATIONS_DIR).length;
}

/** Makes a copy a standalone file: no WAL left beside it, rollback journal mode. */
export function finishCopy(file: string): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

/** The counts the running app's database holds now (the admin page's backup panel may show them). */
export function backupCounts(db: Db): BackupCounts {
  const count = (table: string) => (prepared(db, `SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { users: count('users'), tickets: count('tickets'), messages: count('messages'), attachments: count('attachments') };
}

// ---------------------------------------------------------------------------------------------
// The server lock: `<DATABASE_PATH>.lock`, a tiny SQLite file on which the running server holds an
// exclusive lock from start to stop. The lock is the operating system's (fcntl, as SQLite uses for
// the database itself), so it goes away with the process however it ends, kill -9 included: there
// is never a stale lock to clean up, and a reused pid cannot fake one. `db:restore` takes the same
// lock, so a server cannot start halfway through a restore either.

export function lockPathFor(databasePath: string): string {
  return `${databasePath}.lock`;
}

export interface DatabaseLock {
  readonly file: string;
  release(): void;
}

export class LockHeldError extends Error {
  constructor(readonly file: string) {
    super(`another process holds ${file}`);
    this.name = 'LockHeldError';
  }
}

/**
 * Takes the exclusive lock beside `databasePath`, or throws LockHeldError at once when another
 * process (a running server, a restore) holds it.
 */
export function acquireDatabaseLock(databasePath: string): DatabaseLock {
  const file = lockPathFor(databasePath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 0 });
  try {
    // EXCLUSIVE (not IMMEDIATE): no other connection may even read the file while we hold it.
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new LockHeldError(file);
    throw err;
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

/** True when a process holds the lock beside `databasePath` (nothing is taken). */
export function databaseLockHeld(databasePath: string): boolean {
  try {
    acquireDatabaseLock(databasePath).release();
    return false;
  } catch (err) {
    if (err instanceof LockHeldError) return true;
    throw err;
  }
}
