// Outbox rows whose stored payload is not what the worker expects (src/notify/worker.ts): each is
// marked failed at once with an error that says so, logged, and the rows behind it are still
// delivered, against the fake SMTP server and the fake Telegram Bot API.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { enqueueNotification, type NotificationChannel } from '../../src/db/notifications.js';
import { markEmailVerified, setTelegramChat, setUserEmail, type User } from '../../src/db/users.js';
import { createLogger } from '../../src/log.js';
import { createEmailSender } from '../../src/notify/email.js';
import type { TicketNotificationPayload } from '../../src/tickets/notifications.js';
import { createTelegramService, type TelegramService } from '../../src/notify/telegram.js';
import { createNotificationWorker, type NotificationWorker } from '../../src/notify/worker.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { Signal } from '../../src/signal.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { startFakeSmtp, type FakeSmtp } from '../../support/fakes/smtp.js';
import { startFakeTelegram, type FakeTelegram } from '../../support/fakes/telegram.js';
import { addUser, startApp, type TestApp } from '../helpers/app.js';

let smtp: FakeSmtp;
let tg: FakeTelegram;
let app: TestApp;
let telegram: TelegramService;
let email: ReturnType<typeof createEmailSender>;
let worker: NotificationWorker | undefined;
let player: User;
const CHAT = 515151;
const signal = new Signal();
const workerLogs: Record<string, unknown>[] = [];

before(async () => {
  smtp = await startFakeSmtp({ user: 'mailer', pass: 'secret' });
  tg = await startFakeTelegram();
  app = await startApp({
    env: { SMTP_URL: smtp.url, MAIL_FROM: 'Support <support@example.org>', TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, APP_URL: 'http://support.example.org' },
  });
  email = createEmailSender(app.config, 300);
  telegram = createTelegramService({ db: app.db, config: app.config, logger: createLogger('silent') });
  telegram.start();
  await tg.waitFor(() => telegram.botUsername(), 5000, 'the bot to know its name');
  player = await addUser(app.db, 'payloads');
  setUserEmail(app.db, player.id, 'payloads@example.org');
  markEmailVerified(app.db, player.id, 'payloads@example.org');
  tg.addChat({ id: CHAT, type: 'private', first_name: 'Payloads' });
  setTelegramChat(app.db, player.id, String(CHAT));
  saveNotificationSwitches(app.db, { email: true, telegram: true });
});
after(async () => {
  await worker?.stop();
  await telegram.stop();
  email.close();
  await app.close();
  await tg.stop();
  await smtp.stop();
});

/** A row as a bug or a hand edit might leave it: the payload text goes in unchecked. */
function insertRaw(channel: NotificationChannel, event: string, payload: string, ticketId: number | null, dueAt: number): number {
  return Number(
    prepared(
      app.db,
      `INSERT INTO notification_outbox (user_id, ticket_id, channel, event, payload, dedupe_key, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(player.id, ticketId, channel, event, payload, `raw:${channel}:${dueAt}`, dueAt, dueAt).lastInsertRowid,
  );
}

function row(id: number) {
  return prepared(app.db, 'SELECT status, attempts, last_error AS lastError FROM notification_outbox WHERE id = ?').get(id) as { status: string; attempts: number; lastError: string | null };
}

test('a row with a payload that does not fit is marked failed and the good row behind it is delivered', async () => {
  const ticketId = createWebTicket(app.db, { user: player, subject: 'Payload check', body: 'help', priority: 'normal', uploads: [] }, { ip: null });
  const due = Date.now() - 60_000;
  // Due before the good rows, so the worker meets them first.
  const notJson = insertRaw('email', 'support_reply', '{"ticketId": 1, "subject": ', ticketId, due);
  const noLink = insertRaw('email', 'verify_email', JSON.stringify({ email: 'payloads@example.org' }), null, due + 1);
  const unknownKind = insertRaw('telegram', 'support_reply', JSON.stringify({ ticketId, subject: 'Payload check', event: { kind: 'teleported', by: 'gm' } }), ticketId, due + 2);
  const good: TicketNotificationPayload = { ticketId, subject: 'Payload check', event: { kind: 'support_reply', staffName: 'gm', body: 'Delivered after the bad rows.', status: 'answered' } };
  for (const channel of ['email', 'telegram'] as const) {
    assert.ok(enqueueNotification(app.db, { userId: player.id, ticketId, channel, event: 'support_reply', payload: good, dedupeKey: `good:${channel}`, now: due + 10 }));
  }

  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) workerLogs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  worker = createNotificationWorker({ db: app.db, config: app.config, logger: createLogger('debug', sink), signal, senders: { email: email.send, telegram: telegram.send }, retryBaseMs: 100 });
  worker.start();

  const mail = await smtp.waitFor(() => smtp.messagesTo('payloads@example.org').find((m) => m.subject.includes(`[Ticket #${ticketId}]`)), 5000, 'the good email');
  assert.match(mail.text, /Delivered after the bad rows\./);
  await tg.waitFor(() => tg.sentTo(CHAT).find((m) => m.plainText.includes('Delivered after the bad rows.')), 5000, 'the good Telegram message');

  assert.deepEqual(row(notJson), { status: 'failed', attempts: 1, lastError: 'the stored payload of this support_reply notification is not valid JSON' });
  const verify = row(noLink);
  assert.equal(verify.status, 'failed');
  assert.match(verify.lastError ?? '', /^the stored payload of this verify_email notification does not fit \(link: /);
  const kind = row(unknownKind);
  assert.equal(kind.status, 'failed');
  assert.match(kind.lastError ?? '', /^the stored payload of this support_reply notification does not fit \(event\.kind: /);
  // Nothing of the payload itself (an address, message text) is copied into the error.
  assert.doesNotMatch(`${verify.lastError} ${kind.lastError}`, /payloads@example\.org|teleported/);
  assert.equal(smtp.messagesTo('payloads@example.org').length, 1, 'only the good email was sent');

  for (const id of [notJson, noLink, unknownKind]) {
    const logged = workerLogs.find((line) => line.notificationId === id);
    assert.ok(logged, `notification ${id} is logged`);
    assert.equal(logged.level, 'warn');
    assert.match(String(logged.err), /stored payload/);
  }
});
