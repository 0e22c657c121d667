// Which changes tell the ticket's owner, and how (issue: notifications; seed 000 § Notifications:
// "Email/Telegram may be used if enabled by administrator."). Called inside the transaction of the
// change, so a message is queued exactly when the change is stored.
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { enqueueNotification, type NotificationChannel } from '../db/notifications.js';
import type { Ticket } from '../db/tickets.js';
import { notificationProfile } from '../db/users.js';
import { notificationSwitches } from '../settings.js';

/** Which channels this installation can send on at all (configured by environment). */
export interface NotifyChannels {
  email: boolean;
  telegram: boolean;
}

export type TicketEvent =
  | { kind: 'support_reply'; staffName: string; body: string; status: string }
  | { kind: 'status'; from: string; to: string; by: string }
  | { kind: 'closed'; by: string }
  /** Issue #18: the ticket waits on the player and closes at `closesAt` without their answer. */
  | { kind: 'stale_reminder'; days: number; closesAt: number };

export interface TicketNotificationPayload {
  ticketId: number;
  subject: string;
  event: TicketEvent;
}

/** The outbox keeps payloads as JSON text; the worker checks what it reads back against these. */
export const ticketNotificationPayloadSchema = z.object({
  ticketId: z.number().int().positive(),
  subject: z.string(),
  event: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('support_reply'), staffName: z.string(), body: z.string(), status: z.string() }),
    z.object({ kind: z.literal('status'), from: z.string(), to: z.string(), by: z.string() }),
    z.object({ kind: z.literal('closed'), by: z.string() }),
    z.object({ kind: z.literal('stale_reminder'), days: z.number().int().positive(), closesAt: z.number().int() }),
  ]),
}) satisfies z.ZodType<TicketNotificationPayload>;

export interface VerificationPayload {
  email: string;
  link: string;
}

export const verificationPayloadSchema = z.object({ email: z.string().min(1), link: z.string().min(1) }) satisfies z.ZodType<VerificationPayload>;

/**
 * Queues one message per enabled channel for the ticket's owner. `eventId` names the change
 * (a message id), so the same event can never be queued twice. The owner's own actions never
 * notify the owner: callers pass `actorId`.
 */
export function notifyTicketOwner(db: Db, ticket: Ticket, event: TicketEvent, eventId: number, actorId: number | null, channels: NotifyChannels, now: number): number {
  if (ticket.userId === null || ticket.userId === actorId) return 0;
  const owner = notificationProfile(db, ticket.userId);
  if (!owner || owner.disabledAt !== null) return 0;
  const switches = notificationSwitches(db);
  const wanted: NotificationChannel[] = [];
  if (channels.email && switches.email && owner.notifyEmail === 1 && owner.email && owner.emailVerifiedAt !== null) wanted.push('email');
  if (channels.telegram && switches.telegram && owner.notifyTelegram === 1 && owner.telegramChatId) wanted.push('telegram');
  let queued = 0;
  for (const channel of wanted) {
    const payload: TicketNotificationPayload = { ticketId: ticket.id, subject: ticket.subject, event };
    if (enqueueNotification(db, { userId: owner.id, ticketId: ticket.id, channel, event: event.kind, payload, dedupeKey: `${event.kind}:${eventId}:${channel}`, now })) queued += 1;
  }
  return queued;
}

export function notifyChannelsOf(config: { mail: { smtpUrl: string | undefined }; telegram: { botToken: string | undefined } }): NotifyChannels {
  return { email: config.mail.smtpUrl !== undefined, telegram: config.telegram.botToken !== undefined };
}
