// The Discord side of seed 002, in the same process: a discord.js client that creates private
// ticket channels, posts players' messages (mentions disabled), relays staff messages back as
// whispers, closes tickets whose channel goes, and answers slash commands. Everything it sends goes
// through discord_outbox, so a 429, a 5xx, a dropped gateway or a restart loses nothing.
//
// This file only wires the parts, each in its own file and all sharing one context
// (src/discord/context.ts): the client and its gateway events (client.ts), the relay of staff
// messages and the catch-up after a reconnect (relay.ts), ticket and log channels (channels.ts),
// the outbox worker (worker.ts), transcripts (transcripts.ts), the setup check (setup.ts) and the
// slash commands (commands/).
import { Events } from 'discord.js';
import type { IntegrationState } from '../integrations.js';
import { errorText } from '../redact.js';
import { guildRoomCheck } from './channels.js';
import { createClient, listenToGateway } from './client.js';
import { createBridgeContext, type BridgeContext, type DiscordBridgeOptions } from './context.js';
import { checkDiscordSetup, type DiscordSetupReport } from './setup.js';
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
  /** Connection state, the setup's problems (one sentence each with its fix) and the room left. */
  state(): IntegrationState;
  /** Runs the setup check now, from freshly fetched roles and channels, and returns its problems. */
  checkSetup(): Promise<string[]>;
}

/** Guild events after which the setup may have changed; checked again from the cache, a moment later. */
const SETUP_EVENTS = [Events.GuildRoleCreate, Events.GuildRoleUpdate, Events.GuildRoleDelete, Events.ChannelCreate, Events.ChannelUpdate, Events.ChannelDelete, Events.GuildMemberUpdate] as const;
const RECHECK_DELAY_MS = 1_000;

/**
 * The setup's problems, each said in the log once when it appears (and once when it is fixed),
 * not at every check.
 */
function setupProblems(ctx: BridgeContext) {
  let problems: string[] = [];
  let room: DiscordSetupReport['room'];
  let running: Promise<string[]> | undefined;
  let again: { fetch: boolean } | undefined;
  let timer: NodeJS.Timeout | undefined;

  const set = (next: string[]) => {
    for (const p of next) if (!problems.includes(p)) ctx.logger.warn({ problem: p }, `discord setup: ${p}`);
    for (const p of problems) if (!next.includes(p)) ctx.logger.info({ problem: p }, 'discord setup: fixed');
    problems = next;
  };

  async function runOnce(fetch: boolean): Promise<string[]> {
    try {
      const report = await checkDiscordSetup(ctx.client, ctx.config, { fetch });
      if (!ctx.stopping) {
        room = report.room;
        set(report.problems);
        ctx.logger.debug({ problems: report.problems.length, fetched: fetch }, 'discord: setup checked');
      }
    } catch (err) {
      // Discord unreachable in the middle of a check: the connection state says so; keep what we knew.
      ctx.logger.warn({ err: errorText(err, ctx.redact) }, 'discord: the setup check could not finish');
    }
    return problems;
  }

  /** One check at a time; a request during one runs once more after it. */
  function check(fetch: boolean): Promise<string[]> {
    if (running) {
      again = { fetch: fetch || (again?.fetch ?? false) };
      return running.then(() => running ?? problems);
    }
    running = runOnce(fetch).finally(() => {
      running = undefined;
      if (again && !ctx.stopping) {
        const next = again;
        again = undefined;
        void check(next.fetch);
      }
    });
    return running;
  }

  return {
    check,
    /** After a guild event: one cache-only check a second later, however many events came. */
    soon() {
      if (timer || ctx.stopping || !ctx.ready) return;
      timer = setTimeout(() => {
        timer = undefined;
        if (ctx.ready && !ctx.stopping) void check(false);
      }, RECHECK_DELAY_MS);
      timer.unref();
    },
    set,
    problems: () => problems,
    room: () => room,
    stop: () => clearTimeout(timer),
  };
}

export function createDiscordBridge(options: DiscordBridgeOptions): DiscordBridge {
  const ctx = createBridgeContext(options, createClient(options.config));
  const setup = setupProblems(ctx);
  // Set when Discord refuses the bot itself (the token, the Message Content intent): the setup
  // cannot be checked then, and this is the one problem.
  let refusal: string | undefined;
  const gateway = listenToGateway(ctx, {
    connected() {
      refusal = undefined;
      void setup.check(true);
    },
    refused(problem) {
      refusal = problem;
      setup.set([problem]);
    },
  });
  for (const event of SETUP_EVENTS) ctx.client.on(event, () => setup.soon());
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
      setup.stop();
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
    state() {
      const room = setup.room();
      const problems = refusal ? [refusal] : setup.problems();
      // The last work done or failed (a refused post, a 5xx) beside the connection's own state.
      const { lastError, lastErrorAt, lastSuccessAt } = ctx.deliveries?.state() ?? {};
      return {
        ...gateway.state(),
        problems,
        ...(room ? { room } : {}),
        ...(lastError !== undefined ? { lastError, lastErrorAt } : {}),
        ...(lastSuccessAt !== undefined ? { lastSuccessAt } : {}),
      };
    },
    async checkSetup() {
      if (refusal) return [refusal];
      if (!ctx.ready) return setup.problems();
      return setup.check(true);
    },
  };
}
