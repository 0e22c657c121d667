// Multipart forms in a request's life: the middleware that parses them with the checking storage
// engine, and what handlers do with the files afterwards: hand them to the ticket domain and claim
// them once their rows are committed, or discard them. Files that end up belonging to no row are
// removed (see `discardUploads`).
import fs from 'node:fs';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { StoredUpload } from '../../tickets/service.js';
import { formatBytes, UploadError } from './errors.js';
import { CheckedDiskStorage, type CheckedFile } from './storage.js';

export const ATTACHMENT_FIELD = 'attachments';

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
