// zod at the form edge. Fields the schema does not name are a 400 (not silently ignored), except
// the dispatcher's own: view, action, id and the CSRF token. Field errors are Messages (a catalogue
// key and its params), put into words by renderPage in the reader's language.
import { z } from 'zod';
import { isMessageKey, message, type Message, type MessageKey, type Params } from '../i18n/index.js';
import { cleanText } from '../tickets/model.js';
import { HttpError } from './errors.js';

const META_FIELDS = new Set(['_csrf', 'view', 'action', 'id']);

/** A field's error: a catalogue key and its params, put into words where the page is rendered. */
export type FieldError = Message;
export type FieldErrors = Record<string, FieldError>;
export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors; values: Record<string, string> };

/**
 * A Message as a zod issue message (zod carries strings): a bare key, or the key and its params as
 * JSON. parseForm turns it back into the Message.
 */
export function zodMessage(key: MessageKey, params?: Params): string {
  return params ? JSON.stringify(message(key, params)) : key;
}

/** A zod issue message back as a Message (see zodMessage); other text is kept as it is. */
export function issueMessage(text: string): FieldError {
  if (isMessageKey(text)) return message(text);
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as Partial<Message>;
      if (typeof parsed.key === 'string' && isMessageKey(parsed.key)) return message(parsed.key, parsed.params);
    } catch {
      // not one of ours
    }
  }
  // zod's own wording (a schema that gave no message of ours) is English: say it plainly instead.
  return message('form.invalid');
}

/** The submitted text fields, for re-rendering a form with the user's input kept. */
export function formValues(body: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [key, value] of Object.entries(body)) {
      if (typeof value === 'string' && !META_FIELDS.has(key)) values[key] = value;
    }
  }
  return values;
}

export function parseForm<S extends z.ZodObject>(schema: S, body: unknown): FormResult<z.output<S>> {
  const fields = Object.fromEntries(
    Object.entries(body && typeof body === 'object' ? body : {}).filter(([key]) => !META_FIELDS.has(key)),
  );
  // Own keys only: `constructor` or `__proto__` (which multipart bodies may carry) are unknown too.
  const unexpected = Object.keys(fields).filter((key) => !Object.hasOwn(schema.shape, key));
  if (unexpected.length > 0) {
    throw new HttpError(400, message('form.unexpected', { count: unexpected.length, fields: unexpected.slice(0, 5).join(', ') }));
  }
  const result = schema.safeParse(fields);
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    if (errors[field]) continue;
    errors[field] = issue.code === 'invalid_type' && Array.isArray(fields[field]) ? message('form.once') : issueMessage(issue.message);
  }
  return { ok: false, errors, values: formValues(body) };
}

/**
 * What a text field's errors say: by default words that fit next to any field ("Fill this in."); a
 * page may name its own keys. `tooLong` gets the limit as `{count}`.
 */
export interface TextMessages {
  required: MessageKey;
  tooLong: MessageKey;
}
const PLAIN_TEXT: TextMessages = { required: 'form.required', tooLong: 'form.tooLong' };

const textInput = (messages: TextMessages) =>
  z.string({ error: (issue) => (issue.input === undefined ? zodMessage(messages.required) : zodMessage('form.once')) });

/** A required text field: a clear message when missing, empty, too long or sent twice. */
export function requiredText(max: number, messages: TextMessages = PLAIN_TEXT) {
  return textInput(messages)
    .transform((text) => cleanText(text))
    .pipe(z.string().max(max, zodMessage(messages.tooLong, { count: max })))
    .refine((text) => text.trim() !== '', zodMessage(messages.required));
}

/** Text from a textarea: browsers send CRLF line breaks; store LF. */
export function multilineText(max: number, messages: TextMessages = PLAIN_TEXT) {
  return textInput(messages)
    .transform((text) => text.replace(/\r\n?/g, '\n'))
    .pipe(requiredText(max, messages));
}

/** A query-string value, trimmed; '' when absent; a 400 when given more than once. */
export function queryText(req: { query: Record<string, unknown> }, name: string): string {
  const value = req.query[name];
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new HttpError(400, message('request.paramOnce', { name }));
  return value.trim();
}
