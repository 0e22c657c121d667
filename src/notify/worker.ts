// Delivers the notification outbox: one loop per channel (a stalled mail server never holds up
// Telegram), retries with exponential backoff, gives up after MAX_ATTEMPTS and leaves the error
// for the admin page. Web requests only ever insert rows, so they never wait for SMTP or Telegram.
import type { z } from 'zod';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { DeliveryRecord } from '../integrations.js';
import {
  markNotificationFailed,
  markNotificationRetry,
  markNotificationSent,
  nextNotification,
  nextNotificationDueAt,
  type NotificationChannel,
  type PendingNotification,
} from '../db/notifications.js';
import { notificationProfile, userById } from '../db/users.js';
import { translator } from '../i18n/index.js';
import type { Logger } from '../log.js';
import { createRedactor, errorText } from '../redact.js';
import { notificationSwitches } from '../settings.js';
import type { Signal } from '../signal.js';
import { ticketNotificationPayloadSchema, verificationPayloadSchema } from '../tickets/notifications.js';
import { recipientLocale, renderTicketEmail, renderTicketTelegram, renderVerificationEmail } from './templates.js';

// With backoffMs (5 s doubling, at most an hour apart) the 16th attempt comes 6 h 25 min after the
// first, so rows hold through an outage of about six and a half hours; after that they show as
// failed on the admin page. README.md states these numbers too.
export const MAX_ATTEMPTS = 16;

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  messageId: string;
}

export interface Senders {
  email?: (message: EmailMessage) => Promise<void>;
  telegram?: (chatId: string, html: string) => Promise<void>;
}

/** An error that retrying cannot fix (a refused address, a chat that blocked the bot). */
export class PermanentSendError extends Error {}

/**
 * A row whose payload is not what this version queues (hand-edited, written by a bug, or by an
 * older or newer version): retrying cannot fix it, so it is given up at once.
 */
export class BadPayloadError extends PermanentSendError {}

/** The row's payload checked against `schema`. The error never quotes the payload: it holds addresses and message text. */
function readPayload<T>(n: PendingNotification, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(n.payload);
  } catch {
    throw new BadPayloadError(`the stored payload of this ${n.event} notification is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'payload'}: ${issue.message}`).join('; ');
  throw new BadPayloadError(`the stored payload of this ${n.event} notification does not fit (${problems})`);
}

export function backoffMs(attempts: number, baseMs = 5_000): number {
  return Math.min(baseMs * 2 ** attempts, 60 * 60_000);
}

export interface NotificationWorker {
  start(): void;
  stop(): Promise<void>;
}

/**
 * The service answered, refusing this one message (an SMTP 4xx or 5xx reply, a Bot API 4xx such as
 * a blocked chat or 429): it is up. Only a failure to reach it (refused, timed out, 5xx of the Bot
 * API) makes the integration down. Such errors name the server, never a player's address.
 */
function answered(err: unknown): boolean {
  if (err instanceof PermanentSendError) return true;
  const smtp = (err as { responseCode?: unknown }).responseCode;
  const telegram = (err as { response?: { error_code?: unknown } }).response?.error_code;
  return (typeof smtp === 'number' && smtp >= 400) || (typeof telegram === 'number' && telegram >= 400 && telegram < 500);
}

/**
 * `senders` with each attempt written to its channel's record: /healthz and the admin page show an
 * unreachable SMTP server or Bot API as down, with the error, until a delivery works again.
 */
export function trackedSenders(senders: Senders, records: Partial<Record<NotificationChannel, DeliveryRecord>>, redact: (text: string) => string = (t) => t): Senders {
  const track = async (record: DeliveryRecord | undefined, attempt: () => Promise<void>): Promise<void> => {
    try {
      await attempt();
      record?.success();
    } catch (err) {
      record?.failure(errorText(err, redact), { refusedOne: answered(err) });
      throw err;
    }
  };
  const email = senders.email;
  const telegram = senders.telegram;
  return {
    ...(email ? { email: (message: EmailMessage) => track(records.email, () => email(message)) } : {}),
    ...(telegram ? { telegram: (chatId: string, html: string) => track(records.telegram, () => telegram(chatId, html)) } : {}),
  };
}

export function createNotificationWorker(options: {
  db: Db;
  config: Config;
  logger: Logger;
  signal: Signal;
  senders: Senders;
  retryBaseMs?: number;
  /** Where each channel's deliveries are recorded (src/integrations.ts). */
  deliveries?: Partial<Record<NotificationChannel, DeliveryRecord>>;
}): NotificationWorker {
  const { db, config, logger } = options;
  const stop = new AbortController();
  const loops: Promise<void>[] = [];
  const host = new URL(config.appUrl).hostname;
  // The error is stored for the admin page and logged: never with a secret in it (src/redact.ts).
  const redact = createRedactor(config);
  const senders = trackedSenders(options.senders, options.deliveries ?? {}, redact);

  async function deliver(n: PendingNotification): Promise<void> {
    const profile = notificationProfile(db, n.userId);
    if (!profile || profile.disabledAt !== null) throw new PermanentSendError('the account is gone or disabled');
    // The language is the account's as it is now, not as it was when the row was queued.
    const i18n = translator(recipientLocale(userById(db, n.userId), config.defaultLocale), config.timeZone);
    if (n.event === 'verify_email') {
      const { email, link } = readPayload(n, verificationPayloadSchema);
      if (!senders.email || !notificationSwitches(db).email) throw new PermanentSendError('email notifications are switched off');
      const rendered = renderVerificationEmail(profile.username, link, { i18n });
      await senders.email({ to: email, ...rendered, headers: {}, messageId: `<verify-${n.id}@${host}>` });
      return;
    }
    const payload = readPayload(n, ticketNotificationPayloadSchema);
    const switches = notificationSwitches(db);
    if (n.channel === 'email') {
      if (!senders.email || !switches.email) throw new PermanentSendError('email notifications are switched off');
      if (!profile.email || profile.emailVerifiedAt === null || profile.notifyEmail !== 1) throw new PermanentSendError('the player no longer wants email');
      const rendered = renderTicketEmail(payload, profile.username, config.appUrl, { i18n, at: n.createdAt });
      // All mails of one ticket form one thread in the player's mail program.
      const thread = `<ticket-${payload.ticketId}@${host}>`;
      await senders.email({ to: profile.email, ...rendered, headers: { 'In-Reply-To': thread, References: thread }, messageId: `<ticket-${payload.ticketId}.n${n.id}@${host}>` });
    } else {
      if (!senders.telegram || !switches.telegram) throw new PermanentSendError('Telegram notifications are switched off');
      if (!profile.telegramChatId || profile.notifyTelegram !== 1) throw new PermanentSendError('the player no longer wants Telegram');
      await senders.telegram(profile.telegramChatId, renderTicketTelegram(payload, config.appUrl, { i18n, at: n.createdAt }));
    }
  }

  async function loop(channel: NotificationChannel): Promise<void> {
    while (!stop.signal.aborted) {
      const now = Date.now();
      const n = nextNotification(db, now, channel);
      if (!n) {
        const due = nextNotificationDueAt(db, channel);
        await options.signal.wait(due !== undefined && due > now ? Math.min(due - now, 60_000) : 60_000, stop.signal);
        continue;
      }
      try {
        await deliver(n);
        markNotificationSent(db, n.id, Date.now());
      } catch (err) {
        const message = errorText(err, redact);
        if (err instanceof PermanentSendError || n.attempts + 1 >= MAX_ATTEMPTS) {
          markNotificationFailed(db, n.id, message);
          logger.warn({ notificationId: n.id, channel, attempts: n.attempts + 1, err: message }, 'notification given up');
        } else {
          markNotificationRetry(db, n.id, message, Date.now() + backoffMs(n.attempts, options.retryBaseMs));
          logger.info({ notificationId: n.id, channel, attempts: n.attempts + 1, err: message }, 'notification failed, will retry');
        }
      }
    }
  }

  return {
    start() {
      if (senders.email) loops.push(loop('email'));
      if (senders.telegram) loops.push(loop('telegram'));
    },
    async stop() {
      stop.abort();
      await Promise.all(loops);
    },
  };
}
