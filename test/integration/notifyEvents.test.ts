// Which changes queue which notifications (the outbox rows), before any delivery.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { notificationsForTicket } from '../../src/db/notifications.js';
import { markEmailVerified, setTelegramChat, setUserEmail, type User } from '../../src/db/users.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { closeTicket, createWebTicket, replyAsPlayer, replyAsStaff, setTicketStatus } from '../../src/tickets/service.js';
import { renderTicketEmail, renderTicketTelegram } from '../../src/notify/templates.js';
import { addUser, startApp, type TestApp } from '../helpers/app.js';

const BOTH = { email: true, telegram: true };
const relay = { whisperMax: 200, discord: false, notify: BOTH };
let app: TestApp;
let player: User;
let staff: User;

before(async () => {
  app = await startApp();
  player = await addUser(app.db, 'notified');
  staff = await addUser(app.db, 'support', 'correct horse battery', 'staff');
  setUserEmail(app.db, player.id, 'player@example.org');
  markEmailVerified(app.db, player.id, 'player@example.org');
  setTelegramChat(app.db, player.id, '777000');
  saveNotificationSwitches(app.db, { email: true, telegram: true });
});
after(() => app.close());

function ticket(): number {
  return createWebTicket(app.db, { user: player, subject: 'Notify me', body: 'hello', priority: 'normal', uploads: [] }, { ip: null });
}

describe('events that notify the owner', () => {
  test('a Support reply: one message per channel, even when it also changes the status', () => {
    const id = ticket();
    replyAsStaff(app.db, { ticketId: id, user: staff, body: 'Please send a screenshot', status: 'waiting_user', uploads: [] }, { ip: null }, relay);
    assert.deepEqual(notificationsForTicket(app.db, id).map((n) => [n.channel, n.event]), [
      ['email', 'support_reply'],
      ['telegram', 'support_reply'],
    ]);
  });

  test('status changes to waiting_user or answered notify; in_progress and open do not', () => {
    const id = ticket();
    setTicketStatus(app.db, id, 'in_progress', staff, { ip: null }, BOTH);
    assert.equal(notificationsForTicket(app.db, id).length, 0);
    setTicketStatus(app.db, id, 'waiting_user', staff, { ip: null }, BOTH);
    setTicketStatus(app.db, id, 'answered', staff, { ip: null }, BOTH);
    setTicketStatus(app.db, id, 'open', staff, { ip: null }, BOTH);
    assert.deepEqual(notificationsForTicket(app.db, id).map((n) => n.event), ['status', 'status', 'status', 'status']);
  });

  test('a close by Support notifies; a close by the player does not', () => {
    const bySupport = ticket();
    closeTicket(app.db, bySupport, staff, { ip: null }, BOTH);
    assert.deepEqual(notificationsForTicket(app.db, bySupport).map((n) => n.event), ['closed', 'closed']);
    const byPlayer = ticket();
    closeTicket(app.db, byPlayer, player, { ip: null }, BOTH);
    assert.deepEqual(notificationsForTicket(app.db, byPlayer), []);
  });

  test('the player’s own replies never notify the player', () => {
    const id = ticket();
    replyAsPlayer(app.db, { ticketId: id, user: player, body: 'more info', uploads: [] }, { ip: null });
    assert.deepEqual(notificationsForTicket(app.db, id), []);
  });
});

describe('what keeps a channel quiet', () => {
  test('an admin switch off, a channel not configured, the player’s choice, or an unconfirmed address', () => {
    saveNotificationSwitches(app.db, { email: false, telegram: true });
    const a = ticket();
    replyAsStaff(app.db, { ticketId: a, user: staff, body: 'x', status: 'answered', uploads: [] }, { ip: null }, relay);
    assert.deepEqual(notificationsForTicket(app.db, a).map((n) => n.channel), ['telegram']);
    saveNotificationSwitches(app.db, { email: true, telegram: true });

    const b = ticket();
    replyAsStaff(app.db, { ticketId: b, user: staff, body: 'x', status: 'answered', uploads: [] }, { ip: null }, { ...relay, notify: { email: true, telegram: false } });
    assert.deepEqual(notificationsForTicket(app.db, b).map((n) => n.channel), ['email']);

    prepared(app.db, 'UPDATE users SET notify_telegram = 0 WHERE id = ?').run(player.id);
    const c = ticket();
    replyAsStaff(app.db, { ticketId: c, user: staff, body: 'x', status: 'answered', uploads: [] }, { ip: null }, relay);
    assert.deepEqual(notificationsForTicket(app.db, c).map((n) => n.channel), ['email']);
    prepared(app.db, 'UPDATE users SET notify_telegram = 1 WHERE id = ?').run(player.id);

    setUserEmail(app.db, player.id, 'new@example.org');
    const d = ticket();
    replyAsStaff(app.db, { ticketId: d, user: staff, body: 'x', status: 'answered', uploads: [] }, { ip: null }, relay);
    assert.deepEqual(notificationsForTicket(app.db, d).map((n) => n.channel), ['telegram'], 'no mail to an unconfirmed address');
    markEmailVerified(app.db, player.id, 'new@example.org');
  });
});

describe('templates escape what players and staff typed', () => {
  const hostile = { ticketId: 5, subject: '<script>alert(1)</script> & "quotes"\r\nBcc: evil@example.org', event: { kind: 'support_reply' as const, staffName: '<b>GM</b>', body: 'use <img src=x onerror=alert(1)> & *bold* _it_', status: 'answered' } };

  test('email: HTML escaped, the subject is one line, the link is APP_URL’s', () => {
    const mail = renderTicketEmail(hostile, 'pl<a>yer', 'https://support.example.org');
    assert.doesNotMatch(mail.subject, /[\r\n]/);
    assert.doesNotMatch(mail.html, /<script>|<img src=x|<b>GM/);
    assert.match(mail.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;quotes&quot;/);
    assert.match(mail.html, /href="https:\/\/support\.example\.org\/index\.php\?view=ticket&amp;id=5"/);
    assert.match(mail.text, /Open the ticket: https:\/\/support\.example\.org\/index\.php\?view=ticket&id=5/);
    assert.match(mail.text, /use <img src=x onerror=alert\(1\)> & \*bold\* _it_/, 'plain text stays as typed');
  });

  test('Telegram HTML: & < > escaped, the rest as typed', () => {
    const text = renderTicketTelegram(hostile, 'https://support.example.org');
    assert.doesNotMatch(text, /<script>|<img|<b>GM/);
    assert.match(text, /&lt;b&gt;GM&lt;\/b&gt; wrote/);
    assert.match(text, /use &lt;img src=x onerror=alert\(1\)&gt; &amp; \*bold\* _it_/);
    assert.match(text, /<a href="https:\/\/support\.example\.org\/index\.php\?view=ticket&amp;id=5">Open the ticket<\/a>/);
  });
});
