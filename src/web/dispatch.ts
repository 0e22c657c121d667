// The index.php?view= dispatcher: finds the view in the route table, checks method, sign-in,
// role and CSRF, then runs the one handler for it.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role } from '../db/users.js';
import type { AppDeps } from './app.js';
import { isCsrfValid } from './csrf.js';
import { HttpError, notFound } from './errors.js';
import { viewUrl } from './render.js';
import { discardUploads } from './uploads.js';
import { DEFAULT_VIEW, VIEWS, type Access, type Handler, type ViewRoute } from './routes.js';

/** A parameter from the query string or, failing that, the form body (DESIGN.md). */
export function param(req: Request, name: string): string | undefined {
  const fromQuery = req.query[name];
  if (typeof fromQuery === 'string') return fromQuery;
  if (fromQuery !== undefined) throw new HttpError(400, `The "${name}" parameter must be given once.`);
  const fromBody: unknown = (req.body as Record<string, unknown> | undefined)?.[name];
  if (typeof fromBody === 'string') return fromBody;
  if (fromBody !== undefined) throw new HttpError(400, `The "${name}" parameter must be given once.`);
  return undefined;
}

const RANK: Record<Access, number> = { public: 0, user: 1, staff: 2, admin: 3 };
const ROLE_RANK: Record<Role, number> = { user: 1, staff: 2, admin: 3 };

function pickPostHandler(route: ViewRoute, req: Request, role: Role): Handler {
  const post = route.post;
  if (typeof post === 'function') return post;
  const action = param(req, 'action') ?? 'default';
  const handler = post ? Object.hasOwn(post, action) && post[action] : undefined;
  if (!handler) throw new HttpError(400, `Unknown action "${action.slice(0, 40)}" for this page.`);
  const needed = route.actionAccess && Object.hasOwn(route.actionAccess, action) ? route.actionAccess[action] : undefined;
  if (needed && ROLE_RANK[role] < RANK[needed]) throw new HttpError(403, 'Your account may not do that.');
  return handler;
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
        throw new HttpError(405, 'This page does not accept that kind of request.', { Allow: allowed });
      }

      const user = res.locals.user;
      if (RANK[route.access] > 0 && !user) {
        const next = isRead ? req.originalUrl : undefined;
        res.redirect(isRead ? 302 : 303, viewUrl('login', { next }));
        return;
      }
      if (user && ROLE_RANK[user.role as Role] < RANK[route.access]) {
        throw new HttpError(403, 'Your account does not have access to this page.');
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
      // The action (and whether this role may use it) is settled before any upload is written.
      const handler = pickPostHandler(route, req, (user?.role ?? 'user') as Role);
      if (route.multipart) {
        await new Promise<void>((resolve, reject) => deps.uploads(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      }
      if (!isCsrfValid(req)) {
        throw new HttpError(403, 'The form has expired or did not come from this site. Reload the page and try again.');
      }
      await handler(req, res, deps);
    } catch (err) {
      next(err);
    } finally {
      // Files no stored row claimed (a refused, invalid or failed request) never stay behind.
      discardUploads(req);
    }
  };
}
