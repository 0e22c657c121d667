// The only module family that talks to better-sqlite3 (eslint's no-restricted-imports holds the
// line). Everything else receives a `Db` and calls the query functions of src/db/<table>.ts.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS_DIR } from '../paths.js';
import { listMigrations, migrate, type MigrationReport } from './migrate.js';

export type Db = Database.Database;
export type Statement = Database.Statement;

export interface OpenOptions {
  migrationsDir?: string;
  /** Skip migrations (the CLI's backup works on any version). */
  migrate?: boolean;
  /** Called with the SQL of every statement the connection runs (tests count queries). */
  onStatement?: (sql: string) => void;
}

/**
 * Opens (creating when needed) the SQLite file at `file` in WAL mode with foreign keys on and a
 * busy timeout, then brings its schema up to date. Throws SchemaTooNewError when the file was
 * written by a newer ticketbridge.
 */
export function openDatabase(file: string, options: OpenOptions = {}): { db: Db; migrations: MigrationReport } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const onStatement = options.onStatement;
  const db = new Database(file, onStatement ? { verbose: (sql) => onStatement(String(sql)) } : {});
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL is safe in WAL mode against process crashes; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // The write that takes the WAL past this many pages (40 MB here, 4 MB by default) copies it into
    // the database and syncs, on the event loop: ten times fewer such stops under a burst of game
    // relays (about 2,650 -> 3,000 relays/s in the bench, README.md "Performance"), each one longer.
    db.pragma('wal_autocheckpoint = 10000');
    registerFunctions(db);
    const migrations =
      options.migrate === false
        ? { applied: [], version: 0 }
        : migrate(db, options.migrationsDir ?? MIGRATIONS_DIR);
    return { db, migrations };
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Case folding for substring search, as close to the FTS5 trigram tokenizer's folding as
 * JavaScript gets (per-character lower case; the tokenizer keeps diacritics too).
 */
export function foldCase(text: string): string {
  return text.toLowerCase();
}

function registerFunctions(db: Db): void {
  // tb_contains(text, needle): 1 when the case-folded text contains the (already folded) needle.
  // The ticket search uses it where walking tickets beats asking the index (common words).
  db.function('tb_contains', { deterministic: true }, (text: unknown, needle: unknown) =>
    typeof text === 'string' && typeof needle === 'string' && foldCase(text).includes(needle) ? 1 : 0,
  );
}

/**
 * How many prepared statements a connection keeps. The app has a few hundred fixed statements;
 * the ticket search and the audit filters build theirs from the filters chosen, so the variants
 * one busy user can produce must push out old ones instead of piling up (~35 KB each).
 */
export const STATEMENT_CACHE_SIZE = 500;
/** How many distinct SQL texts `preparedSql` remembers: text only, so it can be generous. */
const SQL_RECORD_SIZE = 5000;

interface StatementCache {
  /** Least recently used first (a Map iterates in insertion order; a hit moves to the end). */
  statements: Map<string, Statement>;
  /** Every distinct SQL text prepared, evicted statements included, up to SQL_RECORD_SIZE. */
  seen: Set<string>;
}

const statementCaches = new WeakMap<Db, StatementCache>();

function cacheOf(db: Db): StatementCache {
  let cache = statementCaches.get(db);
  if (!cache) {
    cache = { statements: new Map(), seen: new Set() };
    statementCaches.set(db, cache);
  }
  return cache;
}

/** A prepared statement for `sql`, kept per connection while it is among the recently used. */
export function prepared(db: Db, sql: string): Statement {
  const { statements, seen } = cacheOf(db);
  let statement = statements.get(sql);
  if (statement) {
    statements.delete(sql);
  } else {
    statement = db.prepare(sql);
    if (seen.size < SQL_RECORD_SIZE) seen.add(sql);
    // better-sqlite3 has no finalize(): a dropped statement is freed when garbage collected.
    if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
  }
  statements.set(sql, statement);
  return statement;
}

type RowMapper = (values: unknown[]) => unknown;
const rowMappers = new WeakMap<Statement, RowMapper>();

/**
 * A function that turns a raw row (values in column order) into an object with the statement's
 * column names, made once per statement. better-sqlite3 builds each row object key by key through
 * the V8 API; an object literal compiled for the columns costs about a third less: 50 list rows at
 * a million tickets went from 290 to 185 µs (issue #19, README.md "Performance").
 */
function rowMapper(statement: Statement): RowMapper {
  let mapper = rowMappers.get(statement);
  if (!mapper) {
    // The keys are the statement's own column names (our SQL), written as JSON string literals.
    const fields = statement.columns().map((column, i) => `${JSON.stringify(column.name)}: values[${i}]`);
    mapper = new Function('values', `return { ${fields.join(', ')} };`) as RowMapper;
    rowMappers.set(statement, mapper);
  }
  return mapper;
}

/** Runs `read` with the statement handing out raw rows, mapped by its compiled mapper. */
function mapped<R>(statement: Statement, read: (mapper: RowMapper) => R): R {
  const mapper = rowMapper(statement);
  statement.raw(true);
  try {
    return read(mapper);
  } finally {
    statement.raw(false);
  }
}

/** Every row of a read statement as objects (see rowMapper): for the pages' hot lists. */
export function allRows(statement: Statement, ...params: unknown[]): unknown[] {
  return mapped(statement, (mapper) => (statement.all(...params) as unknown[][]).map(mapper));
}

/** The first row of a read statement as an object (see rowMapper), or undefined. */
export function oneRow(statement: Statement, ...params: unknown[]): unknown {
  return mapped(statement, (mapper) => {
    const values = statement.get(...params) as unknown[] | undefined;
    return values === undefined ? undefined : mapper(values);
  });
}

/** How many statements `db` keeps prepared now. */
export function statementCacheSize(db: Db): number {
  return statementCaches.get(db)?.statements.size ?? 0;
}

/**
 * The SQL of every statement prepared on `db` so far, including ones since dropped from the
 * cache (tests check their query plans); only the first SQL_RECORD_SIZE distinct texts.
 */
export function preparedSql(db: Db): string[] {
  return [...(statementCaches.get(db)?.seen ?? [])];
}

const commitHooks = new WeakMap<Db, (() => void)[]>();

/**
 * Runs `hook` once the transaction under way commits, or at once when none is. A rolled-back
 * transaction drops its hooks. The outboxes use this to wake their workers only for work that is
 * really stored (src/db/outboxes.ts).
 */
export function afterCommit(db: Db, hook: () => void): void {
  if (!db.inTransaction) {
    hook();
    return;
  }
  const hooks = commitHooks.get(db);
  if (hooks) hooks.push(hook);
  else commitHooks.set(db, [hook]);
}

interface TransactionStatements {
  begin: Statement;
  commit: Statement;
  rollback: Statement;
  savepoint: Statement;
  release: Statement;
  rollbackTo: Statement;
}

const transactionStatements = new WeakMap<Db, TransactionStatements>();

// Prepared once per connection and run directly: better-sqlite3's db.transaction(fn) builds four
// wrapper functions and their properties on every call, which a relay paid three times
// (issue #19). Kept out of `prepared`, whose record the query-plan test reads.
function transactionStatementsOf(db: Db): TransactionStatements {
  let statements = transactionStatements.get(db);
  if (!statements) {
    statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT tb_nested'),
      release: db.prepare('RELEASE tb_nested'),
      rollbackTo: db.prepare('ROLLBACK TO tb_nested'),
    };
    transactionStatements.set(db, statements);
  }
  return statements;
}

/** Set while runTogether tries a group of works without savepoints: a failure anywhere in it is noted. */
const unguardedGroups = new WeakMap<Db, { failed: boolean }>();

function noPromise<T>(result: T): T {
  if (result && typeof (result as { then?: unknown }).then === 'function') throw new TypeError('a transaction cannot wait for a promise');
  return result;
}

/**
 * Runs `work` in one transaction (IMMEDIATE, so writers queue instead of failing mid-way); inside
 * another one it is a savepoint. After the outermost commit, the afterCommit hooks run.
 */
export function inTransaction<T>(db: Db, work: () => T): T {
  const statements = transactionStatementsOf(db);
  if (db.inTransaction) {
    const group = unguardedGroups.get(db);
    if (group) {
      try {
        return noPromise(work());
      } catch (err) {
        group.failed = true;
        throw err;
      }
    }
    statements.savepoint.run();
    try {
      const result = noPromise(work());
      statements.release.run();
      return result;
    } catch (err) {
      if (db.inTransaction) {
        statements.rollbackTo.run();
        statements.release.run();
      }
      throw err;
    }
  }
  let result: T;
  statements.begin.run();
  try {
    result = noPromise(work());
    statements.commit.run();
  } catch (err) {
    if (db.inTransaction) statements.rollback.run();
    commitHooks.delete(db);
    throw err;
  }
  const hooks = commitHooks.get(db) ?? [];
  commitHooks.delete(db);
  for (const hook of hooks) hook();
  return result;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs every work of `works` in one transaction (one commit for all), each as if alone: one that
 * fails changes nothing, and the others are stored. First all run without savepoints (a savepoint
 * makes SQLite copy every page it touches to a sub-journal, which spills to a temporary file:
 * about a third of a game relay's cost, issue #19). When one fails anywhere, even where a caller
 * caught it, that attempt is rolled back whole and the group runs again with a savepoint per work.
 * So a work may run twice before its commit, and must change nothing outside the database (hooks
 * wait for the commit, see afterCommit).
 */
export function runTogether<T>(db: Db, works: (() => T)[]): Outcome<T>[] {
  if (db.inTransaction) throw new Error('runTogether starts its own transaction');
  const group = { failed: false };
  let outcomes: Outcome<T>[] = [];
  try {
    inTransaction(db, () => {
      unguardedGroups.set(db, group);
      try {
        outcomes = works.map((work) => ({ ok: true, value: noPromise(work()) }));
      } catch (err) {
        group.failed = true;
        throw err;
      } finally {
        unguardedGroups.delete(db);
      }
      // A failure some caller caught still left its half-done changes: roll back and retry.
      if (group.failed) throw new Error('a work of the group failed');
    });
    return outcomes;
  } catch (err) {
    if (!group.failed) throw err;
  }
  return inTransaction(db, () =>
    works.map((work): Outcome<T> => {
      try {
        return { ok: true, value: inTransaction(db, work) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
}

export function isDatabaseHealthy(db: Db): boolean {
  try {
    return prepared(db, 'SELECT 1 AS ok').get() !== undefined;
  } catch {
    return false;
  }
}

/** SQLite online backup to `destination` (safe while the app is running). */
export async function backupDatabase(db: Db, destination: string): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(destination)), { recursive: true });
  await db.backup(destination);
}

export { SchemaTooNewError, MigrationError } from './migrate.js';

export interface DatabaseInspection {
  exists: boolean;
  /** PRAGMA quick_check's answer: "ok", or its first problems. */
  quickCheck?: string;
  /** Migrations applied, and how many this ticketbridge has. */
  version?: number;
  latest: number;
}

/**
 * Looks at the database without changing it (`npm run cli -- doctor`): opened read-only, never
 * created or migrated. Throws what opening throws (not a database, no permission).
 */
export function inspectDatabase(file: string, migrationsDir = MIGRATIONS_DIR): DatabaseInspection {
  const latest = listMigrations(migrationsDir).length;
  if (!fs.existsSync(file)) return { exists: false, latest };
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = db.pragma('quick_check(5)') as { quick_check: string }[];
    const quickCheck = rows.map((row) => row.quick_check).join('; ');
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
    const version = hasTable ? ((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0) : 0;
    return { exists: true, quickCheck, version, latest };
  } finally {
    db.close();
  }
}
