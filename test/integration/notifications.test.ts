// Email and Telegram delivery from the outbox, against a real SMTP server in this process and the
// fake Telegram Bot API, through the real app, nodemailer and telegraf.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { markEmailVerified, setTelegramChat, setUserEmail, type User } from '../../src/db/users.js';
import { createLogger } from '../../src/log.js';
import { createEmailSender } from '../../src/notify/email.js';
import { createTelegramService, type TelegramService } from '../../src/notify/telegram.js';
import { createNotificationWorker, type NotificationWorker } from '../../src/notify/worker.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { Signal } from '../../src/signal.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { startFakeSmtp, type FakeSmtp } from '../../support/fakes/smtp.js';
import { startFakeTelegram, type FakeTelegram } from '../../support/fakes/telegram.js';
import { pollUntil } from '../../support/fakes/wait.js';
import { addUser, Client, csrfFrom, startApp, type TestApp } from '../helpers/app.js';

let smtp: FakeSmtp;
let tg: FakeTelegram;
let app: TestApp;
let telegram: TelegramService;
let worker: NotificationWorker;
let email: ReturnType<typeof createEmailSender>;
const signals = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };
let player: User;
let staffClient: Client;
const CHAT = 424242;

function startWorker(logger = createLogger('silent')): NotificationWorker {
  const w = createNotificationWorker({
    db: app.db,
    config: app.config,
    logger,
    signal: signals.notifications,
    senders: { email: email.send, telegram: telegram.send },
    retryBaseMs: 100,
  });
  w.start();
  return w;
}

/**
 * Both channel loops of the worker (src/notify/worker.ts) wait on the signal with no row pending:
 * whatever it was going to send is sent, so a count of what arrived is final until the next notify.
 */
async function workerIdle(): Promise<void> {
  const pending = () => (prepared(app.db, "SELECT COUNT(*) AS n FROM notification_outbox WHERE status = 'pending'").get() as { n: number }).n;
  await pollUntil(() => signals.notifications.waiting === 2 && pending() === 0, 10_000, 'the notification worker to be idle');
}

before(async () => {
  smtp = await startFakeSmtp({ user: 'mailer', pass: 'secret' });
  tg = await startFakeTelegram();
  app = await startApp({
    env: {
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Support <support@example.org>',
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      APP_URL: 'http://support.example.org',
    },
    app: { signals, telegramBotUsername: () => telegram.botUsername() },
  });
  email = createEmailSender(app.config, 300);
  telegram = createTelegramService({ db: app.db, config: app.config, logger: createLogger('silent') });
  telegram.start();
  worker = startWorker();
  await tg.waitFor(() => telegram.botUsername(), 5000, 'the bot to know its name');
  player = await addUser(app.db, 'player');
  setUserEmail(app.db, player.id, 'player@example.org');
  markEmailVerified(app.db, player.id, 'player@example.org');
  tg.addChat({ id: CHAT, type: 'private', first_name: 'Player' });
  setTelegramChat(app.db, player.id, String(CHAT));
  saveNotificationSwitches(app.db, { email: true, telegram: true });
  await addUser(app.db, 'gm', 'correct horse battery', 'staff');
  staffClient = new Client(app.url);
  await staffClient.login('gm');
});
after(async () => {
  await worker.stop();
  await telegram.stop();
  email.close();
  await app.close();
  await tg.stop();
  await smtp.stop();
});

function ticket(subject = 'My horse is lost'): number {
  return createWebTicket(app.db, { user: player, subject, body: 'help', priority: 'normal', uploads: [] }, { ip: null });
}

async function staffReply(ticketId: number, message: string, status = 'answered') {
  const _csrf = csrfFrom((await staffClient.get(`/index.php?view=ticket&id=${ticketId}`)).text)!;
  const started = performance.now();
  const reply = await staffClient.postMultipart(`/index.php?view=ticket&id=${ticketId}&action=reply`, { _csrf, message, status });
  assert.equal(reply.status, 303);
  return performance.now() - started;
}

describe('a player answered by Support gets one email and one Telegram message', () => {
  test('with the link to the ticket, the sender, and reply-thread headers', async () => {
    const id = ticket();
    await staffReply(id, 'We found your horse in the stable.', 'waiting_user');
    const mail = await smtp.waitFor(() => smtp.messagesTo('player@example.org').find((m) => m.subject.includes(`[Ticket #${id}]`)), 5000, 'the email');
    assert.equal(mail.subject, `[Ticket #${id}] Support answered and needs your reply: My horse is lost`);
    assert.equal(mail.fromAddress, 'support@example.org');
    assert.match(mail.text, new RegExp(`Open the ticket: http://support\\.example\\.org/index\\.php\\?view=ticket&id=${id}`));
    assert.match(mail.html ?? '', /We found your horse in the stable\./);
    assert.equal(mail.inReplyTo, `<ticket-${id}@support.example.org>`);
    assert.deepEqual(mail.references, [`<ticket-${id}@support.example.org>`]);
    const message = await tg.waitFor(() => tg.sentTo(CHAT).find((m) => m.plainText.includes(`Ticket #${id}`)), 5000, 'the Telegram message');
    assert.match(message.plainText, /We found your horse in the stable\./);
    assert.equal(message.parse_mode, 'HTML');
    assert.ok(message.entities.some((e) => e.type === 'text_link' && e.url === `http://support.example.org/index.php?view=ticket&id=${id}`));
    await workerIdle();
    assert.equal(smtp.messagesTo('player@example.org').filter((m) => m.subject.includes(`[Ticket #${id}]`)).length, 1, 'one email');
    assert.equal(tg.sentTo(CHAT).filter((m) => m.plainText.includes(`Ticket #${id}`)).length, 1, 'one Telegram message');
  });

  test('hostile subjects and bodies arrive as text in both', async () => {
    const id = ticket('<script>alert(1)</script> & <b>bold</b>');
    await staffReply(id, 'Try <img src=x onerror=alert(2)> & _this_ *now*.');
    const mail = await smtp.waitFor(() => smtp.messagesTo('player@example.org').find((m) => m.subject.includes(`[Ticket #${id}]`)), 5000, 'the email');
    assert.equal(mail.subject, `[Ticket #${id}] Support answered: <script>alert(1)</script> & <b>bold</b>`);
    assert.doesNotMatch(mail.html ?? '', /<script>|<img src=x|<b>bold/);
    const message = await tg.waitFor(() => tg.sentTo(CHAT).find((m) => m.plainText.includes(`Ticket #${id}`)), 5000, 'the Telegram message');
    assert.match(message.plainText, /<script>alert\(1\)<\/script> & <b>bold<\/b>/);
    assert.match(message.plainText, /Try <img src=x onerror=alert\(2\)> & _this_ \*now\*\./);
  });
});

describe('switches and outages', () => {
  test('nothing is sent while an admin switch is off', async () => {
    saveNotificationSwitches(app.db, { email: false, telegram: false });
    try {
      const id = ticket();
      await staffReply(id, 'Quiet answer');
      await workerIdle();
      assert.equal(smtp.messagesTo('player@example.org').filter((m) => m.subject.includes(`[Ticket #${id}]`)).length, 0);
      assert.equal(tg.sentTo(CHAT).filter((m) => m.plainText.includes(`Ticket #${id}`)).length, 0);
    } finally {
      saveNotificationSwitches(app.db, { email: true, telegram: true });
    }
  });

  test('a dead mail server: the request stays fast, the mail waits and is delivered once it is back', async () => {
    await smtp.down();
    const id = ticket();
    const ms = await staffReply(id, 'Sent while the mail server is down');
    assert.ok(ms < 1000, `the request took ${ms} ms`);
    const emailRow = () => prepared(app.db, "SELECT attempts, last_error AS lastError, status FROM notification_outbox WHERE ticket_id = ? AND channel = 'email'").get(id) as { attempts: number; lastError: string; status: string };
    await pollUntil(() => emailRow().attempts >= 1, 10_000, 'a first failed attempt');
    const row = emailRow();
    assert.equal(row.status, 'pending');
    assert.ok(row.attempts >= 1 && row.lastError, 'the failure is recorded');
    await smtp.up();
    await smtp.waitFor(() => smtp.messagesTo('player@example.org').find((m) => m.subject.includes(`[Ticket #${id}]`)), 10_000, 'the mail after recovery');
    await workerIdle();
    assert.equal(smtp.messagesTo('player@example.org').filter((m) => m.subject.includes(`[Ticket #${id}]`)).length, 1);
  });

  test('a stalled mail server never slows a web request', async () => {
    const baseline = await staffReply(ticket(), 'baseline');
    smtp.stall(true);
    try {
      const timings: number[] = [];
      for (let i = 0; i < 3; i += 1) timings.push(await staffReply(ticket(), `while stalled ${i}`));
      const worst = Math.max(...timings);
      assert.ok(worst < Math.max(1000, baseline * 5), `baseline ${baseline.toFixed(0)} ms, worst while stalled ${worst.toFixed(0)} ms`);
    } finally {
      smtp.stall(false);
    }
  });

  test('Telegram errors are retried; a chat that blocked the bot is given up and shown to the admin', async () => {
    tg.failNext('sendMessage', { status: 500, description: 'Internal Server Error', count: 2 });
    const id = ticket();
    await staffReply(id, 'Retried answer');
    await tg.waitFor(() => tg.sentTo(CHAT).find((m) => m.plainText.includes(`Ticket #${id}`)), 10_000, 'the retried message');

    tg.failNext('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user', count: 1 });
    const blocked = ticket();
    await staffReply(blocked, 'Nobody will read this');
    const failed = await pollUntil(
      () => {
        const row = prepared(app.db, "SELECT status, last_error AS lastError FROM notification_outbox WHERE ticket_id = ? AND channel = 'telegram'").get(blocked) as { status: string; lastError: string } | undefined;
        return row && row.status !== 'pending' && row;
      },
      10_000,
      'the Telegram row to be settled',
    );
    assert.equal(failed.status, 'failed');
    assert.match(failed.lastError, /403/);
    await addUser(app.db, 'boss', 'correct horse battery', 'admin');
    const admin = new Client(app.url);
    await admin.login('boss');
    const page = await admin.get('/index.php?view=admin');
    assert.match(page.text, /data-failed-notification=/);
    assert.match(page.text, /bot was blocked by the user/);
  });

  test('a restart loses and duplicates nothing: queued rows are sent once by the next worker', async () => {
    await worker.stop();
    const id = ticket();
    await staffReply(id, 'Queued while the worker was stopped');
    // No worker runs, so nothing can be sent: the row waits in the outbox.
    const status = prepared(app.db, "SELECT status FROM notification_outbox WHERE ticket_id = ? AND channel = 'email'").get(id) as { status: string };
    assert.equal(status.status, 'pending');
    assert.equal(smtp.messagesTo('player@example.org').filter((m) => m.subject.includes(`[Ticket #${id}]`)).length, 0);
    worker = startWorker();
    await smtp.waitFor(() => smtp.messagesTo('player@example.org').find((m) => m.subject.includes(`[Ticket #${id}]`)), 5000, 'the queued mail');
    await worker.stop();
    worker = startWorker();
    await workerIdle();
    assert.equal(smtp.messagesTo('player@example.org').filter((m) => m.subject.includes(`[Ticket #${id}]`)).length, 1);
  });
});

describe('secrets stay out of recorded errors', () => {
  /** The token as it is, URL-encoded, and its secret half alone: none may be in a recorded error. */
  const tokenForms = () => [tg.token, encodeURIComponent(tg.token), tg.token.split(':')[1]!];
  const telegramRow = (ticketId: number) =>
    prepared(app.db, "SELECT status, attempts, last_error AS lastError FROM notification_outbox WHERE ticket_id = ? AND channel = 'telegram'").get(ticketId) as
      | { status: string; attempts: number; lastError: string | null }
      | undefined;

  test('a proxy in front of the Bot API answering HTML (403, 502): last_error and the log lines never hold the bot token, and still say what went wrong', async () => {
    const lines: string[] = [];
    await worker.stop();
    worker = startWorker(createLogger('debug', { write: (line: string) => void lines.push(line) }));
    try {
      for (const [status, says] of [
        [403, /invalid json response body/],
        [502, /502/],
      ] as const) {
        tg.setOutage({ status, html: true }, 'sendMessage');
        const id = ticket();
        await staffReply(id, `Answer behind a proxy answering ${status}`);
        const failed = await tg.waitFor(() => {
          const row = telegramRow(id);
          return row?.lastError ? row : undefined;
        }, 5000, `a failed attempt behind the ${status} proxy`);
        assert.equal(failed.status, 'pending', 'it is retried');
        assert.match(failed.lastError!, says);
        for (const secret of tokenForms()) assert.ok(!failed.lastError!.includes(secret), `last_error holds the token: ${failed.lastError}`);
        tg.setOutage(null);
        await tg.waitFor(() => tg.sentTo(CHAT).find((m) => m.plainText.includes(`Ticket #${id}`)), 10_000, 'the message once the proxy is out of the way');
      }
      const failures = lines.filter((line) => line.includes('notification failed, will retry'));
      assert.ok(failures.some((line) => /invalid json response body/.test(line)) && failures.some((line) => /502/.test(line)), failures.join('\n'));
      for (const line of lines) for (const secret of tokenForms()) assert.ok(!line.includes(secret), `a log line holds the token: ${line}`);
    } finally {
      tg.setOutage(null);
      await worker.stop();
      worker = startWorker();
    }
  });

  test('the Telegram service’s own log lines (the Bot API unreachable at start) never hold the token', async () => {
    const lines: string[] = [];
    tg.setOutage({ status: 404, html: true }, 'getMe');
    const second = createTelegramService({ db: app.db, config: app.config, logger: createLogger('debug', { write: (line: string) => void lines.push(line) }) });
    try {
      second.start();
      const line = await tg.waitFor(() => lines.find((l) => l.includes('cannot reach the Bot API')), 5000, 'the retry line');
      assert.match(line, /invalid json response body/);
      for (const secret of tokenForms()) assert.ok(!line.includes(secret), `the log line holds the token: ${line}`);
    } finally {
      await second.stop();
      tg.setOutage(null);
    }
  });
});

describe('linking Telegram end to end', () => {
  test('settings → deep link → /start in Telegram → linked; the next answer arrives in that chat', async () => {
    const other = await addUser(app.db, 'linker');
    setUserEmail(app.db, other.id, null);
    const client = new Client(app.url);
    await client.login('linker');
    const _csrf = csrfFrom((await client.get('/index.php?view=settings')).text)!;
    const page = await client.post('/index.php?view=settings&action=telegram_link', { _csrf });
    const link = /href="(https:\/\/t\.me\/[^"]+)" data-telegram-link/.exec(page.text)?.[1];
    assert.ok(link, 'the page shows the deep link');
    assert.match(link, new RegExp(`^https://t\\.me/${tg.botUser.username}\\?start=[\\w-]+$`));
    const chat = 515151;
    tg.userOpensLink(chat, link.replaceAll('&amp;', '&'), { first_name: 'Linker' });
    const answer = await tg.waitFor(() => tg.sentTo(chat).find((m) => m.plainText.startsWith('Linked to')), 10_000, 'the bot’s answer');
    assert.equal(answer.plainText, 'Linked to linker. You will hear here when Support answers your tickets.');
    const linked = prepared(app.db, 'SELECT telegram_chat_id AS chat FROM users WHERE id = ?').get(other.id) as { chat: string };
    assert.equal(linked.chat, String(chat));

    const id = createWebTicket(app.db, { user: other, subject: 'Linked ticket', body: 'hi', priority: 'normal', uploads: [] }, { ip: null });
    await staffReply(id, 'Hello over Telegram');
    await tg.waitFor(() => tg.sentTo(chat).find((m) => m.plainText.includes(`Ticket #${id}`)), 5000, 'the notification in the linked chat');

    tg.userOpensLink(chat, link.replaceAll('&amp;', '&'), { first_name: 'Linker' });
    await tg.waitFor(() => tg.sentTo(chat).find((m) => /not valid any more/.test(m.plainText)), 5000, 'a used link is refused');
  });
});
