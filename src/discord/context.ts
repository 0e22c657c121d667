// What the parts of the Discord bridge share, in one object per bridge (src/discord/bridge.ts makes
// it and hands it to each part): the database and config, the one discord.js client, whether the
// gateway is ready, whether the bridge is stopping, the logger and the redactor. Nothing of it is
// module state, because two bridges can run in one process (the tests restart a bridge against the
// same database while the first one stops).
import type { Client, Guild } from 'discord.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { DeliveryRecord } from '../integrations.js';
import type { Logger } from '../log.js';
import { createRedactor, type Redactor } from '../redact.js';
import type { Signal } from '../signal.js';

export interface DiscordBridgeOptions {
  db: Db;
  config: Config;
  logger: Logger;
  signals: { whispers: Signal; discordWork: Signal; notifications: Signal };
  /** Where the outbox worker records each piece of work done or failed (state, last error, metrics). */
  deliveries?: DeliveryRecord;
}

export interface BridgeContext extends DiscordBridgeOptions {
  client: Client;
  guildId: string;
  /** Errors go to the log, discord_outbox.last_error and the admin page: without secrets (src/redact.ts). */
  redact: Redactor;
  /** The gateway is up: the worker sends only then (src/discord/client.ts keeps it current). */
  ready: boolean;
  /** Set once by stop(): the database closes after us, so nothing may touch it any more. */
  stopping: boolean;
  /** The configured guild, once the gateway has sent it. */
  guild(): Guild | undefined;
  /** Ticket categories Discord refused a channel in, with how many they held then (src/discord/channels.ts). */
  categoryLimits: Map<string, number>;
}

export function createBridgeContext(options: DiscordBridgeOptions, client: Client): BridgeContext {
  const guildId = options.config.discord.guildId!;
  return {
    ...options,
    client,
    guildId,
    redact: createRedactor(options.config),
    ready: false,
    stopping: false,
    guild: () => client.guilds.cache.get(guildId),
    categoryLimits: new Map(),
  };
}
