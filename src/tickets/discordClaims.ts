// Who holds a ticket in Discord after /ticket claim (src/tickets/game.ts claimFromDiscord): letting
// it go (/ticket unclaim) and handing it to another member (/ticket transfer). A Discord claim is
// not a dashboard assignment (members have no accounts), so it lives in its own columns
// (src/db/tickets.ts discordAssigneeName). Each change is one transaction: the claim, the system
// line the console shows, a status move through the one transition, and the audit row.
import { recordAudit } from '../audit.js';
import { inTransaction, type Db } from '../db/index.js';
import { insertSystemLine } from '../db/messages.js';
import { message } from '../i18n/index.js';
import { clearDiscordAssignee, setDiscordAssignee, ticketById } from '../db/tickets.js';
import type { NotifyChannels } from './notifications.js';
import { memberChange, transition } from './transition.js';

/** A guild member: their Discord id and the name the guild shows. */
export interface DiscordMember {
  id: string;
  name: string;
}

/**
 * /ticket unclaim: nobody holds the ticket any more. A ticket in progress goes back to open, since
 * in_progress meant "someone has it"; other statuses (waiting_user, answered) still say where it
 * is and stay. Returns false (and changes nothing) when nobody held it.
 */
export function unclaimFromDiscord(db: Db, ticketId: number, member: DiscordMember, notify: NotifyChannels | false = false, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket || ticket.discordAssigneeName === null) return false;
    clearDiscordAssignee(db, ticketId);
    insertSystemLine(db, ticketId, message('line.unclaimed', { by: member.name }), now);
    if (ticket.status === 'in_progress') transition(db, ticket, 'open', memberChange(member, '/ticket unclaim'), { notify }, now);
    recordAudit(db, { actor: { id: null, name: `discord:${member.name}` }, action: 'ticket.unclaim', ticketId, details: { from: ticket.discordAssigneeName } }, now);
    return true;
  });
}

/**
 * /ticket transfer: the claim moves to `to` (the command has checked that `to` is staff). The
 * status stays: whoever holds the ticket now, its conversation is where it was. Returns false
 * (and changes nothing) when `to` holds it already.
 */
export function transferFromDiscord(db: Db, ticketId: number, by: DiscordMember, to: DiscordMember, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket || ticket.discordAssigneeName === to.name) return false;
    setDiscordAssignee(db, ticketId, to.id, to.name);
    insertSystemLine(db, ticketId, message('line.transferred', { to: to.name, by: by.name }), now);
    recordAudit(
      db,
      { actor: { id: null, name: `discord:${by.name}` }, action: 'ticket.transfer', ticketId, details: { from: ticket.discordAssigneeName, to: to.name, toMemberId: to.id } },
      now,
    );
    return true;
  });
}
