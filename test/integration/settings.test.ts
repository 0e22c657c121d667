// view=settings and view=verify_email: a player's address, Telegram link, choices and password.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authenticate } from '../../src/accounts.js';
import { recentAuditRows } from '../../src/db/audit.js';
import { prepared } from '../../src/db/index.js';
import { markEmailVerified, notificationProfile, setTelegramChat, userByUsername } from '../../src/db/users.js';
import { createTelegramLinkCode, linkTelegramChat } from '../../src/notify/telegram.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { addUser, Client, csrfFrom, startApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
let client: Client;
let botUsername: string | undefined = 'ticketbridge_bot';

before(async () => {
  app = await startApp({
    env: { SMTP_URL: 'smtp://user:pass@127.0.0.1:2525', TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ', APP_URL: 'https://support.example.org' },
    app: { telegramBotUsername: () => botUsername },
  });
  // Seed 000: email is sent only when an administrator has switched it on.
  saveNotificationSwitches(app.db, { email: true, telegram: true });
  await addUser(app.db, 'settler');
  // APP_URL is https, so cookies are Secure: talk as a TLS proxy on loopback would.
  client = new Client(app.url, { 'x-forwarded-proto': 'https' });
  await client.login('settler');
});
after(() => app.close());

const me = () => notificationProfile(app.db, userByUsername(app.db, 'settler')!.id)!;
async function post(action: string, fields: Record<string, string>) {
  const _csrf = csrfFrom((await client.get('/index.php?view=settings')).text)!;
  return client.post(`/index.php?view=settings&action=${action}`, { _csrf, ...fields });
}

describe('email address', () => {
  test('saving an address keeps it unconfirmed and queues a confirmation mail with a link on APP_URL', async () => {
    const reply = await post('email', { email: 'settler@example.org' });
    assert.equal(reply.status, 303);
    assert.equal(me().email, 'settler@example.org');
    assert.equal(me().emailVerifiedAt, null);
    const page = await client.get(reply.location!);
    assert.match(page.text, /data-flash>Address saved\. Follow the link we sent to confirm the address/);
    assert.match(page.text, /follow the link we sent to this address/);
    assert.match(page.text, /data-email-state="unconfirmed"/);
    const row = prepared(app.db, "SELECT payload FROM notification_outbox WHERE event = 'verify_email' ORDER BY id DESC").get() as { payload: string };
    const { email, link } = JSON.parse(row.payload) as { email: string; link: string };
    assert.equal(email, 'settler@example.org');
    assert.match(link, /^https:\/\/support\.example\.org\/index\.php\?view=verify_email&token=[\w-]+$/);
  });

  test('the link confirms the address once; a used, wrong or old link does not', async () => {
    const row = prepared(app.db, "SELECT payload FROM notification_outbox WHERE event = 'verify_email' ORDER BY id DESC").get() as { payload: string };
    const path = new URL((JSON.parse(row.payload) as { link: string }).link).pathname + new URL((JSON.parse(row.payload) as { link: string }).link).search;
    const anonymous = new Client(app.url, { 'x-forwarded-proto': 'https' });
    const ok = await anonymous.get(path);
    assert.equal(ok.status, 200);
    assert.match(ok.text, /Your email address is confirmed/);
    assert.ok(me().emailVerifiedAt);
    assert.equal((await anonymous.get(path)).status, 410, 'used once');
    assert.equal((await anonymous.get('/index.php?view=verify_email&token=nottherighttokenatall')).status, 410);
    assert.equal((await anonymous.get('/index.php?view=verify_email')).status, 410);
    assert.ok(recentAuditRows(app.db, 10).some((r) => r.action === 'user.email_verified'));
  });

  test('changing the address makes it unconfirmed again, and the old link stops working', async () => {
    await post('email', { email: 'first@example.org' });
    const first = prepared(app.db, "SELECT payload FROM notification_outbox WHERE event = 'verify_email' ORDER BY id DESC").get() as { payload: string };
    await post('email', { email: 'second@example.org' });
    const firstLink = new URL((JSON.parse(first.payload) as { link: string }).link);
    assert.equal((await client.get(firstLink.pathname + firstLink.search)).status, 410);
    assert.equal(me().email, 'second@example.org');
    assert.equal(me().emailVerifiedAt, null);
  });

  test('a bad address is a 422 with the message, nothing changes', async () => {
    const before = me();
    const reply = await post('email', { email: 'not-an-address' });
    assert.equal(reply.status, 422);
    assert.match(reply.text, /id="email-error">Enter an email address like name@example\.com/);
    assert.deepEqual(me(), before);
  });
});

describe('Telegram', () => {
  test('Link Telegram shows a one-time t.me deep link; /start with its code links the chat, once', async () => {
    const reply = await post('telegram_link', {});
    assert.equal(reply.status, 200);
    const link = /href="(https:\/\/t\.me\/ticketbridge_bot\?start=([\w-]+))" data-telegram-link/.exec(reply.text);
    assert.ok(link, 'the deep link is on the page');
    const code = link[2]!;
    assert.ok(code.length <= 64, 'Telegram start payloads are at most 64 characters');
    assert.equal(linkTelegramChat(app.db, code, '5550001'), 'settler');
    assert.equal(me().telegramChatId, '5550001');
    assert.equal(linkTelegramChat(app.db, code, '5550002'), undefined, 'a code works once');
    assert.equal(linkTelegramChat(app.db, 'made-up-code', '5550003'), undefined);
    assert.match((await client.get('/index.php?view=settings')).text, /data-telegram-state="linked"/);
  });

  test('a new link retires the old code; a chat belongs to one account', async () => {
    const userId = userByUsername(app.db, 'settler')!.id;
    const old = createTelegramLinkCode(app.db, userId);
    const fresh = createTelegramLinkCode(app.db, userId);
    assert.equal(linkTelegramChat(app.db, old, '5550009'), undefined);
    const other = await addUser(app.db, 'other_settler');
    const theirs = createTelegramLinkCode(app.db, other.id);
    assert.equal(linkTelegramChat(app.db, theirs, '5550001'), 'other_settler');
    assert.equal(me().telegramChatId, null, 'moving the chat unlinks it here');
    assert.equal(linkTelegramChat(app.db, fresh, '5550001'), 'settler');
  });

  test('Unlink clears the chat', async () => {
    assert.equal((await post('telegram_unlink', {})).status, 303);
    assert.equal(me().telegramChatId, null);
  });

  test('while the bot is not reachable, linking says so (503)', async () => {
    botUsername = undefined;
    try {
      const reply = await post('telegram_link', {});
      assert.equal(reply.status, 503);
      assert.match(reply.text, /Telegram is not available right now/);
    } finally {
      botUsername = 'ticketbridge_bot';
    }
  });
});

describe('choices and password', () => {
  test('without a confirmed address or a linked chat the choices cannot be ticked, and say why', async () => {
    assert.equal(me().emailVerifiedAt, null);
    assert.equal(me().telegramChatId, null);
    const page = await client.get('/index.php?view=settings');
    assert.match(page.text, /id="notify_email" aria-describedby="notify_email-why" disabled>/);
    assert.match(page.text, /id="notify_telegram" aria-describedby="notify_telegram-why" disabled>/);
    assert.match(page.text, /data-choice-state="unavailable">Needs a confirmed email address/);
    assert.match(page.text, /data-choice-state="unavailable">Needs a linked Telegram chat/);
    const stored = { email: me().notifyEmail, telegram: me().notifyTelegram };
    assert.equal((await post('notifications', { notify_email: 'on', notify_telegram: 'on' })).status, 303);
    assert.deepEqual({ email: me().notifyEmail, telegram: me().notifyTelegram }, stored, 'a tick sent without an address or chat changes nothing');
    assert.equal((await post('notifications', {})).status, 303);
    assert.deepEqual({ email: me().notifyEmail, telegram: me().notifyTelegram }, stored, 'nor does a disabled box left out of the form');
  });

  test('notification choices are saved per player', async () => {
    const id = userByUsername(app.db, 'settler')!.id;
    markEmailVerified(app.db, id, me().email!);
    setTelegramChat(app.db, id, '5550077');
    assert.equal((await post('notifications', { notify_telegram: 'on' })).status, 303);
    assert.equal(me().notifyEmail, 0);
    assert.equal(me().notifyTelegram, 1);
    await post('notifications', { notify_email: 'on', notify_telegram: 'on' });
    assert.equal(me().notifyEmail, 1);
    const page = await client.get('/index.php?view=settings');
    assert.match(page.text, /id="notify_email" aria-describedby="notify_email-why" checked>/);
    assert.match(page.text, /data-flash>Notification choices saved\./);
  });

  test('password change needs the current password and a matching, long enough new one', async () => {
    const wrong = await post('password', { current_password: 'nope', new_password: 'brand new password', confirm_password: 'brand new password' });
    assert.equal(wrong.status, 422);
    assert.match(wrong.text, /That is not your current password/);
    const mismatch = await post('password', { current_password: 'correct horse battery', new_password: 'brand new password', confirm_password: 'brand new passw0rd' });
    assert.equal(mismatch.status, 422);
    assert.match(mismatch.text, /do not match/);
    const short = await post('password', { current_password: 'correct horse battery', new_password: 'short', confirm_password: 'short' });
    assert.equal(short.status, 422);
    const elsewhere = new Client(app.url, { 'x-forwarded-proto': 'https' });
    await elsewhere.login('settler');
    assert.equal((await elsewhere.get('/index.php?view=settings')).status, 200);
    const ok = await post('password', { current_password: 'correct horse battery', new_password: 'brand new password', confirm_password: 'brand new password' });
    assert.equal(ok.status, 303);
    assert.equal((await authenticate(app.db, 'settler', 'brand new password')).ok, true);
    assert.equal((await client.get('/index.php?view=settings')).status, 200, 'this browser stays signed in');
    assert.equal((await elsewhere.get('/index.php?view=settings')).status, 302, 'other sessions are signed out');
  });

  test('settings need sign-in and the CSRF token', async () => {
    assert.equal((await new Client(app.url, { 'x-forwarded-proto': 'https' }).get('/index.php?view=settings')).status, 302);
    assert.equal((await client.post('/index.php?view=settings&action=notifications', { notify_email: 'on' })).status, 403);
  });
});
