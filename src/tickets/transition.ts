// The one status transition. Every change of a ticket's status (a close, a reopen, a move along)
// goes through `transition`, whoever asks: the web's Close button, status menu or reply, a Discord
// command or staff message, the player's logout or reply in game, a deleted Discord channel. So
// each writes the same system line, the same audit action (`ticket.close` for every close, with
// its cause in the details), follows the same notification rule and closes the Discord channel
// the same way, inside the caller's transaction.
import { recordAudit } from '../audit.js';
import type { Db } from '../db/index.js';
import { insertSystemLine } from '../db/messages.js';
import { insertWhisper } from '../db/outboxes.js';
import { closeWhisper } from '../settings.js';
import { message, REFERENCE_LOCALE, translator, type Message } from '../i18n/index.js';
import { updateTicketStatus, type Ticket } from '../db/tickets.js';
import { bridged, queueDiscordWork } from './discordWork.js';
import type { Status } from './model.js';
import { notifyTicketOwner, type NotifyChannels } from './notifications.js';

/** Who changes a ticket, from where, and why (for the conversation, the audit log and the owner). */
export interface ChangeBy {
  /** The dashboard account, when there is one (Discord members and the system have none). */
  userId: number | null;
  /** As the conversation and notifications name them: `alice`, `Sam`, `Hero`. */
  name: string;
  /** As the audit log names them: `alice`, `discord:Sam`, `game:Hero`, `system`. */
  auditName: string;
  ip: string | null;
  /** What caused the change: `close button`, `status menu`, `reply`, `/ticket close`, `logout`, ... */
  cause: string;
}

/** A Discord member as the transition and the audit log name them (`Sam`, `discord:Sam`). */
export function memberChange(member: { name: string }, cause: string): ChangeBy {
  return { userId: null, name: member.name, auditName: `discord:${member.name}`, ip: null, cause };
}

export interface TransitionOptions {
  /** Email/Telegram configured. `false` when the caller's own notification says it all (a reply that moves the status). */
  notify: NotifyChannels | false;
  /** For a close without a person behind it, the line that says why (`line.closedLogout`, ...). */
  reason?: Message;
}

/** The conversation's line for a change (the same whatever path made it). */
export function transitionLine(from: Status, to: Status, by: Pick<ChangeBy, 'name'>, reason?: Message): Message {
  if (to === 'closed') return reason ?? message('line.closedBy', { by: by.name });
  if (from === 'closed') return message('line.reopened', { by: by.name, toStatus: to });
  return message('line.statusChanged', { fromStatus: from, toStatus: to, by: by.name });
}

/**
 * Moves `ticket` to `to`. Nothing happens when it is there already (returns undefined); otherwise
 * returns the id of the system line. Call inside the transaction of the change.
 */
export function transition(db: Db, ticket: Ticket, to: Status, by: ChangeBy, options: TransitionOptions, now: number): number | undefined {
  const from = ticket.status;
  if (from === to) return undefined;
  updateTicketStatus(db, ticket.id, to, now);
  const reasonLine = to === 'closed' ? options.reason : undefined;
  // In English for Discord's close message and the audit log, as the line's body is.
  const reason = reasonLine ? translator(REFERENCE_LOCALE).text(reasonLine, { raw: true }) : undefined;
  const lineId = insertSystemLine(db, ticket.id, transitionLine(from, to, by, reasonLine), now);
  // A closed ticket's channel (a game ticket's, or a web ticket's with DISCORD_WEB_TICKETS) goes
  // (its transcript to the log channel; everything stays here).
  if (to === 'closed' && bridged(ticket)) queueDiscordWork(db, ticket.id, { kind: 'close_channel', payload: { reason: reason ?? `closed by ${by.name}` } }, now);
  // A closed game ticket's player gets the admin's close line in game (e.g. where to rate it), if one is set.
  if (to === 'closed' && ticket.source === 'game') whisperCloseLine(db, ticket, now);
  // The owner hears when it is their turn or Support answered, and of every close not their own.
  if (options.notify) {
    if (to === 'closed') notifyTicketOwner(db, ticket, { kind: 'closed', by: by.name }, lineId, by.userId, options.notify, now);
    else if (to === 'waiting_user' || to === 'answered') notifyTicketOwner(db, ticket, { kind: 'status', from, to, by: by.name }, lineId, by.userId, options.notify, now);
  }
  recordAudit(
    db,
    {
      actor: { id: by.userId, name: by.auditName },
      action: to === 'closed' ? 'ticket.close' : 'ticket.status',
      ticketId: ticket.id,
      ip: by.ip,
      details: { from, to, cause: by.cause, ...(reason ? { reason } : {}) },
    },
    now,
  );
  return lineId;
}

/** The admin's close whisper (view=admin, src/settings.ts closeWhisper), as written, to the ticket's character. */
function whisperCloseLine(db: Db, ticket: Ticket, now: number): void {
  const line = closeWhisper(db);
  if (!line || ticket.gameAccountId === null || ticket.gameCharId === null || ticket.gameCharName === null) return;
  for (const text of line.lines) {
    insertWhisper(db, { ticketId: ticket.id, accountId: ticket.gameAccountId, charId: ticket.gameCharId, charName: ticket.gameCharName, sender: 'Support', text, now });
  }
}
