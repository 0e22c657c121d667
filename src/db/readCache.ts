// Rows a request reads on every page (its session, its user) kept in memory for as long as the
// database cannot have changed under them: no read at all for a session or account that nothing
// touched since the last request of this process.
import { prepared, type Db } from './index.js';

/**
 * Whether anything may have been written since the stamp was taken, from two statements that read
 * no table (about 1 µs together; the pragma_data_version table-valued form costs twice that, as it
 * prepares the pragma on every run):
 * - data_version moves when ANOTHER connection commits (SQLite: "PRAGMA data_version"), whichever
 *   process it belongs to: the CLI's user:passwd and user disable, a second connection of this
 *   process, a restore done through SQLite. It never moves for this connection's own commits, so:
 * - total_changes() counts every row this connection inserted, updated or deleted since it opened,
 *   which covers the web pages' own writes (an admin disabling a user, a password change ending
 *   other sessions, the session sweep) without each of them having to say which cache it spoils.
 * Any write anywhere empties the cache; that costs one read on the next request, never a stale row.
 * A file swapped under the open connection (not how db:restore works: it refuses while the server
 * runs) is beyond any check the connection could make.
 */
interface Stamp {
  dataVersion: number;
  totalChanges: number;
}

function currentStamp(db: Db): Stamp {
  return {
    dataVersion: prepared(db, 'PRAGMA data_version').pluck().get() as number,
    totalChanges: prepared(db, 'SELECT total_changes()').pluck().get() as number,
  };
}

/** Rows by key, valid while the database is as it was when they were read or written here. */
export class ReadCache<K, V> {
  private readonly rows = new Map<K, V>();
  private stamp: Stamp | undefined;

  constructor(
    private readonly db: Db,
    /** Beyond this many rows the oldest goes (a row is small; this bounds what random keys can fill). */
    private readonly maxRows = 10_000,
  ) {}

  /**
   * The row for `key`: from memory when nothing was written since it was stored, else `read()`
   * (remembered unless undefined). Synchronous from the check to the read, so no write can slip in.
   */
  get(key: K, read: () => V | undefined): V | undefined {
    // Inside a transaction a row may be one that a rollback takes back: read, never remember.
    if (this.db.inTransaction) return read();
    this.revalidate();
    const known = this.rows.get(key);
    if (known !== undefined) return known;
    const row = read();
    if (row !== undefined) this.remember(key, row);
    return row;
  }

  /**
   * Runs this cache's own write of `key`; what `work` returns is the key's content afterwards
   * (undefined: not known, read again next time). The other rows stay valid across this write only
   * when nothing else was committed meanwhile.
   */
  write(key: K, work: () => V | undefined): void {
    if (this.db.inTransaction) {
      work();
      this.rows.clear();
      return;
    }
    this.revalidate();
    this.rows.delete(key);
    const before = this.stamp!;
    const row = work();
    const after = currentStamp(this.db);
    if (after.dataVersion !== before.dataVersion) this.rows.clear();
    else if (row !== undefined) this.remember(key, row);
    this.stamp = after;
  }

  /** Forgets everything (the next get reads again). */
  clear(): void {
    this.rows.clear();
  }

  private revalidate(): void {
    const now = currentStamp(this.db);
    if (this.stamp === undefined || now.dataVersion !== this.stamp.dataVersion || now.totalChanges !== this.stamp.totalChanges) {
      this.rows.clear();
      this.stamp = now;
    }
  }

  private remember(key: K, row: V): void {
    if (this.rows.size >= this.maxRows) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(key, row);
  }
}
