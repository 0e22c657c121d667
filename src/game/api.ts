// The HTTP API the game server calls (README.md "The game-server API"):
//   POST /api/game/actions          ticket / logout, as JSON or the bracket text form
//   GET  /api/game/whispers         long poll for Support's answers
//   POST /api/game/whispers/ack     confirm delivery
// Bearer token on every call, compared in constant time; no token configured = 503.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import { runTogether, type Db, type Outcome } from '../db/index.js';
import { cleanText } from '../tickets/model.js';
import {
  ackWhispers,
  leaseWhispers,
  nextWhisperVisibleAt,
  storedGameResponse,
  storeGameResponse,
  type GameActionIdentity,
  type LeasedWhisper,
  type StoredGameResponse,
} from '../db/outboxes.js';
import type { Logger } from '../log.js';
import { negotiateLocale } from '../i18n/index.js';
import { storedWhisperTemplates } from '../settings.js';
import type { Signal } from '../signal.js';
import { gameAction, localWhisperTemplates, type Whisper } from '../tickets/game.js';
import { encodeGameText, splitWhisper } from '../tickets/whispers.js';
import { notifyChannelsOf } from '../tickets/notifications.js';
import { BracketFormError, parseBracketForm } from './bracket.js';

export interface GameApiOptions {
  db: Db;
  config: Config;
  logger: Logger;
  /** True while the Discord bridge is configured and its gateway shard is Ready. */
  bridgeConnected: () => boolean;
  /** The guild has room for one more ticket channel (Discord allows 500 channels). */
  bridgeHasRoom?: () => boolean;
  /** Notified whenever whispers are queued. */
  whispers: Signal;
  /** Notified whenever Discord work is queued. */
  discordWork: Signal;
  /** Aborted when the server stops: waiting long polls answer at once. */
  shutdown?: AbortSignal;
  /** Long polls allowed to wait at once (default MAX_WAITING_POLLS); more answer 503. */
  maxWaitingPolls?: number;
}

const MAX_WAIT_S = 60;
const MAX_LIMIT = 500;
/** Long polls that may wait at once (GameApiOptions.maxWaitingPolls overrides it). */
export const MAX_WAITING_POLLS = 16;
/** Retry-After of the 503 for one poll too many: a place frees up within a wait. */
const POLL_RETRY_AFTER_S = 5;

class GameApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/** A request_id already stored for another action or character: refused, never answered with theirs. */
class RequestIdTaken extends GameApiError {
  constructor(
    readonly identity: GameActionIdentity,
    readonly owner: GameActionIdentity,
  ) {
    super(409, 'request_id was already used by another action or character; send a new request_id for each action');
  }
}

const id = z.union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)]).pipe(z.number().int('must be a whole number').positive('must be positive').max(2 ** 31 - 1, 'is too large'));
// Control characters are dropped, as from the web forms (they would reach Discord and logs). A
// name is one line: it names the Discord channel and heads whispers and web pages, so every run of
// whitespace (line breaks, tabs, Unicode spaces, NEL) becomes one space.
const name = z
  .string()
  .transform((text) => cleanText(text).replace(/[\s\u0085]+/gu, ' '))
  .pipe(z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'));
const requestId = z.string().min(1).max(200, 'must be at most 200 characters').optional();
// The player's language (issue #16): a tag such as "es", "pt-BR", "pt_BR", "ru-RU" or "pt" becomes
// a supported one; anything else (unknown, malformed, not a string) is ignored, never refused, so a
// game server sending a language we have no catalogue for loses nothing of the player's message.
const lang = z
  .unknown()
  .optional()
  .transform((value) => negotiateLocale(value));

const ticketAction = z
  .object({
    action: z.literal('ticket'),
    via: z.enum(['request', 'pm'], { error: 'must be "request" or "pm"' }),
    account_id: id,
    char_id: id,
    name,
    message: z
      .string()
      .transform(cleanText)
      .pipe(z.string().max(4000, 'must be at most 4000 characters'))
      .refine((text) => text.trim() !== '', 'must not be empty'),
    request_id: requestId,
    lang,
  })
  .strict();
const logoutAction = z.object({ action: z.literal('logout'), account_id: id, char_id: id, name, request_id: requestId, lang }).strict();
const actionSchema = z.discriminatedUnion('action', [ticketAction, logoutAction], { error: 'action must be "ticket" or "logout"' });
type GameAction = z.output<typeof actionSchema>;

const ackSchema = z.object({ ids: z.array(z.number().int().positive()).min(1, 'must list at least one id').max(1000, 'must list at most 1000 ids') }).strict();

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      const path = issue.path.join('.');
      return path ? `${path} ${issue.message.replace(/^Invalid input: /, '')}` : issue.message;
    })
    .join('; ');
}

function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Constant-time bearer check (digests of equal length, so length does not leak either). */
function authenticate(expected: string | undefined) {
  const expectedDigest = expected === undefined ? undefined : tokenDigest(expected);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!expectedDigest) return next(new GameApiError(503, 'game API not configured: set GAME_API_TOKEN'));
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match || !timingSafeEqual(tokenDigest(match[1]!), expectedDigest)) return next(new GameApiError(401, 'missing or wrong bearer token'));
    next();
  };
}

function parseAction(req: Request): GameAction {
  let body: unknown = req.body;
  if (typeof body === 'string') {
    if (req.is('application/json')) {
      try {
        body = JSON.parse(body);
      } catch {
        throw new GameApiError(400, 'body is not valid JSON');
      }
    } else {
      try {
        body = parseBracketForm(body);
      } catch (err) {
        if (err instanceof BracketFormError) throw new GameApiError(400, `bracket form: ${err.message}`);
        throw err;
      }
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new GameApiError(400, 'body must be a JSON object or the [key: value] text form');
  const parsed = actionSchema.safeParse(body);
  if (!parsed.success) throw new GameApiError(400, describe(parsed.error));
  return parsed.data;
}

function parsePollQuery(req: Request): { wait: number; limit: number } {
  const waitText = typeof req.query.wait === 'string' ? req.query.wait : '0';
  const limitText = typeof req.query.limit === 'string' ? req.query.limit : '50';
  if (!/^\d{1,3}(\.\d+)?$/.test(waitText) || Number(waitText) > MAX_WAIT_S) throw new GameApiError(400, `wait must be a number of seconds from 0 to ${MAX_WAIT_S}`);
  if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) throw new GameApiError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return { wait: Number(waitText), limit: Number(limitText) };
}

/** A whisper as the game server gets it: `text` (what the code page can show) and `encoded`, exactly the bytes to send. */
function polledWhisper(w: LeasedWhisper, encoding: string) {
  return { id: w.id, account_id: w.accountId, char_id: w.charId, name: w.charName, from: w.sender, text: w.text, encoded: encodeGameText(w.text, encoding).toString('base64') };
}

/** The whispers of an action's answer, fit to the code page and split to GAME_WHISPER_MAX bytes like Support's. */
function answerWhispers(whispers: Whisper[], config: Config): (Whisper & { encoded: string })[] {
  const { whisperMax, textEncoding } = config.game;
  return whispers.flatMap((w) => splitWhisper(w.text, whisperMax, textEncoding).map((text) => ({ to: w.to, text, encoded: encodeGameText(text, textEncoding).toString('base64') })));
}

/**
 * Wakes one poll in line when the earliest handed-out whisper becomes visible again. `arm` looks
 * the time up only while no timer is set: leases all last the same, so a set timer is never
 * later than a new one would be; one that fires for an acked whisper wakes a poll that re-arms.
 */
function comeBackTimer(db: Db, whispers: Signal, shutdown: AbortSignal | undefined) {
  let timer: NodeJS.Timeout | undefined;
  shutdown?.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return {
    arm(now: number): void {
      if (timer !== undefined || shutdown?.aborted) return;
      const at = nextWhisperVisibleAt(db);
      if (at === undefined || at <= now) return;
      timer = setTimeout(() => {
        timer = undefined;
        whispers.notifyOne();
      }, at - now);
      // A timer for polls, not a reason to keep the process alive.
      timer.unref();
    },
  };
}

interface ActionResponse {
  ok: true;
  ticket_id: number | null;
  whispers: Whisper[];
  closed?: boolean;
}

/** The game API's router, and how many long polls wait in it now (GET /metrics). */
export type GameApi = Router & { waitingPolls(): number };

export function createGameApi(options: GameApiOptions): GameApi {
  const { db, config, logger } = options;
  const router = express.Router();
  const withoutDiscord = config.game.ticketsWithoutDiscord && config.discord.guildId === undefined;
  router.use(authenticate(config.game.apiToken));
  // Both body forms arrive as text and are parsed here, so a malformed body is our clear 400. JSON
  // is UTF-8; the bracket form is read in its Content-Type's charset, else in GAME_TEXT_ENCODING
  // (the game server's code page).
  router.use(express.text({ type: 'application/json', limit: '64kb', defaultCharset: 'utf-8' }));
  router.use(express.text({ type: ['text/plain', 'application/x-www-form-urlencoded'], limit: '64kb', defaultCharset: config.game.textEncoding }));

  router.post('/actions', async (req, res) => {
    const action = parseAction(req);
    const body = await commitWithOthers(action);
    res.type('json').send(body);
  });

  // Group commit. Actions that arrive together (one turn of the event loop) are written in one
  // transaction, each as if alone, so one that fails changes nothing of the others (runTogether in
  // src/db/index.ts); each caller is answered once that transaction has committed. A burst from a busy game server costs
  // one commit, not one per action (issue #7: relays per second). Each change and its stored
  // request_id answer commit together, so a crash in between cannot store a message twice.
  let waiting: { action: GameAction; done: (error: unknown, body?: string) => void }[] = [];
  function commitWaiting(): void {
    const batch = waiting;
    waiting = [];
    let outcomes: Outcome<string>[];
    try {
      outcomes = runTogether(
        db,
        batch.map((item) => () => answerAction(item.action)),
      );
    } catch (error) {
      for (const item of batch) item.done(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) return item.done(undefined, outcome.value);
      // Logged here, once: the group may have run the action twice (runTogether).
      if (outcome.error instanceof RequestIdTaken) logger.warn({ identity: outcome.error.identity, owner: outcome.error.owner }, 'game action refused: request_id already used by another action');
      item.done(outcome.error);
    });
  }
  function commitWithOthers(action: GameAction): Promise<string> {
    return new Promise((resolve, reject) => {
      waiting.push({ action, done: (error, body) => (error === undefined ? resolve(body!) : reject(error)) });
      if (waiting.length === 1) setImmediate(commitWaiting);
    });
  }

  function answerAction(action: GameAction): string {
    const identity = { accountId: action.account_id, charId: action.char_id, action: action.action };
    if (action.request_id !== undefined) {
      const stored = storedGameResponse(db, action.request_id);
      if (stored !== undefined) return replay(stored, identity);
    }
    const player = { accountId: action.account_id, charId: action.char_id, name: action.name, ...(action.lang !== undefined ? { lang: action.lang } : {}) };
    const stored = storedWhisperTemplates(db);
    const discord = config.discord.guildId !== undefined;
    const answer = gameAction(db, action.action === 'logout' ? { action: 'logout', ...player } : { action: 'ticket', ...player, via: action.via, message: action.message }, {
      enabled: config.game.ticketSupportEnabled,
      // GAME_TICKETS_WITHOUT_DISCORD with no Discord configured: tickets are answered from the console.
      bridgeConnected: withoutDiscord ? () => true : options.bridgeConnected,
      bridgeHasRoom: withoutDiscord ? () => true : (options.bridgeHasRoom ?? (() => true)),
      discord,
      guildId: config.discord.guildId ?? null,
      closeOnLogoutDefault: config.game.closeOnLogoutDefault,
      templates: (locale) => localWhisperTemplates(stored, locale, { encoding: config.game.textEncoding, discord }),
      notify: notifyChannelsOf(config),
    });
    const response: ActionResponse = { ok: true, ticket_id: answer.ticketId, whispers: answerWhispers(answer.whispers, config), ...(answer.closed !== undefined ? { closed: answer.closed } : {}) };
    const body = JSON.stringify(response);
    if (action.request_id !== undefined) storeGameResponse(db, action.request_id, identity, body, Date.now());
    return body;
  }

  /**
   * A request_id seen before. The same action of the same character is a retry: its stored answer
   * again. Anything else reusing the id is refused, not answered with another character's answer
   * (its action would be dropped silently). Thrown inside the action's savepoint, so the other
   * actions of its group commit are untouched. Rows from before migration 006 have no identity.
   */
  function replay(stored: StoredGameResponse, identity: GameActionIdentity): string {
    const owner = stored.identity;
    if (owner === null || (owner.accountId === identity.accountId && owner.charId === identity.charId && owner.action === identity.action)) return stored.response;
    throw new RequestIdTaken(identity, owner);
  }

  // Long polls. At most `maxWaitingPolls` wait at once (each holds a connection and a timer); one
  // more answers 503. Waiting polls stand in line on the whispers signal: a wake-up reaches one
  // poll, which passes it on when it took a full batch (there may be more), so N waiting polls do
  // not run N queries per queued whisper. One timer for the whole API, not one per poll, wakes a
  // poll when a handed-out whisper becomes visible again.
  const maxWaitingPolls = options.maxWaitingPolls ?? MAX_WAITING_POLLS;
  let waitingPolls = 0;
  const comeBack = comeBackTimer(db, options.whispers, options.shutdown);

  router.get('/whispers', async (req, res) => {
    const { wait, limit } = parsePollQuery(req);
    const visibilityMs = config.game.whisperVisibilitySeconds * 1000;
    const deadline = Date.now() + wait * 1000;
    const gone = new AbortController();
    const onShutdown = () => gone.abort();
    options.shutdown?.addEventListener('abort', onShutdown, { once: true });
    // Every poll ends in 'close': drop the shutdown listener then, or each poll leaks one for good.
    res.on('close', () => {
      options.shutdown?.removeEventListener('abort', onShutdown);
      gone.abort();
    });
    let inLine = false;
    let woken = false;
    try {
      for (;;) {
        // A caller that went away gets nothing leased in its name; a wake-up it took goes on.
        if (res.destroyed) {
          if (woken) options.whispers.notifyOne();
          return;
        }
        const now = Date.now();
        const whispers = leaseWhispers(db, limit, visibilityMs, now);
        if (whispers.length === limit) options.whispers.notifyOne();
        if (whispers.length > 0 || now >= deadline || gone.signal.aborted) {
          // The polls left in line must still hear when these come back unacked.
          if (whispers.length > 0 && waitingPolls > (inLine ? 1 : 0)) comeBack.arm(now);
          res.json({ whispers: whispers.map((w) => polledWhisper(w, config.game.textEncoding)) });
          return;
        }
        if (!inLine) {
          if (waitingPolls >= maxWaitingPolls) throw new GameApiError(503, `too many long polls waiting (${maxWaitingPolls}); retry later`, POLL_RETRY_AFTER_S);
          waitingPolls += 1;
          inLine = true;
        }
        comeBack.arm(now);
        woken = await options.whispers.waitInLine(deadline - now, gone.signal);
      }
    } finally {
      if (inLine) waitingPolls -= 1;
    }
  });

  router.post('/whispers/ack', (req, res) => {
    let body: unknown = req.body;
    try {
      body = typeof body === 'string' ? JSON.parse(body) : body;
    } catch {
      throw new GameApiError(400, 'body is not valid JSON');
    }
    const parsed = ackSchema.safeParse(body);
    if (!parsed.success) throw new GameApiError(400, describe(parsed.error));
    const acked = ackWhispers(db, parsed.data.ids, Date.now());
    // An ack can free the next whisper to the same character (they go out in order): a waiting
    // poll hears of it now, not at the end of its wait.
    if (acked > 0) options.whispers.notifyOne();
    res.json({ ok: true, acked });
  });

  router.use((_req, _res, next) => next(new GameApiError(404, 'no such game API endpoint')));
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof GameApiError) {
      if (err.retryAfterS !== undefined) res.set('Retry-After', String(err.retryAfterS));
      res.status(err.status).json({ ok: false, error: err.message });
      return;
    }
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ ok: false, error: status === 413 ? 'body is too large' : 'the request could not be read' });
      return;
    }
    logger.error({ err }, 'game API request failed');
    next(err);
  });
  return Object.assign(router, { waitingPolls: () => waitingPolls });
}
