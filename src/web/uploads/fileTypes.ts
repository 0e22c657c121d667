// Which attachments are accepted: an allow-list by file name extension, each type confirmed by the
// file's first bytes (or, for text, by being UTF-8 without NUL bytes), and the clean-up of the name
// a browser sends.
import path from 'node:path';
import type { MessageKey } from '../../i18n/index.js';

export interface FileType {
  contentType: string;
  /** Its name in words ("a PNG image"), for the messages that refuse a file. */
  label: MessageKey;
  /** True when the first bytes fit the type. */
  sniff: (head: Buffer) => boolean;
  /** Text files are checked as a whole: UTF-8 and no NUL bytes. */
  text?: boolean;
}

const startsWith = (head: Buffer, ...bytes: number[]) => bytes.every((byte, i) => head[i] === byte);

const PNG: FileType = { contentType: 'image/png', label: 'upload.type.png', sniff: (h) => startsWith(h, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a) };
const JPEG: FileType = { contentType: 'image/jpeg', label: 'upload.type.jpeg', sniff: (h) => startsWith(h, 0xff, 0xd8, 0xff) };
const GIF: FileType = { contentType: 'image/gif', label: 'upload.type.gif', sniff: (h) => h.subarray(0, 6).toString('latin1') === 'GIF87a' || h.subarray(0, 6).toString('latin1') === 'GIF89a' };
const WEBP: FileType = {
  contentType: 'image/webp',
  label: 'upload.type.webp',
  sniff: (h) => h.subarray(0, 4).toString('latin1') === 'RIFF' && h.subarray(8, 12).toString('latin1') === 'WEBP',
};
const PDF: FileType = { contentType: 'application/pdf', label: 'upload.type.pdf', sniff: (h) => h.subarray(0, 5).toString('latin1') === '%PDF-' };
const ZIP: FileType = {
  contentType: 'application/zip',
  label: 'upload.type.zip',
  sniff: (h) => startsWith(h, 0x50, 0x4b, 0x03, 0x04) || startsWith(h, 0x50, 0x4b, 0x05, 0x06),
};
const TEXT: FileType = { contentType: 'text/plain; charset=utf-8', label: 'upload.type.text', sniff: () => true, text: true };

/** The allow-list: images, text and logs, PDF, ZIP. */
export const ALLOWED_TYPES: Record<string, FileType> = {
  png: PNG,
  jpg: JPEG,
  jpeg: JPEG,
  gif: GIF,
  webp: WEBP,
  pdf: PDF,
  zip: ZIP,
  txt: TEXT,
  log: TEXT,
};
export const ALLOWED_EXTENSIONS = Object.keys(ALLOWED_TYPES);
/** How many first bytes the sniffers look at. */
export const SNIFF_BYTES = 12;

/**
 * The name shown and offered on download: no folders, no control or bidi-override characters
 * (which can disguise `exe.txt` as `txt.exe`), NFC, at most 200 characters with the extension kept.
 */
export function normaliseFileName(raw: string): string {
  let name = raw.normalize('NFC');
  name = name.split(/[/\\]/).pop() ?? '';
  // Control characters, bidi controls and other invisible formatting characters.
  name = name.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '');
  name = name.replace(/\s+/gu, ' ').trim().replace(/^\.+/, '').trim();
  if ([...name].length > 200) {
    const ext = path.extname(name).slice(0, 16);
    name = [...name.slice(0, name.length - ext.length)].slice(0, 200 - [...ext].length).join('') + ext;
  }
  return name || 'file';
}

/** The extension the allow-list is keyed by: `png` for `Shot.PNG`, empty without one. */
export function extensionOf(name: string): string {
  return path.extname(name).slice(1).toLowerCase();
}
