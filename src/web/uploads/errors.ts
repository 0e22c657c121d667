// How a refused upload is told to the user: the error the form shows again, in the words of the
// request's language (sizes and file types are put into words when the error is made).
import type { Request } from 'express';
import { REFERENCE_LOCALE, translator, type Message, type Translator } from '../../i18n/index.js';
import { HttpError } from '../errors.js';

/** The translator of the request's page (set by the locale middleware), for sizes and type names in upload messages. */
export function requestTranslator(req: Request): Translator {
  return (req.res?.locals.i18n as Translator | undefined) ?? translator(REFERENCE_LOCALE);
}

/** An upload refused for a reason the user can fix; the form is shown again with the message (`publicMessage`). */
export class UploadError extends HttpError {
  constructor(status: number, message: Message) {
    super(status, message);
    this.name = 'UploadError';
  }
}

/** Sizes in English words (bytes, KiB or MiB), for logs and tools; pages use the translator's `bytes`. */
export function formatBytes(bytes: number): string {
  return translator(REFERENCE_LOCALE).bytes(bytes);
}
