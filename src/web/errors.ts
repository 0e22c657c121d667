// One error path for every page: 4xx errors say what is wrong, 5xx errors show a short reference
// id that is also in the log next to the stack, never the stack itself.
import { randomBytes } from 'node:crypto';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from '../log.js';
import { renderPage } from './render.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** Shown to the user as is: say what is wrong and what to do. */
    readonly publicMessage: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(publicMessage);
    this.name = 'HttpError';
  }
}

export const notFound = (what = 'That page does not exist.') => new HttpError(404, what);

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign-in needed',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported type',
  422: 'Check the form',
  429: 'Too many requests',
  500: 'Something went wrong',
  503: 'Unavailable',
};

/** Body-parser and other library errors carry a status; map those to clear messages. */
function clientError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  const e = err as { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  switch (e.type) {
    case 'entity.too.large':
      return new HttpError(413, 'The request is too large.');
    case 'entity.parse.failed':
      return new HttpError(400, 'The request body could not be read.');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'The request uses an unsupported encoding; send UTF-8.');
    default:
      return new HttpError(status, TITLES[status] ?? 'The request could not be handled.');
  }
}

export function sendError(req: Request, res: Response, error: HttpError, reference?: string): void {
  res.status(error.status);
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  const title = TITLES[error.status] ?? 'Error';
  if (req.path.startsWith('/api/') || !req.accepts('html')) {
    res.json({ ok: false, error: error.publicMessage, ...(reference ? { reference } : {}) });
    return;
  }
  renderPage(req, res, 'error', { title, status: error.status, message: error.publicMessage, reference });
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const known = clientError(err);
    if (known) {
      sendError(req, res, known);
      return;
    }
    const reference = randomBytes(4).toString('hex');
    logger.error({ err, reference, method: req.method, path: req.path }, 'request failed');
    try {
      sendError(req, res, new HttpError(500, 'Something went wrong on our side. Quote the reference below if you contact Support.'), reference);
    } catch (renderErr) {
      logger.error({ err: renderErr, reference }, 'error page failed to render');
      res.status(500).type('text/plain').send(`Internal error. Reference: ${reference}\n`);
    }
  };
}
