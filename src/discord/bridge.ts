// The Discord side of seed 002, in the same process: a discord.js client that creates private
// ticket channels, posts players' messages (mentions disabled), relays staff messages back as
// whispers, closes tickets whose channel goes, and answers slash commands. Everything it sends goes
// through discord_outbox, so a 429, a 5xx, a dropped gateway or a restart loses nothing.
//
// This file only wires the parts, each in its own file and all sharing one context
// (src/discord/context.ts): the client and its gateway events (client.ts), the relay of staff
// messages and the catch-up after a reconnect (relay.ts), ticket and log channels (channels.ts),
// the outbox worker (worker.ts), transcripts (transcripts.ts) and the slash commands (commands/).
import type { IntegrationState } from '../integrations.js';
import { guildRoomCheck } from './channels.js';
import { createClient, listenToGateway } from './client.js';
import { createBridgeContext, type DiscordBridgeOptions } from './context.js';
import { startDiscordWorker, type DiscordWorker } from './worker.js';

export type { DiscordBridgeOptions } from './context.js';
export { CHANNELS_PER_CATEGORY, CHANNELS_PER_GUILD } from './channels.js';

export interface DiscordBridge {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Gateway shard Ready (seed 002 "RagnaSync not connected" otherwise). */
  isConnected(): boolean;
  /** Connected, and the guild has room for one more ticket channel. */
  canOpenTickets(): boolean;
  state(): IntegrationState;
}

export function createDiscordBridge(options: DiscordBridgeOptions): DiscordBridge {
  const ctx = createBridgeContext(options, createClient(options.config));
  const gateway = listenToGateway(ctx);
  const hasRoom = guildRoomCheck(ctx);
  let worker: DiscordWorker | undefined;

  return {
    async start() {
      if (ctx.config.discord.staffRoleIds.length === 0) ctx.logger.warn('discord: DISCORD_STAFF_ROLE_IDS is empty: only members with the Administrator permission count as staff');
      worker = startDiscordWorker(ctx);
      gateway.login();
    },
    async stop() {
      if (ctx.stopping) return;
      ctx.stopping = true;
      await worker?.stop();
      await ctx.client.destroy();
      ctx.ready = false;
    },
    isConnected: () => gateway.isConnected(),
    canOpenTickets() {
      const g = ctx.guild();
      if (!gateway.isConnected() || g === undefined) return false;
      return hasRoom(g);
    },
    state: () => gateway.state(),
  };
}
