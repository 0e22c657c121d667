// Crash durability (issue #8, point 1): the real server under mixed load (support/load.ts) is
// killed with SIGKILL at random moments and started again on the same files, round after round;
// then, after a last clean start, everything it acknowledged is checked in the SQLite file and at
// the fakes. Used by scripts/chaos.ts (`npm run test:chaos`, 20 rounds) and
// test/chaos/chaos.test.ts (the quick CI version).
//
// What "exactly once" means here:
//   - stored rows: every request that got a success answer (303 with the new ticket / message,
//     200 ok:true from the game API) left exactly one message carrying its unique marker; a
//     request whose answer was lost left at most one; an "offline" game answer left none;
//   - whispers: no whisper is handed out again after its ack was confirmed, every expected text
//     part reaches the fake game server at least once and is queued exactly once; redelivery
//     happens only to ids whose ack never got an answer;
//   - notifications (email, Telegram): every outbox row is sent; a second copy is possible only
//     when the kill fell between the hand-over to the SMTP server / Bot API and marking the row
//     sent (at-least-once delivery): at most one extra copy per kill and channel (each channel's
//     worker sends one message at a time). Both copies of a mail carry the same Message-ID.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, prepared, type Db } from '../src/db/index.js';
import { discordToGameText } from '../src/discord/gameText.js';
import { splitWhisper } from '../src/tickets/whispers.js';
import {
  CHAOS_MIX,
  createEnvironment,
  LoadGenerator,
  rng,
  sleep,
  startServerProcess,
  type Environment,
  type Ledger,
  type LoadServer,
} from './load.js';

export interface ChaosOptions {
  rounds: number;
  seed?: number;
  /** Concurrent user loops. */
  concurrency?: number;
  /** Pause between two operations of one loop, ms. */
  pauseMs?: [number, number];
  /** Load time before the kill, ms (uniform). */
  roundMs?: [number, number];
  /** Chance that a round is killed 0-400 ms after it listens instead (start-up, catch-up). Default 0.15. */
  earlyKillChance?: number;
  /** Load after the last (clean) start, before the queues are drained. Default 1000 ms. */
  finalLoadMs?: number;
  players?: number;
  chars?: number;
  /** How long the last clean start may take to drain the queues. */
  drainTimeoutMs?: number;
  keepDir?: boolean;
  log?: (line: string) => void;
  /**
   * Runs after the checks, before the files are removed, with a way to check again: a test can
   * damage the files and prove the checker notices.
   */
  afterVerify?: (context: { db: Db; env: Environment; ledger: Ledger; verifyAgain: () => VerifyResult }) => void | Promise<void>;
}

export interface ChaosFigures {
  rounds: number;
  kills: number;
  killsDuringStartup: number;
  durationMs: number;
  requests: number;
  networkErrors: number;
  acknowledged: number;
  webCreates: number;
  webReplies: number;
  staffReplies: number;
  gameAnswered: number;
  gameOffline: number;
  gameRetried: number;
  replayProbes: number;
  discordStaffMessages: number;
  unanswered: number;
  unansweredStored: number;
  attachments: number;
  orphanFilesSwept: number;
  whispersQueued: number;
  whispersDelivered: number;
  whispersRedelivered: number;
  emailsSent: number;
  telegramsSent: number;
  notificationDuplicates: number;
  discordPosts: number;
  discordDuplicatePosts: number;
}

export interface ChaosReport {
  figures: ChaosFigures;
  failures: string[];
  /** Worth knowing, not failures (at-least-once copies on the Discord side, and the like). */
  notes: string[];
}

const WHISPER_MAX = 200;

/**
 * The seed of a run: CHAOS_SEED when set (.ci/run sets one, so CI repeats the same random choices),
 * otherwise a fresh random one. Runners print it on every run, so any run can be repeated.
 */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.CHAOS_SEED;
  if (value === undefined || value === '') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(value);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`CHAOS_SEED must be a whole number, not "${value}"`);
  return seed;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? chaosSeed();
  const random = rng(seed ^ 0x5eed);
  const env = await createEnvironment({ players: options.players ?? 6, chars: options.chars ?? 4, keepDir: options.keepDir });
  log(`chaos: seed ${seed}, ${options.rounds} rounds, files in ${env.dir}`);
  const gen = new LoadGenerator(env, { concurrency: options.concurrency ?? 6, mix: CHAOS_MIX, pauseMs: options.pauseMs ?? [0, 15], seed, whisperWaitS: 2 });
  const [minMs, maxMs] = options.roundMs ?? [1500, 4000];
  let kills = 0;
  let killsDuringStartup = 0;
  let orphanFilesSwept = 0;
  let server: LoadServer | undefined;
  let db: Db | undefined;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      server = await startServerProcess(env);
      if (round === 1) {
        await gen.signIn();
        gen.start();
      }
      const early = random() < (options.earlyKillChance ?? 0.15);
      const loadMs = early ? random() * 400 : minMs + random() * (maxMs - minMs);
      // Not a wait for something: the load runs this long, then the kill lands wherever it lands.
      await sleep(loadMs);
      orphanFilesSwept += server.orphanFilesRemoved;
      await server.kill9();
      kills += 1;
      if (early) killsDuringStartup += 1;
      log(`chaos: round ${round}/${options.rounds}: killed after ${Math.round(loadMs)} ms, ${gen.ledger.acknowledged()} acknowledged so far`);
      // A short outage before the restart: clients see refused connections.
      await sleep(random() * 300);
    }

    // The last, clean start: finish what was interrupted, then stop gracefully.
    server = await startServerProcess(env);
    await sleep(options.finalLoadMs ?? 1000); // load on the last start, as on the others
    await gen.stop();
    const unsettled = await gen.settleGameRetries(30_000);
    await gen.replayAllGameRequests();
    db = openDatabase(env.databasePath, { migrate: false }).db;
    const drained = await drain(db, gen.ledger, env, options.drainTimeoutMs ?? 240_000, log);
    await gen.stopPoller();
    orphanFilesSwept += server.orphanFilesRemoved;
    const serverErrors = server.errorLines;
    const exit = await server.stop();
    server = undefined;

    const failures: string[] = [];
    const notes: string[] = [];
    if (unsettled > 0) failures.push(`${unsettled} game requests never got an answer after the last start`);
    if (!drained.ok) failures.push(`the queues did not drain after the last start: ${drained.detail}`);
    if (exit.code !== 0) failures.push(`the graceful stop after the last round exited with code ${exit.code} (signal ${exit.signal})`);
    for (const line of serverErrors) failures.push(`the server logged an error: ${line.slice(0, 400)}`);
    const checked = verify(db, env, gen.ledger, kills);
    failures.push(...checked.failures);
    notes.push(...checked.notes);
    failures.push(...gen.ledger.violations);
    for (const e of gen.ledger.errorAnswers) failures.push(`${e.op} answered ${e.status}: ${e.detail}`);

    await options.afterVerify?.({ db, env, ledger: gen.ledger, verifyAgain: () => verify(db!, env, gen.ledger, kills) });

    const counts = gen.ledger.counts;
    const networkErrors = Object.values(counts).reduce((sum, row) => sum + (row.neterr ?? 0), 0);
    const requests = [...gen.ledger.gameRequests.values()];
    const figures: ChaosFigures = {
      rounds: options.rounds,
      kills,
      killsDuringStartup,
      durationMs: Date.now() - started,
      requests: gen.ledger.totalRequests(),
      networkErrors,
      acknowledged: gen.ledger.acknowledged(),
      webCreates: gen.ledger.webCreates.length,
      webReplies: gen.ledger.webReplies.length,
      staffReplies: gen.ledger.staffReplies.length,
      gameAnswered: requests.filter((r) => typeof r.ticketId === 'number').length,
      gameOffline: requests.filter((r) => r.answer !== undefined && r.ticketId === null).length,
      gameRetried: requests.filter((r) => r.attempts > 1).length,
      replayProbes: gen.ledger.replayProbes,
      discordStaffMessages: gen.ledger.discordMessages.length,
      unanswered: gen.ledger.unanswered.size,
      orphanFilesSwept,
      whispersDelivered: gen.ledger.whispers.size,
      whispersRedelivered: [...gen.ledger.whispers.values()].filter((w) => w.deliveries > 1).length,
      ...checked.figures,
    };
    return { figures, failures, notes };
  } finally {
    await gen.stop();
    await gen.stopPoller();
    if (server) await server.kill9();
    db?.close();
    await env.close();
  }
}

/** Waits until every queue is empty and every expected whisper reached the fake game server. */
async function drain(db: Db, ledger: Ledger, env: Environment, timeoutMs: number, log: (line: string) => void): Promise<{ ok: boolean; detail: string }> {
  // Mail goes out one SMTP connection at a time (about 10 a second against the fake, whose greeting
  // waits 100 ms), so a backlog built under load takes a while: wait as long as the queues shrink,
  // up to `timeoutMs`, and give up after 20 s without progress.
  const hardDeadline = Date.now() + timeoutMs;
  let progressDeadline = Date.now() + 20_000;
  let lastLeft = Infinity;
  let nextLog = Date.now() + 5000;
  let detail = '';
  while (Date.now() < Math.min(hardDeadline, progressDeadline)) {
    const whispers = (prepared(db, 'SELECT COUNT(*) AS n FROM game_whispers WHERE acked_at IS NULL').get() as { n: number }).n;
    const notifications = (prepared(db, "SELECT COUNT(*) AS n FROM notification_outbox WHERE status = 'pending'").get() as { n: number }).n;
    const discord = (prepared(db, 'SELECT COUNT(*) AS n FROM discord_outbox WHERE done_at IS NULL').get() as { n: number }).n;
    const delivered = deliveredTexts(ledger);
    const missing = expectedWhispers(ledger).filter((e) => !delivered.has(`${e.charId}\n${e.text}`)).length;
    const errors = prepared(db, "SELECT channel, last_error AS error, COUNT(*) AS n, MAX(attempts) AS attempts FROM notification_outbox WHERE status = 'pending' AND last_error IS NOT NULL GROUP BY channel, last_error LIMIT 5").all() as {
      channel: string;
      error: string;
      n: number;
      attempts: number;
    }[];
    const why = errors.map((e) => `${e.n} ${e.channel} after "${e.error.slice(0, 120)}" (up to ${e.attempts} attempts)`).join('; ');
    detail = `${whispers} whispers not acked, ${notifications} notifications pending${why ? ` (${why})` : ''}, ${discord} Discord jobs pending, ${missing} expected whisper parts not delivered`;
    if (whispers === 0 && notifications === 0 && discord === 0 && missing === 0) return { ok: true, detail };
    const left = whispers + notifications + discord + missing;
    if (Date.now() >= nextLog) {
      nextLog = Date.now() + 5000;
      log(`chaos: draining: ${detail}; SMTP fake: ${env.smtp.messages.length} mails, ${env.smtp.openConnections} open connections`);
    }
    if (left < lastLeft) progressDeadline = Date.now() + 20_000;
    lastLeft = Math.min(left, lastLeft);
    await sleep(500);
  }
  return { ok: false, detail };
}

interface ExpectedWhisper {
  charId: number;
  text: string;
  marker: string;
}

function expectedWhispers(ledger: Ledger): ExpectedWhisper[] {
  const tickets = ledger.gameTickets();
  const out: ExpectedWhisper[] = [];
  for (const reply of ledger.staffReplies) {
    const char = tickets.get(reply.ticketId);
    if (char) for (const text of splitWhisper(reply.body, WHISPER_MAX)) out.push({ charId: char.char_id, text, marker: reply.marker });
  }
  // The server child runs with TZ=UTC (support/server.ts).
  for (const message of ledger.discordMessages) {
    const char = tickets.get(message.ticketId);
    if (char) for (const text of splitWhisper(discordToGameText(message.text, { timeZone: 'UTC' }), WHISPER_MAX)) out.push({ charId: char.char_id, text, marker: message.marker });
  }
  return out;
}

function deliveredTexts(ledger: Ledger): Set<string> {
  return new Set([...ledger.whispers.values()].map((w) => `${w.charId}\n${w.text}`));
}

interface MessageRow {
  id: number;
  ticketId: number;
  authorKind: string;
  origin: string;
  body: string;
  internal: number;
  discordMessageId: string | null;
}

export interface VerifyResult {
  failures: string[];
  notes: string[];
  figures: Pick<
    ChaosFigures,
    'unansweredStored' | 'attachments' | 'whispersQueued' | 'emailsSent' | 'telegramsSent' | 'notificationDuplicates' | 'discordPosts' | 'discordDuplicatePosts'
  >;
}

/** Every check on the files after the last graceful stop. Exported for tests of the checker itself. */
export function verify(db: Db, env: Environment, ledger: Ledger, kills: number): VerifyResult {
  const failures: string[] = [];
  const notes: string[] = [];
  const fail = (line: string) => {
    if (failures.length < 200) failures.push(line);
  };

  // --- SQLite itself
  const integrity = prepared(db, 'PRAGMA integrity_check').all() as { integrity_check: string }[];
  if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok') fail(`integrity_check: ${JSON.stringify(integrity).slice(0, 500)}`);
  const foreignKeys = prepared(db, 'PRAGMA foreign_key_check').all();
  if (foreignKeys.length > 0) fail(`foreign_key_check: ${JSON.stringify(foreignKeys).slice(0, 500)}`);
  for (const table of ['tickets_fts', 'messages_fts']) {
    try {
      prepared(db, `INSERT INTO ${table} (${table}) VALUES ('integrity-check')`).run();
    } catch (err) {
      fail(`${table} integrity-check: ${(err as Error).message}`);
    }
  }

  // --- every marker, where it is stored
  const messages = prepared(
    db,
    'SELECT id, ticket_id AS ticketId, author_kind AS authorKind, origin, body, internal, discord_message_id AS discordMessageId FROM messages ORDER BY id',
  ).all() as MessageRow[];
  const markerPattern = /mk[0-9a-z]+x\d{7}q/g;
  const byMarker = new Map<string, MessageRow[]>();
  for (const m of messages) {
    for (const marker of new Set(m.body.match(markerPattern) ?? [])) {
      const list = byMarker.get(marker) ?? [];
      list.push(m);
      byMarker.set(marker, list);
    }
  }
  const known = new Set<string>();
  const attachmentsOf = new Map<number, number>();
  for (const row of prepared(db, 'SELECT message_id AS messageId, COUNT(*) AS n FROM attachments GROUP BY message_id').all() as { messageId: number; n: number }[]) {
    attachmentsOf.set(row.messageId, row.n);
  }
  const firstMessage = new Map<number, number>();
  for (const m of messages) if (!firstMessage.has(m.ticketId)) firstMessage.set(m.ticketId, m.id);

  const exactlyOnce = (what: string, marker: string, ticketId: number, check?: (row: MessageRow) => string | undefined) => {
    known.add(marker);
    const rows = byMarker.get(marker) ?? [];
    if (rows.length !== 1) return fail(`${what} ${marker} (ticket ${ticketId}) acknowledged, stored ${rows.length} times`);
    const row = rows[0]!;
    if (row.ticketId !== ticketId) return fail(`${what} ${marker} acknowledged for ticket ${ticketId}, stored on ticket ${row.ticketId}`);
    const problem = check?.(row);
    if (problem) fail(`${what} ${marker} (ticket ${ticketId}): ${problem}`);
  };

  for (const c of ledger.webCreates) {
    exactlyOnce('web create', c.marker, c.ticketId, (row) => {
      if (firstMessage.get(row.ticketId) !== row.id) return 'is not the first message of its ticket';
      if (row.authorKind !== 'player' || row.origin !== 'web') return `stored as ${row.authorKind}/${row.origin}`;
      if ((attachmentsOf.get(row.id) ?? 0) !== c.attachments) return `${c.attachments} files sent, ${attachmentsOf.get(row.id) ?? 0} attachment rows`;
      return undefined;
    });
  }
  for (const r of ledger.webReplies) {
    exactlyOnce('web reply', r.marker, r.ticketId, (row) => {
      if (row.authorKind !== 'player') return `stored as ${row.authorKind}`;
      if ((attachmentsOf.get(row.id) ?? 0) !== r.attachments) return `${r.attachments} files sent, ${attachmentsOf.get(row.id) ?? 0} attachment rows`;
      return undefined;
    });
  }
  for (const r of ledger.staffReplies) exactlyOnce('staff reply', r.marker, r.ticketId, (row) => (row.authorKind === 'staff' ? undefined : `stored as ${row.authorKind}`));
  for (const m of ledger.discordMessages) {
    exactlyOnce('Discord staff message', m.marker, m.ticketId, (row) => (row.discordMessageId === m.discordMessageId ? undefined : `stored with Discord id ${row.discordMessageId}`));
  }
  const storedAnswers = new Map(
    (prepared(db, 'SELECT request_id AS requestId, response FROM game_requests').all() as { requestId: string; response: string }[]).map((r) => [r.requestId, r.response]),
  );
  for (const r of ledger.gameRequests.values()) {
    known.add(r.marker);
    if (r.answer === undefined) {
      if ((byMarker.get(r.marker) ?? []).length > 1) fail(`game request ${r.requestId} without an answer stored ${byMarker.get(r.marker)!.length} times`);
      continue;
    }
    if (storedAnswers.get(r.requestId) !== r.answer) fail(`game request ${r.requestId}: stored answer ${storedAnswers.get(r.requestId)} differs from the one received ${r.answer}`);
    if (r.ticketId === null) {
      const rows = byMarker.get(r.marker) ?? [];
      if (rows.length !== 0) fail(`game request ${r.requestId} answered "offline" yet stored ${rows.length} messages`);
    } else {
      exactlyOnce(`game request ${r.requestId}`, r.marker, r.ticketId!, (row) => (row.origin === 'game' ? undefined : `stored with origin ${row.origin}`));
    }
  }
  let unansweredStored = 0;
  for (const marker of ledger.unanswered) {
    known.add(marker);
    const n = (byMarker.get(marker) ?? []).length;
    if (n > 1) fail(`request ${marker} whose answer was lost is stored ${n} times`);
    unansweredStored += n;
  }
  for (const marker of byMarker.keys()) if (!known.has(marker)) fail(`marker ${marker} is stored but no request of this run carried it`);

  // --- no half-written ticket
  const tickets = prepared(
    db,
    `SELECT t.id, t.source, t.user_id AS userId, t.message_count AS messageCount, t.discord_channel_id AS channelId, t.game_char_id AS charId,
       (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = t.id AND m.internal = 0 AND m.author_kind <> 'system') AS visible
     FROM tickets t`,
  ).all() as { id: number; source: string; userId: number | null; messageCount: number; channelId: string | null; charId: number | null; visible: number }[];
  const messageById = new Map(messages.map((m) => [m.id, m]));
  for (const t of tickets) {
    if (t.messageCount !== t.visible) fail(`ticket ${t.id}: message_count ${t.messageCount}, ${t.visible} messages stored`);
    const first = firstMessage.get(t.id);
    if (first === undefined) fail(`ticket ${t.id} has no message at all`);
    else {
      const row = messageById.get(first)!;
      if (row.authorKind !== 'player' || row.origin !== (t.source === 'game' ? 'game' : 'web')) fail(`ticket ${t.id}: its first message is ${row.authorKind}/${row.origin}, not the player's`);
    }
  }
  const userIds = new Map((prepared(db, 'SELECT id, username FROM users').all() as { id: number; username: string }[]).map((u) => [u.username, u.id]));
  const ticketById = new Map(tickets.map((t) => [t.id, t]));
  for (const c of ledger.webCreates) {
    const t = ticketById.get(c.ticketId);
    if (!t) fail(`web create ${c.marker}: ticket ${c.ticketId} does not exist`);
    else if (t.userId !== userIds.get(c.username)) fail(`ticket ${c.ticketId} belongs to user ${t.userId}, created by ${c.username}`);
  }

  // --- attachments and files
  const attachments = prepared(db, 'SELECT id, storage_name AS storageName, size_bytes AS sizeBytes, sha256 FROM attachments').all() as {
    id: number;
    storageName: string;
    sizeBytes: number;
    sha256: string;
  }[];
  const names = new Set<string>();
  for (const a of attachments) {
    names.add(a.storageName);
    const file = path.join(env.uploadsDir, a.storageName);
    if (!fs.existsSync(file)) {
      fail(`attachment ${a.id}: its file ${a.storageName} is missing`);
      continue;
    }
    const data = fs.readFileSync(file);
    if (data.length !== a.sizeBytes || createHash('sha256').update(data).digest('hex') !== a.sha256) fail(`attachment ${a.id}: the file differs from its row (size or SHA-256)`);
  }
  const files = fs.existsSync(env.uploadsDir) ? fs.readdirSync(env.uploadsDir).filter((n) => !n.startsWith('.')) : [];
  for (const name of files) if (!names.has(name)) fail(`file ${name} in uploads has no attachment row (the sweep after start should remove it)`);

  // --- whispers
  const gameTickets = ledger.gameTickets();
  const whisperRows = prepared(db, 'SELECT id, char_id AS charId, text, acked_at AS ackedAt, delivery_count AS deliveries FROM game_whispers ORDER BY id').all() as {
    id: number;
    charId: number;
    text: string;
    ackedAt: number | null;
    deliveries: number;
  }[];
  const rowsByText = new Map<string, number>();
  for (const w of whisperRows) {
    if (w.ackedAt === null) fail(`whisper ${w.id} was never acked`);
    const delivered = ledger.whispers.get(w.id);
    if (!delivered) fail(`whisper ${w.id} ("${w.text.slice(0, 40)}") never reached the game server`);
    else if (delivered.text !== w.text || delivered.charId !== w.charId) fail(`whisper ${w.id} reached the game server changed`);
    rowsByText.set(`${w.charId}\n${w.text}`, (rowsByText.get(`${w.charId}\n${w.text}`) ?? 0) + 1);
  }
  const rowIds = new Set(whisperRows.map((w) => w.id));
  for (const id of ledger.whispers.keys()) if (!rowIds.has(id)) fail(`the game server got whisper ${id}, which is not in the database`);
  const delivered = deliveredTexts(ledger);
  const expected = expectedWhispers(ledger);
  const expectedMarkers = new Set(expected.map((e) => e.marker));
  for (const e of expected) {
    if (!delivered.has(`${e.charId}\n${e.text}`)) fail(`whisper "${e.text.slice(0, 60)}" for char ${e.charId} was never delivered`);
    const n = rowsByText.get(`${e.charId}\n${e.text}`) ?? 0;
    if (n !== 1) fail(`whisper "${e.text.slice(0, 60)}" for char ${e.charId} is queued ${n} times`);
  }
  for (const w of ledger.whispers.values()) {
    const markers = w.text.match(markerPattern) ?? [];
    if (!markers.some((m) => expectedMarkers.has(m) || ledger.unanswered.has(m))) fail(`whisper ${w.id} "${w.text.slice(0, 60)}" answers no request of this run`);
  }
  for (const [charId, order] of ledger.whisperOrder) {
    for (let i = 1; i < order.length; i++) {
      if (order[i]! < order[i - 1]!) {
        fail(`char ${charId}: whisper ${order[i]} reached the game server before the earlier ${order[i - 1]}`);
        break;
      }
    }
  }

  // --- notifications (email, Telegram)
  const outbox = prepared(db, 'SELECT id, user_id AS userId, ticket_id AS ticketId, channel, status, payload FROM notification_outbox ORDER BY id').all() as {
    id: number;
    userId: number;
    ticketId: number;
    channel: 'email' | 'telegram';
    status: string;
    payload: string;
  }[];
  const chatOf = new Map<number, number>();
  for (const p of env.players) if (p.telegramChatId !== null) chatOf.set(userIds.get(p.username)!, p.telegramChatId);
  const host = new URL(`http://localhost:${env.port}`).hostname;
  let duplicates = 0;
  const duplicatesBy = { email: 0, telegram: 0 };
  let emailsSent = 0;
  let telegramsSent = 0;
  const queuedFor = new Set<string>();
  for (const row of outbox) {
    if (row.status !== 'sent') fail(`notification ${row.id} (${row.channel}) is ${row.status}`);
    const body = (JSON.parse(row.payload) as { event: { body?: string } }).event.body ?? '';
    const marker = body.match(markerPattern)?.[0];
    if (marker) queuedFor.add(`${marker}:${row.channel}`);
    let copies: number;
    if (row.channel === 'email') {
      copies = env.smtp.messages.filter((m) => m.messageId === `<ticket-${row.ticketId}.n${row.id}@${host}>`).length;
      emailsSent += copies;
    } else {
      const chat = chatOf.get(row.userId);
      copies = marker && chat !== undefined ? env.telegram.sentTo(chat).filter((m) => m.plainText.includes(marker)).length : 0;
      telegramsSent += copies;
    }
    if (copies === 0) fail(`notification ${row.id} (${row.channel}, ${marker ?? 'no marker'}) was never received`);
    if (copies > 1) {
      duplicates += copies - 1;
      duplicatesBy[row.channel] += copies - 1;
    }
  }
  // Each channel's worker has at most one message between hand-over and "sent" when a kill lands
  // (the same one again, when a kill right after a restart hits its resend).
  for (const channel of ['email', 'telegram'] as const) {
    if (duplicatesBy[channel] > kills) fail(`${duplicatesBy[channel]} ${channel} notifications sent twice, more than the ${kills} kills can explain (one per kill at most)`);
  }
  if (duplicates > 0) notes.push(`${duplicates} notification(s) delivered twice: a kill fell between the hand-over and marking the row sent (at-least-once)`);
  if (env.smtp.messages.length !== emailsSent) fail(`the SMTP server got ${env.smtp.messages.length} mails, ${emailsSent} belong to outbox rows`);
  // Who must hear of each acknowledged Support answer.
  const ownerOf = (ticketId: number): string | null => ledger.webCreates.find((c) => c.ticketId === ticketId)?.username ?? gameTickets.get(ticketId)?.owner ?? null;
  const wants = (username: string | null) => env.players.find((p) => p.username === username);
  for (const answer of [...ledger.staffReplies, ...ledger.discordMessages]) {
    const owner = wants(ownerOf(answer.ticketId));
    if (!owner) continue;
    if (owner.email && !queuedFor.has(`${answer.marker}:email`)) fail(`Support answer ${answer.marker} on ticket ${answer.ticketId}: no email queued for ${owner.username}`);
    if (owner.telegramChatId !== null && !queuedFor.has(`${answer.marker}:telegram`)) fail(`Support answer ${answer.marker} on ticket ${answer.ticketId}: no Telegram message queued for ${owner.username}`);
  }

  // --- the Discord side: one channel per game ticket, every player message posted at least once
  const topics = new Map<string, number>();
  for (const channel of env.discord.channels.values()) if (channel.topic?.startsWith('ticketbridge ticket #')) topics.set(channel.topic, (topics.get(channel.topic) ?? 0) + 1);
  for (const [topic, n] of topics) if (n > 1) fail(`${n} Discord channels for "${topic}"`);
  let discordPosts = 0;
  let discordDuplicatePosts = 0;
  const botMessages = new Map<string, string[]>();
  for (const m of env.discord.messages) {
    if (m.author.id !== env.discord.botUserId || (m as { deleted?: boolean }).deleted) continue;
    const list = botMessages.get(m.channel_id) ?? [];
    list.push(m.content);
    botMessages.set(m.channel_id, list);
  }
  const botPosts = (channelId: string | null, needle: string) => (channelId ? (botMessages.get(channelId) ?? []).filter((content) => content.includes(needle)).length : 0);
  for (const t of tickets) {
    if (t.source !== 'game') continue;
    if (!t.channelId || !env.discord.channels.has(t.channelId)) fail(`game ticket ${t.id} has no Discord channel (${t.channelId})`);
  }
  const posted = (what: string, ticketId: number, needle: string) => {
    const n = botPosts(ticketById.get(ticketId)?.channelId ?? null, needle);
    discordPosts += Math.min(n, 1);
    if (n === 0) fail(`${what} ${needle} never reached the ticket's Discord channel`);
    if (n > 1) discordDuplicatePosts += n - 1;
  };
  for (const r of ledger.gameRequests.values()) if (typeof r.ticketId === 'number') posted('game message', r.ticketId, r.marker);
  for (const r of ledger.staffReplies) if (gameTickets.has(r.ticketId)) posted('web answer', r.ticketId, r.marker);
  if (discordDuplicatePosts > 0) {
    notes.push(`${discordDuplicatePosts} Discord post(s) sent twice: a kill fell between the REST call and marking the job done (the Discord outbox is at-least-once)`);
  }

  return {
    failures,
    notes,
    figures: { unansweredStored, attachments: attachments.length, whispersQueued: whisperRows.length, emailsSent, telegramsSent, notificationDuplicates: duplicates, discordPosts, discordDuplicatePosts },
  };
}

export function formatFigures(f: ChaosFigures): string {
  const rows: [string, string | number][] = [
    ['rounds survived', f.rounds],
    ['kill -9', `${f.kills} (${f.killsDuringStartup} right after start-up)`],
    ['duration', `${(f.durationMs / 1000).toFixed(1)} s`],
    ['requests sent', `${f.requests} (${f.networkErrors} cut by a kill or refused while down)`],
    ['requests acknowledged', f.acknowledged],
    ['  web creates / replies', `${f.webCreates} / ${f.webReplies} (${f.attachments} attachments stored)`],
    ['  staff web answers', f.staffReplies],
    ['  game relays answered', `${f.gameAnswered} stored + ${f.gameOffline} "offline" (${f.gameRetried} retried with their request_id, ${f.replayProbes} replays)`],
    ['  Discord staff messages', f.discordStaffMessages],
    ['answers lost to a kill', `${f.unanswered} (${f.unansweredStored} of them stored, each once)`],
    ['orphan uploads swept', f.orphanFilesSwept],
    ['whispers', `${f.whispersQueued} queued, ${f.whispersDelivered} delivered, ${f.whispersRedelivered} handed out again (ack lost)`],
    ['notifications', `${f.emailsSent} emails, ${f.telegramsSent} Telegram, ${f.notificationDuplicates} duplicate(s)`],
    ['Discord posts', `${f.discordPosts} (${f.discordDuplicatePosts} duplicate(s))`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
