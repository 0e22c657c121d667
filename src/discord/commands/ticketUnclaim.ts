// /ticket unclaim: the member lets the ticket go; nobody holds it in Discord, and a ticket in
// progress is open again (src/tickets/discordClaims.ts unclaimFromDiscord writes the line and the
// audit row).
import { unclaimFromDiscord } from '../../tickets/discordClaims.js';
import { reply, type Subcommand, type TicketCommandCall } from './common.js';

export const ticketUnclaim: Subcommand<TicketCommandCall> = {
  name: 'unclaim',
  define: (command) => command.setDescription('Let this ticket go (an in_progress ticket is open again)'),
  async run(interaction, { deps, ticket, member, notify }) {
    const changed = unclaimFromDiscord(deps.db, ticket.id, member, notify);
    await reply(interaction, changed ? `Ticket #${ticket.id} is no longer claimed.` : `Nobody has claimed ticket #${ticket.id}.`);
  },
};
