// Accounts: every rule about who may sign in and what with. Creating a user, changing a password,
// disabling or enabling, changing a role, linking a game account: each is one function here, and
// the web's users and settings pages, the CLI and the first start all call it, so each does the
// same checks, ends the same sessions and writes the same one audit row.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { recordAudit, SYSTEM_ACTOR, type AuditActor } from './audit.js';
import { inTransaction, type Db } from './db/index.js';
import { consumeUserToken, insertUserToken, retireUserTokens } from './db/notifications.js';
import { deleteOtherUserSessions, deleteUserSessions } from './db/sessions.js';
import { setGameTicketsOwner } from './db/tickets.js';
import {
  activeAdminCount,
  createUser,
  gameAccountIdTaken,
  ROLES,
  setUserDisabled,
  setUserGameAccount,
  setTelegramChat,
  setUserRole,
  userById,
  updateUserPassword,
  userByUsername,
  userCount,
  usernameExists,
  type Role,
  type User,
} from './db/users.js';
import {
  dummyPasswordHash,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  randomPassword,
  verifyPassword,
} from './passwords.js';

export const usernameSchema = z
  .string()
  .trim()
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u, 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

export const newAccountSchema = z.object({
  username: usernameSchema,
  password: passwordSchema,
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }).default('user'),
  email: z.email('must be an email address').nullish(),
  gameAccountId: z.number().int().positive('must be a positive whole number').nullish(),
});
export type NewAccount = z.input<typeof newAccountSchema>;

/** Why an account change was refused, for callers that put it into their reader's words (the CLI prints the English). */
export type AccountRefusal = 'invalid' | 'usernameTaken' | 'gameAccountTaken' | 'disableSelf' | 'demoteSelf' | 'lastAdmin';

export class AccountError extends Error {
  constructor(
    readonly field: string,
    readonly reason: AccountRefusal,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'AccountError';
  }
}

/** Who changes an account, for the audit log: an admin on the web (with the address), the CLI, the system. */
export interface AccountChangeBy {
  actor: AuditActor;
  ip?: string | null;
}

function audit(db: Db, by: AccountChangeBy, action: string, target: Pick<User, 'id' | 'username'>, details: Record<string, unknown> = {}): void {
  recordAudit(db, { actor: by.actor, action, ip: by.ip ?? null, details: { userId: target.id, username: target.username, ...details } });
}

/**
 * Creates an account, with its `user.create` audit row. `beforeStore` runs after the (slow)
 * password hash and right before the row is written: a caller acting for a signed-in admin checks
 * there that the admin still may. The game account's earlier tickets become the new user's.
 */
export async function createAccount(
  db: Db,
  input: NewAccount,
  options: { by?: AccountChangeBy; reason?: string; beforeStore?: () => void } = {},
): Promise<User> {
  const parsed = newAccountSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AccountError(String(issue?.path[0] ?? 'input'), 'invalid', issue?.message ?? 'is not valid');
  }
  const account = parsed.data;
  if (usernameExists(db, account.username)) throw new AccountError('username', 'usernameTaken', 'is already taken');
  if (account.gameAccountId && gameAccountIdTaken(db, account.gameAccountId)) {
    throw new AccountError('gameAccountId', 'gameAccountTaken', 'is already linked to another user');
  }
  const passwordHash = await hashPassword(account.password);
  options.beforeStore?.();
  // Checked again after the (slow) hash: the UNIQUE constraint has the last word either way.
  if (usernameExists(db, account.username)) throw new AccountError('username', 'usernameTaken', 'is already taken');
  return inTransaction(db, () => {
    const user = createUser(db, {
      username: account.username,
      passwordHash,
      role: account.role as Role,
      email: account.email ?? null,
      gameAccountId: account.gameAccountId ?? null,
    });
    // The character's earlier in-game tickets are this user's from now on.
    if (user.gameAccountId !== null) setGameTicketsOwner(db, user.gameAccountId, user.id);
    audit(db, options.by ?? { actor: SYSTEM_ACTOR }, 'user.create', user, { role: user.role, ...(options.reason ? { reason: options.reason } : {}) });
    return user;
  });
}

/**
 * Links `user` to a game account (or unlinks it, null). The game tickets of the account follow
 * the link: the previous account's tickets have no web owner any more, the new account's belong
 * to `user`, so nobody keeps reading a character's messages after the link moved.
 */
export function linkGameAccount(db: Db, user: User, gameAccountId: number | null, by: AccountChangeBy = { actor: SYSTEM_ACTOR }): void {
  inTransaction(db, () => {
    if (gameAccountId !== null && gameAccountId !== user.gameAccountId && gameAccountIdTaken(db, gameAccountId)) {
      throw new AccountError('gameAccountId', 'gameAccountTaken', 'is already linked to another user');
    }
    setUserGameAccount(db, user.id, gameAccountId);
    if (user.gameAccountId !== null && user.gameAccountId !== gameAccountId) setGameTicketsOwner(db, user.gameAccountId, null);
    if (gameAccountId !== null) setGameTicketsOwner(db, gameAccountId, user.id);
    audit(db, by, 'user.game_account', user, { from: user.gameAccountId, to: gameAccountId });
  });
}

/**
 * Sets a new password and ends the account's sessions: all of them when someone else (an admin,
 * the CLI) sets it, all but `keepSessionId` when the user changes their own. Audited as
 * `user.password` (their own) or `user.password_reset`. `beforeStore` runs after the hash, right
 * before anything is written (see createAccount).
 */
export async function changePassword(
  db: Db,
  user: User,
  password: string,
  options: { by?: AccountChangeBy; keepSessionId?: string; beforeStore?: () => void } = {},
): Promise<void> {
  const parsed = passwordSchema.safeParse(password);
  if (!parsed.success) throw new AccountError('password', 'invalid', parsed.error.issues[0]?.message ?? 'is not valid');
  const hash = await hashPassword(parsed.data);
  options.beforeStore?.();
  const by = options.by ?? { actor: SYSTEM_ACTOR };
  inTransaction(db, () => {
    updateUserPassword(db, user.id, hash);
    if (options.keepSessionId !== undefined) deleteOtherUserSessions(db, user.id, options.keepSessionId);
    else deleteUserSessions(db, user.id);
    audit(db, by, by.actor.id === user.id ? 'user.password' : 'user.password_reset', user);
  });
}

/** An admin never locks the last admin out: not by disabling, not by demoting. */
function isLastAdmin(db: Db, target: User): boolean {
  return target.role === 'admin' && target.disabledAt === null && activeAdminCount(db) <= 1;
}

/** Disables (ending every session at once) or enables an account. Nobody disables themselves or the last admin. */
export function setAccountDisabled(db: Db, target: User, disabled: boolean, by: AccountChangeBy): void {
  inTransaction(db, () => {
    if (disabled) {
      if (by.actor.id === target.id) throw new AccountError('user', 'disableSelf', 'You cannot disable your own account.');
      if (isLastAdmin(db, target)) throw new AccountError('user', 'lastAdmin', 'This is the last active admin; make another admin first.');
    }
    setUserDisabled(db, target.id, disabled ? Date.now() : null);
    if (disabled) deleteUserSessions(db, target.id);
    audit(db, by, disabled ? 'user.disable' : 'user.enable', target);
  });
}

/** Changes a role. Nobody takes away their own admin role, nor demotes the last admin. */
export function setAccountRole(db: Db, target: User, role: Role, by: AccountChangeBy): void {
  inTransaction(db, () => {
    if (role !== 'admin') {
      if (by.actor.id === target.id) throw new AccountError('role', 'demoteSelf', 'You cannot take away your own admin role.');
      if (isLastAdmin(db, target)) throw new AccountError('role', 'lastAdmin', 'This is the last active admin; make another admin first.');
    }
    setUserRole(db, target.id, role);
    audit(db, by, 'user.role', target, { from: target.role, to: role });
  });
}

export type SignInResult = { ok: true; user: User } | { ok: false; reason: 'unknown_user' | 'wrong_password' | 'disabled' };

/** Checks a username and password; takes the same time whether or not the user exists. */
export async function authenticate(db: Db, username: string, password: string): Promise<SignInResult> {
  const user = userByUsername(db, username.trim());
  if (!user) {
    await verifyPassword(password, await dummyPasswordHash());
    return { ok: false, reason: 'unknown_user' };
  }
  if (!(await verifyPassword(password, user.passwordHash))) return { ok: false, reason: 'wrong_password' };
  if (user.disabledAt !== null) return { ok: false, reason: 'disabled' };
  return { ok: true, user };
}

/**
 * An empty database gets an `admin` account with a random password, which the caller shows once.
 * Returns undefined when there already are users.
 */
export async function ensureFirstAdmin(db: Db): Promise<{ user: User; password: string } | undefined> {
  if (userCount(db) > 0) return undefined;
  const password = randomPassword();
  const user = await createAccount(db, { username: 'admin', password, role: 'admin' }, { by: { actor: SYSTEM_ACTOR }, reason: 'first start' });
  return { user, password };
}

// --- one-time codes: email confirmation links and Telegram deep links -------------------------

const LINK_LIFETIME_MS = 30 * 60_000;

/** Only a code's hash is stored: a database reader cannot use a pending link. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A one-time code for the deep link; only its hash is stored. */
export function createTelegramLinkCode(db: Db, userId: number, now = Date.now()): string {
  const code = randomBytes(18).toString('base64url');
  retireUserTokens(db, userId, 'telegram_link', now);
  insertUserToken(db, { userId, purpose: 'telegram_link', tokenHash: tokenHash(code), payload: null, expiresAt: now + LINK_LIFETIME_MS, now });
  return code;
}

/** Links the chat to the account whose code this is; the account's username, or undefined. */
export function linkTelegramChat(db: Db, code: string, chatId: string, now = Date.now()): string | undefined {
  return inTransaction(db, () => {
    const token = consumeUserToken(db, 'telegram_link', tokenHash(code), now);
    if (!token) return undefined;
    setTelegramChat(db, token.userId, chatId, now);
    const user = userById(db, token.userId);
    recordAudit(db, { actor: { id: token.userId, name: user?.username ?? null }, action: 'telegram.link', details: { chatId } }, now);
    return user?.username;
  });
}
