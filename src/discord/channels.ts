// Ticket channels in the guild: which category a new one goes in (the configured one or "Tickets",
// then "Tickets 2", ... once one holds Discord's 50, or Discord refused a channel in it), its
// private permission overwrites, creating it or adopting one a crash left behind, and the log
// channel (DISCORD_LOG_CHANNEL_ID) where staff are told what the bridge cannot do. Discord's
// channel limits are checked here, before a request Discord would refuse; a category Discord calls
// full before 50 is believed (see categoryRefused).
import {
  ChannelType,
  DiscordAPIError,
  MessageFlags,
  OverwriteType,
  PermissionFlagsBits,
  type AttachmentBuilder,
  type CategoryChannel,
  type Guild,
  type OverwriteResolvable,
  type TextChannel,
} from 'discord.js';
import { guildSettings } from '../db/guilds.js';
import { ticketChannelId } from '../db/tickets.js';
import { errorText } from '../redact.js';
import type { DiscordWorkPayload } from '../tickets/discordWork.js';
import type { BridgeContext } from './context.js';
import { discordName } from './format.js';
import { channelNameForPlayer, splitForDiscord } from './naming.js';
import { catchUp, storeTicketChannel } from './relay.js';

/** Discord's limits (https://support.discord.com/hc/en-us/articles/33694251638295). */
export const CHANNELS_PER_CATEGORY = 50;
export const CHANNELS_PER_GUILD = 500;

/** The ticket's page on the staff console (staff-only; a player other than the owner gets a 404). */
export function ticketConsoleUrl(appUrl: string, ticketId: number): string {
  return `${appUrl}/index.php?view=ticket&id=${ticketId}`;
}

/**
 * Discord refused a channel because its category is full: "Invalid Form Body" (50035) with
 * parent_id's CHANNEL_PARENT_MAX_CHANNELS, whose text discord.js puts in the message. Discord can
 * say so below 50 children (what support/fakes/discord.ts categoryLimit reproduces).
 */
export function categoryRefused(err: unknown): boolean {
  return err instanceof DiscordAPIError && err.code === 50035 && /maximum number of channels/i.test(err.message);
}

/**
 * Posts `content` (split at 2,000 characters). With a `nonce`, each part carries `<nonce>-<i>`
 * and enforce_nonce: when a retry repeats a post Discord already stored (its answer was lost,
 * or we crashed before marking the work done), Discord returns the first message instead of
 * posting it twice. Discord remembers nonces for a few minutes. Links never unfurl: a preview
 * of a player's link would sit under the post like something the bot vouches for.
 */
export async function sendToChannel(channel: TextChannel, content: string, files: AttachmentBuilder[] = [], nonce?: string): Promise<void> {
  const parts = splitForDiscord(content);
  for (const [i, part] of parts.entries()) {
    await channel.send({
      content: part,
      allowedMentions: { parse: [] },
      flags: MessageFlags.SuppressEmbeds,
      ...(nonce !== undefined ? { nonce: `${nonce}-${i}`, enforceNonce: true } : {}),
      ...(i === parts.length - 1 && files.length ? { files } : {}),
    });
  }
}

/** The category for a new ticket channel: the first ticket category with room, or a new one. */
async function ticketCategory(ctx: BridgeContext, g: Guild): Promise<CategoryChannel> {
  const { db, config, logger } = ctx;
  await g.channels.fetch();
  const settings = guildSettings(db, g.id, config.game.closeOnLogoutDefault);
  const preferred = config.discord.ticketCategoryId ?? settings.ticketCategoryId;
  const categories = [...g.channels.cache.values()].filter((c): c is CategoryChannel => c.type === ChannelType.GuildCategory);
  const children = (category: CategoryChannel) => g.channels.cache.filter((c) => c.parentId === category.id).size;
  // A category Discord refused at n children holds no more than n, until some go.
  const limit = (category: CategoryChannel) => Math.min(CHANNELS_PER_CATEGORY, ctx.categoryLimits.get(category.id) ?? CHANNELS_PER_CATEGORY);
  const candidates = categories.filter((c) => c.id === preferred || /^tickets( \d+)?$/i.test(c.name));
  const withRoom = candidates.find((c) => children(c) < limit(c));
  if (withRoom) return withRoom;
  // Every ticket category is full (Discord allows 50 channels in one): open the next one.
  const name = candidates.length === 0 ? 'Tickets' : `Tickets ${candidates.length + 1}`;
  const created = await g.channels.create({ name, type: ChannelType.GuildCategory, reason: 'ticketbridge: ticket category' });
  logger.info({ categoryId: created.id, name }, 'discord: created a ticket category');
  return created;
}

/** Only the staff roles and the bot see a ticket channel (src/discord/staff.ts still checks each member). */
function privateOverwrites(ctx: BridgeContext, g: Guild): OverwriteResolvable[] {
  const staffAllow = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages, PermissionFlagsBits.ReadMessageHistory, PermissionFlagsBits.AttachFiles];
  return [
    { id: g.roles.everyone.id, type: OverwriteType.Role, deny: [PermissionFlagsBits.ViewChannel] },
    ...ctx.config.discord.staffRoleIds.map((id) => ({ id, type: OverwriteType.Role, allow: staffAllow })),
    { id: ctx.client.user!.id, type: OverwriteType.Member, allow: [...staffAllow, PermissionFlagsBits.ManageChannels, PermissionFlagsBits.EmbedLinks, PermissionFlagsBits.AddReactions] },
  ];
}

/** The ticket's stored channel, or undefined: none yet, deleted, or not a text channel. */
export async function ticketChannel(ctx: BridgeContext, g: Guild, ticketId: number): Promise<TextChannel | undefined> {
  const channelId = ticketChannelId(ctx.db, ticketId);
  if (!channelId) return undefined;
  try {
    const channel = await g.channels.fetch(channelId);
    return channel?.type === ChannelType.GuildText ? channel : undefined;
  } catch (err) {
    if ((err as { status?: number }).status === 404) return undefined;
    throw err;
  }
}

/**
 * The channel of a new ticket, with the welcome line. Idempotent, since the worker retries it: a
 * ticket that has a channel already gets nothing more.
 */
export async function createTicketChannel(ctx: BridgeContext, g: Guild, ticketId: number, payload: DiscordWorkPayload<'create_channel'>): Promise<void> {
  if (ticketChannelId(ctx.db, ticketId)) return; // already made (a retry after a crash)
  const topic = `ticketbridge ticket #${ticketId}`;
  const consoleUrl = ticketConsoleUrl(ctx.config.appUrl, ticketId);
  const welcome =
    'source' in payload
      ? `New web ticket #${ticketId} from **${discordName(payload.name)}** (dashboard account ${payload.userId}). Write here to answer: it is a Support reply the player reads on the web. Console: ${consoleUrl}`
      : `New ticket #${ticketId} from **${discordName(payload.name)}** (account ${payload.accountId}, char ${payload.charId}). Write here to answer: it is whispered in game. Console: ${consoleUrl}`;
  // A crash between creating the channel and storing its id leaves the channel behind: take
  // it, rather than making a second one where staff answers would go unheard.
  const left = g.channels.cache.find((c): c is TextChannel => c.type === ChannelType.GuildText && c.topic === topic && c.permissionOverwrites.cache.has(ctx.client.user!.id));
  if (left) {
    storeTicketChannel(ctx, ticketId, left.id);
    if (left.lastMessageId === null) await sendToChannel(left, welcome);
    await catchUp(ctx, [{ id: ticketId, channelId: left.id, after: undefined }]);
    return;
  }
  if (g.channels.cache.size >= CHANNELS_PER_GUILD) {
    await logToStaff(ctx, g, `Ticket #${ticketId} could not get a channel: the server has ${CHANNELS_PER_GUILD} channels (Discord's limit).`);
    throw new Error('guild channel limit reached');
  }
  const channel = await createInCategory(ctx, g, ticketId, payload, topic);
  storeTicketChannel(ctx, ticketId, channel.id);
  await sendToChannel(channel, welcome);
  // Staff may have written before the channel's id was stored (relayed live, such a message
  // found no ticket): relay what is there now.
  await catchUp(ctx, [{ id: ticketId, channelId: channel.id, after: undefined }]);
}

/** Refusals of a full category tolerated for one channel: each moves on to another category, the last a new one. */
const CATEGORY_ATTEMPTS = 3;

/**
 * Creates the ticket's channel in a ticket category with room. When Discord refuses because the
 * category is full, the category's limit becomes what it holds now and the next one is tried.
 */
async function createInCategory(ctx: BridgeContext, g: Guild, ticketId: number, payload: DiscordWorkPayload<'create_channel'>, topic: string): Promise<TextChannel> {
  for (let attempt = 1; ; attempt += 1) {
    const category = await ticketCategory(ctx, g);
    try {
      return await g.channels.create({
        // A web ticket's channel is ticket-<username> (ticket-<id> if nothing of the name is left).
        name: channelNameForPlayer(payload.name, 'source' in payload ? ticketId : payload.charId),
        type: ChannelType.GuildText,
        parent: category.id,
        permissionOverwrites: privateOverwrites(ctx, g),
        topic,
        reason: `ticketbridge: ticket #${ticketId}`,
      });
    } catch (err) {
      if (!categoryRefused(err) || attempt >= CATEGORY_ATTEMPTS) throw err;
      const held = g.channels.cache.filter((c) => c.parentId === category.id).size;
      ctx.categoryLimits.set(category.id, held);
      ctx.logger.info({ categoryId: category.id, name: category.name, held }, 'discord: Discord says the ticket category is full; trying the next');
    }
  }
}

/** The log channel, or undefined (said in the log: a wrong DISCORD_LOG_CHANNEL_ID must not go unnoticed). */
export async function logChannel(ctx: BridgeContext, g: Guild, logChannelId: string): Promise<TextChannel | undefined> {
  const { logger, redact } = ctx;
  try {
    const log = await g.channels.fetch(logChannelId);
    if (log?.type === ChannelType.GuildText) return log;
    logger.warn({ logChannelId }, 'discord: DISCORD_LOG_CHANNEL_ID is not a text channel of the guild; transcripts and staff notices are not posted');
  } catch (err) {
    logger.warn({ logChannelId, err: errorText(err, redact) }, 'discord: cannot fetch the log channel (DISCORD_LOG_CHANNEL_ID); transcripts and staff notices are not posted');
  }
  return undefined;
}

/** A notice for staff: always in the log, and in the log channel when there is one. */
export async function logToStaff(ctx: BridgeContext, g: Guild, text: string): Promise<void> {
  const { config, logger, redact } = ctx;
  const logChannelId = config.discord.logChannelId;
  logger.warn({ guildId: g.id }, text);
  if (!logChannelId) return;
  const log = await logChannel(ctx, g, logChannelId);
  if (!log) return;
  await sendToChannel(log, text).catch((err: unknown) => logger.warn({ err: errorText(err, redact) }, 'discord: posting to the log channel failed'));
}

/**
 * Whether the guild can take one more ticket channel. When it cannot, players hear "offline" and
 * staff hear why, at most every 10 minutes (the check runs for every player message that would open a ticket).
 */
export function guildRoomCheck(ctx: BridgeContext): (g: Guild) => boolean {
  let lastFullWarning = 0;
  return (g) => {
    if (g.channels.cache.size < CHANNELS_PER_GUILD) return true;
    if (Date.now() - lastFullWarning > 10 * 60_000) {
      lastFullWarning = Date.now();
      void logToStaff(ctx, g, `A player could not open a ticket: the server has ${CHANNELS_PER_GUILD} channels (Discord's limit). Close or delete old ticket channels.`);
    }
    return false;
  };
}
