// What the ticket domain asks of Discord, queued in discord_outbox in the same transaction as the
// change that causes it and carried out by the Discord worker (src/discord/). One typed union for
// both ends; rows are checked with zod when read back, so a bad row is set aside, never a crash.
import { z } from 'zod';
import { enqueueDiscordWork, type DiscordWork as DiscordWorkRow } from '../db/outboxes.js';
import type { Db } from '../db/index.js';
import type { Ticket } from '../db/tickets.js';

/** A message for a ticket's channel: who wrote it and what; the worker formats it for Discord. */
const postSchema = z.object({
  from: z.enum(['player', 'staff']),
  name: z.string(),
  text: z.string(),
  /** Where it was written: a player in game or on the web, Support on the web. */
  via: z.enum(['game', 'web']),
  /** A web message's files: posted as staff-only links to the dashboard, never the file itself. */
  attachments: z.array(z.object({ id: z.number(), name: z.string() })).optional(),
});
export type ChannelPost = z.infer<typeof postSchema>;

const workSchemas = {
  // A web ticket's channel (DISCORD_WEB_TICKETS) names the dashboard user; a game ticket's the character.
  create_channel: z.union([
    z.object({ source: z.literal('web'), name: z.string(), userId: z.number() }),
    z.object({ name: z.string(), accountId: z.number(), charId: z.number() }),
  ]),
  // Rows written before posts were structured carry ready-made `content`.
  post_message: z.union([z.object({ post: postSchema, messageId: z.number().optional() }), z.object({ content: z.string(), messageId: z.number().optional() })]),
  close_channel: z.object({ reason: z.string() }),
  // The owner rated the closed ticket (src/tickets/ratings.ts): a line for the log channel.
  rating_posted: z.object({ rating: z.number().int().min(1).max(5), comment: z.string().nullable(), by: z.string() }),
} as const;

export type DiscordWorkKind = keyof typeof workSchemas;
export type DiscordWorkPayload<K extends DiscordWorkKind> = z.infer<(typeof workSchemas)[K]>;
export type DiscordWork = { [K in DiscordWorkKind]: { kind: K; payload: DiscordWorkPayload<K> } }[DiscordWorkKind];

/**
 * Whether the ticket has (or is getting) a Discord channel: a game ticket opened while Discord was
 * configured, or a web ticket opened while DISCORD_WEB_TICKETS was on. Either way its
 * discord_guild_id is set (src/db/tickets.ts).
 */
export function bridged(ticket: Pick<Ticket, 'source' | 'discordGuildId'>): boolean {
  return (ticket.source === 'game' || ticket.source === 'web') && ticket.discordGuildId !== null;
}

/** Queues `work` for the ticket's channel; the worker wakes after the commit. */
export function queueDiscordWork(db: Db, ticketId: number, work: DiscordWork, now: number): number {
  return enqueueDiscordWork(db, ticketId, work.kind, work.payload, now);
}

/** A stored row as typed work, or the reason it cannot be (unknown kind, payload that does not fit). */
export function readDiscordWork(row: Pick<DiscordWorkRow, 'kind' | 'payload'>): { ok: true; work: DiscordWork } | { ok: false; reason: string } {
  if (!Object.hasOwn(workSchemas, row.kind)) return { ok: false, reason: `unknown work kind ${JSON.stringify(row.kind)}` };
  const kind = row.kind as DiscordWorkKind;
  let json: unknown;
  try {
    json = JSON.parse(row.payload);
  } catch {
    return { ok: false, reason: `${kind} payload is not JSON` };
  }
  const parsed = workSchemas[kind].safeParse(json);
  if (!parsed.success) return { ok: false, reason: `${kind} payload does not fit: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, work: { kind, payload: parsed.data } as DiscordWork };
}
