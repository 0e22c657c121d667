// How a refused upload is told to the user: the error the form shows again, and sizes in words.
import { HttpError } from '../errors.js';

/** Sizes as the upload messages and the pages show them: bytes, KiB or MiB. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

/** An upload refused for a reason the user can fix; the form is shown again with the message. */
export class UploadError extends HttpError {
  constructor(status: number, message: string) {
    super(status, message);
    this.name = 'UploadError';
  }
}
