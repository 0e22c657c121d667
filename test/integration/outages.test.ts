// Issue 8 § 2, outages: the outside services go away while people keep working, and nothing is
// slow, lost or doubled. One process as in production: the real app over HTTP, the real
// discord.js bridge against the fake Discord, the real notification worker with nodemailer and
// telegraf against the fake SMTP server and the fake Telegram Bot API, and the game server's side
// of the whisper API played by this file.
//   a) Discord down: gateway closed and REST 500, then the gateway back with REST still 500, then
//      REST 429 with retry_after; then everything queued is posted once, in order per ticket.
//   b) SMTP stalled (no greeting, then no answer after DATA) and Telegram answering 500 then 429
//      while Support answers many tickets; then every notification is delivered once.
//   c) The game server's whisper poller was away through a) and b): pending whispers wait and
//      come out in order per character, redelivered when not acked, never twice after an ack.
// The figures (requests under outage, worst latency, deliveries after recovery) are printed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { markEmailVerified, setTelegramChat, setUserEmail, type User } from '../../src/db/users.js';
import type { DiscordBridge } from '../../src/discord/bridge.js';
import { formatPlayerPost } from '../../src/discord/format.js';
import { splitWhisper } from '../../src/tickets/whispers.js';
import { createLogger } from '../../src/log.js';
import { createEmailSender } from '../../src/notify/email.js';
import { createTelegramService, type TelegramService } from '../../src/notify/telegram.js';
import { createNotificationWorker, MAX_ATTEMPTS, type NotificationWorker } from '../../src/notify/worker.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { createWebTicket } from '../../src/tickets/service.js';
import type { FakeDiscord } from '../../support/fakes/discord.js';
import { startFakeSmtp, type FakeSmtp } from '../../support/fakes/smtp.js';
import { startFakeTelegram, type FakeTelegram } from '../../support/fakes/telegram.js';
import { pollUntil } from '../../support/fakes/wait.js';
import { addUser, Client, csrfFrom, type Reply, type TestApp } from '../helpers/app.js';
import { GAME_TOKEN, startBridged, withoutEncoded, type BridgedSetup } from '../helpers/bridge.js';

const STAFF_DISCORD_ID = '400000000000000001';
const APP_HOST = 'support.example.org';
/** "Stays fast under outage": a generous bound, not a benchmark. */
const FAST_MS = 1000;
const OFFLINE = 'RagnaSync: Ticket Offline, Try again';

let setup: BridgedSetup;
let signals: BridgedSetup['signals'];
let fake: FakeDiscord;
let smtp: FakeSmtp;
let tg: FakeTelegram;
let app: TestApp;
let bridge: DiscordBridge;
let telegram: TelegramService;
let email: ReturnType<typeof createEmailSender>;
let worker: NotificationWorker;
let staff: Client;
let staffCsrf: string;

/** Process warnings (a MaxListenersExceededWarning means something leaks a listener per request). */
const warnings: Error[] = [];
process.on('warning', (warning) => warnings.push(warning));

/** Pacing for the load loops in during(): time between requests, not a wait for anything. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (sql: string, ...params: unknown[]) => (prepared(app.db, sql).get(...params) as { n: number }).n;

/** Every request made under an outage, timed. */
class Meter {
  requests = 0;
  maxMs = 0;
  readonly slow: string[] = [];
  async time<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      const ms = performance.now() - started;
      this.requests += 1;
      this.maxMs = Math.max(this.maxMs, ms);
      if (ms >= FAST_MS) this.slow.push(`${what}: ${ms.toFixed(0)} ms`);
    }
  }
  assertFast(): void {
    assert.deepEqual(this.slow, [], `every request under ${FAST_MS} ms`);
  }
}

/** Run each actor in a loop until `ms` have passed (a short pause between its requests). */
async function during(ms: number, actors: ((round: number) => Promise<void>)[], pauseMs = 60): Promise<void> {
  const end = Date.now() + ms;
  await Promise.all(
    actors.map(async (actor) => {
      for (let round = 0; Date.now() < end; round += 1) {
        await actor(round);
        await sleep(pauseMs);
      }
    }),
  );
}

interface GamePlayer {
  account_id: number;
  char_id: number;
  name: string;
}

async function gameAction(meter: Meter | undefined, player: GamePlayer, via: 'pm' | 'request', message: string) {
  const call = async () => {
    const response = await fetch(`${app.url}/api/game/actions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GAME_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'ticket', via, ...player, message }),
    });
    const json = withoutEncoded((await response.json()) as Record<string, unknown>);
    return { status: response.status, json: json as { ok: boolean; ticket_id: number | null; whispers: { to: string; text: string }[] } };
  };
  const result = meter ? await meter.time(`game ${player.name}`, call) : await call();
  assert.equal(result.status, 200);
  return result.json;
}

async function staffReply(meter: Meter, ticketId: number, message: string): Promise<void> {
  const reply = await meter.time(`staff reply #${ticketId}`, () =>
    staff.postMultipart(`/index.php?view=ticket&id=${ticketId}&action=reply`, { _csrf: staffCsrf, message, status: 'answered' }),
  );
  assert.equal(reply.status, 303, `staff reply to #${ticketId}: ${reply.text.slice(0, 200)}`);
}

async function webCreate(meter: Meter, client: Client, csrf: string, subject: string): Promise<number> {
  const reply: Reply = await meter.time('web create', () => client.postMultipart('/index.php?view=ticket_create', { _csrf: csrf, subject, message: `${subject}: details`, priority: 'normal' }));
  assert.equal(reply.status, 303);
  return Number(new URL(reply.location!, app.url).searchParams.get('id'));
}

async function signedIn(username: string, role: 'user' | 'staff' = 'user'): Promise<{ client: Client; csrf: string; user: User }> {
  const user = await addUser(app.db, username, 'correct horse battery', role);
  const client = new Client(app.url);
  assert.equal((await client.login(username)).status, 303);
  return { client, csrf: csrfFrom((await client.get('/index.php?view=ticket_create')).text)!, user };
}

before(async () => {
  smtp = await startFakeSmtp({ user: 'mailer', pass: 'secret' });
  tg = await startFakeTelegram();
  setup = await startBridged({
    env: {
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Support <support@example.org>',
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      APP_URL: `http://${APP_HOST}`,
      // c) a whisper handed out and not acked comes back after 1 s instead of 30.
      GAME_WHISPER_VISIBILITY_S: '1',
    },
  });
  ({ fake, app, bridge, signals } = setup);
  assert.equal(setup.staffId, STAFF_DISCORD_ID);
  // As in server.ts, with short SMTP timeouts and a 100 ms retry base (production: 10 s and 5 s).
  email = createEmailSender(app.config, 300);
  telegram = createTelegramService({ db: app.db, config: app.config, logger: createLogger('silent') });
  worker = createNotificationWorker({
    db: app.db,
    config: app.config,
    logger: createLogger('silent'),
    signal: signals.notifications,
    senders: { email: email.send, telegram: telegram.send },
    retryBaseMs: 100,
  });
  worker.start();
  const gm = await signedIn('gm', 'staff');
  staff = gm.client;
  staffCsrf = gm.csrf;
});

after(async () => {
  await worker?.stop();
  await telegram?.stop();
  email?.close();
  await setup?.close();
  await smtp?.stop();
  await tg?.stop();
});

// ---------------------------------------------------------------------------------------------
// a) Discord down

const players: GamePlayer[] = [
  { account_id: 2000001, char_id: 150001, name: 'Ayla' },
  { account_id: 2000002, char_id: 150002, name: 'Borin' },
  { account_id: 2000003, char_id: 150003, name: 'Cass' },
];
const newcomer: GamePlayer = { account_id: 2000009, char_id: 150009, name: 'Newcomer' };
const gameTickets = new Map<number, number>(); // char_id -> ticket id

const pendingDiscordWork = () => count('SELECT COUNT(*) AS n FROM discord_outbox WHERE done_at IS NULL');
const channelOf = (ticketId: number) => (prepared(app.db, 'SELECT discord_channel_id AS c FROM tickets WHERE id = ?').get(ticketId) as { c: string | null }).c;
const botPosts = (channelId: string) => fake.messagesIn(channelId).filter((m) => m.source === 'bot').map((m) => m.content);

/** What the bridge must post for a ticket's messages after `afterId`, in the order they were stored. */
function expectedPosts(ticketId: number, afterId: number): string[] {
  const rows = prepared(app.db, "SELECT author_name AS name, origin, body FROM messages WHERE ticket_id = ? AND id > ? AND origin IN ('game', 'web') AND internal = 0 ORDER BY id").all(ticketId, afterId) as {
    name: string;
    origin: string;
    body: string;
  }[];
  return rows.flatMap((r) => (r.origin === 'game' ? formatPlayerPost(r.name, r.body) : `${r.name} (web): ${r.body}`).split('\n'));
}

describe('a) Discord down: gateway closed, REST 500, then 429', () => {
  const meter = new Meter();
  const accepted: { ticketId: number; content: string }[] = [];
  let offlineAnswers = 0;
  let baselineMessageId = 0;
  let outageStart = 0;
  const baselinePosts = new Map<number, number>();

  test('before: three players have open game tickets with their channels', async () => {
    for (const p of players) {
      const json = await gameAction(undefined, p, 'pm', `hello from ${p.name}`);
      gameTickets.set(p.char_id, json.ticket_id!);
    }
    await pollUntil(() => pendingDiscordWork() === 0 && [...gameTickets.values()].every((id) => channelOf(id) && botPosts(channelOf(id)!).length >= 2), 10_000, 'the channels and first posts');
    baselineMessageId = count('SELECT MAX(id) AS n FROM messages');
    for (const id of gameTickets.values()) baselinePosts.set(id, botPosts(channelOf(id)!).length);
  });

  test('gateway closed + REST 500: web stays fast, game messages answer "offline" and store nothing, staff answers wait in discord_outbox', async () => {
    outageStart = Date.now();
    fake.restOutage({ status: 500 });
    fake.setGatewayAvailable(false);
    fake.disconnectGateway();
    await fake.waitFor(() => !bridge.isConnected(), 5000, 'the bridge to notice');
    // A staff member answers in Discord while the bot is away: relayed once when it returns.
    fake.userSays(channelOf(gameTickets.get(players[0]!.char_id)!)!, { userId: STAFF_DISCORD_ID, content: 'answered in Discord during the outage' });

    const player = await signedIn('webber1');
    const before = { messages: count('SELECT COUNT(*) AS n FROM messages WHERE origin = ?', 'game'), tickets: count('SELECT COUNT(*) AS n FROM tickets WHERE source = ?', 'game') };
    let staffAnswers = 0;
    await during(2500, [
      ...players.map((p) => async (round: number) => {
        const json = await gameAction(meter, p, round % 2 ? 'request' : 'pm', `a1 ${p.name} ${round}`);
        assert.deepEqual(json, { ok: true, ticket_id: null, whispers: [{ to: p.name, text: OFFLINE }] });
        offlineAnswers += 1;
      }),
      async (round) => {
        const json = await gameAction(meter, newcomer, 'pm', `a1 newcomer ${round}`);
        assert.deepEqual(json.whispers, [{ to: newcomer.name, text: OFFLINE }]);
        offlineAnswers += 1;
      },
      async (round) => {
        const p = players[round % players.length]!;
        const ticketId = gameTickets.get(p.char_id)!;
        await staffReply(meter, ticketId, `a1 staff to ${p.name} ${round}`);
        accepted.push({ ticketId, content: `gm (web): a1 staff to ${p.name} ${round}` });
        staffAnswers += 1;
      },
      async (round) => void (await webCreate(meter, player.client, player.csrf, `a1 web ticket ${round}`)),
    ]);
    assert.equal(count('SELECT COUNT(*) AS n FROM messages WHERE origin = ?', 'game'), before.messages, 'nothing stored for an "offline" answer');
    assert.equal(count('SELECT COUNT(*) AS n FROM tickets WHERE source = ?', 'game'), before.tickets, 'no ticket for the newcomer');
    assert.ok(staffAnswers > 0);
    assert.equal(count("SELECT COUNT(*) AS n FROM discord_outbox WHERE done_at IS NULL AND kind = 'post_message'"), staffAnswers, 'every staff answer waits in discord_outbox');
    for (const [id, posts] of baselinePosts) assert.equal(botPosts(channelOf(id)!).length, posts, 'nothing reached Discord');
    meter.assertFast();
  });

  test('gateway back, REST still 500: game messages are stored and queued; a new player gets a ticket; nothing is posted yet', async () => {
    fake.setGatewayAvailable(true);
    await fake.waitFor(() => bridge.isConnected(), 15_000, 'the bridge to reconnect');
    const player = await signedIn('webber2');
    await during(2000, [
      ...players.map((p) => async (round: number) => {
        const via = round % 2 ? 'request' : 'pm';
        const json = await gameAction(meter, p, via, `a2 ${p.name} ${round}`);
        assert.equal(json.ticket_id, gameTickets.get(p.char_id));
        assert.deepEqual(json.whispers, via === 'request' ? [{ to: p.name, text: `[RagnaSync Ticket]: a2 ${p.name} ${round}` }] : []);
        accepted.push({ ticketId: json.ticket_id!, content: formatPlayerPost(p.name, `a2 ${p.name} ${round}`) });
      }),
      async (round) => {
        const json = await gameAction(meter, newcomer, 'pm', `a2 newcomer ${round}`);
        assert.ok(json.ticket_id);
        assert.deepEqual(json.whispers, round === 0 ? [{ to: newcomer.name, text: 'Ticket Created on Discord. PM @Support to use' }] : []);
        gameTickets.set(newcomer.char_id, json.ticket_id);
        accepted.push({ ticketId: json.ticket_id, content: formatPlayerPost(newcomer.name, `a2 newcomer ${round}`) });
      },
      async (round) => {
        const p = players[round % players.length]!;
        const ticketId = gameTickets.get(p.char_id)!;
        await staffReply(meter, ticketId, `a2 staff to ${p.name} ${round}`);
        accepted.push({ ticketId, content: `gm (web): a2 staff to ${p.name} ${round}` });
      },
      async (round) => void (await webCreate(meter, player.client, player.csrf, `a2 web ticket ${round}`)),
    ]);
    const failing = prepared(app.db, 'SELECT MAX(attempts) AS attempts, last_error AS error FROM discord_outbox WHERE done_at IS NULL AND attempts > 0').get() as { attempts: number | null; error: string | null };
    assert.ok((failing.attempts ?? 0) >= 1 && /500|Internal Server Error/.test(failing.error ?? ''), `the worker tried and got 500s: ${JSON.stringify(failing)}`);
    for (const [id, posts] of baselinePosts) assert.equal(botPosts(channelOf(id)!).length, posts, 'nothing reached Discord');
    meter.assertFast();
  });

  test('REST 429 with retry_after: still fast, still queued', async () => {
    fake.restOutage({ status: 429, retryAfter: 1 });
    const limitedBefore = fake.rateLimited.length;
    const player = await signedIn('webber3');
    await during(2000, [
      ...players.map((p) => async (round: number) => {
        const json = await gameAction(meter, p, 'pm', `a3 ${p.name} ${round}`);
        assert.equal(json.ticket_id, gameTickets.get(p.char_id));
        accepted.push({ ticketId: json.ticket_id!, content: formatPlayerPost(p.name, `a3 ${p.name} ${round}`) });
      }),
      async (round) => {
        const p = players[round % players.length]!;
        const ticketId = gameTickets.get(p.char_id)!;
        await staffReply(meter, ticketId, `a3 staff to ${p.name} ${round}`);
        accepted.push({ ticketId, content: `gm (web): a3 staff to ${p.name} ${round}` });
      },
      async (round) => void (await webCreate(meter, player.client, player.csrf, `a3 web ticket ${round}`)),
    ]);
    assert.ok(fake.rateLimited.length > limitedBefore, 'the bot was rate limited');
    assert.equal(count('SELECT COUNT(*) AS n FROM discord_outbox WHERE created_at >= ? AND done_at IS NOT NULL', outageStart), 0, 'nothing queued during the outage got through');
    assert.equal(channelOf(gameTickets.get(newcomer.char_id)!), null, 'the newcomer’s channel is not made yet');
    meter.assertFast();
  });

  test('Discord back: every queued message is posted once, in order per ticket; the Discord answer is relayed once', async () => {
    const queued = pendingDiscordWork();
    const started = Date.now();
    fake.restOutage(null);
    await pollUntil(() => pendingDiscordWork() === 0, 30_000, 'discord_outbox to drain');
    const recoveryMs = Date.now() - started;
    let posted = 0;
    let discordMessages = 0;
    for (const ticketId of new Set(gameTickets.values())) {
      const channelId = channelOf(ticketId);
      assert.ok(channelId, `ticket #${ticketId} has a channel`);
      const isNew = !baselinePosts.has(ticketId);
      const messages = botPosts(channelId).slice(isNew ? 1 : baselinePosts.get(ticketId)!);
      assert.ok(messages.every((m) => m.length <= 2000));
      discordMessages += messages.length;
      // The bridge may send consecutive posts of a ticket as one Discord message, a line each.
      const after = messages.flatMap((m) => m.split('\n'));
      if (isNew) assert.match(botPosts(channelId)[0]!, new RegExp(`^New ticket #${ticketId} from \\*\\*Newcomer\\*\\*`));
      // In the order the messages were stored, each exactly once ...
      assert.deepEqual(after, expectedPosts(ticketId, baselineMessageId), `ticket #${ticketId}`);
      // ... and those are exactly the requests that were answered with success.
      assert.deepEqual(
        [...after].sort(),
        accepted.filter((a) => a.ticketId === ticketId).flatMap((a) => a.content.split('\n')).sort(),
      );
      posted += after.length;
    }
    const ayla = gameTickets.get(players[0]!.char_id)!;
    assert.equal(count("SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ? AND origin = 'discord' AND body = 'answered in Discord during the outage'", ayla), 1);
    assert.ok(bridge.isConnected());
    console.log(
      `[outages a] Discord down ~6.5 s (gateway closed + REST 500 2.5 s, REST 500 2 s, REST 429 retry_after 1 s 2 s): ` +
        `${meter.requests} requests (game API, staff replies, web creates), max latency ${meter.maxMs.toFixed(0)} ms; ` +
        `${offlineAnswers} game messages answered "offline" while the gateway was closed; ` +
        `${queued} Discord jobs queued; after recovery ${posted} posts (in ${discordMessages} Discord messages) went out in ${recoveryMs} ms, 0 duplicates, in order per ticket`,
    );
    assert.equal(posted, accepted.flatMap((a) => a.content.split('\n')).length);
  });
});

// ---------------------------------------------------------------------------------------------
// b) SMTP stalled, Telegram failing

describe('b) SMTP stalled and Telegram failing while Support answers many tickets', () => {
  const meter = new Meter();
  const recipients: { user: User; address: string; chat: number; tickets: number[] }[] = [];
  const bodies: { ticketId: number; userIndex: number; token: string }[] = [];
  const triedAndFailed = (channel: 'email' | 'telegram') => outboxRows().some((r) => r.channel === channel && r.attempts > 0 && r.lastError);
  const attemptsFor = (channel: 'email' | 'telegram') => outboxRows().filter((r) => r.channel === channel).reduce((n, r) => n + r.attempts, 0);
  const totalAttempts = () => ({ email: attemptsFor('email'), telegram: attemptsFor('telegram') });
  const outboxRows = () =>
    prepared(app.db, "SELECT id, user_id AS userId, ticket_id AS ticketId, channel, status, attempts, last_error AS lastError FROM notification_outbox WHERE event = 'support_reply' ORDER BY id").all() as {
      id: number;
      userId: number;
      ticketId: number;
      channel: 'email' | 'telegram';
      status: string;
      attempts: number;
      lastError: string | null;
    }[];

  async function answerAll(round: number): Promise<void> {
    for (const [userIndex, r] of recipients.entries()) {
      for (const ticketId of r.tickets) {
        const token = `b-r${round}-t${ticketId}`;
        await staffReply(meter, ticketId, `Answer ${token}`);
        bodies.push({ ticketId, userIndex, token });
      }
    }
  }

  test('while stalled and failing: requests stay fast, the outbox holds every row as pending with retries', async () => {
    saveNotificationSwitches(app.db, { email: true, telegram: true });
    for (let i = 0; i < 3; i += 1) {
      const user = await addUser(app.db, `notified${i}`);
      const address = `notified${i}@example.org`;
      setUserEmail(app.db, user.id, address);
      markEmailVerified(app.db, user.id, address);
      const chat = 880001 + i;
      tg.addChat({ id: chat, type: 'private', first_name: `Player ${i}` });
      setTelegramChat(app.db, user.id, String(chat));
      const tickets = [1, 2].map((n) => createWebTicket(app.db, { user, subject: `Notified ${i}.${n}`, body: 'help', priority: 'normal', uploads: [] }, { ip: null }));
      recipients.push({ user, address, chat, tickets });
    }
    const connectionsBefore = smtp.connectionCount;
    smtp.stall(true); // TCP accepted, never a greeting
    tg.setOutage({ status: 500 });
    await answerAll(1);
    await answerAll(2);
    await pollUntil(() => smtp.connectionCount > connectionsBefore && triedAndFailed('email') && triedAndFailed('telegram'), 10_000, 'failed attempts on both channels');
    smtp.stall(true, 'data'); // the whole message is taken, the final "." never answered
    tg.setOutage({ status: 429, retryAfter: 1 });
    const attemptsBefore = totalAttempts();
    await answerAll(3);
    await pollUntil(() => attemptsFor('email') > attemptsBefore.email && attemptsFor('telegram') > attemptsBefore.telegram, 10_000, 'failed attempts in the second outage');

    const rows = outboxRows();
    assert.equal(rows.length, bodies.length * 2, 'one email and one Telegram row per answer');
    assert.deepEqual([...new Set(rows.map((r) => r.status))], ['pending'], 'nothing sent, nothing given up');
    for (const channel of ['email', 'telegram'] as const) {
      const tried = rows.filter((r) => r.channel === channel && r.attempts > 0);
      assert.ok(tried.length > 0 && tried.every((r) => r.lastError), `${channel}: attempts were made and their errors recorded`);
    }
    assert.ok(smtp.connectionCount > connectionsBefore, 'the mail server was tried');
    assert.equal(smtp.messages.filter((m) => /b-r\d/.test(m.text)).length, 0);
    assert.equal(tg.sent.filter((m) => /b-r\d/.test(m.plainText)).length, 0);
    meter.assertFast();
  });

  test('when both recover, every notification is delivered exactly once', async () => {
    const maxAttempts = Math.max(...outboxRows().map((r) => r.attempts));
    const started = Date.now();
    smtp.stall(false);
    tg.setOutage(null);
    await pollUntil(() => outboxRows().every((r) => r.status !== 'pending'), 20_000, 'the outbox to drain');
    const recoveryMs = Date.now() - started;
    // Both worker loops back on the signal with nothing pending: anything sent twice is in by now.
    await pollUntil(() => signals.notifications.waiting === 2, 5000, 'the notification worker to be idle');
    const rows = outboxRows();
    assert.deepEqual(rows.filter((r) => r.status !== 'sent'), [], `none given up (MAX_ATTEMPTS ${MAX_ATTEMPTS})`);

    // By outbox row: each email carries its row id in its Message-ID.
    for (const row of rows.filter((r) => r.channel === 'email')) {
      const copies = smtp.messages.filter((m) => m.messageId === `<ticket-${row.ticketId}.n${row.id}@${APP_HOST}>`);
      assert.equal(copies.length, 1, `email row ${row.id}`);
    }
    // By message: each answer reached its player once per channel, and nobody else.
    let inOrder = true;
    for (const [userIndex, r] of recipients.entries()) {
      const tokens = bodies.filter((b) => b.userIndex === userIndex).map((b) => b.token);
      const mails = smtp.messagesTo(r.address).filter((m) => /b-r\d/.test(m.text));
      const texts = tg.sentTo(r.chat).filter((m) => /b-r\d/.test(m.plainText));
      const tokenOf = (text: string) => /b-r\d-t\d+/.exec(text)?.[0];
      assert.deepEqual(mails.map((m) => tokenOf(m.text)).sort(), [...tokens].sort(), `${r.address}: one email per answer`);
      assert.deepEqual(texts.map((m) => tokenOf(m.plainText)).sort(), [...tokens].sort(), `chat ${r.chat}: one message per answer`);
      inOrder &&= JSON.stringify(mails.map((m) => tokenOf(m.text))) === JSON.stringify(tokens) && JSON.stringify(texts.map((m) => tokenOf(m.plainText))) === JSON.stringify(tokens);
    }
    console.log(
      `[outages b] SMTP stalled (no greeting, then no reply to DATA) and Telegram 500 then 429 for ~3 s: ` +
        `${meter.requests} staff replies, max latency ${meter.maxMs.toFixed(0)} ms; ${rows.length} notifications held ` +
        `(up to ${maxAttempts} failed attempts each, retry base 100 ms), all delivered once within ${recoveryMs} ms of recovery; ` +
        `per-recipient order ${inOrder ? 'kept' : 'NOT kept'} (the worker does not promise it)`,
    );
    meter.assertFast();
  });
});

// ---------------------------------------------------------------------------------------------
// c) The whisper poller was away

interface PolledWhisper {
  id: number;
  char_id: number;
  name: string;
  from: string;
  text: string;
}

async function pollWhispers(wait: number, limit: number): Promise<PolledWhisper[]> {
  const response = await fetch(`${app.url}/api/game/whispers?wait=${wait}&limit=${limit}`, { headers: { authorization: `Bearer ${GAME_TOKEN}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { whispers: PolledWhisper[] }).whispers;
}

async function ack(ids: number[]): Promise<number> {
  const response = await fetch(`${app.url}/api/game/whispers/ack`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GAME_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ids }),
  });
  return ((await response.json()) as { acked: number }).acked;
}

describe('c) whispers while the game server’s poller is away', () => {
  test('pending whispers wait, come out in order per character when it polls again, redelivered until acked, never twice after', async () => {
    // More answers while nobody polls: a long one (split) from the web, one from Discord.
    const meter = new Meter();
    const ayla = gameTickets.get(players[0]!.char_id)!;
    const borin = gameTickets.get(players[1]!.char_id)!;
    await staffReply(meter, ayla, `c long answer: ${Array.from({ length: 60 }, (_, i) => `step${i}`).join(' ')}`);
    const before = count('SELECT COUNT(*) AS n FROM game_whispers');
    fake.userSays(channelOf(borin)!, { userId: STAFF_DISCORD_ID, content: 'c answer from Discord' });
    await pollUntil(() => count('SELECT COUNT(*) AS n FROM game_whispers') > before, 5000, 'the Discord answer to be queued');

    // Every Support answer to a game ticket is waiting as whispers, in order, split to 200.
    const pending = prepared(app.db, 'SELECT id, ticket_id AS ticketId, char_id AS charId, text FROM game_whispers WHERE acked_at IS NULL ORDER BY id').all() as { id: number; ticketId: number; charId: number; text: string }[];
    for (const ticketId of new Set(gameTickets.values())) {
      const answers = prepared(app.db, "SELECT body FROM messages WHERE ticket_id = ? AND author_kind = 'staff' AND internal = 0 ORDER BY id").all(ticketId) as { body: string }[];
      assert.deepEqual(
        pending.filter((w) => w.ticketId === ticketId).map((w) => w.text),
        answers.flatMap((a) => splitWhisper(a.body, app.config.game.whisperMax)),
        `ticket #${ticketId}: every answer waits, in order`,
      );
    }
    const expected = new Map<number, number[]>();
    for (const w of pending) expected.set(w.charId, [...(expected.get(w.charId) ?? []), w.id]);

    // The poller returns. First batch: one character is offline, so its whispers are not acked.
    const delivered = new Map<number, number[]>();
    const deliver = (batch: PolledWhisper[]) => {
      for (const w of batch) delivered.set(w.char_id, [...(delivered.get(w.char_id) ?? []), w.id]);
    };
    let polls = 1;
    let handedOut = 0;
    const first = await pollWhispers(0, 5);
    handedOut += first.length;
    const offlineChar = first[0]!.char_id;
    const skipped = first.filter((w) => w.char_id === offlineChar);
    const acked = first.filter((w) => w.char_id !== offlineChar);
    if (acked.length) assert.equal(await ack(acked.map((w) => w.id)), acked.length);
    deliver(acked);
    // While its first whisper is out, nothing later for that character is handed out.
    const meanwhile = await pollWhispers(0, 500);
    polls += 1;
    handedOut += meanwhile.length;
    assert.deepEqual(meanwhile.filter((w) => w.char_id === offlineChar), []);
    if (meanwhile.length) assert.equal(await ack(meanwhile.map((w) => w.id)), meanwhile.length);
    deliver(meanwhile);
    // The rest, as a game server does it: poll, whisper, ack.
    let redelivered = 0;
    while (count('SELECT COUNT(*) AS n FROM game_whispers WHERE acked_at IS NULL') > 0) {
      const batch = await pollWhispers(3, 5);
      polls += 1;
      handedOut += batch.length;
      redelivered += batch.filter((w) => skipped.some((s) => s.id === w.id)).length;
      if (batch.length) assert.equal(await ack(batch.map((w) => w.id)), batch.length);
      deliver(batch);
      assert.ok(polls < 100, 'the queue drains');
    }
    assert.equal(redelivered, skipped.length, 'what was not acked came back');
    assert.deepEqual(new Map([...delivered].sort(([a], [b]) => a - b)), new Map([...expected].sort(([a], [b]) => a - b)), 'each character got its whispers once, in order');
    assert.deepEqual(await pollWhispers(1, 500), [], 'nothing twice after the ack');
    for (let i = 0; i < 12; i += 1) assert.deepEqual(await pollWhispers(0, 500), [], 'nothing twice after the ack');
    // A warning is emitted on the next tick (process.emitWarning): one turn of the loop lets any
    // MaxListenersExceededWarning of the polls above arrive; none may.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), [], 'long polls leak no listeners');
    assert.equal(await ack(pending.map((w) => w.id)), 0, 'acking again changes nothing');
    console.log(
      `[outages c] whisper poller away during a) and b): ${pending.length} whispers for ${expected.size} characters waited; ` +
        `${polls} polls handed out ${handedOut} (${redelivered} again after a missing ack), ${pending.length} delivered once, in order per character`,
    );
    meter.assertFast();
  });
});
