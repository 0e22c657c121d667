// Who may use a view or action, and the second look at the account once a request's body is in.
// A request may take long (a slow upload, a slow client, a password hash): an administrator may
// disable the account, lower its role or end its sessions meanwhile, and the request must then
// store nothing (issue #12).
import type { Request, Response } from 'express';
import { sessionExists } from '../db/sessions.js';
import { userById, type Role } from '../db/users.js';
import type { AppDeps } from './deps.js';
import { HttpError } from './errors.js';

export type Access = 'public' | 'user' | 'staff' | 'admin';

const RANK: Record<Access, number> = { public: 0, user: 1, staff: 2, admin: 3 };
const ROLE_RANK: Record<Role, number> = { user: 1, staff: 2, admin: 3 };

export function roleMayUse(role: Role, access: Access): boolean {
  return ROLE_RANK[role] >= RANK[access];
}


/**
 * Reads the signed-in account again, right before a change is stored: it must still exist, be
 * enabled, hold a role that may use `access`, and the session must not have been ended. Refreshes
 * res.locals.user with what it read. Throws 401/403 otherwise.
 */
export function recheckAccount(req: Request, res: Response, deps: Pick<AppDeps, 'db'>, access: Access): void {
  const signedIn = res.locals.user;
  if (!signedIn || access === 'public') return;
  const current = userById(deps.db, signedIn.id);
  if (!current || current.disabledAt !== null || !sessionExists(deps.db, req.sessionID)) throw new HttpError(401, 'access.sessionEnded');
  if (!roleMayUse(current.role, access)) throw new HttpError(403, 'access.roleLowered');
  res.locals.user = current;
}
