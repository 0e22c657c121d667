// The multer storage engine: each file is streamed to UPLOADS_DIR under a random name while its size
// is counted (it stops at the limit, so an oversized file is never fully written), checked against
// the allow-list by its first bytes as well as its name, and hashed.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Request } from 'express';
import type multer from 'multer';
import type { StoredUpload } from '../../tickets/service.js';
import { message } from '../../i18n/index.js';
import { requestTranslator, UploadError } from './errors.js';
import { ALLOWED_EXTENSIONS, ALLOWED_TYPES, extensionOf, normaliseFileName, SNIFF_BYTES } from './fileTypes.js';

export interface StoredFile extends StoredUpload {
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
export type CheckedFile = Express.Multer.File & { sha256: string };

/** A multer storage engine: random name, size cap, type check by content, SHA-256. */
export class CheckedDiskStorage implements multer.StorageEngine {
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  _handleFile(req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<CheckedFile>) => void): void {
    const originalName = normaliseFileName(file.originalname);
    const i18n = requestTranslator(req);
    const type = ALLOWED_TYPES[extensionOf(originalName)];
    if (!type) {
      file.stream.resume();
      callback(new UploadError(415, message('upload.notAllowed', { name: originalName, types: ALLOWED_EXTENSIONS.join(', ') })));
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
        failure = new UploadError(415, message('upload.notReally', { name: originalName, type: i18n.t(type.label) }));
      }
      if (!failure && (file.stream as Readable & { truncated?: boolean }).truncated) failure = new UploadError(413, message('upload.tooLarge', { name: originalName }));
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
        fail(new UploadError(413, message('upload.largerThan', { name: originalName, size: i18n.bytes(this.maxBytes) })));
        return;
      }
      hash.update(chunk);
      if (head.length < SNIFF_BYTES) {
        head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
        if (head.length >= SNIFF_BYTES && !type.sniff(head)) {
          fail(new UploadError(415, message('upload.notReally', { name: originalName, type: i18n.t(type.label) })));
          return;
        }
      }
      if (decoder) {
        try {
          decoder.decode(chunk, { stream: true });
          if (chunk.includes(0)) throw new Error('NUL byte');
        } catch {
          fail(new UploadError(415, message('upload.notType', { name: originalName, type: i18n.t(type.label) })));
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
          fail(new UploadError(415, message('upload.notType', { name: originalName, type: i18n.t(type.label) })));
          return;
        }
      }
      if (!failure) out.end();
    });
    file.stream.on('error', () => fail(new UploadError(400, message('upload.unreadable'))));
    out.on('close', done);
    out.on('error', () => {
      failure ??= new UploadError(500, message('upload.notStored', { name: originalName }));
    });
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    fs.rm(file.path, { force: true }, () => callback(null));
  }
}
