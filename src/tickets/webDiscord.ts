// Web tickets in Discord (DISCORD_WEB_TICKETS): a staff member's message in a web ticket's channel
// is a Support reply on the web, as if written on the dashboard (src/tickets/service.ts
// replyAsStaff): stored, the ticket answered, the owner notified. No whispers: the player is on the
// web. Notes (prefix, thread, /ticket note) stay notes (src/tickets/game.ts addDiscordNote); a
// game ticket's channel goes to src/tickets/game.ts receiveDiscordStaffMessage instead.
import { recordAudit } from '../audit.js';
import { inTransaction, type Db } from '../db/index.js';
import { insertDiscordMessage } from '../db/messages.js';
import { recordTicketMessage, ticketById } from '../db/tickets.js';
import { notifyTicketOwner, type NotifyChannels } from './notifications.js';
import { memberChange, transition } from './transition.js';

/**
 * A staff member wrote in a web ticket's Discord channel: a Support reply. Any open status becomes
 * answered (a web Support reply's default); a closed ticket takes nothing. Relaying the same
 * Discord message twice (a catch-up after a reconnect) stores and notifies nothing the second time.
 * Returns whether it was stored now.
 */
export function receiveDiscordWebReply(db: Db, input: { ticketId: number; discordMessageId: string; authorName: string; text: string; notify: NotifyChannels }, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, input.ticketId);
    if (!ticket || ticket.source !== 'web' || ticket.status === 'closed' || input.text.trim() === '') return false;
    const messageId = insertDiscordMessage(db, { ticketId: ticket.id, authorKind: 'staff', authorId: null, authorName: input.authorName, origin: 'discord', body: input.text, discordMessageId: input.discordMessageId, now });
    if (messageId === undefined) return false;
    recordTicketMessage(db, ticket.id, now);
    // The reply's own notification says where the ticket went: the transition stays quiet.
    transition(db, ticket, 'answered', memberChange({ name: input.authorName }, 'discord message'), { notify: false }, now);
    notifyTicketOwner(db, ticket, { kind: 'support_reply', staffName: input.authorName, body: input.text, status: 'answered' }, messageId, null, input.notify, now);
    recordAudit(
      db,
      { actor: { id: null, name: `discord:${input.authorName}` }, action: 'ticket.reply', ticketId: ticket.id, details: { messageId, asSupport: true, via: 'discord', statusFrom: ticket.status, statusTo: 'answered' } },
      now,
    );
    return true;
  });
}
