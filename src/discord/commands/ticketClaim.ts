// /ticket claim: the member takes the ticket (stored as its Discord assignee) and it is in
// progress (src/tickets/game.ts claimFromDiscord). The answer is ephemeral like every command's:
// the other staff see who has it in the status line the transition writes and on the console.
import { claimFromDiscord } from '../../tickets/game.js';
import { reply, type Subcommand, type TicketCommandCall } from './common.js';

export const ticketClaim: Subcommand<TicketCommandCall> = {
  name: 'claim',
  define: (command) => command.setDescription('Take this ticket (status in_progress)'),
  async run(interaction, { deps, ticket, member, notify }) {
    claimFromDiscord(deps.db, ticket.id, member, notify);
    await reply(interaction, `${member.name} took ticket #${ticket.id}; it is in_progress.`);
  },
};
