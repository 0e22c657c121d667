import type { Request, Response } from 'express';
import { recordAudit } from '../../audit.js';
import type { AppDeps } from '../deps.js';
import { redirectAfterPost, viewUrl } from '../render.js';
import { SESSION_COOKIE } from '../deps.js';

export async function logout(req: Request, res: Response, deps: AppDeps): Promise<void> {
  const user = res.locals.user;
  if (user) recordAudit(deps.db, { actor: { id: user.id, name: user.username }, action: 'logout', ip: req.ip ?? null });
  await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
  res.clearCookie(SESSION_COOKIE, { path: '/' });
  redirectAfterPost(res, viewUrl('login', { signed_out: 1 }));
}
