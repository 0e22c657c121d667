// Attachments arriving with a form, by job: uploads/fileTypes.ts (the allow-list and sniffing),
// uploads/errors.ts (what a refused upload tells the user), uploads/storage.ts (the multer storage
// engine), uploads/middleware.ts (parsing, then claiming or discarding a request's files) and
// uploads/sweep.ts (removing orphaned files after start). This file re-exports them for importers
// that name the whole family.
export { ALLOWED_EXTENSIONS, ALLOWED_TYPES, normaliseFileName } from './uploads/fileTypes.js';
export { formatBytes, UploadError } from './uploads/errors.js';
export { ATTACHMENT_FIELD, claimUploads, createUploadMiddleware, discardUploads, requestUploads } from './uploads/middleware.js';
export { removeOrphanUploads } from './uploads/sweep.js';
