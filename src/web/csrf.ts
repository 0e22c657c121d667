// Synchronizer-token CSRF protection: one random token per session, sent back by every form as
// the hidden field `_csrf` (or the X-CSRF-Token header) and compared in constant time.
// (csrf-sync does the same but compares with ===, so the few lines live here.)
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

export const CSRF_FIELD = '_csrf';

export function csrfToken(req: Request): string {
  req.session.csrfToken ??= randomBytes(32).toString('base64url');
  return req.session.csrfToken;
}

/** The token a request carries: the form field wins, then the header. */
export function submittedCsrfToken(req: Request): string | undefined {
  const fromBody: unknown = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
  if (typeof fromBody === 'string') return fromBody;
  const fromHeader = req.get('x-csrf-token');
  return fromHeader || undefined;
}

export function isCsrfValid(req: Request): boolean {
  const expected = req.session?.csrfToken;
  const actual = submittedCsrfToken(req);
  if (typeof expected !== 'string' || typeof actual !== 'string') return false;
  const a = Buffer.from(actual);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
