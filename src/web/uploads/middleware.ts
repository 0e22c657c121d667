// Multipart forms in a request's life: the middleware that parses them with the checking storage
// engine, and what handlers do with the files afterwards: hand them to the ticket domain and claim
// them once their rows are committed, or discard them. Files that end up belonging to no row are
// removed (see `discardUploads`).
import fs from 'node:fs';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { StoredUpload } from '../../tickets/service.js';
import { message, type Message, type Translator } from '../../i18n/index.js';
import { requestTranslator, UploadError } from './errors.js';
import { CheckedDiskStorage, type CheckedFile } from './storage.js';

export const ATTACHMENT_FIELD = 'attachments';

const MULTER_MESSAGES: Record<string, (limits: { maxBytes: number; maxFiles: number }, i18n: Translator) => [number, Message]> = {
  LIMIT_FILE_SIZE: (l, i18n) => [413, message('upload.eachAtMost', { size: i18n.bytes(l.maxBytes) })],
  LIMIT_FILE_COUNT: (l) => [413, message('upload.tooMany', { count: l.maxFiles })],
  LIMIT_UNEXPECTED_FILE: () => [400, message('upload.wrongField', { field: ATTACHMENT_FIELD })],
  LIMIT_PART_COUNT: () => [413, message('upload.tooManyParts')],
  LIMIT_FIELD_COUNT: () => [413, message('upload.tooManyFields')],
  LIMIT_FIELD_VALUE: () => [413, message('upload.fieldTooLong')],
  LIMIT_FIELD_KEY: () => [400, message('upload.fieldNameTooLong')],
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
        const [status, text] = (MULTER_MESSAGES[err.code] ?? (() => [400, message('upload.unreadable')]))(options, requestTranslator(req));
        res.locals.uploadError = new UploadError(status, text);
      } else {
        // Malformed multipart bodies (busboy) and aborted uploads.
        res.locals.uploadError = new UploadError(400, message('upload.unreadable'));
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
