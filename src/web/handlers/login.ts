import type { Request, Response } from 'express';
import { z } from 'zod';
import { authenticate } from '../../accounts.js';
import { recordAudit } from '../../audit.js';
import { recordUserLogin } from '../../db/users.js';
import type { AppDeps } from '../deps.js';
import { message, type Message, type Translator } from '../../i18n/index.js';
import { parseForm, type FieldErrors } from '../forms.js';
import { redirectAfterPost, renderPage, safeNext, viewUrl } from '../render.js';

const loginSchema = z.object({
  username: z.string({ error: 'login.error.usernameMissing' }).trim().min(1, 'login.error.usernameMissing').max(64, 'login.error.usernameTooLong'),
  password: z.string({ error: 'login.error.passwordMissing' }).min(1, 'login.error.passwordMissing').max(1024, 'login.error.passwordTooLong'),
  next: z.string().optional(),
});

interface LoginLocals {
  username?: string;
  next?: string | undefined;
  errors?: FieldErrors;
  error?: Message;
  notice?: string;
}

function renderLogin(req: Request, res: Response, status: number, locals: LoginLocals): void {
  res.status(status);
  const i18n = res.locals.i18n as Translator;
  renderPage(req, res, 'login', { title: i18n.t('login.title'), username: '', errors: {}, error: undefined, ...locals });
}

export function loginForm(req: Request, res: Response): void {
  const next = safeNext(req.query.next);
  if (res.locals.user) {
    res.redirect(302, next ?? viewUrl('tickets'));
    return;
  }
  const notice = req.query.signed_out === '1' ? (res.locals.i18n as Translator).t('login.signedOut') : undefined;
  renderLogin(req, res, 200, { next, notice });
}

export async function login(req: Request, res: Response, deps: AppDeps): Promise<void> {
  const form = parseForm(loginSchema, req.body);
  if (!form.ok) {
    renderLogin(req, res, 400, { username: form.values.username, next: safeNext(form.values.next), errors: form.errors });
    return;
  }
  const { username, password } = form.data;
  const next = safeNext(form.data.next);
  const result = await authenticate(deps.db, username, password);
  if (!result.ok) {
    recordAudit(deps.db, {
      actor: { id: null, name: username },
      action: 'login.failure',
      ip: req.ip ?? null,
      details: { reason: result.reason },
    });
    deps.logger.info({ username, reason: result.reason, ip: req.ip }, 'sign-in refused');
    const error = message(result.reason === 'disabled' ? 'login.error.disabled' : 'login.error.wrong');
    renderLogin(req, res, 401, { username, next, error });
    return;
  }

  const user = result.user;
  // A new session id on sign-in, so a session id planted before sign-in is worthless after it.
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  req.session.userId = user.id;
  recordUserLogin(deps.db, user.id);
  recordAudit(deps.db, { actor: { id: user.id, name: user.username }, action: 'login.success', ip: req.ip ?? null });
  redirectAfterPost(res, next ?? viewUrl('tickets'));
}
