// In-game tickets (seed 002): a player's @request or PM to @Support opens a ticket (one open per
// character) or continues it; Support's answers go back as whispers. Game tickets are ordinary
// tickets (source 'game') so the web console and search see them; the Discord side is queued in
// discord_outbox in the same transaction and delivered by src/discord.
import { recordAudit } from '../audit.js';
import { inTransaction, type Db } from '../db/index.js';
import { insertDiscordMessage, insertMessage, insertSystemLine } from '../db/messages.js';
import { enqueueDiscordWork, insertWhisper } from '../db/outboxes.js';
import { insertGameTicket, openGameTicketForChar, recordTicketMessage, setDiscordAssignee, ticketById, updateTicketStatus, type Ticket } from '../db/tickets.js';
import { userByGameAccount } from '../db/users.js';
import { formatPlayerPost } from '../discord/format.js';
import { splitWhisper } from '../game/whispers.js';
import type { WhisperTemplates } from '../settings.js';
import { statusAfterPlayerReply } from './model.js';
import { notifyTicketOwner, type NotifyChannels } from '../notify/events.js';

export interface GamePlayer {
  accountId: number;
  charId: number;
  name: string;
}

export interface Whisper {
  to: string;
  text: string;
}

export interface GameMessageResult {
  ticketId: number;
  created: boolean;
  whispers: Whisper[];
}

/** Discord message content limit (https://discord.com/developers/docs/resources/message#create-message). */
export const DISCORD_MESSAGE_MAX = 2000;

function gameActor(player: GamePlayer) {
  return { id: null, name: `game:${player.name}` };
}

/**
 * The template with `{message}` replaced by the player's text as typed. A replacer function, not a
 * replacement string: in a string, `$&`, `$\``, `$'` and `$$` are patterns, so a message of `$&`
 * would be expanded (and a 4,000-character one grown tenfold in the echo whisper).
 */
export function fillTemplate(template: string, message: string): string {
  return template.replaceAll('{message}', () => message);
}

function subjectFrom(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line || 'In-game ticket';
}

/**
 * A player's message from the game. `via: request` echoes it back ("[RagnaSync Ticket]: <message>");
 * a PM that opens a ticket answers "Ticket Created on Discord. PM @Support to use"; a PM to an open
 * ticket answers nothing. The caller has checked that the feature is on and the bridge connected.
 */
export function receiveGameMessage(
  db: Db,
  input: GamePlayer & { via: 'request' | 'pm'; message: string },
  options: { templates: WhisperTemplates; guildId: string | null },
  now = Date.now(),
): GameMessageResult {
  return inTransaction(db, () => {
    const player: GamePlayer = { accountId: input.accountId, charId: input.charId, name: input.name };
    const ticket: Ticket | undefined = openGameTicketForChar(db, input.charId);
    const created = ticket === undefined;
    let ticketId: number;
    if (ticket) {
      ticketId = ticket.id;
    } else {
      ticketId = insertGameTicket(db, {
        userId: userByGameAccount(db, input.accountId)?.id ?? null,
        subject: subjectFrom(input.message),
        accountId: input.accountId,
        charId: input.charId,
        charName: input.name,
        guildId: options.guildId,
        now,
      });
      enqueueDiscordWork(db, ticketId, 'create_channel', { name: input.name, accountId: input.accountId, charId: input.charId }, now);
    }
    const messageId = insertMessage(db, { ticketId, authorKind: 'player', authorId: null, authorName: input.name, origin: 'game', body: input.message, now });
    recordTicketMessage(db, ticketId, now);
    if (ticket) {
      const status = statusAfterPlayerReply(ticket.status);
      if (status !== ticket.status) updateTicketStatus(db, ticketId, status, now);
    }
    // Quoted and escaped: player text cannot pass for a staff answer or a bot line in Discord.
    enqueueDiscordWork(db, ticketId, 'post_message', { content: formatPlayerPost(input.name, input.message), messageId }, now);
    recordAudit(db, { actor: gameActor(player), action: created ? 'ticket.create' : 'ticket.reply', ticketId, details: { via: input.via, source: 'game', messageId } }, now);

    const whispers: Whisper[] = [];
    if (input.via === 'request') whispers.push({ to: input.name, text: fillTemplate(options.templates.request, input.message) });
    else if (created) whispers.push({ to: input.name, text: options.templates.pmCreated });
    return { ticketId, created, whispers };
  });
}

/**
 * The player logged out. With close-on-logout their open ticket is closed and its channel deleted
 * (the transcript stays here and goes to the log channel); without it the ticket stays open and
 * Support's answers wait in the whisper outbox.
 */
export function gamePlayerLoggedOut(db: Db, player: GamePlayer, closeOnLogout: boolean, now = Date.now()): { ticketId: number | null; closed: boolean } {
  return inTransaction(db, () => {
    const ticket = openGameTicketForChar(db, player.charId);
    if (!ticket) return { ticketId: null, closed: false };
    if (!closeOnLogout) return { ticketId: ticket.id, closed: false };
    updateTicketStatus(db, ticket.id, 'closed', now);
    insertSystemLine(db, ticket.id, `Ticket closed: ${player.name} logged out.`, now);
    enqueueDiscordWork(db, ticket.id, 'close_channel', { reason: 'player logged out' }, now);
    recordAudit(db, { actor: gameActor(player), action: 'ticket.close', ticketId: ticket.id, details: { reason: 'logout' } }, now);
    return { ticketId: ticket.id, closed: true };
  });
}

/** Queue Support's answer as whispers to the ticket's character, split to `max` characters in order. */
export function queueWhispersForTicket(db: Db, ticket: Ticket, sender: string, text: string, max: number, now: number): number {
  if (ticket.gameAccountId === null || ticket.gameCharId === null || ticket.gameCharName === null) return 0;
  const parts = splitWhisper(text, max);
  for (const part of parts) {
    insertWhisper(db, { ticketId: ticket.id, accountId: ticket.gameAccountId, charId: ticket.gameCharId, charName: ticket.gameCharName, sender, text: part, now });
  }
  return parts.length;
}

/**
 * A staff member wrote in the ticket's Discord channel (seed 002 § Staff Response): stored, and
 * whispered to the player. An open ticket becomes answered. Relaying the same Discord message
 * twice (a catch-up after a reconnect) stores and whispers nothing the second time.
 */
export function receiveDiscordStaffMessage(
  db: Db,
  input: { ticketId: number; discordMessageId: string; authorName: string; text: string; whisperMax: number; notify: NotifyChannels },
  now = Date.now(),
): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, input.ticketId);
    if (!ticket || input.text.trim() === '') return false;
    const messageId = insertDiscordMessage(db, { ticketId: ticket.id, authorKind: 'staff', authorId: null, authorName: input.authorName, origin: 'discord', body: input.text, discordMessageId: input.discordMessageId, now });
    if (messageId === undefined) return false;
    recordTicketMessage(db, ticket.id, now);
    if (ticket.status === 'open') updateTicketStatus(db, ticket.id, 'answered', now);
    queueWhispersForTicket(db, ticket, input.authorName, input.text, input.whisperMax, now);
    const status = ticket.status === 'open' ? 'answered' : ticket.status;
    notifyTicketOwner(db, ticket, { kind: 'support_reply', staffName: input.authorName, body: input.text, status }, messageId, null, input.notify, now);
    recordAudit(db, { actor: { id: null, name: `discord:${input.authorName}` }, action: 'ticket.reply', ticketId: ticket.id, details: { messageId, asSupport: true, via: 'discord' } }, now);
    return true;
  });
}

/** The ticket's channel was deleted in Discord: the ticket closes; the player's next PM opens a new one. */
export function discordChannelGone(db: Db, ticketId: number, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket || ticket.status === 'closed') return false;
    updateTicketStatus(db, ticket.id, 'closed', now);
    insertSystemLine(db, ticketId, 'Ticket closed: its Discord channel was deleted.', now);
    recordAudit(db, { actor: { id: null, name: 'discord' }, action: 'ticket.close', ticketId, details: { reason: 'channel deleted' } }, now);
    return true;
  });
}

/** /ticket claim: the member takes the ticket; it is in progress. */
export function claimFromDiscord(db: Db, ticketId: number, member: { id: string; name: string }, now = Date.now()): void {
  inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket) return;
    setDiscordAssignee(db, ticketId, member.id, member.name);
    if (ticket.status !== 'in_progress' && ticket.status !== 'closed') {
      updateTicketStatus(db, ticketId, 'in_progress', now);
      insertSystemLine(db, ticketId, `Status changed from ${ticket.status} to in_progress by ${member.name}.`, now);
    }
    recordAudit(db, { actor: { id: null, name: `discord:${member.name}` }, action: 'ticket.claim', ticketId, details: { memberId: member.id } }, now);
  });
}
