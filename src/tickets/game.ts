// In-game tickets (seed 002): a player's @request or PM to @Support opens a ticket (one open per
// character) or continues it; Support's answers go back as whispers. Game tickets are ordinary
// tickets (source 'game') so the web console and search see them; the Discord side is queued in
// discord_outbox in the same transaction and delivered by src/discord.
import { recordAudit } from '../audit.js';
import { inTransaction, type Db } from '../db/index.js';
import { guildSettings } from '../db/guilds.js';
import { insertDiscordMessage, insertMessage } from '../db/messages.js';
import { message, REFERENCE_LOCALE, translator, type MessageKey } from '../i18n/index.js';
import { insertWhisper } from '../db/outboxes.js';
import { insertGameTicket, openGameTicketForChar, recordTicketMessage, setDiscordAssignee, setTicketLocale, ticketById, ticketLocale, type Ticket } from '../db/tickets.js';
import { userByGameAccount } from '../db/users.js';
import { isWhisperOverride, type WhisperTemplateName, type WhisperTemplates } from '../settings.js';
import { bridged, queueDiscordWork } from './discordWork.js';
import { statusAfterPlayerReply } from './model.js';
import { notifyTicketOwner, type NotifyChannels } from './notifications.js';
import { memberChange, transition, type ChangeBy } from './transition.js';
import { representable, splitWhisper } from './whispers.js';

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

/** The player in game as the one transition names them; the ticket's web owner is the same person. */
function playerChange(ticket: Ticket, player: Pick<GamePlayer, 'name'>, cause: string): ChangeBy {
  return { userId: ticket.userId, name: player.name, auditName: `game:${player.name}`, ip: null, cause };
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

const WHISPER_KEYS: Record<WhisperTemplateName, MessageKey> = { request: 'whisper.request', pmCreated: 'whisper.pmCreated', offline: 'whisper.offline', disabled: 'whisper.disabled' };

/**
 * The whisper texts for a player (issue #16): a text the admin overrode (stored and different
 * from seed 002's English) as the admin wrote it, for every language; any other in the player's
 * `locale` (catalogue `whisper.*`) when the game's code page (`encoding`) can show it, else in
 * seed 002's English. Without Discord (`discord` false) the PM confirmation does not say "on
 * Discord" (`whisper.pmCreatedNoDiscord`) unless the admin wrote their own.
 */
export function localWhisperTemplates(stored: Partial<WhisperTemplates>, locale: string | undefined, options: { encoding: string; discord: boolean }): WhisperTemplates {
  const english = translator(REFERENCE_LOCALE);
  const own = locale === undefined ? undefined : translator(locale);
  const text = (name: WhisperTemplateName): string => {
    const admin = stored[name];
    if (isWhisperOverride(name, admin)) return admin;
    const key: MessageKey = name === 'pmCreated' && !options.discord ? 'whisper.pmCreatedNoDiscord' : WHISPER_KEYS[name];
    // No params: `{message}` stays in the template for fillTemplate.
    const translated = own?.t(key);
    if (translated !== undefined && representable(translated, options.encoding) === translated) return translated;
    return english.t(key);
  };
  return { request: text('request'), pmCreated: text('pmCreated'), offline: text('offline'), disabled: text('disabled') };
}

/**
 * What the desk can do for a game action right now (seed 002 § Player Messages and § Database):
 * whether the feature is on, whether the Discord bridge is connected and has room for a new
 * channel, and the guild whose close-on-logout applies.
 */
export interface GameDesk {
  enabled: boolean;
  bridgeConnected: () => boolean;
  bridgeHasRoom: () => boolean;
  guildId: string | null;
  /** ragnasync_ticket_support_system_close_on_logout from channels.conf: the default of a new guild row. */
  closeOnLogoutDefault: boolean;
  /** The whisper texts in a player's language (undefined: none asked for): localWhisperTemplates. */
  templates: (locale: string | undefined) => WhisperTemplates;
  notify: NotifyChannels;
  /** Whether game tickets get Discord channels (false: answered from the console only, GAME_TICKETS_WITHOUT_DISCORD). */
  discord: boolean;
}

/** `lang`: the language the action asked for, already a supported catalogue tag (or absent). */
export type GameAction = (GamePlayer & { action: 'ticket'; via: 'request' | 'pm'; message: string; lang?: string }) | (GamePlayer & { action: 'logout'; lang?: string });

export interface GameAnswer {
  ticketId: number | null;
  whispers: Whisper[];
  /** For a logout: whether it closed the character's ticket. */
  closed?: boolean;
}

/**
 * The rules of seed 002 for one game action. A logout closes the character's open ticket when the
 * guild's ticket_close_on_logout says so (the channels.conf value only seeds a new guild row). A
 * message answers "RagnaSync Ticket Support Disabled" when the feature is off, "RagnaSync: Ticket
 * Offline, Try again" when the bridge is not connected (or a new ticket would need a channel the
 * guild has no room for), storing nothing; otherwise it opens or continues the ticket.
 */
export function gameAction(db: Db, action: GameAction, desk: GameDesk, now = Date.now()): GameAnswer {
  // One transaction, so the open ticket looked up here is still the one the message goes to.
  return inTransaction(db, () => gameActionNow(db, action, desk, now));
}

function gameActionNow(db: Db, action: GameAction, desk: GameDesk, now: number): GameAnswer {
  const player: GamePlayer = { accountId: action.accountId, charId: action.charId, name: action.name };
  const open = openGameTicketForChar(db, action.charId);
  // The action's language, else the one an earlier action stored on the character's open ticket.
  const locale = action.lang ?? (open ? (ticketLocale(db, open.id) ?? undefined) : undefined);
  if (action.action === 'logout') {
    if (open && action.lang !== undefined) setTicketLocale(db, open.id, action.lang);
    const closeOnLogout = desk.guildId ? guildSettings(db, desk.guildId, desk.closeOnLogoutDefault, now).ticketCloseOnLogout : desk.closeOnLogoutDefault;
    const result = gamePlayerLoggedOut(db, player, closeOnLogout, desk.notify, now);
    return { ticketId: result.ticketId, closed: result.closed, whispers: [] };
  }
  const templates = desk.templates(locale);
  if (!desk.enabled) return { ticketId: null, whispers: [{ to: action.name, text: templates.disabled }] };
  const needsChannel = open === undefined;
  if (!desk.bridgeConnected() || (needsChannel && !desk.bridgeHasRoom())) return { ticketId: null, whispers: [{ to: action.name, text: templates.offline }] };
  const result = receiveGameMessage(db, { ...player, via: action.via, message: action.message, lang: action.lang }, { templates, guildId: desk.discord ? desk.guildId : null, open: open ?? null }, now);
  return { ticketId: result.ticketId, whispers: result.whispers };
}

/**
 * A player's message from the game. `via: request` echoes it back ("[RagnaSync Ticket]: <message>");
 * a PM that opens a ticket answers "Ticket Created on Discord. PM @Support to use"; a PM to an open
 * ticket answers nothing. The caller has checked that the feature is on and the bridge connected
 * (gameAction); `open` is the character's open ticket (null: none) when the caller has just looked
 * it up in the transaction under way, so it is not read twice.
 */
export function receiveGameMessage(
  db: Db,
  input: GamePlayer & { via: 'request' | 'pm'; message: string; lang?: string | undefined },
  options: { templates: WhisperTemplates; guildId: string | null; open?: Ticket | null },
  now = Date.now(),
): GameMessageResult {
  return inTransaction(db, () => {
    const player: GamePlayer = { accountId: input.accountId, charId: input.charId, name: input.name };
    const ticket: Ticket | undefined = options.open === undefined ? openGameTicketForChar(db, input.charId) : (options.open ?? undefined);
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
      if (options.guildId !== null) queueDiscordWork(db, ticketId, { kind: 'create_channel', payload: { name: input.name, accountId: input.accountId, charId: input.charId } }, now);
    }
    if (input.lang !== undefined) setTicketLocale(db, ticketId, input.lang);
    const messageId = insertMessage(db, { ticketId, authorKind: 'player', authorId: null, authorName: input.name, origin: 'game', body: input.message, now });
    recordTicketMessage(db, ticketId, now);
    if (ticket) transition(db, ticket, statusAfterPlayerReply(ticket.status), playerChange(ticket, player, 'player reply'), { notify: false }, now);
    // Formatted by the Discord worker: quoted and escaped, so it cannot pass for a staff answer.
    if (ticket ? bridged(ticket) : options.guildId !== null) queueDiscordWork(db, ticketId, { kind: 'post_message', payload: { post: { from: 'player', name: input.name, text: input.message, via: 'game' }, messageId } }, now);
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
export function gamePlayerLoggedOut(db: Db, player: GamePlayer, closeOnLogout: boolean, notify: NotifyChannels | false = false, now = Date.now()): { ticketId: number | null; closed: boolean } {
  return inTransaction(db, () => {
    const ticket = openGameTicketForChar(db, player.charId);
    if (!ticket) return { ticketId: null, closed: false };
    if (!closeOnLogout) return { ticketId: ticket.id, closed: false };
    transition(db, ticket, 'closed', playerChange(ticket, player, 'logout'), { notify, reason: message('line.closedLogout', { player: player.name }) }, now);
    return { ticketId: ticket.id, closed: true };
  });
}

/** Queue Support's answer as whispers to the ticket's character: fit to the code page, split to `max` bytes of it, in order. */
export function queueWhispersForTicket(db: Db, ticket: Ticket, sender: string, text: string, max: number, now: number, encoding = 'utf-8'): number {
  if (ticket.gameAccountId === null || ticket.gameCharId === null || ticket.gameCharName === null) return 0;
  const parts = splitWhisper(text, max, encoding);
  for (const part of parts) {
    insertWhisper(db, { ticketId: ticket.id, accountId: ticket.gameAccountId, charId: ticket.gameCharId, charName: ticket.gameCharName, sender, text: part, now });
  }
  return parts.length;
}

/**
 * A staff member wrote in the ticket's Discord channel: a Support answer, whatever the ticket's
 * source. A game ticket's (seed 002 § Staff Response): stored and whispered to the player, an open
 * ticket becomes answered. A web ticket's (DISCORD_WEB_TICKETS): a Support reply on the web, as if
 * written on the dashboard (src/tickets/service.ts replyAsStaff): any open status becomes answered,
 * nothing is whispered, and a closed ticket takes nothing. Either way the owner is notified, and
 * relaying the same Discord message twice (a catch-up after a reconnect) stores nothing the second
 * time. Returns whether it was stored now.
 */
export function receiveDiscordStaffMessage(
  db: Db,
  input: { ticketId: number; discordMessageId: string; authorName: string; text: string; whisperMax: number; whisperEncoding?: string; notify: NotifyChannels },
  now = Date.now(),
): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, input.ticketId);
    if (!ticket || input.text.trim() === '') return false;
    const web = ticket.source === 'web';
    if (web && ticket.status === 'closed') return false;
    const messageId = insertDiscordMessage(db, { ticketId: ticket.id, authorKind: 'staff', authorId: null, authorName: input.authorName, origin: 'discord', body: input.text, discordMessageId: input.discordMessageId, now });
    if (messageId === undefined) return false;
    recordTicketMessage(db, ticket.id, now);
    const status = web || ticket.status === 'open' ? 'answered' : ticket.status;
    // The answer's own notification says it all: the transition stays quiet.
    transition(db, ticket, status, memberChange({ name: input.authorName }, 'discord message'), { notify: false }, now);
    // A web ticket has no character to whisper to: this queues nothing for it.
    queueWhispersForTicket(db, ticket, input.authorName, input.text, input.whisperMax, now, input.whisperEncoding);
    notifyTicketOwner(db, ticket, { kind: 'support_reply', staffName: input.authorName, body: input.text, status }, messageId, null, input.notify, now);
    recordAudit(
      db,
      { actor: { id: null, name: `discord:${input.authorName}` }, action: 'ticket.reply', ticketId: ticket.id, details: { messageId, asSupport: true, via: 'discord', statusFrom: ticket.status, statusTo: status } },
      now,
    );
    return true;
  });
}

/**
 * Staff talk among themselves in a ticket channel (a message starting with DISCORD_NOTE_PREFIX, one
 * in a thread of the channel, or /ticket note): an internal note. Stored for staff only; never
 * whispered, notified or shown to the player, and the ticket's status does not move. The same
 * Discord message (or interaction) twice stores one note. Returns whether it was stored now.
 */
export function addDiscordNote(db: Db, input: { ticketId: number; discordId: string; authorName: string; text: string }, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, input.ticketId);
    if (!ticket || input.text.trim() === '') return false;
    const messageId = insertDiscordMessage(db, { ticketId: ticket.id, authorKind: 'staff', authorId: null, authorName: input.authorName, origin: 'discord', body: input.text.trim(), internal: true, discordMessageId: input.discordId, now });
    if (messageId === undefined) return false;
    recordAudit(db, { actor: { id: null, name: `discord:${input.authorName}` }, action: 'ticket.note', ticketId: ticket.id, details: { messageId, via: 'discord' } }, now);
    return true;
  });
}

/** The ticket's channel was deleted in Discord: the ticket closes; the player's next PM opens a new one. */
export function discordChannelGone(db: Db, ticketId: number, notify: NotifyChannels | false = false, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket || ticket.status === 'closed') return false;
    const by: ChangeBy = { userId: null, name: 'Support', auditName: 'discord', ip: null, cause: 'channel deleted' };
    return transition(db, ticket, 'closed', by, { notify, reason: message('line.closedChannelDeleted') }, now) !== undefined;
  });
}

/** /ticket claim: the member takes the ticket; it is in progress. */
export function claimFromDiscord(db: Db, ticketId: number, member: { id: string; name: string }, notify: NotifyChannels | false = false, now = Date.now()): void {
  inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket) return;
    setDiscordAssignee(db, ticketId, member.id, member.name);
    if (ticket.status !== 'closed') transition(db, ticket, 'in_progress', memberChange(member, '/ticket claim'), { notify }, now);
    recordAudit(db, { actor: { id: null, name: `discord:${member.name}` }, action: 'ticket.claim', ticketId, details: { memberId: member.id } }, now);
  });
}
