// How much one player may post (issue #12: one account stored 200 MiB of attachments in 3.4 s).
// Limits are admin settings with defaults; staff and admins are not limited. Usage is counted
// from the audit log, which records every ticket and reply with its files and bytes, so the
// counts survive restarts and need no table of their own.
import { z } from 'zod';
import { actorActivitySince } from '../db/audit.js';
import type { Db } from '../db/index.js';
import { saveSetting, setting } from '../db/settings.js';
import type { User } from '../db/users.js';
import { message, REFERENCE_LOCALE, translator, type Message } from '../i18n/index.js';

export interface Limits {
  ticketsPerMinute: number;
  repliesPerMinute: number;
  uploadsPerHour: number;
  uploadBytesPerDay: number;
}

/** 0 means "no limit". */
export const DEFAULT_LIMITS: Limits = { ticketsPerMinute: 3, repliesPerMinute: 10, uploadsPerHour: 20, uploadBytesPerDay: 100 * 1024 * 1024 };

const limitsSchema = z.object({
  ticketsPerMinute: z.number().int().min(0),
  repliesPerMinute: z.number().int().min(0),
  uploadsPerHour: z.number().int().min(0),
  uploadBytesPerDay: z.number().int().min(0),
});

export function limits(db: Db): Limits {
  return { ...DEFAULT_LIMITS, ...setting(db, 'limits', limitsSchema.partial()) };
}

export function saveLimits(db: Db, value: Limits): void {
  saveSetting(db, 'limits', limitsSchema.parse(value));
}

export type QuotaKind = 'ticket' | 'reply';

export class QuotaError extends Error {
  constructor(
    /** What the player reads, in their language; a numeric `size` param is a number of bytes (see `sized`). */
    readonly userMessage: Message,
    readonly retryAfterSeconds: number,
  ) {
    super(translator(REFERENCE_LOCALE).text(sized(userMessage, translator(REFERENCE_LOCALE).bytes)));
    this.name = 'QuotaError';
  }
}

/** The message with its `size` (bytes) in words: "10 MiB" in the reader's language. */
export function sized(m: Message, bytes: (n: number) => string): Message {
  const size = m.params?.size;
  return typeof size === 'number' ? message(m.key, { ...m.params, size: bytes(size) }) : m;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Throws QuotaError when `user` may not post one more `kind` carrying `incoming` files now. Called
 * before a body is read (incoming zero: is there room at all?) and again, with the files, right
 * before the rows are written, in the same synchronous step as the write.
 */
export function enforceQuota(db: Db, user: Pick<User, 'id' | 'role'>, kind: QuotaKind, incoming: { files: number; bytes: number }, now = Date.now()): void {
  if (user.role !== 'user') return;
  const limit = limits(db);
  const perMinute = kind === 'ticket' ? limit.ticketsPerMinute : limit.repliesPerMinute;
  if (perMinute > 0 && actorActivitySince(db, user.id, [kind === 'ticket' ? 'ticket.create' : 'ticket.reply'], now - MINUTE).count >= perMinute) {
    throw new QuotaError(message(kind === 'ticket' ? 'quota.tickets' : 'quota.replies', { count: perMinute }), 60);
  }
  if (incoming.files === 0) return;
  const posted = ['ticket.create', 'ticket.reply'];
  if (limit.uploadsPerHour > 0 && actorActivitySince(db, user.id, posted, now - HOUR).files + incoming.files > limit.uploadsPerHour) {
    throw new QuotaError(message('quota.filesPerHour', { count: limit.uploadsPerHour }), 3600);
  }
  if (limit.uploadBytesPerDay > 0 && actorActivitySince(db, user.id, posted, now - DAY).bytes + incoming.bytes > limit.uploadBytesPerDay) {
    throw new QuotaError(message('quota.bytesPerDay', { size: limit.uploadBytesPerDay }), 3600);
  }
}
