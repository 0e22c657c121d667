// The hostile-input corpus (issue #8 point 3): what an attacker, a broken client or a careless
// integrator may send in any field. Generated, not hand-listed per field: every test takes the
// whole list and sends it wherever a value can go. Each payload has a label for failure messages.
//
// A payload is text (a JS string, sent UTF-8 encoded) or raw bytes (not valid UTF-8, sent as they
// are: percent-encoded in query strings and urlencoded bodies, verbatim in multipart and JSON).
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { Db } from '../../src/db/index.js';
import { uploadedFiles } from './app.js';

export type HostileKind =
  | 'long'
  | 'empty'
  | 'space'
  | 'control'
  | 'utf8'
  | 'number'
  | 'id'
  | 'xss'
  | 'sql'
  | 'path'
  | 'fts'
  | 'format'
  | 'unicode'
  | 'name';

export interface HostileValue {
  label: string;
  kind: HostileKind;
  /** The value as text, or (for invalid UTF-8) raw bytes. */
  text?: string;
  bytes?: Buffer;
  /** Only sent in request bodies (too big for a URL: Node refuses headers over 16 KB with 431). */
  bodyOnly?: boolean;
}

const KB = 1024;

/** Every hostile scalar value. `big` adds the 2 MB one (over every body limit of the app). */
export function hostileValues(options: { big?: boolean } = {}): HostileValue[] {
  const list: HostileValue[] = [
    // Sizes.
    { label: '100 KB of x', kind: 'long', text: 'x'.repeat(100 * KB), bodyOnly: true },
    { label: '20,001 chars (over the message limit)', kind: 'long', text: 'é'.repeat(20_001), bodyOnly: true },
    { label: '4,001 chars (over the game message limit)', kind: 'long', text: 'w '.repeat(2000) + 'w' },
    { label: '300 chars', kind: 'long', text: 'n'.repeat(300) },
    { label: '8 KB in one word', kind: 'long', text: 'q'.repeat(8 * KB) },
    // Nothing.
    { label: 'empty', kind: 'empty', text: '' },
    { label: 'spaces', kind: 'space', text: '   ' },
    { label: 'tabs and line breaks', kind: 'space', text: '\t\r\n\r\n\t' },
    { label: 'unicode spaces', kind: 'space', text: '\u00a0\u2003\u3000\u2028' },
    { label: 'zero-width space', kind: 'space', text: '\u200b\u200b' },
    // Control characters.
    { label: 'NUL inside', kind: 'control', text: 'before\u0000after' },
    { label: 'NUL only', kind: 'control', text: '\u0000' },
    { label: 'C0 controls and ANSI escape', kind: 'control', text: '\u0001\u0002\u0007\u001b[31mred\u001b[0m\u007f' },
    { label: 'CRLF header injection', kind: 'control', text: 'x\r\nSet-Cookie: injected=1\r\n\r\n<b>body</b>' },
    { label: 'lone surrogate', kind: 'control', text: 'a\ud800b' },
    { label: 'bidi override', kind: 'control', text: 'evil\u202egnp.exe' },
    { label: 'BOM', kind: 'control', text: '\ufeffbom' },
    // Invalid UTF-8 (raw bytes).
    { label: 'invalid UTF-8 C3 28', kind: 'utf8', bytes: Buffer.from([0x61, 0xc3, 0x28, 0x62]) },
    { label: 'invalid UTF-8 FF', kind: 'utf8', bytes: Buffer.from([0xff]) },
    { label: 'overlong slash C0 AF', kind: 'utf8', bytes: Buffer.from([0x2e, 0x2e, 0xc0, 0xaf, 0x2e, 0x2e, 0xc0, 0xaf, 0x65, 0x74, 0x63]) },
    { label: 'UTF-8 encoded surrogate ED A0 80', kind: 'utf8', bytes: Buffer.from([0xed, 0xa0, 0x80]) },
    { label: 'truncated sequence E2 82', kind: 'utf8', bytes: Buffer.from([0x78, 0xe2, 0x82]) },
    { label: '5-byte sequence F8', kind: 'utf8', bytes: Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]) },
    // Numbers and ids.
    { label: '1e309 (Infinity)', kind: 'number', text: '1e309' },
    { label: '20-digit number', kind: 'number', text: '99999999999999999999' },
    { label: '2^53+1', kind: 'number', text: '9007199254740993' },
    { label: '-0', kind: 'number', text: '-0' },
    { label: 'hex 0x10', kind: 'number', text: '0x10' },
    { label: 'NaN', kind: 'number', text: 'NaN' },
    { label: 'Infinity', kind: 'number', text: 'Infinity' },
    { label: '1.5', kind: 'number', text: '1.5' },
    { label: '1,000', kind: 'number', text: '1,000' },
    { label: 'negative id', kind: 'id', text: '-1' },
    { label: 'zero id', kind: 'id', text: '0' },
    { label: 'non-numeric id', kind: 'id', text: 'abc' },
    { label: 'id with suffix', kind: 'id', text: '1abc' },
    { label: 'id with leading space', kind: 'id', text: ' 1' },
    { label: 'hash id', kind: 'id', text: '#1' },
    { label: 'full-width digit', kind: 'id', text: '１' },
    { label: 'arabic-indic digit', kind: 'id', text: '٣' },
    // Markup and script.
    { label: 'script tag', kind: 'xss', text: '<script>alert("xss-script")</script>' },
    { label: 'attribute breakout', kind: 'xss', text: '"><img src=x onerror=alert("xss-img")>' },
    { label: 'single-quote breakout', kind: 'xss', text: "'><svg onload=alert('xss-svg1')>" },
    { label: 'javascript: URL', kind: 'xss', text: 'javascript:alert("xss-js-url")' },
    { label: 'SVG onload', kind: 'xss', text: '<svg/onload=alert("xss-svg2")>' },
    { label: 'textarea breakout', kind: 'xss', text: '</textarea><script>alert("xss-textarea")</script>' },
    { label: 'title breakout', kind: 'xss', text: '</title><script>alert("xss-title")</script>' },
    { label: 'iframe srcdoc', kind: 'xss', text: '<iframe srcdoc="<script>alert(`xss-srcdoc`)</script>"></iframe>' },
    { label: 'link with quote in URL', kind: 'xss', text: 'see https://example.com/a"onmouseover="alert(1)"x and http://x.test/<script>alert(2)</script>' },
    { label: 'anchor with javascript href', kind: 'xss', text: '<a href="javascript:alert(`xss-anchor`)">click</a>' },
    { label: 'data: URL', kind: 'xss', text: 'data:text/html,<script>alert("xss-data")</script>' },
    { label: 'mutation XSS', kind: 'xss', text: '<math><mtext><table><mglyph><style><img src=x onerror=alert("xss-mxss")>' },
    { label: 'already escaped entities', kind: 'xss', text: '&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &#x3C;' },
    { label: 'EJS tags', kind: 'xss', text: '<%= process.exit(1) %><%- include("/etc/passwd") %>' },
    { label: 'template braces', kind: 'xss', text: '{{7*7}} ${7*7} #{7*7}' },
    { label: 'HTML comment and CDATA', kind: 'xss', text: '<!-- --><![CDATA[ ]]>' },
    // SQL.
    { label: 'SQL tautology', kind: 'sql', text: "' OR 1=1 --" },
    { label: 'SQL stacked statement', kind: 'sql', text: '1; DROP TABLE tickets' },
    { label: 'SQL double-quote tautology', kind: 'sql', text: '" OR ""="' },
    { label: 'SQL union', kind: 'sql', text: "x' UNION SELECT password_hash FROM users --" },
    { label: 'LIKE wildcards', kind: 'sql', text: '%_%\\' },
    // Paths.
    { label: 'path traversal', kind: 'path', text: '../../etc/passwd' },
    { label: 'windows traversal', kind: 'path', text: '..\\..\\x.png' },
    { label: 'absolute path', kind: 'path', text: '/etc/passwd' },
    { label: 'filtered traversal', kind: 'path', text: '....//....//etc/passwd' },
    { label: 'encoded traversal text', kind: 'path', text: '%2e%2e%2f%2e%2e%2fetc%2fpasswd' },
    { label: 'NUL-terminated name', kind: 'path', text: 'image.png\u0000.exe' },
    { label: 'protocol-relative URL', kind: 'path', text: '//evil.example/x' },
    // Full-text search syntax.
    { label: 'FTS NEAR', kind: 'fts', text: 'NEAR(a b)' },
    { label: 'FTS NEAR with distance', kind: 'fts', text: 'NEAR("ticket" "map", 2)' },
    { label: 'FTS lone quote', kind: 'fts', text: '"' },
    { label: 'FTS unterminated phrase', kind: 'fts', text: '"unterminated phrase' },
    { label: 'FTS star', kind: 'fts', text: '*' },
    { label: 'FTS prefix', kind: 'fts', text: 'tick*' },
    { label: 'FTS OR', kind: 'fts', text: 'map OR crash' },
    { label: 'FTS bare OR', kind: 'fts', text: 'OR' },
    { label: 'FTS AND NOT', kind: 'fts', text: 'AND NOT' },
    { label: 'FTS minus', kind: 'fts', text: '-x' },
    { label: 'FTS caret', kind: 'fts', text: '^start' },
    { label: 'FTS column filter', kind: 'fts', text: 'subject:term' },
    { label: 'FTS column set', kind: 'fts', text: '{subject body}: crash' },
    { label: 'FTS open parenthesis', kind: 'fts', text: '(unbalanced' },
    { label: 'FTS close parenthesis', kind: 'fts', text: 'unbalanced))' },
    { label: 'FTS doubled quotes', kind: 'fts', text: '""""' },
    // Format strings and names the code may look up.
    { label: 'printf formats', kind: 'format', text: '%s%s%n%x%d' },
    { label: 'whisper placeholder', kind: 'format', text: '{message}{message}' },
    { label: 'replace patterns', kind: 'format', text: "$& $1 $' $`" },
    { label: '__proto__', kind: 'name', text: '__proto__' },
    { label: 'constructor', kind: 'name', text: 'constructor' },
    { label: 'hasOwnProperty', kind: 'name', text: 'hasOwnProperty' },
    { label: 'JSON text', kind: 'name', text: '{"a":[1,{"b":null}]}' },
    // Unicode that changes length or shape.
    { label: 'emoji and ZWJ', kind: 'unicode', text: 'help 👩‍👩‍👧‍👦🎫' },
    { label: 'combining marks', kind: 'unicode', text: 'e\u0301 Z\u0335\u0321\u0322\u031b\u0317\u0327\u0338' },
    { label: 'case-folding growth', kind: 'unicode', text: 'İSTANBUL ß ﬁ' },
    { label: 'right-to-left text', kind: 'unicode', text: 'مرحبا שלום' },
  ];
  if (options.big) list.push({ label: '2 MB of y', kind: 'long', text: 'y'.repeat(2 * KB * KB), bodyOnly: true });
  return list;
}

/** The XSS payloads alone (for the browser test): each fires `alert` if it ever runs. */
export function xssPayloads(): { label: string; text: string }[] {
  return hostileValues()
    .filter((v) => v.kind === 'xss' && v.text !== undefined)
    .map((v) => ({ label: v.label, text: v.text! }));
}

/** Structural abuse of one field name: sent twice, as `name[]`, as `name[key]`. */
export type FieldShape = 'repeated' | 'brackets' | 'object';
export const FIELD_SHAPES: FieldShape[] = ['repeated', 'brackets', 'object'];

/** Percent-encoding of bytes as a browser does it (a lone surrogate becomes U+FFFD, like a browser sends it). */
function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Percent-encoding of text: UTF-8, a lone surrogate as U+FFFD (what a browser sends). */
function percentEncodeText(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return percentEncode(Buffer.from(text, 'utf8'));
  }
}

/** Percent-encoding of one value for a query string or an urlencoded body. */
export function urlEncodeValue(value: HostileValue): string {
  return value.bytes ? percentEncode(value.bytes) : percentEncodeText(value.text ?? '');
}

export type FormEntry = [name: string, value: string | HostileValue];

/** An urlencoded body / query string from entries (strings are normal values). */
export function urlEncode(entries: FormEntry[]): string {
  return entries
    .map(([name, value]) => `${percentEncodeText(name)}=${typeof value === 'string' ? percentEncodeText(value) : urlEncodeValue(value)}`)
    .join('&');
}

/** `entries` with the field `name` replaced by `value` in the given shape (or plain). */
export function withField(base: Record<string, string>, name: string, value: string | HostileValue, shape?: FieldShape): FormEntry[] {
  const entries: FormEntry[] = Object.entries(base).filter(([key]) => key !== name);
  if (shape === 'repeated') entries.push([name, value], [name, value]);
  else if (shape === 'brackets') entries.push([`${name}[]`, value]);
  else if (shape === 'object') entries.push([`${name}[b]`, value]);
  else entries.push([name, value]);
  return entries;
}

export interface MultipartFile {
  field?: string;
  /** The file name as text, or raw bytes (not UTF-8). */
  name: string | Buffer;
  content: Buffer;
  type?: string;
}

const CRLF = '\r\n';

/** A multipart/form-data body built by hand, so names and values may hold any bytes. */
export function multipartBody(entries: FormEntry[], files: MultipartFile[] = []): { body: Buffer; contentType: string } {
  const boundary = `----hostile${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  const quote = (text: string | Buffer) => (typeof text === 'string' ? Buffer.from(text.replace(/"/g, '%22').replace(/\r|\n/g, ' ')) : text);
  for (const [name, value] of entries) {
    const bytes = typeof value === 'string' ? Buffer.from(value) : (value.bytes ?? Buffer.from(value.text ?? ''));
    chunks.push(Buffer.from(`--${boundary}${CRLF}Content-Disposition: form-data; name="`), quote(name), Buffer.from(`"${CRLF}${CRLF}`), bytes, Buffer.from(CRLF));
  }
  for (const file of files) {
    chunks.push(
      Buffer.from(`--${boundary}${CRLF}Content-Disposition: form-data; name="${file.field ?? 'attachments'}"; filename="`),
      quote(file.name),
      Buffer.from(`"${CRLF}Content-Type: ${file.type ?? 'application/octet-stream'}${CRLF}${CRLF}`),
      file.content,
      Buffer.from(CRLF),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

// --- Files -----------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface ZipEntry {
  name: string;
  /** Uncompressed content (deflated when `deflate`). */
  data: Buffer;
  deflate?: boolean;
  /** Lie about the uncompressed size in both headers. */
  declaredSize?: number;
}

/** A real ZIP archive (local headers, central directory, end record), as `unzip` reads it. */
export function zipArchive(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const stored = entry.deflate ? zlib.deflateRawSync(entry.data, { level: 9 }) : entry.data;
    const crc = crc32(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const method = entry.deflate ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, stored);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const centralSize = centrals.reduce((sum, b) => sum + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

export interface HostileFile {
  label: string;
  name: string | Buffer;
  content: Buffer;
  type?: string;
  field?: string;
  /**
   * What the server must do: 'refuse' (4xx, nothing stored), 'store' (kept byte for byte under a
   * random name, with a cleaned-up display name), 'either' (both are safe).
   */
  expect: 'refuse' | 'store' | 'either';
  /** For 'store': the display name the server should keep. */
  storedName?: string;
}

const PNG_HEAD = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('0000000d4948445200000001', 'hex')]);
const png = (tail = Buffer.alloc(32, 1)) => Buffer.concat([PNG_HEAD, tail]);

let bombCache: { flat: Buffer; lying: Buffer; nested: Buffer } | undefined;

/** Zip bombs: 20 MB of zeros deflated to ~20 KB; the same with a 4 GB size claim; 16 levels of zip in zip. */
export function zipBombs(): { flat: Buffer; lying: Buffer; nested: Buffer } {
  if (bombCache) return bombCache;
  const zeros = Buffer.alloc(20 * KB * KB);
  const flat = zipArchive([{ name: 'zeros.bin', data: zeros, deflate: true }]);
  const lying = zipArchive([{ name: 'huge.bin', data: Buffer.alloc(4096), deflate: true, declaredSize: 0xfffffffe }]);
  let nested = zipArchive([{ name: 'level-0.bin', data: Buffer.alloc(4 * KB * KB), deflate: true }]);
  for (let level = 1; level <= 16; level++) nested = zipArchive([{ name: `level-${level}.zip`, data: nested, deflate: true }]);
  bombCache = { flat, lying, nested };
  return bombCache;
}

/** Attachments to send as `attachments` (and a few in the wrong field). `maxBytes` is UPLOAD_MAX_BYTES. */
export function hostileFiles(maxBytes: number): HostileFile[] {
  const bombs = zipBombs();
  const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(58), Buffer.from('PE\0\0'), Buffer.alloc(64, 0x90)]);
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)]);
  const html = Buffer.from('<!doctype html><html><body><script>alert("xss-upload")</script></body></html>');
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'xss-svg-upload\')"></svg>');
  const longName = `${'a'.repeat(300)}.png`;
  return [
    { label: 'zip bomb (20 MB of zeros)', name: 'bomb.zip', content: bombs.flat, type: 'application/zip', expect: 'store', storedName: 'bomb.zip' },
    { label: 'zip with an entry declared 4 GB', name: 'liar.zip', content: bombs.lying, type: 'application/zip', expect: 'store', storedName: 'liar.zip' },
    { label: 'zip nested 16 levels', name: 'nested.zip', content: bombs.nested, type: 'application/zip', expect: 'store', storedName: 'nested.zip' },
    { label: 'Windows executable named .png', name: 'invoice.png', content: exe, type: 'image/png', expect: 'refuse' },
    { label: 'ELF binary named .txt', name: 'notes.txt', content: elf, type: 'text/plain', expect: 'refuse' },
    { label: 'HTML named .pdf', name: 'report.pdf', content: html, type: 'application/pdf', expect: 'refuse' },
    { label: 'SVG named .png', name: 'image.png', content: svg, type: 'image/png', expect: 'refuse' },
    { label: 'SVG as .svg', name: 'image.svg', content: svg, type: 'image/svg+xml', expect: 'refuse' },
    { label: '.exe', name: 'setup.exe', content: exe, expect: 'refuse' },
    { label: 'double extension .png.exe', name: 'photo.png.exe', content: exe, expect: 'refuse' },
    { label: 'text with binary bytes', name: 'log.txt', content: Buffer.from([0x68, 0x69, 0x00, 0xff, 0xfe]), type: 'text/plain', expect: 'refuse' },
    { label: 'empty .png', name: 'empty.png', content: Buffer.alloc(0), type: 'image/png', expect: 'refuse' },
    { label: 'HTML named .txt (stored as text, downloaded only)', name: 'page.txt', content: html, type: 'text/html', expect: 'store', storedName: 'page.txt' },
    { label: 'PNG/HTML polyglot', name: 'poly.png', content: png(html), type: 'text/html', expect: 'store', storedName: 'poly.png' },
    { label: 'shell script as .txt', name: 'run.txt', content: Buffer.from('#!/bin/sh\nrm -rf / --no-preserve-root\n'), expect: 'store', storedName: 'run.txt' },
    { label: 'traversal name', name: '../../etc/passwd.png', content: png(), type: 'image/png', expect: 'store', storedName: 'passwd.png' },
    { label: 'windows traversal name', name: '..\\..\\x.png', content: png(), type: 'image/png', expect: 'store', storedName: 'x.png' },
    { label: 'traversal without extension', name: '../../etc/passwd', content: Buffer.from('root:x:0:0'), expect: 'refuse' },
    { label: 'NUL in name', name: 'shot.png\u0000.exe', content: png(), type: 'image/png', expect: 'refuse' },
    { label: 'NUL before extension', name: 'sh\u0000ot.png', content: png(), type: 'image/png', expect: 'store', storedName: 'shot.png' },
    { label: '300-char name', name: longName, content: png(), type: 'image/png', expect: 'store', storedName: `${'a'.repeat(196)}.png` },
    { label: 'bidi override in name', name: 'evil\u202egnp.exe', content: exe, expect: 'refuse' },
    { label: 'bidi override hiding .exe', name: 'evil\u202eexe.png', content: png(), type: 'image/png', expect: 'store', storedName: 'evilexe.png' },
    { label: 'XSS in name', name: "<img src=x onerror=alert('xss-filename')>.png", content: png(), type: 'image/png', expect: 'store', storedName: "<img src=x onerror=alert('xss-filename')>.png" },
    { label: 'quote and semicolon in name', name: 'a;b=c.png', content: png(), type: 'image/png', expect: 'store', storedName: 'a;b=c.png' },
    { label: 'dot file', name: '.htaccess', content: Buffer.from('Options +ExecCGI'), expect: 'refuse' },
    { label: 'only an extension', name: '.png', content: png(), type: 'image/png', expect: 'refuse' },
    { label: 'invalid UTF-8 name', name: Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('.png')]), content: png(), type: 'image/png', expect: 'either' },
    { label: 'file one byte over the limit', name: 'big.zip', content: Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(maxBytes - 3)]), type: 'application/zip', expect: 'refuse' },
    { label: 'file in a text field', name: 'shot.png', content: png(), field: 'subject', type: 'image/png', expect: 'refuse' },
    { label: 'file in an unknown field', name: 'shot.png', content: png(), field: 'avatar', type: 'image/png', expect: 'refuse' },
  ];
}

/** Gzip bodies that inflate far past every body limit (a request-body zip bomb). */
export function gzipBomb(): Buffer {
  return zlib.gzipSync(Buffer.alloc(50 * KB * KB, 0x61), { level: 9 });
}

// --- Recognising leaks ---------------------------------------------------------------------

const LEAK_PATTERNS: [string, RegExp][] = [
  ['stack frame', /\bat (?:[\w$.<>[\] ]+ )?\(?(?:\/|file:\/\/|node:)[^\s)]*:\d+:\d+\)?/],
  ['Error with stack', /\b\w*Error: [^\n<]*\n\s+at /],
  ['node_modules path', /node_modules[/\\]/],
  ['source path', /\/(?:src|dist|test)\/[\w./-]+\.[cm]?[jt]s\b/],
  ['SQLite error', /SQLITE_|SqliteError/],
  ['zod internals', /"code":\s*"invalid_(?:type|union|format)"|ZodError/],
];

/** Which leak patterns a response body shows (empty = none). */
export function leaksIn(body: string): string[] {
  return LEAK_PATTERNS.filter(([, pattern]) => pattern.test(body)).map(([name]) => name);
}

// --- Proving that a request stored nothing ---------------------------------------------------

/** Audit actions the code writes for a refused request on purpose (refused access is audited: SECURITY.md "Audit and logs"). */
export const REFUSAL_AUDIT = ['ticket.access_refused', 'attachment.access_refused', 'login.failure', 'user.password_refused', 'user.email_refused'];

/**
 * What a request may store, watched by TEMP triggers on the app's own connection (invisible to
 * the app's schema, gone when the connection closes). Columns only the Discord worker writes in
 * the background (channel ids, outbox progress) are left out, so its work is not blamed on a request.
 */
const WATCH: Record<string, string[] | 'all'> = {
  tickets: ['user_id', 'source', 'subject', 'status', 'priority', 'assignee_id', 'message_count', 'game_account_id', 'game_char_id', 'game_char_name', 'created_at', 'updated_at', 'closed_at'],
  messages: ['ticket_id', 'author_kind', 'author_id', 'author_name', 'origin', 'body', 'internal', 'created_at'],
  attachments: 'all',
  users: 'all',
  user_tokens: 'all',
  settings: 'all',
  game_requests: 'all',
  game_whispers: ['ticket_id', 'char_id', 'char_name', 'sender', 'text', 'acked_at'],
  notification_outbox: 'all',
  discord_outbox: [],
  discord_guild_channels: ['ticket_close_on_logout'],
  snippets: 'all',
};

/** Rows the Discord worker writes in the background (its catch-up cursors), not watched. */
const WATCH_EXCEPT: Record<string, (row: 'NEW' | 'OLD') => string> = {
  settings: (row) => `${row}.key LIKE 'discord.%'`,
};

export interface ChangeSnapshot {
  change: number;
  audit: number;
  attachment: number;
  files: string;
  outside: string;
}

export class ChangeWatch {
  constructor(
    private readonly db: Db,
    private readonly uploadsDir: string,
    /** The folder holding the database and the uploads folder: a traversal would land here. */
    private readonly dataDir: string,
  ) {
    db.exec('CREATE TEMP TABLE IF NOT EXISTS watched_changes (id INTEGER PRIMARY KEY, tbl TEXT NOT NULL, op TEXT NOT NULL)');
    const trigger = (name: string, event: string, table: string, op: string) => {
      const except = WATCH_EXCEPT[table];
      const when = except ? ` WHEN NOT (${except(op === 'DELETE' ? 'OLD' : 'NEW')})` : '';
      db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS watch_${name} AFTER ${event} ON ${table}${when} BEGIN INSERT INTO watched_changes (tbl, op) VALUES ('${table}', '${op}'); END`);
    };
    for (const [table, columns] of Object.entries(WATCH)) {
      trigger(`${table}_insert`, 'INSERT', table, 'INSERT');
      trigger(`${table}_delete`, 'DELETE', table, 'DELETE');
      if (columns === 'all') trigger(`${table}_update`, 'UPDATE', table, 'UPDATE');
      else if (columns.length > 0) trigger(`${table}_update`, `UPDATE OF ${columns.join(', ')}`, table, 'UPDATE');
    }
    // A long poll hands whispers out (a lease): only GET /api/game/whispers may do that.
    trigger('game_whispers_lease', 'UPDATE OF visible_at, delivery_count', 'game_whispers', 'LEASE');
  }

  snapshot(): ChangeSnapshot {
    const max = (sql: string) => (this.db.prepare(sql).get() as { id: number }).id;
    return {
      change: max('SELECT coalesce(max(id), 0) AS id FROM temp.watched_changes'),
      audit: max('SELECT coalesce(max(id), 0) AS id FROM audit_log'),
      attachment: max('SELECT coalesce(max(id), 0) AS id FROM attachments'),
      files: uploadedFiles(this.uploadsDir).sort().join(','),
      outside: fs
        .readdirSync(this.dataDir)
        .filter((name) => !/^app\.db(-wal|-shm|-journal)?$/.test(name))
        .sort()
        .join(','),
    };
  }

  /** Changes between two snapshots beyond `allow` ("table OP") and the refusal audit rows. */
  changes(before: ChangeSnapshot, after: ChangeSnapshot, options: { allow?: string[]; allowAudit?: string[] } = {}): string[] {
    const problems: string[] = [];
    const allowed = new Set(options.allow ?? []);
    const rows = this.db.prepare('SELECT tbl, op FROM temp.watched_changes WHERE id > ? AND id <= ?').all(before.change, after.change) as { tbl: string; op: string }[];
    const counted = new Map<string, number>();
    for (const { tbl, op } of rows) {
      const key = `${tbl} ${op}`;
      if (!allowed.has(key)) counted.set(key, (counted.get(key) ?? 0) + 1);
    }
    for (const [key, n] of counted) problems.push(`${n}x ${key}`);
    const auditAllowed = new Set([...REFUSAL_AUDIT, ...(options.allowAudit ?? [])]);
    const audit = this.db.prepare('SELECT action FROM audit_log WHERE id > ? AND id <= ?').all(before.audit, after.audit) as { action: string }[];
    for (const { action } of audit) if (!auditAllowed.has(action)) problems.push(`audit row ${action}`);
    if (before.files !== after.files) problems.push('files in the uploads folder changed');
    if (before.outside !== after.outside) problems.push(`files next to the uploads folder changed: ${after.outside}`);
    return problems;
  }
}
