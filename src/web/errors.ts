// One error path for every page: 4xx errors say what is wrong, 5xx errors show a short reference
// id that is also in the log next to the stack, never the stack itself.
import { randomBytes } from 'node:crypto';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from '../log.js';
import { message, REFERENCE_LOCALE, translator, type Message, type MessageKey, type Translator } from '../i18n/index.js';
import { renderPage } from './render.js';

export class HttpError extends Error {
  /** Shown to the user in their language: say what is wrong and what to do. */
  readonly publicMessage: Message;
  constructor(
    readonly status: number,
    publicMessage: MessageKey | Message,
    readonly headers: Record<string, string> = {},
  ) {
    const m = typeof publicMessage === 'string' ? message(publicMessage) : publicMessage;
    super(translator(REFERENCE_LOCALE).text(m));
    this.publicMessage = m;
    this.name = 'HttpError';
  }
}

export const notFound = (what: MessageKey | Message = 'error.notFound') => new HttpError(404, what);

const TITLES: Record<number, MessageKey> = {
  400: 'error.title.400',
  401: 'error.title.401',
  403: 'error.title.403',
  404: 'error.title.404',
  405: 'error.title.405',
  409: 'error.title.409',
  413: 'error.title.413',
  415: 'error.title.415',
  422: 'error.title.422',
  429: 'error.title.429',
  500: 'error.title.500',
  503: 'error.title.503',
};

/** Body-parser and other library errors carry a status; map those to clear messages. */
function clientError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  const e = err as { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  switch (e.type) {
    case 'entity.too.large':
      return new HttpError(413, 'error.tooLarge');
    case 'entity.parse.failed':
      return new HttpError(400, 'error.unreadableBody');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'error.encoding');
    default:
      return new HttpError(status, TITLES[status] ?? 'error.unhandled');
  }
}

export function sendError(req: Request, res: Response, error: HttpError, reference?: string): void {
  res.status(error.status);
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  const i18n = (res.locals.i18n as Translator | undefined) ?? translator(REFERENCE_LOCALE);
  const title = i18n.t(TITLES[error.status] ?? 'error.title.other');
  const text = i18n.text(error.publicMessage);
  if (req.path.startsWith('/api/') || !req.accepts('html')) {
    res.json({ ok: false, error: text, ...(reference ? { reference } : {}) });
    return;
  }
  renderPage(req, res, 'error', { title, status: error.status, message: text, reference });
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
      sendError(req, res, new HttpError(500, 'error.internal'), reference);
    } catch (renderErr) {
      logger.error({ err: renderErr, reference }, 'error page failed to render');
      // The page of last resort, when even the error page failed (the catalogues may be what failed).
      res.status(500).type('text/plain').send(`Internal error. Reference: ${reference}\n`); // i18n: not translated
    }
  };
}
