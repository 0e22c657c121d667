// Slash commands in ticket channels: /ticket close, /ticket status <status>, /ticket claim, and
// for admins /ticket-config close-on-logout <true|false> (seed 002 § Database). One error path:
// an ephemeral answer with a short reference id that is also in the log.
import { randomBytes } from 'node:crypto';
import {
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { setGuildCloseOnLogout } from '../db/guilds.js';
import { ticketByChannelId } from '../db/tickets.js';
import type { Logger } from '../log.js';
import type { Signal } from '../signal.js';
import { claimFromDiscord } from '../tickets/game.js';
import { isStatus, STATUSES } from '../tickets/model.js';
import { closeTicket, setTicketStatus } from '../tickets/service.js';
import { notifyChannelsOf } from '../tickets/notifications.js';
import { isStaffMember } from './staff.js';

export const SLASH_COMMANDS: RESTPostAPIChatInputApplicationCommandsJSONBody[] = [
  new SlashCommandBuilder()
    .setName('ticket')
    .setDescription('Work on this ticket')
    .addSubcommand((c) => c.setName('close').setDescription('Close this ticket (the channel is deleted; the transcript is kept)'))
    .addSubcommand((c) =>
      c
        .setName('status')
        .setDescription('Set the ticket status')
        .addStringOption((o) =>
          o
            .setName('status')
            .setDescription('New status')
            .setRequired(true)
            .addChoices(...STATUSES.map((s) => ({ name: s, value: s }))),
        ),
    )
    .addSubcommand((c) => c.setName('claim').setDescription('Take this ticket (status in_progress)'))
    .toJSON(),
  new SlashCommandBuilder()
    .setName('ticket-config')
    .setDescription('Ticket settings for this server')
    .setDefaultMemberPermissions(PermissionFlagsBits.Administrator)
    .addSubcommand((c) =>
      c
        .setName('close-on-logout')
        .setDescription('Close a ticket and delete its channel when the player logs out')
        .addBooleanOption((o) => o.setName('value').setDescription('true or false').setRequired(true)),
    )
    .toJSON(),
];

export interface CommandDeps {
  db: Db;
  config: Config;
  logger: Logger;
  signals: { discordWork: Signal };
}

async function reply(interaction: ChatInputCommandInteraction, content: string, ephemeral = false): Promise<void> {
  await interaction.reply({ content, allowedMentions: { parse: [] }, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
}

export async function handleInteraction(interaction: ChatInputCommandInteraction, deps: CommandDeps): Promise<void> {
  const { db, config, logger } = deps;
  const member = { id: interaction.user.id, name: interaction.member && 'displayName' in interaction.member ? interaction.member.displayName : interaction.user.username };
  const actor = { id: null, username: member.name, auditName: `discord:${member.name}` };
  try {
    if (interaction.commandName === 'ticket-config') {
      if (!interaction.memberPermissions?.has(PermissionFlagsBits.Administrator)) {
        await reply(interaction, 'Only server administrators can change ticket settings.', true);
        return;
      }
      const value = interaction.options.getBoolean('value', true);
      setGuildCloseOnLogout(db, interaction.guildId ?? config.discord.guildId!, value, config.game.closeOnLogoutDefault);
      await reply(interaction, `Tickets ${value ? 'now close' : 'no longer close'} when the player logs out.`, true);
      return;
    }
    if (interaction.commandName !== 'ticket') return;
    const ticket = ticketByChannelId(db, interaction.channelId);
    // The command is visible to everyone who can write in the channel: only staff may run it.
    if (!isStaffMember(interaction.inCachedGuild() ? interaction.member : null, config.discord.staffRoleIds)) {
      logger.warn({ ticketId: ticket?.id ?? null, memberId: member.id, member: member.name, command: 'ticket' }, 'discord: refused /ticket from a member who is not staff');
      await reply(interaction, 'Only Support staff can use /ticket.', true);
      return;
    }
    if (!ticket) {
      await reply(interaction, 'This is not a ticket channel.', true);
      return;
    }
    const context = { ip: null };
    const notify = notifyChannelsOf(config);
    switch (interaction.options.getSubcommand()) {
      case 'close': {
        closeTicket(db, ticket.id, actor, { ...context, cause: '/ticket close' }, notify);
        await reply(interaction, `Ticket #${ticket.id} is closed. The transcript is kept.`);
        return;
      }
      case 'status': {
        const status = interaction.options.getString('status', true);
        if (!isStatus(status)) {
          await reply(interaction, `Status must be one of ${STATUSES.join(', ')}.`, true);
          return;
        }
        setTicketStatus(db, ticket.id, status, actor, { ...context, cause: '/ticket status' }, notify);
        await reply(interaction, `Ticket #${ticket.id} is now ${status}.`);
        return;
      }
      case 'claim': {
        claimFromDiscord(db, ticket.id, member, notify);
        await reply(interaction, `${member.name} took ticket #${ticket.id}; it is in_progress.`);
        return;
      }
      default:
        await reply(interaction, 'Unknown command.', true);
    }
  } catch (err) {
    const reference = randomBytes(4).toString('hex');
    logger.error({ err, reference, command: interaction.commandName }, 'discord: command failed');
    await reply(interaction, `Something went wrong (reference ${reference}).`, true).catch(() => undefined);
  }
}
