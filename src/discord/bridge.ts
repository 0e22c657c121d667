// The Discord side of seed 002, in the same process: a discord.js client that creates private
// ticket channels, posts players' messages (mentions disabled), relays staff messages back as
// whispers, closes tickets whose channel goes, and answers slash commands. Everything it sends goes
// through discord_outbox, so a 429, a 5xx, a dropped gateway or a restart loses nothing.
import {
  AttachmentBuilder,
  ChannelType,
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  MessageType,
  Options,
  OverwriteType,
  PermissionFlagsBits,
  type CategoryChannel,
  type Guild,
  type GuildMember,
  type Message,
  type OverwriteResolvable,
  type TextChannel,
} from 'discord.js';
import type { Config } from '../config.js';
import { inTransaction, type Db } from '../db/index.js';
import { guildSettings } from '../db/guilds.js';
import { saveSetting, setting } from '../db/settings.js';
import { lastDiscordMessageId, ticketMessages } from '../db/messages.js';
import { finishDiscordWork, followingDiscordWork, nextDiscordWork, nextDiscordWorkDueAt, retryDiscordWork, setAsideDiscordWork } from '../db/outboxes.js';
import { openBridgedTickets, setTicketChannel, ticketByChannelId, ticketById, ticketChannelId } from '../db/tickets.js';
import type { Logger } from '../log.js';
import { createRedactor, errorText } from '../redact.js';
import type { Signal } from '../signal.js';
import { discordChannelGone, receiveDiscordStaffMessage } from '../tickets/game.js';
import { notifyChannelsOf } from '../tickets/notifications.js';
import type { IntegrationState } from '../integrations.js';
import { handleInteraction, SLASH_COMMANDS } from './commands.js';
import { readDiscordWork, type DiscordWork } from '../tickets/discordWork.js';
import { discordName, postContent } from './format.js';
import { gameTextOfMessage } from './gameText.js';
import { channelNameForPlayer, splitForDiscord } from './naming.js';
import { isStaffMember } from './staff.js';

/** Discord's limits (https://support.discord.com/hc/en-us/articles/33694251638295). */
export const CHANNELS_PER_CATEGORY = 50;
export const CHANNELS_PER_GUILD = 500;

export interface DiscordBridgeOptions {
  db: Db;
  config: Config;
  logger: Logger;
  signals: { whispers: Signal; discordWork: Signal; notifications: Signal };
}

export interface DiscordBridge {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Gateway shard Ready (seed 002 "RagnaSync not connected" otherwise). */
  isConnected(): boolean;
  /** Connected, and the guild has room for one more ticket channel. */
  canOpenTickets(): boolean;
  state(): IntegrationState;
}

/** Discord work runs in this many lanes (different tickets side by side; discord.js keeps to the rate limits). */
const WORKER_LANES = 4;
const DISCORD_MESSAGE_MAX = 2000;

function backoffMs(attempts: number): number {
  return Math.min(1000 * 2 ** attempts, 5 * 60_000);
}

/** The settings key of a ticket's catch-up start (a Discord message id). */
function readToKey(ticketId: number): string {
  return `discord.read_to.${ticketId}`;
}

export function createDiscordBridge(options: DiscordBridgeOptions): DiscordBridge {
  const { db, config, logger, signals } = options;
  const token = config.discord.token!;
  const guildId = config.discord.guildId!;
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: config.discord.apiUrl ? { api: config.discord.apiUrl } : {},
    allowedMentions: { parse: [], repliedUser: false },
    // Every message lives in SQLite; discord.js's default of 200 cached messages per channel cost
    // tens of MB with a few hundred ticket channels (issue #7, RSS). Catch-up fetches what it reads.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }),
  });
  let ready = false;
  let stopping = false;
  let lastError: string | undefined;
  let lastFullWarning = 0;
  let worker: Promise<void> | undefined;
  const stopWorker = new AbortController();
  // Errors go to the log, discord_outbox.last_error and the admin page: without secrets (src/redact.ts).
  const redact = createRedactor(config);

  const guild = (): Guild | undefined => client.guilds.cache.get(guildId);

  client.on(Events.ClientReady, async () => {
    // Taken before any live message can be relayed (see catchUpCursors).
    const cursors = catchUpCursors();
    ready = true;
    lastError = undefined;
    logger.info({ guildId }, 'discord: ready');
    try {
      await onReady(cursors);
    } catch (err) {
      logger.error({ err }, 'discord: setting up after ready failed');
    }
  });
  client.on(Events.ShardReady, () => {
    ready = true;
    signals.discordWork.notify();
  });
  client.on(Events.ShardResume, () => {
    ready = true;
    signals.discordWork.notify();
    void catchUp(catchUpCursors());
  });
  client.on(Events.ShardDisconnect, () => {
    ready = false;
  });
  client.on(Events.ShardReconnecting, () => {
    ready = false;
  });
  client.on(Events.Invalidated, () => {
    ready = false;
    lastError = 'session invalidated';
  });
  client.on(Events.Error, (err) => {
    lastError = errorText(err, redact);
    logger.warn({ err: lastError }, 'discord: client error');
  });
  client.on(Events.MessageCreate, (message) => {
    // MESSAGE_CREATE in a guild carries the author's member object (roles included): message.member.
    if (!stopping) relayStaffMessage(message, message.member);
  });
  client.on(Events.ChannelDelete, (channel) => {
    if (stopping) return;
    const ticket = ticketByChannelId(db, channel.id);
    if (ticket && discordChannelGone(db, ticket.id, notifyChannelsOf(config))) logger.info({ ticketId: ticket.id }, 'discord: ticket channel deleted, ticket closed');
  });
  client.on(Events.InteractionCreate, (interaction) => {
    if (stopping || !interaction.isChatInputCommand()) return;
    void handleInteraction(interaction, { db, config, logger, signals });
  });

  async function onReady(cursors: CatchUpCursor[]): Promise<void> {
    const g = guild() ?? (await client.guilds.fetch(guildId));
    if (stopping) return;
    guildSettings(db, g.id, config.game.closeOnLogoutDefault);
    try {
      await g.commands.set(SLASH_COMMANDS);
    } catch (err) {
      logger.warn({ err }, 'discord: registering slash commands failed');
    }
    await catchUp(cursors);
    signals.discordWork.notify();
  }

  function isStaffMessage(message: Message): boolean {
    if (message.author.bot || message.webhookId || message.system) return false;
    return message.type === MessageType.Default || message.type === MessageType.Reply;
  }

  /**
   * A member's message in a ticket channel becomes a staff answer (stored, whispered) only if the
   * member is staff (src/discord/staff.ts); anyone else there got in through permissions loosened
   * by hand, and is ignored.
   */
  function relayStaffMessage(message: Message, member: GuildMember | null): void {
    if (!message.inGuild() || message.guildId !== guildId || !isStaffMessage(message)) return;
    const ticket = ticketByChannelId(db, message.channelId);
    if (!ticket) return;
    const name = member?.displayName ?? message.author.username;
    if (!isStaffMember(member, config.discord.staffRoleIds)) {
      logger.warn(
        { ticketId: ticket.id, memberId: message.author.id, member: name, messageId: message.id },
        'discord: ignored a message in a ticket channel from a member who is not staff',
      );
      return;
    }
    const text = gameTextOfMessage(message, config.timeZone);
    receiveDiscordStaffMessage(db, {
      ticketId: ticket.id,
      discordMessageId: message.id,
      authorName: name,
      text,
      whisperMax: config.game.whisperMax,
      notify: notifyChannelsOf(config),
    });
  }

  interface CatchUpCursor {
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
  function catchUpCursors(): CatchUpCursor[] {
    return openBridgedTickets(db).map(({ id, channelId }) => ({ id, channelId, after: setting<string>(db, readToKey(id)) ?? lastDiscordMessageId(db, id) }));
  }

  /** A new (or adopted) ticket channel: stored with its catch-up start, in one transaction. */
  function storeTicketChannel(ticketId: number, channelId: string): void {
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

  /** After a (re)connect: relay staff messages sent while we were away; close tickets whose channel is gone. */
  async function catchUp(cursors: CatchUpCursor[]): Promise<void> {
    const g = guild();
    if (!g) return;
    const members = new Map<string, GuildMember | null>();
    for (const { id, channelId, after: start } of cursors) {
      // Stopping closes the database after us: a catch-up still fetching must not touch it.
      if (stopping) return;
      let channel;
      try {
        channel = await g.channels.fetch(channelId);
      } catch (err) {
        if (stopping) return;
        if ((err as { status?: number }).status === 404) discordChannelGone(db, id, notifyChannelsOf(config));
        else logger.warn({ ticketId: id, channelId, err: errorText(err, redact) }, 'discord: cannot fetch a ticket channel to catch up; trying again at the next reconnect');
        continue;
      }
      if (!channel?.isTextBased()) continue;
      try {
        // Oldest first, 100 at a time (relaying a message twice stores it once).
        let after = start ?? '0';
        for (let page = 0; page < 20; page++) {
          const messages = await channel.messages.fetch({ limit: 100, after });
          if (stopping) return;
          const sorted = [...messages.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
          for (const message of sorted) {
            if (!isStaffMessage(message)) continue;
            const member = await authorMember(g, message.author.id, members);
            if (stopping) return;
            relayStaffMessage(message, member);
          }
          if (sorted.length > 0) after = sorted.at(-1)!.id;
          if (sorted.length < 100) break;
        }
        const stored = setting<string>(db, readToKey(id));
        if (stored === undefined || BigInt(after) > BigInt(stored)) saveSetting(db, readToKey(id), after);
      } catch (err) {
        logger.warn({ err, ticketId: id }, 'discord: catching up on a ticket channel failed');
      }
    }
  }

  async function ticketCategory(g: Guild): Promise<CategoryChannel> {
    await g.channels.fetch();
    const settings = guildSettings(db, g.id, config.game.closeOnLogoutDefault);
    const preferred = config.discord.ticketCategoryId ?? settings.ticketCategoryId;
    const categories = [...g.channels.cache.values()].filter((c): c is CategoryChannel => c.type === ChannelType.GuildCategory);
    const children = (category: CategoryChannel) => g.channels.cache.filter((c) => c.parentId === category.id).size;
    const candidates = categories.filter((c) => c.id === preferred || /^tickets( \d+)?$/i.test(c.name));
    const withRoom = candidates.find((c) => children(c) < CHANNELS_PER_CATEGORY);
    if (withRoom) return withRoom;
    // Every ticket category is full (Discord allows 50 channels in one): open the next one.
    const name = candidates.length === 0 ? 'Tickets' : `Tickets ${candidates.length + 1}`;
    const created = await g.channels.create({ name, type: ChannelType.GuildCategory, reason: 'ticketbridge: ticket category' });
    logger.info({ categoryId: created.id, name }, 'discord: created a ticket category');
    return created;
  }

  function privateOverwrites(g: Guild): OverwriteResolvable[] {
    const staffAllow = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages, PermissionFlagsBits.ReadMessageHistory, PermissionFlagsBits.AttachFiles];
    return [
      { id: g.roles.everyone.id, type: OverwriteType.Role, deny: [PermissionFlagsBits.ViewChannel] },
      ...config.discord.staffRoleIds.map((id) => ({ id, type: OverwriteType.Role, allow: staffAllow })),
      { id: client.user!.id, type: OverwriteType.Member, allow: [...staffAllow, PermissionFlagsBits.ManageChannels, PermissionFlagsBits.EmbedLinks] },
    ];
  }

  /**
   * Posts `content` (split at 2,000 characters). With a `nonce`, each part carries `<nonce>-<i>`
   * and enforce_nonce: when a retry repeats a post Discord already stored (its answer was lost,
   * or we crashed before marking the work done), Discord returns the first message instead of
   * posting it twice. Discord remembers nonces for a few minutes. Links never unfurl: a preview
   * of a player's link would sit under the post like something the bot vouches for.
   */
  async function send(channel: TextChannel, content: string, files: AttachmentBuilder[] = [], nonce?: string): Promise<void> {
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

  async function ticketChannel(g: Guild, ticketId: number): Promise<TextChannel | undefined> {
    const channelId = ticketChannelId(db, ticketId);
    if (!channelId) return undefined;
    try {
      const channel = await g.channels.fetch(channelId);
      return channel?.type === ChannelType.GuildText ? channel : undefined;
    } catch (err) {
      if ((err as { status?: number }).status === 404) return undefined;
      throw err;
    }
  }

  function transcript(ticketId: number): string {
    const ticket = ticketById(db, ticketId)!;
    const lines = [`Ticket #${ticket.id}: ${ticket.subject}`, `Player: ${ticket.gameCharName} (account ${ticket.gameAccountId}, char ${ticket.gameCharId})`, ''];
    for (const m of ticketMessages(db, ticketId, true)) {
      const who = m.authorKind === 'system' ? '*' : `${m.authorName}${m.authorKind === 'staff' ? ' (Support)' : ''}${m.internal ? ' [note]' : ''}`;
      lines.push(`[${new Date(m.createdAt).toISOString()}] ${who}: ${m.body}`);
    }
    return `${lines.join('\n')}\n`;
  }

  async function perform(ticketId: number, work: DiscordWork, nonce?: string): Promise<void> {
    const g = guild();
    if (!g) throw new Error('guild not available');
    switch (work.kind) {
      case 'create_channel': {
        const payload = work.payload;
        if (ticketChannelId(db, ticketId)) return; // already made (a retry after a crash)
        const topic = `ticketbridge ticket #${ticketId}`;
        const welcome = `New ticket #${ticketId} from **${discordName(payload.name)}** (account ${payload.accountId}, char ${payload.charId}). Write here to answer: it is whispered in game.`;
        // A crash between creating the channel and storing its id leaves the channel behind: take
        // it, rather than making a second one where staff answers would go unheard.
        const left = g.channels.cache.find((c): c is TextChannel => c.type === ChannelType.GuildText && c.topic === topic && c.permissionOverwrites.cache.has(client.user!.id));
        if (left) {
          storeTicketChannel(ticketId, left.id);
          if (left.lastMessageId === null) await send(left, welcome);
          await catchUp([{ id: ticketId, channelId: left.id, after: undefined }]);
          return;
        }
        if (g.channels.cache.size >= CHANNELS_PER_GUILD) {
          await logToStaff(g, `Ticket #${ticketId} could not get a channel: the server has ${CHANNELS_PER_GUILD} channels (Discord's limit).`);
          throw new Error('guild channel limit reached');
        }
        const category = await ticketCategory(g);
        const name = channelNameForPlayer(payload.name, payload.charId);
        const channel = await g.channels.create({
          name,
          type: ChannelType.GuildText,
          parent: category.id,
          permissionOverwrites: privateOverwrites(g),
          topic,
          reason: `ticketbridge: ticket #${ticketId}`,
        });
        storeTicketChannel(ticketId, channel.id);
        await send(channel, welcome);
        // Staff may have written before the channel's id was stored (relayed live, such a message
        // found no ticket): relay what is there now.
        await catchUp([{ id: ticketId, channelId: channel.id, after: undefined }]);
        return;
      }
      case 'post_message': {
        const channel = await ticketChannel(g, ticketId);
        if (!channel) {
          const ticket = ticketById(db, ticketId);
          if (!ticket || ticket.status === 'closed') return; // nowhere to post any more; kept in SQLite
          throw new Error('ticket channel not available yet');
        }
        await send(channel, postContent(work.payload), [], nonce);
        return;
      }
      case 'close_channel': {
        const channel = await ticketChannel(g, ticketId);
        const logChannelId = config.discord.logChannelId;
        if (logChannelId) {
          const log = await logChannel(g, logChannelId);
          if (log) {
            await send(log, `Ticket #${ticketId} closed (${work.payload.reason}). Transcript attached.`, [
              new AttachmentBuilder(Buffer.from(transcript(ticketId), 'utf8'), { name: `ticket-${ticketId}.txt` }),
            ]);
          }
        }
        if (channel) await channel.delete(`ticketbridge: ticket #${ticketId} closed`);
        return;
      }
    }
  }

  /** The log channel, or undefined (said in the log: a wrong DISCORD_LOG_CHANNEL_ID must not go unnoticed). */
  async function logChannel(g: Guild, logChannelId: string): Promise<TextChannel | undefined> {
    try {
      const log = await g.channels.fetch(logChannelId);
      if (log?.type === ChannelType.GuildText) return log;
      logger.warn({ logChannelId }, 'discord: DISCORD_LOG_CHANNEL_ID is not a text channel of the guild; transcripts and staff notices are not posted');
    } catch (err) {
      logger.warn({ logChannelId, err: errorText(err, redact) }, 'discord: cannot fetch the log channel (DISCORD_LOG_CHANNEL_ID); transcripts and staff notices are not posted');
    }
    return undefined;
  }

  async function logToStaff(g: Guild, text: string): Promise<void> {
    const logChannelId = config.discord.logChannelId;
    logger.warn({ guildId: g.id }, text);
    if (!logChannelId) return;
    const log = await logChannel(g, logChannelId);
    if (!log) return;
    await send(log, text).catch((err: unknown) => logger.warn({ err: errorText(err, redact) }, 'discord: posting to the log channel failed'));
  }

  /**
   * Consecutive posts to one ticket's channel go out as one Discord message while they fit in
   * 2,000 characters: a burst of in-game messages costs one request, not one each. The same outbox
   * rows make the same message and the same nonce (at most 25 characters).
   */
  function withFollowingPosts(rowId: number, ticketId: number, work: DiscordWork): { ids: number[]; work: DiscordWork; nonce?: string } {
    if (work.kind !== 'post_message') return { ids: [rowId], work };
    const ids = [rowId];
    let content = postContent(work.payload);
    for (const next of followingDiscordWork(db, ticketId, rowId, 20)) {
      const read = readDiscordWork(next);
      if (!read.ok || read.work.kind !== 'post_message') break;
      const more = postContent(read.work.payload);
      if (content.length + 1 + more.length > DISCORD_MESSAGE_MAX) break;
      content = `${content}\n${more}`;
      ids.push(next.id);
    }
    return { ids, work: { kind: 'post_message', payload: { content } }, nonce: `tb${ids[0]!.toString(36)}-${ids.at(-1)!.toString(36)}` };
  }

  /** One lane of the worker: lanes run side by side, never two on the same ticket. */
  async function runWorker(busy: Set<number>): Promise<void> {
    while (!stopWorker.signal.aborted) {
      if (!ready) {
        await signals.discordWork.wait(1000, stopWorker.signal);
        continue;
      }
      const now = Date.now();
      const work = nextDiscordWork(db, now, [...busy]);
      if (!work) {
        const due = nextDiscordWorkDueAt(db);
        await signals.discordWork.wait(due !== undefined && due > now ? Math.min(due - now, 30_000) : 30_000, stopWorker.signal);
        continue;
      }
      const read = readDiscordWork(work);
      if (!read.ok || work.ticketId === null) {
        // Set aside with its reason (the row stays for a look), never retried in a loop.
        const reason = read.ok ? 'work without a ticket' : read.reason;
        logger.error({ workId: work.id, kind: work.kind }, `discord: setting work aside: ${reason}`);
        setAsideDiscordWork(db, work.id, reason, Date.now());
        continue;
      }
      const ticketId = work.ticketId;
      busy.add(ticketId);
      const batch = withFollowingPosts(work.id, ticketId, read.work);
      try {
        await perform(ticketId, batch.work, batch.nonce);
        finishDiscordWork(db, batch.ids, Date.now());
      } catch (err) {
        const message = errorText(err, redact);
        logger.warn({ workId: work.id, kind: work.kind, attempts: work.attempts + 1, err: message }, 'discord: work failed, will retry');
        retryDiscordWork(db, work.id, message, Date.now() + backoffMs(work.attempts));
      } finally {
        busy.delete(ticketId);
      }
    }
  }

  return {
    async start() {
      if (config.discord.staffRoleIds.length === 0) logger.warn('discord: DISCORD_STAFF_ROLE_IDS is empty: only members with the Administrator permission count as staff');
      const busy = new Set<number>();
      worker = Promise.all(Array.from({ length: WORKER_LANES }, () => runWorker(busy))).then(() => undefined);
      client.login(token).catch((err: unknown) => {
        lastError = errorText(err, redact);
        logger.error({ err: lastError }, 'discord: login failed; game tickets answer "offline" until it works');
      });
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      stopWorker.abort();
      await worker;
      await client.destroy();
      ready = false;
    },
    isConnected: () => ready && client.ws.shards.every((shard) => shard.status === 0),
    canOpenTickets() {
      const g = guild();
      if (!this.isConnected() || g === undefined) return false;
      if (g.channels.cache.size < CHANNELS_PER_GUILD) return true;
      // The guild is full: players hear "offline"; staff hear why, at most every 10 minutes.
      if (Date.now() - lastFullWarning > 10 * 60_000) {
        lastFullWarning = Date.now();
        void logToStaff(g, `A player could not open a ticket: the server has ${CHANNELS_PER_GUILD} channels (Discord's limit). Close or delete old ticket channels.`);
      }
      return false;
    },
    state(): IntegrationState {
      if (ready) return { state: 'ready' };
      return { state: lastError ? 'down' : 'starting', ...(lastError ? { detail: lastError } : {}) };
    },
  };
}
