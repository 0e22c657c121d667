// Staff answers from Discord into the ticket: a staff member's message in a ticket channel is
// stored and whispered to the player, or for a web ticket's channel a Support reply on the web
// (src/tickets/game.ts receiveDiscordStaffMessage follows the ticket's source), live from the
// gateway or read back by a catch-up after a (re)connect, so nothing written while the bridge was
// away is lost. Each ticket keeps a read-to cursor in the settings table: where its next catch-up
// starts.
import { MessageType, type Guild, type GuildMember, type GuildTextBasedChannel, type Message } from 'discord.js';
import { z } from 'zod';
import { SNOWFLAKE } from '../config.js';
import { inTransaction } from '../db/index.js';
import { lastDiscordMessageId } from '../db/messages.js';
import { saveSetting, setting } from '../db/settings.js';
import { openBridgedTickets, setTicketChannel, ticketByChannelId } from '../db/tickets.js';
import { errorText } from '../redact.js';
import { addDiscordNote, discordChannelGone, receiveDiscordStaffMessage } from '../tickets/game.js';
import { notifyChannelsOf } from '../tickets/notifications.js';
import type { BridgeContext } from './context.js';
import { gameTextOfMessage } from './gameText.js';
import { isStaffMember } from './staff.js';

/** The settings key of a ticket's catch-up start (a Discord message id). */
function readToKey(ticketId: number): string {
  return `discord.read_to.${ticketId}`;
}

/**
 * A stored cursor: a message id, or '0' (a new channel: read from its start). Anything else is
 * treated as no cursor (src/db/settings.ts reports it), so the catch-up starts after the last
 * message relayed instead of failing on the value every time.
 */
const READ_TO_SCHEMA = z.union([z.literal('0'), z.string().regex(SNOWFLAKE)]);

function isStaffMessage(message: Message): boolean {
  if (message.author.bot || message.webhookId || message.system) return false;
  return message.type === MessageType.Default || message.type === MessageType.Reply;
}

/** The mark the bot puts on a message it took as an internal note, so staff see it was not whispered. */
export const NOTE_REACTION = '📝';

/**
 * A member's message in a ticket channel becomes a staff answer (stored, whispered) only if the
 * member is staff (src/discord/staff.ts); anyone else there got in through permissions loosened
 * by hand, and is ignored. Staff talking among themselves (a message starting with
 * DISCORD_NOTE_PREFIX, or any message in a thread of the ticket channel) makes an internal note.
 */
export function relayStaffMessage(ctx: BridgeContext, message: Message, member: GuildMember | null): void {
  const { db, config, logger } = ctx;
  if (!message.inGuild() || message.guildId !== ctx.guildId || !isStaffMessage(message)) return;
  const inThread = message.channel.isThread();
  const channelId = inThread ? message.channel.parentId : message.channelId;
  const ticket = channelId ? ticketByChannelId(db, channelId) : undefined;
  if (!ticket) return;
  const name = member?.displayName ?? message.author.username;
  if (!isStaffMember(member, config.discord.staffRoleIds)) {
    logger.warn(
      { ticketId: ticket.id, memberId: message.author.id, member: name, messageId: message.id },
      'discord: ignored a message in a ticket channel from a member who is not staff',
    );
    return;
  }
  const prefix = config.discord.notePrefix;
  if (inThread || message.content.trimStart().startsWith(prefix)) {
    const content = message.cleanContent.trimStart();
    const text = [inThread || !content.startsWith(prefix) ? content : content.slice(prefix.length), ...[...message.attachments.values()].map((a) => `${a.name} (${a.url})`)].join(' ');
    if (addDiscordNote(db, { ticketId: ticket.id, discordId: message.id, authorName: name, text })) {
      message.react(NOTE_REACTION).catch((err: unknown) => logger.warn({ ticketId: ticket.id, err: errorText(err, ctx.redact) }, 'discord: could not mark a note with a reaction'));
    }
    return;
  }
  // Discord markup as plain game text, timestamps in TZ (src/discord/gameText.ts).
  const text = gameTextOfMessage(message, config.timeZone);
  receiveDiscordStaffMessage(db, {
    ticketId: ticket.id,
    discordMessageId: message.id,
    authorName: name,
    text,
    whisperMax: config.game.whisperMax,
    whisperEncoding: config.game.textEncoding,
    notify: notifyChannelsOf(config),
  });
}

export interface CatchUpCursor {
  id: number;
  channelId: string;
  after: string | undefined;
}

/**
 * Where each open ticket's catch-up starts: the newest channel message a finished catch-up has
 * read (stored per ticket, so a crash in the middle of a catch-up does not skip what it had not
 * read yet; messages relayed live never move it). Tickets bridged before this existed start
 * after the last message relayed. Taken at once when the connection is up.
 */
export function catchUpCursors(ctx: BridgeContext): CatchUpCursor[] {
  const { db } = ctx;
  return openBridgedTickets(db).map(({ id, channelId }) => ({ id, channelId, after: setting(db, readToKey(id), READ_TO_SCHEMA) ?? lastDiscordMessageId(db, id) }));
}

/** A new (or adopted) ticket channel: stored with its catch-up start, in one transaction. */
export function storeTicketChannel(ctx: BridgeContext, ticketId: number, channelId: string): void {
  const { db } = ctx;
  inTransaction(db, () => {
    setTicketChannel(db, ticketId, channelId);
    saveSetting(db, readToKey(ticketId), '0');
  });
}

/**
 * The author of a message read back by catch-up. Fetched messages carry no member object, and a
 * cached member can hold roles from before a change (without the GuildMembers intent no member
 * updates arrive), so each author is fetched fresh, once per catch-up. Gone from the guild: null
 * (not staff). Any other failure throws: that channel's catch-up stops before its cursor moves.
 */
async function authorMember(g: Guild, userId: string, fetched: Map<string, GuildMember | null>): Promise<GuildMember | null> {
  if (fetched.has(userId)) return fetched.get(userId)!;
  let member: GuildMember | null = null;
  try {
    member = await g.members.fetch({ user: userId, force: true });
  } catch (err) {
    if ((err as { code?: number }).code !== 10007) throw err; // 10007 Unknown Member
  }
  fetched.set(userId, member);
  return member;
}

/**
 * Relays the staff messages of one channel after `start`, oldest first, 100 at a time (relaying a
 * message twice stores it once). Returns the id of the newest message read, or undefined once the
 * bridge is stopping.
 */
async function relayMessagesAfter(
  ctx: BridgeContext,
  g: Guild,
  channel: GuildTextBasedChannel,
  start: string,
  members: Map<string, GuildMember | null>,
): Promise<string | undefined> {
  let after = start;
  for (let page = 0; page < 20; page++) {
    const messages = await channel.messages.fetch({ limit: 100, after });
    if (ctx.stopping) return undefined;
    const sorted = [...messages.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    for (const message of sorted) {
      if (!isStaffMessage(message)) continue;
      const member = await authorMember(g, message.author.id, members);
      if (ctx.stopping) return undefined;
      relayStaffMessage(ctx, message, member);
    }
    if (sorted.length > 0) after = sorted.at(-1)!.id;
    if (sorted.length < 100) break;
  }
  return after;
}

/** A finished catch-up moves the ticket's cursor to what it read: forward only, never back. */
function moveCursor(ctx: BridgeContext, ticketId: number, after: string): void {
  const stored = setting(ctx.db, readToKey(ticketId), READ_TO_SCHEMA);
  if (stored === undefined || BigInt(after) > BigInt(stored)) saveSetting(ctx.db, readToKey(ticketId), after);
}

/** After a (re)connect: relay staff messages sent while we were away; close tickets whose channel is gone. */
export async function catchUp(ctx: BridgeContext, cursors: CatchUpCursor[]): Promise<void> {
  const { db, config, logger, redact } = ctx;
  const g = ctx.guild();
  if (!g) return;
  const members = new Map<string, GuildMember | null>();
  for (const { id, channelId, after: start } of cursors) {
    // Stopping closes the database after us: a catch-up still fetching must not touch it.
    if (ctx.stopping) return;
    let channel;
    try {
      channel = await g.channels.fetch(channelId);
    } catch (err) {
      if (ctx.stopping) return;
      if ((err as { status?: number }).status === 404) discordChannelGone(db, id, notifyChannelsOf(config));
      else logger.warn({ ticketId: id, channelId, err: errorText(err, redact) }, 'discord: cannot fetch a ticket channel to catch up; trying again at the next reconnect');
      continue;
    }
    if (!channel?.isTextBased()) continue;
    try {
      const after = await relayMessagesAfter(ctx, g, channel, start ?? '0', members);
      if (after === undefined) return; // stopping
      moveCursor(ctx, id, after);
    } catch (err) {
      logger.warn({ err, ticketId: id }, 'discord: catching up on a ticket channel failed');
    }
  }
}
