// What the slash command handlers in this folder share: their dependencies, the shape of a
// subcommand (its definition for Discord next to its handler, so the two cannot drift apart), what
// a /ticket subcommand is handed once src/discord/commands/index.ts has checked the member and the
// channel, and the one way to answer.
import { MessageFlags, type AutocompleteInteraction, type ChatInputCommandInteraction, type SlashCommandSubcommandBuilder } from 'discord.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/index.js';
import type { Ticket } from '../../db/tickets.js';
import type { Logger } from '../../log.js';
import type { Signal } from '../../signal.js';
import type { NotifyChannels } from '../../tickets/notifications.js';
import type { Actor, RequestContext } from '../../tickets/service.js';

export interface CommandDeps {
  db: Db;
  config: Config;
  logger: Logger;
  signals: { discordWork: Signal };
}

/** The member who ran a command: their Discord id and the name the guild shows. */
export interface CommandMember {
  id: string;
  name: string;
}

/** A /ticket subcommand's input: run by staff in a ticket's channel (checked before it is called). */
export interface TicketCommandCall {
  deps: CommandDeps;
  ticket: Ticket;
  member: CommandMember;
  /** The member as the ticket domain names whoever changes a ticket (src/tickets/service.ts Actor). */
  actor: Actor;
  context: RequestContext;
  notify: NotifyChannels;
}

export interface Subcommand<Call> {
  name: string;
  /** Description and options; the registry sets the name. */
  define(command: SlashCommandSubcommandBuilder): SlashCommandSubcommandBuilder;
  run(interaction: ChatInputCommandInteraction, call: Call): Promise<void>;
  /** Choices for an option marked autocomplete while the member types (at most 25). */
  autocomplete?(interaction: AutocompleteInteraction, deps: CommandDeps): Promise<void>;
}

/**
 * Every answer mentions nobody (it can hold names that players and members chose) and is ephemeral:
 * what a command changed is in the conversation as its system line, so the channel does not need
 * the answer too. A third argument once chose ephemeral; callers that still pass `true` compile.
 */
export function reply(interaction: ChatInputCommandInteraction, content: string, ephemeral?: true): Promise<void>;
export async function reply(interaction: ChatInputCommandInteraction, content: string): Promise<void> {
  await interaction.reply({ content, allowedMentions: { parse: [] }, flags: MessageFlags.Ephemeral });
}
