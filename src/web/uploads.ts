// Attachments arriving with a form: streamed to UPLOADS_DIR under a random name while their size
// is counted (multer stops a file at UPLOAD_MAX_BYTES, so an oversized file is never fully
// written), checked against an allow-list by their first bytes as well as by their name, hashed.
// Files that end up belonging to no row are removed (see `discardUploads`).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { StoredUpload } from '../tickets/service.js';
import { HttpError } from './errors.js';

export const ATTACHMENT_FIELD = 'attachments';

interface FileType {
  contentType: string;
  label: string;
  /** True when the first bytes fit the type. */
  sniff: (head: Buffer) => boolean;
  /** Text files are checked as a whole: UTF-8 and no NUL bytes. */
  text?: boolean;
}

const startsWith = (head: Buffer, ...bytes: number[]) => bytes.every((byte, i) => head[i] === byte);

const PNG: FileType = { contentType: 'image/png', label: 'a PNG image', sniff: (h) => startsWith(h, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a) };
const JPEG: FileType = { contentType: 'image/jpeg', label: 'a JPEG image', sniff: (h) => startsWith(h, 0xff, 0xd8, 0xff) };
const GIF: FileType = { contentType: 'image/gif', label: 'a GIF image', sniff: (h) => h.subarray(0, 6).toString('latin1') === 'GIF87a' || h.subarray(0, 6).toString('latin1') === 'GIF89a' };
const WEBP: FileType = {
  contentType: 'image/webp',
  label: 'a WebP image',
  sniff: (h) => h.subarray(0, 4).toString('latin1') === 'RIFF' && h.subarray(8, 12).toString('latin1') === 'WEBP',
};
const PDF: FileType = { contentType: 'application/pdf', label: 'a PDF document', sniff: (h) => h.subarray(0, 5).toString('latin1') === '%PDF-' };
const ZIP: FileType = {
  contentType: 'application/zip',
  label: 'a ZIP archive',
  sniff: (h) => startsWith(h, 0x50, 0x4b, 0x03, 0x04) || startsWith(h, 0x50, 0x4b, 0x05, 0x06),
};
const TEXT: FileType = { contentType: 'text/plain; charset=utf-8', label: 'a UTF-8 text file', sniff: () => true, text: true };

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
const SNIFF_BYTES = 12;

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

function extensionOf(name: string): string {
  return path.extname(name).slice(1).toLowerCase();
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}
export { formatBytes };

/** An upload refused for a reason the user can fix; the form is shown again with the message. */
export class UploadError extends HttpError {
  constructor(status: number, message: string) {
    super(status, message);
    this.name = 'UploadError';
  }
}

interface StoredFile extends StoredUpload {
  path: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Files of this request written to disk, until a row claims them. */
    uploads?: StoredFile[];
    /** One promise per file the storage engine is handling; settled once its file is kept or removed. */
    uploadsInFlight?: Promise<void>[];
  }
}

/** What multer hands back for each file: its own fields plus what the engine added. */
type CheckedFile = Express.Multer.File & { sha256: string };

/** A multer storage engine: random name, size cap, type check by content, SHA-256. */
class CheckedDiskStorage implements multer.StorageEngine {
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  _handleFile(req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<CheckedFile>) => void): void {
    const originalName = normaliseFileName(file.originalname);
    const type = ALLOWED_TYPES[extensionOf(originalName)];
    if (!type) {
      file.stream.resume();
      callback(new UploadError(415, `“${originalName}” is not an allowed file type. Attach ${ALLOWED_EXTENSIONS.join(', ')} files.`));
      return;
    }
    let settle!: () => void;
    (req.uploadsInFlight ??= []).push(new Promise<void>((resolve) => (settle = resolve)));
    const storageName = randomBytes(18).toString('base64url');
    const target = path.join(this.dir, storageName);
    const out = fs.createWriteStream(target, { flags: 'wx', mode: 0o600 });
    const hash = createHash('sha256');
    const decoder = type.text ? new TextDecoder('utf-8', { fatal: true }) : undefined;
    let head = Buffer.alloc(0);
    let size = 0;
    let failure: UploadError | undefined;
    let finished = false;

    const fail = (error: UploadError) => {
      if (failure) return;
      failure = error;
      file.stream.resume();
      out.destroy();
    };
    const done = () => {
      if (finished) return;
      finished = true;
      if (!failure && !type.text && size < SNIFF_BYTES && !type.sniff(head)) {
        failure = new UploadError(415, `“${originalName}” is not really ${type.label}.`);
      }
      if (!failure && (file.stream as Readable & { truncated?: boolean }).truncated) failure = new UploadError(413, `“${originalName}” is too large.`);
      if (failure) {
        fs.rm(target, { force: true }, () => {
          settle();
          callback(failure);
        });
        return;
      }
      settle();
      callback(null, {
        path: target,
        size,
        filename: storageName,
        originalname: originalName,
        mimetype: type.contentType,
        sha256: hash.digest('hex'),
      });
    };

    // Written by hand rather than piped, so no byte past the limit or after a failed check reaches the disk.
    file.stream.on('data', (chunk: Buffer) => {
      if (failure) return;
      size += chunk.length;
      if (size > this.maxBytes) {
        fail(new UploadError(413, `“${originalName}” is larger than ${formatBytes(this.maxBytes)}.`));
        return;
      }
      hash.update(chunk);
      if (head.length < SNIFF_BYTES) {
        head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
        if (head.length >= SNIFF_BYTES && !type.sniff(head)) {
          fail(new UploadError(415, `“${originalName}” is not really ${type.label}.`));
          return;
        }
      }
      if (decoder) {
        try {
          decoder.decode(chunk, { stream: true });
          if (chunk.includes(0)) throw new Error('NUL byte');
        } catch {
          fail(new UploadError(415, `“${originalName}” is not ${type.label}.`));
          return;
        }
      }
      if (!out.write(chunk)) {
        file.stream.pause();
        out.once('drain', () => file.stream.resume());
      }
    });
    file.stream.on('end', () => {
      if (decoder && !failure) {
        try {
          decoder.decode();
        } catch {
          fail(new UploadError(415, `“${originalName}” is not ${type.label}.`));
          return;
        }
      }
      if (!failure) out.end();
    });
    file.stream.on('error', () => fail(new UploadError(400, 'The upload could not be read. Try sending the form again.')));
    out.on('close', done);
    out.on('error', () => {
      failure ??= new UploadError(500, `“${originalName}” could not be stored.`);
    });
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    fs.rm(file.path, { force: true }, () => callback(null));
  }
}

const MULTER_MESSAGES: Record<string, (limits: { maxBytes: number; maxFiles: number }, field?: string) => [number, string]> = {
  LIMIT_FILE_SIZE: (l) => [413, `Each file must be at most ${formatBytes(l.maxBytes)}.`],
  LIMIT_FILE_COUNT: (l) => [413, `Attach at most ${l.maxFiles} file${l.maxFiles === 1 ? '' : 's'} at a time.`],
  LIMIT_UNEXPECTED_FILE: (_l, field) => [400, `Files can only be sent as “${ATTACHMENT_FIELD}”${field ? `, not “${field}”` : ''}.`],
  LIMIT_PART_COUNT: () => [413, 'The form has too many parts.'],
  LIMIT_FIELD_COUNT: () => [413, 'The form has too many fields.'],
  LIMIT_FIELD_VALUE: () => [413, 'A form field is too long.'],
  LIMIT_FIELD_KEY: () => [400, 'A form field name is too long.'],
};

/**
 * Middleware for multipart forms: writes `attachments` files and fills req.body with the text
 * fields. Upload problems do not throw: they are left in `res.locals.uploadError` so the handler
 * shows its form again with the message. Other requests pass through untouched.
 */
export function createUploadMiddleware(options: { dir: string; maxBytes: number; maxFiles: number }): RequestHandler {
  fs.mkdirSync(options.dir, { recursive: true });
  const upload = multer({
    storage: new CheckedDiskStorage(options.dir, options.maxBytes),
    limits: { fileSize: options.maxBytes, files: options.maxFiles, fields: 20, fieldSize: 200 * 1024, parts: options.maxFiles + 20, fieldNameSize: 100 },
    defParamCharset: 'utf8',
  }).array(ATTACHMENT_FIELD, Math.max(options.maxFiles, 1));

  return (req: Request, res: Response, next: NextFunction) => {
    const finish = (err?: unknown) => {
      // After an error multer leaves placeholders without a path for files still in flight.
      const files = ((req.files as CheckedFile[] | undefined) ?? []).filter((f) => typeof f.path === 'string');
      req.uploads = files.map((f) => ({
        path: f.path,
        storageName: f.filename,
        originalName: f.originalname,
        contentType: f.mimetype,
        sizeBytes: f.size,
        sha256: f.sha256,
      }));
      if (!err) return next();
      if (err instanceof UploadError) {
        res.locals.uploadError = err;
      } else if (err instanceof multer.MulterError) {
        const [status, message] = (MULTER_MESSAGES[err.code] ?? (() => [400, 'The upload could not be read.']))(options, err.field);
        res.locals.uploadError = new UploadError(status, message);
      } else {
        // Malformed multipart bodies (busboy) and aborted uploads.
        res.locals.uploadError = new UploadError(400, 'The upload could not be read. Try sending the form again.');
      }
      // Whatever multer kept is worthless now: the request fails.
      discardUploads(req);
      next();
    };
    upload(req, res, (err?: unknown) => {
      // On an error (e.g. a body cut short) multer reports it before the storage engine has
      // removed a file it was still writing: wait for that (briefly), so when the answer leaves,
      // the files are gone.
      const inFlight = err ? req.uploadsInFlight : undefined;
      if (!inFlight?.length) return finish(err);
      Promise.race([Promise.all(inFlight), new Promise((resolve) => setTimeout(resolve, 5000).unref())])
        .then(() => finish(err))
        .catch(next);
    });
  };
}

/** Removes the request's files that no row claimed. Safe to call more than once. */
export function discardUploads(req: Request): void {
  // Synchronous on purpose: when the answer leaves, the files are gone.
  for (const file of req.uploads ?? []) if (typeof file.path === 'string') fs.rmSync(file.path, { force: true });
  req.uploads = [];
}

/** The files of a request, as the ticket domain stores them; the caller must claim or discard them. */
export function requestUploads(req: Request): StoredUpload[] {
  return (req.uploads ?? []).map(({ storageName, originalName, contentType, sizeBytes, sha256 }) => ({ storageName, originalName, contentType, sizeBytes, sha256 }));
}

/** After the rows are committed: the files belong to them now. */
export function claimUploads(req: Request): void {
  req.uploads = [];
}

/**
 * Removes files in `dir` that no attachment row points to and that were last written before
 * `olderThan` (so uploads in flight are left alone). A crash between writing a file and committing
 * its row leaves such a file; this runs once after start.
 */
export async function removeOrphanUploads(dir: string, isReferenced: (storageName: string) => boolean, olderThan: number): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const file = path.join(dir, name);
    try {
      const stat = await fs.promises.stat(file);
      if (!stat.isFile() || stat.mtimeMs >= olderThan || isReferenced(name)) continue;
      await fs.promises.rm(file, { force: true });
      removed.push(name);
    } catch {
      // gone already, or unreadable: not ours to worry about
    }
  }
  return removed;
}
