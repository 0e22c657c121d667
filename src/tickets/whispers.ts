// Whispers to a player in game: one line each, at most GAME_WHISPER_MAX characters (the game-server
// API in README.md). Longer answers are split in order, preferably between words.

/** Split `text` into whisper lines of at most `max` characters (code points), in order. */
export function splitWhisper(text: string, max: number): string[] {
  const flat = text.replace(/\s+/gu, ' ').trim();
  const chars = [...flat];
  const parts: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = Math.min(start + max, chars.length);
    if (end < chars.length) {
      // Break at the last space in the second half of the piece, if there is one.
      for (let i = end; i > start + Math.floor(max / 2); i -= 1) {
        if (chars[i] === ' ') {
          end = i;
          break;
        }
      }
    }
    const part = chars.slice(start, end).join('').trim();
    if (part) parts.push(part);
    start = end;
    while (chars[start] === ' ') start += 1;
  }
  return parts;
}
