// /ticket transfer <member>: the ticket's Discord claim moves to another member
// (src/tickets/discordClaims.ts transferFromDiscord writes the line and the audit row). Only staff
// (src/discord/staff.ts) can hold a ticket: Discord's member picker offers everyone in the guild.
import type { GuildMember } from 'discord.js';
import { transferFromDiscord } from '../../tickets/discordClaims.js';
import { isStaffMember } from '../staff.js';
import { reply, type Subcommand, type TicketCommandCall } from './common.js';

export const ticketTransfer: Subcommand<TicketCommandCall> = {
  name: 'transfer',
  define: (command) =>
    command
      .setDescription('Give this ticket to another staff member')
      .addUserOption((o) => o.setName('member').setDescription('The staff member who takes it').setRequired(true)),
  async run(interaction, { deps, ticket, member }) {
    // In a cached guild the resolved member is a GuildMember with its roles (what isStaffMember reads).
    const target: GuildMember | null = interaction.inCachedGuild() ? interaction.options.getMember('member') : null;
    if (!isStaffMember(target, deps.config.discord.staffRoleIds)) {
      await reply(interaction, 'Tickets can only be transferred to Support staff.');
      return;
    }
    const to = { id: target.id, name: target.displayName };
    const changed = transferFromDiscord(deps.db, ticket.id, member, to);
    await reply(interaction, changed ? `Ticket #${ticket.id} is now ${to.name}'s.` : `${to.name} has ticket #${ticket.id} already.`);
  },
};
