// A staff member's Discord message as a whisper line. The relay in src/discord/bridge.ts sends
// what staff write in a ticket channel to a Ragnarok Online client, which shows plain text on one
// line: Discord's markup is taken away and its entities (emoji, mentions, timestamps, links) are
// written out, so the player reads what staff saw rendered. src/tickets/whispers.ts splits the result.
//
// Decisions:
// - Spoilers `||x||` show their text: a whisper cannot hide anything until clicked, and an answer
//   the player cannot read would not help them.
// - Timestamps are absolute dates in the app's time zone (TZ), ISO-like as the rest of the app
//   writes them (src/time.ts formatDateTime): `t` "22:13", `T` "22:13:20", `d`/`D` "2023-11-14",
//   `f`/`F`/`R`/none "2023-11-14 22:13". A relative `R` ("in 2 hours") would be wrong by the time a
//   player who was away reads the whisper. Out of range (before 1970, after 9999) or with an unknown
//   style, a timestamp stays as typed.
// - Line breaks, tabs and runs of spaces become one space (a whisper is one line); list markers
//   (`- `, `* `, `1. `) stay, so items still read as items.
// - Markup that Discord would not render (a lone `*`, `**` never closed, `snake_case`) stays as typed.
//
// One pass over the text, then one over the pieces it made: no regular expression here has a
// quantifier inside another, and every forward search is bounded or starts after the last one.
import type { Message } from 'discord.js';

/** Names for raw mentions; an id without a name is written `@user`, `@role`, `#channel`. */
export interface MentionNames {
  user?: (id: string) => string | undefined;
  role?: (id: string) => string | undefined;
  channel?: (id: string) => string | undefined;
}

export interface GameTextOptions {
  /** IANA zone for timestamps (config.timeZone, from TZ). */
  timeZone: string;
  /** Appended as `name (url)`, after the text. */
  attachments?: readonly { name: string; url: string }[];
  mentions?: MentionNames;
}

/** A staff message (content with raw mentions, attachments) as whisper text. */
export function discordToGameText(content: string, options: GameTextOptions): string {
  const pieces = pairDelimiters(new Scanner(content, options).run());
  const text = pieces.map(pieceText).join('').replace(/\s+/gu, ' ').trim();
  const files = (options.attachments ?? []).map((a) => `${a.name} (${a.url})`).join(' ');
  return [text, files].filter(Boolean).join(' ');
}

/**
 * A discord.js message as whisper text. Mentions are resolved from the message and the caches the
 * way discord.js's cleanContent does, but written in after parsing, so a display name with `*` or
 * `_` in it is not taken for markup.
 */
export function gameTextOfMessage(message: Message, timeZone: string): string {
  const mentions: MentionNames = {
    user: (id) =>
      message.mentions.members?.get(id)?.displayName ??
      message.guild?.members.cache.get(id)?.displayName ??
      message.mentions.users.get(id)?.displayName ??
      message.client.users.cache.get(id)?.displayName,
    role: (id) => message.guild?.roles.cache.get(id)?.name,
    channel: (id) => {
      const channel = message.client.channels.cache.get(id);
      return channel && 'name' in channel && channel.name ? channel.name : undefined;
    },
  };
  const attachments = [...message.attachments.values()].map((a) => ({ name: a.name, url: a.url }));
  return discordToGameText(message.content, { timeZone, attachments, mentions });
}

// ---------------------------------------------------------------------------------------------
// Pieces: literal text, or a run of emphasis characters that may pair with another run.

type DelimiterChar = '*' | '_' | '~' | '|';

interface Delimiter {
  char: DelimiterChar;
  /** Characters of the run not (yet) paired: written out as typed. */
  left: number;
  open: boolean;
  close: boolean;
}

type Piece = string | Delimiter;

function pieceText(piece: Piece): string {
  return typeof piece === 'string' ? piece : piece.char.repeat(piece.left);
}

/** `~~` and `||` pair two characters at a time; `*` and `_` one or two (italics, bold/underline). */
function unitOf(char: DelimiterChar): number {
  return char === '~' || char === '|' ? 2 : 1;
}

/**
 * Pairs each closing run with the nearest open run of the same character, CommonMark style (two
 * characters when both runs have two, else one), so `**bold *and italic***` loses all its stars
 * and `**never closed` keeps its own. One stack per character: a closer never searches, it takes
 * the top, and every step pops an opener or uses up the closer.
 */
function pairDelimiters(pieces: Piece[]): Piece[] {
  const stacks = new Map<DelimiterChar, Delimiter[]>();
  for (const piece of pieces) {
    if (typeof piece === 'string') continue;
    let stack = stacks.get(piece.char);
    if (!stack) stacks.set(piece.char, (stack = []));
    if (piece.close) closeWith(piece, stack);
    if (piece.open && piece.left >= unitOf(piece.char)) stack.push(piece);
  }
  return pieces;
}

function closeWith(closer: Delimiter, stack: Delimiter[]): void {
  const unit = unitOf(closer.char);
  while (closer.left >= unit && stack.length > 0) {
    const opener = stack[stack.length - 1]!;
    const use = unit === 2 || (opener.left >= 2 && closer.left >= 2) ? 2 : 1;
    opener.left -= use;
    closer.left -= use;
    if (opener.left < unit) stack.pop();
  }
}

function isSpace(char: string | undefined): boolean {
  return char === undefined || /\s/u.test(char);
}

function isWordChar(char: string | undefined): boolean {
  return char !== undefined && /[\p{L}\p{N}]/u.test(char);
}

/**
 * A run opens if text follows it and closes if text precedes it; `_` also needs a word boundary
 * on the outer side (Discord leaves `snake_case_name` alone).
 */
function delimiterOf(char: DelimiterChar, length: number, before: string | undefined, after: string | undefined): Delimiter {
  const underscore = char === '_';
  return {
    char,
    left: length,
    open: !isSpace(after) && !(underscore && isWordChar(before)),
    close: !isSpace(before) && !(underscore && isWordChar(after)),
  };
}

// ---------------------------------------------------------------------------------------------
// The scanner: one pass, left to right.

const LINE_BREAK = /[\n\r\u0085\u2028\u2029]/;
/** Text with nothing the scanner looks at. */
const PLAIN = /[^\\`<[\]*_~|\n\r\u0085\u2028\u2029]+/y;
/** Line starts: a quote `> ` or `>>> `, then a header `# ` to `### ` or subtext `-# ` (before text). */
const QUOTE = />(?:>>)? /y;
const HEADING = /(?:#{1,3}|-#)[ \t]+(?=\S)/y;
/** A code block's first line when it names a language (```js). */
const LANGUAGE = /[\w+.#-]+\n/y;

/** The `<...>` entities, each with how to write it; undefined leaves it as typed. */
const ENTITIES: [RegExp, (match: RegExpExecArray, options: GameTextOptions) => string | undefined][] = [
  [/<t:(-?\d{1,17})(?::([tTdDfFR]))?>/y, (m, o) => timestampText(Number(m[1]), m[2], o.timeZone)],
  [/<@!?(\d{17,20})>/y, (m, o) => `@${o.mentions?.user?.(m[1]!) ?? 'user'}`],
  [/<@&(\d{17,20})>/y, (m, o) => `@${o.mentions?.role?.(m[1]!) ?? 'role'}`],
  [/<#(\d{17,20})>/y, (m, o) => `#${o.mentions?.channel?.(m[1]!) ?? 'channel'}`],
  [/<a?:(\w{1,32}):\d{17,20}>/y, (m) => `:${m[1]}:`],
  [/<\/([-_\p{L}\p{N} ]{1,32}):\d{17,20}>/uy, (m) => `/${m[1]}`],
  [/<(https?:\/\/[^\s<>]+)>/y, (m) => m[1]],
];

/** Where the pattern (sticky) matches at `at`, or undefined. */
function matchAt(pattern: RegExp, text: string, at: number): RegExpExecArray | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text) ?? undefined;
}

class Scanner {
  private readonly pieces: Piece[] = [];
  private i = 0;
  private lineStart = true;
  /** The masked link being read: its text ends at `close` (the `]`), the link at `end`. */
  private link: { close: number; end: number; url: string } | undefined;
  private readonly brackets: Int32Array;
  private readonly ticks: BacktickRuns;

  constructor(
    private readonly s: string,
    private readonly options: GameTextOptions,
  ) {
    this.brackets = matchBrackets(s);
    this.ticks = new BacktickRuns(s);
  }

  run(): Piece[] {
    while (this.i < this.s.length) this.step();
    return this.pieces;
  }

  private step(): void {
    if (this.link && this.i >= this.link.close) return this.endLink();
    if (this.lineStart) return this.skipLinePrefixes();
    const char = this.s[this.i]!;
    if (LINE_BREAK.test(char)) return this.lineBreak();
    if (char === '\\') return this.escape();
    if (char === '`') return this.code();
    if (char === '<') return this.entity();
    if (char === '[') return this.linkStart();
    if (char === '*' || char === '_' || char === '~' || char === '|') return this.delimiter(char);
    const plain = matchAt(PLAIN, this.s, this.i);
    this.literal(plain ? plain[0] : char);
  }

  private literal(text: string, length = text.length): void {
    this.pieces.push(text);
    this.i += length;
  }

  private skipLinePrefixes(): void {
    this.lineStart = false;
    const afterQuote = matchAt(QUOTE, this.s, this.i)?.[0].length ?? 0;
    const afterHeading = matchAt(HEADING, this.s, this.i + afterQuote)?.[0].length ?? 0;
    this.i += afterQuote + afterHeading;
  }

  private lineBreak(): void {
    this.literal(' ', 1);
    this.lineStart = true;
  }

  /** `\x` is x for any character but a letter, digit or space (as Discord escapes). */
  private escape(): void {
    const next = this.s.codePointAt(this.i + 1);
    const char = next === undefined ? '' : String.fromCodePoint(next);
    if (char === '' || /[0-9A-Za-z\s]/.test(char)) return this.literal('\\');
    this.pieces.push(char);
    this.i += 1 + char.length;
  }

  /** Inline code or a ``` block: its text as written, a block without its language line. */
  private code(): void {
    let end = this.i;
    while (this.s[end] === '`') end += 1;
    const length = end - this.i;
    const closer = this.ticks.closerAfter(end, length);
    // A code span inside a masked link's text cannot run past the link's `]`.
    if (closer < 0 || (this.link && closer + length > this.link.close)) return this.literal('`'.repeat(length));
    const language = length === 3 ? (matchAt(LANGUAGE, this.s, end)?.[0].length ?? 0) : 0;
    this.pieces.push(this.s.slice(end + language, closer));
    this.i = closer + length;
  }

  private entity(): void {
    for (const [pattern, write] of ENTITIES) {
      const match = matchAt(pattern, this.s, this.i);
      if (!match) continue;
      const text = write(match, this.options);
      if (text !== undefined) return this.literal(text, match[0].length);
    }
    this.literal('<');
  }

  /** `[text](url)`: the `[` goes, the text is read as usual, `](url)` becomes ` (url)`. */
  private linkStart(): void {
    const close = this.link ? -1 : this.brackets[this.i]!;
    const target = close >= 0 ? linkTarget(this.s, close + 1) : undefined;
    if (!target) return this.literal('[');
    this.link = { close, ...target };
    this.i += 1;
  }

  private endLink(): void {
    const link = this.link!;
    this.link = undefined;
    // Only a `]` consumed by something longer (never expected) skips the close: then the rest
    // is read as plain text.
    if (this.i === link.close) this.literal(` (${link.url})`, link.end - link.close);
  }

  private delimiter(char: DelimiterChar): void {
    let end = this.i;
    while (this.s[end] === char) end += 1;
    const length = end - this.i;
    if (length < unitOf(char)) return this.literal(char);
    this.pieces.push(delimiterOf(char, length, this.s[this.i - 1], this.s[end]));
    this.i = end;
  }
}

/** For each `[`, the index of its `]` on the same line (nested pairs match inside out), else -1. */
function matchBrackets(s: string): Int32Array {
  const match = new Int32Array(s.length).fill(-1);
  const open: number[] = [];
  for (let i = 0; i < s.length; i += 1) {
    const char = s[i]!;
    if (char === '\\') i += 1;
    else if (char === '[') open.push(i);
    else if (char === ']' && open.length > 0) match[open.pop()!] = i;
    else if (LINE_BREAK.test(char)) open.length = 0;
  }
  return match;
}

/**
 * What may follow a masked link's `]`: `(url)` or `(<url>)`, an http(s) URL whose own parentheses
 * are balanced (`https://en.wikipedia.org/wiki/A_(b)`). The URL ends at a space or bracket, so the
 * searches from different `]` never cover the same characters.
 */
function linkTarget(s: string, at: number): { end: number; url: string } | undefined {
  if (s[at] !== '(') return undefined;
  const angle = s[at + 1] === '<';
  const start = at + (angle ? 2 : 1);
  let i = start;
  for (let depth = 0; i < s.length; i += 1) {
    const char = s[i]!;
    if (char === ')' && depth === 0) break;
    if (/[\s<>[\]]/.test(char)) break;
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
  }
  const url = s.slice(start, i);
  if (angle && s[i++] !== '>') return undefined;
  if (s[i] !== ')' || !/^https?:\/\/./.test(url)) return undefined;
  return { end: i + 1, url };
}

/**
 * Every run of backticks by length: a code span closes at the next run exactly as long as its
 * opener. The scanner asks in increasing positions, so each length's cursor only moves forward.
 */
class BacktickRuns {
  private readonly starts = new Map<number, number[]>();
  private readonly cursors = new Map<number, number>();

  constructor(s: string) {
    let i = 0;
    while (i < s.length) {
      if (s[i] !== '`') {
        i += 1;
        continue;
      }
      const start = i;
      while (s[i] === '`') i += 1;
      const list = this.starts.get(i - start) ?? [];
      list.push(start);
      this.starts.set(i - start, list);
    }
  }

  /** The start of the first run of `length` backticks at or after `from`, else -1. */
  closerAfter(from: number, length: number): number {
    const list = this.starts.get(length) ?? [];
    let k = this.cursors.get(length) ?? 0;
    while (k < list.length && list[k]! < from) k += 1;
    this.cursors.set(length, k);
    return list[k] ?? -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/** 9999-12-30 23:59:59 UTC: a day short of year 10000, so every zone still shows year 9999. */
const MAX_TIMESTAMP = 253_402_214_399;
const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** "2023-11-14 22:13:20" in `timeZone` (sv-SE writes ISO order, as src/time.ts relies on). */
function clock(ms: number, timeZone: string): string {
  let format = clockFormats.get(timeZone);
  if (!format) {
    const fields = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' } as const;
    format = new Intl.DateTimeFormat('sv-SE', { timeZone, hourCycle: 'h23', ...fields });
    clockFormats.set(timeZone, format);
  }
  return format.format(new Date(ms));
}

/** `<t:seconds:style>` as a date in `timeZone`; undefined (left as typed) when out of range. */
function timestampText(seconds: number, style: string | undefined, timeZone: string): string | undefined {
  if (!(seconds >= 0 && seconds <= MAX_TIMESTAMP)) return undefined;
  const full = clock(seconds * 1000, timeZone);
  if (style === 't') return full.slice(11, 16);
  if (style === 'T') return full.slice(11, 19);
  if (style === 'd' || style === 'D') return full.slice(0, 10);
  return full.slice(0, 16);
}
