// Backup archives and their restore (README.md "Backups").
//
// An archive is one `.tar.gz` holding
//   manifest.json      format version, when, which ticketbridge, counts, and every file's SHA-256
//   database.sqlite    an online SQLite backup of DATABASE_PATH (consistent while the app writes)
//   uploads/<name>     every file in UPLOADS_DIR an attachment row of that copy refers to
// written under a temporary name in the destination's folder, flushed to disk and renamed, so a
// crash leaves either the whole archive or none. Scheduled archives are named
// ticketbridge-<UTC time>.tar.gz, which sorts by time; the schedule counts from the newest one, so
// a restart neither skips nor repeats a backup. `db:restore` (src/cli.ts) checks an archive
// completely before it replaces anything, and keeps what it replaces.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import * as tar from 'tar';
import {
  acquireDatabaseLock,
  finishCopy,
  inspectCopy,
  knownSchemaVersion,
  LockHeldError,
  onlineBackup,
} from './db/backup.js';
import type { Db } from './db/index.js';
import { saveSetting, setting } from './db/settings.js';
import type { Logger } from './log.js';
import { PROJECT_ROOT } from './paths.js';

export const ARCHIVE_FORMAT = 1;
const DATABASE_ENTRY = 'database.sqlite';
const MANIFEST_ENTRY = 'manifest.json';
const UPLOADS_ENTRY = 'uploads';
/** Upload names are 24 base64url characters (src/web/uploads/storage.ts); nothing else goes in or out. */
const STORAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const ARCHIVE_NAME = /^ticketbridge-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z\.tar\.gz$/;
const TEMP_PREFIX = '.ticketbridge-';

// ---------------------------------------------------------------------------------------------
// Names

/** `ticketbridge-20261201T002300.123Z.tar.gz` for that UTC time. */
export function archiveName(at: number): string {
  const iso = new Date(at).toISOString(); // 2026-12-01T00:23:00.123Z
  return `ticketbridge-${iso.replace(/[-:]/g, '')}.tar.gz`;
}

/** The time in a scheduled archive's name, or undefined for any other file. */
export function archiveTime(name: string): number | undefined {
  const m = ARCHIVE_NAME.exec(name);
  if (!m) return undefined;
  const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
  return Number.isNaN(at) ? undefined : at;
}

/** The scheduled archives in `dir`, newest first. */
export function listArchives(dir: string): { name: string; file: string; at: number }[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, file: path.join(dir, name), at: archiveTime(name) }))
    .filter((entry): entry is { name: string; file: string; at: number } => entry.at !== undefined)
    .sort((a, b) => b.at - a.at);
}

/** Removes the scheduled archives beyond the `keep` newest (only files named like ours); their paths. */
export function pruneArchives(dir: string, keep: number): string[] {
  const removed: string[] = [];
  for (const old of listArchives(dir).slice(keep)) {
    fs.rmSync(old.file, { force: true });
    removed.push(old.file);
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// The manifest

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');
const manifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  app: z.literal('ticketbridge'),
  appVersion: z.string(),
  createdAt: z.iso.datetime(),
  schemaVersion: z.number().int().nonnegative(),
  counts: z.object({ users: z.number().int(), tickets: z.number().int(), messages: z.number().int(), attachments: z.number().int() }),
  database: z.object({ name: z.literal(DATABASE_ENTRY), bytes: z.number().int().nonnegative(), sha256: sha256Hex }),
  files: z.array(z.object({ name: z.string().regex(STORAGE_NAME), bytes: z.number().int().nonnegative(), sha256: sha256Hex })),
});
export type Manifest = z.infer<typeof manifestSchema>;

function appVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function fileSha256(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function fsyncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A folder's entry list to disk (a rename is durable only then); some file systems refuse: fine. */
function fsyncDir(dir: string): void {
  try {
    fsyncPath(dir);
  } catch {
    // not supported here
  }
}

/** A hard link when source and target share a file system (uploads are never changed in place), a copy otherwise. */
function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing an archive

export interface WrittenArchive {
  file: string;
  bytes: number;
  durationMs: number;
  manifest: Manifest;
}

export interface WriteArchiveOptions {
  db: Db;
  uploadsDir: string;
  /** The archive's path; its folder is created when missing. An existing file is replaced. */
  destination: string;
  now?: () => number;
  /** Asked between steps; true abandons the archive (the server is stopping). */
  shouldStop?: () => boolean;
}

export async function writeArchive(options: WriteArchiveOptions): Promise<WrittenArchive> {
  const now = options.now ?? Date.now;
  const shouldStop = options.shouldStop ?? (() => false);
  const checkStop = () => {
    if (shouldStop()) throw new Error('the backup was stopped before it finished');
  };
  const started = now();
  const destination = path.resolve(options.destination);
  const dir = path.dirname(destination);
  fs.mkdirSync(dir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(dir, `${TEMP_PREFIX}staging-`));
  const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}.tmp`);
  try {
    const copy = path.join(staging, DATABASE_ENTRY);
    await onlineBackup(options.db, copy, shouldStop);
    finishCopy(copy);
    const facts = inspectCopy(copy);
    if (facts.integrity[0] !== 'ok') throw new Error(`the copy of the database failed its integrity check: ${facts.integrity.join('; ')}`);
    const database = await fileSha256(copy);

    fs.mkdirSync(path.join(staging, UPLOADS_ENTRY));
    const files: Manifest['files'] = [];
    const seen = new Set<string>();
    for (const row of facts.files) {
      checkStop();
      if (seen.has(row.storageName)) continue;
      seen.add(row.storageName);
      if (!STORAGE_NAME.test(row.storageName)) throw new Error(`an attachment row names an unexpected file ${JSON.stringify(row.storageName)}`);
      const source = path.join(options.uploadsDir, row.storageName);
      const staged = path.join(staging, UPLOADS_ENTRY, row.storageName);
      try {
        linkOrCopy(source, staged);
      } catch {
        throw new Error(`the file ${row.storageName} of an attachment is missing from UPLOADS_DIR ${options.uploadsDir}`);
      }
      const { sha256, bytes } = await fileSha256(staged);
      if (sha256 !== row.sha256) throw new Error(`the file ${row.storageName} in UPLOADS_DIR does not match the SHA-256 its attachment row recorded`);
      files.push({ name: row.storageName, bytes, sha256 });
    }

    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      app: 'ticketbridge',
      appVersion: appVersion(),
      createdAt: new Date(started).toISOString(),
      schemaVersion: facts.schemaVersion,
      counts: facts.counts,
      database: { name: DATABASE_ENTRY, ...database },
      files,
    };
    fs.writeFileSync(path.join(staging, MANIFEST_ENTRY), `${JSON.stringify(manifest, null, 2)}\n`);
    checkStop();

    await tar.create({ gzip: true, file: temp, cwd: staging, portable: true, strict: true }, [
      MANIFEST_ENTRY,
      DATABASE_ENTRY,
      ...files.map((f) => `${UPLOADS_ENTRY}/${f.name}`),
    ]);
    // The archive holds password hashes and the session secret: readable by its owner only.
    fs.chmodSync(temp, 0o600);
    fsyncPath(temp);
    checkStop();
    fs.renameSync(temp, destination);
    fsyncDir(dir);
    return { file: destination, bytes: fs.statSync(destination).size, durationMs: now() - started, manifest };
  } finally {
    fs.rmSync(temp, { force: true });
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The last result, for the admin page and /metrics

const LAST_BACKUP_KEY = 'backup.last';

const lastBackupSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    /** When the backup started (ms since the epoch): the archive holds everything committed before. */
    at: z.number(),
    finishedAt: z.number(),
    file: z.string(),
    bytes: z.number(),
    durationMs: z.number(),
    counts: z.object({ users: z.number(), tickets: z.number(), messages: z.number(), attachments: z.number() }),
    trigger: z.enum(['schedule', 'cli']),
  }),
  z.object({
    ok: z.literal(false),
    at: z.number(),
    finishedAt: z.number(),
    durationMs: z.number(),
    /** One plain sentence. */
    error: z.string(),
    trigger: z.enum(['schedule', 'cli']),
  }),
]);
export type LastBackup = z.infer<typeof lastBackupSchema>;

const LAST_OK_KEY = 'backup.last_ok';
export type SuccessfulBackup = Extract<LastBackup, { ok: true }>;
const lastOkSchema = lastBackupSchema.options[0];

const lastInMemory = new WeakMap<Db, LastBackup>();
const lastOkInMemory = new WeakMap<Db, SuccessfulBackup>();

/**
 * The last backup's result, success or failure (scheduled, or `npm run cli -- backup`): from this
 * process's memory when it made one, otherwise from the settings table, where every result is
 * kept. Undefined: none yet. (A backup cut short because the server stopped is not a result.)
 */
export function lastBackup(db: Db): LastBackup | undefined {
  return newer(lastInMemory.get(db), stored(db, LAST_BACKUP_KEY, lastBackupSchema));
}

/** The last backup that worked (its archive, size and time), even when a later one failed. */
export function lastSuccessfulBackup(db: Db): SuccessfulBackup | undefined {
  return newer(lastOkInMemory.get(db), stored(db, LAST_OK_KEY, lastOkSchema));
}

function stored<T>(db: Db, key: string, schema: z.ZodType<T>): T | undefined {
  try {
    return setting(db, key, schema);
  } catch {
    return undefined;
  }
}

/** The settings row wins unless this process knows a later result (a CLI backup writes only the row). */
function newer<T extends { finishedAt: number }>(memory: T | undefined, row: T | undefined): T | undefined {
  if (!memory) return row;
  if (!row) return memory;
  return row.finishedAt >= memory.finishedAt ? row : memory;
}

export function recordBackupResult(db: Db, result: LastBackup): void {
  lastInMemory.set(db, result);
  if (result.ok) lastOkInMemory.set(db, result);
  try {
    saveSetting(db, LAST_BACKUP_KEY, result, result.finishedAt);
    if (result.ok) saveSetting(db, LAST_OK_KEY, result, result.finishedAt);
  } catch {
    // The database is closing or full: the in-memory result still answers lastBackup().
  }
}

/** Makes one archive now and records the result; never throws. */
export async function backupNow(options: WriteArchiveOptions & { trigger: LastBackup['trigger'] }): Promise<LastBackup> {
  const now = options.now ?? Date.now;
  const at = now();
  let result: LastBackup;
  try {
    const written = await writeArchive(options);
    result = {
      ok: true,
      at,
      finishedAt: now(),
      file: written.file,
      bytes: written.bytes,
      durationMs: written.durationMs,
      counts: written.manifest.counts,
      trigger: options.trigger,
    };
  } catch (err) {
    result = { ok: false, at, finishedAt: now(), durationMs: now() - at, error: (err as Error).message || String(err), trigger: options.trigger };
    // Stopped with the server: not a failure of the backup; the last result stays what it was.
    if (options.shouldStop?.()) return result;
  }
  recordBackupResult(options.db, result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// The schedule

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout's longest delay; a later run is reached by waking and looking again. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** After a failed run, the next try comes after this long (or the interval, if shorter). */
export const RETRY_AFTER_FAILURE_MS = 60 * 60 * 1000;
/** Leftover temporary files of a backup cut short by a crash are removed at start after this long. */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

export interface BackupScheduleOptions {
  db: Db;
  uploadsDir: string;
  dir: string;
  intervalHours: number;
  keep: number;
  logger: Logger;
  clock?: Clock;
}

export interface BackupSchedule {
  /** Looks at the newest archive in the folder and sets the timer for the next run. */
  start(): void;
  /** Clears the timer, asks a running backup to stop and waits for it to leave nothing behind. */
  stop(): Promise<void>;
  /** Makes one now (or joins the one running): never two at once. */
  runNow(): Promise<LastBackup>;
  /** When the next scheduled run is due (ms since the epoch), while started. */
  nextAt(): number | undefined;
  running(): boolean;
}

export function createBackupSchedule(options: BackupScheduleOptions): BackupSchedule {
  const clock = options.clock ?? systemClock;
  const intervalMs = Math.round(options.intervalHours * 60 * 60 * 1000);
  const { logger, dir } = options;
  let timer: unknown;
  let next: number | undefined;
  let current: Promise<LastBackup> | undefined;
  let stopped = true;
  /** Set by stop(): a run under way gives up between steps. */
  let halted = false;
  let lastFailureAt: number | undefined;

  const dueAt = (): number => {
    const newest = listArchives(dir)[0];
    let due = newest ? newest.at + intervalMs : clock.now();
    if (lastFailureAt !== undefined) due = Math.max(due, lastFailureAt + Math.min(intervalMs, RETRY_AFTER_FAILURE_MS));
    return due;
  };

  const arm = () => {
    if (stopped) return;
    next = dueAt();
    const delay = Math.max(0, next - clock.now());
    timer = clock.setTimeout(tick, Math.min(delay, MAX_TIMER_MS));
  };

  const tick = () => {
    timer = undefined;
    if (stopped) return;
    // Looked at again: a run made meanwhile (runNow from the admin page) moves the next one on.
    if (clock.now() < dueAt()) {
      arm();
      return;
    }
    void runNow().then(() => {
      arm();
      if (next !== undefined && !stopped) logger.info({ next: new Date(next).toISOString() }, `backups: next at ${new Date(next).toISOString()}`);
    });
  };

  const runNow = (): Promise<LastBackup> => {
    if (current) return current;
    const at = clock.now();
    const destination = path.join(dir, archiveName(at));
    logger.info({ file: destination, at: new Date(at).toISOString() }, 'backup started');
    current = backupNow({ db: options.db, uploadsDir: options.uploadsDir, destination, now: () => clock.now(), shouldStop: () => halted, trigger: 'schedule' })
      .then((result) => {
        if (result.ok) {
          lastFailureAt = undefined;
          logger.info({ file: result.file, bytes: result.bytes, durationMs: result.durationMs, ...result.counts }, `backup written to ${result.file}`);
          try {
            const removed = pruneArchives(dir, options.keep);
            if (removed.length > 0) logger.info({ removed: removed.map((file) => path.basename(file)) }, `backups: removed ${removed.length} old archive(s), keeping ${options.keep}`);
          } catch (err) {
            logger.warn({ err: (err as Error).message }, 'backups: could not remove old archives');
          }
        } else if (halted) {
          logger.warn({ durationMs: result.durationMs }, 'backup stopped with the server; its temporary files were removed');
        } else {
          lastFailureAt = clock.now();
          logger.error({ err: result.error, durationMs: result.durationMs }, `backup failed: ${result.error}`);
        }
        return result;
      })
      .finally(() => {
        current = undefined;
      });
    return current;
  };

  const removeStaleTemp = () => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const file = path.join(dir, name);
      try {
        if (clock.now() - fs.statSync(file).mtimeMs > STALE_TEMP_MS) fs.rmSync(file, { recursive: true, force: true });
      } catch {
        // gone already
      }
    }
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      halted = false;
      fs.mkdirSync(dir, { recursive: true });
      removeStaleTemp();
      arm();
      const at = new Date(next!).toISOString();
      logger.info({ dir, intervalHours: options.intervalHours, keep: options.keep, next: at }, `backups: every ${options.intervalHours} h into ${dir}, keeping ${options.keep}; next at ${at}`);
    },
    async stop() {
      stopped = true;
      halted = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      next = undefined;
      await current?.catch(() => undefined);
    },
    runNow,
    nextAt: () => next,
    running: () => current !== undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Checking and restoring an archive

/** A refused or failed restore: its message is one plain sentence for the person at the terminal. */
export class RestoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RestoreError';
  }
}

export interface RestoreReport {
  archive: string;
  manifest: Manifest;
  databasePath: string;
  uploadsDir: string;
  /** Where the database that was there before now is (undefined: there was none). */
  previousDatabase: string | undefined;
  previousUploads: string | undefined;
}

/** Every entry's path must be one of ours: no absolute paths, no `..`, no links, nothing unexpected. */
function allowedEntry(entryPath: string, type: string): boolean {
  const clean = entryPath.replace(/^\.\//, '');
  if (clean === `${UPLOADS_ENTRY}/` || clean === UPLOADS_ENTRY) return type === 'Directory';
  if (type !== 'File' && type !== 'OldFile') return false;
  if (clean === MANIFEST_ENTRY || clean === DATABASE_ENTRY) return true;
  const [folder, name, ...rest] = clean.split('/');
  return folder === UPLOADS_ENTRY && name !== undefined && rest.length === 0 && STORAGE_NAME.test(name);
}

async function listEntries(archive: string): Promise<void> {
  const seen = new Set<string>();
  let problem: string | undefined;
  await tar.list({
    file: archive,
    strict: true,
    onReadEntry: (entry) => {
      const name = entry.path;
      if (problem) return;
      if (!allowedEntry(name, entry.type)) problem = `it holds an entry that is not ours: ${JSON.stringify(name)} (${entry.type})`;
      else if (seen.has(name)) problem = `it holds ${JSON.stringify(name)} twice`;
      seen.add(name);
    },
  });
  if (problem) throw new RestoreError(`The archive was refused because ${problem}.`);
  if (!seen.has(MANIFEST_ENTRY) && !seen.has(`./${MANIFEST_ENTRY}`)) throw new RestoreError('The archive was refused because it has no manifest.json: it is not a ticketbridge backup archive.');
}

/**
 * Checks `archive` completely (entries, manifest, database SHA-256 and integrity, every attachment
 * file's SHA-256), and only then puts its database at `databasePath` and its files in `uploadsDir`,
 * keeping what was there as `<path>.before-restore-<time>`. Refuses while a server holds the
 * database's lock. Throws RestoreError (nothing changed) when anything is wrong.
 */
export async function restoreArchive(options: { archive: string; databasePath: string; uploadsDir: string; now?: number }): Promise<RestoreReport> {
  const archive = path.resolve(options.archive);
  const databasePath = path.resolve(options.databasePath);
  const uploadsDir = path.resolve(options.uploadsDir);
  if (!fs.existsSync(archive) || !fs.statSync(archive).isFile()) throw new RestoreError(`There is no archive file at ${archive}.`);

  fs.mkdirSync(path.dirname(databasePath), { recursive: true });
  let lock;
  try {
    lock = acquireDatabaseLock(databasePath);
  } catch (err) {
    if (err instanceof LockHeldError) {
      throw new RestoreError(`Refused: a ticketbridge server is running on ${databasePath} (it holds ${err.file}); stop it first, then restore.`);
    }
    throw err;
  }
  const staging = fs.mkdtempSync(path.join(path.dirname(databasePath), `${TEMP_PREFIX}restore-`));
  try {
    // 1. What the archive holds, before anything is written from it.
    try {
      await listEntries(archive);
    } catch (err) {
      if (err instanceof RestoreError) throw err;
      throw new RestoreError(`The archive was refused because it cannot be read as a .tar.gz (${(err as Error).message}).`, { cause: err });
    }
    try {
      await tar.extract({ file: archive, cwd: staging, strict: true, filter: (p, entry) => allowedEntry(p, 'type' in entry ? entry.type : 'File') });
    } catch (err) {
      throw new RestoreError(`The archive was refused because it cannot be unpacked (${(err as Error).message}).`, { cause: err });
    }

    // 2. The manifest.
    let manifest: Manifest;
    try {
      manifest = manifestSchema.parse(JSON.parse(fs.readFileSync(path.join(staging, MANIFEST_ENTRY), 'utf8')));
    } catch {
      throw new RestoreError(`The archive was refused because its manifest.json is not a ticketbridge backup manifest of format ${ARCHIVE_FORMAT}.`);
    }

    // 3. The database: the bytes the manifest names, sound, and not newer than this ticketbridge.
    const copy = path.join(staging, DATABASE_ENTRY);
    if (!fs.existsSync(copy)) throw new RestoreError('The archive was refused because it holds no database.sqlite.');
    const database = await fileSha256(copy);
    if (database.sha256 !== manifest.database.sha256 || database.bytes !== manifest.database.bytes) {
      throw new RestoreError('The archive was refused because its database.sqlite does not match the SHA-256 in its manifest (the archive is damaged).');
    }
    let facts;
    try {
      facts = inspectCopy(copy);
    } catch (err) {
      throw new RestoreError(`The archive was refused because its database.sqlite cannot be opened (${(err as Error).message}).`, { cause: err });
    }
    if (facts.integrity[0] !== 'ok' || facts.integrity.length !== 1) {
      throw new RestoreError(`The archive was refused because its database fails PRAGMA integrity_check (${facts.integrity.slice(0, 3).join('; ')}).`);
    }
    const known = knownSchemaVersion();
    if (facts.schemaVersion > known) {
      throw new RestoreError(`The archive was refused because its database is at schema version ${facts.schemaVersion}, newer than this ticketbridge knows (${known}); restore it with a newer release.`);
    }

    // 4. Every attachment row has its file, with the SHA-256 the row recorded.
    const listed = new Map(manifest.files.map((f) => [f.name, f]));
    for (const row of facts.files) {
      if (!STORAGE_NAME.test(row.storageName)) throw new RestoreError(`The archive was refused because an attachment row names an unexpected file ${JSON.stringify(row.storageName)}.`);
      const file = path.join(staging, UPLOADS_ENTRY, row.storageName);
      if (!fs.existsSync(file)) throw new RestoreError(`The archive was refused because the file ${row.storageName} of an attachment is missing from it.`);
      const { sha256 } = await fileSha256(file);
      if (sha256 !== row.sha256 || listed.get(row.storageName)?.sha256 !== sha256) {
        throw new RestoreError(`The archive was refused because the file ${row.storageName} does not match the SHA-256 its attachment row recorded (the archive is damaged).`);
      }
    }

    // 5. Everything checked: the new uploads folder beside the old one, then both swaps.
    const stamp = new Date(options.now ?? Date.now()).toISOString().replace(/[-:]/g, '');
    fs.mkdirSync(path.dirname(uploadsDir), { recursive: true });
    const incoming = `${uploadsDir}.${TEMP_PREFIX.slice(1)}incoming-${randomBytes(4).toString('hex')}`;
    fs.mkdirSync(incoming, { mode: 0o700 });
    try {
      for (const row of new Set(facts.files.map((f) => f.storageName))) {
        const from = path.join(staging, UPLOADS_ENTRY, row);
        const to = path.join(incoming, row);
        try {
          fs.renameSync(from, to);
        } catch {
          fs.copyFileSync(from, to);
        }
        fs.chmodSync(to, 0o600);
        fsyncPath(to);
      }
      fsyncDir(incoming);
      fsyncPath(copy);
    } catch (err) {
      fs.rmSync(incoming, { recursive: true, force: true });
      throw new RestoreError(`The restore failed while copying the files into place (${(err as Error).message}); nothing was changed.`, { cause: err });
    }

    const moved: [from: string, to: string][] = [];
    const move = (from: string, to: string) => {
      fs.renameSync(from, to);
      moved.push([from, to]);
    };
    let previousDatabase: string | undefined;
    let previousUploads: string | undefined;
    try {
      if (fs.existsSync(databasePath)) {
        previousDatabase = `${databasePath}.before-restore-${stamp}`;
        move(databasePath, previousDatabase);
        // A WAL left by a crash belongs to the old database: it goes along, so the old file keeps its last commits.
        for (const suffix of ['-wal', '-shm']) if (fs.existsSync(databasePath + suffix)) move(databasePath + suffix, previousDatabase + suffix);
      }
      if (fs.existsSync(uploadsDir)) {
        previousUploads = `${uploadsDir}.before-restore-${stamp}`;
        move(uploadsDir, previousUploads);
      }
      move(copy, databasePath);
      move(incoming, uploadsDir);
      fsyncDir(path.dirname(databasePath));
      fsyncDir(path.dirname(uploadsDir));
    } catch (err) {
      // Put back what was moved, newest move first.
      for (const [from, to] of moved.reverse()) {
        try {
          fs.renameSync(to, from);
        } catch {
          // left where it is; the message below names both places
        }
      }
      fs.rmSync(incoming, { recursive: true, force: true });
      throw new RestoreError(`The restore failed while swapping in the database and uploads (${(err as Error).message}); what was there before was put back.`, { cause: err });
    }
    return { archive, manifest, databasePath, uploadsDir, previousDatabase, previousUploads };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    lock.release();
  }
}
