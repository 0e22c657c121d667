// The settings table: one JSON value per key. What is read back is checked against the caller's
// zod schema, because a row can hold anything an older version, a hand edit or a bug stored;
// a value that does not fit is reported once and treated as absent, so the caller's default
// applies instead of the request failing.
import type { z } from 'zod';
import { prepared, type Db } from './index.js';

/** Told the key and what is wrong, never the value: some keys hold secrets (session_secret). */
export type BadSettingReporter = (key: string, problem: string) => void;

const reporters = new WeakMap<Db, BadSettingReporter>();
/** Per key, the stored text last reported, so one bad value is reported once, not on every read. */
const reported = new WeakMap<Db, Map<string, string>>();

/** Where reads of `db` report stored values that do not fit (the app's logger). Replaces the last one. */
export function reportBadSettingsTo(db: Db, reporter: BadSettingReporter): void {
  reporters.set(db, reporter);
}

function reportOnce(db: Db, key: string, text: string, problem: string): void {
  let seen = reported.get(db);
  if (!seen) {
    seen = new Map();
    reported.set(db, seen);
  }
  if (seen.get(key) === text) return;
  seen.set(key, text);
  const reporter = reporters.get(db);
  if (reporter) reporter(key, problem);
  else process.emitWarning(`setting "${key}": ${problem}; treated as not set`, 'BadSettingWarning');
}

function storedText(db: Db, key: string): string | undefined {
  const row = prepared(db, 'SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

function parseStored<T>(db: Db, key: string, text: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text, which may be a secret.
    reportOnce(db, key, text, 'the stored value is not valid JSON');
    return { ok: false };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  // zod's messages name the expected and received types, not the value itself.
  const problem = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'value'}: ${issue.message}`).join('; ');
  reportOnce(db, key, text, `the stored value does not fit (${problem})`);
  return { ok: false };
}

/** The stored value of `key` checked against `schema`; undefined when never set or when it does not fit. */
export function setting<T>(db: Db, key: string, schema: z.ZodType<T>): T | undefined {
  const text = storedText(db, key);
  if (text === undefined) return undefined;
  const parsed = parseStored(db, key, text, schema);
  return parsed.ok ? parsed.value : undefined;
}

export function saveSetting(db: Db, key: string, value: unknown, now = Date.now()): void {
  prepared(
    db,
    `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ).run(key, JSON.stringify(value), now);
}

/**
 * Stores `value` only if `key` has none yet, or none that fits `schema` (reported, then
 * replaced); returns the value that is stored afterwards.
 */
export function settingOrInit<T>(db: Db, key: string, schema: z.ZodType<T>, value: T, now = Date.now()): T {
  prepared(db, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING').run(
    key,
    JSON.stringify(value),
    now,
  );
  const stored = setting(db, key, schema);
  if (stored !== undefined) return stored;
  saveSetting(db, key, value, now);
  return value;
}
