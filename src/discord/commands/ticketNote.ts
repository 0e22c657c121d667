// /ticket note <text>: an internal note from Discord, like a message starting with
// DISCORD_NOTE_PREFIX (src/discord/relay.ts): stored for staff only, never whispered, notified or
// shown to the player (src/tickets/game.ts addDiscordNote). The answer is ephemeral.
import { addDiscordNote } from '../../tickets/game.js';
import { reply, type Subcommand, type TicketCommandCall } from './common.js';

export const ticketNote: Subcommand<TicketCommandCall> = {
  name: 'note',
  define: (command) =>
    command
      .setDescription('Add an internal note (staff only; never sent to the player)')
      .addStringOption((o) => o.setName('text').setDescription('The note').setRequired(true).setMaxLength(2000)),
  async run(interaction, { deps, ticket, member }) {
    const text = interaction.options.getString('text', true);
    // The interaction's id is unique like a message's: a repeated delivery stores one note.
    const stored = addDiscordNote(deps.db, { ticketId: ticket.id, discordId: interaction.id, authorName: member.name, text });
    await reply(interaction, stored ? `Note added to ticket #${ticket.id} (staff only).` : 'The note is empty.', true);
  },
};
