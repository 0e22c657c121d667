// Issue #15 point 1: staff talk among themselves in a ticket channel. A message starting with
// DISCORD_NOTE_PREFIX, every message in a thread of the channel, and /ticket note are internal
// notes: stored for staff, marked with a reaction, never whispered, notified or shown to the player.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { notificationsForTicket } from '../../src/db/notifications.js';
import { pendingWhispers } from '../../src/db/outboxes.js';
import { ticketById } from '../../src/db/tickets.js';
import { NOTE_REACTION } from '../../src/discord/relay.js';
import { saveNotificationSwitches } from '../../src/settings.js';
import { addMailedPlayer, addUser, Client } from '../helpers/app.js';
import { gameServer, startBridged, type BridgedSetup } from '../helpers/bridge.js';

let setup: BridgedSetup;
let game: ReturnType<typeof gameServer>;
let owner: Client;
let nextChar = 180_001;
const ACCOUNT = 2_000_900;

before(async () => {
  setup = await startBridged({ env: { SMTP_URL: 'smtp://127.0.0.1:2525' } });
  game = gameServer(setup.app.url);
  saveNotificationSwitches(setup.app.db, { email: true, telegram: false });
  await addMailedPlayer(setup.app.db, 'noted_owner', 'owner@example.org', ACCOUNT);
  owner = new Client(setup.app.url);
  await owner.login('noted_owner');
});
after(() => setup.close());

async function gameTicket(): Promise<{ ticketId: number; channelId: string }> {
  const { json } = await game.ticket({ account_id: ACCOUNT, char_id: nextChar++, name: `Noted ${nextChar}` }, 'pm', 'hello');
  const ticketId = json.ticket_id as number;
  const channelId = await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)?.discordChannelId, 5000, 'the ticket channel');
  return { ticketId, channelId };
}

function stored(ticketId: number): { body: string; internal: number }[] {
  return prepared(setup.app.db, "SELECT body, internal FROM messages WHERE ticket_id = ? AND author_kind = 'staff' ORDER BY id").all(ticketId) as { body: string; internal: number }[];
}

describe('internal talk in a ticket channel', () => {
  test('a message starting with // is a note: stored without the prefix, marked, never whispered or notified; the status stays', async () => {
    const { ticketId, channelId } = await gameTicket();
    const said = setup.fake.userSays(channelId, { userId: setup.staffId, content: '// check his item log first' });
    await setup.fake.waitFor(() => said.bot_reactions?.includes(NOTE_REACTION), 5000, 'the note reaction');
    assert.deepEqual(stored(ticketId), [{ body: 'check his item log first', internal: 1 }]);
    assert.deepEqual(pendingWhispers(setup.app.db, ticketId), []);
    assert.deepEqual(notificationsForTicket(setup.app.db, ticketId), []);
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'open');
    // The player's page does not show it; a staff member's does, as a note.
    assert.doesNotMatch((await owner.get(`/index.php?view=ticket&id=${ticketId}`)).text, /item log/);
    await addUser(setup.app.db, 'note_reader', 'correct horse battery', 'staff');
    const staff = new Client(setup.app.url);
    await staff.login('note_reader');
    const page = (await staff.get(`/index.php?view=ticket&id=${ticketId}`)).text;
    assert.match(page, /Internal note<\/span>/);
    assert.match(page, /check his item log first/);
    // A plain message is still an answer, whispered.
    setup.fake.userSays(channelId, { userId: setup.staffId, content: 'We are looking into it.' });
    await setup.fake.waitFor(() => pendingWhispers(setup.app.db, ticketId).length === 1, 5000, 'the answer whispered');
  });

  test('every message in a thread of the ticket channel is a note', async () => {
    const { ticketId, channelId } = await gameTicket();
    const thread = setup.fake.addThread(channelId, 'staff talk');
    const said = setup.fake.userSays(thread.id, { userId: setup.staffId, content: 'I think this is the duplication bug', force: true });
    await setup.fake.waitFor(() => said.bot_reactions?.includes(NOTE_REACTION), 5000, 'the note reaction in the thread');
    assert.deepEqual(stored(ticketId), [{ body: 'I think this is the duplication bug', internal: 1 }]);
    assert.deepEqual(pendingWhispers(setup.app.db, ticketId), []);
  });

  test('/ticket note stores a note and answers only the member who ran it', async () => {
    const { ticketId, channelId } = await gameTicket();
    const interaction = setup.fake.slashCommand({ channelId, userId: setup.staffId, command: 'ticket note', options: { text: 'refund approved by lead' } });
    const response = await setup.fake.waitFor(() => interaction.responses[0], 5000, 'the answer');
    assert.match(String(response.data.content), /Note added to ticket #\d+ \(staff only\)/);
    assert.equal((Number(response.data.flags) & 64) !== 0, true, 'ephemeral');
    assert.deepEqual(stored(ticketId), [{ body: 'refund approved by lead', internal: 1 }]);
    assert.deepEqual(pendingWhispers(setup.app.db, ticketId), []);
    const audit = prepared(setup.app.db, "SELECT actor_name AS actor FROM audit_log WHERE ticket_id = ? AND action = 'ticket.note'").all(ticketId);
    assert.deepEqual(audit, [{ actor: 'discord:GM Sam' }]);
  });
});
