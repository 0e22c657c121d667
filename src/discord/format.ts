// Player text on its way into a ticket channel. Staff read a channel as a conversation, so a
// player's words must not be able to pass for anything else: a staff answer, a bot line, a header,
// a masked link. The bot writes the player's name itself; what the player wrote follows as a
// block quote, every line prefixed `> ` and its markdown escaped, so it renders as typed.
import { escapeMarkdown } from 'discord.js';
import type { DiscordWorkPayload } from '../tickets/discordWork.js';

/** Line breaks Discord honours besides \n (a player's text is split on all of them). */
const LINE_BREAKS = /\r\n|[\n\r\u0085\u2028\u2029]/;
/** Control characters other than tab: invisible in Discord, only good for hiding things. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/**
 * Markdown escaped wherever it is in a line. escapeMarkdown covers bold, italics, underline,
 * strikethrough, spoilers, code and the backslash itself; it leaves masked links to an option that
 * escapes only the first `[` of a line (so `[a](x) [b](y)` keeps the second link), and `<@id>`,
 * `<#id>`, `<t:...>` entities render as mentions and dates: every `[` and entity `<` is escaped here.
 */
function escapeInline(text: string): string {
  return escapeMarkdown(text)
    .replaceAll('[', '\\[')
    .replace(/<(?=[@#/:]|a:|t:)/g, '\\<');
}

/**
 * Markdown that only counts at the start of a line: headers `#`, subtext `-#`, lists `-` `+` `*`
 * `1.`, quotes `>` and `>>>`. escapeMarkdown's heading and list options miss `-#`, quotes and
 * indents beyond two spaces, so the first character of the line is escaped here instead.
 */
function escapeLineStart(line: string): string {
  return line.replace(/^(\s*)([#>+-])/, '$1\\$2').replace(/^(\s*\d+)\./, '$1\\.');
}

/** A name for a line the bot writes: one line, markdown escaped (bold around it stays bold). */
export function discordName(name: string): string {
  const line = name.replace(CONTROLS, '').replace(/\s+/gu, ' ').trim();
  return escapeInline(line || 'Player');
}

/** Player text as a block quote: every line `> ` plus the line with its markdown escaped. */
export function quoteForDiscord(text: string): string {
  const lines = text.replace(CONTROLS, '').trim().split(LINE_BREAKS);
  return lines.map((line) => `> ${escapeLineStart(escapeInline(line))}`).join('\n');
}

/**
 * One player message as a Discord post: `**<name>** (in game):` on its own line, then the quote.
 * Self-contained: posts joined with "\n" (src/discord/worker.ts withFollowingPosts) each start
 * with the bot's unquoted name line, which also ends the quote before it.
 */
export function formatPlayerPost(name: string, text: string, via: 'game' | 'web' = 'game'): string {
  return `**${discordName(name)}** (${via === 'game' ? 'in game' : 'on the web'}):\n${quoteForDiscord(text)}`;
}

/** A web message's file on the dashboard (src/web/routes.ts `attachment`: the owner and staff only). */
export function attachmentUrl(appUrl: string, ticketId: number, attachmentId: number): string {
  return `${appUrl}/index.php?view=attachment&ticket=${ticketId}&id=${attachmentId}`;
}

/**
 * The Discord text of a queued post (src/tickets/discordWork.ts): a player's quoted, Support's as
 * written. A web message's files follow as links to the dashboard, never the file itself: one line
 * each, the player's file name escaped, outside the quote so the bot vouches only for the link
 * (the worker always says `where`; without it, as in a unit check of the text, no links).
 */
export function postContent(payload: DiscordWorkPayload<'post_message'>, where?: { appUrl: string; ticketId: number }): string {
  if ('content' in payload) return payload.content;
  const { post } = payload;
  const text = post.from === 'player' ? formatPlayerPost(post.name, post.text, post.via) : `${post.name} (web): ${post.text}`;
  if (!where) return text;
  const files = (post.attachments ?? []).map((a) => `Attachment (staff only, on the dashboard): ${discordName(a.name)} <${attachmentUrl(where.appUrl, where.ticketId, a.id)}>`);
  return [text, ...files].join('\n');
}
