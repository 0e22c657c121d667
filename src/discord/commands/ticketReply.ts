// /ticket reply <snippet>: answer with a saved reply (src/tickets/snippets.ts). The text, filled
// for this ticket and this member, is stored, whispered and notified exactly like a staff message
// in the channel (src/tickets/game.ts receiveDiscordStaffMessage, which follows the ticket's
// source; the interaction's id standing in for the message id), then the bot posts it in the
// channel under the member's name. The bot's own
// post is not relayed again: the relay ignores the bot (src/discord/relay.ts). The answer is
// ephemeral; an unknown name is refused and nothing is stored.
import { ChannelType, MessageFlags, type AutocompleteInteraction, type ChatInputCommandInteraction } from 'discord.js';
import { snippetByName, snippetNamesLike } from '../../db/snippets.js';
import { userById } from '../../db/users.js';
import { receiveDiscordStaffMessage } from '../../tickets/game.js';
import { fillSnippet, SNIPPET_NAME_MAX, snippetValuesFor } from '../../tickets/snippets.js';
import { sendToChannel } from '../channels.js';
import { discordName } from '../format.js';
import { reply, type CommandDeps, type Subcommand, type TicketCommandCall } from './common.js';

/** Discord shows at most 25 autocomplete choices. */
const CHOICES_MAX = 25;

/** Saved replies whose name contains what was typed so far. */
async function suggest(interaction: AutocompleteInteraction, { db }: CommandDeps): Promise<void> {
  const typed = String(interaction.options.getFocused()).trim().slice(0, SNIPPET_NAME_MAX);
  await interaction.respond(snippetNamesLike(db, typed, CHOICES_MAX).map((name) => ({ name, value: name })));
}

/** Posts the stored answer in the ticket channel; a failure is logged and told to the member. */
async function postInChannel(interaction: ChatInputCommandInteraction, { deps, ticket, member }: TicketCommandCall, text: string): Promise<void> {
  const channel = interaction.channel;
  try {
    if (!channel || channel.type !== ChannelType.GuildText) throw new Error('the ticket channel is not a text channel');
    await sendToChannel(channel, `**${discordName(member.name)}** (saved reply): ${text}`, [], interaction.id);
  } catch (err) {
    deps.logger.warn({ ticketId: ticket.id, err }, 'discord: could not post a saved reply in its channel');
    await interaction.followUp({ content: 'The answer was sent to the player, but posting it here failed.', allowedMentions: { parse: [] }, flags: MessageFlags.Ephemeral }).catch(() => undefined);
  }
}

export const ticketReply: Subcommand<TicketCommandCall> = {
  name: 'reply',
  define: (command) =>
    command
      .setDescription('Answer the player with a saved reply')
      .addStringOption((o) => o.setName('snippet').setDescription('The saved reply').setRequired(true).setMaxLength(SNIPPET_NAME_MAX).setAutocomplete(true)),
  autocomplete: suggest,
  async run(interaction, call) {
    const { deps, ticket, member, notify } = call;
    const name = interaction.options.getString('snippet', true);
    const snippet = snippetByName(deps.db, name.trim());
    if (!snippet) {
      await reply(interaction, `There is no saved reply named "${name.slice(0, SNIPPET_NAME_MAX)}".`);
      return;
    }
    const owner = ticket.userId === null ? undefined : userById(deps.db, ticket.userId);
    const text = fillSnippet(snippet.body, snippetValuesFor(ticket, owner?.username, member.name));
    const { config } = deps;
    const stored = receiveDiscordStaffMessage(deps.db, { ticketId: ticket.id, discordMessageId: interaction.id, authorName: member.name, text, whisperMax: config.game.whisperMax, whisperEncoding: config.game.textEncoding, notify });
    if (!stored) {
      await reply(interaction, 'Nothing was sent: this answer was already stored.');
      return;
    }
    await reply(interaction, `Sent the saved reply "${snippet.name}" to the player on ticket #${ticket.id}.`);
    await postInChannel(interaction, call, text);
  },
};
