import { prepared, type Db } from './index.js';

/** The stored JSON value of `key`, or undefined when never set. */
export function setting<T>(db: Db, key: string): T | undefined {
  const row = prepared(db, 'SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
  return row === undefined ? undefined : (JSON.parse(row.value) as T);
}

export function saveSetting(db: Db, key: string, value: unknown, now = Date.now()): void {
  prepared(
    db,
    `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ).run(key, JSON.stringify(value), now);
}

/** Stores `value` only if `key` has none yet; returns the value that is stored afterwards. */
export function settingOrInit<T>(db: Db, key: string, value: T, now = Date.now()): T {
  prepared(db, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING').run(
    key,
    JSON.stringify(value),
    now,
  );
  return setting<T>(db, key) as T;
}
