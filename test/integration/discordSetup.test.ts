// Issue #17: Discord's setup checks itself. The server process runs against the fake Discord set up
// with each common mistake (the bot's role without permissions, a staff role id that is no role, a
// log channel the bot may not write in, a full ticket category, the Message Content intent off);
// each mistake is one sentence with its fix in /healthz (integrations.discord.problems), said in
// the log once however often the check runs, and gone when the admin fixes it.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PermissionFlagsBits as P } from 'discord.js';
import { MESSAGE_CONTENT_PROBLEM } from '../../src/discord/setup.js';
import { startFakeDiscord, type FakeDiscord } from '../../support/fakes/discord.js';
import { pollUntilAsync } from '../../support/fakes/wait.js';
import { launchServer, type ServerProcess } from '../../support/server.js';
import { tempDir } from '../helpers/app.js';

interface DiscordHealth {
  state: string;
  problems?: string[];
  room?: { guild: number; category?: { name: string; left: number } };
}

const running: { server?: ServerProcess; fake: FakeDiscord }[] = [];
after(async () => {
  for (const { server, fake } of running) {
    await server?.stop().catch(() => undefined);
    await fake.stop().catch(() => undefined);
  }
});

async function discordHealth(url: string): Promise<DiscordHealth> {
  const body = (await (await fetch(`${url}/healthz`)).json()) as { discord: { problems: string[] }; integrations: { discord: DiscordHealth } };
  // The same sentences at the top (`discord.problems`, what a monitor watches) and in the integration's state.
  assert.deepEqual(body.discord.problems, body.integrations.discord.problems ?? []);
  return body.integrations.discord;
}

/** Polls /healthz until `done` holds; the last answer either way. */
async function healthWhen(url: string, done: (h: DiscordHealth) => boolean, what: string): Promise<DiscordHealth> {
  let last: DiscordHealth | undefined;
  await pollUntilAsync(
    async () => {
      last = await discordHealth(url);
      return done(last);
    },
    15_000,
    what,
  ).catch(() => undefined);
  return last!;
}

function start(fake: FakeDiscord, env: Record<string, string>): ServerProcess {
  const server = launchServer({
    cwd: tempDir(),
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', DISCORD_TOKEN: fake.token, DISCORD_GUILD_ID: fake.guildId, DISCORD_API_URL: fake.apiUrl, ...env },
  });
  running.push({ server, fake });
  return server;
}

/** How many log lines say `text`. */
function logged(server: ServerProcess, text: string): number {
  return server
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{') && (JSON.parse(line) as { msg?: string }).msg === text).length;
}

const setupChecks = (server: ServerProcess) => logged(server, 'discord: setup checked');

describe('a correct setup', () => {
  test('has no problems; a staff role deleted later is named, and gone again once DISCORD_STAFF_ROLE_IDS is right', async () => {
    const fake = await startFakeDiscord();
    const staffRole = fake.addStaffRole('Support');
    const category = fake.addChannel({ name: 'Tickets', type: 4 });
    const log = fake.addChannel({ name: 'ticket-log' });
    const server = start(fake, { DISCORD_STAFF_ROLE_IDS: staffRole, DISCORD_TICKET_CATEGORY_ID: category.id, DISCORD_LOG_CHANNEL_ID: log.id });
    const url = await server.url;
    const health = await healthWhen(url, (h) => h.state === 'ready' && h.room !== undefined, 'the first setup check');
    assert.equal(health.state, 'ready');
    assert.deepEqual(health.problems, []);
    assert.deepEqual(health.room, { guild: 500 - fake.channels.size, category: { name: 'Tickets', left: 50 } });

    // An admin deletes the role: the gateway says so, and the check runs again from the cache.
    fake.deleteRole(staffRole);
    const after = await healthWhen(url, (h) => (h.problems ?? []).length > 0, 'the deleted role to be noticed');
    assert.deepEqual(after.problems, [
      `The staff role ${staffRole} in DISCORD_STAFF_ROLE_IDS does not exist on the server "Fake Guild": copy the right role's id (Developer Mode on, right-click the role → Copy Role ID) into DISCORD_STAFF_ROLE_IDS and restart.`,
    ]);
  });
});

describe('the common mistakes, each one sentence with its fix', () => {
  let fake: FakeDiscord;
  let server: ServerProcess;
  let url: string;
  const missingRole = '123456789012345678';
  let problems: string[];

  test('the bot role without Manage Channels, a wrong staff role id, a category that takes a permission away, a full category, an unwritable log channel', async () => {
    // An invite with Manage Channels left unticked (the rest comes from @everyone's defaults).
    fake = await startFakeDiscord({ botPermissions: P.ViewChannel | P.SendMessages | P.ReadMessageHistory | P.ManageRoles | P.UseApplicationCommands });
    const staffRole = fake.addStaffRole('Support');
    const category = fake.addChannel({ name: 'Tickets', type: 4, permission_overwrites: [{ id: fake.botRoleId, type: 0, allow: '0', deny: String(P.AddReactions) }] });
    fake.fillCategory(category.id, 50);
    const log = fake.addChannel({ name: 'ticket-log', permission_overwrites: [{ id: fake.botRoleId, type: 0, allow: '0', deny: String(P.SendMessages) }] });
    server = start(fake, { DISCORD_STAFF_ROLE_IDS: `${staffRole},${missingRole}`, DISCORD_TICKET_CATEGORY_ID: category.id, DISCORD_LOG_CHANNEL_ID: log.id });
    url = await server.url;
    const health = await healthWhen(url, (h) => h.room !== undefined, 'the first setup check');
    problems = health.problems ?? [];
    assert.equal(health.state, 'ready', 'the bot is connected; its setup is what is wrong');
    assert.deepEqual(problems.slice(0, 4), [
      'The bot lacks Manage Channels on the server "Fake Guild": give its role "TicketBridge" this permission in Server Settings → Roles.',
      `The staff role ${missingRole} in DISCORD_STAFF_ROLE_IDS does not exist on the server "Fake Guild": copy the right role's id (Developer Mode on, right-click the role → Copy Role ID) into DISCORD_STAFF_ROLE_IDS and restart.`,
      'The bot lacks Add Reactions in the ticket category "Tickets": allow it for its role "TicketBridge" in the category\'s permissions (Edit Category → Permissions).',
      'The ticket category "Tickets" is full (50 channels, Discord\'s limit is 50): delete closed ticket channels there; meanwhile new tickets go to another "Tickets" category.',
    ]);
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.match(problems[4]!, /^The bot cannot post in the log channel #ticket-log \(it lacks Send Messages[^)]*\): allow (it|them) for its role "TicketBridge" in the channel's permissions \(Edit Channel → Permissions\)\.$/);
    for (const sentence of problems) assert.equal(logged(server, `discord setup: ${sentence}`), 1, sentence);
  });

  test('a reconnect checks again, and the log still says each problem once', async () => {
    const before = setupChecks(server);
    const resumes = fake.gateway.resumes;
    fake.disconnectGateway();
    await fake.waitFor(() => fake.gateway.resumes > resumes, 15_000, 'the bridge to resume');
    await pollUntilAsync(async () => setupChecks(server) > before, 15_000, 'a setup check after the resume');
    assert.deepEqual((await discordHealth(url)).problems, problems);
    for (const sentence of problems) assert.equal(logged(server, `discord setup: ${sentence}`), 1, sentence);
  });

  test('the admin gives the role its permissions: that problem goes, said once as fixed', async () => {
    fake.setRolePermissions(fake.botRoleId, P.ViewChannel | P.SendMessages | P.ReadMessageHistory | P.ManageRoles | P.UseApplicationCommands | P.ManageChannels);
    const health = await healthWhen(url, (h) => (h.problems ?? []).length === 4, 'the role fix to be noticed');
    assert.deepEqual(health.problems, problems.slice(1));
    assert.equal(logged(server, 'discord setup: fixed'), 1);
  });
});

describe('the Message Content intent off in the developer portal', () => {
  test('the gateway closes with 4014: named as the intent to turn on, state down, said once', async () => {
    const fake = await startFakeDiscord({ privilegedIntents: { messageContent: false } });
    const server = start(fake, {});
    const url = await server.url;
    const health = await healthWhen(url, (h) => h.state === 'down', 'the refused login');
    assert.equal(health.state, 'down');
    assert.deepEqual(health.problems, [MESSAGE_CONTENT_PROBLEM]);
    assert.match(MESSAGE_CONTENT_PROBLEM, /turn on Message Content in the developer portal/);
    assert.equal(logged(server, `discord setup: ${MESSAGE_CONTENT_PROBLEM}`), 1);
  });
});

describe('on demand', () => {
  test('checkSetup() reads roles and channels afresh: a change the gateway never announced is found', async () => {
    const { startBridged } = await import('../helpers/bridge.js');
    const setup = await startBridged();
    try {
      await pollUntilAsync(async () => setup.bridge.state().room !== undefined, 10_000, 'the first setup check');
      assert.deepEqual(setup.bridge.state().problems, []);
      // Edited behind the gateway's back (no CHANNEL_UPDATE): only a fresh fetch sees it.
      setup.fake.channels.get(setup.logChannelId)!.permission_overwrites = [{ id: setup.fake.botRoleId, type: 0, allow: '0', deny: String(P.ViewChannel) }];
      const problems = await setup.bridge.checkSetup();
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, /^The bot cannot post in the log channel #ticket-log \(it lacks View Channel/);
      assert.deepEqual(setup.bridge.state().problems, problems);
      assert.equal(setup.logs.filter((line) => line.msg === `discord setup: ${problems[0]}`).length, 1);
    } finally {
      await setup.close();
    }
  });
});
