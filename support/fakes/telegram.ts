// A fake Telegram Bot API on 127.0.0.1 that the REAL telegraf client talks to.
//
//   const fake = await startFakeTelegram({ username: 'ticketbridge_bot' });
//   const bot = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
//
// telegraf builds `${apiRoot}/bot<token>/<method>` (plus `/test` before the method when created with
// `telegram: { testEnv: true }`; start the fake with `testEnv: true` for that). Every request is logged in
// `requests`, every sendMessage in `sent`. The driver methods act like users and the network would:
// userSends / userOpensLink / userPresses / blockBot queue updates for getUpdates, failNext injects
// 429/5xx answers (or a proxy's HTML page with `html`), setOutage keeps answering them until lifted, delayNext answers late, setDown makes the API answer 502 or refuse connections.
//
// It mimics what Telegram really does where a notification bot would notice: the {"ok":...} envelope
// and error bodies, 401 for a wrong token, 404 for unknown methods, long polling that really holds
// the request for `timeout` seconds and answers at once when an update arrives, offsets confirming
// updates, 409 when two getUpdates run at once or a webhook is set, "chat not found" for chats
// that never talked to the bot, 403 when the user blocked the bot, the 4096-character limit, and
// the MarkdownV2 / HTML / Markdown parsers ported from TDLib (same error texts and byte offsets).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollUntil } from './wait.js';

// ---------------------------------------------------------------------------------------------
// Public types (the subset of Bot API objects the fake produces)

export interface FakeTelegramOptions {
  /** Bot token; default a real-looking `<botId>:<35 chars>`. */
  token?: string;
  botId?: number;
  /** Bot username without @ (default "ticketbridge_bot"). */
  username?: string;
  /** Bot display name (default "TicketBridge"). */
  firstName?: string;
  /** Serve the test environment (`/bot<token>/test/<method>`) instead of production paths. */
  testEnv?: boolean;
  /**
   * Like Telegram, sending to a chat the bot has never seen (no userSends / addChat) fails with
   * 400 "Bad Request: chat not found". Default true.
   */
  requireKnownChat?: boolean;
  /** First update_id handed out (default 100000001). */
  firstUpdateId?: number;
  port?: number;
}

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface TgBotUser extends TgUser {
  can_join_groups: boolean;
  can_read_all_group_messages: boolean;
  supports_inline_queries: boolean;
  can_connect_to_business: boolean;
  has_main_web_app: boolean;
}

export interface TgChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  first_name?: string;
  last_name?: string;
  username?: string;
  title?: string;
}

export interface TgEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
  user?: TgUser;
}

export interface TgMessage {
  message_id: number;
  from?: TgUser;
  chat: TgChat;
  date: number;
  text?: string;
  entities?: TgEntity[];
  reply_markup?: unknown;
  link_preview_options?: unknown;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message?: TgMessage;
  chat_instance: string;
  data?: string;
}

export interface TgChatMemberUpdated {
  chat: TgChat;
  from: TgUser;
  date: number;
  old_chat_member: { user: TgUser; status: string; until_date?: number };
  new_chat_member: { user: TgUser; status: string; until_date?: number };
}

export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  callback_query?: TgCallbackQuery;
  my_chat_member?: TgChatMemberUpdated;
  [type: string]: unknown;
}

/** One successful sendMessage, as the fake stored it. */
export interface SentMessage {
  message_id: number;
  chat_id: number;
  /** The text exactly as the bot sent it (markup included). */
  text: string;
  /** The text the user sees: markup parsed away, trimmed like Telegram does. */
  plainText: string;
  /** Formatting entities that came out of parse_mode (or the explicit `entities` parameter). */
  entities: TgEntity[];
  parse_mode?: string;
  reply_markup?: unknown;
  link_preview_options?: unknown;
  disable_web_page_preview?: boolean;
  disable_notification?: boolean;
  protect_content?: boolean;
  reply_parameters?: unknown;
  message_thread_id?: number;
  /** All parameters as received (after JSON / form decoding). */
  params: Record<string, unknown>;
  at: number;
}

export interface TelegramRequest {
  /** Method name as written in the URL (Telegram treats it case-insensitively). */
  method: string;
  params: Record<string, unknown>;
  /** HTTP status answered; 0 while a long poll is still held, -1 if the client went away first. */
  status: number;
  ok: boolean;
  description?: string;
  /** Whether the token in the path was the bot's. */
  authorized: boolean;
  testEnv: boolean;
  at: number;
  /** When the answer was sent (ms epoch); 0 while pending. */
  answeredAt: number;
}

export interface TelegramFailOptions {
  /** HTTP status and error_code (429, 400, 403, 500, 502, ...). */
  status: number;
  /** Default: Telegram's text for the status ("Too Many Requests: retry after N", "Internal Server Error", ...). */
  description?: string;
  /** Seconds, for 429 (default 1). Sent as parameters.retry_after. */
  retryAfter?: number;
  /** How many matching requests fail (default 1). */
  count?: number;
  /**
   * Answer with an HTML error page instead of Telegram's JSON envelope, whatever the status: a
   * proxy or load balancer in front of the Bot API (502-504 are always HTML, like nginx).
   */
  html?: boolean;
}

export interface SetCommandsCall {
  commands: { command: string; description: string }[];
  scope?: unknown;
  language_code?: string;
}

// ---------------------------------------------------------------------------------------------
// Markup parsing, ported from TDLib (td/telegram/MessageEntity.cpp: parse_markdown_v2, parse_html,
// parse_markdown). Works on UTF-8 bytes so error byte offsets match Telegram's.

export class EntityParseError extends Error {}

type EntityKind =
  | 'Bold'
  | 'Italic'
  | 'Underline'
  | 'Strikethrough'
  | 'Spoiler'
  | 'TextUrl'
  | 'Code'
  | 'Pre'
  | 'PreCode'
  | 'CustomEmoji'
  | 'BlockQuote'
  | 'ExpandableBlockQuote';

interface RawEntity {
  kind: EntityKind;
  offset: number;
  length: number;
  argument: string;
}

export interface ParsedText {
  text: string;
  entities: TgEntity[];
}

const ch = (s: string): number => s.charCodeAt(0);
const C = {
  nul: 0,
  tab: 9,
  lf: 10,
  cr: 13,
  space: 32,
  bang: ch('!'),
  quot: ch('"'),
  hash: ch('#'),
  amp: ch('&'),
  apos: ch("'"),
  lparen: ch('('),
  rparen: ch(')'),
  star: ch('*'),
  dash: ch('-'),
  dot: ch('.'),
  slash: ch('/'),
  semi: ch(';'),
  lt: ch('<'),
  eq: ch('='),
  gt: ch('>'),
  lbracket: ch('['),
  backslash: ch('\\'),
  rbracket: ch(']'),
  underscore: ch('_'),
  backtick: ch('`'),
  x: ch('x'),
  pipe: ch('|'),
  tilde: ch('~'),
} as const;

/** TDLib's is_space: NUL counts as space, which is what stops scans at the end of the text. */
function isSpace(c: number): boolean {
  return c === C.space || c === C.tab || c === C.cr || c === C.lf || c === C.nul || c === 11 || c === 12;
}
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
const isHexDigit = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isFirstCodeUnit = (c: number): boolean => (c & 0xc0) !== 0x80;
/** UTF-16 units of the character starting with this UTF-8 byte. */
const utf16Units = (c: number): number => (c >= 0xf0 ? 2 : 1);

class Bytes {
  readonly b: Buffer;
  constructor(text: string) {
    this.b = Buffer.from(text, 'utf8');
  }
  get size(): number {
    return this.b.length;
  }
  /** Byte at i, 0 past the end (C strings are NUL-terminated; TDLib relies on that). */
  at(i: number): number {
    return i < this.b.length ? this.b[i]! : 0;
  }
  str(from: number, to: number): string {
    return this.b.subarray(from, to).toString('utf8');
  }
}

/** tg://user?id=123 -> 123 (TDLib's LinkManager::get_link_user_id). */
function linkUserId(url: string): number | null {
  const match = /^tg:(?:\/\/)?user\/?\?(.*)$/i.exec(url);
  if (!match) return null;
  for (const part of (match[1] ?? '').split('#')[0]!.split('&')) {
    const [key, value] = part.split('=');
    if (key === 'id' && value && /^\d+$/.test(value)) return Number(value);
  }
  return null;
}

/**
 * Approximation of TDLib's LinkManager::get_checked_link: http(s)/tg/ton links and bare host names
 * ("example.com/x" -> "http://example.com/x"); hosts without a dot (localhost) are not links.
 * Returns '' when Telegram would drop the link.
 */
export function checkedLink(raw: string): string {
  const url = raw.trim();
  if (url === '' || /\s/.test(url)) return '';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'tg' || scheme === 'ton') return url;
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return '';
  try {
    const parsed = new URL(scheme ? url : `http://${url}`);
    const host = parsed.hostname;
    if (!host.includes('.') || host.endsWith('.') || host === 'localhost') return '';
    return parsed.href;
  } catch {
    return '';
  }
}

/**
 * MarkdownV2's `(...)` after a link or custom emoji, from `begin` (just past the `(`): the text up
 * to the closing `)`, with `\x` escapes undone, and the index of that `)`.
 */
function readParenthesized(t: Bytes, begin: number, what: string): { text: string; end: number } {
  const bytes: number[] = [];
  let i = begin;
  while (i < t.size && t.at(i) !== C.rparen) {
    if (t.at(i) === C.backslash && t.at(i + 1) > 0 && t.at(i + 1) <= 126) {
      bytes.push(t.at(i + 1));
      i += 2;
      continue;
    }
    bytes.push(t.at(i++));
  }
  if (t.at(i) !== C.rparen) throw new EntityParseError(`Can't find end of ${what} at byte offset ${begin}`);
  return { text: Buffer.from(bytes).toString('utf8'), end: i };
}

function customEmojiId(url: string): string {
  const match = /^tg:\/\/emoji\?id=(\d+)$/i.exec(url);
  if (!match || /^0+$/.test(match[1]!)) throw new EntityParseError('Invalid custom emoji identifier specified');
  return match[1]!;
}

function finishEntities(out: number[], raw: RawEntity[]): ParsedText {
  const text = Buffer.from(out).toString('utf8');
  raw.sort((a, b) => a.offset - b.offset || b.length - a.length);
  const entities = raw.map((e): TgEntity => {
    const base = { offset: e.offset, length: e.length };
    switch (e.kind) {
      case 'TextUrl': {
        const userId = linkUserId(e.argument);
        if (userId !== null) return { type: 'text_mention', ...base, user: { id: userId, is_bot: false, first_name: '' } };
        return { type: 'text_link', ...base, url: e.argument };
      }
      case 'PreCode':
        return { type: 'pre', ...base, language: e.argument };
      case 'CustomEmoji':
        return { type: 'custom_emoji', ...base, custom_emoji_id: e.argument };
      case 'BlockQuote':
        return { type: 'blockquote', ...base };
      case 'ExpandableBlockQuote':
        return { type: 'expandable_blockquote', ...base };
      default:
        return { type: e.kind.toLowerCase(), ...base };
    }
  });
  return { text, entities };
}

/** parse_mode "MarkdownV2" (TDLib parse_markdown_v2). */
export function parseMarkdownV2(input: string): ParsedText {
  const t = new Bytes(input);
  const out: number[] = [];
  const entities: RawEntity[] = [];
  let utf16 = 0;
  interface Nested {
    kind: EntityKind;
    argument: string;
    offset: number;
    byteOffset: number;
    beginPos: number;
  }
  const nested: Nested[] = [];
  let haveBlockquote = false;
  let canStartBlockquote = true;
  const reserved = (c: number): string => `Character '${String.fromCharCode(c)}' is reserved and must be escaped with the preceding '\\'`;

  for (let i = 0; i < t.size; i++) {
    const c = t.at(i);
    if (c === C.backslash && t.at(i + 1) > 0 && t.at(i + 1) <= 126) {
      i++;
      utf16 += 1;
      out.push(t.at(i));
      if (t.at(i) !== C.cr) canStartBlockquote = t.at(i) === C.lf;
      continue;
    }

    const top = nested.at(-1);
    const inCode = top !== undefined && (top.kind === 'Code' || top.kind === 'Pre' || top.kind === 'PreCode');
    const isReserved = inCode ? c === C.backtick : c < 128 && '_*[]()~`>#+-=|{}.!\n'.includes(String.fromCharCode(c));
    if (!isReserved) {
      if (isFirstCodeUnit(c)) {
        utf16 += utf16Units(c);
        if (c !== C.cr) canStartBlockquote = false;
      }
      out.push(c);
      continue;
    }

    const isEnd = ((): boolean => {
      if (!top) return false;
      if (haveBlockquote && c === C.lf && (i + 1 === t.size || t.at(i + 1) !== C.gt)) return true;
      switch (top.kind) {
        case 'Bold':
          return c === C.star;
        case 'Italic':
          return c === C.underscore && t.at(i + 1) !== C.underscore;
        case 'Code':
          return c === C.backtick;
        case 'Pre':
        case 'PreCode':
          return c === C.backtick && t.at(i + 1) === C.backtick && t.at(i + 2) === C.backtick;
        case 'TextUrl':
          return c === C.rbracket;
        case 'Underline':
          return c === C.underscore && t.at(i + 1) === C.underscore;
        case 'Strikethrough':
          return c === C.tilde;
        case 'Spoiler':
          return c === C.pipe && t.at(i + 1) === C.pipe;
        case 'CustomEmoji':
          return c === C.rbracket;
        default:
          return false;
      }
    })();

    if (!isEnd) {
      let kind: EntityKind | null;
      let argument = '';
      const byteOffset = i;
      switch (c) {
        case C.underscore:
          if (t.at(i + 1) === C.underscore) {
            kind = 'Underline';
            i++;
          } else {
            kind = 'Italic';
          }
          break;
        case C.star:
          kind = 'Bold';
          break;
        case C.tilde:
          kind = 'Strikethrough';
          break;
        case C.pipe:
          if (t.at(i + 1) !== C.pipe) throw new EntityParseError(reserved(c));
          i++;
          kind = 'Spoiler';
          break;
        case C.lbracket:
          kind = 'TextUrl';
          break;
        case C.backtick:
          if (t.at(i + 1) === C.backtick && t.at(i + 2) === C.backtick) {
            i += 3;
            kind = 'Pre';
            let languageEnd = i;
            while (!isSpace(t.at(languageEnd)) && t.at(languageEnd) !== C.backtick) languageEnd++;
            if (i !== languageEnd && languageEnd < t.size && t.at(languageEnd) !== C.backtick) {
              kind = 'PreCode';
              argument = t.str(i, languageEnd);
              i = languageEnd;
            }
            if (t.at(i) === C.lf || t.at(i) === C.cr) {
              if ((t.at(i + 1) === C.lf || t.at(i + 1) === C.cr) && t.at(i) !== t.at(i + 1)) i += 2;
              else i++;
            }
            i--;
          } else {
            kind = 'Code';
          }
          break;
        case C.bang:
          if (t.at(i + 1) !== C.lbracket) throw new EntityParseError(reserved(c));
          i++;
          kind = 'CustomEmoji';
          break;
        case C.lf:
          utf16 += 1;
          out.push(C.lf);
          canStartBlockquote = true;
          kind = null;
          break;
        case C.gt:
          if (!canStartBlockquote) throw new EntityParseError(reserved(c));
          if (haveBlockquote) {
            kind = null;
          } else {
            kind = 'BlockQuote';
            haveBlockquote = true;
          }
          break;
        default:
          throw new EntityParseError(reserved(c));
      }
      if (kind === null) continue;
      nested.push({ kind, argument, offset: utf16, byteOffset, beginPos: out.length });
    } else {
      let current = nested.at(-1)!;
      let kind = current.kind;
      if (c === C.lf && kind !== 'BlockQuote') {
        const spoilerJustBefore =
          kind === 'Spoiler' &&
          (current.byteOffset === i - 2 || (current.byteOffset === i - 3 && out.length !== 0 && out[out.length - 1] === C.cr));
        if (!spoilerJustBefore) throw new EntityParseError(`Can't find end of ${kind} entity at byte offset ${current.byteOffset}`);
        nested.pop();
        current = nested.at(-1)!;
        if (current.kind !== 'BlockQuote') throw new EntityParseError(`Can't find end of ${current.kind} entity at byte offset ${current.byteOffset}`);
        kind = 'ExpandableBlockQuote';
      }
      let argument = current.argument;
      let skip = utf16 === current.offset;
      switch (kind) {
        case 'Underline':
        case 'Spoiler':
          i++;
          break;
        case 'Pre':
        case 'PreCode':
          i += 2;
          break;
        case 'TextUrl': {
          let url = '';
          if (t.at(i + 1) !== C.lparen) {
            url = Buffer.from(out.slice(current.beginPos)).toString('utf8');
          } else {
            const read = readParenthesized(t, i + 2, 'a URL');
            i = read.end;
            url = read.text;
          }
          if (linkUserId(url) !== null) {
            argument = url;
          } else {
            const checked = checkedLink(url);
            if (checked === '') skip = true;
            else argument = checked;
          }
          break;
        }
        case 'CustomEmoji': {
          if (t.at(i + 1) !== C.lparen) throw new EntityParseError('Custom emoji entity must contain a tg://emoji URL');
          const read = readParenthesized(t, i + 2, 'a custom emoji URL');
          i = read.end;
          argument = customEmojiId(read.text);
          break;
        }
        case 'BlockQuote':
        case 'ExpandableBlockQuote':
          haveBlockquote = false;
          out.push(t.at(i));
          canStartBlockquote = true;
          utf16 += 1;
          skip = false;
          break;
        default:
          break;
      }
      if (!skip) entities.push({ kind, offset: current.offset, length: utf16 - current.offset, argument });
      nested.pop();
    }
  }
  if (haveBlockquote) {
    let kind: EntityKind = 'BlockQuote';
    const top = nested.at(-1);
    if (top && top.kind === 'Spoiler' && top.byteOffset === t.size - 2) {
      nested.pop();
      kind = 'ExpandableBlockQuote';
    }
    const quote = nested.at(-1);
    if (quote && quote.kind === 'BlockQuote') {
      if (utf16 !== quote.offset) entities.push({ kind, offset: quote.offset, length: utf16 - quote.offset, argument: '' });
      nested.pop();
    }
  }
  const open = nested.at(-1);
  if (open) throw new EntityParseError(`Can't find end of ${open.kind} entity at byte offset ${open.byteOffset}`);
  return finishEntities(out, entities);
}

/** TDLib decode_html_entity: numeric references and &lt; &gt; &amp; &quot; only. */
function decodeHtmlEntity(t: Bytes, pos: number): { code: number; next: number } | null {
  let end = pos + 1;
  let code = 0;
  if (t.at(pos + 1) === C.hash) {
    end++;
    if (t.at(pos + 2) === C.x) {
      end++;
      while (isHexDigit(t.at(end))) code = code * 16 + parseInt(String.fromCharCode(t.at(end++)), 16);
    } else {
      while (isDigit(t.at(end))) code = code * 10 + (t.at(end++) - 48);
    }
    if (code === 0 || code >= 0x10ffff || end - pos >= 10) return null;
  } else {
    while (isAlpha(t.at(end))) end++;
    const name = t.str(pos + 1, end);
    const named: Record<string, number> = { lt: C.lt, gt: C.gt, amp: C.amp, quot: C.quot };
    if (!(name in named)) return null;
    code = named[name]!;
  }
  return { code, next: t.at(end) === C.semi ? end + 1 : end };
}

const HTML_TAGS = new Set(['a', 'b', 'strong', 'i', 'em', 's', 'strike', 'del', 'u', 'ins', 'tg-spoiler', 'tg-emoji', 'span', 'pre', 'code', 'blockquote']);

/** parse_mode "HTML" (TDLib parse_html). */
export function parseHtml(input: string): ParsedText {
  const t = new Bytes(input);
  const out: number[] = [];
  const entities: RawEntity[] = [];
  let utf16 = 0;
  let badSurrogate = false;
  interface Nested {
    tag: string;
    argument: string;
    offset: number;
    beginPos: number;
  }
  const nested: Nested[] = [];
  const appendCode = (code: number): void => {
    if (code >= 0xd800 && code <= 0xdfff) {
      badSurrogate = true;
      return;
    }
    for (const byte of Buffer.from(String.fromCodePoint(code), 'utf8')) out.push(byte);
  };

  for (let i = 0; i < t.size; i++) {
    const c = t.at(i);
    if (c === C.amp) {
      const decoded = decodeHtmlEntity(t, i);
      if (decoded) {
        utf16 += decoded.code > 0xffff ? 2 : 1;
        appendCode(decoded.code);
        i = decoded.next - 1;
        continue;
      }
    }
    if (c !== C.lt) {
      if (isFirstCodeUnit(c)) utf16 += utf16Units(c);
      out.push(c);
      continue;
    }

    const beginPos = i++;
    if (t.at(i) !== C.slash) {
      while (!isSpace(t.at(i)) && t.at(i) !== C.gt) i++;
      if (t.at(i) === 0) throw new EntityParseError(`Unclosed start tag at byte offset ${beginPos}`);
      const tag = t.str(beginPos + 1, i).toLowerCase();
      if (!HTML_TAGS.has(tag)) throw new EntityParseError(`Unsupported start tag "${tag}" at byte offset ${beginPos}`);

      let argument = '';
      while (t.at(i) !== C.gt) {
        while (t.at(i) !== 0 && isSpace(t.at(i))) i++;
        if (t.at(i) === C.gt) break;
        const attributeBegin = i;
        while (
          !isSpace(t.at(i)) &&
          t.at(i) !== C.eq &&
          t.at(i) !== C.gt &&
          t.at(i) !== C.slash &&
          t.at(i) !== C.quot &&
          t.at(i) !== C.apos
        ) {
          i++;
        }
        const attributeName = t.str(attributeBegin, i);
        if (attributeName === '') throw new EntityParseError(`Empty attribute name in the tag "${tag}" at byte offset ${beginPos}`);
        while (t.at(i) !== 0 && isSpace(t.at(i))) i++;
        if (t.at(i) !== C.eq) {
          if (t.at(i) === 0) throw new EntityParseError(`Unclosed start tag "${tag}" at byte offset ${beginPos}`);
          if (tag === 'blockquote' && attributeName === 'expandable') argument = '1';
          continue;
        }
        i++;
        while (t.at(i) !== 0 && isSpace(t.at(i))) i++;
        if (t.at(i) === 0) throw new EntityParseError(`Unclosed start tag "${tag}" at byte offset ${beginPos}`);

        let value = '';
        if (t.at(i) !== C.apos && t.at(i) !== C.quot) {
          const tokenBegin = i;
          while (isAlnum(t.at(i)) || t.at(i) === C.dot || t.at(i) === C.dash) i++;
          value = t.str(tokenBegin, i).toLowerCase();
          if (!isSpace(t.at(i)) && t.at(i) !== C.gt) throw new EntityParseError(`Unexpected end of name token at byte offset ${tokenBegin}`);
        } else {
          const endChar = t.at(i++);
          const valueBytes: number[] = [];
          while (t.at(i) !== endChar && t.at(i) !== 0) {
            if (t.at(i) === C.amp) {
              const decoded = decodeHtmlEntity(t, i);
              if (decoded) {
                for (const byte of Buffer.from(String.fromCodePoint(decoded.code), 'utf8')) valueBytes.push(byte);
                i = decoded.next;
                continue;
              }
            }
            valueBytes.push(t.at(i++));
          }
          if (t.at(i) === endChar) i++;
          value = Buffer.from(valueBytes).toString('utf8');
        }
        if (t.at(i) === 0) throw new EntityParseError(`Unclosed start tag at byte offset ${beginPos}`);

        if (tag === 'a' && attributeName === 'href') argument = value;
        else if (tag === 'code' && attributeName === 'class' && value.startsWith('language-')) argument = value.slice(9);
        else if (tag === 'span' && attributeName === 'class' && value.startsWith('tg-')) argument = value.slice(3);
        else if (tag === 'tg-emoji' && attributeName === 'emoji-id') argument = value;
        else if (tag === 'blockquote' && attributeName === 'expandable') argument = '1';
      }
      if (tag === 'span' && argument !== 'spoiler') throw new EntityParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${beginPos}`);
      nested.push({ tag, argument, offset: utf16, beginPos: out.length });
    } else {
      if (nested.length === 0) throw new EntityParseError(`Unexpected end tag at byte offset ${beginPos}`);
      while (!isSpace(t.at(i)) && t.at(i) !== C.gt) i++;
      const endTag = t.str(beginPos + 2, i).toLowerCase();
      while (isSpace(t.at(i)) && t.at(i) !== 0) i++;
      if (t.at(i) !== C.gt) throw new EntityParseError(`Unclosed end tag at byte offset ${beginPos}`);
      const open = nested.at(-1)!;
      if (endTag !== '' && endTag !== open.tag) {
        throw new EntityParseError(`Unmatched end tag at byte offset ${beginPos}, expected "</${open.tag}>", found "</${endTag}>"`);
      }
      if (utf16 > open.offset) {
        const offset = open.offset;
        const length = utf16 - offset;
        const last = entities.at(-1);
        const push = (kind: EntityKind, argument = ''): void => void entities.push({ kind, offset, length, argument });
        switch (open.tag) {
          case 'i':
          case 'em':
            push('Italic');
            break;
          case 'b':
          case 'strong':
            push('Bold');
            break;
          case 's':
          case 'strike':
          case 'del':
            push('Strikethrough');
            break;
          case 'u':
          case 'ins':
            push('Underline');
            break;
          case 'tg-spoiler':
          case 'span':
            push('Spoiler');
            break;
          case 'tg-emoji': {
            if (!/^\d+$/.test(open.argument) || /^0+$/.test(open.argument)) throw new EntityParseError('Invalid custom emoji identifier specified');
            push('CustomEmoji', open.argument);
            break;
          }
          case 'a': {
            const url = open.argument || Buffer.from(out.slice(open.beginPos)).toString('utf8');
            if (linkUserId(url) !== null) push('TextUrl', url);
            else {
              const checked = checkedLink(url);
              if (checked !== '') push('TextUrl', checked);
            }
            break;
          }
          case 'pre':
            if (last && last.kind === 'Code' && last.offset === offset && last.length === length && last.argument !== '') last.kind = 'PreCode';
            else push('Pre');
            break;
          case 'code':
            if (last && last.kind === 'Pre' && last.offset === offset && last.length === length && open.argument !== '') {
              last.kind = 'PreCode';
              last.argument = open.argument;
            } else {
              push('Code', open.argument);
            }
            break;
          case 'blockquote':
            push(open.argument !== '' ? 'ExpandableBlockQuote' : 'BlockQuote');
            break;
          default:
            break;
        }
      }
      nested.pop();
    }
  }
  const unclosed = nested.at(-1);
  if (unclosed) throw new EntityParseError(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  for (const entity of entities) if (entity.kind === 'Code') entity.argument = '';
  if (badSurrogate) {
    throw new EntityParseError('Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units');
  }
  return finishEntities(out, entities);
}

/** Legacy parse_mode "Markdown" (TDLib parse_markdown). */
export function parseMarkdown(input: string): ParsedText {
  const t = new Bytes(input);
  const out: number[] = [];
  const entities: RawEntity[] = [];
  let utf16 = 0;
  for (let i = 0; i < t.size; i++) {
    const c = t.at(i);
    const next = t.at(i + 1);
    if (c === C.backslash && (next === C.underscore || next === C.star || next === C.backtick || next === C.lbracket)) {
      i++;
      out.push(t.at(i));
      utf16++;
      continue;
    }
    if (c !== C.underscore && c !== C.star && c !== C.backtick && c !== C.lbracket) {
      if (isFirstCodeUnit(c)) utf16 += utf16Units(c);
      out.push(c);
      continue;
    }
    const beginPos = i;
    const endChar = c === C.lbracket ? C.rbracket : c;
    let isPre = false;
    i++;
    let language = '';
    if (c === C.backtick && t.at(i) === C.backtick && t.at(i + 1) === C.backtick) {
      i += 2;
      isPre = true;
      let languageEnd = i;
      while (!isSpace(t.at(languageEnd)) && t.at(languageEnd) !== C.backtick) languageEnd++;
      if (i !== languageEnd && languageEnd < t.size && t.at(languageEnd) !== C.backtick) {
        language = t.str(i, languageEnd);
        i = languageEnd;
      }
      if (t.at(i) === C.lf || t.at(i) === C.cr) {
        if ((t.at(i + 1) === C.lf || t.at(i + 1) === C.cr) && t.at(i) !== t.at(i + 1)) i += 2;
        else i++;
      }
    }
    const entityOffset = utf16;
    while (i < t.size && (t.at(i) !== endChar || (isPre && !(t.at(i + 1) === C.backtick && t.at(i + 2) === C.backtick)))) {
      const cur = t.at(i);
      if (isFirstCodeUnit(cur)) utf16 += utf16Units(cur);
      out.push(t.at(i++));
    }
    if (i === t.size) throw new EntityParseError(`Can't find end of the entity starting at byte offset ${beginPos}`);
    if (entityOffset !== utf16) {
      const length = utf16 - entityOffset;
      if (c === C.underscore) entities.push({ kind: 'Italic', offset: entityOffset, length, argument: '' });
      else if (c === C.star) entities.push({ kind: 'Bold', offset: entityOffset, length, argument: '' });
      else if (c === C.lbracket) {
        let url: string;
        if (t.at(i + 1) !== C.lparen) {
          url = t.str(beginPos + 1, i);
        } else {
          i += 2;
          const urlBegin = i;
          while (i < t.size && t.at(i) !== C.rparen) i++;
          url = t.str(urlBegin, i);
        }
        const checked = linkUserId(url) !== null ? url : checkedLink(url);
        if (checked !== '') entities.push({ kind: 'TextUrl', offset: entityOffset, length, argument: checked });
      } else if (isPre) {
        entities.push({ kind: language ? 'PreCode' : 'Pre', offset: entityOffset, length, argument: language });
      } else {
        entities.push({ kind: 'Code', offset: entityOffset, length, argument: '' });
      }
    }
    if (isPre) i += 2;
  }
  return finishEntities(out, entities);
}

/** Telegram trims leading and trailing whitespace of message texts; entities move with the text. */
function trimFormatted(parsed: ParsedText): ParsedText {
  const leading = parsed.text.length - parsed.text.trimStart().length;
  const text = parsed.text.trim();
  const entities = parsed.entities
    .map((e) => {
      const start = Math.max(e.offset - leading, 0);
      const end = Math.min(e.offset + e.length - leading, text.length);
      return { ...e, offset: start, length: end - start };
    })
    .filter((e) => e.length > 0);
  return { text, entities };
}

/** Bot commands Telegram marks in a text: /cmd or /cmd@botname at a word boundary. */
function botCommandEntities(text: string): TgEntity[] {
  const entities: TgEntity[] = [];
  const pattern = /(?<![\p{L}\p{N}_/<>])\/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\p{L}\p{N}_/<>])/gu;
  for (const match of text.matchAll(pattern)) entities.push({ type: 'bot_command', offset: match.index, length: match[0].length });
  return entities;
}

// ---------------------------------------------------------------------------------------------
// The server

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
    /** Answered as an HTML page, not JSON. */
    readonly html = false,
  ) {
    super(description);
  }
}

/** A result that Telegram answers with a description next to it ("Webhook is already deleted"). */
class Described {
  constructor(
    readonly value: unknown,
    readonly description: string,
  ) {}
}

const badRequest = (what: string): ApiError => new ApiError(400, `Bad Request: ${what}`);

type Params = Record<string, unknown>;
type Handler = (params: Params, entry: TelegramRequest) => unknown;

interface Injection {
  method: string;
  remaining: number;
  fail: TelegramFailOptions;
}

interface HeldPoll {
  params: { offset: number | undefined; limit: number };
  entry: TelegramRequest;
  res: http.ServerResponse;
  timer: NodeJS.Timeout;
  done: boolean;
}

const DEFAULT_ALLOWED = (type: string): boolean => type !== 'chat_member' && type !== 'message_reaction' && type !== 'message_reaction_count';

function updateType(update: TgUpdate): string {
  return Object.keys(update).find((key) => key !== 'update_id') ?? 'unknown';
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function bool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1' || value === 1) return true;
  if (value === 'false' || value === '0' || value === 0) return false;
  return undefined;
}

/** Objects may arrive as JSON (JSON bodies) or as JSON-encoded strings (form bodies, query strings). */
function jsonParam(value: unknown, what: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw badRequest(what);
  }
}

const now = (): number => Math.floor(Date.now() / 1000);

export class FakeTelegram {
  apiRoot = '';
  port = 0;
  readonly token: string;
  readonly testEnv: boolean;
  readonly botUser: TgBotUser;
  requireKnownChat: boolean;

  /** Every request, in arrival order (status filled in when answered). */
  readonly requests: TelegramRequest[] = [];
  /** Every successful sendMessage. */
  readonly sent: SentMessage[] = [];
  /** Every update ever queued (confirmed or not). */
  readonly updates: TgUpdate[] = [];
  /** Chats the bot knows (a user wrote to it, or addChat). */
  readonly chats = new Map<number, TgChat>();
  /** Chats whose user blocked the bot: sendMessage gets 403. */
  readonly blocked = new Set<number>();
  readonly commands: SetCommandsCall[] = [];
  readonly callbackAnswers: { callback_query_id: string; text?: string; show_alert?: boolean; url?: string }[] = [];
  /** Every 429 the fake answered. */
  readonly rateLimited: { method: string; retryAfter: number; at: number }[] = [];
  webhook: { url: string; allowed_updates?: string[]; max_connections?: number; secret_token?: string } | null = null;

  private queue: TgUpdate[] = [];
  private allowedUpdates: string[] | null = null;
  private nextUpdateId: number;
  private readonly messageIds = new Map<number, number>();
  private readonly callbackQueries = new Map<string, { answered: boolean }>();
  private readonly injections: Injection[] = [];
  private readonly delays: { method: string; remaining: number; ms: number }[] = [];
  private readonly sleepers = new Set<() => void>();
  private readonly polls = new Set<HeldPoll>();
  private readonly handlers = new Map<string, Handler>();
  private downMode: 'up' | 'bad-gateway' | 'refuse' = 'up';
  private outage: { method: string; fail: Omit<TelegramFailOptions, 'count'> } | null = null;
  private readonly server: http.Server;
  private nextCallbackId = 1;

  constructor(options: FakeTelegramOptions = {}) {
    const botId = options.botId ?? 7000000001;
    this.token = options.token ?? `${botId}:AAFakeTelegramToken_abcdefghijklmnopq`;
    this.testEnv = options.testEnv ?? false;
    this.requireKnownChat = options.requireKnownChat ?? true;
    this.nextUpdateId = options.firstUpdateId ?? 100000001;
    this.port = options.port ?? 0;
    this.botUser = {
      id: botId,
      is_bot: true,
      first_name: options.firstName ?? 'TicketBridge',
      username: options.username ?? 'ticketbridge_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
    this.defineMethods();
    this.server = http.createServer((req, res) => void this.handleHttp(req, res));
  }

  get username(): string {
    return this.botUser.username!;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.apiRoot = `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const wake of [...this.sleepers]) wake();
    for (const poll of [...this.polls]) this.finishPoll(poll, 200, []);
    if (this.server.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await closed;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Driving the fake (what users and the network do)

  /** A chat the bot knows without anyone writing (a group it was added to, a pre-existing user). */
  addChat(chat: Partial<TgChat> & { id: number }): TgChat {
    const { id, ...rest } = chat;
    const full: TgChat = { id, type: id > 0 ? 'private' : 'group', ...rest };
    if (full.type === 'private' && full.first_name === undefined) full.first_name = `User ${id}`;
    this.chats.set(full.id, full);
    return full;
  }

  /**
   * A user writes to the bot (private chat `chatId`, the user's id unless `from` says otherwise).
   * Commands get their bot_command entity like Telegram sets it, so telegraf's bot.start/command work.
   * A user who had blocked the bot unblocks it first (my_chat_member update), as the app's "Restart" does.
   */
  userSends(chatId: number, text: string, from: Partial<TgUser> = {}): TgUpdate {
    const user = this.makeUser(chatId, from);
    const chat = this.chats.get(chatId) ?? this.addChat({ id: chatId, first_name: user.first_name, ...(user.username ? { username: user.username } : {}) });
    if (this.blocked.has(chatId)) this.unblockBot(chatId, user);
    const entities = botCommandEntities(text);
    const message: TgMessage = {
      message_id: this.nextMessageId(chatId),
      from: user,
      chat: { ...chat },
      date: now(),
      text,
      ...(entities.length > 0 ? { entities } : {}),
    };
    return this.queueUpdate({ message });
  }

  /**
   * A user opens a deep link https://t.me/<bot>?start=<payload>. Telegram only passes payloads of
   * 1-64 characters from [A-Za-z0-9_-]; anything else arrives as a bare "/start" (payload null).
   * Links to another bot throw (they would not reach this bot at all).
   */
  userOpensLink(chatId: number, link: string, from: Partial<TgUser> = {}): { update: TgUpdate; payload: string | null } {
    const url = new URL(link.replace(/^tg:\/\/resolve\?domain=([^&]+)&start=/, 'https://t.me/$1?start='));
    const name = url.pathname.replace(/^\//, '');
    if (!/^(t\.me|telegram\.me)$/.test(url.hostname) || name.toLowerCase() !== this.username.toLowerCase()) {
      throw new Error(`fake telegram: ${link} is not a link to @${this.username}`);
    }
    const raw = url.searchParams.get('start');
    const payload = raw !== null && /^[A-Za-z0-9_-]{1,64}$/.test(raw) ? raw : null;
    return { update: this.userSends(chatId, payload === null ? '/start' : `/start ${payload}`, from), payload };
  }

  /** A user presses an inline keyboard button with callback_data under a message the bot sent. */
  userPresses(chatId: number, messageId: number, data: string, from: Partial<TgUser> = {}): TgUpdate {
    const sent = this.sent.find((m) => m.chat_id === chatId && m.message_id === messageId);
    if (!sent) throw new Error(`fake telegram: no message ${messageId} sent to chat ${chatId}`);
    const id = `${this.botUser.id}${String(this.nextCallbackId++).padStart(8, '0')}`;
    this.callbackQueries.set(id, { answered: false });
    const callback_query: TgCallbackQuery = {
      id,
      from: this.makeUser(chatId, from),
      message: this.messageObject(sent),
      chat_instance: String(chatId * 7 + 3),
      data,
    };
    return this.queueUpdate({ callback_query });
  }

  /** The user blocks the bot: my_chat_member (member -> kicked) is queued, sendMessage gets 403. */
  blockBot(chatId: number, from: Partial<TgUser> = {}): TgUpdate {
    const chat = this.chats.get(chatId) ?? this.addChat({ id: chatId });
    this.blocked.add(chatId);
    return this.queueUpdate({
      my_chat_member: {
        chat: { ...chat },
        from: this.makeUser(chatId, from),
        date: now(),
        old_chat_member: { user: this.publicBotUser(), status: 'member' },
        new_chat_member: { user: this.publicBotUser(), status: 'kicked', until_date: 0 },
      },
    });
  }

  unblockBot(chatId: number, from: Partial<TgUser> = {}): TgUpdate {
    const chat = this.chats.get(chatId) ?? this.addChat({ id: chatId });
    this.blocked.delete(chatId);
    return this.queueUpdate({
      my_chat_member: {
        chat: { ...chat },
        from: this.makeUser(chatId, from),
        date: now(),
        old_chat_member: { user: this.publicBotUser(), status: 'kicked', until_date: 0 },
        new_chat_member: { user: this.publicBotUser(), status: 'member' },
      },
    });
  }

  /** Any update (escape hatch); update_id is assigned. */
  queueUpdate(body: Omit<TgUpdate, 'update_id'>): TgUpdate {
    const update = { update_id: this.nextUpdateId++, ...body } as TgUpdate;
    this.updates.push(update);
    this.queue.push(update);
    this.servePolls();
    return update;
  }

  /**
   * The next `count` calls of `method` (case-insensitive, '*' for any) fail with this status.
   * 429 answers {"ok":false,"error_code":429,"description":"Too Many Requests: retry after N",
   * "parameters":{"retry_after":N}} like Telegram.
   */
  failNext(method: string, fail: TelegramFailOptions): void {
    this.injections.push({ method: method.toLowerCase(), remaining: fail.count ?? 1, fail });
  }

  /**
   * A Bot API outage: until setOutage(null), every call of `method` ('*' for any) fails with this
   * status (500, 502, or 429 with retry_after), however many there are. failNext answers still
   * count down behind it.
   */
  setOutage(fail: Omit<TelegramFailOptions, 'count'> | null, method = '*'): void {
    this.outage = fail ? { method: method.toLowerCase(), fail } : null;
  }

  /**
   * The next `count` calls of `method` are answered `ms` late. The call takes effect at once (a
   * message IS sent even if the client gives up waiting), like a slow network or a slow Telegram.
   */
  delayNext(method: string, ms: number, count = 1): void {
    this.delays.push({ method: method.toLowerCase(), remaining: count, ms });
  }

  /**
   * Telegram goes away. 'bad-gateway' (default): every request, held long polls included, gets
   * 502 Bad Gateway (what api.telegram.org's nginx answers when the Bot API is down).
   * 'refuse': the port stops listening and open connections are cut (ECONNREFUSED / socket hang up).
   * setDown(false) comes back on the same port.
   */
  async setDown(down: boolean, mode: 'bad-gateway' | 'refuse' = 'bad-gateway'): Promise<void> {
    if (down) {
      this.downMode = mode;
      if (mode === 'bad-gateway') {
        for (const poll of [...this.polls]) this.finishPoll(poll, 502, null);
      } else if (this.server.listening) {
        for (const poll of [...this.polls]) {
          poll.done = true;
          clearTimeout(poll.timer);
          this.polls.delete(poll);
          poll.entry.status = -1;
          poll.entry.answeredAt = Date.now();
        }
        const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
        this.server.closeAllConnections();
        await closed;
      }
      return;
    }
    this.downMode = 'up';
    if (!this.server.listening) await this.listen();
  }

  /** Updates queued and not yet confirmed by a getUpdates offset. */
  get pendingUpdates(): TgUpdate[] {
    return [...this.queue];
  }

  /** How many getUpdates requests are being held right now (a polling bot has one). */
  get heldPolls(): number {
    return this.polls.size;
  }

  /** Messages the bot sent to one chat, oldest first. */
  sentTo(chatId: number): SentMessage[] {
    return this.sent.filter((m) => m.chat_id === chatId);
  }

  /** Requests of one method (case-insensitive). */
  calls(method: string): TelegramRequest[] {
    return this.requests.filter((r) => r.method.toLowerCase() === method.toLowerCase());
  }

  /** Poll until fn returns a truthy value (returned), or reject after timeoutMs. */
  waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return pollUntil(fn, timeoutMs, `fake telegram: ${what}`);
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return;
    }
    const match = /^\/bot([^/]*)\/(?:(test)\/)?([^/]*)$/.exec(url.pathname);
    const entry: TelegramRequest = {
      method: match?.[3] ?? url.pathname,
      params: {},
      status: 0,
      ok: false,
      authorized: match !== null && decodeURIComponent(match[1] ?? '') === this.token,
      testEnv: match?.[2] === 'test',
      at: Date.now(),
      answeredAt: 0,
    };
    this.requests.push(entry);

    if (this.downMode === 'bad-gateway') {
      this.answer(res, entry, 502, null);
      return;
    }
    let params: Params;
    try {
      params = this.readParams(req, url, Buffer.concat(chunks));
    } catch (error) {
      this.answerError(res, entry, error instanceof ApiError ? error : badRequest('invalid request'));
      return;
    }
    entry.params = params;
    if (!match) {
      this.answerError(res, entry, new ApiError(404, 'Not Found'));
      return;
    }
    if (!entry.authorized || entry.testEnv !== this.testEnv) {
      this.answerError(res, entry, new ApiError(401, 'Unauthorized'));
      return;
    }
    const method = entry.method.toLowerCase();
    const handler = this.handlers.get(method);
    if (!handler) {
      this.answerError(res, entry, new ApiError(404, 'Not Found'));
      return;
    }
    if (this.outage && (this.outage.method === method || this.outage.method === '*')) {
      this.answerError(res, entry, this.injectedError(entry.method, this.outage.fail));
      return;
    }
    const injection = this.injections.find((i) => i.remaining > 0 && (i.method === method || i.method === '*'));
    if (injection) {
      injection.remaining--;
      if (injection.remaining <= 0) this.injections.splice(this.injections.indexOf(injection), 1);
      this.answerError(res, entry, this.injectedError(entry.method, injection.fail));
      return;
    }
    if (method === 'getupdates') {
      this.getUpdates(params, entry, res);
      return;
    }
    // The request takes effect now; only the answer is late (see delayNext).
    let reply: { status: number; body: Record<string, unknown> } | ApiError;
    try {
      const result = handler(params, entry);
      reply = { status: 200, body: result instanceof Described ? { ok: true, result: result.value, description: result.description } : { ok: true, result } };
    } catch (error) {
      reply = error instanceof ApiError ? error : new ApiError(500, 'Internal Server Error');
    }
    const delay = this.takeDelay(method);
    if (delay > 0) await this.sleepUnlessGone(delay, res);
    if (reply instanceof ApiError) this.answerError(res, entry, reply);
    else this.answer(res, entry, reply.status, reply.body);
  }

  /** Wait ms, but not past the client hanging up or stop(). */
  private sleepUnlessGone(ms: number, res: http.ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        res.off('close', done);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      res.once('close', done);
      this.sleepers.add(done);
    });
  }

  private takeDelay(method: string): number {
    const delay = this.delays.find((d) => d.remaining > 0 && (d.method === method || d.method === '*'));
    if (!delay) return 0;
    delay.remaining--;
    if (delay.remaining <= 0) this.delays.splice(this.delays.indexOf(delay), 1);
    return delay.ms;
  }

  private readParams(req: http.IncomingMessage, url: URL, raw: Buffer): Params {
    const params: Params = Object.fromEntries(url.searchParams);
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (raw.length === 0) return params;
    if (type.includes('application/json')) {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw badRequest("can't parse JSON object");
      }
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) Object.assign(params, body);
      return params;
    }
    if (type.includes('application/x-www-form-urlencoded')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
      return params;
    }
    if (type.includes('multipart/form-data')) {
      // Uploads are not part of what a notification bot does; say so instead of pretending.
      throw badRequest('the fake Telegram does not accept multipart/form-data (file uploads)');
    }
    return params;
  }

  private injectedError(method: string, fail: TelegramFailOptions): ApiError {
    if (fail.status === 429) {
      const retryAfter = fail.retryAfter ?? 1;
      this.rateLimited.push({ method, retryAfter, at: Date.now() });
      return new ApiError(429, fail.description ?? `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    const defaults: Record<number, string> = {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden: bot was blocked by the user',
      404: 'Not Found',
      409: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      500: 'Internal Server Error',
      502: 'Bad Gateway',
      503: 'Service Unavailable',
      504: 'Gateway Timeout',
    };
    return new ApiError(fail.status, fail.description ?? defaults[fail.status] ?? `Error ${fail.status}`, undefined, fail.html === true);
  }

  private answerError(res: http.ServerResponse, entry: TelegramRequest, error: ApiError): void {
    const status = error.status;
    if (status === 502 || status === 503 || status === 504 || error.html) {
      this.answer(res, entry, status, null);
      return;
    }
    this.answer(res, entry, status, {
      ok: false,
      error_code: status,
      description: error.description,
      ...(error.parameters ? { parameters: error.parameters } : {}),
    });
  }

  /** body null: nginx's HTML error page for 5xx gateway errors. */
  private answer(res: http.ServerResponse, entry: TelegramRequest, status: number, body: Record<string, unknown> | null): void {
    entry.status = status;
    entry.ok = body?.ok === true;
    entry.answeredAt = Date.now();
    if (body && typeof body.description === 'string') entry.description = body.description;
    if (res.writableEnded || res.destroyed) return;
    if (body === null) {
      const reason = http.STATUS_CODES[status] ?? 'Error';
      entry.description = reason;
      res.writeHead(status, { 'content-type': 'text/html', server: 'nginx' });
      res.end(`<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', server: 'nginx' });
    res.end(JSON.stringify(body));
  }

  // -------------------------------------------------------------------------------------------
  // getUpdates (long polling)

  private getUpdates(params: Params, entry: TelegramRequest, res: http.ServerResponse): void {
    if (this.webhook) {
      this.answerError(res, entry, new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"));
      return;
    }
    // A second getUpdates terminates the one being held, like Telegram does.
    for (const poll of [...this.polls]) {
      this.finishPollError(poll, new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'));
    }
    const offset = num(params.offset);
    const limit = Math.min(Math.max(Math.trunc(num(params.limit) ?? 100), 1), 100);
    const timeout = Math.max(num(params.timeout) ?? 0, 0);
    if (params.allowed_updates !== undefined) {
      const allowed = jsonParam(params.allowed_updates, "can't parse allowed_updates JSON array");
      this.allowedUpdates = Array.isArray(allowed) ? allowed.map(String) : null;
    }
    if (offset !== undefined) this.confirm(offset);

    const ready = this.deliverable(limit);
    if (ready.length > 0 || timeout === 0) {
      this.answer(res, entry, 200, { ok: true, result: ready });
      return;
    }
    const poll: HeldPoll = {
      params: { offset, limit },
      entry,
      res,
      done: false,
      timer: setTimeout(() => this.finishPoll(poll, 200, []), timeout * 1000),
    };
    this.polls.add(poll);
    res.on('close', () => {
      if (poll.done) return;
      // The client went away (telegraf's bot.stop() aborts its poll).
      poll.done = true;
      clearTimeout(poll.timer);
      this.polls.delete(poll);
      entry.status = -1;
      entry.answeredAt = Date.now();
    });
  }

  private confirm(offset: number): void {
    if (offset < 0) {
      // Negative offset: keep only the last -offset updates, forget everything before them.
      this.queue = this.queue.slice(offset);
      return;
    }
    this.queue = this.queue.filter((u) => u.update_id >= offset);
  }

  private deliverable(limit: number): TgUpdate[] {
    const allowed = this.allowedUpdates && this.allowedUpdates.length > 0 ? new Set(this.allowedUpdates) : null;
    // Updates of types the bot does not want are dropped, not kept for later (Telegram does the same).
    this.queue = this.queue.filter((u) => (allowed ? allowed.has(updateType(u)) : DEFAULT_ALLOWED(updateType(u))));
    return this.queue.slice(0, limit);
  }

  private servePolls(): void {
    for (const poll of [...this.polls]) {
      const ready = this.deliverable(poll.params.limit);
      if (ready.length > 0) this.finishPoll(poll, 200, ready);
    }
  }

  private finishPoll(poll: HeldPoll, status: number, result: TgUpdate[] | null): void {
    if (poll.done) return;
    poll.done = true;
    clearTimeout(poll.timer);
    this.polls.delete(poll);
    this.answer(poll.res, poll.entry, status, result === null ? null : { ok: true, result });
  }

  private finishPollError(poll: HeldPoll, error: ApiError): void {
    if (poll.done) return;
    poll.done = true;
    clearTimeout(poll.timer);
    this.polls.delete(poll);
    this.answerError(poll.res, poll.entry, error);
  }

  // -------------------------------------------------------------------------------------------
  // Methods

  private defineMethods(): void {
    const on = (name: string, handler: Handler): void => void this.handlers.set(name.toLowerCase(), handler);
    const withDescription = (value: unknown, description: string): Described => new Described(value, description);

    on('getUpdates', () => []); // handled in getUpdates()
    on('getMe', () => ({ ...this.botUser }));
    on('logOut', () => true);
    on('close', () => true);

    on('deleteWebhook', (params) => {
      if (bool(params.drop_pending_updates)) this.queue = [];
      const had = this.webhook !== null;
      this.webhook = null;
      return withDescription(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
    });
    on('setWebhook', (params) => {
      const url = str(params.url) ?? '';
      if (url === '') {
        const had = this.webhook !== null;
        this.webhook = null;
        return withDescription(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
      }
      if (!url.startsWith('https://')) throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      if (bool(params.drop_pending_updates)) this.queue = [];
      const allowed = params.allowed_updates === undefined ? undefined : jsonParam(params.allowed_updates, "can't parse allowed_updates JSON array");
      const maxConnections = num(params.max_connections);
      const secret = str(params.secret_token);
      this.webhook = {
        url,
        ...(Array.isArray(allowed) ? { allowed_updates: allowed.map(String) } : {}),
        ...(maxConnections !== undefined ? { max_connections: maxConnections } : {}),
        ...(secret !== undefined ? { secret_token: secret } : {}),
      };
      return withDescription(true, 'Webhook was set');
    });
    on('getWebhookInfo', () => ({
      url: this.webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.queue.length,
      ...(this.webhook
        ? {
            max_connections: this.webhook.max_connections ?? 40,
            ip_address: '127.0.0.1',
            ...(this.webhook.allowed_updates ? { allowed_updates: this.webhook.allowed_updates } : {}),
          }
        : {}),
    }));

    on('setMyCommands', (params) => {
      const commands = jsonParam(params.commands, "can't parse commands JSON object");
      if (!Array.isArray(commands)) throw badRequest('parameter "commands" is required');
      if (commands.length > 100) throw badRequest('too many commands specified');
      const parsed = commands.map((raw) => {
        const command = raw as { command?: unknown; description?: unknown };
        const name = str(command.command) ?? '';
        const description = str(command.description) ?? '';
        if (!/^[a-z0-9_]{1,32}$/.test(name.replace(/^\//, ''))) throw badRequest('BOT_COMMAND_INVALID');
        if (description.trim().length === 0 || description.length > 256) throw badRequest('command description must be non-empty');
        return { command: name.replace(/^\//, ''), description };
      });
      const scope = params.scope === undefined ? undefined : jsonParam(params.scope, "can't parse BotCommandScope JSON object");
      const language = str(params.language_code);
      const call: SetCommandsCall = { commands: parsed, ...(scope !== undefined ? { scope } : {}), ...(language ? { language_code: language } : {}) };
      const existing = this.commands.findIndex((c) => JSON.stringify(c.scope) === JSON.stringify(call.scope) && c.language_code === call.language_code);
      if (existing >= 0) this.commands.splice(existing, 1);
      this.commands.push(call);
      return true;
    });
    on('getMyCommands', (params) => {
      const scope = params.scope === undefined ? undefined : jsonParam(params.scope, "can't parse BotCommandScope JSON object");
      const language = str(params.language_code);
      return this.commands.find((c) => JSON.stringify(c.scope) === JSON.stringify(scope) && c.language_code === (language || undefined))?.commands ?? [];
    });
    on('deleteMyCommands', (params) => {
      const scope = params.scope === undefined ? undefined : jsonParam(params.scope, "can't parse BotCommandScope JSON object");
      const language = str(params.language_code);
      const index = this.commands.findIndex((c) => JSON.stringify(c.scope) === JSON.stringify(scope) && c.language_code === (language || undefined));
      if (index >= 0) this.commands.splice(index, 1);
      return true;
    });

    on('getChat', (params) => {
      const chat = this.resolveChat(params.chat_id, false);
      return { ...chat, ...(chat.type === 'private' ? {} : { title: chat.title ?? `Chat ${chat.id}` }), accent_color_id: 0, max_reaction_count: 11 };
    });

    on('sendChatAction', (params) => {
      this.resolveChat(params.chat_id, true);
      if (!str(params.action)) throw badRequest('parameter "action" is required');
      return true;
    });

    on('answerCallbackQuery', (params) => {
      const id = str(params.callback_query_id) ?? '';
      const query = this.callbackQueries.get(id);
      if (!query || query.answered) throw badRequest('query is too old and response timeout expired or query ID is invalid');
      query.answered = true;
      const text = str(params.text);
      const url = str(params.url);
      const showAlert = bool(params.show_alert);
      this.callbackAnswers.push({
        callback_query_id: id,
        ...(text !== undefined ? { text } : {}),
        ...(showAlert !== undefined ? { show_alert: showAlert } : {}),
        ...(url !== undefined ? { url } : {}),
      });
      return true;
    });

    on('sendMessage', (params) => this.sendMessage(params));
  }

  private sendMessage(params: Params): TgMessage {
    if (params.chat_id === undefined || params.chat_id === '') throw badRequest('chat_id is empty');
    const text = str(params.text) ?? '';
    if (text === '') throw badRequest('message text is empty');
    const parseMode = str(params.parse_mode) ?? '';
    let parsed: ParsedText;
    try {
      switch (parseMode.toLowerCase()) {
        case '':
          parsed = { text, entities: this.explicitEntities(params.entities) };
          break;
        case 'markdownv2':
          parsed = parseMarkdownV2(text);
          break;
        case 'markdown':
          parsed = parseMarkdown(text);
          break;
        case 'html':
          parsed = parseHtml(text);
          break;
        default:
          throw badRequest('unsupported parse_mode');
      }
    } catch (error) {
      if (error instanceof EntityParseError) throw badRequest(`can't parse entities: ${error.message}`);
      throw error;
    }
    parsed = trimFormatted(parsed);
    if (parsed.text.length === 0) throw badRequest('message must be non-empty');
    if (parsed.text.length > 4096) throw badRequest('message is too long');
    const replyMarkup = params.reply_markup === undefined ? undefined : this.checkReplyMarkup(params.reply_markup);
    const linkPreview = params.link_preview_options === undefined ? undefined : jsonParam(params.link_preview_options, "can't parse link preview options JSON object");
    const replyParameters = params.reply_parameters === undefined ? undefined : jsonParam(params.reply_parameters, "can't parse reply parameters JSON object");
    const chat = this.resolveChat(params.chat_id, true);

    const optional = <T>(key: string, value: T | undefined): Record<string, T> => (value === undefined ? {} : { [key]: value });
    const message: SentMessage = {
      message_id: this.nextMessageId(chat.id),
      chat_id: chat.id,
      text,
      plainText: parsed.text,
      entities: parsed.entities,
      ...optional('parse_mode', parseMode || undefined),
      ...optional('reply_markup', replyMarkup),
      ...optional('link_preview_options', linkPreview),
      ...optional('disable_web_page_preview', bool(params.disable_web_page_preview)),
      ...optional('disable_notification', bool(params.disable_notification)),
      ...optional('protect_content', bool(params.protect_content)),
      ...optional('reply_parameters', replyParameters),
      ...optional('message_thread_id', num(params.message_thread_id)),
      params,
      at: Date.now(),
    };
    this.sent.push(message);
    return this.messageObject(message);
  }

  private explicitEntities(value: unknown): TgEntity[] {
    if (value === undefined) return [];
    const entities = jsonParam(value, "can't parse entities JSON object");
    if (!Array.isArray(entities)) throw badRequest("can't parse entities JSON object");
    return entities as TgEntity[];
  }

  /** Light validation of inline keyboards, with the errors Telegram gives for the usual mistakes. */
  private checkReplyMarkup(value: unknown): unknown {
    const markup = jsonParam(value, "can't parse reply keyboard markup JSON object");
    if (typeof markup !== 'object' || markup === null || Array.isArray(markup)) throw badRequest("can't parse reply keyboard markup JSON object");
    const keyboard = (markup as { inline_keyboard?: unknown }).inline_keyboard;
    if (keyboard === undefined) return markup;
    if (!Array.isArray(keyboard) || !keyboard.every((row) => Array.isArray(row))) {
      throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
    }
    for (const row of keyboard as unknown[][]) {
      for (const raw of row) {
        const button = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
        if (typeof button.text !== 'string') throw badRequest('can\'t parse inline keyboard button: Field "text" must be of type String');
        const kinds = ['url', 'callback_data', 'web_app', 'login_url', 'switch_inline_query', 'switch_inline_query_current_chat', 'copy_text', 'pay'];
        if (!kinds.some((k) => button[k] !== undefined)) throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
        if (typeof button.callback_data === 'string' && (button.callback_data.length === 0 || Buffer.byteLength(button.callback_data) > 64)) {
          throw badRequest('BUTTON_DATA_INVALID');
        }
        if (typeof button.url === 'string' && checkedLink(button.url) === '') {
          throw badRequest(`inline keyboard button URL '${button.url}' is invalid: Wrong HTTP URL`);
        }
      }
    }
    return markup;
  }

  private resolveChat(value: unknown, forSending: boolean): TgChat {
    const raw = str(value) ?? '';
    let chat: TgChat | undefined;
    if (raw.startsWith('@')) {
      chat = [...this.chats.values()].find((c) => c.username?.toLowerCase() === raw.slice(1).toLowerCase());
    } else if (/^-?\d+$/.test(raw)) {
      const id = Number(raw);
      chat = this.chats.get(id) ?? (this.requireKnownChat ? undefined : this.addChat({ id }));
    }
    if (!chat) throw badRequest('chat not found');
    if (forSending && this.blocked.has(chat.id)) throw new ApiError(403, 'Forbidden: bot was blocked by the user');
    return chat;
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private publicBotUser(): TgUser {
    return { id: this.botUser.id, is_bot: true, first_name: this.botUser.first_name, username: this.username };
  }

  private makeUser(chatId: number, from: Partial<TgUser>): TgUser {
    const known = this.chats.get(chatId);
    return {
      id: from.id ?? (chatId > 0 ? chatId : 1000),
      is_bot: from.is_bot ?? false,
      first_name: from.first_name ?? known?.first_name ?? `User ${chatId}`,
      ...(from.last_name !== undefined ? { last_name: from.last_name } : {}),
      ...((from.username ?? known?.username) !== undefined ? { username: from.username ?? known?.username } : {}),
      language_code: from.language_code ?? 'en',
    };
  }

  private nextMessageId(chatId: number): number {
    const next = (this.messageIds.get(chatId) ?? 0) + 1;
    this.messageIds.set(chatId, next);
    return next;
  }

  private messageObject(sent: SentMessage): TgMessage {
    const chat = this.chats.get(sent.chat_id) ?? { id: sent.chat_id, type: 'private' as const };
    return {
      message_id: sent.message_id,
      from: this.publicBotUser(),
      chat: { ...chat },
      date: Math.floor(sent.at / 1000),
      text: sent.plainText,
      ...(sent.entities.length > 0 ? { entities: sent.entities } : {}),
      ...(sent.link_preview_options !== undefined ? { link_preview_options: sent.link_preview_options } : {}),
      ...(sent.reply_markup !== undefined && typeof sent.reply_markup === 'object' && sent.reply_markup !== null && 'inline_keyboard' in sent.reply_markup
        ? { reply_markup: sent.reply_markup }
        : {}),
    };
  }
}

export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const fake = new FakeTelegram(options);
  await fake.listen();
  return fake;
}
