// view=snippets (admins): saved replies — list, create, edit, delete. The rules and the audit rows
// are in src/tickets/snippets.ts; staff use the replies on the ticket page (handlers/ticket.ts).
import type { Request, Response } from 'express';
import { z } from 'zod';
import { snippets } from '../../db/snippets.js';
import { message, type Message, type MessageKey, type Translator } from '../../i18n/index.js';
import { requestContext } from '../../tickets/service.js';
import { createSnippet, deleteSnippet, SNIPPET_BODY_MAX, SNIPPET_NAME_MAX, SnippetError, updateSnippet, type SnippetChangeBy } from '../../tickets/snippets.js';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { setFlash } from '../flash.js';
import { formValues, multilineText, parseForm, requiredText, type FieldErrors } from '../forms.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';

const fields = {
  name: requiredText(SNIPPET_NAME_MAX, { required: 'snippets.error.nameRequired', tooLong: 'snippets.error.nameTooLong' }).refine((name) => !/[\n\r\u2028\u2029]/.test(name), 'snippets.error.nameOneLine'),
  body: multilineText(SNIPPET_BODY_MAX, { required: 'snippets.error.bodyRequired', tooLong: 'snippets.error.bodyTooLong' }),
};
const snippetId = z.string({ error: 'snippets.error.notFound' }).regex(/^[1-9]\d{0,14}$/, 'snippets.error.notFound');
const createSchema = z.object(fields);
const updateSchema = z.object({ snippet_id: snippetId, ...fields });
const deleteSchema = z.object({ snippet_id: snippetId });

interface SnippetsPageLocals {
  errors?: FieldErrors;
  values?: Record<string, string>;
  /** The snippet whose form the errors and values belong to; undefined for the new one. */
  editingId?: number;
}

function renderSnippets(req: Request, res: Response, deps: AppDeps, status = 200, locals: SnippetsPageLocals = {}): void {
  res.status(status);
  renderPage(req, res, 'snippets', {
    title: (res.locals.i18n as Translator).t('snippets.title'),
    snippets: snippets(deps.db),
    errors: locals.errors ?? {},
    values: { name: '', body: '', ...locals.values },
    editingId: locals.editingId,
    nameMax: SNIPPET_NAME_MAX,
    bodyMax: SNIPPET_BODY_MAX,
  });
}

export function snippetsPage(req: Request, res: Response, deps: AppDeps): void {
  renderSnippets(req, res, deps);
}

function byAdmin(req: Request, res: Response): SnippetChangeBy {
  const admin = res.locals.user!;
  return { actor: { id: admin.id, name: admin.username }, ip: requestContext(req).ip };
}

function done(req: Request, res: Response, key: MessageKey, name: string): void {
  setFlash(req, key, { name });
  redirectAfterPost(res, viewUrl('snippets'));
}

/** The rules of src/tickets/snippets.ts, in the reader's words. */
function refusal(err: SnippetError, name: string): Message {
  switch (err.reason) {
    case 'taken':
      return message('snippets.error.nameTaken', { name });
    case 'oneLine':
      return message('snippets.error.nameOneLine');
    case 'tooLong':
      return err.field === 'name' ? message('snippets.error.nameTooLong', { count: SNIPPET_NAME_MAX }) : message('snippets.error.bodyTooLong', { count: SNIPPET_BODY_MAX });
    case 'notFound':
      return message('snippets.error.notFound');
    case 'required':
      return message(err.field === 'name' ? 'snippets.error.nameRequired' : 'snippets.error.bodyRequired');
  }
}

/** A refusal of the rules as the form's errors, next to the form it came from (422); an unknown id as a 404. */
function refused(req: Request, res: Response, deps: AppDeps, err: unknown, editingId?: number): void {
  if (!(err instanceof SnippetError)) throw err;
  if (err.field === 'id') throw new HttpError(404, 'snippets.error.notFound');
  const values = formValues(req.body);
  renderSnippets(req, res, deps, 422, { errors: { [err.field]: refusal(err, (values.name ?? '').trim()) }, values, editingId });
}

/** The form's snippet_id, or a 404 when it is malformed. */
function idOf(form: { ok: true; data: { snippet_id: string } } | { ok: false; errors: Record<string, unknown> }): number | undefined {
  if (!form.ok && form.errors.snippet_id) throw new HttpError(404, 'snippets.error.notFound');
  return form.ok ? Number(form.data.snippet_id) : undefined;
}

export const snippetAction = {
  create(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(createSchema, req.body);
    if (!form.ok) {
      renderSnippets(req, res, deps, 422, { errors: form.errors, values: form.values });
      return;
    }
    try {
      createSnippet(deps.db, form.data, byAdmin(req, res));
    } catch (err) {
      refused(req, res, deps, err);
      return;
    }
    done(req, res, 'snippets.flash.created', form.data.name.trim());
  },

  update(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(updateSchema, req.body);
    const id = idOf(form);
    if (!form.ok) {
      renderSnippets(req, res, deps, 422, { errors: form.errors, values: form.values, editingId: Number(form.values.snippet_id) });
      return;
    }
    try {
      updateSnippet(deps.db, id!, form.data, byAdmin(req, res));
    } catch (err) {
      refused(req, res, deps, err, id);
      return;
    }
    done(req, res, 'snippets.flash.saved', form.data.name.trim());
  },

  delete(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(deleteSchema, req.body);
    const id = idOf(form);
    try {
      const gone = deleteSnippet(deps.db, id!, byAdmin(req, res));
      done(req, res, 'snippets.flash.deleted', gone.name);
    } catch (err) {
      refused(req, res, deps, err);
    }
  },
};
