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
