// The slash commands: their definitions for Discord (SLASH_COMMANDS, registered by
// src/discord/client.ts once ready) and the dispatch of an interaction to its handler, one file
// per subcommand in this folder. Checks that hold for every subcommand come first, here: only
// server administrators change /ticket-config, and only staff (src/discord/staff.ts) run /ticket,
// because the commands are visible to everyone who can write in a channel. One error path: an
// ephemeral answer with a short reference id that is also in the log.
import { randomBytes } from 'node:crypto';
import {
  PermissionFlagsBits,
  SlashCommandBuilder,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { ticketByChannelId } from '../../db/tickets.js';
import { notifyChannelsOf } from '../../tickets/notifications.js';
import { isStaffMember } from '../staff.js';
import { reply, type CommandDeps, type CommandMember, type Subcommand, type TicketCommandCall } from './common.js';
import { ticketClaim } from './ticketClaim.js';
import { ticketClose } from './ticketClose.js';
import { ticketConfigCloseOnLogout } from './ticketConfigCloseOnLogout.js';
import { ticketNote } from './ticketNote.js';
import { ticketPriority } from './ticketPriority.js';
import { ticketReply } from './ticketReply.js';
import { ticketStatus } from './ticketStatus.js';
import { ticketTransfer } from './ticketTransfer.js';
import { ticketUnclaim } from './ticketUnclaim.js';

export type { CommandDeps } from './common.js';

const TICKET_SUBCOMMANDS: Subcommand<TicketCommandCall>[] = [ticketClose, ticketStatus, ticketClaim, ticketUnclaim, ticketPriority, ticketTransfer, ticketNote, ticketReply];
const TICKET_CONFIG_SUBCOMMANDS: Subcommand<CommandDeps>[] = [ticketConfigCloseOnLogout];

function withSubcommands<Call>(command: SlashCommandBuilder, subcommands: Subcommand<Call>[]): SlashCommandBuilder {
  for (const subcommand of subcommands) command.addSubcommand((c) => subcommand.define(c.setName(subcommand.name)));
  return command;
}

export const SLASH_COMMANDS: RESTPostAPIChatInputApplicationCommandsJSONBody[] = [
  withSubcommands(new SlashCommandBuilder().setName('ticket').setDescription('Work on this ticket'), TICKET_SUBCOMMANDS).toJSON(),
  withSubcommands(
    new SlashCommandBuilder().setName('ticket-config').setDescription('Ticket settings for this server').setDefaultMemberPermissions(PermissionFlagsBits.Administrator),
    TICKET_CONFIG_SUBCOMMANDS,
  ).toJSON(),
];

function subcommandOf<Call>(interaction: ChatInputCommandInteraction | AutocompleteInteraction, subcommands: Subcommand<Call>[]): Subcommand<Call> | undefined {
  const name = interaction.options.getSubcommand();
  return subcommands.find((subcommand) => subcommand.name === name);
}

async function runTicketConfig(interaction: ChatInputCommandInteraction, deps: CommandDeps): Promise<void> {
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.Administrator)) {
    await reply(interaction, 'Only server administrators can change ticket settings.', true);
    return;
  }
  const subcommand = subcommandOf(interaction, TICKET_CONFIG_SUBCOMMANDS);
  if (!subcommand) {
    await reply(interaction, 'Unknown command.', true);
    return;
  }
  await subcommand.run(interaction, deps);
}

async function runTicket(interaction: ChatInputCommandInteraction, deps: CommandDeps, member: CommandMember): Promise<void> {
  const { db, config, logger } = deps;
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
  const notify = notifyChannelsOf(config);
  const subcommand = subcommandOf(interaction, TICKET_SUBCOMMANDS);
  if (!subcommand) {
    await reply(interaction, 'Unknown command.', true);
    return;
  }
  const actor = { id: null, username: member.name, auditName: `discord:${member.name}` };
  await subcommand.run(interaction, { deps, ticket, member, actor, context: { ip: null }, notify });
}

export async function handleInteraction(interaction: ChatInputCommandInteraction, deps: CommandDeps): Promise<void> {
  const member = { id: interaction.user.id, name: interaction.member && 'displayName' in interaction.member ? interaction.member.displayName : interaction.user.username };
  try {
    if (interaction.commandName === 'ticket-config') await runTicketConfig(interaction, deps);
    else if (interaction.commandName === 'ticket') await runTicket(interaction, deps, member);
  } catch (err) {
    const reference = randomBytes(4).toString('hex');
    deps.logger.error({ err, reference, command: interaction.commandName }, 'discord: command failed');
    await reply(interaction, `Something went wrong (reference ${reference}).`, true).catch(() => undefined);
  }
}

/**
 * A member typing an option marked autocomplete (/ticket reply <snippet>): the subcommand's
 * choices, for staff only (others get none). A failure is logged; Discord then shows no choices.
 */
export async function handleAutocomplete(interaction: AutocompleteInteraction, deps: CommandDeps): Promise<void> {
  try {
    const subcommand = interaction.commandName === 'ticket' ? subcommandOf(interaction, TICKET_SUBCOMMANDS) : undefined;
    const staff = isStaffMember(interaction.inCachedGuild() ? interaction.member : null, deps.config.discord.staffRoleIds);
    if (staff && subcommand?.autocomplete) await subcommand.autocomplete(interaction, deps);
    else await interaction.respond([]);
  } catch (err) {
    deps.logger.warn({ err, command: interaction.commandName }, 'discord: autocomplete failed');
  }
}
