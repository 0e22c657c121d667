// view=users (admins): accounts — create, disable/enable, reset password, role, game account. A
// refused change is shown next to the form it came from (422), on the same page.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { AccountError, changePassword, type AccountRefusal, createAccount, linkGameAccount, setAccountDisabled, setAccountRole, usernameSchema, type AccountChangeBy } from '../../accounts.js';
import { ROLES, userById, users, type User } from '../../db/users.js';
import { message, type Message, type MessageKey, type Translator } from '../../i18n/index.js';
import { randomPassword } from '../../passwords.js';
import { requestContext } from '../../tickets/service.js';
import { recheckAccount } from '../access.js';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { setFlash } from '../flash.js';
import { formValues, parseForm, zodMessage, type FieldErrors } from '../forms.js';
import { newPasswordField } from './settings.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';

const GAME_ACCOUNT_MAX = 2 ** 31 - 1;
const GAME_ACCOUNT_ERROR = zodMessage('users.error.gameAccount', { max: GAME_ACCOUNT_MAX });
const gameAccountText = z
  .string({ error: GAME_ACCOUNT_ERROR })
  .trim()
  .regex(/^(\d{1,10})?$/, GAME_ACCOUNT_ERROR)
  .transform((text) => (text === '' ? null : Number(text)))
  // The game API's account ids: 1 to 2^31-1 (an account 0 could never match a game ticket).
  .refine((id) => id === null || (id >= 1 && id <= GAME_ACCOUNT_MAX), GAME_ACCOUNT_ERROR);

const roleField = z.enum(ROLES, { error: 'users.error.role' });
const createSchema = z.object({
  username: z
    .string({ error: 'account.error.username' })
    .trim()
    .refine((name) => usernameSchema.safeParse(name).success, 'account.error.username'),
  password: newPasswordField(),
  role: roleField,
  email: z.union([z.literal(''), z.email('users.error.email')], { error: 'users.error.email' }).optional(),
  game_account: gameAccountText.optional(),
});
const userIdSchema = z.object({ user_id: z.string({ error: 'users.error.noSuchUser' }).regex(/^[1-9]\d{0,14}$/, 'users.error.noSuchUser') });
const roleSchema = userIdSchema.extend({ role: roleField });
const gameAccountSchema = userIdSchema.extend({ game_account: gameAccountText });


/** A refusal of one row's form: which form, what it said, and the value typed (game account). */
interface RowError {
  action: string;
  text: Message | string;
  value?: string;
}

interface UsersPageLocals {
  errors?: FieldErrors;
  values?: Record<string, string>;
  rowErrors?: Record<number, RowError>;
  newPassword?: { username: string; password: string };
}

function renderUsers(req: Request, res: Response, deps: AppDeps, status = 200, locals: UsersPageLocals = {}): void {
  const i18n = res.locals.i18n as Translator;
  const rowErrors = Object.fromEntries(
    Object.entries(locals.rowErrors ?? {}).map(([id, e]) => [id, { ...e, text: typeof e.text === 'string' ? e.text : i18n.text(e.text) }]),
  );
  res.status(status);
  renderPage(req, res, 'users', {
    title: i18n.t('users.title'),
    users: users(deps.db),
    roles: ROLES,
    errors: locals.errors ?? {},
    rowErrors,
    values: { username: '', role: 'user', email: '', game_account: '', ...locals.values },
    newPassword: locals.newPassword,
  });
}

export function usersPage(req: Request, res: Response, deps: AppDeps): void {
  renderUsers(req, res, deps);
}

/** The rules of src/accounts.ts, in the reader's words. */
const REFUSALS: Record<AccountRefusal, MessageKey> = {
  usernameTaken: 'users.error.usernameTaken',
  gameAccountTaken: 'users.error.gameAccountTaken',
  disableSelf: 'users.error.disableSelf',
  demoteSelf: 'users.error.demoteSelf',
  lastAdmin: 'users.error.lastAdmin',
  invalid: 'users.error.refused',
};

function refusal(err: AccountError): Message {
  return message(REFUSALS[err.reason]);
}

/**
 * The user named by the form's user_id (a 404 when there is none), or undefined after the page was
 * shown again with the row's error (422).
 */
function targetUser(req: Request, res: Response, deps: AppDeps, action: string, schema: z.ZodObject = userIdSchema): { user: User; data: Record<string, unknown> } | undefined {
  const form = parseForm(schema, req.body);
  if (!form.ok && form.errors.user_id) throw new HttpError(404, 'users.error.noSuchUser');
  const id = Number(form.ok ? (form.data as { user_id: string }).user_id : form.values.user_id);
  const user = userById(deps.db, id);
  if (!user) throw new HttpError(404, 'users.error.noSuchUser');
  if (!form.ok) {
    const text = Object.values(form.errors)[0] ?? message('users.error.refused');
    renderUsers(req, res, deps, 422, { rowErrors: { [user.id]: { action, text, value: form.values.game_account } } });
    return undefined;
  }
  return { user, data: form.data as Record<string, unknown> };
}

/** The signed-in admin, as the accounts module records who changed an account. */
function byAdmin(req: Request, res: Response): AccountChangeBy {
  const admin = res.locals.user!;
  return { actor: { id: admin.id, name: admin.username }, ip: requestContext(req).ip };
}

/** Runs an account change; a rule's refusal is shown on the row (422) and false returned. */
function applied(req: Request, res: Response, deps: AppDeps, user: User, action: string, change: () => void, value?: string): boolean {
  try {
    change();
    return true;
  } catch (err) {
    if (!(err instanceof AccountError)) throw err;
    renderUsers(req, res, deps, 422, { rowErrors: { [user.id]: { action, text: refusal(err), value } } });
    return false;
  }
}

function done(req: Request, res: Response, key: MessageKey, params: Record<string, string | number>): void {
  setFlash(req, key, params);
  redirectAfterPost(res, viewUrl('users'));
}

const roleLabel = (res: Response, role: string) => (res.locals.i18n as Translator).t(`users.role.${role}` as MessageKey);

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
      done(req, res, 'users.flash.created', { username: user.username, role: roleLabel(res, user.role) });
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const field = err.field === 'gameAccountId' ? 'game_account' : err.field;
      renderUsers(req, res, deps, 422, { errors: { [field]: refusal(err) }, values: { ...formValues(req.body), password: '' } });
    }
  },

  disable(req: Request, res: Response, deps: AppDeps): void {
    const target = targetUser(req, res, deps, 'disable');
    if (!target) return;
    const { user } = target;
    if (!applied(req, res, deps, user, 'disable', () => setAccountDisabled(deps.db, user, true, byAdmin(req, res)))) return;
    done(req, res, 'users.flash.disabled', { username: user.username });
  },

  enable(req: Request, res: Response, deps: AppDeps): void {
    const target = targetUser(req, res, deps, 'enable');
    if (!target) return;
    const { user } = target;
    if (!applied(req, res, deps, user, 'enable', () => setAccountDisabled(deps.db, user, false, byAdmin(req, res)))) return;
    done(req, res, 'users.flash.enabled', { username: user.username });
  },

  async resetPassword(req: Request, res: Response, deps: AppDeps): Promise<void> {
    const target = targetUser(req, res, deps, 'reset_password');
    if (!target) return;
    const { user } = target;
    const password = randomPassword();
    await changePassword(deps.db, user, password, { by: byAdmin(req, res), beforeStore: () => recheckAccount(req, res, deps, 'admin') });
    // Shown in this answer only (not a redirect with a flash): the clear password is never stored.
    res.set('Cache-Control', 'no-store');
    renderUsers(req, res, deps, 200, { newPassword: { username: user.username, password } });
  },

  role(req: Request, res: Response, deps: AppDeps): void {
    const target = targetUser(req, res, deps, 'role', roleSchema);
    if (!target) return;
    const { user, data } = target;
    const role = data.role as User['role'];
    if (!applied(req, res, deps, user, 'role', () => setAccountRole(deps.db, user, role, byAdmin(req, res)))) return;
    done(req, res, 'users.flash.role', { username: user.username, role: roleLabel(res, role) });
  },

  gameAccount(req: Request, res: Response, deps: AppDeps): void {
    const target = targetUser(req, res, deps, 'game_account', gameAccountSchema);
    if (!target) return;
    const { user, data } = target;
    const gameAccountId = data.game_account as number | null;
    if (!applied(req, res, deps, user, 'game_account', () => linkGameAccount(deps.db, user, gameAccountId, byAdmin(req, res)), gameAccountId === null ? '' : String(gameAccountId))) return;
    if (gameAccountId === null) done(req, res, 'users.flash.gameUnlinked', { username: user.username });
    else done(req, res, 'users.flash.gameLinked', { username: user.username, id: String(gameAccountId) });
  },
};
