// Discord's setup, checked (issue #17): the bot's permissions on the server and in the ticket
// category, every DISCORD_STAFF_ROLE_IDS role, the category and the log channel, the room left for
// channels, and the privileged intent. Each problem is one plain sentence with its fix, for
// /healthz, the log (once per problem, src/discord/bridge.ts), the admin page and
// `npm run cli -- doctor`. Permissions are computed by discord.js from the guild's roles and the
// channels' overwrites as fetched, the way Discord computes them.
import { ChannelType, PermissionFlagsBits, type CategoryChannel, type Client, type Guild, type GuildBasedChannel, type GuildMember } from 'discord.js';
import type { Config } from '../config.js';
import { CHANNELS_PER_CATEGORY, CHANNELS_PER_GUILD } from './channels.js';

/** What the bot needs where ticket channels live, with the names Discord's settings show. */
export const NEEDED_PERMISSIONS: readonly (readonly [bigint, string])[] = [
  [PermissionFlagsBits.ManageChannels, 'Manage Channels'],
  [PermissionFlagsBits.ViewChannel, 'View Channel'],
  [PermissionFlagsBits.SendMessages, 'Send Messages'],
  [PermissionFlagsBits.ReadMessageHistory, 'Read Message History'],
  [PermissionFlagsBits.AttachFiles, 'Attach Files'],
  [PermissionFlagsBits.EmbedLinks, 'Embed Links'],
  [PermissionFlagsBits.AddReactions, 'Add Reactions'],
];

/** What the bot needs in the log channel: read it, post notices and transcripts (a file). */
const LOG_CHANNEL_PERMISSIONS: readonly (readonly [bigint, string])[] = [
  [PermissionFlagsBits.ViewChannel, 'View Channel'],
  [PermissionFlagsBits.SendMessages, 'Send Messages'],
  [PermissionFlagsBits.AttachFiles, 'Attach Files'],
];

/** The gateway closed with 4014: a privileged intent the bot asks for is off in the developer portal. */
export const DISALLOWED_INTENTS_CLOSE = 4014;

export const MESSAGE_CONTENT_PROBLEM =
  'Discord refused the bot because the Message Content intent is off: turn on Message Content in the developer portal (Applications → your bot → Bot → Privileged Gateway Intents) and restart ticketbridge.';

/** A login failure as the sentence an admin can act on (the token, the intent, or Discord unreachable). */
export function loginProblem(error: string, closeCode?: number): string {
  if (closeCode === DISALLOWED_INTENTS_CLOSE || /disallowed intent/i.test(error)) return MESSAGE_CONTENT_PROBLEM;
  if (/invalid token|TokenInvalid|Authentication failed|401/i.test(error))
    return 'Discord refused the bot token: copy the token from the developer portal (Bot → Reset Token) into DISCORD_TOKEN and restart ticketbridge.';
  return `The bot cannot connect to Discord (${error}): check the server's network and DISCORD_API_URL, or Discord's status page.`;
}

export interface DiscordSetupReport {
  problems: string[];
  /** Channels the guild can still take (Discord's limit is 500), and the ticket category's room. */
  room?: { guild: number; category?: { name: string; left: number } };
}

function listed(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

function missing(has: bigint, needed: readonly (readonly [bigint, string])[]): string[] {
  return needed.filter(([flag]) => (has & flag) !== flag).map(([, name]) => name);
}

/** The bot's own role, as Server Settings → Roles names it (a managed role tagged with the bot). */
function botRoleName(me: GuildMember): string {
  const own = me.roles.cache.find((r) => r.tags?.botId === me.id);
  return own ? `"${own.name}"` : 'the bot\'s role';
}

/** Without DISCORD_TICKET_CATEGORY_ID, the first "Tickets" category the bridge made (none yet: nothing to check). */
function ticketCategory(g: Guild): CategoryChannel | undefined {
  const categories = [...g.channels.cache.values()].filter((c): c is CategoryChannel => c.type === ChannelType.GuildCategory);
  return categories.find((c) => /^tickets( \d+)?$/i.test(c.name));
}

/**
 * Checks the guild's setup. With `fetch`, roles, channels and the bot's member are fetched first
 * (at start, after a reconnect, on demand); without it the gateway-kept cache is read.
 */
export async function checkDiscordSetup(client: Client, config: Config, options: { fetch?: boolean } = {}): Promise<DiscordSetupReport> {
  const guildId = config.discord.guildId!;
  let g: Guild;
  try {
    g = client.guilds.cache.get(guildId) ?? (await client.guilds.fetch(guildId));
  } catch {
    return {
      problems: [
        `The bot is not on the server ${guildId} (DISCORD_GUILD_ID): invite it with the OAuth2 URL Generator (scopes bot and applications.commands) in the developer portal, or correct DISCORD_GUILD_ID and restart.`,
      ],
    };
  }
  if (options.fetch) {
    await g.roles.fetch();
    await g.channels.fetch();
  }
  const me = options.fetch ? await g.members.fetchMe() : (g.members.me ?? (await g.members.fetchMe()));
  const problems: string[] = [];
  const role = botRoleName(me);
  const server = `"${g.name}"`;

  const onServer = missing(me.permissions.bitfield, NEEDED_PERMISSIONS);
  if (onServer.length > 0) problems.push(`The bot lacks ${listed(onServer)} on the server ${server}: give its role ${role} ${onServer.length > 1 ? 'these permissions' : 'this permission'} in Server Settings → Roles.`);

  for (const id of config.discord.staffRoleIds) {
    if (!g.roles.cache.has(id)) problems.push(`The staff role ${id} in DISCORD_STAFF_ROLE_IDS does not exist on the server ${server}: copy the right role's id (Developer Mode on, right-click the role → Copy Role ID) into DISCORD_STAFF_ROLE_IDS and restart.`);
  }

  const configuredCategory = config.discord.ticketCategoryId;
  let category: CategoryChannel | undefined;
  if (configuredCategory) {
    const channel = g.channels.cache.get(configuredCategory);
    if (!channel) problems.push(`The ticket category ${configuredCategory} (DISCORD_TICKET_CATEGORY_ID) does not exist on the server ${server}: copy the right category's id into DISCORD_TICKET_CATEGORY_ID, or leave it empty to let the bot make "Tickets", and restart.`);
    else if (channel.type !== ChannelType.GuildCategory) problems.push(`DISCORD_TICKET_CATEGORY_ID names "${channel.name}", which is not a category: copy a category's id into DISCORD_TICKET_CATEGORY_ID and restart.`);
    else category = channel;
  } else {
    category = ticketCategory(g);
  }
  const children = (parent: CategoryChannel) => g.channels.cache.filter((c) => c.parentId === parent.id).size;
  if (category) {
    // What the server's roles already lack is said once above; here what the category takes away.
    const inCategory = missing(category.permissionsFor(me).bitfield, NEEDED_PERMISSIONS).filter((name) => !onServer.includes(name));
    if (inCategory.length > 0)
      problems.push(
        `The bot lacks ${listed(inCategory)} in the ticket category "${category.name}": allow ${inCategory.length > 1 ? 'them' : 'it'} for its role ${role} in the category's permissions (Edit Category → Permissions).`,
      );
    const held = children(category);
    if (held >= CHANNELS_PER_CATEGORY)
      problems.push(`The ticket category "${category.name}" is full (${held} channels, Discord's limit is ${CHANNELS_PER_CATEGORY}): delete closed ticket channels there; meanwhile new tickets go to another "Tickets" category.`);
  }

  const logChannelId = config.discord.logChannelId;
  if (logChannelId) {
    const log: GuildBasedChannel | undefined = g.channels.cache.get(logChannelId);
    if (!log) problems.push(`The log channel ${logChannelId} (DISCORD_LOG_CHANNEL_ID) does not exist on the server ${server}: copy the right channel's id (right-click the channel → Copy Channel ID) into DISCORD_LOG_CHANNEL_ID and restart.`);
    else if (log.type !== ChannelType.GuildText) problems.push(`DISCORD_LOG_CHANNEL_ID names "${log.name}", which is not a text channel: copy a text channel's id into DISCORD_LOG_CHANNEL_ID and restart.`);
    else {
      const cannot = missing(log.permissionsFor(me).bitfield, LOG_CHANNEL_PERMISSIONS);
      if (cannot.length > 0) problems.push(`The bot cannot post in the log channel #${log.name} (it lacks ${listed(cannot)}): allow ${cannot.length > 1 ? 'them' : 'it'} for its role ${role} in the channel's permissions (Edit Channel → Permissions).`);
    }
  }

  const guildRoom = CHANNELS_PER_GUILD - g.channels.cache.size;
  if (guildRoom <= 0) problems.push(`The server ${server} has ${g.channels.cache.size} channels, Discord's limit: no new ticket can get a channel until you delete old channels.`);
  return {
    problems,
    room: { guild: Math.max(0, guildRoom), ...(category ? { category: { name: category.name, left: Math.max(0, CHANNELS_PER_CATEGORY - children(category)) } } : {}) },
  };
}
