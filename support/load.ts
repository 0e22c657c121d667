// The shared mixed-load generator of the reliability runs (scripts/chaos.ts, scripts/soak.ts,
// test/chaos/chaos.test.ts), and the world it runs in:
//
//   - Environment: a temp dir with a seeded SQLite file (players, one staff member, notification
//     choices, email and Telegram switched on), the fake Discord, the real SMTP fake and the fake
//     Telegram Bot API in THIS process, so they outlive any number of server restarts.
//   - LoadServer: the real server (support/server.ts: src/server.ts through tsx) as a child process on a fixed
//     port, started, `kill -9`ed and restarted on the same files.
//   - LoadGenerator: concurrent loops of what users do (web creates with attachments, replies,
//     staff replies, game relays with request_id and their retries, staff messages in Discord,
//     list / search / ticket pages) and a fake game server long-polling whispers and acking them.
//     Every request that got a success answer goes into the Ledger with the unique marker text it
//     carried, so a verifier can prove it is stored exactly once.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createAccount } from '../src/accounts.js';
import { saveLimits } from '../src/tickets/quotas.js';
import { openDatabase } from '../src/db/index.js';
import { markEmailVerified, setNotificationChoices, setTelegramChat, setUserEmail, setUserGameAccount } from '../src/db/users.js';
import { saveNotificationSwitches } from '../src/settings.js';
import { startFakeDiscord, type FakeDiscord } from './fakes/discord.js';
import { startFakeSmtp, type FakeSmtp } from './fakes/smtp.js';
import { startFakeTelegram, type FakeTelegram } from './fakes/telegram.js';
import { Client, csrfFrom, type Reply } from './client.js';
import { ServerProcess, untilListening } from './server.js';

// ---------------------------------------------------------------------------------------------
// Small tools

/** A seeded PRNG (mulberry32), so a run can be repeated with --seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const PASSWORD = 'correct horse battery';
export const GAME_TOKEN = 'chaos-game-token-0123456789abcdef';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('0000000d4948445200000001', 'hex'), Buffer.alloc(300, 7)]);
const WORDS = ['lantern', 'dragon', 'portal', 'refund', 'sword', 'guild', 'login', 'quest', 'potion', 'castle', 'mount', 'storage'];

// ---------------------------------------------------------------------------------------------
// The environment: seeded database + fakes

export interface PlayerSpec {
  username: string;
  email: string | null;
  telegramChatId: number | null;
}

export interface GameChar {
  account_id: number;
  char_id: number;
  name: string;
  /** The dashboard player who owns this game account (their notifications apply), if any. */
  owner: string | null;
}

export interface Environment {
  dir: string;
  databasePath: string;
  uploadsDir: string;
  port: number;
  url: string;
  /** Variables for the server child (on top of PATH/HOME/TZ). */
  env: Record<string, string>;
  discord: FakeDiscord;
  smtp: FakeSmtp;
  telegram: FakeTelegram;
  staffRoleId: string;
  /** The Discord member who answers in ticket channels. */
  discordStaff: { id: string; name: string };
  players: PlayerSpec[];
  staff: string;
  chars: GameChar[];
  close(): Promise<void>;
}

export interface EnvironmentOptions {
  players?: number;
  chars?: number;
  /** Seconds before an un-acked whisper is handed out again (GAME_WHISPER_VISIBILITY_S). */
  whisperVisibilityS?: number;
  logLevel?: string;
  keepDir?: boolean;
}

/**
 * Players p0..pN: p0 wants email and Telegram, p1 Telegram only, p2 email only, the rest nothing.
 * Game chars: char 0 belongs to p0's game account, char 1 to p1's, the rest to nobody. Both
 * notification switches are on (admin page), email addresses are confirmed.
 */
export async function createEnvironment(options: EnvironmentOptions = {}): Promise<Environment> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-chaos-'));
  const databasePath = path.join(dir, 'data', 'app.db');
  const uploadsDir = path.join(dir, 'uploads');
  const playerCount = options.players ?? 6;
  const charCount = options.chars ?? 4;

  const discord = await startFakeDiscord({ channelRenameLimit: false });
  const staffRoleId = discord.addStaffRole('Support');
  const discordStaff = { id: '400000000000000077', name: 'GM Chaos' };
  discord.addMember(discordStaff.id, discordStaff.name, [staffRoleId]);
  const log = discord.addChannel({ name: 'ticket-log' });
  const smtp = await startFakeSmtp({ user: 'mailer', pass: 'smtp-secret' });
  const telegram = await startFakeTelegram();

  const players: PlayerSpec[] = Array.from({ length: playerCount }, (_, i) => ({
    username: `player${i}`,
    email: i === 0 || i === 2 ? `player${i}@example.org` : null,
    telegramChatId: i <= 1 ? 880000 + i : null,
  }));
  const chars: GameChar[] = Array.from({ length: charCount }, (_, i) => ({
    account_id: 2000100 + i,
    char_id: 150100 + i,
    name: `Chaos Hero ${i}`,
    owner: i === 0 ? 'player0' : i === 1 && playerCount > 1 ? 'player1' : null,
  }));

  const { db } = openDatabase(databasePath);
  try {
    for (const p of players) {
      const user = await createAccount(db, { username: p.username, password: PASSWORD, role: 'user' });
      if (p.email) {
        setUserEmail(db, user.id, p.email);
        markEmailVerified(db, user.id, p.email);
      }
      if (p.telegramChatId !== null) {
        telegram.addChat({ id: p.telegramChatId, type: 'private', first_name: p.username });
        setTelegramChat(db, user.id, String(p.telegramChatId));
      }
      setNotificationChoices(db, user.id, { email: p.email !== null, telegram: p.telegramChatId !== null });
      const char = chars.find((c) => c.owner === p.username);
      if (char) setUserGameAccount(db, user.id, char.account_id);
    }
    await createAccount(db, { username: 'gm', password: PASSWORD, role: 'staff' });
    // An admin too, so the first start does not print a one-time password.
    await createAccount(db, { username: 'admin', password: PASSWORD, role: 'admin' });
    saveNotificationSwitches(db, { email: true, telegram: true });
    // A few accounts stand for a crowd of players here: the per-player posting limits are off.
    saveLimits(db, { ticketsPerMinute: 0, repliesPerMinute: 0, uploadsPerHour: 0, uploadBytesPerDay: 0 });
  } finally {
    db.close();
  }

  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_PATH: databasePath,
    UPLOADS_DIR: uploadsDir,
    SESSION_SECRET: 'chaos-session-secret-chaos-session-secret',
    LOG_LEVEL: options.logLevel ?? 'info',
    GAME_API_TOKEN: GAME_TOKEN,
    GAME_WHISPER_VISIBILITY_S: String(options.whisperVisibilityS ?? 2),
    DISCORD_TOKEN: discord.token,
    DISCORD_GUILD_ID: discord.guildId,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_STAFF_ROLE_IDS: staffRoleId,
    DISCORD_LOG_CHANNEL_ID: log.id,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Support <support@example.org>',
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
  };
  return {
    dir,
    databasePath,
    uploadsDir,
    port,
    url: `http://127.0.0.1:${port}`,
    env,
    discord,
    smtp,
    telegram,
    staffRoleId,
    discordStaff,
    players,
    staff: 'gm',
    chars,
    async close() {
      await Promise.allSettled([discord.stop(), smtp.stop(), telegram.stop()]);
      if (!options.keepDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The server as a child process (support/server.ts), counting the log lines a run cares about

const liveServers = new Set<LoadServer>();

/** For the command-line runs: an interrupted runner takes its server child with it. */
export function killServersOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const server of liveServers) server.child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

export class LoadServer extends ServerProcess {
  orphanSweeps = 0;
  orphanFilesRemoved = 0;
  errorLines: string[] = [];

  constructor(env: Environment) {
    // The last 64 KiB of output: a long soak must not keep every line.
    super({ cwd: env.dir, env: env.env, keepChars: 65536 });
    this.onLine((line) => {
      if (line.includes('removed uploaded files that no attachment refers to')) {
        this.orphanSweeps += 1;
        this.orphanFilesRemoved += Number(/"count":(\d+)/.exec(line)?.[1] ?? 0);
      }
      if (/"level":(50|60)/.test(line)) this.errorLines.push(line.slice(0, 2000));
    });
    liveServers.add(this);
    void this.exited.then(() => liveServers.delete(this));
  }

  output(): string {
    return `${this.stdout()}${this.stderr()}`;
  }
}

export function startServerProcess(env: Environment, timeoutMs = 30_000): Promise<LoadServer> {
  return untilListening(new LoadServer(env), timeoutMs);
}

// ---------------------------------------------------------------------------------------------
// HTTP: the shared cookie-keeping client (support/client.ts), signed in as one user

/** A user of the run: signs in again when the session is lost, and keeps its CSRF token. */
export class WebClient extends Client {
  csrfToken: string | undefined;

  constructor(
    base: string,
    readonly username: string,
  ) {
    super(base, {}, { timeoutMs: 20_000 });
  }

  async signIn(): Promise<void> {
    this.cookies.clear();
    const answer = await this.login(this.username, PASSWORD);
    if (answer.status !== 303) throw new Error(`login of ${this.username} answered ${answer.status}`);
    this.csrfToken = undefined;
  }

  async token(): Promise<string> {
    if (this.csrfToken) return this.csrfToken;
    const page = await this.request('GET', '/index.php?view=ticket_create');
    if (page.status === 303 || page.status === 302) {
      await this.signIn();
      return this.token();
    }
    const token = csrfFrom(page.text);
    if (!token) throw new Error(`no CSRF token for ${this.username} (status ${page.status})`);
    this.csrfToken = token;
    return token;
  }
}

// ---------------------------------------------------------------------------------------------
// The ledger: what the server acknowledged, and what the fake game server received

export interface WebWrite {
  marker: string;
  ticketId: number;
  username: string;
  attachments: number;
}

export interface StaffReply {
  marker: string;
  ticketId: number;
  body: string;
}

export interface GameRequest {
  requestId: string;
  marker: string;
  char: GameChar;
  body: Record<string, unknown>;
  attempts: number;
  /** The first answer received (raw JSON text), once there is one. */
  answer?: string;
  ticketId?: number | null;
}

export interface DiscordStaffMessage {
  marker: string;
  ticketId: number;
  channelId: string;
  discordMessageId: string;
  text: string;
}

export interface WhisperDelivery {
  id: number;
  charId: number;
  name: string;
  from: string;
  text: string;
  deliveries: number;
  firstAt: number;
}

export class Ledger {
  readonly webCreates: WebWrite[] = [];
  readonly webReplies: WebWrite[] = [];
  readonly staffReplies: StaffReply[] = [];
  readonly gameRequests = new Map<string, GameRequest>();
  readonly discordMessages: DiscordStaffMessage[] = [];
  /** Markers sent in a request that got no answer (connection cut): stored at most once. */
  readonly unanswered = new Set<string>();
  /** Every whisper the fake game server was handed, by id. */
  readonly whispers = new Map<number, WhisperDelivery>();
  /** First-delivery order of whisper ids per character. */
  readonly whisperOrder = new Map<number, number[]>();
  /** Ids whose ack got an OK answer. */
  readonly confirmedAcks = new Set<number>();
  /** Things that must never happen (a whisper handed out after its ack was confirmed, a replayed request_id with another answer, ...). */
  readonly violations: string[] = [];
  /** Answers by operation and status ("neterr" when the connection failed). */
  readonly counts: Record<string, Record<string, number>> = {};
  /** Error answers: 5xx, or a 4xx no valid request should get. */
  readonly errorAnswers: { op: string; status: number; detail: string; at: number }[] = [];
  replayProbes = 0;
  /** Game tickets a logout closed (soak only), and staff answers refused with 409 on a game ticket. */
  readonly closedGameTickets = new Set<number>();
  readonly lateConflicts: number[] = [];

  count(op: string, status: number | 'neterr'): void {
    const row = (this.counts[op] ??= {});
    row[String(status)] = (row[String(status)] ?? 0) + 1;
  }

  /** Requests that got a success answer (the "acknowledged" figure). */
  acknowledged(): number {
    let n = this.webCreates.length + this.webReplies.length + this.staffReplies.length + this.discordMessages.length;
    for (const request of this.gameRequests.values()) if (request.answer !== undefined) n += 1;
    return n;
  }

  totalRequests(): number {
    return Object.values(this.counts).reduce((sum, row) => sum + Object.values(row).reduce((a, b) => a + b, 0), 0);
  }

  private readonly gameTicketChars = new Map<number, GameChar>();

  /** Game ticket id -> its character, from acknowledged game answers. */
  gameTickets(): ReadonlyMap<number, GameChar> {
    return this.gameTicketChars;
  }

  recordGameTicket(ticketId: number, char: GameChar): void {
    this.gameTicketChars.set(ticketId, char);
  }
}

// ---------------------------------------------------------------------------------------------
// The load

export type Operation =
  | 'create'
  | 'reply'
  | 'staff_reply'
  | 'game'
  | 'game_replay'
  | 'game_logout'
  | 'discord_staff'
  | 'list'
  | 'search'
  | 'ticket_page'
  | 'staff_list'
  | 'attachment';

export interface LoadOptions {
  /** Concurrent user loops (the whisper poller is extra). */
  concurrency: number;
  /** Relative weights of the operations. */
  mix: Partial<Record<Operation, number>>;
  /** Pause between two operations of one loop, ms (uniform in [min, max]). */
  pauseMs: [number, number];
  seed: number;
  /** Long-poll wait of the fake game server, seconds. */
  whisperWaitS?: number;
  /** Marker prefix (unique per run). */
  runId?: string;
  /** Cap on stored replies per ticket so pages stay comparable over a long soak. */
  maxRepliesPerTicket?: number;
}

export const CHAOS_MIX: Partial<Record<Operation, number>> = {
  create: 18,
  reply: 18,
  staff_reply: 14,
  game: 24,
  game_replay: 3,
  discord_staff: 10,
  list: 3,
  search: 2,
  ticket_page: 4,
};

export const SOAK_MIX: Partial<Record<Operation, number>> = {
  create: 6,
  reply: 8,
  staff_reply: 8,
  game: 10,
  game_replay: 2,
  game_logout: 1,
  discord_staff: 5,
  list: 20,
  search: 12,
  ticket_page: 18,
  staff_list: 6,
  attachment: 5,
};

function isNetworkError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TypeError' || err.name === 'TimeoutError' || err.name === 'AbortError' || /fetch failed|ECONN|socket/i.test(err.message));
}

class NetworkError extends Error {}

export class LoadGenerator {
  readonly ledger = new Ledger();
  private readonly random: () => number;
  private readonly runId: string;
  private seq = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private poller: Promise<void> | undefined;
  private pollerRunning = false;
  private readonly players: WebClient[];
  private readonly staff: WebClient;
  private readonly gameRetries: GameRequest[] = [];
  private readonly attachmentsSeen: { username: string; ticketId: number; attachmentId: number }[] = [];
  private readonly repliesPerTicket = new Map<number, number>();
  private readonly opTable: [Operation, number][];
  private readonly opTotal: number;
  /** Set while the server is known to be down: loops back off instead of spinning. */
  serverDown = false;

  constructor(
    readonly env: Environment,
    readonly options: LoadOptions,
  ) {
    this.random = rng(options.seed);
    this.runId = options.runId ?? Math.floor(this.random() * 36 ** 4).toString(36).padStart(4, '0');
    this.players = env.players.map((p) => new WebClient(env.url, p.username));
    this.staff = new WebClient(env.url, env.staff);
    this.opTable = Object.entries(options.mix).filter(([, w]) => (w ?? 0) > 0) as [Operation, number][];
    this.opTotal = this.opTable.reduce((sum, [, w]) => sum + w, 0);
  }

  private pick<T>(list: readonly T[]): T | undefined {
    return list.length === 0 ? undefined : list[Math.floor(this.random() * list.length)];
  }

  /** A fixed-width unique token: no marker is a prefix of another. */
  private marker(): string {
    this.seq += 1;
    return `mk${this.runId}x${String(this.seq).padStart(7, '0')}q`;
  }

  private words(n: number): string {
    return Array.from({ length: n }, () => this.pick(WORDS)!).join(' ');
  }

  async signIn(): Promise<void> {
    for (const client of [...this.players, this.staff]) await client.signIn();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.options.concurrency }, () => this.loop());
    this.startPoller();
  }

  /** Stops the user loops (the whisper poller keeps going until stopPoller). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  startPoller(): void {
    if (this.pollerRunning) return;
    this.pollerRunning = true;
    this.poller = this.pollWhispers();
  }

  async stopPoller(): Promise<void> {
    this.pollerRunning = false;
    await this.poller;
  }

  private chooseOp(): Operation {
    let r = this.random() * this.opTotal;
    for (const [op, weight] of this.opTable) {
      r -= weight;
      if (r < 0) return op;
    }
    return this.opTable[0]![0];
  }

  private async loop(): Promise<void> {
    while (this.running) {
      // Retries of game requests that got no answer come first, like a game server's queue.
      const op: Operation = this.gameRetries.length > 0 && this.random() < 0.5 ? 'game' : this.chooseOp();
      try {
        await this.run(op);
        this.serverDown = false;
      } catch (err) {
        if (err instanceof NetworkError || isNetworkError(err)) {
          this.serverDown = true;
          await sleep(100 + this.random() * 100);
        } else {
          this.ledger.violations.push(`${op}: ${(err as Error).message}`);
        }
      }
      const [min, max] = this.options.pauseMs;
      if (max > 0) await sleep(min + this.random() * (max - min));
    }
  }

  /** Runs one operation; throws NetworkError when the connection failed. */
  async run(op: Operation): Promise<void> {
    switch (op) {
      case 'create':
        return this.webCreate();
      case 'reply':
        return this.webReply();
      case 'staff_reply':
        return this.staffReply();
      case 'game':
        return this.gameAction();
      case 'game_replay':
        return this.gameReplay();
      case 'game_logout':
        return this.gameLogout();
      case 'discord_staff':
        return this.discordStaff();
      case 'list':
        return this.readPage(op, this.pick(this.players)!, `/index.php?view=tickets${this.random() < 0.3 ? '&status=all' : ''}`);
      case 'staff_list':
        return this.readPage(op, this.staff, `/index.php?view=tickets&status=all&page=${1 + Math.floor(this.random() * 3)}`);
      case 'search':
        return this.readPage(op, this.random() < 0.5 ? this.staff : this.pick(this.players)!, `/index.php?view=tickets&status=all&q=${encodeURIComponent(this.words(1 + Math.floor(this.random() * 2)))}`);
      case 'ticket_page':
        return this.ticketPage();
      case 'attachment':
        return this.downloadAttachment();
    }
  }

  private async send(op: string, client: WebClient | undefined, method: string, pathname: string, body?: FormData | URLSearchParams | string, headers?: Record<string, string>, timeoutMs?: number): Promise<Reply> {
    try {
      const answer = client
        ? await client.request(method, pathname, body, headers, timeoutMs)
        : await anonymous(this.env.url, method, pathname, body, headers, timeoutMs);
      this.ledger.count(op, answer.status);
      return answer;
    } catch (err) {
      if (isNetworkError(err)) {
        this.ledger.count(op, 'neterr');
        throw new NetworkError((err as Error).message);
      }
      throw err;
    }
  }

  private unexpected(op: string, answer: Reply): void {
    this.ledger.errorAnswers.push({ op, status: answer.status, detail: answer.text.replace(/\s+/g, ' ').slice(0, 300), at: Date.now() });
  }

  /**
   * A refused write: recorded as an error answer. A lost session or CSRF token (which must never
   * happen: sessions live in SQLite) is recorded too, and the client signs in again.
   */
  private async refused(op: string, client: WebClient, answer: Reply): Promise<void> {
    this.unexpected(op, answer);
    if ((answer.status === 302 || answer.status === 303) && /view=login/.test(answer.location ?? '')) await client.signIn();
    if (answer.status === 403 && /has expired|did not come from this site/i.test(answer.text)) client.csrfToken = undefined;
  }

  private async webCreate(): Promise<void> {
    const player = this.pick(this.players)!;
    const marker = this.marker();
    const token = await this.tokenOf(player);
    const form = new FormData();
    form.append('_csrf', token);
    form.append('subject', `${this.words(2)} ${marker}`);
    form.append('message', `${marker} ${this.words(8)}\nline two of the report`);
    form.append('priority', this.pick(['low', 'normal', 'high', 'urgent'])!);
    const files = Math.floor(this.random() * 3);
    for (let i = 0; i < files; i++) {
      if (i === 0) form.append('attachments', new Blob([PNG]), `shot-${marker}.png`);
      else form.append('attachments', new Blob([`log of ${marker}\n${this.words(40)}\n`]), `log-${marker}.txt`);
    }
    let answer: Reply;
    try {
      answer = await this.send('create', player, 'POST', '/index.php?view=ticket_create', form);
    } catch (err) {
      this.ledger.unanswered.add(marker);
      throw err;
    }
    const id = /view=ticket&id=(\d+)/.exec(answer.location ?? '')?.[1];
    if (answer.status === 303 && id) {
      this.ledger.webCreates.push({ marker, ticketId: Number(id), username: player.username, attachments: files });
      return;
    }
    this.ledger.unanswered.add(marker);
    await this.refused('create', player, answer);
  }

  private async tokenOf(client: WebClient): Promise<string> {
    try {
      return await client.token();
    } catch (err) {
      if (isNetworkError(err)) throw new NetworkError((err as Error).message);
      throw err;
    }
  }

  private ownTickets(username: string): WebWrite[] {
    return this.ledger.webCreates.filter((t) => t.username === username && (this.repliesPerTicket.get(t.ticketId) ?? 0) < (this.options.maxRepliesPerTicket ?? Infinity));
  }

  private async webReply(): Promise<void> {
    const player = this.pick(this.players)!;
    const ticket = this.pick(this.ownTickets(player.username));
    if (!ticket) return this.webCreate();
    const marker = this.marker();
    const token = await this.tokenOf(player);
    const form = new FormData();
    form.append('_csrf', token);
    form.append('message', `${marker} reply: ${this.words(6)}`);
    const files = this.random() < 0.3 ? 1 : 0;
    if (files) form.append('attachments', new Blob([`reply log ${marker}\n`]), `reply-${marker}.log`);
    let answer: Reply;
    try {
      answer = await this.send('reply', player, 'POST', `/index.php?view=ticket&id=${ticket.ticketId}&action=reply`, form);
    } catch (err) {
      this.ledger.unanswered.add(marker);
      throw err;
    }
    if (answer.status === 303 && new RegExp(`view=ticket&id=${ticket.ticketId}\\b`).test(answer.location ?? '')) {
      this.ledger.webReplies.push({ marker, ticketId: ticket.ticketId, username: player.username, attachments: files });
      this.repliesPerTicket.set(ticket.ticketId, (this.repliesPerTicket.get(ticket.ticketId) ?? 0) + 1);
      return;
    }
    this.ledger.unanswered.add(marker);
    await this.refused('reply', player, answer);
  }

  private async staffReply(): Promise<void> {
    const web = this.ledger.webCreates.filter((t) => (this.repliesPerTicket.get(t.ticketId) ?? 0) < (this.options.maxRepliesPerTicket ?? Infinity)).map((t) => t.ticketId);
    const game = [...this.ledger.gameTickets().keys()].filter((id) => !this.ledger.closedGameTickets.has(id));
    const ticketId = this.random() < 0.5 ? (this.pick(game) ?? this.pick(web)) : (this.pick(web) ?? this.pick(game));
    if (ticketId === undefined) return this.webCreate();
    const marker = this.marker();
    // Some answers are longer than one whisper (200 characters): every word is unique, so every
    // part of the split can be recognised.
    const long = this.random() < 0.25;
    const body = long ? Array.from({ length: 22 }, (_, i) => `${marker}.${i}`).join(' ') : `${marker} answer: ${this.words(5)}`;
    const token = await this.tokenOf(this.staff);
    const form = new FormData();
    form.append('_csrf', token);
    form.append('message', body);
    form.append('status', this.pick(['answered', 'waiting_user', 'in_progress'])!);
    let answer: Reply;
    try {
      answer = await this.send('staff_reply', this.staff, 'POST', `/index.php?view=ticket&id=${ticketId}&action=reply`, form);
    } catch (err) {
      this.ledger.unanswered.add(marker);
      throw err;
    }
    if (answer.status === 303 && new RegExp(`view=ticket&id=${ticketId}\\b`).test(answer.location ?? '')) {
      this.ledger.staffReplies.push({ marker, ticketId, body });
      this.repliesPerTicket.set(ticketId, (this.repliesPerTicket.get(ticketId) ?? 0) + 1);
      return;
    }
    this.ledger.unanswered.add(marker);
    if (answer.status === 409 && this.ledger.gameTickets().has(ticketId)) {
      // A logout closed this game ticket while the answer was on its way (checked at the end).
      this.ledger.lateConflicts.push(ticketId);
      return;
    }
    await this.refused('staff_reply', this.staff, answer);
  }

  private async gameAction(): Promise<void> {
    let request = this.gameRetries.shift();
    if (!request) {
      const char = this.pick(this.env.chars)!;
      const marker = this.marker();
      const requestId = `rq-${marker}`;
      request = {
        requestId,
        marker,
        char,
        attempts: 0,
        body: {
          action: 'ticket',
          via: this.random() < 0.5 ? 'request' : 'pm',
          account_id: char.account_id,
          char_id: char.char_id,
          name: char.name,
          message: `${marker} ${this.words(4)}`,
          request_id: requestId,
        },
      };
      this.ledger.gameRequests.set(requestId, request);
    }
    request.attempts += 1;
    let answer: Reply;
    try {
      answer = await this.send('game', undefined, 'POST', '/api/game/actions', JSON.stringify(request.body), {
        authorization: `Bearer ${GAME_TOKEN}`,
        'content-type': 'application/json',
      });
    } catch (err) {
      // No answer: the game server keeps the request and sends it again with the same request_id.
      this.gameRetries.push(request);
      throw err;
    }
    if (answer.status !== 200) {
      this.gameRetries.push(request);
      this.unexpected('game', answer);
      return;
    }
    this.recordGameAnswer(request, answer.text);
  }

  private recordGameAnswer(request: GameRequest, text: string): void {
    const json = JSON.parse(text) as { ok?: boolean; ticket_id?: number | null };
    if (json.ok !== true) {
      this.ledger.violations.push(`game ${request.requestId}: answer without ok: ${text.slice(0, 200)}`);
      return;
    }
    if (request.answer === undefined) {
      request.answer = text;
      request.ticketId = json.ticket_id ?? null;
      if (request.ticketId !== null) this.ledger.recordGameTicket(request.ticketId, request.char);
    } else if (request.answer !== text) {
      this.ledger.violations.push(`game ${request.requestId}: a repeated request_id answered ${text} after ${request.answer}`);
    }
  }

  /** The character logs out: with close-on-logout (the default) its ticket closes and its channel goes. */
  private async gameLogout(): Promise<void> {
    const char = this.pick(this.env.chars)!;
    const answer = await this.send('game_logout', undefined, 'POST', '/api/game/actions', JSON.stringify({ action: 'logout', account_id: char.account_id, char_id: char.char_id, name: char.name }), {
      authorization: `Bearer ${GAME_TOKEN}`,
      'content-type': 'application/json',
    });
    if (answer.status !== 200) return this.unexpected('game_logout', answer);
    const json = JSON.parse(answer.text) as { ticket_id: number | null; closed?: boolean };
    if (json.closed && json.ticket_id !== null) this.ledger.closedGameTickets.add(json.ticket_id);
  }

  /** Sends an answered request_id again: the same answer must come back, nothing is stored. */
  private async gameReplay(): Promise<void> {
    const answered = [...this.ledger.gameRequests.values()].filter((r) => r.answer !== undefined);
    const request = this.pick(answered.slice(-200));
    if (!request) return this.gameAction();
    const answer = await this.send('game_replay', undefined, 'POST', '/api/game/actions', JSON.stringify(request.body), {
      authorization: `Bearer ${GAME_TOKEN}`,
      'content-type': 'application/json',
    });
    if (answer.status !== 200) return this.unexpected('game_replay', answer);
    this.ledger.replayProbes += 1;
    this.recordGameAnswer(request, answer.text);
  }

  /**
   * The final probe: every answered request_id that needed more than one attempt once more, and
   * up to `sample` of the others.
   */
  async replayAllGameRequests(sample = 300): Promise<void> {
    const answered = [...this.ledger.gameRequests.values()].filter((r) => r.answer !== undefined);
    const retried = answered.filter((r) => r.attempts > 1);
    const others = answered.filter((r) => r.attempts <= 1);
    for (let i = others.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [others[i], others[j]] = [others[j]!, others[i]!];
    }
    for (const request of [...retried, ...others.slice(0, sample)]) {
      const answer = await this.send('game_replay', undefined, 'POST', '/api/game/actions', JSON.stringify(request.body), {
        authorization: `Bearer ${GAME_TOKEN}`,
        'content-type': 'application/json',
      });
      if (answer.status !== 200) {
        this.unexpected('game_replay', answer);
        continue;
      }
      this.ledger.replayProbes += 1;
      this.recordGameAnswer(request, answer.text);
    }
  }

  /** Game requests still waiting for an answer: sent again until answered (after the last restart). */
  async settleGameRetries(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.gameRetries.length > 0 && Date.now() < deadline) {
      try {
        await this.gameAction();
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        await sleep(200);
      }
    }
    return this.gameRetries.length;
  }

  private async discordStaff(): Promise<void> {
    const tickets = this.ledger.gameTickets();
    const channels = [...this.env.discord.channels.values()].filter((c) => {
      const id = Number(/^ticketbridge ticket #(\d+)$/.exec(c.topic ?? '')?.[1]);
      return tickets.has(id) && !this.ledger.closedGameTickets.has(id);
    });
    const channel = this.pick(channels);
    if (!channel) return this.gameAction();
    const ticketId = Number(/#(\d+)$/.exec(channel.topic!)![1]);
    const marker = this.marker();
    const text = this.random() < 0.2 ? Array.from({ length: 20 }, (_, i) => `${marker}.${i}`).join(' ') : `${marker} from Discord: ${this.words(4)}`;
    // Discord has it now, whatever our server is doing: the bridge must relay it once.
    const message = this.env.discord.userSays(channel.id, { userId: this.env.discordStaff.id, content: text });
    this.ledger.count('discord_staff', 200);
    this.ledger.discordMessages.push({ marker, ticketId, channelId: channel.id, discordMessageId: message.id, text });
  }

  private async readPage(op: Operation, client: WebClient, pathname: string): Promise<void> {
    const answer = await this.send(op, client, 'GET', pathname);
    if (answer.status === 200) return;
    await this.refused(op, client, answer);
  }

  private async ticketPage(): Promise<void> {
    const asStaff = this.random() < 0.3;
    const player = this.pick(this.players)!;
    const ticket = asStaff ? this.pick(this.ledger.webCreates) : this.pick(this.ledger.webCreates.filter((t) => t.username === player.username));
    if (!ticket) return this.readPage('list', player, '/index.php?view=tickets');
    const client = asStaff ? this.staff : player;
    const answer = await this.send('ticket_page', client, 'GET', `/index.php?view=ticket&id=${ticket.ticketId}`);
    if (answer.status !== 200) {
      await this.refused('ticket_page', client, answer);
      return;
    }
    for (const m of answer.text.matchAll(/view=attachment&amp;ticket=(\d+)&amp;id=(\d+)/g)) {
      if (this.attachmentsSeen.length < 500) this.attachmentsSeen.push({ username: ticket.username, ticketId: Number(m[1]), attachmentId: Number(m[2]) });
    }
  }

  private async downloadAttachment(): Promise<void> {
    const seen = this.pick(this.attachmentsSeen);
    if (!seen) return this.ticketPage();
    const client = this.players.find((p) => p.username === seen.username)!;
    const answer = await this.send('attachment', client, 'GET', `/index.php?view=attachment&ticket=${seen.ticketId}&id=${seen.attachmentId}`);
    if (answer.status !== 200) await this.refused('attachment', client, answer);
  }

  /** The fake game server: long poll, whisper, ack; forever until stopPoller. */
  private async pollWhispers(): Promise<void> {
    const wait = this.options.whisperWaitS ?? 2;
    const auth = { authorization: `Bearer ${GAME_TOKEN}` };
    while (this.pollerRunning) {
      let list: { id: number; char_id: number; name: string; from: string; text: string }[];
      try {
        const answer = await this.send('whisper_poll', undefined, 'GET', `/api/game/whispers?wait=${wait}&limit=50`, undefined, auth, (wait + 15) * 1000);
        if (answer.status !== 200) {
          this.unexpected('whisper_poll', answer);
          await sleep(200);
          continue;
        }
        list = (JSON.parse(answer.text) as { whispers: typeof list }).whispers;
      } catch (err) {
        if (!(err instanceof NetworkError)) this.ledger.violations.push(`whisper poll: ${(err as Error).message}`);
        await sleep(150);
        continue;
      }
      if (list.length === 0) continue;
      const now = Date.now();
      for (const w of list) {
        if (this.ledger.confirmedAcks.has(w.id)) this.ledger.violations.push(`whisper ${w.id} was handed out again after its ack was confirmed`);
        const seen = this.ledger.whispers.get(w.id);
        if (seen) seen.deliveries += 1;
        else {
          this.ledger.whispers.set(w.id, { id: w.id, charId: w.char_id, name: w.name, from: w.from, text: w.text, deliveries: 1, firstAt: now });
          const order = this.ledger.whisperOrder.get(w.char_id) ?? [];
          order.push(w.id);
          this.ledger.whisperOrder.set(w.char_id, order);
        }
      }
      try {
        const ids = list.map((w) => w.id);
        const answer = await this.send('whisper_ack', undefined, 'POST', '/api/game/whispers/ack', JSON.stringify({ ids }), { ...auth, 'content-type': 'application/json' });
        if (answer.status === 200) for (const id of ids) this.ledger.confirmedAcks.add(id);
        else this.unexpected('whisper_ack', answer);
      } catch (err) {
        // Not acked: they come back after GAME_WHISPER_VISIBILITY_S, which is allowed.
        if (!(err instanceof NetworkError)) throw err;
      }
    }
  }
}

/** A request without a session (the game server's API calls). */
function anonymous(base: string, method: string, pathname: string, body?: FormData | URLSearchParams | string, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<Reply> {
  return new Client(base).request(method, pathname, body, headers, timeoutMs);
}
