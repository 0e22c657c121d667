// /ticket close: closes the ticket through the ticket domain (src/tickets/service.ts closeTicket),
// like the web's close button. Its transition (src/tickets/transition.ts) queues the channel's
// deletion, which posts the transcript first (src/discord/transcripts.ts). The answer is
// ephemeral like every command's: the close is the conversation's last system line.
import { closeTicket } from '../../tickets/service.js';
import { reply, type Subcommand, type TicketCommandCall } from './common.js';

export const ticketClose: Subcommand<TicketCommandCall> = {
  name: 'close',
  define: (command) => command.setDescription('Close this ticket (the channel is deleted; the transcript is kept)'),
  async run(interaction, { deps, ticket, actor, context, notify }) {
    closeTicket(deps.db, ticket.id, actor, { ...context, cause: '/ticket close' }, notify);
    await reply(interaction, `Ticket #${ticket.id} is closed. The transcript is kept.`);
  },
};
