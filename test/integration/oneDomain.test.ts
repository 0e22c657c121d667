// Issue #13: every way to change a ticket does the same thing. The web, the game API and Discord
// go through one transition (src/tickets/transition.ts); outboxes wake their workers themselves;
// the dispatcher reads `action` from the body of any form. Each test failed before.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { notificationsForTicket } from '../../src/db/notifications.js';
import { ticketById } from '../../src/db/tickets.js';
import type { User } from '../../src/db/users.js';
import { createLogger } from '../../src/log.js';
import { createEmailSender } from '../../src/notify/email.js';
import { createNotificationWorker, type NotificationWorker } from '../../src/notify/worker.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { startFakeSmtp, type FakeSmtp } from '../../support/fakes/smtp.js';
import { pollUntil } from '../../support/fakes/wait.js';
import { addMailedPlayer, addUser, Client, PNG_BYTES, uploadedFiles } from '../helpers/app.js';
import { gameServer, startBridged, type BridgedSetup } from '../helpers/bridge.js';

let setup: BridgedSetup;
let smtp: FakeSmtp;
let worker: NotificationWorker;
let mailer: ReturnType<typeof createEmailSender>;
let game: ReturnType<typeof gameServer>;
let owner: User;
let ownerClient: Client;
let staffClient: Client;
const ACCOUNT = 2_000_500;
let nextChar = 170_001;

before(async () => {
  smtp = await startFakeSmtp();
  setup = await startBridged({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Support <support@example.org>' } });
  mailer = createEmailSender(setup.app.config, 1000);
  worker = createNotificationWorker({ db: setup.app.db, config: setup.app.config, logger: createLogger('silent'), signal: setup.signals.notifications, senders: { email: mailer.send } });
  worker.start();
  game = gameServer(setup.app.url);
  saveNotificationSwitches(setup.app.db, { email: true, telegram: false });
  // The owner plays the game account whose tickets these are, and reads mail.
  owner = await addMailedPlayer(setup.app.db, 'owner', 'owner@example.org', ACCOUNT);
  await addUser(setup.app.db, 'console', 'correct horse battery', 'staff');
  ownerClient = new Client(setup.app.url);
  await ownerClient.login('owner');
  staffClient = new Client(setup.app.url);
  await staffClient.login('console');
});
after(async () => {
  await worker.stop();
  mailer.close();
  await setup.close();
  await smtp.stop();
});

async function gameTicket(): Promise<{ ticketId: number; channelId: string; player: { account_id: number; char_id: number; name: string } }> {
  const player = { account_id: ACCOUNT, char_id: nextChar++, name: `Hero ${nextChar}` };
  const { json } = await game.ticket(player, 'pm', 'I need help');
  const ticketId = json.ticket_id as number;
  const channelId = await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)?.discordChannelId, 5000, 'the ticket channel');
  return { ticketId, channelId, player };
}

function closes(ticketId: number): { cause: string }[] {
  return (prepared(setup.app.db, "SELECT details FROM audit_log WHERE ticket_id = ? AND action = 'ticket.close'").all(ticketId) as { details: string }[]).map((r) => JSON.parse(r.details) as { cause: string });
}
function lines(ticketId: number): string[] {
  return (prepared(setup.app.db, "SELECT body FROM messages WHERE ticket_id = ? AND author_kind = 'system' ORDER BY id").all(ticketId) as { body: string }[]).map((r) => r.body);
}
const closedNotice = (ticketId: number) => notificationsForTicket(setup.app.db, ticketId).filter((n) => n.event === 'closed').length;

async function command(channelId: string, name: string, options?: Record<string, string>) {
  const interaction = setup.fake.slashCommand({ channelId, userId: setup.staffId, command: name, ...(options ? { options } : {}) });
  await setup.fake.waitFor(() => interaction.responses.length > 0, 5000, `the answer to /${name}`);
}

describe('every close is the same close', () => {
  test('Close button, status menu, /ticket close, /ticket status closed, logout and a deleted channel: one audit action with its cause, one kind of line, the same notification rule', async () => {
    const byButton = createWebTicket(setup.app.db, { user: owner, subject: 'button', body: 'x', priority: 'normal', uploads: [] }, { ip: null });
    const _csrf = await ownerClient.csrf(`/index.php?view=ticket&id=${byButton}`);
    assert.equal((await ownerClient.post(`/index.php?view=ticket&id=${byButton}&action=close`, { _csrf })).status, 303);

    const byMenu = createWebTicket(setup.app.db, { user: owner, subject: 'menu', body: 'x', priority: 'normal', uploads: [] }, { ip: null });
    const staffCsrf = await staffClient.csrf(`/index.php?view=ticket&id=${byMenu}`);
    assert.equal((await staffClient.post(`/index.php?view=ticket&id=${byMenu}&action=status`, { _csrf: staffCsrf, status: 'closed' })).status, 303);

    const byCommand = await gameTicket();
    await command(byCommand.channelId, 'ticket close');
    const byStatusCommand = await gameTicket();
    await command(byStatusCommand.channelId, 'ticket status', { status: 'closed' });
    const byLogout = await gameTicket();
    await game.logout(byLogout.player);
    const byDeletion = await gameTicket();
    setup.fake.adminDeleteChannel(byDeletion.channelId);
    await setup.fake.waitFor(() => ticketById(setup.app.db, byDeletion.ticketId)!.status === 'closed', 5000, 'the ticket to close');

    const expected: [number, string, RegExp, number][] = [
      [byButton, 'close button', /^Ticket closed by owner\.$/, 0], // the owner's own close tells nobody
      [byMenu, 'status menu', /^Ticket closed by console\.$/, 1],
      [byCommand.ticketId, '/ticket close', /^Ticket closed by GM Sam\.$/, 1],
      [byStatusCommand.ticketId, '/ticket status', /^Ticket closed by GM Sam\.$/, 1],
      [byLogout.ticketId, 'logout', /^Ticket closed: Hero \d+ logged out\.$/, 0], // the player's own logout
      [byDeletion.ticketId, 'channel deleted', /^Ticket closed: its Discord channel was deleted\.$/, 1],
    ];
    for (const [ticketId, cause, line, notices] of expected) {
      assert.equal(ticketById(setup.app.db, ticketId)!.status, 'closed', cause);
      assert.deepEqual(closes(ticketId).map((c) => c.cause), [cause], `one ticket.close audit row for the ${cause}`);
      assert.match(lines(ticketId).at(-1)!, line, cause);
      assert.equal(closedNotice(ticketId), notices, `notifications for the ${cause}`);
    }
  });

  test('a status change from Discord leaves the same line as one from the web', async () => {
    const { ticketId, channelId } = await gameTicket();
    await command(channelId, 'ticket status', { status: 'waiting_user' });
    assert.equal(lines(ticketId).at(-1), 'Status changed from open to waiting_user by GM Sam.');
    const audit = prepared(setup.app.db, "SELECT actor_name AS actor, details FROM audit_log WHERE ticket_id = ? AND action = 'ticket.status'").get(ticketId) as { actor: string; details: string };
    assert.deepEqual([audit.actor, JSON.parse(audit.details)], ['discord:GM Sam', { from: 'open', to: 'waiting_user', cause: '/ticket status' }]);
  });
});

describe('queuing work wakes its worker', () => {
  test('the email of a /ticket close arrives within a second or two, not at the worker\'s next minute', async () => {
    const { ticketId, channelId } = await gameTicket();
    const before = smtp.messagesTo('owner@example.org').length;
    await command(channelId, 'ticket close');
    await pollUntil(() => smtp.messagesTo('owner@example.org').length > before, 2000, 'the close email');
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'closed');
  });
});

describe('a linked player\'s web reply to a game ticket', () => {
  test('is posted to the ticket\'s Discord channel, quoted, as every player message is', async () => {
    const { ticketId, channelId } = await gameTicket();
    const _csrf = await ownerClient.csrf(`/index.php?view=ticket&id=${ticketId}`);
    const reply = await ownerClient.postMultipart(`/index.php?view=ticket&id=${ticketId}&action=reply`, { _csrf, message: 'Replying from the website' });
    assert.equal(reply.status, 303);
    await setup.fake.waitFor(() => setup.fake.messagesIn(channelId).some((m) => m.content.includes('**owner** (on the web):\n> Replying from the website')), 5000, 'the web reply in Discord');
  });
});

describe('view, id and action come from the query string or, failing that, the form body', () => {
  test('a multipart reply with action=reply (and id) in the body', async () => {
    const ticketId = createWebTicket(setup.app.db, { user: owner, subject: 'body action', body: 'x', priority: 'normal', uploads: [] }, { ip: null });
    const _csrf = await ownerClient.csrf(`/index.php?view=ticket&id=${ticketId}`);
    const reply = await ownerClient.postMultipart('/index.php?view=ticket', { _csrf, id: String(ticketId), action: 'reply', message: 'via the body' }, [{ name: 'shot.png', content: PNG_BYTES }]);
    assert.equal(reply.status, 303, reply.text.slice(0, 300));
    assert.equal(ticketById(setup.app.db, ticketId)!.messageCount, 2);
    // A closed ticket: 409 with the message, nothing stored, no file left.
    const close = await ownerClient.postMultipart('/index.php?view=ticket', { _csrf, id: String(ticketId), action: 'close' });
    assert.equal(close.status, 303);
    const late = await ownerClient.postMultipart('/index.php?view=ticket', { _csrf, id: String(ticketId), action: 'reply', message: 'too late' }, [{ name: 'late.png', content: PNG_BYTES }]);
    assert.equal(late.status, 409);
    assert.match(late.text, /This ticket is closed/);
    assert.equal(ticketById(setup.app.db, ticketId)!.messageCount, 2);
  });

  test('a staff action named in a multipart body is refused for a player before anything is stored, and its files removed', async () => {
    const ticketId = createWebTicket(setup.app.db, { user: owner, subject: 'sneaky', body: 'x', priority: 'normal', uploads: [] }, { ip: null });
    const _csrf = await ownerClient.csrf(`/index.php?view=ticket&id=${ticketId}`);
    const files = uploadedFiles(setup.app.config.uploadsDir).length;
    const refused = await ownerClient.postMultipart('/index.php?view=ticket', { _csrf, id: String(ticketId), action: 'note', note: 'not staff' }, [{ name: 'x.png', content: PNG_BYTES }]);
    assert.equal(refused.status, 403);
    assert.equal(uploadedFiles(setup.app.config.uploadsDir).length, files);
    assert.equal((prepared(setup.app.db, 'SELECT COUNT(*) AS n FROM messages WHERE internal = 1 AND ticket_id = ?').get(ticketId) as { n: number }).n, 0);
  });
});

describe('account rules live in one module', () => {
  test('an account made on the users page writes one user.create row (the page and the module used to write one each)', async () => {
    await addUser(setup.app.db, 'boss', 'correct horse battery', 'admin');
    const admin = new Client(setup.app.url);
    await admin.login('boss');
    const _csrf = await admin.csrf('/index.php?view=users');
    const made = await admin.post('/index.php?view=users&action=create', { _csrf, username: 'newbie', password: 'a long enough password', role: 'user', email: '', game_account: '' });
    assert.equal(made.status, 303);
    const rows = prepared(setup.app.db, "SELECT actor_name AS actor FROM audit_log WHERE action = 'user.create' AND details LIKE '%\"newbie\"%'").all() as { actor: string }[];
    assert.deepEqual(rows, [{ actor: 'boss' }]);
  });
});
