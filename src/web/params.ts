// `view`, `id`, `action` and the like are read from the query string or, failing that, the form
// body, for url-encoded and multipart posts alike (the dashboard's contract with other clients).
import type { Request } from 'express';
import { message } from '../i18n/index.js';
import { HttpError } from './errors.js';

/** A parameter from the query string or, failing that, the form body; a 400 when given twice. */
export function param(req: Request, name: string): string | undefined {
  const fromQuery = req.query[name];
  if (typeof fromQuery === 'string') return fromQuery;
  if (fromQuery !== undefined) throw new HttpError(400, message('request.paramOnce', { name }));
  const fromBody: unknown = (req.body as Record<string, unknown> | undefined)?.[name];
  if (typeof fromBody === 'string') return fromBody;
  if (fromBody !== undefined) throw new HttpError(400, message('request.paramOnce', { name }));
  return undefined;
}
