// Issue #15 point 5: with DISCORD_WEB_TICKETS=true a web ticket also gets a private channel
// `ticket-<username>`. The player's web messages are posted there (files as staff-only dashboard
// links), a staff message there is a Support reply on the web (answered, the owner notified), and
// closing either side closes the other. Against the fake Discord (support/fakes/discord.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { prepared } from '../../src/db/index.js';
import { notificationsForTicket } from '../../src/db/notifications.js';
import { ticketById } from '../../src/db/tickets.js';
import type { User } from '../../src/db/users.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { addMailedPlayer, Client, PNG_BYTES, tempDir } from '../helpers/app.js';
import { startBridged, type BridgedSetup } from '../helpers/bridge.js';

let setup: BridgedSetup;
let owner: User;
let ownerClient: Client;

before(async () => {
  // SMTP_URL only makes email a channel the owner can be notified on; nothing is sent in this file.
  setup = await startBridged({ env: { DISCORD_WEB_TICKETS: 'true', SMTP_URL: 'smtp://127.0.0.1:9', MAIL_FROM: 'Support <support@example.org>' } });
  saveNotificationSwitches(setup.app.db, { email: true, telegram: false });
  owner = await addMailedPlayer(setup.app.db, 'webplayer', 'webplayer@example.org');
  ownerClient = new Client(setup.app.url);
  await ownerClient.login('webplayer');
});
after(async () => {
  await setup.close();
});

/** A ticket made on the dashboard's form, as a player makes one; its id from the redirect. */
async function webTicket(subject: string, message: string, files: { name: string; content: Buffer }[] = []): Promise<number> {
  const _csrf = await ownerClient.csrf('/index.php?view=ticket_create');
  const made = await ownerClient.postMultipart('/index.php?view=ticket_create', { _csrf, subject, message, priority: 'normal' }, files);
  assert.equal(made.status, 303, made.text.slice(0, 300));
  const id = Number(/[?&]id=(\d+)/.exec(made.location ?? '')?.[1]);
  assert.ok(id > 0, `a ticket id in ${made.location}`);
  return id;
}

async function channelOf(ticketId: number): Promise<string> {
  return setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)?.discordChannelId ?? undefined, 5000, `a channel for ticket ${ticketId}`);
}

function botPosts(channelId: string): string[] {
  return setup.fake
    .messagesIn(channelId)
    .filter((m) => m.source === 'bot')
    .map((m) => m.content);
}

describe('a web ticket in Discord (DISCORD_WEB_TICKETS=true)', () => {
  test('round trip: created on the web, answered in Discord, replied to on the web, closed on the web', async () => {
    const ticketId = await webTicket('Cannot log in', 'My password does not work\n# not a header', [{ name: 'screen.png', content: PNG_BYTES }]);
    assert.equal(ticketById(setup.app.db, ticketId)!.discordGuildId, setup.fake.guildId);
    const channelId = await channelOf(ticketId);
    const channel = setup.fake.channels.get(channelId)!;
    assert.equal(channel.name, 'ticket-webplayer');

    // The welcome says it is a web ticket; the player's message is quoted, the file a dashboard link.
    const attachmentId = (prepared(setup.app.db, 'SELECT id FROM attachments WHERE ticket_id = ?').get(ticketId) as { id: number }).id;
    const link = `${setup.app.config.appUrl}/index.php?view=attachment&ticket=${ticketId}&id=${attachmentId}`;
    await setup.fake.waitFor(() => botPosts(channelId).some((c) => c.includes('**webplayer** (on the web):\n> My password does not work\n> \\# not a header')), 5000, 'the first message in Discord');
    const posts = botPosts(channelId);
    assert.match(posts[0]!, /^New web ticket #\d+ from \*\*webplayer\*\*.*reads on the web/);
    assert.ok(posts.some((c) => c.includes(`screen.png <${link}>`)), `the attachment link in ${JSON.stringify(posts)}`);
    assert.ok(
      setup.fake.messagesIn(channelId).every((m) => m.attachments.length === 0),
      'no file is uploaded to Discord',
    );

    // A staff note stays a note: nothing for the player, the status does not move.
    setup.fake.userSays(channelId, { userId: setup.staffId, content: '// checking the logs' });
    await setup.fake.waitFor(() => (prepared(setup.app.db, 'SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ? AND internal = 1').get(ticketId) as { n: number }).n === 1, 5000, 'the note');
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'open');

    // A staff answer in the channel is a Support reply on the web.
    setup.fake.userSays(channelId, { userId: setup.staffId, content: 'Reset it from the login page' });
    await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)!.status === 'answered', 5000, 'the ticket to be answered');
    const page = await ownerClient.get(`/index.php?view=ticket&id=${ticketId}`);
    assert.match(page.text, /Reset it from the login page/);
    assert.doesNotMatch(page.text, /checking the logs/);
    const replies = notificationsForTicket(setup.app.db, ticketId).filter((n) => n.event === 'support_reply');
    assert.deepEqual(replies, [{ channel: 'email', event: 'support_reply', status: replies[0]?.status ?? 'pending', userId: owner.id }]);
    assert.equal((prepared(setup.app.db, 'SELECT COUNT(*) AS n FROM game_whispers WHERE ticket_id = ?').get(ticketId) as { n: number }).n, 0);

    // The player's reply on the web goes to the channel.
    const _csrf = await ownerClient.csrf(`/index.php?view=ticket&id=${ticketId}`);
    const reply = await ownerClient.postMultipart(`/index.php?view=ticket&id=${ticketId}&action=reply`, { _csrf, message: 'That worked, thanks' });
    assert.equal(reply.status, 303);
    await setup.fake.waitFor(() => botPosts(channelId).some((c) => c.includes('**webplayer** (on the web):\n> That worked, thanks')), 5000, 'the web reply in Discord');

    // Closed on the web: the channel goes, its transcript to the log channel.
    const close = await ownerClient.post(`/index.php?view=ticket&id=${ticketId}&action=close`, { _csrf });
    assert.equal(close.status, 303);
    await setup.fake.waitFor(() => !setup.fake.channels.has(channelId), 5000, 'the channel to be deleted');
    await setup.fake.waitFor(() => setup.fake.messagesIn(setup.logChannelId).some((m) => m.content.includes(`Ticket #${ticketId} closed`)), 5000, 'the transcript');
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'closed');
  });

  test('deleting the channel closes the web ticket', async () => {
    const ticketId = await webTicket('Second one', 'Another question');
    const channelId = await channelOf(ticketId);
    await setup.fake.waitFor(() => botPosts(channelId).some((c) => c.includes('> Another question')), 5000, 'the first message in Discord');
    setup.fake.adminDeleteChannel(channelId);
    await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)!.status === 'closed', 5000, 'the ticket to close');
    const page = await ownerClient.get(`/index.php?view=ticket&id=${ticketId}`);
    assert.match(page.text, /Ticket closed: its Discord channel was deleted\./);
  });
});

describe('DISCORD_WEB_TICKETS in the configuration', () => {
  test('off by default, refused without the Discord bridge, anything but true/false refused', () => {
    const off = loadConfig({}, tempDir());
    assert.ok(off.ok && off.config.discord.webTickets === false);
    const alone = loadConfig({ DISCORD_WEB_TICKETS: 'true' }, tempDir());
    assert.deepEqual(alone.ok ? [] : alone.errors, ['DISCORD_WEB_TICKETS=true needs the Discord bridge: set DISCORD_TOKEN and DISCORD_GUILD_ID, or set DISCORD_WEB_TICKETS=false']);
    const typo = loadConfig({ DISCORD_WEB_TICKETS: 'yes' }, tempDir());
    assert.deepEqual(typo.ok ? [] : typo.errors, ['DISCORD_WEB_TICKETS must be true or false (got "yes")']);
    assert.ok(setup.app.config.discord.webTickets, 'on in the bridged app above');
  });
});
