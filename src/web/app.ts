// The Express app, built by explicit wiring: createApp({ db, config, logger, ... }) so tests run
// the real app on a temporary SQLite file.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { parse as parseCookie } from 'cookie';
import express, { type Request } from 'express';
import { rateLimit } from 'express-rate-limit';
import session from 'express-session';
import helmet from 'helmet';
import { RefusalAudit } from '../audit.js';
import type { Config } from '../config.js';
import type { DeliveryRecord, IntegrationState } from '../integrations.js';
import type { Db } from '../db/index.js';
import { Metrics } from '../metrics.js';
import { isDatabaseHealthy } from '../db/index.js';
import { userById, type User } from '../db/users.js';
import { ReadCache } from '../db/readCache.js';
import type { Logger } from '../log.js';
import { PUBLIC_DIR, VIEWS_DIR } from '../paths.js';
import { csrfToken } from './csrf.js';
import { SESSION_COOKIE, SIDEBAR_COOKIE, type AppDeps, type BackupControl } from './deps.js';
import { FailureLimiter } from './limits.js';
import { createDispatcher } from './dispatch.js';
import { DEFAULT_VIEW, VIEWS } from './routes.js';
import { errorHandler, HttpError, notFound, sendError } from './errors.js';
import { SqliteSessionStore } from './sessionStore.js';
import { createGameApi, type GameApiOptions } from '../game/api.js';
import { outboxSignals, useOutboxSignals, type OutboxSignals } from '../db/outboxes.js';
import { logBadSettings } from '../settings.js';
import { renderText } from './text.js';
import { localeLocals, useLocale } from './locale.js';
import { translator } from '../i18n/index.js';
import { createUploadMiddleware } from './uploads/middleware.js';
import { supportQueueCount, waitingUserTicketCount } from '../db/tickets.js';
import { isStaff } from '../tickets/service.js';

const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * A session lives SESSION_LIFETIME_MS after its last renewal, and a request renews it (one write,
 * one Set-Cookie) once the last renewal is older than this: a session ends 7 days after the last
 * request, up to an hour sooner, instead of costing a write on every page.
 */
const SESSION_RENEW_AFTER_MS = 60 * 60 * 1000;

export type { IntegrationState } from '../integrations.js';
export type { AppDeps } from './deps.js';
export { SESSION_COOKIE, SIDEBAR_COOKIE } from './deps.js';

export interface AppOptions {
  db: Db;
  config: Config;
  logger: Logger;
  sessionSecret: string;
  /** Current state of Discord, Telegram, email and the game API, for /healthz. */
  integrations?: () => Record<string, IntegrationState>;
  /** Checks Discord's setup again now (the admin page's button); the states above show the result. */
  recheckIntegrations?: () => Promise<void>;
  /** Sends a test email or Telegram message now (the admin page's button); its outcome shows in integrations() too. */
  sendTestNotification?: (channel: 'email' | 'telegram', to: string) => Promise<{ ok: true } | { ok: false; error: string }>;
  /** The backup schedule, for the admin page (its next run, "Back up now"); absent when backups are off. */
  backups?: BackupControl;
  /** Each integration's deliveries, for the failure counter of GET /metrics. */
  deliveries?: () => Partial<Record<string, DeliveryRecord>>;
  /** True while the Discord bridge's gateway is Ready (game tickets need it). */
  bridgeConnected?: () => boolean;
  /** The Discord guild can take one more ticket channel. */
  bridgeHasRoom?: () => boolean;
  telegramBotUsername?: () => string | undefined;
  /** Identical refusals within this window make one audit row (default a minute; tests that count rows use 0). */
  refusalWindowMs?: number;
  /** In-process wake-ups for long polls and the Discord worker. */
  signals?: OutboxSignals;
  /** Game API limits (tests lower them). */
  gameApi?: Pick<GameApiOptions, 'maxWaitingPolls'>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      user?: User;
    }
  }
}

/** A request cookie, read by the `cookie` package (a malformed value is kept as sent, never a 500). */
function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  // Most requests carry only the session cookie: no parse for a name that is not in the header.
  return header && header.includes(name) ? parseCookie(header)[name] : undefined;
}

/**
 * How long a client may take to send a request (issue #12: a slow body must not hold a request,
 * and what it may store, open for minutes). A long poll's wait is the answer, not the request,
 * so it is not cut by these.
 */
export const REQUEST_TIMEOUTS = { headersMs: 20_000, requestMs: 120_000, checkEveryMs: 2_000 };

/** The HTTP server for the app, with the request timeouts (tests pass shorter ones). */
export function createHttpServer(app: express.Express, timeouts = REQUEST_TIMEOUTS): http.Server {
  return http.createServer({ headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: timeouts.checkEveryMs }, app);
}

/**
 * /healthz answers anyone: each integration's state, what to do (detail), its setup problems and
 * room, but not the last error text and times (a refused message's error can name its recipient);
 * the admin page shows those.
 */
function publicStates(states: Record<string, IntegrationState>): Record<string, IntegrationState> {
  const out: Record<string, IntegrationState> = {};
  for (const [name, state] of Object.entries(states)) {
    const shown: IntegrationState = { ...state };
    delete shown.lastError;
    delete shown.lastErrorAt;
    delete shown.lastSuccessAt;
    out[name] = shown;
  }
  return out;
}

/** The bearer token of a request compared with `expected` in constant time (both hashed first: equal lengths). */
function bearerMatches(req: Request, expectedDigest: Buffer): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return match !== null && timingSafeEqual(createHash('sha256').update(match[1]!).digest(), expectedDigest);
}

/**
 * The security headers of every answer, as helmet makes them from this configuration, worked out
 * once at start: helmet run on a stand-in response records them, and each request then only sets
 * the recorded values (helmet would walk its dozen middlewares and rebuild nothing new every time).
 */
function securityHeaders(secureCookies: boolean): express.RequestHandler {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void headers.push([name, value]),
    removeHeader: () => undefined,
  };
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        ...(secureCookies ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: secureCookies,
    referrerPolicy: { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
  })({} as http.IncomingMessage, recorder as unknown as http.ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

export function createApp(options: AppOptions): { app: express.Express; close: () => void; beginShutdown: () => void; metrics: Metrics | undefined } {
  const { db, config, logger } = options;
  logBadSettings(db, logger);
  const app = express();
  const secureCookies = config.appUrl.startsWith('https://');

  app.set('views', VIEWS_DIR);
  app.set('view engine', 'ejs');
  app.set('view cache', process.env.NODE_ENV !== 'development');
  app.set('x-powered-by', false);
  // A reverse proxy on the same host may tell us the client's address and the scheme.
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');

  const sessionStore = new SqliteSessionStore(db);
  const shutdown = new AbortController();
  const deps: AppDeps = {
    db,
    config,
    logger,
    signals: options.signals ? useOutboxSignals(db, options.signals) : outboxSignals(db),
    limiters: {
      // Against password guessing: more than 10 failed sign-ins a minute from one address answer 429
      // (SECURITY.md "What is protected, and how").
      login: rateLimit({
        windowMs: 60_000,
        limit: 10,
        skipSuccessfulRequests: true,
        standardHeaders: 'draft-8',
        legacyHeaders: false,
        handler: (req, res) => {
          logger.warn({ ip: req.ip }, 'sign-in rate limit reached');
          sendError(req, res, new HttpError(429, 'login.error.tooMany'));
        },
      }),
      // Guesses of the current password on view=settings: as many a minute per account as sign-in allows per address.
      passwordGuesses: new FailureLimiter(10, 60_000),
      // Test messages from the admin page: 5 a minute per admin, so the button cannot be used to flood an address.
      adminTests: new FailureLimiter(5, 60_000),
    },
    integrations: options.integrations ?? (() => ({})),
    recheckIntegrations: options.recheckIntegrations ?? (async () => undefined),
    ...(options.sendTestNotification ? { sendTestNotification: options.sendTestNotification } : {}),
    ...(options.backups ? { backups: options.backups } : {}),
    telegramBotUsername: options.telegramBotUsername ?? (() => undefined),
    refusals: new RefusalAudit(db, options.refusalWindowMs),
    uploads: createUploadMiddleware({ dir: config.uploadsDir, maxBytes: config.uploads.maxBytes, maxFiles: config.uploads.maxFiles }),
  };
  Object.assign(app.locals, {
    renderText,
    timeZone: config.timeZone,
    // Until a request's language is known (src/web/locale.ts sets the page's own).
    ...localeLocals(translator(config.defaultLocale, config.timeZone)),
  });

  const gameApi = createGameApi({
    db,
    config,
    logger,
    bridgeConnected: options.bridgeConnected ?? (() => false),
    ...(options.bridgeHasRoom ? { bridgeHasRoom: options.bridgeHasRoom } : {}),
    whispers: deps.signals.whispers,
    discordWork: deps.signals.discordWork,
    shutdown: shutdown.signal,
    ...options.gameApi,
  });

  // GET /metrics only with METRICS_TOKEN set: then each request is one histogram observe.
  const metrics = config.metricsToken
    ? new Metrics({
        db,
        views: Object.keys(VIEWS),
        defaultView: DEFAULT_VIEW,
        ...(options.bridgeConnected ? { bridgeConnected: options.bridgeConnected } : {}),
        longPollsWaiting: () => gameApi.waitingPolls(),
        ...(options.deliveries ? { deliveries: options.deliveries } : {}),
      })
    : undefined;

  // A request line at debug and the metrics' histogram; at info without METRICS_TOKEN neither is
  // wanted, so a request then gets no clock reading and no finish listener at all.
  if (logger.isLevelEnabled('debug') || metrics) {
    app.use((req, res, next) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
        // The view as the dispatcher read it (res.locals.currentView), never req.query parsed again.
        metrics?.observe(metrics.viewOf(req.path, res.locals.currentView), res.statusCode, ms / 1000);
      });
      next();
    });
  }

  app.use(securityHeaders(secureCookies));

  // Express 5 parses the query string again on every read of req.query (a page reads it a dozen
  // times: the view, the language, each filter); parsed once here, the same values for all of them.
  app.use((req, _res, next) => {
    Object.defineProperty(req, 'query', { value: req.query, writable: true, configurable: true, enumerable: true });
    next();
  });

  app.get('/healthz', (_req, res) => {
    const database = isDatabaseHealthy(db);
    const integrations = publicStates(deps.integrations());
    res.status(database ? 200 : 503).json({
      status: database ? 'ok' : 'error',
      database: database ? 'ok' : 'error',
      // Discord's setup problems at the top too: the one list a monitor needs to watch.
      discord: { problems: integrations.discord?.problems ?? [] },
      integrations,
    });
  });

  if (metrics) {
    const expected = createHash('sha256').update(config.metricsToken!).digest();
    app.get('/metrics', (req, res, next) => {
      if (!bearerMatches(req, expected)) {
        res.status(401).set('WWW-Authenticate', 'Bearer').end();
        return;
      }
      metrics.text().then((text) => res.type(metrics.contentType).send(text), next);
    });
  }

  app.use('/api/game', gameApi);

  app.use('/static', express.static(PUBLIC_DIR, { index: false, fallthrough: false, maxAge: '1h' }));

  app.use(
    session({
      name: SESSION_COOKIE,
      secret: options.sessionSecret,
      store: sessionStore,
      resave: false,
      saveUninitialized: false,
      // Not on every answer: renewed below, when the lifetime has slid far enough to be worth a write.
      rolling: false,
      proxy: true,
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        // 'auto': Secure whenever the request came over TLS (directly or via a trusted proxy).
        secure: secureCookies ? true : 'auto',
        maxAge: SESSION_LIFETIME_MS,
        path: '/',
      },
    }),
  );

  // The sliding lifetime: an hour after its last renewal a session is marked as changed, so
  // express-session stores it with a fresh expiry and sends the cookie with the same one (cookie and
  // table always agree). A new session's expiry is fresh already.
  app.use((req, _res, next) => {
    const expires = req.session?.cookie.expires;
    if (expires && expires.getTime() < Date.now() + SESSION_LIFETIME_MS - SESSION_RENEW_AFTER_MS) req.session.renewedAt = Date.now();
    next();
  });

  app.use(express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 200 }));

  // The signed-in account of each request, read again only after something was written
  // (src/db/readCache.ts): disabling a user anywhere, even from the CLI, is seen on the next request.
  const accounts = new ReadCache<number, User>(db);
  // The layout's badges, counted again only after a write: the staff one counts every ticket
  // waiting for Support (a third of a millisecond at a million tickets, on every staff page).
  const badges = new ReadCache<string, number>(db);

  // Who is signed in, and what every page's layout needs.
  app.use((req, res, next) => {
    const userId = req.session?.userId;
    if (userId !== undefined) {
      const user = accounts.get(userId, () => userById(db, userId));
      if (user && user.disabledAt === null) {
        // A copy: a page may change its request's user, never the remembered row.
        res.locals.user = { ...user };
      } else {
        delete req.session.userId;
      }
    }
    useLocale(req, res, db, config, res.locals.user);
    res.locals.csrfToken = () => csrfToken(req);
    res.locals.sidebarCollapsed = cookieValue(req, SIDEBAR_COOKIE) === 'collapsed';
    // Seed 000 § Attention indicators: the signed-in user's tickets waiting for them.
    const user = res.locals.user;
    res.locals.waitingCount = user ? badges.get(`waiting:${user.id}`, () => waitingUserTicketCount(db, user.id)) : 0;
    // Staff see how many tickets wait for Support (open + answered).
    res.locals.supportCount = user && isStaff(user) ? badges.get('support', () => supportQueueCount(db)) : undefined;
    res.locals.currentView = typeof req.query.view === 'string' ? req.query.view : '';
    // The visitors' language menu links to this same page with another `lang`.
    res.locals.currentQuery = req.originalUrl.split('?')[1] ?? '';
    next();
  });

  app.get('/', (_req, res) => res.redirect(302, '/index.php?view=tickets'));
  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/static/favicon.svg'));
  app.all('/index.php', createDispatcher(deps));

  app.use((_req, _res, next) => next(notFound()));
  app.use(errorHandler(logger));

  return {
    app,
    close: () => {
      sessionStore.close();
      deps.refusals.stop();
    },
    // Stopping: long polls answer now instead of holding the shutdown for up to a minute.
    beginShutdown: () => shutdown.abort(),
    // The backups set their "last backup" here: metrics?.setLastBackup(() => result).
    metrics,
  };
}
