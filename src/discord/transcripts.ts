// Transcripts: when a ticket closes, its whole conversation (internal notes included, marked) goes
// to the log channel as a text file before the ticket channel is deleted, so staff keep a record in
// Discord of what the deleted channel held. Without a log channel, nothing is posted; the
// conversation stays in SQLite either way.
import { AttachmentBuilder, type Guild } from 'discord.js';
import type { Db } from '../db/index.js';
import { ticketMessages } from '../db/messages.js';
import { ticketById } from '../db/tickets.js';
import { logChannel, sendToChannel, ticketConsoleUrl } from './channels.js';
import type { BridgeContext } from './context.js';
import { discordName, quoteForDiscord } from './format.js';

/** The ticket as plain text: a header, then one line per message with its time and author. */
export function transcript(db: Db, ticketId: number): string {
  const ticket = ticketById(db, ticketId)!;
  const lines = [`Ticket #${ticket.id}: ${ticket.subject}`, `Player: ${ticket.gameCharName} (account ${ticket.gameAccountId}, char ${ticket.gameCharId})`, ''];
  for (const m of ticketMessages(db, ticketId, true)) {
    const who = m.authorKind === 'system' ? '*' : `${m.authorName}${m.authorKind === 'staff' ? ' (Support)' : ''}${m.internal ? ' [note]' : ''}`;
    lines.push(`[${new Date(m.createdAt).toISOString()}] ${who}: ${m.body}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Posts the closed ticket's transcript to the log channel, if DISCORD_LOG_CHANNEL_ID names one. */
export async function postTranscript(ctx: BridgeContext, g: Guild, ticketId: number, reason: string): Promise<void> {
  const logChannelId = ctx.config.discord.logChannelId;
  if (!logChannelId) return;
  const log = await logChannel(ctx, g, logChannelId);
  if (!log) return;
  await sendToChannel(log, `Ticket #${ticketId} closed (${reason}). Transcript attached. Console: ${ticketConsoleUrl(ctx.config.appUrl, ticketId)}`, [
    new AttachmentBuilder(Buffer.from(transcript(ctx.db, ticketId), 'utf8'), { name: `ticket-${ticketId}.txt` }),
  ]);
}

/** The comment's length in the log channel's line, so the line stays within one Discord message. */
const RATING_COMMENT_SHOWN = 1500;

/**
 * The log channel's line for a rating (src/tickets/ratings.ts): it arrives after the close and its
 * transcript, so it follows them as a short message of its own. The player's comment is quoted
 * and escaped like any player text.
 */
export function ratingLine(ticketId: number, rating: { rating: number; comment: string | null; by: string }, appUrl: string): string {
  const head = `Ticket #${ticketId} rated ${rating.rating}/5 by **${discordName(rating.by)}**. Console: ${ticketConsoleUrl(appUrl, ticketId)}`;
  if (rating.comment === null) return head;
  const comment = rating.comment.length > RATING_COMMENT_SHOWN ? `${rating.comment.slice(0, RATING_COMMENT_SHOWN)}…` : rating.comment;
  return `${head}\n${quoteForDiscord(comment)}`;
}

/** Posts a rating to the log channel, if DISCORD_LOG_CHANNEL_ID names one (else nothing: it stays in SQLite). */
export async function postRating(ctx: BridgeContext, g: Guild, ticketId: number, rating: { rating: number; comment: string | null; by: string }): Promise<void> {
  const logChannelId = ctx.config.discord.logChannelId;
  if (!logChannelId) return;
  const log = await logChannel(ctx, g, logChannelId);
  if (!log) return;
  await sendToChannel(log, ratingLine(ticketId, rating, ctx.config.appUrl));
}
