import { prepared, type Db } from './index.js';

export const ROLES = ['user', 'staff', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  username: string;
  passwordHash: string;
  role: Role;
  displayName: string | null;
  email: string | null;
  gameAccountId: number | null;
  disabledAt: number | null;
  lastLoginAt: number | null;
  /** The language chosen on view=settings (a catalogue tag), or null to follow the browser. */
  locale: string | null;
  /** The language the account's last page was shown in: its notifications follow it when `locale` is null. */
  seenLocale: string | null;
  createdAt: number;
  updatedAt: number;
}

const USER_COLUMNS = `id, username, password_hash AS passwordHash, role, display_name AS displayName,
  email, game_account_id AS gameAccountId, disabled_at AS disabledAt, last_login_at AS lastLoginAt,
  locale, seen_locale AS seenLocale, created_at AS createdAt, updated_at AS updatedAt`;

export function userById(db: Db, id: number): User | undefined {
  return prepared(db, `SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id) as User | undefined;
}

/** Case-insensitive, as usernames are unique without regard to case. */
export function userByUsername(db: Db, username: string): User | undefined {
  return prepared(db, `SELECT ${USER_COLUMNS} FROM users WHERE username = ?`).get(username) as User | undefined;
}

export function users(db: Db): User[] {
  return prepared(db, `SELECT ${USER_COLUMNS} FROM users ORDER BY username`).all() as User[];
}

export function userCount(db: Db): number {
  return (prepared(db, 'SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
}

export interface NewUser {
  username: string;
  passwordHash: string;
  role: Role;
  email?: string | null;
  gameAccountId?: number | null;
}

export function createUser(db: Db, user: NewUser, now = Date.now()): User {
  const { lastInsertRowid } = prepared(
    db,
    `INSERT INTO users (username, password_hash, role, email, game_account_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(user.username, user.passwordHash, user.role, user.email ?? null, user.gameAccountId ?? null, now, now);
  return userById(db, Number(lastInsertRowid)) as User;
}

export function usernameExists(db: Db, username: string): boolean {
  return prepared(db, 'SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
}

export function gameAccountIdTaken(db: Db, gameAccountId: number): boolean {
  return prepared(db, 'SELECT 1 FROM users WHERE game_account_id = ?').get(gameAccountId) !== undefined;
}

export function updateUserPassword(db: Db, userId: number, passwordHash: string, now = Date.now()): void {
  prepared(db, 'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?').run(passwordHash, now, userId);
}

export function recordUserLogin(db: Db, userId: number, now = Date.now()): void {
  prepared(db, 'UPDATE users SET last_login_at = ? WHERE id = ?').run(now, userId);
}

/** Staff and admins who can be assigned tickets (not disabled), by name. */
export function assignableStaff(db: Db): User[] {
  return prepared(db, `SELECT ${USER_COLUMNS} FROM users WHERE role IN ('staff', 'admin') AND disabled_at IS NULL ORDER BY username`).all() as User[];
}

export function activeAdminCount(db: Db): number {
  return (prepared(db, "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL").get() as { n: number }).n;
}

export function setUserDisabled(db: Db, userId: number, disabledAt: number | null, now = Date.now()): void {
  prepared(db, 'UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?').run(disabledAt, now, userId);
}

export function setUserRole(db: Db, userId: number, role: Role, now = Date.now()): void {
  prepared(db, 'UPDATE users SET role = ?, updated_at = ? WHERE id = ?').run(role, now, userId);
}

export function setUserGameAccount(db: Db, userId: number, gameAccountId: number | null, now = Date.now()): void {
  prepared(db, 'UPDATE users SET game_account_id = ?, updated_at = ? WHERE id = ?').run(gameAccountId, now, userId);
}

export function userByGameAccount(db: Db, gameAccountId: number): User | undefined {
  return prepared(db, `SELECT ${USER_COLUMNS} FROM users WHERE game_account_id = ?`).get(gameAccountId) as User | undefined;
}

export interface NotificationProfile {
  id: number;
  username: string;
  email: string | null;
  emailVerifiedAt: number | null;
  telegramChatId: string | null;
  notifyEmail: 0 | 1;
  notifyTelegram: 0 | 1;
  disabledAt: number | null;
}

export function notificationProfile(db: Db, userId: number): NotificationProfile | undefined {
  return prepared(
    db,
    `SELECT id, username, email, email_verified_at AS emailVerifiedAt, telegram_chat_id AS telegramChatId,
       notify_email AS notifyEmail, notify_telegram AS notifyTelegram, disabled_at AS disabledAt FROM users WHERE id = ?`,
  ).get(userId) as NotificationProfile | undefined;
}

/** A new address is unconfirmed until its link is followed. */
export function setUserEmail(db: Db, userId: number, email: string | null, now = Date.now()): void {
  prepared(db, 'UPDATE users SET email = ?, email_verified_at = NULL, updated_at = ? WHERE id = ?').run(email, now, userId);
}

export function markEmailVerified(db: Db, userId: number, email: string, now = Date.now()): boolean {
  return prepared(db, 'UPDATE users SET email_verified_at = ?, updated_at = ? WHERE id = ? AND email = ?').run(now, now, userId, email).changes === 1;
}

export function setNotificationChoices(db: Db, userId: number, choices: { email: boolean; telegram: boolean }, now = Date.now()): void {
  prepared(db, 'UPDATE users SET notify_email = ?, notify_telegram = ?, updated_at = ? WHERE id = ?').run(choices.email ? 1 : 0, choices.telegram ? 1 : 0, now, userId);
}

export function setTelegramChat(db: Db, userId: number, chatId: string | null, now = Date.now()): void {
  // One chat belongs to one account: linking it here unlinks it elsewhere.
  if (chatId !== null) prepared(db, 'UPDATE users SET telegram_chat_id = NULL WHERE telegram_chat_id = ? AND id <> ?').run(chatId, userId);
  prepared(db, 'UPDATE users SET telegram_chat_id = ?, updated_at = ? WHERE id = ?').run(chatId, now, userId);
}

export function setUserLocale(db: Db, userId: number, locale: string | null, now = Date.now()): void {
  prepared(db, 'UPDATE users SET locale = ?, updated_at = ? WHERE id = ?').run(locale, now, userId);
}

/** Written only when it changes, so an ordinary page view costs no write. */
export function setSeenLocale(db: Db, userId: number, locale: string): void {
  prepared(db, 'UPDATE users SET seen_locale = ? WHERE id = ? AND seen_locale IS NOT ?').run(locale, userId, locale);
}
