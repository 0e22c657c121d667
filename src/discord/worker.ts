// The Discord worker: carries out what the ticket domain queued in discord_outbox
// (src/tickets/discordWork.ts) while the gateway is up. Lanes run side by side, never two on one
// ticket, so one ticket's posts stay in order; consecutive posts to a channel go out as one message;
// a failure is retried with backoff, and a row that cannot be read is set aside, never retried in a
// loop. Because every send goes through the outbox, a 429, a 5xx, a dropped gateway or a restart
// loses nothing.
import type { Guild } from 'discord.js';
import { finishDiscordWork, followingDiscordWork, nextDiscordWork, nextDiscordWorkDueAt, retryDiscordWork, setAsideDiscordWork } from '../db/outboxes.js';
import { ticketById } from '../db/tickets.js';
import { errorText } from '../redact.js';
import { readDiscordWork, type DiscordWork } from '../tickets/discordWork.js';
import { DISCORD_MESSAGE_MAX } from '../tickets/game.js';
import { createTicketChannel, sendToChannel, ticketChannel } from './channels.js';
import type { BridgeContext } from './context.js';
import { postContent } from './format.js';
import { postRating, postTranscript } from './transcripts.js';

/** Discord work runs in this many lanes (different tickets side by side; discord.js keeps to the rate limits). */
const WORKER_LANES = 4;

function backoffMs(attempts: number): number {
  return Math.min(1000 * 2 ** attempts, 5 * 60_000);
}

/** A post to the ticket's channel; with the channel gone and the ticket closed there is nowhere to post (it stays in SQLite). */
async function postMessage(ctx: BridgeContext, g: Guild, ticketId: number, content: string, nonce: string | undefined): Promise<void> {
  const channel = await ticketChannel(ctx, g, ticketId);
  if (!channel) {
    const ticket = ticketById(ctx.db, ticketId);
    if (!ticket || ticket.status === 'closed') return; // nowhere to post any more; kept in SQLite
    throw new Error('ticket channel not available yet');
  }
  await sendToChannel(channel, content, [], nonce);
}

/** The closed ticket's transcript to the log channel (src/discord/transcripts.ts), then its channel deleted. */
async function closeChannel(ctx: BridgeContext, g: Guild, ticketId: number, reason: string): Promise<void> {
  const channel = await ticketChannel(ctx, g, ticketId);
  await postTranscript(ctx, g, ticketId, reason);
  if (channel) await channel.delete(`ticketbridge: ticket #${ticketId} closed`);
}

async function perform(ctx: BridgeContext, ticketId: number, work: DiscordWork, nonce?: string): Promise<void> {
  const g = ctx.guild();
  if (!g) throw new Error('guild not available');
  switch (work.kind) {
    case 'create_channel':
      return createTicketChannel(ctx, g, ticketId, work.payload);
    case 'post_message':
      return postMessage(ctx, g, ticketId, postContent(work.payload, { appUrl: ctx.config.appUrl, ticketId }), nonce);
    case 'close_channel':
      return closeChannel(ctx, g, ticketId, work.payload.reason);
    case 'rating_posted':
      return postRating(ctx, g, ticketId, work.payload);
  }
}

/**
 * Consecutive posts to one ticket's channel go out as one Discord message while they fit in
 * 2,000 characters: a burst of in-game messages costs one request, not one each. The same outbox
 * rows make the same message and the same nonce (at most 25 characters).
 */
function withFollowingPosts(ctx: BridgeContext, rowId: number, ticketId: number, work: DiscordWork): { ids: number[]; work: DiscordWork; nonce?: string } {
  if (work.kind !== 'post_message') return { ids: [rowId], work };
  const ids = [rowId];
  let content = postContent(work.payload, { appUrl: ctx.config.appUrl, ticketId });
  for (const next of followingDiscordWork(ctx.db, ticketId, rowId, 20)) {
    const read = readDiscordWork(next);
    if (!read.ok || read.work.kind !== 'post_message') break;
    const more = postContent(read.work.payload, { appUrl: ctx.config.appUrl, ticketId });
    if (content.length + 1 + more.length > DISCORD_MESSAGE_MAX) break;
    content = `${content}\n${more}`;
    ids.push(next.id);
  }
  return { ids, work: { kind: 'post_message', payload: { content } }, nonce: `tb${ids[0]!.toString(36)}-${ids.at(-1)!.toString(36)}` };
}

/** One lane of the worker: lanes run side by side, never two on the same ticket. */
async function runLane(ctx: BridgeContext, busy: Set<number>, stop: AbortSignal): Promise<void> {
  const { db, logger, redact, signals } = ctx;
  while (!stop.aborted) {
    if (!ctx.ready) {
      await signals.discordWork.wait(1000, stop);
      continue;
    }
    const now = Date.now();
    const work = nextDiscordWork(db, now, [...busy]);
    if (!work) {
      const due = nextDiscordWorkDueAt(db);
      await signals.discordWork.wait(due !== undefined && due > now ? Math.min(due - now, 30_000) : 30_000, stop);
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
    const batch = withFollowingPosts(ctx, work.id, ticketId, read.work);
    try {
      await perform(ctx, ticketId, batch.work, batch.nonce);
      finishDiscordWork(db, batch.ids, Date.now());
      ctx.deliveries?.success();
    } catch (err) {
      const message = errorText(err, redact);
      ctx.deliveries?.failure(message);
      logger.warn({ workId: work.id, kind: work.kind, attempts: work.attempts + 1, err: message }, 'discord: work failed, will retry');
      retryDiscordWork(db, work.id, message, Date.now() + backoffMs(work.attempts));
    } finally {
      busy.delete(ticketId);
    }
  }
}

export interface DiscordWorker {
  /** Ends every lane after the work in hand and resolves when all have ended. */
  stop(): Promise<void>;
}

export function startDiscordWorker(ctx: BridgeContext): DiscordWorker {
  const stopWorker = new AbortController();
  const busy = new Set<number>();
  const lanes = Promise.all(Array.from({ length: WORKER_LANES }, () => runLane(ctx, busy, stopWorker.signal))).then(() => undefined);
  return {
    async stop() {
      stopWorker.abort();
      await lanes;
    },
  };
}
