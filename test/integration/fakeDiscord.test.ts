// The fake Discord (support/fakes/discord.ts) driven by the REAL discord.js Client: if these pass, a bot
// tested against the fake logs in, keeps its caches right and sees the errors Discord would give it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import {
  ChannelType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  OverwriteType,
  PermissionFlagsBits,
  RateLimitError,
  REST,
  type ClientEvents,
  type TextChannel,
} from 'discord.js';
import { WebSocket } from 'ws';
import { startFakeDiscord, type FakeDiscord } from '../../support/fakes/discord.js';

const BOT_INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

function waitForEvent<K extends keyof ClientEvents>(
  client: Client,
  event: K,
  predicate: (...args: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(event)}`));
    }, timeoutMs);
    const listener = (...args: ClientEvents[K]): void => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(args);
    };
    client.on(event, listener);
  });
}

async function rejectsWithApiError(promise: Promise<unknown>): Promise<DiscordAPIError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DiscordAPIError, `expected DiscordAPIError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to be refused');
}

describe('fake Discord with the real discord.js client', () => {
  let fake: FakeDiscord;
  let client: Client;
  let staffRoleId: string;
  const staffId = '300000000000000001';
  const playerId = '300000000000000002';
  let category: { id: string };
  let ticket: TextChannel;

  before(async () => {
    fake = await startFakeDiscord({ guildName: 'Ragna Support' });
    staffRoleId = fake.addStaffRole('Staff');
    fake.addMember(staffId, 'staffer', [staffRoleId]);
    fake.addMember(playerId, 'player', []);
    client = new Client({ intents: BOT_INTENTS, rest: { api: fake.apiUrl } });
  });

  after(async () => {
    await client.destroy();
    await fake.stop();
  });

  test('logs in and is ready within a few seconds, with the guild, its roles and the bot member cached', async () => {
    const started = Date.now();
    const ready = waitForEvent(client, Events.ClientReady);
    await client.login(fake.token);
    await ready;
    assert.ok(Date.now() - started < 3000, `ready took ${Date.now() - started} ms`);
    assert.equal(client.user?.id, fake.botUserId);
    const guild = client.guilds.cache.get(fake.guildId);
    assert.ok(guild, 'guild cached from GUILD_CREATE');
    assert.equal(guild.name, 'Ragna Support');
    assert.equal(guild.roles.everyone.id, fake.everyoneRoleId);
    assert.equal(guild.roles.cache.get(staffRoleId)?.name, 'Staff');
    assert.ok(guild.members.me, 'bot member cached');
    assert.ok(guild.members.me.permissions.has(PermissionFlagsBits.ManageChannels));
    assert.ok(fake.requests.some((r) => r.method === 'GET' && r.path === '/gateway/bot' && r.status === 200));
    assert.equal(fake.gateway.identifies, 1);
    assert.equal((fake.gateway.lastIntents ?? 0) & GatewayIntentBits.MessageContent, GatewayIntentBits.MessageContent);
  });

  test('a wrong token is refused the way Discord refuses it', async () => {
    const other = new Client({ intents: BOT_INTENTS, rest: { api: fake.apiUrl } });
    await assert.rejects(other.login('not-the-token'), (error: Error) => /token/i.test(error.message));
    await other.destroy();
    assert.ok(fake.requests.some((r) => r.path === '/gateway/bot' && r.status === 401));
  });

  test('a category and a private ticket channel keep their permission overwrites', async () => {
    const guild = client.guilds.cache.get(fake.guildId)!;
    category = await guild.channels.create({ name: 'Tickets', type: ChannelType.GuildCategory });
    ticket = await guild.channels.create({
      name: 'Ticket Alice',
      type: ChannelType.GuildText,
      parent: category.id,
      permissionOverwrites: [
        { id: guild.roles.everyone.id, deny: [PermissionFlagsBits.ViewChannel] },
        { id: staffRoleId, allow: [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages] },
        { id: client.user!.id, allow: [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages] },
      ],
    });
    const stored = fake.channels.get(ticket.id);
    assert.ok(stored);
    assert.equal(stored.name, 'ticket-alice', 'Discord lowercases text channel names and dashes spaces');
    assert.equal(ticket.name, 'ticket-alice');
    assert.equal(stored.type, 0);
    assert.equal(stored.parent_id, category.id);
    assert.equal(fake.channels.get(category.id)?.type, 4);
    assert.deepEqual(
      stored.permission_overwrites.map((o) => [o.id, o.type, o.allow, o.deny]),
      [
        [fake.everyoneRoleId, 0, '0', String(PermissionFlagsBits.ViewChannel)],
        [staffRoleId, 0, String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages), '0'],
        [fake.botUserId, 1, String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages), '0'],
      ],
    );
    assert.equal(fake.permissionsIn(stored, playerId) & PermissionFlagsBits.ViewChannel, 0n, 'a player cannot see it');
    assert.ok(fake.permissionsIn(stored, staffId) & PermissionFlagsBits.SendMessages, 'staff can write in it');
    const cached = client.channels.cache.get(ticket.id) as TextChannel;
    assert.equal(cached.parentId, category.id);
    assert.equal(cached.permissionOverwrites.cache.get(staffRoleId)?.allow.has(PermissionFlagsBits.ViewChannel), true);
  });

  test('a private channel that forgets the bot locks the bot out (50001 Missing Access)', async () => {
    const guild = client.guilds.cache.get(fake.guildId)!;
    const hidden = await guild.channels.create({
      name: 'no-bot-here',
      parent: category.id,
      permissionOverwrites: [{ id: guild.roles.everyone.id, deny: [PermissionFlagsBits.ViewChannel] }],
    });
    const error = await rejectsWithApiError(hidden.send('hello?'));
    assert.equal(error.code, 50001);
    assert.equal(error.status, 403);
    await hidden.delete().catch(() => undefined); // the bot cannot even delete it
    assert.ok(fake.channels.has(hidden.id));
    fake.adminDeleteChannel(hidden.id);
    await fake.waitFor(() => !client.channels.cache.has(hidden.id), 2000, 'CHANNEL_DELETE in the cache');
  });

  test('channel.send records allowed_mentions, and parse: [] really stops the pings', async () => {
    const quiet = await ticket.send({ content: `from game: <@${staffId}> @everyone`, allowedMentions: { parse: [] } });
    const stored = fake.messages.find((m) => m.id === quiet.id);
    assert.ok(stored);
    assert.equal(stored.content, `from game: <@${staffId}> @everyone`);
    assert.equal(stored.channel_id, ticket.id);
    assert.equal(stored.author.id, fake.botUserId);
    assert.deepEqual(stored.allowed_mentions, { parse: [] });
    assert.deepEqual(stored.mentions, []);
    assert.equal(stored.mention_everyone, false);

    const loud = await ticket.send(`hey <@${staffId}> @everyone`);
    const loudStored = fake.messages.find((m) => m.id === loud.id)!;
    assert.equal(loudStored.allowed_mentions, undefined);
    assert.deepEqual(loudStored.mentions, [staffId], 'without allowed_mentions the user is pinged');
    assert.equal(loudStored.mention_everyone, true, 'and so is everyone');
  });

  test('a 2001-character message is refused with Discord\'s 50035 and not stored', async () => {
    const before = fake.messages.length;
    const error = await rejectsWithApiError(ticket.send('x'.repeat(2001)));
    assert.equal(error.status, 400);
    assert.equal(error.code, 50035);
    assert.match(error.message, /Must be 2000 or fewer in length/);
    assert.equal(fake.messages.length, before);
    await ticket.send('x'.repeat(2000)); // the limit itself is fine
    assert.equal(fake.messages.length, before + 1);
  });

  test('userSays arrives as messageCreate with content, author and member roles', async () => {
    const received = waitForEvent(client, Events.MessageCreate, (m) => m.author.id === staffId);
    const said = fake.userSays(ticket.id, { userId: staffId, content: 'Looking into it now' });
    const [message] = await received;
    assert.equal(message.id, said.id);
    assert.equal(message.content, 'Looking into it now');
    assert.equal(message.channelId, ticket.id);
    assert.equal(message.author.username, 'staffer');
    assert.equal(message.author.bot, false);
    assert.ok(message.member?.roles.cache.has(staffRoleId), 'member with roles, as Discord sends it');
    assert.throws(() => fake.userSays(ticket.id, { userId: playerId, content: 'let me in' }), /cannot send messages/);
  });

  test('the bot also receives its own messages over the gateway', async () => {
    const own = waitForEvent(client, Events.MessageCreate, (m) => m.content === 'echo check');
    const sent = await ticket.send('echo check');
    const [message] = await own;
    assert.equal(message.id, sent.id);
    assert.equal(message.author.id, client.user!.id);
  });

  test('a 429 from Discord is waited out and retried by discord.js; the message arrives once', async () => {
    fake.failNext('POST', `/channels/${ticket.id}/messages`, { status: 429, retryAfter: 0.3 });
    const started = Date.now();
    const sent = await ticket.send('after the rate limit');
    const waited = Date.now() - started;
    assert.ok(waited >= 300, `discord.js retried after ${waited} ms, before retry_after`);
    const attempts = fake.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${ticket.id}/messages` && r.at >= started);
    assert.deepEqual(attempts.map((r) => r.status), [429, 200]);
    assert.equal(fake.messages.filter((m) => m.content === 'after the rate limit').length, 1);
    assert.equal(fake.messages.find((m) => m.id === sent.id)?.content, 'after the rate limit');
    assert.equal(fake.rateLimited.at(-1)?.retryAfter, 0.3);
  });

  test('holdRest leaves REST calls unanswered until releaseRest, then carries them out', async () => {
    fake.holdRest();
    let answered = false;
    const sending = ticket.send('held back').then((message) => {
      answered = true;
      return message;
    });
    const started = Date.now();
    while (!fake.requests.some((r) => r.method === 'POST' && r.path === `/channels/${ticket.id}/messages` && r.at >= started)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(answered, false);
    assert.ok(!fake.messages.some((m) => m.content === 'held back'));
    fake.releaseRest();
    const sent = await sending;
    assert.equal(fake.messages.find((m) => m.id === sent.id)?.content, 'held back');
  });

  test('a 500 is retried up to 3 times, then surfaces as an HTTPError', async () => {
    fake.failNext('POST', `/channels/${ticket.id}/messages`, { status: 500, count: 2 });
    await ticket.send('survives two 500s');
    assert.ok(fake.messagesIn(ticket.id).some((m) => m.content === 'survives two 500s'));
    fake.failNext('POST', `/channels/${ticket.id}/messages`, { status: 502, count: 4 });
    await assert.rejects(ticket.send('lost'), (error: Error) => error.name === 'HTTPError' || /502|Bad Gateway|Internal/.test(error.message));
    assert.ok(!fake.messages.some((m) => m.content === 'lost'));
  });

  test('the 51st channel in a category and the 501st in the guild fail with Discord\'s errors', async () => {
    const guild = client.guilds.cache.get(fake.guildId)!;
    const full = await guild.channels.create({ name: 'Full', type: ChannelType.GuildCategory });
    for (let i = 0; i < 50; i++) fake.addChannel({ name: `t-${i}`, parent_id: full.id });
    const error = await rejectsWithApiError(guild.channels.create({ name: 'ticket-51', parent: full.id }));
    assert.equal(error.status, 400);
    assert.equal(error.code, 50035);
    assert.match(error.message, /Maximum number of channels in category reached \(50\)/);
    assert.ok(!fake.channelByName('ticket-51'));

    const filler: string[] = [];
    while (fake.channels.size < 500) filler.push(fake.addChannel({ name: `filler-${filler.length}` }).id);
    const limit = await rejectsWithApiError(guild.channels.create({ name: 'one-too-many' }));
    assert.equal(limit.code, 30013);
    assert.match(limit.message, /Maximum number of guild channels reached \(500\)/);
    for (const id of filler) fake.adminDeleteChannel(id);
    for (const child of [...fake.channels.values()].filter((c) => c.parent_id === full.id)) fake.adminDeleteChannel(child.id);
    fake.adminDeleteChannel(full.id);
  });

  test('deleting a channel removes it from Discord and from the client cache', async () => {
    const guild = client.guilds.cache.get(fake.guildId)!;
    const doomed = await guild.channels.create({ name: 'ticket-doomed', parent: category.id });
    const deleted = waitForEvent(client, Events.ChannelDelete, (c) => c.id === doomed.id);
    await doomed.delete('ticket closed');
    await deleted;
    assert.ok(!fake.channels.has(doomed.id));
    assert.ok(fake.deletedChannels.some((c) => c.id === doomed.id));
    assert.ok(!client.channels.cache.has(doomed.id));
    assert.equal(fake.requests.find((r) => r.method === 'DELETE' && r.path === `/channels/${doomed.id}`)?.auditLogReason, 'ticket closed');
    await assert.rejects(client.channels.fetch(doomed.id), (error: unknown) => error instanceof DiscordAPIError && error.code === 10003);
  });

  test('renaming a channel a third time in 10 minutes hits the long rename rate limit', async () => {
    const guild = client.guilds.cache.get(fake.guildId)!;
    const renamed = await guild.channels.create({ name: 'ticket-rename', parent: category.id });
    const strict = new REST({ api: fake.apiUrl, rejectOnRateLimit: () => true }).setToken(fake.token);
    await renamed.setName('claimed-rename');
    await renamed.setName('closed-rename');
    // discord.js would silently wait ~10 minutes here; rejectOnRateLimit turns that into an error.
    await assert.rejects(
      strict.patch(`/channels/${renamed.id}`, { body: { name: 'again' } }),
      (error: unknown) => error instanceof RateLimitError && error.retryAfter > 500_000 && !error.global,
    );
    assert.ok(fake.rateLimited.some((r) => r.path === `/channels/${renamed.id}` && r.retryAfter > 500));
    assert.equal(fake.channels.get(renamed.id)?.name, 'closed-rename');
  });

  test('after disconnectGateway() the client resumes, gets the events it missed, and keeps receiving', async () => {
    const resumed = waitForEvent(client, Events.ShardResume);
    assert.equal(fake.disconnectGateway(), 1);
    await fake.waitFor(() => !fake.gatewayConnected, 1000, 'the drop');
    const missed = fake.userSays(ticket.id, { userId: staffId, content: 'said while the bot was away' });
    const replayed = waitForEvent(client, Events.MessageCreate, (m) => m.id === missed.id);
    await resumed;
    await replayed;
    assert.equal(fake.gateway.resumes, 1);
    assert.equal(fake.gateway.identifies, 1, 'resumed, not re-identified');

    const after = waitForEvent(client, Events.MessageCreate, (m) => m.content === 'still there?');
    fake.userSays(ticket.id, { userId: staffId, content: 'still there?' });
    const [message] = await after;
    assert.equal(message.author.id, staffId);
  });

  test('an outage (gateway refusing connections) is survived; a normal close makes it re-identify', async () => {
    fake.setGatewayAvailable(false);
    fake.disconnectGateway();
    // Two reconnects refused (discord.js retries about every 0.5 s): the client lived through them.
    await fake.waitFor(() => fake.gateway.refused >= 2, 5000, 'two refused reconnects');
    assert.equal(fake.gatewayConnected, false);
    const resumed = waitForEvent(client, Events.ShardResume, () => true, 5000);
    fake.setGatewayAvailable(true);
    await resumed;
    assert.equal(fake.gateway.resumes, 2);

    // discord.js spaces IDENTIFYs 5 s apart (+ up to 1.5 s jitter), so a re-identify can take that long.
    const ready = waitForEvent(client, Events.ShardReady, () => true, 10_000);
    fake.disconnectGateway({ code: 1000 });
    await ready;
    assert.equal(fake.gateway.identifies, 2);
    const after = waitForEvent(client, Events.MessageCreate, (m) => m.content === 'back after re-identify');
    fake.userSays(ticket.id, { userId: staffId, content: 'back after re-identify' });
    await after;
  });

  test('slash commands: registration, options, reply, and the 3-second window', async () => {
    await client.application!.commands.set(
      [
        {
          name: 'close',
          description: 'Close this ticket',
          options: [{ type: 3, name: 'reason', description: 'Why', required: false }],
        },
        {
          name: 'settings',
          description: 'Ticket settings',
          options: [{ type: 1, name: 'close_on_logout', description: 'Toggle', options: [{ type: 5, name: 'enabled', description: 'On?', required: true }] }],
        },
      ],
      fake.guildId,
    );
    assert.deepEqual(fake.commands.map((c) => c.name).sort(), ['close', 'settings']);
    assert.ok(fake.commands.every((c) => c.guild_id === fake.guildId));
    assert.throws(() => fake.slashCommand({ channelId: ticket.id, userId: staffId, command: 'status' }), /not registered/);

    const handled = new Promise<{ reason: string | null; sub: string | null; enabled: boolean | null }>((resolve) => {
      const listener = (interaction: ClientEvents['interactionCreate'][0]): void => {
        if (!interaction.isChatInputCommand()) return;
        client.off(Events.InteractionCreate, listener);
        void interaction.reply({ content: `Closing: ${interaction.options.getString('reason') ?? '-'}`, flags: MessageFlags.Ephemeral });
        resolve({ reason: interaction.options.getString('reason'), sub: null, enabled: null });
      };
      client.on(Events.InteractionCreate, listener);
    });
    const close = fake.slashCommand({ channelId: ticket.id, userId: staffId, command: 'close', options: { reason: 'solved' } });
    assert.equal((await handled).reason, 'solved');
    const response = await fake.waitFor(() => close.responses[0], 2000, 'the reply');
    assert.equal(response.type, 4);
    assert.equal(response.data.content, 'Closing: solved');
    const replyMessage = fake.messages.find((m) => m.id === response.messageId);
    assert.equal(replyMessage?.flags, MessageFlags.Ephemeral);

    const subcommand = new Promise<boolean | null>((resolve) => {
      client.once(Events.InteractionCreate, (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        resolve(interaction.options.getSubcommand() === 'close_on_logout' ? interaction.options.getBoolean('enabled') : null);
        void interaction.deferReply().then(() => interaction.editReply('Saved'));
      });
    });
    const settings = fake.slashCommand({ channelId: ticket.id, userId: staffId, command: 'settings close_on_logout', options: { enabled: false } });
    assert.equal(await subcommand, false);
    await fake.waitFor(() => settings.responses.some((r) => r.kind === 'edit'), 2000, 'editReply');
    assert.deepEqual(settings.responses.map((r) => [r.kind, r.type]), [['callback', 5], ['edit', undefined]]);
    assert.equal(fake.messages.find((m) => m.id === settings.originalMessageId)?.content, 'Saved');

    fake.interactionResponseTimeoutMs = 50;
    const lateError = new Promise<unknown>((resolve) => {
      client.once(Events.InteractionCreate, (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        // Not a wait for something: this is the slow bot under test, answering after the
        // 50 ms response window set above has closed.
        setTimeout(() => {
          interaction.reply('too late').then(() => resolve(null), resolve);
        }, 150);
      });
    });
    fake.slashCommand({ channelId: ticket.id, userId: staffId, command: 'close' });
    const late = await lateError;
    fake.interactionResponseTimeoutMs = 3000;
    assert.ok(late instanceof DiscordAPIError && late.code === 10062, `expected Unknown interaction, got ${String(late)}`);
  });

  test('without the MessageContent intent, other users\' messages arrive with empty content', async () => {
    const blind = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages], rest: { api: fake.apiUrl } });
    const ready = waitForEvent(blind, Events.ClientReady);
    await blind.login(fake.token);
    await ready;
    const received = waitForEvent(blind, Events.MessageCreate, (m) => m.author.id === staffId);
    fake.userSays(ticket.id, { userId: staffId, content: 'secret words' });
    const [message] = await received;
    assert.equal(message.content, '');
    await blind.destroy();
  });

  test('member overwrites for users discord.js has not cached need an explicit type', async () => {
    const guild = client.guilds.cache.get(fake.guildId)!;
    await assert.rejects(
      guild.channels.create({ name: 'x', permissionOverwrites: [{ id: playerId, allow: [PermissionFlagsBits.ViewChannel] }] }),
      /cached User or Role/,
    );
    const mine = await guild.channels.create({
      name: 'ticket-player',
      parent: category.id,
      permissionOverwrites: [
        { id: guild.roles.everyone.id, deny: [PermissionFlagsBits.ViewChannel] },
        { id: playerId, type: OverwriteType.Member, allow: [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages] },
        { id: client.user!.id, allow: [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages] },
      ],
    });
    const received = waitForEvent(client, Events.MessageCreate, (m) => m.author.id === playerId);
    fake.userSays(mine.id, { userId: playerId, content: 'my own ticket' });
    assert.equal((await received)[0].content, 'my own ticket');
  });

  test('zlib-stream transport compression works for clients that ask for it', async () => {
    const ws = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
    const inflate = zlib.createInflate();
    const text = new Promise<string>((resolve) => inflate.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
    ws.on('message', (data: Buffer) => inflate.write(data));
    const hello = JSON.parse(await text) as { op: number; d: { heartbeat_interval: number } };
    ws.terminate();
    assert.equal(hello.op, 10);
    assert.equal(hello.d.heartbeat_interval, 41250);
  });
});
