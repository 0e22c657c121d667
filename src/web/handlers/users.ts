// view=users (admins): accounts — create, disable/enable, reset password, role, game account.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { AccountError, changePassword, createAccount, linkGameAccount, passwordSchema, setAccountDisabled, setAccountRole, usernameSchema, type AccountChangeBy } from '../../accounts.js';
import { ROLES, userById, users, type User } from '../../db/users.js';
import { randomPassword } from '../../passwords.js';
import { requestContext } from '../../tickets/service.js';
import { recheckAccount } from '../access.js';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { formValues, parseForm, type FieldErrors } from '../forms.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';

const gameAccountText = z
  .string()
  .trim()
  .regex(/^(\d{1,10})?$/, 'Game account must be a whole number (or empty)')
  .transform((text) => (text === '' ? null : Number(text)))
  // The game API's account ids: 1 to 2^31-1 (an account 0 could never match a game ticket).
  .refine((id) => id === null || (id >= 1 && id <= 2 ** 31 - 1), 'Game account must be a number from 1 to 2147483647 (or empty)');

const createSchema = z.object({
  username: usernameSchema,
  password: passwordSchema,
  role: z.enum(ROLES, { error: `Role must be one of ${ROLES.join(', ')}` }),
  email: z.union([z.literal(''), z.email('Email must be an email address')]).optional(),
  game_account: gameAccountText.optional(),
});
const userIdSchema = z.object({ user_id: z.string().regex(/^[1-9]\d{0,14}$/, 'Unknown user') });
const roleSchema = userIdSchema.extend({ role: z.enum(ROLES, { error: `Role must be one of ${ROLES.join(', ')}` }) });
const gameAccountSchema = userIdSchema.extend({ game_account: gameAccountText });

interface UsersPageLocals {
  errors?: FieldErrors;
  values?: Record<string, string>;
  notice?: string;
}

function renderUsers(req: Request, res: Response, deps: AppDeps, status = 200, locals: UsersPageLocals = {}): void {
  res.status(status);
  renderPage(req, res, 'users', {
    title: 'Users',
    users: users(deps.db),
    roles: ROLES,
    errors: locals.errors ?? {},
    values: { username: '', role: 'user', email: '', game_account: '', ...locals.values },
    notice: locals.notice ?? (req.session.flash !== undefined ? takeFlash(req) : undefined),
  });
}

function takeFlash(req: Request): string | undefined {
  const text = req.session.flash?.params?.text;
  delete req.session.flash;
  return text === undefined ? undefined : String(text);
}

export function usersPage(req: Request, res: Response, deps: AppDeps): void {
  renderUsers(req, res, deps);
}

/** The user named by the form's user_id, or a 404. */
function targetUser(req: Request, deps: AppDeps, schema: z.ZodObject = userIdSchema): { user: User; data: Record<string, unknown> } {
  const form = parseForm(schema, req.body);
  if (!form.ok) throw new HttpError(form.errors.user_id ? 404 : 422, Object.values(form.errors).join(' '));
  const data = form.data as { user_id: string } & Record<string, unknown>;
  const user = userById(deps.db, Number(data.user_id));
  if (!user) throw new HttpError(404, 'No such user.');
  return { user, data };
}

/** The signed-in admin, as the accounts module records who changed an account. */
function byAdmin(req: Request, res: Response): AccountChangeBy {
  const admin = res.locals.user!;
  return { actor: { id: admin.id, name: admin.username }, ip: requestContext(req).ip };
}

/** An account rule refused the change (src/accounts.ts): a 422 that says which. */
function refused(err: unknown): never {
  if (err instanceof AccountError) throw new HttpError(422, err.message.replace(/^\w+ /, ''));
  throw err;
}

function done(req: Request, res: Response, text: string): void {
  req.session.flash = { kind: 'info', key: 'legacy.text', params: { text } };
  redirectAfterPost(res, viewUrl('users'));
}

export const userAction = {
  async create(req: Request, res: Response, deps: AppDeps): Promise<void> {
    const form = parseForm(createSchema, req.body);
    if (!form.ok) {
      renderUsers(req, res, deps, 422, { errors: form.errors, values: { ...form.values, password: '' } });
      return;
    }
    const { username, password, role, email, game_account } = form.data;
    try {
      const user = await createAccount(
        deps.db,
        { username, password, role, email: email || null, gameAccountId: game_account ?? null },
        { by: byAdmin(req, res), beforeStore: () => recheckAccount(req, res, deps, 'admin') },
      );
      done(req, res, `Created ${user.username} (${user.role}).`);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const field = err.field === 'gameAccountId' ? 'game_account' : err.field;
      const message = err.field === 'gameAccountId' ? `Game account ${err.message.replace(/^gameAccountId /, '')}` : err.message.charAt(0).toUpperCase() + err.message.slice(1);
      renderUsers(req, res, deps, 422, { errors: { [field]: message }, values: { ...formValues(req.body), password: '' } });
    }
  },

  disable(req: Request, res: Response, deps: AppDeps): void {
    const { user } = targetUser(req, deps);
    try {
      setAccountDisabled(deps.db, user, true, byAdmin(req, res));
    } catch (err) {
      refused(err);
    }
    done(req, res, `Disabled ${user.username}; their sessions are ended.`);
  },

  enable(req: Request, res: Response, deps: AppDeps): void {
    const { user } = targetUser(req, deps);
    setAccountDisabled(deps.db, user, false, byAdmin(req, res));
    done(req, res, `Enabled ${user.username}.`);
  },

  async resetPassword(req: Request, res: Response, deps: AppDeps): Promise<void> {
    const { user } = targetUser(req, deps);
    const password = randomPassword();
    await changePassword(deps.db, user, password, { by: byAdmin(req, res), beforeStore: () => recheckAccount(req, res, deps, 'admin') });
    // Shown in this answer only (not a redirect with a flash): the clear password is never stored.
    res.set('Cache-Control', 'no-store');
    renderUsers(req, res, deps, 200, { notice: `New password for ${user.username}: ${password} — give it to them safely; it is not shown again.` });
  },

  role(req: Request, res: Response, deps: AppDeps): void {
    const { user, data } = targetUser(req, deps, roleSchema);
    const role = data.role as User['role'];
    try {
      setAccountRole(deps.db, user, role, byAdmin(req, res));
    } catch (err) {
      refused(err);
    }
    done(req, res, `${user.username} is now ${role}.`);
  },

  gameAccount(req: Request, res: Response, deps: AppDeps): void {
    const { user, data } = targetUser(req, deps, gameAccountSchema);
    const gameAccountId = data.game_account as number | null;
    try {
      linkGameAccount(deps.db, user, gameAccountId, byAdmin(req, res));
    } catch (err) {
      if (err instanceof AccountError) throw new HttpError(422, `Game account ${gameAccountId} is already linked to another user.`);
      throw err;
    }
    done(req, res, gameAccountId === null ? `${user.username} has no game account now.` : `${user.username} is linked to game account ${gameAccountId}.`);
  },
};
