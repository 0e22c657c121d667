// /ticket priority <priority>: sets the priority through the ticket domain
// (src/tickets/service.ts setTicketPriority), the same change as the console's priority menu, with
// the member as its actor. Discord offers only the priorities, but the value is checked again: an
// interaction can carry anything.
import { isPriority, PRIORITIES } from '../../tickets/model.js';
import { setTicketPriority } from '../../tickets/service.js';
import { reply, type Subcommand, type TicketCommandCall } from './common.js';

export const ticketPriority: Subcommand<TicketCommandCall> = {
  name: 'priority',
  define: (command) =>
    command
      .setDescription('Set the ticket priority')
      .addStringOption((o) =>
        o
          .setName('priority')
          .setDescription('New priority')
          .setRequired(true)
          .addChoices(...PRIORITIES.map((p) => ({ name: p, value: p }))),
      ),
  async run(interaction, { deps, ticket, actor, context }) {
    const priority = interaction.options.getString('priority', true);
    if (!isPriority(priority)) {
      await reply(interaction, `Priority must be one of ${PRIORITIES.join(', ')}.`);
      return;
    }
    const changed = setTicketPriority(deps.db, ticket.id, priority, actor, context);
    await reply(interaction, changed ? `Ticket #${ticket.id} now has ${priority} priority.` : `Ticket #${ticket.id} already has ${priority} priority.`);
  },
};
