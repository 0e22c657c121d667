// Seed 002 § Tips: "Ticket channels are named ticket-{name} in lowercase. Special characters in
// player names are handled automatically." Discord text channel names are lowercase, without
// spaces, at most 100 characters (https://discord.com/developers/docs/resources/channel).

const MAX_CHANNEL_NAME = 100;

/** `ticket-<name>`: lowercase, spaces to `-`, only letters, digits, `-` and `_`, 100 chars max. */
export function channelNameForPlayer(name: string, charId: number): string {
  const slug = name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/gu, '-')
    .replace(/[^\p{L}\p{M}\p{N}_-]/gu, '')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  const base = slug ? `ticket-${slug}` : `ticket-${charId}`;
  return [...base].slice(0, MAX_CHANNEL_NAME).join('').replace(/-+$/, '');
}

/** Discord message limit: 2000 characters. Split on line breaks or spaces where possible. */
export function splitForDiscord(text: string, max = 2000): string[] {
  const parts: string[] = [];
  let rest = text;
  while ([...rest].length > max) {
    const chars = [...rest];
    let cut = max;
    const window = chars.slice(0, max).join('');
    const lastBreak = Math.max(window.lastIndexOf('\n'), window.lastIndexOf(' '));
    if (lastBreak > max / 2) cut = [...window.slice(0, lastBreak)].length;
    parts.push(chars.slice(0, cut).join(''));
    rest = chars.slice(cut).join('').replace(/^[\n ]/, '');
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

/**
 * A Discord message as a whisper line: user, role and channel mentions are already plain text
 * (discord.js cleanContent); custom emoji <:name:id> become :name:; attachments are listed by
 * file name and URL.
 */
export function whisperTextFromDiscord(cleanContent: string, attachments: { name: string; url: string }[]): string {
  const text = cleanContent.replace(/<a?:(\w+):\d+>/g, ':$1:').trim();
  const files = attachments.map((a) => `${a.name} (${a.url})`).join(' ');
  return [text, files].filter(Boolean).join(' ');
}
