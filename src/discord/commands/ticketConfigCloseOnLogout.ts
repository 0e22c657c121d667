// /ticket-config close-on-logout <true|false>: whether a ticket closes (and its channel goes) when
// the player logs out of the game, stored per guild (src/db/guilds.ts). Only administrators reach
// it (src/discord/commands/index.ts checks before any /ticket-config subcommand).
import { setGuildCloseOnLogout } from '../../db/guilds.js';
import { reply, type CommandDeps, type Subcommand } from './common.js';

export const ticketConfigCloseOnLogout: Subcommand<CommandDeps> = {
  name: 'close-on-logout',
  define: (command) =>
    command
      .setDescription('Close a ticket and delete its channel when the player logs out')
      .addBooleanOption((o) => o.setName('value').setDescription('true or false').setRequired(true)),
  async run(interaction, { db, config }) {
    const value = interaction.options.getBoolean('value', true);
    setGuildCloseOnLogout(db, interaction.guildId ?? config.discord.guildId!, value, config.game.closeOnLogoutDefault);
    await reply(interaction, `Tickets ${value ? 'now close' : 'no longer close'} when the player logs out.`, true);
  },
};
