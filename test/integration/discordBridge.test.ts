// Seed 002 end to end: the game API, the real discord.js bridge and the fake Discord.
// Quick Reference:
//   Player uses @request or PMs @Support        -> New #ticket-name channel created
//   Player sends more messages via @Support     -> Messages appear in existing channel
//   Staff types in ticket channel               -> Player receives whisper in-game
//   Player logs out (with close_on_logout)      -> Ticket channel deleted
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PermissionFlagsBits } from 'discord.js';
import { z } from 'zod';
import { guildSettings } from '../../src/db/guilds.js';
import { prepared } from '../../src/db/index.js';
import { saveSetting, setting } from '../../src/db/settings.js';
import { ticketById } from '../../src/db/tickets.js';
import { channelNameForPlayer } from '../../src/discord/naming.js';
import type { FakeChannel } from '../../support/fakes/discord.js';
import { pollUntil } from '../../support/fakes/wait.js';
import { gameServer, startBridged, type BridgedSetup } from '../helpers/bridge.js';

let setup: BridgedSetup;
let game: ReturnType<typeof gameServer>;
let nextChar = 160001;
function player(name: string) {
  return { account_id: 2000001, char_id: nextChar++, name };
}

before(async () => {
  setup = await startBridged();
  game = gameServer(setup.app.url);
});
after(async () => {
  const fake = setup.fake;
  await setup.close();
  await fake.stop().catch(() => undefined);
});

async function channelOf(ticketId: number) {
  const channelId = await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)?.discordChannelId, 5000, `a channel for ticket ${ticketId}`);
  return setup.fake.channels.get(channelId)!;
}

/**
 * The relayed lines in a ticket channel after its opening message, once `count` have arrived.
 * Posts queued together may go out as one Discord message (one line each), so tests read lines.
 */
async function relayedLines(channelId: string, count: number, timeoutMs = 5000): Promise<string[]> {
  return setup.fake.waitFor(
    () => {
      const lines = setup.fake
        .messagesIn(channelId)
        .filter((m) => m.source === 'bot')
        .slice(1)
        .flatMap((m) => m.content.split('\n'));
      return lines.length >= count && lines;
    },
    timeoutMs,
    `${count} relayed line(s)`,
  );
}

/** The lines of one relayed player message: the bot's name line, then the text quoted. */
function postLines(name: string, text: string): string[] {
  return [`**${name}** (in game):`, `> ${text}`];
}

async function botMessagesIn(channelId: string, count: number) {
  return setup.fake.waitFor(() => {
    const messages = setup.fake.messagesIn(channelId).filter((m) => m.source === 'bot');
    return messages.length >= count && messages;
  }, 5000, `${count} bot message(s)`);
}

/**
 * Every queued Discord job is done: a post the bridge would make twice is in the fake by then,
 * so "posted once" can be checked without waiting a while.
 */
async function discordOutboxDone(): Promise<void> {
  const pending = () => (prepared(setup.app.db, 'SELECT COUNT(*) AS n FROM discord_outbox WHERE done_at IS NULL').get() as { n: number }).n;
  await pollUntil(() => pending() === 0, 15_000, 'the Discord outbox to be done');
}

describe('a ticket from the game becomes a private Discord channel', () => {
  test('PM @Support: channel ticket-<name> in a Tickets category, private, with an opening message; the player hears "Ticket Created on Discord"', async () => {
    const p = player('Sword Master');
    const { json } = await game.ticket(p, 'pm', 'My sword vanished');
    assert.deepEqual(json.whispers, [{ to: 'Sword Master', text: 'Ticket Created on Discord. PM @Support to use' }]);
    const channel = await channelOf(json.ticket_id as number);
    assert.equal(channel.name, 'ticket-sword-master');
    const parent = setup.fake.channels.get(channel.parent_id!)!;
    assert.equal(parent.name, 'Tickets');
    const everyone = channel.permission_overwrites.find((o) => o.id === setup.fake.everyoneRoleId)!;
    assert.ok((BigInt(everyone.deny) & PermissionFlagsBits.ViewChannel) !== 0n, '@everyone cannot see it');
    const staff = channel.permission_overwrites.find((o) => o.id === setup.staffRoleId)!;
    assert.ok((BigInt(staff.allow) & PermissionFlagsBits.ViewChannel) !== 0n, 'staff can');
    assert.ok(setup.fake.permissionsIn(channel, setup.fake.botUserId) & PermissionFlagsBits.SendMessages, 'the bot can write');
    const [opening, relayed] = await botMessagesIn(channel.id, 2);
    assert.match(opening!.content, new RegExp(`New ticket #${json.ticket_id} from \\*\\*Sword Master\\*\\* \\(account 2000001, char ${p.char_id}\\)`));
    assert.equal(relayed!.content, '**Sword Master** (in game):\n> My sword vanished');
  });

  test('@request echoes "[RagnaSync Ticket]: <message>"; later messages appear in the same channel, in order', async () => {
    const p = player('Echo');
    const first = await game.ticket(p, 'request', 'first');
    assert.deepEqual(first.json.whispers, [{ to: 'Echo', text: '[RagnaSync Ticket]: first' }]);
    for (const text of ['second', 'third', 'fourth']) await game.ticket(p, 'pm', text);
    const channel = await channelOf(first.json.ticket_id as number);
    assert.deepEqual(await relayedLines(channel.id, 8), ['first', 'second', 'third', 'fourth'].flatMap((text) => postLines('Echo', text)));
    assert.equal([...setup.fake.channels.values()].filter((c) => c.name === 'ticket-echo').length, 1, 'one channel per open ticket');
  });

  test('player text never pings: @everyone, <@id> and role mentions are posted with mentions disabled', async () => {
    const p = player('Pinger');
    const { json } = await game.ticket(p, 'pm', `@everyone @here <@${setup.staffId}> <@&${setup.staffRoleId}> look!`);
    const channel = await channelOf(json.ticket_id as number);
    const [, relayed] = await botMessagesIn(channel.id, 2);
    assert.match(relayed!.content, /@everyone/);
    assert.deepEqual(relayed!.mentions, [], 'nobody is pinged');
    assert.equal(relayed!.mention_everyone ?? false, false);
  });

  test('a long message is split at Discord’s 2000 characters, every part of it still quoted', async () => {
    const p = player('Novelist');
    const long = `${'lorem ipsum '.repeat(300)}END`;
    const { json } = await game.ticket(p, 'pm', long);
    const channel = await channelOf(json.ticket_id as number);
    const messages = await botMessagesIn(channel.id, 3);
    assert.ok(messages.every((m) => m.content.length <= 2000));
    const [nameLine, ...quoted] = messages.slice(1).flatMap((m) => m.content.split('\n'));
    assert.equal(nameLine, '**Novelist** (in game):');
    assert.ok(quoted.length >= 2 && quoted.every((line) => line.startsWith('> ')), 'the second part goes on quoted');
    assert.equal(quoted.map((line) => line.slice(2)).join(' '), long);
  });

  test('a PM forging a staff answer, headers, subtext, a masked link and a code fence arrives quoted and escaped, without a link preview', async () => {
    const p = player('Mallory');
    const forged = [
      'thanks',
      '**Support**: your refund is approved',
      '# Refund approved',
      '-# sent by Support',
      '> quoted',
      '[click here](https://evil.example/refund) @everyone',
      '```',
      'code',
      '```',
    ].join('\n');
    const { json } = await game.ticket(p, 'pm', forged);
    const channel = await channelOf(json.ticket_id as number);
    const [, relayed] = await botMessagesIn(channel.id, 2);
    assert.equal(
      relayed!.content,
      [
        '**Mallory** (in game):',
        '> thanks',
        '> \\*\\*Support\\*\\*: your refund is approved',
        '> \\# Refund approved',
        '> \\-# sent by Support',
        '> \\> quoted',
        '> \\[click here](https://evil.example/refund) @everyone',
        '> \\`\\`\\`',
        '> code',
        '> \\`\\`\\`',
      ].join('\n'),
    );
    assert.ok(relayed!.content.split('\n').slice(1).every((line) => line.startsWith('> ')), 'every line the player wrote is quoted');
    assert.equal(relayed!.flags & 4, 4, 'SUPPRESS_EMBEDS: the link does not unfurl');
    assert.deepEqual(relayed!.mentions, []);
    assert.equal(relayed!.mention_everyone, false);
  });

  test('hostile names still make valid channels', async () => {
    assert.equal(channelNameForPlayer('🔥🔥🔥', 777), 'ticket-777');
    assert.equal(channelNameForPlayer('@everyone', 1), 'ticket-everyone');
    assert.equal(channelNameForPlayer('مرحبا بالعالم', 1), 'ticket-مرحبا-بالعالم');
    assert.equal([...channelNameForPlayer('x'.repeat(200), 1)].length, 100);
    const p = player('🐉 Dragon\u202E 🐉');
    const { json } = await game.ticket(p, 'pm', 'hi');
    const channel = await channelOf(json.ticket_id as number);
    assert.equal(channel.name, 'ticket-dragon');
  });

  test('a retried request_id relays nothing twice', async () => {
    const p = player('Retry');
    const first = await game.ticket(p, 'pm', 'once', 'rid-1');
    const again = await game.ticket(p, 'pm', 'once', 'rid-1');
    assert.deepEqual(again.json, first.json);
    const channel = await channelOf(first.json.ticket_id as number);
    await botMessagesIn(channel.id, 2);
    await discordOutboxDone();
    assert.equal(setup.fake.messagesIn(channel.id).filter((m) => m.content === '**Retry** (in game):\n> once').length, 1);
  });
});

describe('staff answer in Discord (seed 002 § Staff Response)', () => {
  test('a staff message is stored and whispered: mentions and custom emoji as plain text, attachments by name and URL', async () => {
    const p = player('Listener');
    const { json } = await game.ticket(p, 'pm', 'hello?');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    await botMessagesIn(channel.id, 2);
    await game.whispers(0); // clear anything earlier
    setup.fake.userSays(channel.id, {
      userId: setup.staffId,
      content: `Hi <@${setup.staffId}>, try this <:sword:123456789012345678>`,
      mentions: [setup.staffId],
      attachments: [{ filename: 'guide.png', data: Buffer.from('png') }],
    });
    const whispers = await game.whispers(5);
    assert.equal(whispers.length, 1);
    assert.equal(whispers[0]!.name, 'Listener');
    assert.equal(whispers[0]!.from, 'GM Sam');
    assert.match(whispers[0]!.text, /^Hi @GM Sam, try this :sword: guide\.png \(http:\/\/127\.0\.0\.1:\d+\/[^)]+\)$/);
    const stored = prepared(setup.app.db, "SELECT author_kind AS kind, origin, body FROM messages WHERE ticket_id = ? AND origin = 'discord'").all(ticketId);
    assert.equal(stored.length, 1);
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'answered');
  });

  test('a staff message in Discord markup is whispered as plain text, its timestamp in TZ (UTC here)', async () => {
    const p = player('Markup Reader');
    const { json } = await game.ticket(p, 'pm', 'when?');
    const channel = await channelOf(json.ticket_id as number);
    await botMessagesIn(channel.id, 2);
    await game.whispers(0);
    setup.fake.userSays(channel.id, {
      userId: setup.staffId,
      content: '# Event\n**Meet** me at <t:1700000000:f>, ||in Prontera||: see [the guide](<https://example.com/guide>)\n```\n@go prontera\n```',
    });
    const whispers = await game.whispers(5);
    assert.deepEqual(
      whispers.map((w) => w.text),
      ['Event Meet me at 2023-11-14 22:13, in Prontera: see the guide (https://example.com/guide) @go prontera'],
    );
  });

  test('the bot’s own messages and other channels are not whispered', async () => {
    const p = player('Quiet');
    const { json } = await game.ticket(p, 'pm', 'only me');
    await botMessagesIn((await channelOf(json.ticket_id as number)).id, 2);
    const elsewhere = setup.fake.addChannel({ name: 'general' });
    setup.fake.userSays(elsewhere.id, { userId: setup.staffId, content: 'not a ticket' });
    assert.deepEqual(await game.whispers(1), []);
  });

  test('a long staff answer is split to GAME_WHISPER_MAX, in order', async () => {
    const p = player('Patient Reader');
    const { json } = await game.ticket(p, 'pm', 'explain please');
    const channel = await channelOf(json.ticket_id as number);
    await botMessagesIn(channel.id, 2);
    await game.whispers(0);
    const text = Array.from({ length: 90 }, (_, i) => `step${i}`).join(' ');
    setup.fake.userSays(channel.id, { userId: setup.staffId, content: text });
    const parts: string[] = [];
    while (parts.join(' ') !== text) {
      const batch = await game.whispers(3);
      assert.ok(batch.length > 0, `got ${parts.length} parts so far`);
      parts.push(...batch.map((w) => w.text));
    }
    assert.ok(parts.length >= 3 && parts.every((part) => [...part].length <= 200));
  });
});

/** An admin loosens a ticket channel by hand: `userId` may see it, write and use commands there. */
function letIn(channel: FakeChannel, userId: string): void {
  const allow = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.ReadMessageHistory | PermissionFlagsBits.UseApplicationCommands;
  channel.permission_overwrites.push({ id: userId, type: 1, allow: String(allow), deny: '0' });
}

const discordAnswers = (ticketId: number) => (prepared(setup.app.db, "SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ? AND origin = 'discord'").get(ticketId) as { n: number }).n;

describe('only staff answer in Discord (defence in depth)', () => {
  const outsiderId = '400000000000000201';

  test('a member without a staff role who can write in a ticket channel is not whispered nor stored, and is logged; their /ticket close is refused ephemerally', async () => {
    const { json } = await game.ticket(player('Guarded'), 'pm', 'private please');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    await botMessagesIn(channel.id, 2);
    await game.whispers(0);
    setup.fake.addMember(outsiderId, 'Nosy Neighbour');
    letIn(channel, outsiderId);
    const said = setup.fake.userSays(channel.id, { userId: outsiderId, content: 'your refund is approved' });
    const warning = await setup.fake.waitFor(() => setup.logs.find((line) => line.messageId === said.id), 5000, 'the warning');
    assert.equal(warning.level, 'warn');
    assert.equal(warning.ticketId, ticketId);
    assert.equal(warning.member, 'Nosy Neighbour');
    assert.equal(warning.err, undefined, 'no error, no stack');
    assert.deepEqual(await game.whispers(0), [], 'not whispered');
    assert.equal(discordAnswers(ticketId), 0, 'not stored');
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'open');

    const close = setup.fake.slashCommand({ channelId: channel.id, userId: outsiderId, command: 'ticket close' });
    const response = await setup.fake.waitFor(() => close.responses[0], 5000, 'the refusal');
    assert.match(String(response.data.content), /Only Support staff can use \/ticket/);
    assert.equal((Number(response.data.flags) & 64) !== 0, true, 'ephemeral');
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'open', 'the ticket stays open');
    assert.ok(setup.fake.channels.has(channel.id), 'the channel stays');
  });

  test('a staff-role member and an Administrator without the staff role are relayed and may use /ticket', async () => {
    const adminId = '400000000000000202';
    setup.fake.addMember(adminId, 'Big Boss', [setup.fake.addRole('Server Admins', { permissions: PermissionFlagsBits.Administrator })]);
    const { json } = await game.ticket(player('Answered Twice'), 'pm', 'anyone?');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    await botMessagesIn(channel.id, 2);
    await game.whispers(0);
    setup.fake.userSays(channel.id, { userId: adminId, content: 'admin answer' });
    setup.fake.userSays(channel.id, { userId: setup.staffId, content: 'staff answer' });
    const texts: string[] = [];
    while (texts.length < 2) {
      const batch = await game.whispers(5);
      assert.ok(batch.length > 0, `whispers so far: ${JSON.stringify(texts)}`);
      texts.push(...batch.map((w) => w.text));
    }
    assert.deepEqual(texts, ['admin answer', 'staff answer']);
    assert.equal(discordAnswers(ticketId), 2);
    const claim = setup.fake.slashCommand({ channelId: channel.id, userId: adminId, command: 'ticket claim' });
    await setup.fake.waitFor(() => claim.responses.length > 0, 5000, 'the claim answer');
    assert.deepEqual(prepared(setup.app.db, 'SELECT status, discord_assignee_name AS who FROM tickets WHERE id = ?').get(ticketId), { status: 'in_progress', who: 'Big Boss' });
  });
});

describe('closing', () => {
  test('logout with close_on_logout: the channel is deleted and the transcript goes to the log channel', async () => {
    const p = player('Logger Out');
    const { json } = await game.ticket(p, 'pm', 'bye');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    await botMessagesIn(channel.id, 2);
    const out = await game.logout(p);
    assert.deepEqual(out.json, { ok: true, ticket_id: ticketId, closed: true, whispers: [] });
    await setup.fake.waitFor(() => !setup.fake.channels.has(channel.id), 5000, 'the channel to be deleted');
    const logged = await setup.fake.waitFor(() => setup.fake.messagesIn(setup.logChannelId).find((m) => m.content.includes(`Ticket #${ticketId} closed`)), 5000, 'the transcript');
    assert.equal(logged.attachments[0]?.filename, `ticket-${ticketId}.txt`);
    assert.ok(prepared(setup.app.db, 'SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ?').get(ticketId), 'the conversation stays in SQLite');
  });

  test('logout without close_on_logout keeps the ticket; staff answers wait for the player', async () => {
    guildSettings(setup.app.db, setup.fake.guildId, true);
    prepared(setup.app.db, 'UPDATE discord_guild_channels SET ticket_close_on_logout = 0').run();
    try {
      const p = player('Comes Back');
      const { json } = await game.ticket(p, 'pm', 'brb');
      const channel = await channelOf(json.ticket_id as number);
      await botMessagesIn(channel.id, 2);
      const out = await game.logout(p);
      assert.equal(out.json.closed, false);
      await game.whispers(0);
      setup.fake.userSays(channel.id, { userId: setup.staffId, content: 'we fixed it while you were away' });
      const waiting = await game.whispers(5);
      assert.deepEqual(waiting.map((w) => w.text), ['we fixed it while you were away']);
      assert.ok(setup.fake.channels.has(channel.id));
    } finally {
      prepared(setup.app.db, 'UPDATE discord_guild_channels SET ticket_close_on_logout = 1').run();
    }
  });

  test('a channel deleted by hand closes its ticket; the next PM opens a new one', async () => {
    const p = player('Deleted');
    const { json } = await game.ticket(p, 'pm', 'first ticket');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    setup.fake.adminDeleteChannel(channel.id);
    await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)!.status === 'closed', 5000, 'the ticket to close');
    const next = await game.ticket(p, 'pm', 'again');
    assert.notEqual(next.json.ticket_id, ticketId);
    assert.deepEqual(next.json.whispers, [{ to: 'Deleted', text: 'Ticket Created on Discord. PM @Support to use' }]);
    await channelOf(next.json.ticket_id as number);
  });
});

describe('slash commands', () => {
  test('/ticket claim, /ticket status, /ticket close in a ticket channel', async () => {
    const p = player('Commanded');
    const { json } = await game.ticket(p, 'pm', 'help');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    const claim = setup.fake.slashCommand({ channelId: channel.id, userId: setup.staffId, command: 'ticket claim' });
    await setup.fake.waitFor(() => claim.responses.length > 0, 5000, 'the claim answer');
    const claimed = prepared(setup.app.db, 'SELECT status, discord_assignee_name AS who FROM tickets WHERE id = ?').get(ticketId);
    assert.deepEqual(claimed, { status: 'in_progress', who: 'GM Sam' });
    const { addUser, Client } = await import('../helpers/app.js');
    await addUser(setup.app.db, `console${ticketId}`, 'correct horse battery', 'staff');
    const console_ = new Client(setup.app.url);
    await console_.login(`console${ticketId}`);
    assert.match((await console_.get(`/index.php?view=ticket&id=${ticketId}`)).text, /GM Sam \(claimed in Discord\)/, 'the web console shows who claimed it');
    assert.match((await console_.get('/index.php?view=tickets&source=game')).text, /data-label="Assignee">GM Sam \(Discord\)</);

    const status = setup.fake.slashCommand({ channelId: channel.id, userId: setup.staffId, command: 'ticket status', options: { status: 'waiting_user' } });
    await setup.fake.waitFor(() => status.responses.length > 0, 5000, 'the status answer');
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'waiting_user');

    const close = setup.fake.slashCommand({ channelId: channel.id, userId: setup.staffId, command: 'ticket close' });
    await setup.fake.waitFor(() => close.responses.length > 0, 5000, 'the close answer');
    assert.equal(ticketById(setup.app.db, ticketId)!.status, 'closed');
    await setup.fake.waitFor(() => !setup.fake.channels.has(channel.id), 5000, 'the channel to go');
  });

  test('/ticket outside a ticket channel answers ephemerally', async () => {
    const general = setup.fake.channelByName('general') ?? setup.fake.addChannel({ name: 'general' });
    const interaction = setup.fake.slashCommand({ channelId: general.id, userId: setup.staffId, command: 'ticket close' });
    const response = await setup.fake.waitFor(() => interaction.responses[0], 5000, 'an answer');
    assert.match(JSON.stringify(response.data), /This is not a ticket channel/);
    assert.equal(((response.data.flags as number) & 64) !== 0, true, 'ephemeral');
  });

  test('/ticket-config close-on-logout writes discord_guild_channels (admins only)', async () => {
    const adminId = '400000000000000099';
    const adminRole = setup.fake.addStaffRole('Admins', PermissionFlagsBits.Administrator);
    setup.fake.addMember(adminId, 'Boss', [adminRole]);
    const general = setup.fake.channelByName('general') ?? setup.fake.addChannel({ name: 'general' });
    const interaction = setup.fake.slashCommand({ channelId: general.id, userId: adminId, command: 'ticket-config close-on-logout', options: { value: false } });
    await setup.fake.waitFor(() => interaction.responses.length > 0, 5000, 'an answer');
    assert.equal(guildSettings(setup.app.db, setup.fake.guildId, true).ticketCloseOnLogout, false);
    assert.throws(() => setup.fake.slashCommand({ channelId: general.id, userId: setup.staffId, command: 'ticket-config close-on-logout', options: { value: true } }), /cannot see/);
    prepared(setup.app.db, 'UPDATE discord_guild_channels SET ticket_close_on_logout = 1').run();
  });
});

describe('nothing is lost', () => {
  test('posts that hit 429 and 500 are retried and arrive in order', async () => {
    const p = player('Unlucky');
    const { json } = await game.ticket(p, 'pm', 'one');
    const channel = await channelOf(json.ticket_id as number);
    await botMessagesIn(channel.id, 2);
    setup.fake.failNext('POST', `/channels/${channel.id}/messages`, { status: 429, retryAfter: 0.2, count: 1 });
    setup.fake.failNext('POST', `/channels/${channel.id}/messages`, { status: 500, count: 5 });
    await game.ticket(p, 'pm', 'two');
    await game.ticket(p, 'pm', 'three');
    assert.deepEqual(await relayedLines(channel.id, 6, 15_000), ['one', 'two', 'three'].flatMap((text) => postLines('Unlucky', text)));
  });

  test('a post Discord stored but whose answer was lost is not posted twice (nonce)', async () => {
    const p = player('Lost Answer');
    const { json } = await game.ticket(p, 'pm', 'first');
    const channel = await channelOf(json.ticket_id as number);
    await relayedLines(channel.id, 1);
    // Discord stores the next post, then answers 500: discord.js and then the outbox retry it.
    setup.fake.failNext('POST', `/channels/${channel.id}/messages`, { status: 500, count: 1, afterHandler: true });
    await game.ticket(p, 'pm', 'second');
    await game.ticket(p, 'pm', 'third');
    const lines = await relayedLines(channel.id, 6, 15_000);
    await discordOutboxDone();
    assert.deepEqual(await relayedLines(channel.id, 6), ['first', 'second', 'third'].flatMap((text) => postLines('Lost Answer', text)));
    assert.equal(lines.length, 6);
    const attempts = setup.fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/channels/${channel.id}/messages`));
    assert.ok(attempts.length > setup.fake.messagesIn(channel.id).filter((m) => m.source === 'bot').length, 'a post was retried');
  });

  test('a backlog for one channel goes out in few messages, in order, each under 2000 characters', async () => {
    const p = player('Chatty');
    const { json } = await game.ticket(p, 'pm', 'start');
    const channel = await channelOf(json.ticket_id as number);
    await relayedLines(channel.id, 1);
    // Discord is failing while the player keeps typing: the posts queue up.
    setup.fake.failNext('POST', `/channels/${channel.id}/messages`, { status: 500, count: 8 });
    const sent = Array.from({ length: 30 }, (_, i) => `line ${i} ${'x'.repeat(100)}`);
    for (const text of sent) await game.ticket(p, 'pm', text);
    const lines = await relayedLines(channel.id, 62, 15_000);
    assert.deepEqual(lines, ['start', ...sent].flatMap((text) => postLines('Chatty', text)), 'every line, once, in order');
    const posts = setup.fake.messagesIn(channel.id).filter((m) => m.source === 'bot').slice(2);
    assert.ok(posts.length < 10, `${posts.length} Discord messages for 30 queued posts`);
    assert.ok(posts.every((m) => m.content.length <= 2000));
  });

  test('the 51st ticket channel goes to a second Tickets category', async () => {
    const tickets = [...setup.fake.channels.values()].find((c) => c.type === 4 && c.name === 'Tickets')!;
    const inside = () => [...setup.fake.channels.values()].filter((c) => c.parent_id === tickets.id).length;
    for (let i = inside(); i < 50; i += 1) setup.fake.addChannel({ name: `filler-${i}`, parent_id: tickets.id });
    const { json } = await game.ticket(player('Overflow'), 'pm', 'any room?');
    const channel = await channelOf(json.ticket_id as number);
    assert.equal(setup.fake.channels.get(channel.parent_id!)!.name, 'Tickets 2');
  });

  test('at Discord’s 500-channel guild limit players hear "offline" and staff are told in the log channel', async () => {
    const p = player('Full House');
    const fillers: string[] = [];
    while (setup.fake.channels.size < 500) fillers.push(setup.fake.addChannel({ name: `full-${fillers.length}` }).id);
    try {
      await setup.fake.waitFor(() => !setup.bridge.canOpenTickets(), 5000, 'the bridge to see the full guild');
      const { json } = await game.ticket(p, 'pm', 'is there room?');
      assert.deepEqual(json, { ok: true, ticket_id: null, whispers: [{ to: 'Full House', text: 'RagnaSync: Ticket Offline, Try again' }] });
      await setup.fake.waitFor(() => setup.fake.messagesIn(setup.logChannelId).some((m) => /could not open a ticket: the server has 500 channels/.test(m.content)), 5000, 'the staff warning');
    } finally {
      for (const id of fillers) setup.fake.adminDeleteChannel(id);
    }
    await setup.fake.waitFor(() => setup.bridge.canOpenTickets(), 5000, 'room again');
  });

  test('a dropped gateway: "offline" is noticed within 5 s, and the bridge comes back', async () => {
    setup.fake.setGatewayAvailable(false);
    setup.fake.disconnectGateway({ code: 4000 });
    await setup.fake.waitFor(() => !setup.bridge.isConnected(), 5000, 'the bridge to notice');
    const offline = await game.ticket(player('While Down'), 'pm', 'anyone?');
    assert.deepEqual(offline.json, { ok: true, ticket_id: null, whispers: [{ to: 'While Down', text: 'RagnaSync: Ticket Offline, Try again' }] });
    setup.fake.setGatewayAvailable(true);
    await setup.fake.waitFor(() => setup.bridge.isConnected(), 15_000, 'the bridge to reconnect');
    const back = await game.ticket(player('After'), 'pm', 'back?');
    assert.ok(back.json.ticket_id);
  });
});

describe('restarts', () => {
  test('staff messages sent while the bridge was away are relayed once when it returns; pending whispers survive', async () => {
    const p = player('Sleeper');
    const { json } = await game.ticket(p, 'pm', 'night');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    await botMessagesIn(channel.id, 2);
    await game.whispers(0);
    const dir = setup.app.dir;
    await setup.stopBridge();
    setup.fake.userSays(channel.id, { userId: setup.staffId, content: 'answer while you were down' });
    setup = await startBridged({ fake: setup.fake, dir });
    game = gameServer(setup.app.url);
    const whispers = await game.whispers(5);
    assert.deepEqual(whispers.map((w) => w.text), ['answer while you were down']);
    await setup.stopBridge();
    setup = await startBridged({ fake: setup.fake, dir });
    game = gameServer(setup.app.url);
    assert.deepEqual(await game.whispers(1), [], 'relayed once, not again after another restart');
    assert.equal((prepared(setup.app.db, "SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ? AND origin = 'discord'").get(ticketId) as { n: number }).n, 1);
  });

  test('catch-up applies the same rule: a non-staff message sent while the bridge was away is not relayed, a staff one is', async () => {
    const outsiderId = '400000000000000203';
    const { json } = await game.ticket(player('Night Watch'), 'pm', 'anyone awake?');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    await botMessagesIn(channel.id, 2);
    await game.whispers(0);
    setup.fake.addMember(outsiderId, 'Night Owl');
    letIn(channel, outsiderId);
    const dir = setup.app.dir;
    await setup.stopBridge();
    const forged = setup.fake.userSays(channel.id, { userId: outsiderId, content: 'forged while you were down' });
    setup.fake.userSays(channel.id, { userId: setup.staffId, content: 'real answer while you were down' });
    setup = await startBridged({ fake: setup.fake, dir });
    game = gameServer(setup.app.url);
    assert.deepEqual((await game.whispers(5)).map((w) => w.text), ['real answer while you were down']);
    const warning = setup.logs.find((line) => line.messageId === forged.id);
    assert.equal(warning?.level, 'warn');
    assert.equal(discordAnswers(ticketId), 1);
  });

  test('a stored catch-up cursor that is not a message id counts as none: catch-up starts after the last message relayed', async () => {
    const { json } = await game.ticket(player('Bad Cursor'), 'pm', 'hello?');
    const ticketId = json.ticket_id as number;
    const channel = await channelOf(ticketId);
    await botMessagesIn(channel.id, 2);
    await game.whispers(0);
    setup.fake.userSays(channel.id, { userId: setup.staffId, content: 'live answer' });
    assert.deepEqual((await game.whispers(5)).map((w) => w.text), ['live answer']);
    saveSetting(setup.app.db, `discord.read_to.${ticketId}`, 'not a message id');
    const dir = setup.app.dir;
    await setup.stopBridge();
    const missed = setup.fake.userSays(channel.id, { userId: setup.staffId, content: 'answer while you were down' });
    setup = await startBridged({ fake: setup.fake, dir });
    game = gameServer(setup.app.url);
    assert.deepEqual((await game.whispers(5)).map((w) => w.text), ['answer while you were down']);
    assert.equal(discordAnswers(ticketId), 2);
    await setup.fake.waitFor(() => setting(setup.app.db, `discord.read_to.${ticketId}`, z.string()) === missed.id, 5000, 'the cursor to move past the missed answer');
  });
});
