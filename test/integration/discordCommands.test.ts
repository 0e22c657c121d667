// Working a ticket from Discord and jumping between Discord and the console: the links both ways,
// /ticket unclaim, priority and transfer (each with its system line and audit row, written by the
// domain), every /ticket answer ephemeral, and a category Discord calls full before 50 channels.
// Against the real bridge and the fake Discord (support/fakes/discord.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { ticketById } from '../../src/db/tickets.js';
import type { FakeInteraction } from '../../support/fakes/discord.js';
import { addUser, Client } from '../helpers/app.js';
import { gameServer, startBridged, type BridgedSetup } from '../helpers/bridge.js';

const EPHEMERAL = 64;
const ACCOUNT = 2_000_700;
let setup: BridgedSetup;
let game: ReturnType<typeof gameServer>;
let ownerClient: Client;
let staffClient: Client;
let nextChar = 180_001;

before(async () => {
  setup = await startBridged();
  game = gameServer(setup.app.url);
  // The owner plays the game account whose tickets these are, so they can open the ticket's page.
  const owner = await addUser(setup.app.db, 'owner');
  prepared(setup.app.db, 'UPDATE users SET game_account_id = ? WHERE id = ?').run(ACCOUNT, owner.id);
  await addUser(setup.app.db, 'console', 'correct horse battery', 'staff');
  ownerClient = new Client(setup.app.url);
  await ownerClient.login('owner');
  staffClient = new Client(setup.app.url);
  await staffClient.login('console');
});
after(async () => {
  await setup.close();
});

async function gameTicket(): Promise<{ ticketId: number; channelId: string }> {
  const { json } = await game.ticket({ account_id: ACCOUNT, char_id: nextChar, name: `Hero ${nextChar++}` }, 'pm', 'help me');
  const ticketId = json.ticket_id as number;
  const channelId = await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)?.discordChannelId, 5000, 'the ticket channel');
  return { ticketId, channelId };
}

/** Runs a command as `userId` (the staff member by default) and returns its first answer. */
async function command(channelId: string, name: string, options?: Record<string, string>, userId = setup.staffId) {
  const interaction: FakeInteraction = setup.fake.slashCommand({ channelId, userId, command: name, ...(options ? { options } : {}) });
  const response = await setup.fake.waitFor(() => interaction.responses[0], 5000, `the answer to /${name}`);
  return { content: String(response.data.content), ephemeral: (Number(response.data.flags ?? 0) & EPHEMERAL) !== 0 };
}

function systemLines(ticketId: number): string[] {
  return (prepared(setup.app.db, "SELECT body FROM messages WHERE ticket_id = ? AND author_kind = 'system' ORDER BY id").all(ticketId) as { body: string }[]).map((r) => r.body);
}

function auditRows(ticketId: number, action: string): { actor: string; details: unknown }[] {
  const rows = prepared(setup.app.db, 'SELECT actor_name AS actor, details FROM audit_log WHERE ticket_id = ? AND action = ? ORDER BY id').all(ticketId, action) as { actor: string; details: string }[];
  return rows.map((r) => ({ actor: r.actor, details: JSON.parse(r.details) as unknown }));
}

function claimOf(ticketId: number): string | null {
  return ticketById(setup.app.db, ticketId)!.discordAssigneeName;
}

describe('a category Discord calls full', () => {
  test('a 50035 "maximum number of channels" refusal at 3 channels moves the next ticket to "Tickets 2"', async () => {
    const first = await gameTicket();
    const tickets = setup.fake.channels.get(setup.fake.channels.get(first.channelId)!.parent_id!)!;
    assert.equal(tickets.name, 'Tickets');
    const inside = () => [...setup.fake.channels.values()].filter((c) => c.parent_id === tickets.id).length;
    for (let i = inside(); i < 3; i += 1) setup.fake.addChannel({ name: `filler-${i}`, parent_id: tickets.id });
    // Discord refuses well below its documented 50, as it has been seen to.
    setup.fake.categoryLimit = 3;
    try {
      const next = await gameTicket();
      assert.equal(setup.fake.channels.get(setup.fake.channels.get(next.channelId)!.parent_id!)!.name, 'Tickets 2');
      assert.ok(setup.logs.some((line) => line.msg === 'discord: Discord says the ticket category is full; trying the next' && line.held === 3), 'the refusal was what moved it');
      const after = await gameTicket();
      assert.equal(setup.fake.channels.get(setup.fake.channels.get(after.channelId)!.parent_id!)!.name, 'Tickets 2', 'the full category is remembered');
    } finally {
      setup.fake.categoryLimit = 50;
    }
  });
});

describe('links both ways', () => {
  test('the opening message and the transcript link to the console page, without pinging anyone', async () => {
    const { ticketId, channelId } = await gameTicket();
    const link = `${setup.app.config.appUrl}/index.php?view=ticket&id=${ticketId}`;
    const opening = await setup.fake.waitFor(() => setup.fake.messagesIn(channelId).find((m) => m.source === 'bot'), 5000, 'the opening message');
    assert.ok(opening.content.includes(link), opening.content);
    assert.deepEqual(opening.mentions, []);
    await command(channelId, 'ticket close');
    const logged = await setup.fake.waitFor(() => setup.fake.messagesIn(setup.logChannelId).find((m) => m.content.startsWith(`Ticket #${ticketId} closed`)), 5000, 'the transcript');
    assert.ok(logged.content.includes(link), logged.content);
    assert.deepEqual(logged.mentions, []);
  });

  test('the console shows staff the Discord channel while it exists; the owner never sees it', async () => {
    const { ticketId, channelId } = await gameTicket();
    const channelUrl = `https://discord.com/channels/${setup.fake.guildId}/${channelId}`;
    const page = `/index.php?view=ticket&id=${ticketId}`;
    assert.ok((await staffClient.get(page)).text.includes(channelUrl), 'staff see the link');
    const ownerPage = await ownerClient.get(page);
    assert.equal(ownerPage.status, 200);
    assert.ok(!ownerPage.text.includes('discord.com/channels'), 'the owner does not');
    await command(channelId, 'ticket close');
    assert.ok(!(await staffClient.get(page)).text.includes('discord.com/channels'), 'a closed ticket has no channel to link to');
  });
});

describe('/ticket unclaim, priority, transfer', () => {
  test('unclaim: the claim goes, an in_progress ticket is open again, with its line and audit row; unclaiming nothing changes nothing', async () => {
    const { ticketId, channelId } = await gameTicket();
    await command(channelId, 'ticket claim');
    assert.equal(claimOf(ticketId), 'GM Sam');
    const answer = await command(channelId, 'ticket unclaim');
    assert.equal(answer.ephemeral, true);
    assert.equal(claimOf(ticketId), null);
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'open');
    assert.deepEqual(systemLines(ticketId).slice(-2), ['Ticket unclaimed by GM Sam.', 'Status changed from in_progress to open by GM Sam.']);
    assert.deepEqual(auditRows(ticketId, 'ticket.unclaim'), [{ actor: 'discord:GM Sam', details: { from: 'GM Sam' } }]);
    assert.deepEqual(auditRows(ticketId, 'ticket.status').at(-1), { actor: 'discord:GM Sam', details: { from: 'in_progress', to: 'open', cause: '/ticket unclaim' } });

    const again = await command(channelId, 'ticket unclaim');
    assert.deepEqual(again, { content: `Nobody has claimed ticket #${ticketId}.`, ephemeral: true });
    assert.equal(auditRows(ticketId, 'ticket.unclaim').length, 1);
  });

  test('priority: through the domain, the member named in the line and as discord:<member> in the audit log', async () => {
    const { ticketId, channelId } = await gameTicket();
    const answer = await command(channelId, 'ticket priority', { priority: 'urgent' });
    assert.equal(answer.ephemeral, true);
    assert.equal(ticketById(setup.app.db, ticketId)!.priority, 'urgent');
    assert.equal(systemLines(ticketId).at(-1), 'Priority changed from normal to urgent by GM Sam.');
    assert.deepEqual(auditRows(ticketId, 'ticket.priority'), [{ actor: 'discord:GM Sam', details: { from: 'normal', to: 'urgent' } }]);
  });

  test('transfer: the claim moves to another staff member, with its line and audit row; a member who is not staff is refused', async () => {
    const alexId = '400000000000000301';
    const outsiderId = '400000000000000302';
    setup.fake.addMember(alexId, 'GM Alex', [setup.staffRoleId]);
    setup.fake.addMember(outsiderId, 'Just A Player');
    const { ticketId, channelId } = await gameTicket();
    await command(channelId, 'ticket claim');

    const refused = await command(channelId, 'ticket transfer', { member: outsiderId });
    assert.deepEqual(refused, { content: 'Tickets can only be transferred to Support staff.', ephemeral: true });
    assert.equal(claimOf(ticketId), 'GM Sam');
    assert.deepEqual(auditRows(ticketId, 'ticket.transfer'), []);

    const answer = await command(channelId, 'ticket transfer', { member: alexId });
    assert.equal(answer.ephemeral, true);
    assert.equal(claimOf(ticketId), 'GM Alex');
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'in_progress', 'the status stays');
    assert.equal(systemLines(ticketId).at(-1), 'Ticket transferred to GM Alex by GM Sam.');
    assert.deepEqual(auditRows(ticketId, 'ticket.transfer'), [{ actor: 'discord:GM Sam', details: { from: 'GM Sam', to: 'GM Alex', toMemberId: alexId } }]);
  });

  test('claim, status and close answer ephemerally too, and nothing is posted in the channel', async () => {
    const { channelId } = await gameTicket();
    // The fake keeps ephemeral answers as messages flagged 64, which only the member who ran the command sees.
    const posted = () => setup.fake.messagesIn(channelId).filter((m) => m.source === 'interaction' && !(m.flags & EPHEMERAL)).length;
    assert.equal((await command(channelId, 'ticket claim')).ephemeral, true);
    assert.equal((await command(channelId, 'ticket status', { status: 'waiting_user' })).ephemeral, true);
    assert.equal(posted(), 0, 'ephemeral answers are not messages of the channel');
    assert.equal((await command(channelId, 'ticket close')).ephemeral, true);
  });
});
