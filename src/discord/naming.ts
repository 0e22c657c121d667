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

/**
 * Discord message limit: 2000 characters. Split on line breaks or spaces where possible. A block
 * quote ends with its line (src/discord/format.ts quotes player text line by line), so the rest of
 * a quoted line cut in the middle is quoted again, and a cut never separates an escaping backslash
 * from the character it escapes.
 */
export function splitForDiscord(text: string, max = 2000): string[] {
  const parts: string[] = [];
  let rest = text;
  while ([...rest].length > max) {
    const chars = [...rest];
    const window = chars.slice(0, max).join('');
    const lastBreak = softBreak(window);
    const cut = lastBreak > max / 2 ? [...window.slice(0, lastBreak)].length : hardCut(chars, max);
    const head = chars.slice(0, cut).join('');
    const tail = chars.slice(cut).join('');
    parts.push(head);
    rest = tail.replace(/^[\n ]/, '');
    const cutLine = head.slice(head.lastIndexOf('\n') + 1) + tail;
    if (!tail.startsWith('\n') && cutLine.startsWith('> ')) rest = `> ${rest}`;
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

/** The last line break or space in `window`; never the space of a line's own `> ` prefix. */
function softBreak(window: string): number {
  const newline = window.lastIndexOf('\n');
  const space = window.lastIndexOf(' ');
  return space > newline && window.slice(newline + 1, space) !== '>' ? space : newline;
}

/** Where to cut a line without spaces: at `max`, or one earlier if that would split `\\x`. */
function hardCut(chars: string[], max: number): number {
  let backslashes = 0;
  while (chars[max - 1 - backslashes] === '\\') backslashes += 1;
  return backslashes % 2 === 1 ? max - 1 : max;
}
