// The discord.js client and its gateway: the one connection to Discord, what each gateway event
// does (a ready or resumed session catches up on missed staff messages, a live staff message is
// relayed, a deleted ticket channel closes its ticket, a slash command is answered, an autocomplete
// gets its choices), and the connection state the game API and /healthz read. While it is down, game tickets answer
// "offline" and the worker waits; nothing is lost, since all work sits in discord_outbox.
import { Client, Events, GatewayIntentBits, Options } from 'discord.js';
import type { Config } from '../config.js';
import { guildSettings } from '../db/guilds.js';
import { ticketByChannelId } from '../db/tickets.js';
import type { IntegrationState } from '../integrations.js';
import { errorText } from '../redact.js';
import { discordChannelGone } from '../tickets/game.js';
import { notifyChannelsOf } from '../tickets/notifications.js';
import { handleAutocomplete, handleInteraction, SLASH_COMMANDS } from './commands/index.js';
import type { BridgeContext } from './context.js';
import { catchUp, catchUpCursors, relayStaffMessage, type CatchUpCursor } from './relay.js';
import { DISALLOWED_INTENTS_CLOSE, loginProblem } from './setup.js';

export function createClient(config: Config): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: config.discord.apiUrl ? { api: config.discord.apiUrl } : {},
    allowedMentions: { parse: [], repliedUser: false },
    // Every message lives in SQLite; discord.js's default of 200 cached messages per channel cost
    // tens of MB with a few hundred ticket channels (issue #7, RSS). Catch-up fetches what it reads.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }),
  });
}

export interface Gateway {
  /** Logs in without waiting: a failure is logged and shown in state(), and game tickets answer "offline". */
  login(): void;
  /** Gateway shard Ready (seed 002 "RagnaSync not connected" otherwise). */
  isConnected(): boolean;
  state(): IntegrationState;
}

/** What the bridge hears from the gateway besides the state: a (re)connected session, a failed login. */
export interface GatewayHooks {
  /** A session is up: the first Ready, a re-identify or a resume (the setup check runs again). */
  connected(): void;
  /** Login failed or the gateway refused the bot for good; `problem` is loginProblem()'s sentence. */
  refused(problem: string): void;
}

/** Once the session is up: guild settings, slash commands, then the catch-up, then the worker wakes. */
async function onReady(ctx: BridgeContext, cursors: CatchUpCursor[]): Promise<void> {
  const { client, db, config, logger, guildId } = ctx;
  const g = ctx.guild() ?? (await client.guilds.fetch(guildId));
  if (ctx.stopping) return;
  guildSettings(db, g.id, config.game.closeOnLogoutDefault);
  try {
    await g.commands.set(SLASH_COMMANDS);
  } catch (err) {
    logger.warn({ err }, 'discord: registering slash commands failed');
  }
  await catchUp(ctx, cursors);
  ctx.signals.discordWork.notify();
}

/** Events that change the connection: `ready` in the context, the last error here for state(). */
function watchConnection(ctx: BridgeContext, setLastError: (error: string | undefined, closeCode?: number) => void, hooks: GatewayHooks): void {
  const { client, logger, guildId, redact, signals } = ctx;
  let readyOnce = false;
  client.on(Events.ClientReady, async () => {
    // Taken before any live message can be relayed (see catchUpCursors).
    const cursors = catchUpCursors(ctx);
    ctx.ready = true;
    setLastError(undefined);
    logger.info({ guildId }, 'discord: ready');
    try {
      await onReady(ctx, cursors);
    } catch (err) {
      logger.error({ err }, 'discord: setting up after ready failed');
    }
    readyOnce = true;
    hooks.connected();
  });
  client.on(Events.ShardReady, () => {
    ctx.ready = true;
    signals.discordWork.notify();
    // The first Ready is ClientReady's (above); a later one is a re-identify after a reconnect.
    if (readyOnce) hooks.connected();
  });
  client.on(Events.ShardResume, () => {
    ctx.ready = true;
    signals.discordWork.notify();
    void catchUp(ctx, catchUpCursors(ctx));
    hooks.connected();
  });
  client.on(Events.ShardDisconnect, (event) => {
    ctx.ready = false;
    // 4014 and the other codes discord.js gives up on: the bot stays away until the fix and a restart.
    if (event.code === DISALLOWED_INTENTS_CLOSE) {
      setLastError('the gateway closed with 4014 (disallowed intents)', event.code);
      hooks.refused(loginProblem('', event.code));
    }
  });
  client.on(Events.ShardReconnecting, () => {
    ctx.ready = false;
  });
  client.on(Events.Invalidated, () => {
    ctx.ready = false;
    setLastError('session invalidated');
  });
  client.on(Events.Error, (err) => {
    const error = errorText(err, redact);
    setLastError(error);
    logger.warn({ err: error }, 'discord: client error');
  });
}

/** Events from the guild: staff messages, deleted ticket channels, slash commands. None once stopping. */
function watchGuild(ctx: BridgeContext): void {
  const { client, db, config, logger, signals } = ctx;
  client.on(Events.MessageCreate, (message) => {
    // MESSAGE_CREATE in a guild carries the author's member object (roles included): message.member.
    if (!ctx.stopping) relayStaffMessage(ctx, message, message.member);
  });
  client.on(Events.ChannelDelete, (channel) => {
    if (ctx.stopping) return;
    const ticket = ticketByChannelId(db, channel.id);
    if (ticket && discordChannelGone(db, ticket.id, notifyChannelsOf(config))) logger.info({ ticketId: ticket.id }, 'discord: ticket channel deleted, ticket closed');
  });
  client.on(Events.InteractionCreate, (interaction) => {
    if (ctx.stopping) return;
    if (interaction.isAutocomplete()) void handleAutocomplete(interaction, { db, config, logger, signals });
    else if (interaction.isChatInputCommand()) void handleInteraction(interaction, { db, config, logger, signals });
  });
}

export function listenToGateway(ctx: BridgeContext, hooks: GatewayHooks): Gateway {
  let lastError: string | undefined;
  let closeCode: number | undefined;
  watchConnection(
    ctx,
    (error, code) => {
      lastError = error;
      closeCode = code;
    },
    hooks,
  );
  watchGuild(ctx);
  return {
    login() {
      ctx.client.login(ctx.config.discord.token!).catch((err: unknown) => {
        // A 4014 close rejects the login too ("Used disallowed intents"); its code is kept from ShardDisconnect.
        lastError = closeCode === DISALLOWED_INTENTS_CLOSE ? lastError : errorText(err, ctx.redact);
        ctx.logger.error({ err: lastError }, 'discord: login failed; game tickets answer "offline" until it works');
        hooks.refused(loginProblem(lastError ?? '', closeCode));
      });
    },
    isConnected: () => ctx.ready && ctx.client.ws.shards.every((shard) => shard.status === 0),
    state(): IntegrationState {
      if (ctx.ready) return { state: 'ready' };
      return { state: lastError ? 'down' : 'starting', ...(lastError ? { detail: lastError } : {}) };
    },
  };
}
