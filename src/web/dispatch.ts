// The index.php?view= dispatcher: finds the view in the route table, checks method, sign-in,
// role and CSRF, then runs the one handler for it.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role, User } from '../db/users.js';
import { message } from '../i18n/index.js';
import { enforceQuota, QuotaError, sized, type QuotaKind } from '../tickets/quotas.js';
import { uploadBytes } from '../tickets/service.js';
import { recheckAccount, roleMayUse, type Access } from './access.js';
import type { AppDeps } from './deps.js';
import { isCsrfValid } from './csrf.js';
import { HttpError, notFound } from './errors.js';
import { param } from './params.js';
import { viewUrl } from './render.js';
import { staleFormPage } from './staleForms.js';
import { requestTranslator } from './uploads/errors.js';
import { discardUploads, requestUploads } from './uploads/middleware.js';
import { DEFAULT_VIEW, VIEWS, type Handler, type ViewRoute } from './routes.js';

/** The POST handler for the request's action, and the access it needs (at least the view's). */
function pickPostHandler(route: ViewRoute, req: Request, role: Role): { handler: Handler; access: Access; action: string } {
  const post = route.post;
  if (typeof post === 'function') return { handler: post, access: route.access, action: 'default' };
  const action = param(req, 'action') ?? 'default';
  const handler = post ? Object.hasOwn(post, action) && post[action] : undefined;
  if (!handler) throw new HttpError(400, message('request.unknownAction', { action: action.slice(0, 40) }));
  const needed = route.actionAccess && Object.hasOwn(route.actionAccess, action) ? route.actionAccess[action] : undefined;
  if (needed && !roleMayUse(role, needed)) throw new HttpError(403, 'request.actionForbidden');
  return { handler, access: needed ?? route.access, action };
}

function quotaOf(route: ViewRoute, action: string): QuotaKind | undefined {
  return route.quotas && Object.hasOwn(route.quotas, action) ? route.quotas[action] : undefined;
}

/** A player's posting quota (src/tickets/quotas.ts) as a 429 page. */
function checkQuota(deps: AppDeps, req: Request, user: User | undefined, kind: QuotaKind | undefined, incoming: { files: number; bytes: number }): void {
  if (!user || !kind) return;
  try {
    enforceQuota(deps.db, user, kind, incoming);
  } catch (err) {
    if (!(err instanceof QuotaError)) throw err;
    throw new HttpError(429, sized(err.userMessage, requestTranslator(req).bytes), { 'Retry-After': String(err.retryAfterSeconds) });
  }
}

/** The page a form was on: its view and id, without the action. */
function formPage(req: Request, view: string): string | undefined {
  const id = typeof req.query.id === 'string' && /^[1-9]\d{0,14}$/.test(req.query.id) ? req.query.id : undefined;
  return viewUrl(view, { id });
}

export function createDispatcher(deps: AppDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const viewName = param(req, 'view');
      if (viewName === undefined || viewName === '') {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw notFound();
        res.redirect(302, viewUrl(DEFAULT_VIEW));
        return;
      }
      const route = Object.hasOwn(VIEWS, viewName) ? VIEWS[viewName] : undefined;
      if (!route) throw notFound();

      const isRead = req.method === 'GET' || req.method === 'HEAD';
      const allowed = [route.get ? 'GET, HEAD' : '', route.post ? 'POST' : ''].filter(Boolean).join(', ');
      if ((isRead && !route.get) || (!isRead && (req.method !== 'POST' || !route.post))) {
        throw new HttpError(405, 'request.method', { Allow: allowed });
      }

      const user = res.locals.user;
      if (route.access !== 'public' && !user) {
        // A form sent after the session ended: back to its page after signing in (the drafts
        // script in public/app.js brings the typed text back there).
        const next = isRead ? req.originalUrl : route.get ? formPage(req, viewName) : undefined;
        res.redirect(isRead ? 302 : 303, viewUrl('login', { next }));
        return;
      }
      if (user && !roleMayUse(user.role, route.access)) {
        throw new HttpError(403, 'request.pageForbidden');
      }

      if (isRead) {
        await (route.get as Handler)(req, res, deps);
        return;
      }
      if (route.postLimiter) {
        const limiter = deps.limiters[route.postLimiter];
        const passed = await new Promise<boolean>((resolve, reject) => {
          limiter(req, res, (err?: unknown) => (err ? reject(err) : resolve(true)));
          res.once('finish', () => resolve(false));
        });
        if (!passed) return;
      }
      // The action (and whether this role may use it) is settled before any row is stored. When a
      // multipart form names it only in its body, the body is read first; a refused request's
      // files are removed (finally, below) before the answer leaves.
      const role = user?.role ?? 'user';
      const inQuery = typeof route.post === 'function' || req.query.action !== undefined || !route.multipart;
      let picked = inQuery ? pickPostHandler(route, req, role) : undefined;
      // No room at all: refused before a byte of the body is read.
      if (picked) checkQuota(deps, req, user, quotaOf(route, picked.action), { files: 0, bytes: 0 });
      if (route.multipart) {
        await new Promise<void>((resolve, reject) => deps.uploads(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      }
      picked ??= pickPostHandler(route, req, role);
      const { handler, access, action } = picked;
      const quota = quotaOf(route, action);
      if (!isCsrfValid(req)) {
        // A form the page can show again keeps its typed text (with a fresh token); nothing is stored.
        const stale = user ? staleFormPage(handler) : undefined;
        if (!stale) throw new HttpError(403, 'request.csrf');
        res.status(403);
        await stale(req, res, deps);
        return;
      }
      // The body may have taken long to arrive: look at the account again before anything is stored.
      recheckAccount(req, res, deps, access);
      // With the files counted; nothing awaits between this and the handler's write.
      const files = requestUploads(req);
      checkQuota(deps, req, res.locals.user, quota, { files: files.length, bytes: uploadBytes(files) });
      await handler(req, res, deps);
    } catch (err) {
      next(err);
    } finally {
      // Files no stored row claimed (a refused, invalid or failed request) never stay behind.
      discardUploads(req);
    }
  };
}
