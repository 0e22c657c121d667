// /ticket status <status>: sets one of the ticket statuses (src/tickets/model.ts STATUSES) through
// the ticket domain (src/tickets/service.ts setTicketStatus). Discord offers only those choices,
// but the value is checked again: an interaction can carry anything.
import { isStatus, STATUSES } from '../../tickets/model.js';
import { setTicketStatus } from '../../tickets/service.js';
import { reply, type Subcommand, type TicketCommandCall } from './common.js';

export const ticketStatus: Subcommand<TicketCommandCall> = {
  name: 'status',
  define: (command) =>
    command
      .setDescription('Set the ticket status')
      .addStringOption((o) =>
        o
          .setName('status')
          .setDescription('New status')
          .setRequired(true)
          .addChoices(...STATUSES.map((s) => ({ name: s, value: s }))),
      ),
  async run(interaction, { deps, ticket, actor, context, notify }) {
    const status = interaction.options.getString('status', true);
    if (!isStatus(status)) {
      await reply(interaction, `Status must be one of ${STATUSES.join(', ')}.`, true);
      return;
    }
    setTicketStatus(deps.db, ticket.id, status, actor, { ...context, cause: '/ticket status' }, notify);
    await reply(interaction, `Ticket #${ticket.id} is now ${status}.`);
  },
};
