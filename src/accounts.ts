// Accounts: creation with validation, sign-in, password changes, the first admin.
import { z } from 'zod';
import { inTransaction, type Db } from './db/index.js';
import { setGameTicketsOwner } from './db/tickets.js';
import {
  createUser,
  gameAccountIdTaken,
  ROLES,
  setUserGameAccount,
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

export class AccountError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'AccountError';
  }
}

/**
 * Creates an account. `beforeStore` runs after the (slow) password hash and right before the row
 * is written: a caller acting for a signed-in admin checks there that the admin still may.
 */
export async function createAccount(db: Db, input: NewAccount, beforeStore?: () => void): Promise<User> {
  const parsed = newAccountSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AccountError(String(issue?.path[0] ?? 'input'), issue?.message ?? 'is not valid');
  }
  const account = parsed.data;
  if (usernameExists(db, account.username)) throw new AccountError('username', 'is already taken');
  if (account.gameAccountId && gameAccountIdTaken(db, account.gameAccountId)) {
    throw new AccountError('gameAccountId', 'is already linked to another user');
  }
  const passwordHash = await hashPassword(account.password);
  beforeStore?.();
  // Checked again after the (slow) hash: the UNIQUE constraint has the last word either way.
  if (usernameExists(db, account.username)) throw new AccountError('username', 'is already taken');
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
    return user;
  });
}

/**
 * Links `user` to a game account (or unlinks it, null). The game tickets of the account follow
 * the link: the previous account's tickets have no web owner any more, the new account's belong
 * to `user`, so nobody keeps reading a character's messages after the link moved.
 */
export function linkGameAccount(db: Db, user: User, gameAccountId: number | null): void {
  inTransaction(db, () => {
    if (gameAccountId !== null && gameAccountId !== user.gameAccountId && gameAccountIdTaken(db, gameAccountId)) {
      throw new AccountError('gameAccountId', 'is already linked to another user');
    }
    setUserGameAccount(db, user.id, gameAccountId);
    if (user.gameAccountId !== null && user.gameAccountId !== gameAccountId) setGameTicketsOwner(db, user.gameAccountId, null);
    if (gameAccountId !== null) setGameTicketsOwner(db, gameAccountId, user.id);
  });
}

/** Sets a new password; `beforeStore` runs after the hash, right before it is written (see createAccount). */
export async function changePassword(db: Db, user: User, password: string, beforeStore?: () => void): Promise<void> {
  const parsed = passwordSchema.safeParse(password);
  if (!parsed.success) throw new AccountError('password', parsed.error.issues[0]?.message ?? 'is not valid');
  const hash = await hashPassword(parsed.data);
  beforeStore?.();
  updateUserPassword(db, user.id, hash);
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
  const user = await createAccount(db, { username: 'admin', password, role: 'admin' });
  return { user, password };
}
