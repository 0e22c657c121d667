// Whispers to a player in game (the game-server API in README.md). A Ragnarok client shows one
// line per whisper, in the server's legacy code page (GAME_TEXT_ENCODING: cp1252, cp1251, cp874,
// gbk, ...), and a chat line holds at most 255 bytes with its terminating NUL. So an answer is made
// representable in that code page first (what it cannot carry becomes a readable stand-in, never a
// broken byte sequence), then split into lines of at most GAME_WHISPER_MAX bytes, in order, never
// inside a character and preferably between words.
import iconv from 'iconv-lite';

const UTF8 = new Set(['utf-8', 'utf8']);
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** The bytes the game server sends for `text` (already representable). */
export function encodeGameText(text: string, encoding: string): Buffer {
  return iconv.encode(text, encoding);
}

const carried = new Map<string, Map<string, boolean>>();

/** Whether `encoding` carries `ch` both ways (a character it lacks comes back as `?`). */
function canCarry(ch: string, encoding: string): boolean {
  let known = carried.get(encoding);
  if (!known) carried.set(encoding, (known = new Map()));
  let ok = known.get(ch);
  if (ok === undefined) {
    ok = iconv.decode(iconv.encode(ch, encoding), encoding) === ch;
    if (known.size < 10_000) known.set(ch, ok);
  }
  return ok;
}

/** Emoji and their joiners, skin tones, variation selectors and flag letters: dropped where they cannot be shown. */
const EMOJI_PART = /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|\u200d|\ufe0f|\u20e3)$/u;

/**
 * `text` with only what `encoding` can carry: each other character becomes its base letter when
 * that exists there (é -> e), nothing when it is part of an emoji (Discord's custom emoji already
 * read `:name:`), else `?`. UTF-8 carries everything.
 */
export function representable(text: string, encoding: string): string {
  if (UTF8.has(encoding.toLowerCase())) return text;
  let out = '';
  for (const ch of text) {
    if (canCarry(ch, encoding)) out += ch;
    else if (EMOJI_PART.test(ch)) continue;
    else {
      const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
      out += base !== '' && base !== ch && [...base].every((c) => canCarry(c, encoding)) ? base : '?';
    }
  }
  return out;
}

/**
 * `text` as whisper lines of at most `maxBytes` bytes in `encoding`, in order: whitespace becomes
 * single spaces, a cut never falls inside a character (nor a UTF-8 sequence, nor a double-byte
 * GBK/Big5/Shift_JIS/EUC-KR character, nor between a letter and its accents), and prefers the last
 * space in the second half of a line.
 */
export function splitWhisper(text: string, maxBytes: number, encoding = 'utf-8'): string[] {
  const flat = representable(text.replace(/\s+/gu, ' ').trim(), encoding).replace(/ {2,}/g, ' ').trim();
  // Grapheme clusters, not code points: a letter keeps its accents, an emoji its skin tone.
  const chars = [...graphemes.segment(flat)].map((g) => g.segment);
  const sizes = chars.map((ch) => (ch === ' ' ? 1 : encodeGameText(ch, encoding).length));
  const parts: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = start;
    let bytes = 0;
    while (end < chars.length && bytes + sizes[end]! <= maxBytes) bytes += sizes[end++]!;
    if (end === start) end = start + 1; // a character larger than a line: alone (cannot happen at 20+ bytes)
    if (end < chars.length) {
      // Break at the last space in the second half of the piece, if there is one.
      for (let i = end; i > start + Math.floor((end - start) / 2); i -= 1) {
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
