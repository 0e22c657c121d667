// zod at the form edge. Fields the schema does not name are a 400 (not silently ignored), except
// the dispatcher's own: view, action, id and the CSRF token.
import { z } from 'zod';
import { cleanText } from '../tickets/model.js';
import { HttpError } from './errors.js';

const META_FIELDS = new Set(['_csrf', 'view', 'action', 'id']);

export type FieldErrors = Record<string, string>;
export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors; values: Record<string, string> };

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
    throw new HttpError(400, `Unexpected form field${unexpected.length > 1 ? 's' : ''}: ${unexpected.slice(0, 5).join(', ')}.`);
  }
  const result = schema.safeParse(fields);
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    if (errors[field]) continue;
    errors[field] = issue.code === 'invalid_type' && Array.isArray(fields[field]) ? 'must be given once' : issue.message;
  }
  return { ok: false, errors, values: formValues(body) };
}

/** A required text field: a clear message when missing, empty or sent twice. */
export function requiredText(label: string, max: number) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? `${label} is required` : `${label} must be given once`) })
    .transform((text) => cleanText(text))
    .pipe(z.string().max(max, `${label} must be at most ${max} characters`))
    .refine((text) => text.trim() !== '', `${label} is required`);
}

/** Text from a textarea: browsers send CRLF line breaks; store LF. */
export function multilineText(label: string, max: number) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? `${label} is required` : `${label} must be given once`) })
    .transform((text) => text.replace(/\r\n?/g, '\n'))
    .pipe(requiredText(label, max));
}

/** A query-string value, trimmed; '' when absent; a 400 when given more than once. */
export function queryText(req: { query: Record<string, unknown> }, name: string): string {
  const value = req.query[name];
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new HttpError(400, `The "${name}" parameter must be given once.`);
  return value.trim();
}
